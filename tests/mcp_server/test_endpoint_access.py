"""Every request is re-checked: transport, account, bearer token, access policy.

Refusals are checked on the raw HTTP exchange (status, challenge, body) against
the full ASGI application; the happy path and "takes effect on the next
request" use the official SDK client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import anyio
import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.backends.signals import connection_created
from django.test import Client as DjangoClient
from django.utils import timezone
from mcp.shared.exceptions import MCPError
from oauth2_provider.models import AccessToken

from accounts.models import Account, Membership, Role
from maestra_mcp.mcp_server.endpoint import (
    MAX_REQUEST_BODY_BYTES,
    MESSAGE_INVALID_TOKEN,
    MESSAGE_METHOD_NOT_ALLOWED,
    MESSAGE_NOT_FOUND,
    MESSAGE_TOO_LARGE,
    MESSAGE_UNAUTHENTICATED,
)
from maestra_mcp.session_logs.models import McpSessionLog
from permissions.policy import (
    MESSAGE_MCP_DISABLED,
    MESSAGE_MEMBERSHIP_INACTIVE,
    MESSAGE_NO_PERMISSION,
    MESSAGE_NOT_A_MEMBER,
    MESSAGE_USER_INACTIVE,
)
from permissions.services import mcp_access_revoke, membership_create
from tests.support.mcp import (
    ASGI_ORIGIN,
    INITIALIZE,
    MCP_HEADERS,
    asgi_http_client,
    exchange,
    running_app,
    sdk_client,
)

pytestmark = pytest.mark.django_db(transaction=True)

ANALYST = "analyst@acme.test"
AGENCY = "agency@partner.test"  # member of acme (MCP on) and globex (MCP off)


def challenge(system_name: str, *, invalid: bool) -> str:
    value = (
        f'Bearer resource_metadata="http://127.0.0.1:8000/.well-known/oauth-protected-resource'
        f'/mcp/{system_name}", scope="reports:read"'
    )
    return f'{value}, error="invalid_token"' if invalid else value


def assert_jsonrpc_error(response, status: int, message: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    payload = response.json()
    assert payload["jsonrpc"] == "2.0"
    assert payload["id"] is None
    assert payload["error"]["message"] == message


# --- Happy path -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "expected_version"), [("auto", "2026-07-28"), ("legacy", "2025-11-25")]
)
def test_member_with_mcp_access_connects_in_both_protocol_eras(
    cast, token_for, mode, expected_version
):
    token = token_for(ANALYST)

    async def go():
        async with (
            running_app() as app,
            asgi_http_client(app, token) as http,
            sdk_client(f"{ASGI_ORIGIN}/mcp/acme", http, mode) as client,
        ):
            tools = await client.list_tools()
            return client.protocol_version, client.server_info, client.instructions, tools

    version, server_info, instructions, tools = anyio.run(go)
    assert version == expected_version
    assert (server_info.name, server_info.title, server_info.version) == (
        "maestra",
        "Maestra campaign reports",
        "0.1.0",
    )
    assert "list_report_filters" in instructions
    assert tools.tools is not None


def test_initialize_answer_is_plain_json_without_a_session(cast, token_for):
    response = exchange("POST", "/mcp/acme", token=token_for(ANALYST))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "mcp-session-id" not in response.headers
    result = response.json()["result"]
    assert result["protocolVersion"] == "2025-11-25"
    assert result["capabilities"]["tools"] == {"listChanged": False}


# --- 401: the bearer token ------------------------------------------------------------


def test_no_token_gets_the_challenge_pointing_at_the_accounts_metadata(cast):
    response = exchange("POST", "/mcp/acme")
    assert_jsonrpc_error(response, 401, MESSAGE_UNAUTHENTICATED)
    assert response.headers["www-authenticate"] == challenge("acme", invalid=False)


@pytest.mark.parametrize(
    "authorization", ["Basic YWxpY2U6c2VjcmV0", "Bearer", "Bearer    ", "token abc", "Bearerabc"]
)
def test_malformed_authorization_header_is_no_token(cast, authorization):
    response = exchange("POST", "/mcp/acme", Authorization=authorization)
    assert_jsonrpc_error(response, 401, MESSAGE_UNAUTHENTICATED)
    assert response.headers["www-authenticate"] == challenge("acme", invalid=False)


def refused_token(response, system_name="acme"):
    assert_jsonrpc_error(response, 401, MESSAGE_INVALID_TOKEN)
    assert response.headers["www-authenticate"] == challenge(system_name, invalid=True)


def test_unknown_token(cast):
    refused_token(exchange("POST", "/mcp/acme", token="not-a-token-we-issued"))


def test_expired_token(cast, token_for):
    token = token_for(ANALYST, expires_in=timedelta(seconds=-1))
    refused_token(exchange("POST", "/mcp/acme", token=token))


def test_revoked_token(cast, token_for):
    token = token_for(ANALYST)
    AccessToken.objects.get().revoke()
    refused_token(exchange("POST", "/mcp/acme", token=token))


def test_token_of_another_accounts_url_even_for_a_member_of_both(cast, token_for, settings):
    cast.globex.mcp_enabled = True
    cast.globex.save()
    token = token_for(AGENCY, account=cast.globex)
    refused_token(exchange("POST", "/mcp/acme", token=token))
    # ...while the same token works where it belongs.
    assert exchange("POST", "/mcp/globex", token=token).status_code == 200


def test_token_without_resource_is_refused(cast, token_for):
    refused_token(exchange("POST", "/mcp/acme", token=token_for(ANALYST, resource=None)))


def test_token_for_a_url_that_is_a_prefix_of_this_one_is_refused(cast, token_for):
    """DOT alone matches audiences by prefix: /mcp/acme must not open /mcp/acme-eu."""
    acme_eu = Account.objects.create(system_name="acme-eu", name="Acme EU", mcp_enabled=True)
    membership_create(account=acme_eu, user=cast.user(ANALYST), role=Role.ANALYST)
    token = token_for(ANALYST, account=cast.acme)
    refused_token(exchange("POST", "/mcp/acme-eu", token=token), "acme-eu")


def test_token_without_the_reports_scope_is_refused(cast, token_for):
    refused_token(exchange("POST", "/mcp/acme", token=token_for(ANALYST, scope="read")))


def test_session_cookie_is_never_a_credential(cast):
    django_client = DjangoClient()
    django_client.force_login(cast.user(ANALYST))
    cookie = f"sessionid={django_client.cookies['sessionid'].value}"
    response = exchange("POST", "/mcp/acme", Cookie=cookie)
    assert_jsonrpc_error(response, 401, MESSAGE_UNAUTHENTICATED)


# --- 403: the access policy -----------------------------------------------------------


def test_flag_off(cast, token_for):
    response = exchange("POST", "/mcp/globex", token=token_for(AGENCY, account=cast.globex))
    assert_jsonrpc_error(response, 403, MESSAGE_MCP_DISABLED)
    assert "www-authenticate" not in response.headers  # signing in again would not help


def test_mcp_access_revoked(cast, token_for):
    token = token_for(ANALYST)
    mcp_access_revoke(account=cast.acme, user=cast.user(ANALYST), acting_user=None)
    assert_jsonrpc_error(exchange("POST", "/mcp/acme", token=token), 403, MESSAGE_NO_PERMISSION)


def test_member_deactivated(cast, token_for):
    token = token_for(ANALYST)
    Membership.objects.filter(user__username=ANALYST).update(is_active=False)
    response = exchange("POST", "/mcp/acme", token=token)
    assert_jsonrpc_error(response, 403, MESSAGE_MEMBERSHIP_INACTIVE)


def test_user_deactivated(cast, token_for):
    token = token_for(ANALYST)
    user = cast.user(ANALYST)
    user.is_active = False
    user.save()
    assert_jsonrpc_error(exchange("POST", "/mcp/acme", token=token), 403, MESSAGE_USER_INACTIVE)


def test_outsider_with_a_token_for_the_url(cast, token_for):
    token = token_for("outsider@example.test")
    assert_jsonrpc_error(exchange("POST", "/mcp/acme", token=token), 403, MESSAGE_NOT_A_MEMBER)


def test_role_without_mcp_access_by_default(cast, token_for):
    token = token_for("support@acme.test")
    assert_jsonrpc_error(exchange("POST", "/mcp/acme", token=token), 403, MESSAGE_NO_PERMISSION)


def test_revocation_takes_effect_on_the_next_request_of_a_connected_client(cast, token_for):
    token = token_for(ANALYST)
    analyst = cast.user(ANALYST)

    async def go():
        async with (
            running_app() as app,
            asgi_http_client(app, token) as http,
            sdk_client(f"{ASGI_ORIGIN}/mcp/acme", http, "legacy") as client,
        ):
            await client.list_tools()
            await anyio.to_thread.run_sync(
                lambda: mcp_access_revoke(account=cast.acme, user=analyst, acting_user=None)
            )
            with pytest.raises(MCPError) as refused:
                await client.list_tools()
            return refused.value

    error = anyio.run(go)
    assert MESSAGE_NO_PERMISSION in str(error)


# --- 404: the account of the URL ------------------------------------------------------


def test_unknown_account(cast, token_for):
    response = exchange("POST", "/mcp/initech", token=token_for(ANALYST))
    assert_jsonrpc_error(response, 404, MESSAGE_NOT_FOUND)


def test_offboarded_account_even_with_a_still_valid_token(cast, token_for):
    token = token_for(ANALYST)
    Account.objects.filter(pk=cast.acme.pk).update(offboarded_at=timezone.now())
    assert_jsonrpc_error(exchange("POST", "/mcp/acme", token=token), 404, MESSAGE_NOT_FOUND)


@pytest.mark.parametrize("path", ["/mcp/acme/", "/mcp/", "/mcp", "/mcp/acme/extra", "/mcp/ACME"])
def test_other_paths_under_mcp_are_404_never_a_redirect(cast, token_for, path):
    response = exchange("POST", path, token=token_for(ANALYST))
    assert_jsonrpc_error(response, 404, MESSAGE_NOT_FOUND)


# --- Transport ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT", "OPTIONS"])
def test_only_post(cast, token_for, method):
    response = exchange(method, "/mcp/acme", token=token_for(ANALYST))
    assert_jsonrpc_error(response, 405, MESSAGE_METHOD_NOT_ALLOWED)
    assert response.headers["allow"] == "POST"


def assert_transport_refusal(response, status: int, text: str) -> None:
    """The SDK's own check (TransportSecuritySettings), given before any query, its
    message as a JSON-RPC error."""
    assert response.status_code == status
    assert response.json() == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32600, "message": text},
    }


def test_foreign_origin_is_refused_before_anything_else(cast, token_for):
    with queries_of_every_thread() as queries:
        response = exchange(
            "POST", "/mcp/acme", token=token_for(ANALYST), Origin="http://evil.example.com"
        )
    assert_transport_refusal(response, 403, "Invalid Origin header")
    assert statements(queries) == []


@pytest.mark.parametrize("origin", [ASGI_ORIGIN, "https://assistant.example"])
def test_public_and_trusted_origins_are_accepted(cast, token_for, settings, origin):
    settings.CSRF_TRUSTED_ORIGINS = ["https://assistant.example"]
    response = exchange("POST", "/mcp/acme", token=token_for(ANALYST), Origin=origin)
    assert response.status_code == 200


def test_same_origin_is_accepted(cast, token_for):
    response = exchange(
        "POST",
        "/mcp/acme",
        token=token_for(ANALYST),
        Host="localhost:9999",
        Origin="http://localhost:9999",
    )
    assert response.status_code == 200


@pytest.mark.parametrize("origin", ["http://localhost:1234", "https://localhost:9999", "null"])
def test_origin_that_is_not_the_requests_own_is_refused(cast, token_for, origin):
    response = exchange(
        "POST", "/mcp/acme", token=token_for(ANALYST), Host="localhost:9999", Origin=origin
    )
    assert_transport_refusal(response, 403, "Invalid Origin header")


def test_allowed_hosts_on_any_port(cast, token_for):
    response = exchange("POST", "/mcp/acme", token=token_for(ANALYST), Host="localhost:9999")
    assert response.status_code == 200


@pytest.mark.parametrize("host", ["evil.example.com", "127.0.0.1.evil.example.com:8000"])
def test_host_must_be_allowed(cast, token_for, host):
    response = exchange("POST", "/mcp/acme", token=token_for(ANALYST), Host=host)
    assert_transport_refusal(response, 421, "Invalid Host header")


def test_request_body_is_capped(cast, token_for):
    body = {**INITIALIZE, "params": {**INITIALIZE["params"], "pad": "x" * MAX_REQUEST_BODY_BYTES}}
    response = exchange("POST", "/mcp/acme", token=token_for(ANALYST), body=body)
    assert response.status_code == 413
    assert response.json()["error"] == {"code": -32600, "message": MESSAGE_TOO_LARGE}


def test_non_json_body_is_a_client_error(cast, token_for):
    token = token_for(ANALYST)

    async def go():
        async with running_app() as app, asgi_http_client(app, token) as http:
            return await http.post(
                "/mcp/acme", content=b"hello", headers={**MCP_HEADERS, "Content-Type": "text/plain"}
            )

    assert anyio.run(go).status_code == 415


# --- Protected resource metadata (RFC 9728) -------------------------------------------


def test_protected_resource_metadata_of_an_account(cast):
    response = exchange("GET", "/.well-known/oauth-protected-resource/mcp/acme")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.json() == {
        "resource": "http://127.0.0.1:8000/mcp/acme",
        "authorization_servers": ["http://127.0.0.1:8000"],
        "scopes_supported": ["reports:read"],
        "bearer_methods_supported": ["header"],
        "resource_name": "Maestra MCP",
    }
    # The resource is exactly the URL the 401 challenge is about.
    assert response.json()["resource"] == cast.acme.mcp_url


@pytest.mark.parametrize("system_name", ["initech", "acme/"])
def test_protected_resource_metadata_of_no_account(cast, system_name):
    response = exchange("GET", f"/.well-known/oauth-protected-resource/mcp/{system_name}")
    assert response.status_code == 404


def test_protected_resource_metadata_of_an_offboarded_account(cast):
    Account.objects.filter(pk=cast.acme.pk).update(offboarded_at=timezone.now())
    response = exchange("GET", "/.well-known/oauth-protected-resource/mcp/acme")
    assert response.status_code == 404


# --- Nothing leaks --------------------------------------------------------------------


def test_refusals_never_echo_the_token(cast, token_for):
    token = token_for(ANALYST, expires_in=timedelta(seconds=-1))
    response = exchange("POST", "/mcp/acme", token=token)
    assert token not in response.text
    assert token not in json.dumps(dict(response.headers))


def test_other_paths_still_reach_django(cast):
    response = exchange("GET", "/login/")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


def test_tokens_are_minted_like_dot_does(cast, token_for):
    """Sanity of the fixture: only a checksum is stored (RFC 9700 storage)."""
    raw = token_for(ANALYST)
    stored = AccessToken.objects.get()
    assert stored.token == ""
    assert raw not in stored.token_checksum


# --- Cost per request -------------------------------------------------------------------


@contextmanager
def queries_of_every_thread() -> Iterator[list[str]]:
    """The SQL of every connection opened inside the block, whichever thread opens it
    (MCP requests run on threads of their own, with connections of their own)."""
    captured: list[str] = []

    def record(execute, sql, params, many, context):
        captured.append(sql)
        return execute(sql, params, many, context)

    def install(sender, connection, **kwargs):
        connection.execute_wrappers.append(record)

    connection_created.connect(install)
    try:
        yield captured
    finally:
        connection_created.disconnect(install)


LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")  # SQLite sends them as SQL


def statements(queries: list[str]) -> list[str]:
    return [sql for sql in queries if not sql.startswith(TRANSACTION_CONTROL)]


def test_a_request_costs_five_queries(cast, token_for):
    """Account, token (with its user and client), policy, and the session log's
    account check (under a row lock) and insert: the fixed price of every MCP
    request, whatever it asks."""
    token = token_for(ANALYST)
    ContentType.objects.get_for_model(Account)  # cached per process, like in a server
    with queries_of_every_thread() as queries:
        response = exchange(
            "POST",
            "/mcp/acme",
            token=token,
            body=LIST_TOOLS,
            **{"MCP-Protocol-Version": "2025-11-25"},
        )
    assert response.status_code == 200
    assert response.json()["result"]["tools"]
    sent = statements(queries)
    assert len(sent) == 5, "\n".join(sent)
    assert "oauth2_provider_accesstoken" in sent[1]
    assert "accounts_account" in sent[-2] and sent[-2].endswith("FOR NO KEY UPDATE")
    assert sent[-1].startswith("INSERT INTO") and "mcpsessionlog" in sent[-1]


def test_a_refusal_costs_no_more(cast, token_for):
    token = token_for(ANALYST, expires_in=timedelta(seconds=-1))
    with queries_of_every_thread() as queries:
        response = exchange("POST", "/mcp/acme", token=token, body=LIST_TOOLS)
    assert response.status_code == 401
    assert len(statements(queries)) == 4, "\n".join(statements(queries))  # no policy query


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_browser_opening_the_url_gets_a_page_linking_the_connect_page(cast):
    response = exchange("GET", "/mcp/acme", Accept=BROWSER_ACCEPT)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'href="/accounts/acme/mcp/"' in response.text
    assert cast.acme.mcp_url in response.text
    assert cast.acme.name not in response.text  # anonymous: the URL's own name only
    assert not McpSessionLog.objects.for_account(cast.acme).exists()


def test_a_browser_on_an_unknown_account_gets_a_404_page(cast):
    response = exchange("GET", "/mcp/nope", Accept=BROWSER_ACCEPT)
    assert response.status_code == 404
    assert "There is no MCP server at this URL" in response.text
    assert "/accounts/nope/" not in response.text


@pytest.mark.parametrize(
    "accept", ["text/event-stream", "application/json", "text/html, text/event-stream"]
)
def test_clients_get_json_on_get_whatever_else_they_accept(cast, accept):
    response = exchange("GET", "/mcp/acme", Accept=accept)
    assert_jsonrpc_error(response, 405, MESSAGE_METHOD_NOT_ALLOWED)
