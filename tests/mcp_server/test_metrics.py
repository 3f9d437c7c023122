"""The endpoint counts every MCP request once, by method, tool and outcome, and refusals by
reason (maestra_mcp.operations.metrics), from the session log's own record of the exchange."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests.support.mcp import exchange

pytestmark = pytest.mark.django_db(transaction=True)

ANALYST = "analyst@acme.test"


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def call(tool: str) -> dict:
    return {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": tool, "arguments": {"period": "last_30_days"}},
    }


def test_a_tool_call_is_counted_by_method_tool_and_outcome(cast, token_for):
    labels = {"method": "tools/call", "tool": "campaign_report", "status": "success"}
    before = sample("maestra_mcp_requests_total", **labels)
    latency = sample("maestra_mcp_request_duration_seconds_count", method="tools/call")
    response = exchange("POST", "/mcp/acme", token=token_for(ANALYST), body=call("campaign_report"))
    assert response.status_code == 200, response.text
    assert sample("maestra_mcp_requests_total", **labels) == before + 1
    assert sample("maestra_mcp_request_duration_seconds_count", method="tools/call") == latency + 1


def test_an_invented_tool_name_is_counted_as_other(cast, token_for):
    labels = {"method": "tools/call", "tool": "other", "status": "error"}
    before = sample("maestra_mcp_requests_total", **labels)
    exchange("POST", "/mcp/acme", token=token_for(ANALYST), body=call("x" * 50))
    assert sample("maestra_mcp_requests_total", **labels) == before + 1


@pytest.mark.parametrize(
    ("path", "token", "reason"),
    [
        ("/mcp/acme", None, "no_token"),
        ("/mcp/acme", "not-a-token", "invalid_token"),
        ("/mcp/nope", None, "no_account"),
        ("/mcp/globex", "globex", "policy:mcp_disabled"),
    ],
)
def test_refusals_are_counted_by_reason(cast, token_for, path, token, reason):
    if token == "globex":
        token = token_for("agency@partner.test", cast.globex)
    # The 401 without a token starts every sign-in: its outcome is sign_in, not refused.
    status = "sign_in" if reason == "no_token" else "refused"
    before = sample("maestra_mcp_refusals_total", reason=reason)
    refused = sample("maestra_mcp_requests_total", method="-", tool="-", status=status)
    response = exchange("POST", path, token=token)
    assert response.status_code >= 400
    assert sample("maestra_mcp_refusals_total", reason=reason) == before + 1
    assert sample("maestra_mcp_requests_total", method="-", tool="-", status=status) == (
        refused + 1
    )
