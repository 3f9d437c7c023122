"""Dynamic Client Registration: what real clients send is accepted, the rest refused."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client
from oauth2_provider.models import AccessToken, Application

from tests.support.oauth import register

pytestmark = pytest.mark.django_db

CURSOR_URIS = [
    "cursor://anysphere.cursor-mcp/oauth/callback",
    "https://www.cursor.com/agents/mcp/oauth/callback",
    "http://localhost:8787/callback",
]


@pytest.mark.parametrize(
    "redirect_uris",
    [
        ["https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback"],
        ["https://chatgpt.com/connector_platform_oauth_redirect"],
        ["https://chatgpt.com/connector/oauth/abc123XYZ"],
        CURSOR_URIS,
        ["http://localhost/callback", "http://127.0.0.1/callback"],
        ["http://127.0.0.1:53682/callback", "http://[::1]:8080/cb"],
    ],
    ids=["claude", "chatgpt-legacy", "chatgpt", "cursor", "claude-code", "loopback-ports"],
)
def test_real_clients_register(redirect_uris):
    status, body = register(Client(), redirect_uris)
    assert status == 201, body
    assert body["redirect_uris"] == redirect_uris
    assert body["token_endpoint_auth_method"] == "none"
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    application = Application.objects.get(client_id=body["client_id"])
    assert application.client_type == Application.CLIENT_PUBLIC
    assert application.registration_source == Application.RegistrationSource.DCR
    assert application.skip_authorization is False
    assert application.redirect_uris.split() == redirect_uris


def test_confidential_client_secret_is_stored_hashed():
    status, body = register(
        Client(),
        ["https://claude.ai/api/mcp/auth_callback"],
        token_endpoint_auth_method="client_secret_post",
    )
    assert status == 201
    stored = Application.objects.get(client_id=body["client_id"]).client_secret
    assert body["client_secret"] not in stored
    assert check_password(body["client_secret"], stored)  # a hash (fast hasher in tests)


@pytest.mark.parametrize(
    ("redirect_uris", "error"),
    [
        (["http://evil.example/callback"], "invalid_redirect_uri"),
        (["http://192.168.1.10/callback"], "invalid_redirect_uri"),
        # one bad URI among good ones refuses the whole registration
        ([*CURSOR_URIS, "http://claude.ai.evil.example/cb"], "invalid_redirect_uri"),
        (["javascript:alert(1)"], "invalid_redirect_uri"),
        (["vscode://some.extension/cb"], "invalid_redirect_uri"),
        (["https://claude.ai/cb#frag"], "invalid_redirect_uri"),
        (["https:///no-host"], "invalid_redirect_uri"),
    ],
    ids=[
        "http-remote",
        "http-private-ip",
        "mixed",
        "javascript",
        "unlisted-scheme",
        "fragment",
        "no-host",
    ],
)
def test_forbidden_redirect_uris_are_refused_and_nothing_is_stored(redirect_uris, error):
    status, body = register(Client(), redirect_uris)
    assert status == 400
    assert body["error"] == error
    assert body["error_description"]
    assert not Application.objects.exists()
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize(
    "metadata",
    [
        {"grant_types": ["client_credentials"]},
        {"grant_types": ["implicit"]},
        {"grant_types": ["password"]},
        {"response_types": ["token"]},
    ],
)
def test_only_the_code_flow_can_be_registered(metadata):
    status, body = register(Client(), ["https://claude.ai/api/mcp/auth_callback"], **metadata)
    assert status == 400
    assert body["error"] == "invalid_client_metadata"
    assert not Application.objects.exists()


def test_malformed_body_is_refused_in_rfc7591_terms():
    response = Client().post("/o/register/", "not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


def test_registration_is_rate_limited_per_client_address(settings):
    settings.OAUTH_DCR_RATE_LIMIT = 3
    uris = ["https://claude.ai/api/mcp/auth_callback"]
    for _ in range(2):
        assert register(Client(REMOTE_ADDR="203.0.113.5"), uris)[0] == 201
    # refused attempts count too
    assert register(Client(REMOTE_ADDR="203.0.113.5"), ["http://evil.example/cb"])[0] == 400
    response = Client(REMOTE_ADDR="203.0.113.5").post(
        "/o/register/", json.dumps({"redirect_uris": uris}), content_type="application/json"
    )
    assert response.status_code == 429
    assert response.json()["error"] == "too_many_requests"
    assert response["Retry-After"] == str(settings.OAUTH_DCR_RATE_WINDOW_SECONDS)
    assert Application.objects.count() == 2
    # another address is unaffected
    assert register(Client(REMOTE_ADDR="198.51.100.7"), uris)[0] == 201
