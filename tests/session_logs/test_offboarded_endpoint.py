"""Offboarding end to end: the live token stops working, nothing more is logged,
consent is refused — through the real MCP endpoint and OAuth views."""

from __future__ import annotations

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken

from maestra_mcp.offboarding import account_offboard
from maestra_mcp.session_logs.models import McpSessionLog
from tests.support.clients import logged_in
from tests.support.mcp import exchange, mint_token
from tests.support.oauth import CLAUDE_CALLBACK, Pkce, authorize_query, redirect_params, register

# The endpoint reaches the database from other threads: data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def logs(account) -> int:
    return McpSessionLog.objects.for_account(account).count()


def test_offboarding_cuts_the_connection_logs_and_consent(cast):
    analyst = cast.user("analyst@acme.test")
    token = mint_token(analyst, resource=[cast.acme.mcp_url])
    agency_token = mint_token(cast.user("agency@partner.test"), resource=[cast.globex.mcp_url])
    assert exchange("POST", "/mcp/acme", token=token).status_code == 200
    assert exchange("POST", "/mcp/globex", token=agency_token).status_code == 403  # MCP off
    assert (logs(cast.acme), logs(cast.globex)) == (1, 1)
    status, body = register(Client(), [CLAUDE_CALLBACK])
    assert status == 201

    # No broker configured in tests: the purge runs in-process once committed.
    account_offboard(account=cast.acme, acting_user=cast.user("csm@maestra.test"))

    assert not AccessToken.objects.filter(user=analyst).exists()
    assert AccessToken.objects.filter(user__username="agency@partner.test").exists()
    assert (logs(cast.acme), logs(cast.globex)) == (0, 1)
    response = exchange("POST", "/mcp/acme", token=token)
    assert response.status_code == 404  # the same answer as for an account that never existed
    assert (logs(cast.acme), logs(cast.globex)) == (0, 1)  # and nothing new is stored
    url = authorize_query(
        body["client_id"], CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url
    )
    assert redirect_params(logged_in("analyst@acme.test").get(url))["error"] == "invalid_target"
