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


@pytest.mark.parametrize(
    "metadata",
    [
        {"client_name": None},
        {"client_name": 5},
        {"client_name": ["Claude"]},
        {"client_name": "Cla\u0000ude"},
        {"client_name": "Cla\ud800ude"},  # a lone surrogate: psycopg cannot encode it
        {"scope": "\udfff"},
        {"client_name": "\u202eedualC"},  # a right-to-left override: reads "Claude"
        {"client_name": "Cla\u200bude"},  # a zero-width space
        {"redirect_uris": ["https://claude.ai\u2066/cb"]},
        {"client_name": "x" * 256},
        {"redirect_uris": ["https://claude.ai/cb\u0000"]},
        {"redirect_uris": ["https://claude.ai/cb\udbff"]},
        {"redirect_uris": ["https://claude.ai/c b"]},
        {"redirect_uris": "https://claude.ai/cb"},
        {"redirect_uris": [None]},
        {"grant_types": [{}]},
        {"grant_types": "authorization_code"},
        {"response_types": [1]},
        {"token_endpoint_auth_method": ["none"]},
        {"token_endpoint_auth_method": None},
        {"scope": {"a": 1}},
    ],
    ids=repr,
)
def test_every_bad_field_is_a_400_invalid_client_metadata(metadata):
    metadata = {"redirect_uris": ["https://claude.ai/api/mcp/auth_callback"], **metadata}
    status, body = register(Client(), **metadata)
    assert status == 400, body
    assert body["error"] in ("invalid_client_metadata", "invalid_redirect_uri")
    assert body["error_description"]
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    "body",
    [b"[]", b"null", b'"x"', b"\xff\xfe", b"[" * 5000 + b"]" * 5000],
    ids=["array", "null", "string", "not-utf8", "deep"],
)
def test_a_body_that_is_not_an_object_is_a_400(body):
    response = Client().post("/o/register/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


def _registered() -> dict:
    status, body = register(Client(), ["https://claude.ai/api/mcp/auth_callback"])
    assert status == 201
    return body


def _update(registration: dict, remote_addr: str = "127.0.0.1", **metadata):
    body = {
        "client_name": "Claude",
        "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"],
        "token_endpoint_auth_method": "none",
        **metadata,
    }
    return Client(REMOTE_ADDR=remote_addr).put(
        f"/o/register/{registration['client_id']}/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {registration['registration_access_token']}",
    )


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"redirect_uris": ["http://evil.example.com/cb"]}, "invalid_redirect_uri"),
        ({"grant_types": ["client_credentials"]}, "invalid_client_metadata"),
        ({"grant_types": ["implicit"]}, "invalid_client_metadata"),
        ({"response_types": ["token"]}, "invalid_client_metadata"),
        ({"client_name": None}, "invalid_client_metadata"),
        ({"client_name": "\ud800"}, "invalid_client_metadata"),
    ],
    ids=[
        "http-remote",
        "client-credentials",
        "implicit",
        "token-response",
        "null-name",
        "surrogate-name",
    ],
)
def test_an_update_is_held_to_the_registration_policy(metadata, error):
    """RFC 7592 PUT is no way around the policy (the adversarial run got a code
    delivered to http://evil.example.com through it)."""
    registration = _registered()
    response = _update(registration, **metadata)
    assert response.status_code == 400
    assert response.json()["error"] == error
    application = Application.objects.get(client_id=registration["client_id"])
    assert application.redirect_uris == "https://claude.ai/api/mcp/auth_callback"
    assert application.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE


def test_an_update_within_the_policy_is_applied():
    registration = _registered()
    response = _update(registration, redirect_uris=["http://127.0.0.1:9000/cb"], client_name="CC")
    assert response.status_code == 200, response.content
    application = Application.objects.get(client_id=registration["client_id"])
    assert (application.redirect_uris, application.name) == ("http://127.0.0.1:9000/cb", "CC")


def test_management_is_rate_limited_like_registration(settings):
    settings.OAUTH_DCR_RATE_LIMIT = 3
    registration = _registered()  # from 127.0.0.1, the test client's default
    client = Client(REMOTE_ADDR="203.0.113.6")
    url = f"/o/register/{registration['client_id']}/"
    auth = f"Bearer {registration['registration_access_token']}"
    for _ in range(3):
        assert client.get(url, HTTP_AUTHORIZATION=auth).status_code == 200
    response = _update(registration, remote_addr="203.0.113.6")
    assert response.status_code == 429
    assert response["Retry-After"] == str(settings.OAUTH_DCR_RATE_WINDOW_SECONDS)


def test_registration_and_update_need_no_csrf_token():
    """API endpoints called without cookies: Django's CSRF check must not apply."""
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/o/register/",
        json.dumps(
            {"redirect_uris": ["https://claude.ai/cb"], "token_endpoint_auth_method": "none"}
        ),
        content_type="application/json",
    )
    assert response.status_code == 201
    registration = response.json()
    response = client.put(
        f"/o/register/{registration['client_id']}/",
        json.dumps(
            {"redirect_uris": ["https://claude.ai/cb"], "token_endpoint_auth_method": "none"}
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {registration['registration_access_token']}",
    )
    assert response.status_code == 200
