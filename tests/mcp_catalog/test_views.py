"""The MCP Apps view through the official SDK client, in both protocol eras, and its build.

The view's HTML is a committed build output of ``maestra_mcp/mcp_catalog/apps/report/``;
the freshness test recomputes the source hash the build records in it, so a source
change committed without ``npm run build`` fails here (no Node needed). Its rendering
is tested in a browser in tests/ui/test_report_view.py.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from maestra_mcp.mcp_catalog.resources import METRICS_URI
from maestra_mcp.mcp_catalog.tools.base import MAX_RESULT_CHARS
from maestra_mcp.mcp_catalog.views import APP_MIME_TYPE, EXTENSION_ID, REPORT_VIEW_URI
from tests.support.mcp import ASGI_ORIGIN, asgi_http_client, running_app, sdk_client

pytestmark = pytest.mark.django_db(transaction=True)

ANALYST = "analyst@acme.test"
APP_DIR = Path(__file__).resolve().parents[2] / "maestra_mcp" / "mcp_catalog" / "apps"
VIEW_HTML = APP_DIR / "report.html"
# What build.mjs hashes (its SOURCES), in the same way.
SOURCE_FILES = ("build.mjs", "package.json", "package-lock.json", "src", "test-host")


async def session(token: str, mode: str, work):
    async with (
        running_app() as app,
        asgi_http_client(app, token) as http,
        sdk_client(f"{ASGI_ORIGIN}/mcp/acme", http, mode) as client,
    ):
        return await work(client)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_the_report_view_is_listed_readable_and_linked_from_the_report_and_explain_tools(
    cast, token_for, mode
):
    async def work(client):
        return (
            client.server_capabilities,
            (await client.list_resources()).resources,
            await client.read_resource(REPORT_VIEW_URI),
            {tool.name: tool for tool in (await client.list_tools()).tools},
        )

    capabilities, resources, read, tools = anyio.run(session, token_for(ANALYST), mode, work)
    # SEP-2133 capabilities.extensions exists from 2026-07-28; the 2025-11-25 schema has
    # no such field and the SDK leaves it out there (hosts go by the tools' _meta.ui).
    assert capabilities.extensions == ({EXTENSION_ID: {}} if mode == "auto" else None)
    assert capabilities.resources is not None
    assert [(r.uri, r.mime_type, r.name) for r in resources] == [
        (METRICS_URI, "text/markdown", "metrics"),
        (REPORT_VIEW_URI, "text/html;profile=mcp-app", "report"),
    ]
    assert APP_MIME_TYPE == "text/html;profile=mcp-app"
    # No _meta.ui.csp: no connectDomains/resourceDomains, the host's strictest policy.
    assert resources[1].meta is None
    [contents] = read.contents
    assert contents.meta is None
    assert (contents.uri, contents.mime_type) == (REPORT_VIEW_URI, APP_MIME_TYPE)
    assert contents.text == VIEW_HTML.read_text(encoding="utf-8")
    budget = {"anthropic/maxResultSizeChars": MAX_RESULT_CHARS}
    linked = budget | {"ui": {"resourceUri": REPORT_VIEW_URI}}
    assert tools["campaign_report"].meta == linked
    assert tools["flow_report"].meta == linked
    assert tools["explain_change"].meta == linked  # its drivers as bars
    assert tools["list_report_filters"].meta == budget  # nothing to chart


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_reading_an_unknown_resource_is_an_invalid_params_error(cast, token_for, mode):
    async def work(client):
        try:
            await client.read_resource("ui://maestra/nope")
        except MCPError as error:  # caught here, before the client's task groups wrap it
            return error
        return None

    refused = anyio.run(session, token_for(ANALYST), mode, work)
    assert refused is not None and refused.error.code == -32602
    assert "ui://maestra/nope" in refused.error.message


def test_report_tools_still_return_complete_structured_content(cast, token_for):
    async def work(client):
        return await client.call_tool("campaign_report", {"period": "last_7_days"})

    result = anyio.run(session, token_for(ANALYST), "legacy", work)
    assert result.is_error is False
    assert {"summary", "window", "currency"} <= set(result.structured_content)


def source_hash() -> str:
    """build.mjs's sourceHash(): path NUL content NUL for every file, sorted by path."""
    paths = []
    for name in SOURCE_FILES:
        path = APP_DIR / "report" / name
        paths += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    relative = sorted(p.relative_to(APP_DIR / "report").as_posix() for p in paths)
    digest = hashlib.sha256()
    for name in relative:
        digest.update(f"{name}\0".encode())
        digest.update((APP_DIR / "report" / name).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def test_the_committed_view_was_built_from_the_committed_sources():
    html = VIEW_HTML.read_text(encoding="utf-8")
    recorded = re.search(r'<meta name="maestra-source-sha256" content="([0-9a-f]{64})"', html)
    assert recorded, "report.html carries no source hash: rebuild it (npm run build)"
    assert recorded.group(1) == source_hash(), (
        "report.html is stale: run `npm ci && npm run build` in maestra_mcp/mcp_catalog/apps/report"
    )


def test_the_view_is_self_contained():
    html = VIEW_HTML.read_text(encoding="utf-8")
    # Everything inline: no external script, stylesheet, image, font or frame.
    assert not re.search(r"<(script|img|iframe)[^>]*\bsrc=", html)
    assert not re.search(r"<link\b", html)
    [style] = re.findall(r"<style>(.*?)</style>", html, flags=re.S)
    assert not re.search(r"@import|url\((?!data:)", style)
