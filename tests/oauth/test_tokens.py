"""Token endpoint: PKCE, code reuse, binding, rotation with reuse detection, revocation."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request

from accounts.models import Membership
from accounts.services import account_set_mcp_enabled
from maestra_mcp.oauth.models import EXCHANGED_CODE_RETENTION, ExchangedCode
from maestra_mcp.oauth.services import oauth_exchanged_codes_clear
from permissions.services import mcp_access_revoke
from tests.support.clients import logged_in
from tests.support.oauth import (
    CLAUDE_CALLBACK,
    Pkce,
    authorize_query,
    connect,
    consent,
    redirect_params,
    register,
    token_request,
)

pytestmark = pytest.mark.django_db


def _valid_at(raw: str, url: str) -> bool:
    validator = oauth2_settings.OAUTH2_VALIDATOR_CLASS()
    return validator.validate_bearer_token(raw, ["reports:read"], Request(url))


def _stored(raw: str) -> AccessToken:
    return AccessToken.objects.get(token_checksum=hashlib.sha256(raw.encode()).hexdigest())


def _code(cast, username="analyst@acme.test", resource=None):
    _, registered = register(Client(), [CLAUDE_CALLBACK])
    pkce = Pkce.new()
    url = authorize_query(
        registered["client_id"], CLAUDE_CALLBACK, pkce, resource=resource or cast.acme.mcp_url
    )
    _, answer = consent(logged_in(username), url)
    return registered["client_id"], pkce, redirect_params(answer)["code"]


def _exchange(client_id, code, verifier, **extra):
    return token_request(
        Client(),
        grant_type="authorization_code",
        code=code,
        redirect_uri=CLAUDE_CALLBACK,
        client_id=client_id,
        code_verifier=verifier,
        **extra,
    )


def test_code_exchange_issues_a_bound_hashed_token(cast):
    connected = connect("analyst@acme.test", cast.acme.mcp_url)
    body = connected.body
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "reports:read"
    assert body["expires_in"] == 3600
    stored = _stored(connected.access_token)
    assert stored.resource == [cast.acme.mcp_url]
    assert stored.token == ""  # only the checksum is stored (RFC 9700 token storage)
    refresh = RefreshToken.objects.get(access_token=stored)
    assert refresh.token == "" and refresh.resource == [cast.acme.mcp_url]
    assert _valid_at(connected.access_token, cast.acme.mcp_url)


def test_token_response_is_not_cached(cast):
    client_id, pkce, code = _code(cast)
    response = Client().post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CLAUDE_CALLBACK,
            "client_id": client_id,
            "code_verifier": pkce.verifier,
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_token_for_acme_is_refused_at_globex_for_a_member_of_both(cast):
    cast.globex.mcp_enabled = True
    cast.globex.save()
    connected = connect("agency@partner.test", cast.acme.mcp_url)
    assert _valid_at(connected.access_token, cast.acme.mcp_url)
    assert not _valid_at(connected.access_token, cast.globex.mcp_url)


def test_wrong_verifier_is_refused(cast):
    client_id, _, code = _code(cast)
    status, body = _exchange(client_id, code, Pkce.new().verifier)
    assert status == 400
    assert body["error"] == "invalid_grant"
    assert not AccessToken.objects.filter(user__username="analyst@acme.test").exists()


def test_missing_verifier_is_refused(cast):
    client_id, _, code = _code(cast)
    status, body = token_request(
        Client(),
        grant_type="authorization_code",
        code=code,
        redirect_uri=CLAUDE_CALLBACK,
        client_id=client_id,
    )
    assert status == 400
    assert body["error"] in ("invalid_request", "invalid_grant")


def test_code_is_single_use(cast):
    client_id, pkce, code = _code(cast)
    assert _exchange(client_id, code, pkce.verifier)[0] == 200
    status, body = _exchange(client_id, code, pkce.verifier)
    assert status == 400
    assert body["error"] == "invalid_grant"
    assert not Grant.objects.filter(code=code).exists()


def test_code_of_another_client_is_refused(cast):
    _, pkce, code = _code(cast)
    other = register(Client(), [CLAUDE_CALLBACK])[1]["client_id"]
    assert _exchange(other, code, pkce.verifier)[1]["error"] == "invalid_grant"


def test_token_request_cannot_switch_account(cast):
    cast.globex.mcp_enabled = True
    cast.globex.save()
    client_id, pkce, code = _code(cast, "agency@partner.test")
    status, body = _exchange(client_id, code, pkce.verifier, resource=cast.globex.mcp_url)
    assert status == 400
    assert body["error"] == "invalid_target"
    status, body = _exchange(client_id, code, pkce.verifier, resource="https://evil.example/mcp")
    assert body["error"] == "invalid_target"


def test_server_origin_as_token_resource_inherits_the_consented_account(cast, settings):
    client_id, pkce, code = _code(cast)
    status, body = _exchange(client_id, code, pkce.verifier, resource=settings.MAESTRA_PUBLIC_URL)
    assert status == 200, body
    assert _stored(body["access_token"]).resource == [cast.acme.mcp_url]


def _refresh(connected, refresh_token=None):
    return token_request(
        Client(),
        grant_type="refresh_token",
        refresh_token=refresh_token or connected.refresh_token,
        client_id=connected.client_id,
    )


def test_refresh_rotates_and_keeps_the_binding(cast):
    connected = connect("analyst@acme.test", cast.acme.mcp_url)
    status, body = _refresh(connected)
    assert status == 200, body
    assert body["refresh_token"] != connected.refresh_token
    assert body["access_token"] != connected.access_token
    assert _valid_at(body["access_token"], cast.acme.mcp_url)
    assert not _valid_at(connected.access_token, cast.acme.mcp_url)  # the old one is gone
    assert _stored(body["access_token"]).resource == [cast.acme.mcp_url]


def test_refresh_token_reuse_after_grace_revokes_the_family(cast):
    connected = connect("analyst@acme.test", cast.acme.mcp_url)
    _, second = _refresh(connected)
    # the old refresh token, replayed after the grace period (e.g. by a thief)
    RefreshToken.objects.filter(revoked__isnull=False).update(
        revoked=timezone.now() - timedelta(minutes=5)
    )
    status, body = _refresh(connected)
    assert status == 400 and body["error"] == "invalid_grant"
    # the legitimate holder's current tokens died with the family
    assert not _valid_at(second["access_token"], cast.acme.mcp_url)
    assert _refresh(connected, second["refresh_token"])[0] == 400
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()


def test_refresh_retry_within_grace_gets_a_fresh_pair_with_hashed_storage(cast):
    connected = connect("analyst@acme.test", cast.acme.mcp_url)
    status, lost = _refresh(connected)  # the response the client never received
    assert status == 200
    status, retried = _refresh(connected)  # the retry inside the grace period
    assert status == 200, retried
    assert retried["access_token"] not in (lost["access_token"], "")
    assert retried["refresh_token"] not in (lost["refresh_token"], "")
    assert _valid_at(retried["access_token"], cast.acme.mcp_url)
    assert not _valid_at(lost["access_token"], cast.acme.mcp_url)
    assert _stored(retried["access_token"]).resource == [cast.acme.mcp_url]
    # the retried pair keeps working
    status, third = _refresh(connected, retried["refresh_token"])
    assert status == 200
    assert _valid_at(third["access_token"], cast.acme.mcp_url)
    # if the "lost" pair surfaces later, two branches exist: the family is revoked
    assert _refresh(connected, lost["refresh_token"])[0] == 400
    assert not _valid_at(third["access_token"], cast.acme.mcp_url)


def test_revoked_refresh_token_is_never_graced(cast):
    connected = connect("analyst@acme.test", cast.acme.mcp_url)
    response = Client().post(
        "/o/revoke_token/",
        {"token": connected.refresh_token, "client_id": connected.client_id},
    )
    assert response.status_code == 200
    assert _refresh(connected)[0] == 400
    assert not _valid_at(connected.access_token, cast.acme.mcp_url)


def test_revoking_the_access_token_ends_the_connection(cast):
    connected = connect("analyst@acme.test", cast.acme.mcp_url)
    response = Client().post(
        "/o/revoke_token/", {"token": connected.access_token, "client_id": connected.client_id}
    )
    assert response.status_code == 200
    assert not _valid_at(connected.access_token, cast.acme.mcp_url)
    assert _refresh(connected)[0] == 400


def test_expired_access_token_is_refused(cast):
    connected = connect("analyst@acme.test", cast.acme.mcp_url)
    AccessToken.objects.filter(pk=_stored(connected.access_token).pk).update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    assert not _valid_at(connected.access_token, cast.acme.mcp_url)


def test_introspection_reports_the_audience(cast):
    connected = connect("analyst@acme.test", cast.acme.mcp_url)
    resource_server = _machine_client("introspector")
    response = Client().post(
        "/o/introspect/",
        {"token": connected.access_token},
        HTTP_AUTHORIZATION=_basic(resource_server.client_id, "s3cret-s3cret"),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True
    assert body["aud"] == [cast.acme.mcp_url]
    assert body["scope"] == "reports:read"
    anonymous = Client().post("/o/introspect/", {"token": connected.access_token})
    assert anonymous.status_code in (401, 403)


def test_client_credentials_grant_is_refused_even_for_such_a_client(cast):
    app = _machine_client("m2m")
    response = Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "resource": cast.acme.mcp_url},
        HTTP_AUTHORIZATION=_basic(app.client_id, "s3cret-s3cret"),
    )
    assert response.status_code in (400, 401)
    assert not AccessToken.objects.filter(application=app).exists()


def _machine_client(name: str) -> Application:
    """A confidential client-credentials client with the secret ``s3cret-s3cret``."""
    return Application.objects.create(
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret="s3cret-s3cret",
    )


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    "grant_type",
    [
        "urn:ietf:params:oauth:grant-type:device_code",
        "password",
        "implicit",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "nonsense",
    ],
)
def test_other_grant_types_are_refused_before_dot(cast, grant_type):
    response = Client().post(
        "/o/token/", {"grant_type": grant_type, "device_code": "x", "client_id": "nobody"}
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize(
    ("data", "authorization", "error"),
    [
        ({"client_id": "\x00", "code": "x"}, None, "invalid_client"),
        ({"code": "x"}, "\x00:\x00", "invalid_client"),  # the client id in Basic credentials
        ({"client_id": "{client_id}", "code": "\x00"}, None, "invalid_grant"),
    ],
    ids=["client-id", "basic-client-id", "code"],
)
def test_nul_in_a_client_id_or_code_is_a_plain_oauth_error(cast, data, authorization, error):
    """Nothing PostgreSQL could hold (the lookup was a 500 under psycopg 3)."""
    client_id, pkce, _ = _code(cast)
    data = {k: v.replace("{client_id}", client_id) for k, v in data.items()}
    headers, issued = {}, AccessToken.objects.count()
    if authorization is not None:
        credentials = base64.b64encode(authorization.encode()).decode()
        headers["HTTP_AUTHORIZATION"] = f"Basic {credentials}"
    response = Client().post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "redirect_uri": CLAUDE_CALLBACK,
            "code_verifier": pkce.verifier,
            **data,
        },
        **headers,
    )
    assert response.status_code in (400, 401)
    assert response.json()["error"] == error
    assert AccessToken.objects.count() == issued


def test_revocation_with_nul_in_the_client_id_is_invalid_client(cast):
    response = Client().post("/o/revoke_token/", {"token": "x", "client_id": "\x00"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def _end_access(cast, how: str, username: str) -> None:
    user = cast.user(username)
    if how == "mcp_off":
        account_set_mcp_enabled(account=cast.acme, enabled=False)
    elif how == "access_revoked":
        mcp_access_revoke(account=cast.acme, user=user, acting_user=None)
    elif how == "membership_inactive":
        Membership.objects.filter(account=cast.acme, user=user).update(is_active=False)
    elif how == "user_inactive":
        type(user).objects.filter(pk=user.pk).update(is_active=False)


@pytest.mark.parametrize(
    "how", ["mcp_off", "access_revoked", "membership_inactive", "user_inactive"]
)
def test_refresh_is_refused_once_access_has_ended(cast, how):
    """The access policy is asked again: the connection does not silently come back
    when access is granted again (the adversarial run: 56/56 refreshes succeeded)."""
    connected = connect("analyst@acme.test", cast.acme.mcp_url)
    _end_access(cast, how, "analyst@acme.test")
    issued = AccessToken.objects.count()
    status, body = _refresh(connected)
    assert status == 400
    assert body["error"] == "invalid_grant"
    assert AccessToken.objects.count() == issued  # nothing new minted


def test_refresh_still_works_while_access_holds(cast):
    connected = connect("analyst@acme.test", cast.acme.mcp_url)
    account_set_mcp_enabled(account=cast.acme, enabled=True)
    assert _refresh(connected)[0] == 200


def _checksum(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def test_code_replay_revokes_the_tokens_it_issued(cast):
    """RFC 6749 §4.1.2: a code used twice leaked; everything issued from it goes,
    including the tokens refreshed since (the same family)."""
    client_id, pkce, code = _code(cast)
    status, first = _exchange(client_id, code, pkce.verifier)
    assert status == 200
    _, refreshed = token_request(
        Client(),
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
        client_id=client_id,
    )
    assert _valid_at(refreshed["access_token"], cast.acme.mcp_url)

    status, body = _exchange(client_id, code, pkce.verifier)
    assert (status, body["error"]) == (400, "invalid_grant")
    assert not _valid_at(first["access_token"], cast.acme.mcp_url)
    assert not _valid_at(refreshed["access_token"], cast.acme.mcp_url)
    assert not RefreshToken.objects.filter(
        application__client_id=client_id, revoked__isnull=True
    ).exists()
    _, after = token_request(
        Client(),
        grant_type="refresh_token",
        refresh_token=refreshed["refresh_token"],
        client_id=client_id,
    )
    assert after["error"] == "invalid_grant"


def test_code_replay_by_another_client_revokes_nothing(cast):
    """Only the client the code was issued to can trigger the revocation."""
    client_id, pkce, code = _code(cast)
    _, first = _exchange(client_id, code, pkce.verifier)
    other = register(Client(), [CLAUDE_CALLBACK])[1]["client_id"]
    assert _exchange(other, code, pkce.verifier)[1]["error"] == "invalid_grant"
    assert _valid_at(first["access_token"], cast.acme.mcp_url)


def test_exchanged_code_records_are_cleared_after_retention(cast):
    client_id, pkce, code = _code(cast)
    _exchange(client_id, code, pkce.verifier)
    assert ExchangedCode.objects.count() == 1
    ExchangedCode.objects.update(
        created_at=timezone.now() - EXCHANGED_CODE_RETENTION - timedelta(1)
    )
    assert oauth_exchanged_codes_clear() == 1
    assert not ExchangedCode.objects.exists()
