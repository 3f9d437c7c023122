"""Every MCP request leaves one session-log row (issue 6's model), refused ones too."""

from __future__ import annotations

import json

import anyio
import pytest

from maestra_mcp.mcp_server.endpoint import MESSAGE_TOO_LARGE, MESSAGE_UNAUTHENTICATED
from maestra_mcp.session_logs.models import McpSessionLog
from permissions.policy import MESSAGE_NO_PERMISSION
from permissions.services import mcp_access_revoke
from tests.support.mcp import (
    ASGI_ORIGIN,
    INITIALIZE,
    asgi_http_client,
    exchange,
    running_app,
    sdk_client,
)
from tests.support.reports import WINDOW

pytestmark = pytest.mark.django_db(transaction=True)

ANALYST = "analyst@acme.test"


def rows(account) -> list[McpSessionLog]:
    return list(McpSessionLog.objects.for_account(account).order_by("id"))


def test_a_tool_call_is_logged_with_its_arguments_and_answer(cast, report_data, token_for):
    token = token_for(ANALYST)
    arguments = {**WINDOW, "breakdown": "channel"}

    async def go():
        async with (
            running_app() as app,
            asgi_http_client(app, token, **{"User-Agent": "claude-code/2.1"}) as http,
            sdk_client(f"{ASGI_ORIGIN}/mcp/acme", http, "legacy") as client,
        ):
            return await client.call_tool("campaign_report", arguments)

    result = anyio.run(go)
    logged = rows(cast.acme)
    # One row per request (the SDK client then lists the tools to validate the answer).
    assert [row.method for row in logged] == [
        "initialize",
        "notifications/initialized",
        "tools/call",
        "tools/list",
    ]
    assert logged[0].protocol_version == "2025-11-25"
    call = logged[2]
    assert call.status == McpSessionLog.Status.SUCCESS
    assert call.tool_name == "campaign_report"
    assert call.params["arguments"] == arguments
    assert call.result == result.structured_content
    assert call.http_status == 200
    assert call.user == cast.user(ANALYST)
    assert call.token_id is not None
    assert call.oauth_client_name == "Test assistant"
    assert call.protocol_version == "2025-11-25"
    assert call.user_agent == "claude-code/2.1"
    for row in logged:
        assert token not in json.dumps([row.params, row.result, row.error, row.user_agent])


def test_a_tool_error_is_logged_as_an_error_with_its_message(cast, report_data, token_for):
    token = token_for(ANALYST)

    async def go():
        async with (
            running_app() as app,
            asgi_http_client(app, token) as http,
            sdk_client(f"{ASGI_ORIGIN}/mcp/acme", http, "auto") as client,
        ):
            return await client.call_tool("campaign_report", {"brands": ["Nope"]})

    result = anyio.run(go)
    call = next(row for row in rows(cast.acme) if row.method == "tools/call")
    assert call.status == McpSessionLog.Status.ERROR
    assert call.error == result.content[0].text
    assert call.protocol_version == "2026-07-28"


def test_refusals_are_logged_for_the_account(cast, token_for):
    token = token_for(ANALYST)
    exchange("POST", "/mcp/acme")
    exchange("POST", "/mcp/acme", token=token + "x")
    mcp_access_revoke(account=cast.acme, user=cast.user(ANALYST), acting_user=None)
    exchange("POST", "/mcp/acme", token=token)
    challenge, bad_token, forbidden = rows(cast.acme)
    # The 401 without a token starts every sign-in: its own status, not a refusal.
    assert (challenge.status, challenge.http_status) == ("sign_in", 401)
    assert challenge.get_status_display() == "Sign-in requested"
    assert challenge.error == MESSAGE_UNAUTHENTICATED
    assert challenge.user is None
    # A token that does not validate is refused.
    assert (bad_token.status, bad_token.http_status) == ("refused", 401)
    assert (forbidden.status, forbidden.http_status) == ("refused", 403)
    assert forbidden.error == MESSAGE_NO_PERMISSION
    assert forbidden.user == cast.user(ANALYST)


def test_requests_for_no_account_leave_no_row(cast, token_for):
    exchange("POST", "/mcp/initech", token=token_for(ANALYST))
    assert McpSessionLog.objects.unscoped().count() == 0


def test_refusals_of_the_sdks_http_layer_are_logged_with_their_status(cast, token_for):
    token = token_for(ANALYST)
    oversized = {**INITIALIZE, "params": {**INITIALIZE["params"], "pad": "x" * 70_000}}
    assert exchange("POST", "/mcp/acme", token=token, body=oversized).status_code == 413
    assert exchange("POST", "/mcp/acme", token=token, Accept="text/html").status_code == 406
    too_large, not_acceptable = rows(cast.acme)
    assert (too_large.status, too_large.http_status) == ("refused", 413)
    assert too_large.error == MESSAGE_TOO_LARGE
    assert (not_acceptable.status, not_acceptable.http_status) == ("refused", 406)
    assert too_large.user == cast.user(ANALYST)
    assert too_large.method == ""  # the SDK never dispatched it


def test_a_protocol_error_is_logged_with_the_sdks_error(cast, token_for):
    body = {"jsonrpc": "2.0", "id": 1, "method": "no/such/method"}
    headers = {"MCP-Protocol-Version": "2025-11-25"}
    assert exchange("POST", "/mcp/acme", token=token_for(ANALYST), body=body, **headers)
    (row,) = rows(cast.acme)
    assert (row.method, row.status, row.error) == ("no/such/method", "error", "Method not found")
    assert row.result["code"] == -32601
