"""Discovery documents, and that no OAuth endpoint answers a POST with a redirect."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_authorization_server_metadata(settings):
    response = Client().get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    doc = response.json()
    origin = settings.MAESTRA_PUBLIC_URL
    assert doc["issuer"] == origin  # the bare origin, no path
    assert doc["authorization_endpoint"] == f"{origin}/o/authorize/"
    assert doc["token_endpoint"] == f"{origin}/o/token/"
    assert doc["registration_endpoint"] == f"{origin}/o/register/"
    assert doc["revocation_endpoint"] == f"{origin}/o/revoke_token/"
    assert doc["introspection_endpoint"] == f"{origin}/o/introspect/"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["response_types_supported"] == ["code"]
    assert doc["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert "none" in doc["token_endpoint_auth_methods_supported"]
    assert doc["scopes_supported"] == ["reports:read"]
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert doc["client_id_metadata_document_supported"] is True


def test_root_protected_resource_metadata(settings):
    doc = Client().get("/.well-known/oauth-protected-resource").json()
    assert doc["resource"] == settings.MAESTRA_PUBLIC_URL
    assert doc["authorization_servers"] == [settings.MAESTRA_PUBLIC_URL]
    assert doc["scopes_supported"] == ["reports:read"]
    assert doc["bearer_methods_supported"] == ["header"]


@pytest.mark.parametrize(
    "path",
    [
        "/o/token/",
        "/o/token",
        "/token",
        "/o/register/",
        "/o/register",
        "/register",
        "/o/revoke_token/",
        "/o/revoke_token",
        "/o/introspect/",
        "/o/introspect",
        "/o/authorize/",
        "/o/authorize",
        "/authorize",
    ],
)
def test_oauth_posts_are_answered_not_redirected(path, settings):
    settings.APPEND_SLASH = True
    response = Client().post(path, {}, secure=True)
    # Whatever the answer (400, 401, login redirect for the authorize page), it is
    # never a slash redirect that would make a client re-send its POST as a GET.
    if response.status_code in (301, 302, 307, 308):
        assert response["Location"].startswith(settings.LOGIN_URL), response["Location"]
    else:
        assert response.status_code in (400, 401, 403, 405), response.status_code


def test_origin_fallbacks_reach_the_same_endpoints(settings):
    status_register = Client().post("/register", "{}", content_type="application/json")
    assert status_register.status_code == 400  # DOT's answer to empty metadata, not 404
    assert Client().post("/token", {"grant_type": "authorization_code"}).status_code in (400, 401)


@pytest.mark.parametrize("path", ["mcp/%00", "mcp/acme%00", "%00"])
def test_an_account_document_for_a_path_with_nul_is_not_found(cast, path):
    response = Client().get(f"/.well-known/oauth-protected-resource/{path}")
    assert response.status_code == 404
