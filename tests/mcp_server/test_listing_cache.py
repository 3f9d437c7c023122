"""``tools/list`` answered from the SDK's own earlier answer (ToolListCache).

The cached answer must be exactly what the SDK answers without the cache, for
every protocol version, in both eras (2026-07-28 requests always carry ``_meta``),
and requests with other parameters (a cursor) must still reach the SDK.
"""

from __future__ import annotations

import json

import anyio
import pytest
from mcp.server import runner
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

from maestra_mcp.mcp_server.listing_cache import ToolListCache
from tests.support.mcp import asgi_http_client, running_app

pytestmark = pytest.mark.django_db(transaction=True)


MODERN = "2026-07-28"
MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


def _post_all(token: str, bodies: list[tuple[str, dict]], *, cache: bool) -> list[bytes]:
    """Each (protocol version, JSON-RPC body) POSTed in turn; the raw response bodies."""

    async def run() -> list[bytes]:
        async with running_app() as app:
            server = app.mcp_endpoint.session_manager.app
            if not cache:
                server.middleware = [
                    m for m in server.middleware if not isinstance(m, ToolListCache)
                ]
            answers = []
            async with asgi_http_client(
                app, token, Accept="application/json, text/event-stream"
            ) as http:
                for version, body in bodies:
                    headers = {"MCP-Protocol-Version": version}
                    if version == MODERN:
                        headers["Mcp-Method"] = body["method"]
                    response = await http.post("/mcp/acme", json=body, headers=headers)
                    assert response.status_code == 200, response.text
                    answers.append(response.content)
            return answers

    return anyio.run(run)


@pytest.fixture
def counted_serialisations(monkeypatch) -> list[str]:
    """The SDK's per-call validation and serialisation of spec results, counted by method."""
    calls: list[str] = []
    original = runner._methods.serialize_server_result

    def counting(method, version, data, **kwargs):
        calls.append(method)
        return original(method, version, data, **kwargs)

    monkeypatch.setattr(runner._methods, "serialize_server_result", counting)
    return calls


def test_cached_answers_are_the_sdks_own_for_every_protocol_version(
    cast, token_for, counted_serialisations
):
    token = token_for("analyst@acme.test")
    bodies = [
        (version, {"jsonrpc": "2.0", "id": index, "method": "tools/list"})
        for index, version in enumerate(HANDSHAKE_PROTOCOL_VERSIONS)
    ]
    modern = {"jsonrpc": "2.0", "id": 9, "method": "tools/list", "params": {"_meta": MODERN_META}}
    bodies.append((MODERN, modern))
    uncached = _post_all(token, bodies, cache=False)
    assert counted_serialisations.count("tools/list") == len(bodies)

    counted_serialisations.clear()
    twice = _post_all(token, bodies + bodies, cache=True)
    assert twice[: len(bodies)] == uncached
    assert twice[len(bodies) :] == uncached
    # Only the first request of each version went through the SDK's serialisation.
    assert counted_serialisations.count("tools/list") == len(bodies)
    assert len(set(uncached)) > 1, "versions differ in shape; each needs its own answer"


def test_requests_with_a_cursor_reach_the_sdk(cast, token_for, counted_serialisations):
    version = HANDSHAKE_PROTOCOL_VERSIONS[-1]
    plain = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    with_cursor = {**plain, "params": {"cursor": "c1", "_meta": {"progressToken": "p1"}}}
    answers = _post_all(
        token_for("analyst@acme.test"),
        [(version, plain), (version, with_cursor), (version, with_cursor)],
        cache=True,
    )
    assert counted_serialisations.count("tools/list") == 3
    assert answers[0] == answers[1] == answers[2]


def test_a_failed_listing_is_not_kept(cast, token_for, monkeypatch):
    """A listing the SDK failed to produce is its error once, not a kept answer."""
    original = runner._methods.serialize_server_result
    failures = iter([True])

    def fail_once(method, version, data, **kwargs):
        if method == "tools/list" and next(failures, False):
            raise ValueError("simulated serialisation failure")
        return original(method, version, data, **kwargs)

    monkeypatch.setattr(runner._methods, "serialize_server_result", fail_once)
    version = HANDSHAKE_PROTOCOL_VERSIONS[-1]
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    first, second = (
        json.loads(answer)
        for answer in _post_all(token_for("analyst@acme.test"), [(version, body)] * 2, cache=True)
    )
    assert "error" in first and "result" not in first
    assert {tool["name"] for tool in second["result"]["tools"]} >= {
        "campaign_report",
        "flow_report",
    }
