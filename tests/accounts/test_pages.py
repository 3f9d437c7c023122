"""The member MCP page and the Owner team page: who may see and change what.

The permission matrix covers every role of ``acme``, the members of ``globex``,
the agency user who belongs to both, CSM staff, other staff, the superuser, an
outsider and anonymous visitors.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.models import Account, Membership, Role
from permissions.brand_scope import brand_restriction_set
from permissions.demo import DEMO_PASSWORD
from permissions.models import BrandRestrictionChange, McpAccessChange
from permissions.policy import (
    MESSAGE_MCP_DISABLED,
    MESSAGE_NO_PERMISSION,
    Reason,
    mcp_access_decision,
)
from permissions.selectors import mcp_access_user_ids
from permissions.services import mcp_access_revoke, membership_create
from tests.support.time_zones import (
    LATE_EVENING_UTC,
    NEXT_MORNING_IN_TOKYO,
    TOKYO,
    set_time_zone,
)

ACME_MEMBERS = [
    "owner@acme.test",
    "administrator@acme.test",
    "analyst@acme.test",
    "marketer@acme.test",
    "editor@acme.test",
    "support@acme.test",
    "agency@partner.test",
]
ACME_NON_OWNERS = [u for u in ACME_MEMBERS if u != "owner@acme.test"]
CSM_STAFF = ["csm@maestra.test", "admin@maestra.test"]  # the superuser holds every permission
STRANGERS = [
    "owner@globex.test",  # the other account's Owner
    "marketer@globex.test",
    "staff@maestra.test",  # staff without the CSM permission
    "outsider@example.test",
]


def _client(username: str | None) -> Client:
    client = Client()
    if username is not None:
        assert client.login(username=username, password=DEMO_PASSWORD)
    return client


def _membership(cast, username: str, account: Account) -> Membership:
    return Membership.objects.get(user=cast.user(username), account=account)


def _toggle_url(account: Account, membership: Membership) -> str:
    return reverse("accounts:team_mcp_access", args=[account.system_name, membership.pk])


# --- MCP settings page -----------------------------------------------------
@pytest.mark.parametrize("username", ACME_MEMBERS + CSM_STAFF)
def test_mcp_page_opens_for_members_and_csm_staff(cast, username):
    response = _client(username).get("/accounts/acme/mcp/")
    assert response.status_code == 200
    assert cast.acme.mcp_url in response.content.decode()


@pytest.mark.parametrize("username", STRANGERS)
def test_mcp_page_is_404_for_everyone_else(cast, username):
    response = _client(username).get("/accounts/acme/mcp/")
    assert response.status_code == 404
    assert cast.acme.mcp_url not in response.content.decode()


def test_not_yours_unknown_and_offboarded_accounts_look_the_same(cast):
    cast.globex.offboarded_at = timezone.now()
    cast.globex.save()
    client = _client("agency@partner.test")  # a member of both, globex now offboarded
    outsider = _client("outsider@example.test")
    responses = [
        client.get("/accounts/globex/mcp/"),
        client.get("/accounts/no-such-account/mcp/"),
        outsider.get("/accounts/acme/mcp/"),
    ]
    assert [r.status_code for r in responses] == [404, 404, 404]
    # Identical apart from the header (username, CSRF token of the log-out form).
    bodies = {r.content.decode().split("<main>")[1] for r in responses}
    assert len(bodies) == 1


def test_deactivated_membership_gets_404(cast):
    Membership.objects.filter(user=cast.user("analyst@acme.test")).update(is_active=False)
    assert _client("analyst@acme.test").get("/accounts/acme/mcp/").status_code == 404


@pytest.mark.parametrize("url", ["/accounts/acme/mcp/", "/accounts/acme/team/", "/"])
def test_anonymous_is_sent_to_log_in(cast, url):
    response = _client(None).get(url)
    assert response.status_code == 302
    assert response.url == f"/login/?next={url}"


def test_mcp_page_shows_the_url_instructions_and_privacy(cast, settings):
    settings.MCP_SESSION_LOG_RETENTION_DAYS = 17
    page = _client("analyst@acme.test").get("/accounts/acme/mcp/").content.decode()
    url = "http://127.0.0.1:8000/mcp/acme"
    assert f'data-copy="{url}"' in page
    # The server name is the account's own: a member of two accounts adds both.
    assert f"claude mcp add --transport http maestra-acme {url}" in page
    assert "Customize → Connectors → + → Add custom connector" in page
    assert "Only your Claude organization Owner can add connectors" in page
    assert "(request parameters and results)" in page
    assert "means 17 days" in page
    assert "Granted" in page


def test_mcp_page_relays_the_policy_when_access_is_missing(cast):
    editor = _client("editor@acme.test")  # Content editor: no MCP Access by default
    assert escape(MESSAGE_NO_PERMISSION) in editor.get("/accounts/acme/mcp/").content.decode()

    globex = _client("marketer@globex.test")  # globex has MCP off
    page = globex.get("/accounts/globex/mcp/").content.decode()
    assert escape(MESSAGE_MCP_DISABLED) in page
    assert escape(MESSAGE_NO_PERMISSION) not in page


def test_home_links_each_account_and_owners_to_their_team_page(cast):
    page = _client("owner@acme.test").get("/").content.decode()
    assert 'href="/accounts/acme/mcp/"' in page and 'href="/accounts/acme/team/"' in page

    page = _client("agency@partner.test").get("/").content.decode()
    assert 'href="/accounts/acme/mcp/"' in page and 'href="/accounts/globex/mcp/"' in page
    assert "/team/" not in page


# --- Team page ---------------------------------------------------------------
@pytest.mark.parametrize("username", ["owner@acme.test", *CSM_STAFF])
def test_team_page_opens_for_owners_and_csm_staff(cast, username):
    response = _client(username).get("/accounts/acme/team/")
    assert response.status_code == 200
    page = response.content.decode()
    for member in ACME_MEMBERS:
        assert f'data-member="{member}"' in page
    assert "owner@globex.test" not in page


@pytest.mark.parametrize("username", ACME_NON_OWNERS)
def test_team_page_is_403_for_other_roles(cast, username):
    assert _client(username).get("/accounts/acme/team/").status_code == 403


@pytest.mark.parametrize("username", STRANGERS)
def test_team_page_is_404_for_everyone_else(cast, username):
    assert _client(username).get("/accounts/acme/team/").status_code == 404


def test_team_page_shows_who_holds_mcp_access(cast):
    page = _client("owner@acme.test").get("/accounts/acme/team/").content.decode()
    holders = {
        u.username
        for u in get_user_model().objects.filter(pk__in=mcp_access_user_ids(account=cast.acme))
    }
    assert holders == {
        "owner@acme.test",
        "analyst@acme.test",
        "marketer@acme.test",
        "agency@partner.test",
    }
    for username in ACME_MEMBERS:
        row = page.split(f'data-member="{username}"')[1].split("</tr>")[0]
        expected = "Revoke access" if username in holders else "Grant access"
        assert expected in row, username


def test_team_page_query_count_does_not_grow_with_the_team(cast, django_assert_num_queries):
    client = _client("owner@acme.test")
    client.get("/accounts/acme/team/")  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as before:
        client.get("/accounts/acme/team/")
    for n in range(5):
        user = get_user_model().objects.create_user(f"new{n}@acme.test", password="x")
        membership_create(account=cast.acme, user=user, role=Role.ANALYST)
    with django_assert_num_queries(len(before.captured_queries)):
        client.get("/accounts/acme/team/")


# --- Changing MCP Access -----------------------------------------------------
@pytest.mark.parametrize("username", ["owner@acme.test", "csm@maestra.test"])
def test_owner_and_csm_revoke_and_grant_with_an_audit_entry(cast, username):
    analyst = cast.user("analyst@acme.test")
    url = _toggle_url(cast.acme, _membership(cast, "analyst@acme.test", cast.acme))
    client = _client(username)

    response = client.post(url, {"granted": "0"})
    assert response.status_code == 302 and response.url == "/accounts/acme/team/"
    change = McpAccessChange.objects.for_account(cast.acme).filter(user=analyst).first()
    assert (change.granted, change.source, change.acting_user.username) == (
        False,
        McpAccessChange.Source.MANUAL,
        username,
    )
    # The policy reads fresh: the very next MCP request is refused.
    assert mcp_access_decision(user=analyst, account=cast.acme).reason is Reason.NO_PERMISSION
    assert "MCP Access revoked for analyst@acme.test" in client.get(response.url).content.decode()

    client.post(url, {"granted": "1"})
    assert mcp_access_decision(user=analyst, account=cast.acme).allowed
    latest = McpAccessChange.objects.for_account(cast.acme).filter(user=analyst).first()
    assert (latest.granted, latest.acting_user.username) == (True, username)
    page = client.get("/accounts/acme/team/").content.decode()
    assert f"by {username}" in page.split('id="changes"')[1]


@pytest.mark.parametrize("username", ACME_NON_OWNERS)
def test_other_roles_cannot_change_access(cast, username):
    target = _membership(cast, "marketer@acme.test", cast.acme)
    before = McpAccessChange.objects.unscoped().count()
    response = _client(username).post(_toggle_url(cast.acme, target), {"granted": "0"})
    assert response.status_code == 403
    assert McpAccessChange.objects.unscoped().count() == before
    assert mcp_access_decision(user=target.user, account=cast.acme).allowed


@pytest.mark.parametrize("username", STRANGERS)
def test_strangers_cannot_change_access(cast, username):
    target = _membership(cast, "marketer@acme.test", cast.acme)
    before = McpAccessChange.objects.unscoped().count()
    response = _client(username).post(_toggle_url(cast.acme, target), {"granted": "0"})
    assert response.status_code == 404
    assert McpAccessChange.objects.unscoped().count() == before


def test_anonymous_cannot_change_access(cast):
    target = _membership(cast, "marketer@acme.test", cast.acme)
    response = _client(None).post(_toggle_url(cast.acme, target), {"granted": "0"})
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert mcp_access_decision(user=target.user, account=cast.acme).allowed


def test_an_owner_cannot_reach_another_accounts_member_through_their_own_account(cast):
    # globex's Owner names an acme membership under globex's URL: not found, nothing changes.
    acme_member = _membership(cast, "marketer@acme.test", cast.acme)
    before = McpAccessChange.objects.unscoped().count()
    response = _client("owner@globex.test").post(
        _toggle_url(cast.globex, acme_member), {"granted": "0"}
    )
    assert response.status_code == 404
    assert McpAccessChange.objects.unscoped().count() == before
    assert mcp_access_decision(user=acme_member.user, account=cast.acme).allowed


def test_the_agency_members_access_is_per_account(cast):
    agency = cast.user("agency@partner.test")
    cast.globex.mcp_enabled = True
    cast.globex.save()
    _client("owner@acme.test").post(
        _toggle_url(cast.acme, _membership(cast, "agency@partner.test", cast.acme)),
        {"granted": "0"},
    )
    assert not mcp_access_decision(user=agency, account=cast.acme)
    assert mcp_access_decision(user=agency, account=cast.globex).allowed


def test_changes_need_a_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    client.login(username="owner@acme.test", password=DEMO_PASSWORD)
    target = _membership(cast, "analyst@acme.test", cast.acme)
    response = client.post(_toggle_url(cast.acme, target), {"granted": "0"})
    assert response.status_code == 403
    assert mcp_access_decision(user=target.user, account=cast.acme).allowed


def test_changes_are_post_only(cast):
    target = _membership(cast, "analyst@acme.test", cast.acme)
    client = _client("owner@acme.test")
    assert client.get(_toggle_url(cast.acme, target) + "?granted=0").status_code == 405
    assert mcp_access_decision(user=target.user, account=cast.acme).allowed


@pytest.mark.parametrize("data", [{}, {"granted": "yes"}, {"granted": ""}])
def test_bad_input_is_refused_and_changes_nothing(cast, data):
    target = _membership(cast, "analyst@acme.test", cast.acme)
    before = McpAccessChange.objects.unscoped().count()
    assert _client("owner@acme.test").post(_toggle_url(cast.acme, target), data).status_code == 400
    assert McpAccessChange.objects.unscoped().count() == before


def test_unknown_membership_is_404(cast):
    response = _client("owner@acme.test").post(
        "/accounts/acme/team/999999/mcp-access/", {"granted": "0"}
    )
    assert response.status_code == 404


def test_setting_the_current_value_again_writes_no_audit_entry(cast):
    target = _membership(cast, "analyst@acme.test", cast.acme)
    before = McpAccessChange.objects.unscoped().count()
    response = _client("owner@acme.test").post(_toggle_url(cast.acme, target), {"granted": "1"})
    assert response.status_code == 302
    assert McpAccessChange.objects.unscoped().count() == before


# --- Last-Owner guard ----------------------------------------------------------
def test_revoking_the_last_owners_access_asks_for_confirmation(cast):
    owner = cast.user("owner@acme.test")
    url = _toggle_url(cast.acme, _membership(cast, "owner@acme.test", cast.acme))
    client = _client("owner@acme.test")
    before = McpAccessChange.objects.unscoped().count()

    response = client.post(url, {"granted": "0"})
    assert response.status_code == 200
    assert "Revoke the last Owner's MCP Access?" in response.content.decode()
    assert McpAccessChange.objects.unscoped().count() == before
    assert mcp_access_decision(user=owner, account=cast.acme).allowed

    response = client.post(url, {"granted": "0", "confirm": "on"})
    assert response.status_code == 302
    assert mcp_access_decision(user=owner, account=cast.acme).reason is Reason.NO_PERMISSION
    assert (
        McpAccessChange.objects.for_account(cast.acme)
        .filter(user=owner, granted=False, acting_user=owner)
        .exists()
    )


def test_a_csm_also_gets_the_confirmation(cast):
    url = _toggle_url(cast.acme, _membership(cast, "owner@acme.test", cast.acme))
    response = _client("csm@maestra.test").post(url, {"granted": "0"})
    assert response.status_code == 200
    assert mcp_access_decision(user=cast.user("owner@acme.test"), account=cast.acme).allowed


def test_no_confirmation_while_another_owner_keeps_access(cast):
    second = get_user_model().objects.create_user("owner2@acme.test", password="x")
    membership_create(account=cast.acme, user=second, role=Role.OWNER)
    url = _toggle_url(cast.acme, _membership(cast, "owner@acme.test", cast.acme))
    response = _client("owner@acme.test").post(url, {"granted": "0"})
    assert response.status_code == 302
    assert not mcp_access_decision(user=cast.user("owner@acme.test"), account=cast.acme)


def test_a_deactivated_second_owner_does_not_count(cast):
    second = get_user_model().objects.create_user("owner2@acme.test", password="x")
    membership_create(account=cast.acme, user=second, role=Role.OWNER, is_active=False)
    url = _toggle_url(cast.acme, _membership(cast, "owner@acme.test", cast.acme))
    assert _client("owner@acme.test").post(url, {"granted": "0"}).status_code == 200


def test_team_page_shows_each_members_last_assistant_request(cast):
    from maestra_mcp.session_logs.models import McpSessionLog
    from maestra_mcp.session_logs.services import session_log_record

    set_time_zone(cast.acme, TOKYO)
    analyst = cast.user("analyst@acme.test")
    for moment in (LATE_EVENING_UTC - timedelta(days=3), LATE_EVENING_UTC):  # the later one wins
        row = session_log_record(account=cast.acme, user=analyst, status="success")
        McpSessionLog.objects.unscoped().filter(pk=row.pk).update(created_at=moment)
    # The same member's request to globex is not acme's business.
    session_log_record(account=cast.globex, user=cast.user("agency@partner.test"), status="success")

    page = _client("owner@acme.test").get("/accounts/acme/team/").content.decode()

    def cell(username):
        row = page.split(f'data-member="{username}"')[1].split("</tr>")[0]
        return row.split('class="last-request">')[1].split("</td>")[0]

    assert cell("analyst@acme.test") == NEXT_MORNING_IN_TOKYO
    assert f"<th>Last assistant request ({TOKYO})</th>" in page
    assert "Never" in cell("agency@partner.test")


def test_team_page_shows_recent_changes_in_the_accounts_time_zone(cast):
    set_time_zone(cast.acme, TOKYO)
    owner, analyst = cast.user("owner@acme.test"), cast.user("analyst@acme.test")
    mcp_access_revoke(account=cast.acme, user=analyst, acting_user=owner)
    brand_restriction_set(account=cast.acme, user=analyst, brands=[], acting_user=owner)
    McpAccessChange.objects.for_account(cast.acme).filter(user=analyst, granted=False).update(
        created_at=LATE_EVENING_UTC
    )
    BrandRestrictionChange.objects.for_account(cast.acme).update(created_at=LATE_EVENING_UTC)

    page = _client("owner@acme.test").get("/accounts/acme/team/").content.decode()

    changes = page.split('id="changes"')[1]
    assert changes.count(f"{NEXT_MORNING_IN_TOKYO} {TOKYO}") == 2  # MCP Access and brands
