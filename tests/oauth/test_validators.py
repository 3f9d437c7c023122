"""The one bearer-token check: exact audience, scope, expiry — and the allow-list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, set_token_value
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request

from maestra_mcp.oauth.resources import account_for_resource, is_server_resource
from maestra_mcp.oauth.validators import MESSAGE_WRONG_AUDIENCE, MaestraOAuth2Validator

pytestmark = pytest.mark.django_db


def _token(user, *, resource, scope="reports:read", expires_in=3600, raw="raw-token-value"):
    application = Application.objects.create(
        name="Claude",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://claude.ai/api/mcp/auth_callback",
    )
    token = AccessToken(
        user=user,
        application=application,
        scope=scope,
        resource=resource,
        expires=timezone.now() + timedelta(seconds=expires_in),
    )
    set_token_value(token, raw)
    token.save()
    return token


def _check(raw, url, scopes=("reports:read",)):
    request = Request(url)
    ok = oauth2_settings.OAUTH2_VALIDATOR_CLASS().validate_bearer_token(raw, list(scopes), request)
    return ok, request


def test_the_configured_validator_is_ours():
    assert oauth2_settings.OAUTH2_VALIDATOR_CLASS is MaestraOAuth2Validator


def test_token_is_accepted_at_exactly_its_account(cast):
    user = cast.user("agency@partner.test")
    _token(user, resource=[cast.acme.mcp_url])
    ok, request = _check("raw-token-value", cast.acme.mcp_url)
    assert ok
    assert request.user == user


@pytest.mark.parametrize(
    "suffix", ["", "/", "/extra", "x"], ids=["other-account", "slash", "subpath", "prefix"]
)
def test_token_is_refused_anywhere_else(cast, suffix):
    _token(cast.user("agency@partner.test"), resource=[cast.acme.mcp_url])
    url = cast.globex.mcp_url if suffix == "" else cast.acme.mcp_url + suffix
    ok, request = _check("raw-token-value", url)
    assert not ok
    assert request.oauth2_error["error_description"] == MESSAGE_WRONG_AUDIENCE


def test_token_without_resource_is_refused(cast):
    # DOT treats a resource-less token as unrestricted; Maestra never accepts one.
    _token(cast.user("owner@acme.test"), resource=[])
    assert not _check("raw-token-value", cast.acme.mcp_url)[0]


def test_expired_token_and_missing_scope_are_refused(cast):
    _token(cast.user("owner@acme.test"), resource=[cast.acme.mcp_url], expires_in=-1)
    assert not _check("raw-token-value", cast.acme.mcp_url)[0]
    _token(cast.user("owner@acme.test"), resource=[cast.acme.mcp_url], scope="dcr", raw="other")
    assert not _check("other", cast.acme.mcp_url)[0]


def test_unknown_token_is_refused(cast):
    assert not _check("never-issued", cast.acme.mcp_url)[0]


def test_use_is_recorded_at_most_once_a_minute(cast):
    token = _token(cast.user("owner@acme.test"), resource=[cast.acme.mcp_url])
    old = timezone.now() - timedelta(minutes=5)
    AccessToken.objects.filter(pk=token.pk).update(updated=old)
    assert _check("raw-token-value", cast.acme.mcp_url)[0]
    first = AccessToken.objects.get(pk=token.pk).updated
    assert first > old
    with CaptureQueriesContext(connection) as queries:
        assert _check("raw-token-value", cast.acme.mcp_url)[0]
    assert AccessToken.objects.get(pk=token.pk).updated == first
    # Used within the minute: the check only reads, it issues no UPDATE at all.
    assert not [q for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]


def test_resource_allow_list(cast, settings):
    assert account_for_resource(cast.acme.mcp_url) == cast.acme
    assert account_for_resource(f"{settings.MAESTRA_PUBLIC_URL}/mcp/nope") is None
    assert account_for_resource(f"{settings.MAESTRA_PUBLIC_URL}/mcp/acme/") is None
    assert account_for_resource("https://evil.example/mcp/acme") is None
    cast.acme.offboarded_at = timezone.now()
    cast.acme.save()
    assert account_for_resource(cast.acme.mcp_url) is None
    assert is_server_resource(settings.MAESTRA_PUBLIC_URL)
    assert is_server_resource(settings.MAESTRA_PUBLIC_URL + "/")
    assert not is_server_resource(cast.acme.mcp_url)
