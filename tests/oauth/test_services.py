"""Revocation services, the connections selector and stale-client cleanup."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken

from maestra_mcp.oauth.selectors import oauth_connections
from maestra_mcp.oauth.services import (
    oauth_revoke_account_tokens,
    oauth_revoke_connection,
    oauth_stale_clients_remove,
)
from maestra_mcp.oauth.tasks import oauth_clear_expired_tokens, oauth_remove_stale_clients
from tests.support.oauth import CLAUDE_CALLBACK, connect, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def both_on(cast):
    cast.globex.mcp_enabled = True
    cast.globex.save()
    return cast


def test_connections_per_account_and_member(both_on):
    cast = both_on
    a = connect("analyst@acme.test", cast.acme.mcp_url)
    b = connect("agency@partner.test", cast.acme.mcp_url)
    g = connect("agency@partner.test", cast.globex.mcp_url)
    analyst = cast.user("analyst@acme.test")
    agency = cast.user("agency@partner.test")

    mine = oauth_connections(account=cast.acme, user=analyst)
    assert [(c.username, c.client_name, c.client.verified) for c in mine] == [
        ("analyst@acme.test", "Claude", True)  # registered with Claude's own callback
    ]
    assert mine[0].created <= mine[0].last_used
    owners_view = oauth_connections(account=cast.acme)
    assert {(c.username, c.application_id) for c in owners_view} == {
        ("analyst@acme.test", Application.objects.get(client_id=a.client_id).pk),
        ("agency@partner.test", Application.objects.get(client_id=b.client_id).pk),
    }
    globex = oauth_connections(account=cast.globex, user=agency)
    assert [c.application_id for c in globex] == [Application.objects.get(client_id=g.client_id).pk]


def test_revoke_connection_ends_only_that_connection(both_on):
    cast = both_on
    acme = connect("agency@partner.test", cast.acme.mcp_url)
    globex = connect("agency@partner.test", cast.globex.mcp_url)
    agency = cast.user("agency@partner.test")
    app = Application.objects.get(client_id=acme.client_id)

    revoked = oauth_revoke_connection(
        account=cast.acme, user=agency, application_id=app.pk, acting_user=agency
    )
    assert revoked == 2  # its access token and its refresh token
    assert oauth_connections(account=cast.acme, user=agency) == []
    assert len(oauth_connections(account=cast.globex, user=agency)) == 1
    refreshed = Client().post(
        "/o/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": acme.refresh_token,
            "client_id": acme.client_id,
        },
    )
    assert refreshed.status_code == 400
    entry = LogEntry.objects.get(object_id=str(cast.acme.pk))
    assert "Claude" in entry.change_message and "agency@partner.test" in entry.change_message
    assert globex.access_token  # untouched, checked through the selector above


def test_revoke_account_tokens_counts_and_spares_other_accounts(both_on):
    cast = both_on
    connect("analyst@acme.test", cast.acme.mcp_url)
    connect("agency@partner.test", cast.globex.mcp_url)
    assert oauth_revoke_account_tokens(account=cast.acme) == 2
    assert oauth_connections(account=cast.acme) == []
    assert len(oauth_connections(account=cast.globex)) == 1
    assert oauth_revoke_account_tokens(account=cast.acme) == 0  # idempotent


def _age(application: Application, days: int) -> None:
    then = timezone.now() - timedelta(days=days)
    Application.objects.filter(pk=application.pk).update(created=then)
    AccessToken.objects.filter(application=application).update(created=then, updated=then)
    RefreshToken.objects.filter(application=application).update(created=then, updated=then)
    Grant.objects.filter(application=application).update(created=then)


def test_stale_clients_are_removed_and_connected_ones_kept(cast, settings):
    never_used = Application.objects.get(
        client_id=register(Client(), [CLAUDE_CALLBACK])[1]["client_id"]
    )
    recent = Application.objects.get(
        client_id=register(Client(), [CLAUDE_CALLBACK])[1]["client_id"]
    )
    connected = connect("analyst@acme.test", cast.acme.mcp_url)
    live = Application.objects.get(client_id=connected.client_id)
    ended = Application.objects.get(
        client_id=connect("owner@acme.test", cast.acme.mcp_url).client_id
    )
    manual = Application.objects.create(
        name="manual",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=CLAUDE_CALLBACK,
    )
    for app in (never_used, live, ended, manual):
        _age(app, 40)
    # "live" still holds a usable refresh token; "ended" was revoked long ago
    RefreshToken.objects.filter(application=ended).update(
        revoked=timezone.now() - timedelta(days=40)
    )
    AccessToken.objects.filter(application=ended).delete()
    # its access token expired 10 days ago: the refresh token lives 30 days beyond that
    AccessToken.objects.filter(application=live).update(expires=timezone.now() - timedelta(days=10))

    settings.OAUTH_STALE_CLIENT_DAYS = 30
    assert oauth_remove_stale_clients.apply().get() == 2
    remaining = set(Application.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, live.pk, manual.pk}
    assert oauth_stale_clients_remove(older_than_days=30) == 0


def test_clear_expired_tokens_task_runs(cast):
    connected = connect("analyst@acme.test", cast.acme.mcp_url)
    AccessToken.objects.update(expires=timezone.now() - timedelta(days=400))
    RefreshToken.objects.update(revoked=timezone.now() - timedelta(days=400))
    oauth_clear_expired_tokens.apply().get()
    assert not AccessToken.objects.filter(scope="reports:read").exists()
    assert connected.client_id  # the client itself stays; stale-client cleanup removes it
