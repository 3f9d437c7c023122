"""Through the real MCP endpoint: no credential reaches any column of the log table."""

from __future__ import annotations

import json

import pytest

from maestra_mcp.session_logs.models import McpSessionLog
from tests.support.mcp import exchange, mint_token

pytestmark = pytest.mark.django_db(transaction=True)


def test_no_token_or_cookie_text_anywhere_in_the_table(cast):
    token = mint_token(cast.user("analyst@acme.test"), resource=[cast.acme.mcp_url])
    cookie = "sessionid=cookie-secret-0123456789"
    assert exchange("POST", "/mcp/acme", token=token, Cookie=cookie).status_code == 200
    refused = exchange("POST", "/mcp/acme", token=token + "x", Cookie=cookie)  # a bad token
    assert refused.status_code == 401

    rows = list(McpSessionLog.objects.unscoped().order_by("id").values())
    assert [row["status"] for row in rows] == ["success", "refused"]
    text = json.dumps(rows, default=str)
    assert token not in text
    assert "cookie-secret" not in text
    assert "Bearer" not in text
