"""End to end with the official MCP SDK client's OAuth provider.

The client starts with nothing but the MCP URL: it gets the 401, discovers the
protected-resource and authorization-server metadata, registers itself (DCR),
runs the authorization-code flow with PKCE through a real login and consent
(``HeadlessBrowser``), exchanges the code, calls a tool, refreshes, and calls
again with the refreshed token — in-process and against a real uvicorn.
"""

from __future__ import annotations

import hashlib
import time

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from oauth2_provider.models import AccessToken, Application, RefreshToken

from maestra_mcp.asgi import build_application
from permissions.policy import MESSAGE_NO_PERMISSION
from permissions.services import mcp_access_revoke
from tests.oauth.headless import HeadlessBrowser
from tests.support.mcp import INITIALIZE, MCP_HEADERS, uvicorn_server
from tests.support.oauth import MemoryStorage, sdk_oauth_provider, serve_at

pytestmark = pytest.mark.django_db(transaction=True)

IN_PROCESS_ORIGIN = "http://127.0.0.1:8000"  # the test settings' MAESTRA_PUBLIC_URL

CLIENT_SHAPES = {
    "claude": [
        "https://claude.ai/api/mcp/auth_callback",
        "https://claude.com/api/mcp/auth_callback",
    ],
    "claude-com": ["https://claude.com/api/mcp/auth_callback"],
    "chatgpt-legacy": ["https://chatgpt.com/connector_platform_oauth_redirect"],
    "chatgpt": ["https://chatgpt.com/connector/oauth/Zx81kq0pQ"],
    "cursor": [
        "cursor://anysphere.cursor-mcp/oauth/callback",
        "https://www.cursor.com/agents/mcp/oauth/callback",
        "http://localhost:8787/callback",
    ],
    "claude-code": ["http://localhost:53682/callback"],
}
# Every shape registers under the name "Claude"; the consent page shows the assistant its
# redirect URIs prove (maestra_mcp/oauth/clients.py): ChatGPT's are ChatGPT's whatever the
# name; Cursor's mix of its scheme, an https page and loopback is not all Cursor's, so it
# keeps the name it gave and is flagged unverified.
CONSENT_BADGE = {
    "claude": ("Claude", 'id="client-verified"'),
    "claude-com": ("Claude", 'id="client-verified"'),
    "chatgpt-legacy": ("ChatGPT", 'id="client-verified"'),
    "chatgpt": ("ChatGPT", 'id="client-verified"'),
    "cursor": ("Claude", 'id="unverified"'),
    "claude-code": ("Claude", 'id="client-local"'),
}


def _stored(raw: str) -> AccessToken:
    return AccessToken.objects.get(token_checksum=hashlib.sha256(raw.encode()).hexdigest())


async def _session(http: httpx2.AsyncClient, mcp_url: str):
    async with Client(streamable_http_client(mcp_url, http_client=http), mode="legacy") as client:
        tools = await client.list_tools()
        result = await client.call_tool("list_report_filters", {})
        return {tool.name for tool in tools.tools}, result


async def _full_flow(origin: str, transport, redirect_uris: list[str], username: str):
    """Connect from scratch, call a tool, force a refresh, call again."""
    mcp_url = f"{origin}/mcp/acme"
    storage = MemoryStorage()
    async with httpx2.AsyncClient(
        transport=transport, base_url=origin, follow_redirects=False
    ) as browser_http:
        browser = HeadlessBrowser(browser_http, username)
        oauth = sdk_oauth_provider(mcp_url, redirect_uris, browser, storage)
        async with httpx2.AsyncClient(transport=transport, auth=oauth, timeout=30) as http:
            tools, first = await _session(http, mcp_url)
            issued = storage.tokens
            # The access token "expires" on the client's clock: it refreshes first.
            oauth.context.token_expiry_time = time.time() - 1
            _, second = await _session(http, mcp_url)
    return browser, storage, issued, tools, first, second


def _assert_connected(cast, shape, username, browser, storage, issued, tools, first, second):
    consent_page = browser.pages[0].text
    name, badge = CONSENT_BADGE[shape]
    assert f'id="client-name">{name}<' in consent_page
    assert badge in consent_page
    assert "Acme Retail" in consent_page
    assert {"campaign_report", "flow_report", "list_report_filters"} <= tools
    assert not first.is_error and not second.is_error
    # one DCR client, one refresh: the refreshed pair replaced the first
    application = Application.objects.get(client_id=storage.client_info.client_id)
    assert application.registration_source == Application.RegistrationSource.DCR
    assert storage.tokens.access_token != issued.access_token
    assert storage.tokens.refresh_token != issued.refresh_token
    assert not AccessToken.objects.filter(
        token_checksum=hashlib.sha256(issued.access_token.encode()).hexdigest()
    ).exists()
    current = _stored(storage.tokens.access_token)
    assert current.resource == [cast.acme.mcp_url]
    assert current.user.username == username
    assert RefreshToken.objects.filter(application=application, revoked__isnull=True).count() == 1


@pytest.mark.parametrize("shape", CLIENT_SHAPES)
def test_sdk_client_connects_in_process(cast, shape):
    app = build_application()

    async def go():
        async with app.mcp_endpoint.lifespan():
            return await _full_flow(
                IN_PROCESS_ORIGIN,
                httpx2.ASGITransport(app=app),
                CLIENT_SHAPES[shape],
                "analyst@acme.test",
            )

    _assert_connected(cast, shape, "analyst@acme.test", *anyio.run(go))


@pytest.mark.parametrize("shape", ["claude", "claude-code"])
def test_sdk_client_connects_over_uvicorn(cast, settings, shape):
    with uvicorn_server() as origin:
        serve_at(settings, origin)
        result = anyio.run(
            _full_flow,
            origin,
            httpx2.AsyncHTTPTransport(),
            CLIENT_SHAPES[shape],
            "analyst@acme.test",
        )
        cast.acme.refresh_from_db()
        _assert_connected(cast, shape, "analyst@acme.test", *result)


async def _post_initialize(origin: str, transport, path: str, token: str) -> httpx2.Response:
    async with httpx2.AsyncClient(transport=transport, base_url=origin) as http:
        return await http.post(
            path, json=INITIALIZE, headers={"Authorization": f"Bearer {token}", **MCP_HEADERS}
        )


def test_token_for_acme_is_refused_at_globex_and_policy_is_rechecked(cast):
    """Member of both accounts; both have MCP on. The acme token opens acme only, and
    losing MCP Access cuts the connected assistant off on its next call."""
    cast.globex.mcp_enabled = True
    cast.globex.save()
    app = build_application()
    transport = httpx2.ASGITransport(app=app)

    async def go():
        async with app.mcp_endpoint.lifespan():
            _, storage, *_ = await _full_flow(
                IN_PROCESS_ORIGIN, transport, CLIENT_SHAPES["claude"], "agency@partner.test"
            )
            token = storage.tokens.access_token
            at_acme = await _post_initialize(IN_PROCESS_ORIGIN, transport, "/mcp/acme", token)
            at_globex = await _post_initialize(IN_PROCESS_ORIGIN, transport, "/mcp/globex", token)
            return token, at_acme, at_globex

    token, at_acme, at_globex = anyio.run(go)
    assert at_acme.status_code == 200
    assert at_globex.status_code == 401
    assert 'error="invalid_token"' in at_globex.headers["www-authenticate"]
    assert (
        "/.well-known/oauth-protected-resource/mcp/globex" in at_globex.headers["www-authenticate"]
    )

    mcp_access_revoke(
        account=cast.acme,
        user=cast.user("agency@partner.test"),
        acting_user=cast.user("owner@acme.test"),
    )

    async def again():
        async with app2.mcp_endpoint.lifespan():
            return await _post_initialize(
                IN_PROCESS_ORIGIN, httpx2.ASGITransport(app=app2), "/mcp/acme", token
            )

    app2 = build_application()
    refused = anyio.run(again)
    assert refused.status_code == 403
    assert MESSAGE_NO_PERMISSION in refused.text
