"""The Owners' page of every assistant connected to their account."""

from __future__ import annotations

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken, Application, RefreshToken

from maestra_mcp.oauth.selectors import oauth_connections
from tests.support.clients import logged_in
from tests.support.oauth import connect
from tests.support.time_zones import LATE_EVENING_UTC, NEXT_MORNING_IN_TOKYO, TOKYO, set_time_zone

pytestmark = pytest.mark.django_db


@pytest.fixture
def connected(cast):
    cast.globex.mcp_enabled = True
    cast.globex.save()
    return {
        "analyst": connect("analyst@acme.test", cast.acme.mcp_url),
        "agency-acme": connect("agency@partner.test", cast.acme.mcp_url),
        "agency-globex": connect("agency@partner.test", cast.globex.mcp_url),
    }


def _revoke_url(cast, username, connected_client) -> str:
    app = Application.objects.get(client_id=connected_client.client_id)
    return f"/accounts/acme/connections/{cast.user(username).pk}/{app.pk}/revoke/"


def test_owner_sees_every_members_connection_of_their_account_only(cast, connected):
    page = logged_in("owner@acme.test").get("/accounts/acme/connections/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-member="analyst@acme.test"' in html
    assert 'data-member="agency@partner.test"' in html
    assert html.count("<tr data-member=") == 2  # the agency's globex connection is not here
    # Both registered Claude's own callback: recognised, not flagged.
    assert "✓ Verified" in html and "Unverified" not in html


@pytest.mark.parametrize(
    ("username", "status"),
    [("analyst@acme.test", 403), ("owner@globex.test", 404), ("outsider@example.test", 404)],
)
def test_others_are_refused(cast, connected, username, status):
    assert logged_in(username).get("/accounts/acme/connections/").status_code == status
    url = _revoke_url(cast, "analyst@acme.test", connected["analyst"])
    assert logged_in(username).post(url).status_code == status
    assert len(oauth_connections(account=cast.acme)) == 2


def test_anonymous_is_sent_to_log_in(cast):
    response = Client().get("/accounts/acme/connections/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_owner_disconnects_one_members_assistant(cast, connected):
    owner = logged_in("owner@acme.test")
    response = owner.post(_revoke_url(cast, "agency@partner.test", connected["agency-acme"]))
    assert response.status_code == 302
    remaining = oauth_connections(account=cast.acme)
    assert [c.username for c in remaining] == ["analyst@acme.test"]
    assert len(oauth_connections(account=cast.globex)) == 1  # other account untouched
    again = owner.post(
        _revoke_url(cast, "agency@partner.test", connected["agency-acme"]), follow=True
    )
    assert "no longer connected" in again.content.decode()


def test_revoke_needs_post_and_a_member_of_the_account(cast, connected):
    owner = logged_in("owner@acme.test")
    url = _revoke_url(cast, "analyst@acme.test", connected["analyst"])
    assert owner.get(url).status_code == 405
    outsider_url = f"/accounts/acme/connections/{cast.user('owner@globex.test').pk}/1/revoke/"
    assert owner.post(outsider_url).status_code == 404


def test_times_are_in_the_accounts_time_zone(cast, connected):
    set_time_zone(cast.acme, TOKYO)
    analyst = cast.user("analyst@acme.test")
    for model in (AccessToken, RefreshToken):
        model.objects.filter(user=analyst).update(
            created=LATE_EVENING_UTC, updated=LATE_EVENING_UTC
        )
    html = logged_in("owner@acme.test").get("/accounts/acme/connections/").content.decode()
    assert f"<th>Connected ({TOKYO})</th><th>Last used ({TOKYO})</th>" in html
    row = html.split('data-member="analyst@acme.test"')[1].split("</tr>")[0]
    assert row.count(f">{NEXT_MORNING_IN_TOKYO}</td>") == 2
