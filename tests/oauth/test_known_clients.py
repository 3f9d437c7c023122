"""Known assistants recognised by their registered redirect URIs or, for a client ID
metadata document, by its host; never by their name."""

from __future__ import annotations

import pytest
from django.test import Client
from oauth2_provider.models import Application

from maestra_mcp.oauth.clients import LOCAL_APP_LABEL, ClientKind, client_identity
from tests.support.clients import logged_in
from tests.support.oauth import CLAUDE_CALLBACK, Pkce, authorize_query, register

pytestmark = pytest.mark.django_db

CASES = [
    # (name it gives, redirect URIs, kind, label shown)
    ("Claude", ["https://claude.ai/api/mcp/auth_callback"], ClientKind.VERIFIED, "Claude"),
    ("claude.com", ["https://claude.com/api/mcp/auth_callback"], ClientKind.VERIFIED, "Claude"),
    (
        "ChatGPT",
        ["https://chatgpt.com/connector_platform_oauth_redirect"],
        ClientKind.VERIFIED,
        "ChatGPT",
    ),
    ("Cursor", ["cursor://anysphere.cursor-mcp/oauth/callback"], ClientKind.VERIFIED, "Cursor"),
    ("Claude Code", ["http://localhost/callback"], ClientKind.LOCAL, LOCAL_APP_LABEL),
    ("Inspector", ["http://127.0.0.1:6274/oauth/callback"], ClientKind.LOCAL, LOCAL_APP_LABEL),
    # Spoofs: a known name with someone else's redirect stays unverified, under that name.
    ("Claude", ["https://evil.example/api/mcp/auth_callback"], ClientKind.UNVERIFIED, "Claude"),
    ("ChatGPT", ["https://chatgpt.com.evil.example/cb"], ClientKind.UNVERIFIED, "ChatGPT"),
    # Claude's callback plus one of its own: codes could go elsewhere.
    (
        "Claude",
        ["https://claude.ai/api/mcp/auth_callback", "https://evil.example/cb"],
        ClientKind.UNVERIFIED,
        "Claude",
    ),
    # Loopback plus a remote host is not "on your computer".
    ("Tool", ["http://127.0.0.1/cb", "https://evil.example/cb"], ClientKind.UNVERIFIED, "Tool"),
]


def _registered(name: str, redirect_uris: list[str]) -> Application:
    status, body = register(Client(), redirect_uris, client_name=name)
    assert status == 201, body
    return Application.objects.get(client_id=body["client_id"])


@pytest.mark.parametrize(("name", "uris", "kind", "label"), CASES)
def test_identity_comes_from_the_redirect_uris(name, uris, kind, label):
    identity = client_identity(_registered(name, uris))
    assert (identity.kind, identity.label, identity.given_name) == (kind, label, name)


def test_a_local_app_shows_the_name_it_gave():
    identity = client_identity(_registered("My script", ["http://[::1]:9000/cb"]))
    assert (identity.local, identity.name) == (True, "My script")


def test_the_known_list_is_a_setting(settings):
    app = _registered("Acme bot", ["https://bot.acme.example/cb"])
    assert client_identity(app).unverified
    settings.MCP_KNOWN_CLIENTS = [
        {"name": "Acme Bot", "redirect_uris": ["https://bot.acme.example/cb"]}
    ]
    assert (client_identity(app).verified, client_identity(app).label) == (True, "Acme Bot")


@pytest.mark.parametrize(
    ("name", "uri", "marker", "shown"),
    [
        ("Claude", "https://claude.ai/api/mcp/auth_callback", 'id="client-verified"', "Claude"),
        (
            "ChatGPT",
            "https://chatgpt.com/connector_platform_oauth_redirect",
            'id="client-verified"',
            "ChatGPT",
        ),
        (
            "Cursor",
            "cursor://anysphere.cursor-mcp/oauth/callback",
            'id="client-verified"',
            "Cursor",
        ),
        ("Claude Code", "http://localhost:33418/callback", 'id="client-local"', "Claude Code"),
        ("Claude", "https://evil.example/callback", 'id="unverified"', "Claude"),
    ],
)
def test_consent_page_badges(cast, name, uri, marker, shown):
    app = _registered(name, [uri])
    html = (
        logged_in("analyst@acme.test")
        .get(authorize_query(app.client_id, uri, Pkce.new(), resource=cast.acme.mcp_url))
        .content.decode()
    )
    assert marker in html
    assert f'id="client-name">{shown}<' in html
    others = {
        'id="client-verified"',
        'id="client-published"',
        'id="client-local"',
        'id="unverified"',
    } - {marker}
    assert not any(other in html for other in others)


def test_a_verified_client_with_another_name_shows_both(cast):
    uri = "https://claude.ai/api/mcp/auth_callback"
    app = _registered("Totally Claude", [uri])
    html = (
        logged_in("analyst@acme.test")
        .get(authorize_query(app.client_id, uri, Pkce.new(), resource=cast.acme.mcp_url))
        .content.decode()
    )
    assert 'id="client-name">Claude<' in html
    assert "registered as “Totally Claude”" in html


# --- Client ID Metadata Documents (fetching them: test_cimd.py) ---------------------------


def _cimd_application(client_id: str, redirect_uris: list[str], name="Claude") -> Application:
    return Application.objects.create(
        client_id=client_id,
        name=name,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(redirect_uris),
        registration_source=Application.RegistrationSource.CIMD,
    )


@pytest.mark.parametrize(
    ("client_id", "uris", "kind", "label"),
    [
        (
            "https://claude.ai/oauth/mcp-oauth-client-metadata",
            [CLAUDE_CALLBACK],
            ClientKind.VERIFIED,
            "Claude",
        ),
        (
            "https://chatgpt.com/oauth/abc/client.json",
            ["https://chatgpt.com/connector/oauth/Zx81"],
            ClientKind.VERIFIED,
            "ChatGPT",
        ),
        # Claude's host whatever the redirect: the host speaks for its documents.
        (
            "https://claude.ai/oauth/other",
            ["https://example.com/cb"],
            ClientKind.VERIFIED,
            "Claude",
        ),
        # Look-alike hosts are their own publishers.
        (
            "https://claude.ai.evil.example/oauth/client",
            [CLAUDE_CALLBACK],
            ClientKind.PUBLISHED,
            "claude.ai.evil.example",
        ),
        (
            "https://evil.example:8443/claude",
            [CLAUDE_CALLBACK],
            ClientKind.PUBLISHED,
            "evil.example:8443",
        ),
        # Loopback callbacks: any local program may use this public client_id.
        (
            "https://claude.ai/oauth/claude-code-client-metadata",
            ["http://localhost/callback", "http://127.0.0.1/callback"],
            ClientKind.LOCAL,
            LOCAL_APP_LABEL,
        ),
        (
            "https://claude.ai/oauth/mixed",
            [CLAUDE_CALLBACK, "http://127.0.0.1/callback"],
            ClientKind.PUBLISHED,
            "claude.ai",
        ),
    ],
)
def test_identity_of_a_cimd_client_is_its_host(client_id, uris, kind, label):
    identity = client_identity(_cimd_application(client_id, uris))
    assert (identity.kind, identity.label, identity.given_name) == (kind, label, "Claude")
    assert identity.host == client_id.split("/")[2]
