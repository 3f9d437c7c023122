"""/api/v1/accounts/<system_name>/mcp and .../members: the flag, MCP Access and brands."""

from __future__ import annotations

import json

import pytest
from django.contrib.admin.models import LogEntry

from accounts.models import Account
from permissions.models import BrandRestrictionChange, McpAccessChange
from permissions.selectors import mcp_access_user_ids
from tests.api.conftest import csrf_headers, membership_id

pytestmark = pytest.mark.django_db

MCP = "/api/v1/accounts/{}/mcp"
MEMBERS = "/api/v1/accounts/{}/members"


def patch(client, url: str, body: dict, csrf: bool = True):
    headers = csrf_headers(client) if csrf else {}
    return client.patch(url, json.dumps(body), content_type="application/json", **headers)


def put(client, url: str, body: dict):
    return client.put(
        url, json.dumps(body), content_type="application/json", **csrf_headers(client)
    )


@pytest.mark.parametrize(
    "username", ["owner@acme.test", "analyst@acme.test", "agency@partner.test", "csm@maestra.test"]
)
def test_members_and_csms_read_the_flag(api, cast, username):
    response = api(username).get(MCP.format("acme"))
    assert response.status_code == 200
    assert response.json() == {
        "system_name": "acme",
        "name": cast.acme.name,
        "mcp_enabled": True,
        "mcp_url": cast.acme.mcp_url,
    }


@pytest.mark.parametrize(
    ("username", "system_name"),
    [
        ("outsider@example.test", "acme"),  # not a member
        ("owner@globex.test", "acme"),  # another account's Owner
        ("staff@maestra.test", "acme"),  # staff without the CSM permission
        ("owner@acme.test", "nope"),  # no such account
    ],
)
def test_not_yours_and_unknown_accounts_are_404(api, username, system_name):
    assert api(username).get(MCP.format(system_name)).status_code == 404
    assert api(username).get(MEMBERS.format(system_name)).status_code == 404


def test_an_offboarded_account_is_404_even_to_its_owner(api, cast):
    from django.utils import timezone

    Account.objects.filter(pk=cast.acme.pk).update(offboarded_at=timezone.now())
    assert api("owner@acme.test").get(MCP.format("acme")).status_code == 404


def test_anonymous_is_refused(api):
    response = api(None).get(MCP.format("acme"))
    assert response.status_code == 403
    assert "credentials were not provided" in response.json()["detail"]


def test_a_csm_switches_the_flag_with_the_admin_log_entry(api, cast):
    client = api("csm@maestra.test")
    response = patch(client, MCP.format("globex"), {"mcp_enabled": True})
    assert response.status_code == 200, response.content
    assert response.json()["mcp_enabled"] is True
    assert Account.objects.get(pk=cast.globex.pk).mcp_enabled
    entry = LogEntry.objects.get(object_id=str(cast.globex.pk))
    assert (entry.user.username, entry.change_message) == (
        "csm@maestra.test",
        "MCP feature enabled.",
    )
    # The same state again changes and logs nothing.
    assert patch(client, MCP.format("globex"), {"mcp_enabled": True}).status_code == 200
    assert LogEntry.objects.filter(object_id=str(cast.globex.pk)).count() == 1


@pytest.mark.parametrize("username", ["owner@acme.test", "administrator@acme.test"])
def test_members_even_owners_cannot_switch_the_flag(api, cast, username):
    response = patch(api(username), MCP.format("acme"), {"mcp_enabled": False})
    assert response.status_code == 403
    assert "Customer Success Managers" in response.json()["detail"]
    assert Account.objects.get(pk=cast.acme.pk).mcp_enabled


def test_writes_need_the_csrf_token(api, cast):
    response = patch(
        api("csm@maestra.test"), MCP.format("globex"), {"mcp_enabled": True}, csrf=False
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Account.objects.get(pk=cast.globex.pk).mcp_enabled


def test_a_bad_body_is_400(api):
    response = patch(api("csm@maestra.test"), MCP.format("globex"), {"mcp_enabled": "maybe"})
    assert response.status_code == 400
    assert "mcp_enabled" in response.json()


@pytest.mark.parametrize("username", ["owner@acme.test", "csm@maestra.test"])
def test_owners_and_csms_list_the_team(api, cast, username, brands):
    response = api(username).get(MEMBERS.format("acme"))
    assert response.status_code == 200
    members = {m["username"]: m for m in response.json()}
    assert set(members) == {
        "owner@acme.test",
        "administrator@acme.test",
        "analyst@acme.test",
        "marketer@acme.test",
        "editor@acme.test",
        "support@acme.test",
        "agency@partner.test",
    }
    owner = members["owner@acme.test"]
    assert (owner["role"], owner["is_active"], owner["brands"]) == ("owner", True, None)
    holders = mcp_access_user_ids(account=cast.acme)
    assert {name for name, m in members.items() if m["mcp_access"]} == {
        cast.user(name).username for name in members if cast.user(name).pk in holders
    }


@pytest.mark.parametrize("username", ["analyst@acme.test", "marketer@acme.test"])
def test_other_members_may_not_see_the_team(api, username):
    response = api(username).get(MEMBERS.format("acme"))
    assert response.status_code == 403
    assert "Only the account's Owners" in response.json()["detail"]


def test_an_owner_revokes_and_grants_mcp_access_audited(api, cast):
    client = api("owner@acme.test")
    url = f"{MEMBERS.format('acme')}/{membership_id(cast, 'analyst@acme.test')}/mcp-access"
    analyst = cast.user("analyst@acme.test")
    response = put(client, url, {"granted": False})
    assert response.status_code == 200, response.content
    assert response.json()["mcp_access"] is False
    assert analyst.pk not in mcp_access_user_ids(account=cast.acme)
    change = McpAccessChange.objects.for_account(cast.acme).filter(user=analyst).first()
    assert (change.granted, change.acting_user.username) == (False, "owner@acme.test")
    assert put(client, url, {"granted": True}).json()["mcp_access"] is True


def test_revoking_the_last_owner_needs_confirm(api, cast):
    client = api("csm@maestra.test")
    url = f"{MEMBERS.format('acme')}/{membership_id(cast, 'owner@acme.test')}/mcp-access"
    response = put(client, url, {"granted": False})
    assert response.status_code == 409
    assert "confirm=true" in response.json()["detail"]
    assert put(client, url, {"granted": False, "confirm": True}).json()["mcp_access"] is False


def test_a_member_of_another_account_is_404(api, cast):
    # globex's marketer through acme's URL: the membership is not acme's.
    url = f"{MEMBERS.format('acme')}/{membership_id(cast, 'marketer@globex.test', cast.globex)}"
    assert put(api("owner@acme.test"), f"{url}/mcp-access", {"granted": False}).status_code == 404
    assert put(api("owner@acme.test"), f"{url}/brands", {"brands": []}).status_code == 404


def test_an_owner_limits_a_members_brands_audited(api, cast, brands):
    client = api("owner@acme.test")
    url = f"{MEMBERS.format('acme')}/{membership_id(cast, 'marketer@acme.test')}/brands"
    sport = brands["Acme Sport"]
    response = put(client, url, {"brands": [sport.pk]})
    assert response.status_code == 200, response.content
    assert response.json()["brands"] == [sport.pk]
    change = BrandRestrictionChange.objects.for_account(cast.acme).get()
    assert (change.brand_names, change.acting_user.username) == (["Acme Sport"], "owner@acme.test")
    assert put(client, url, {"brands": []}).json()["brands"] is None


def test_another_accounts_brand_is_refused(api, cast, brands):
    from reporting.models import Brand

    foreign = Brand.objects.for_account(cast.globex).get()
    url = f"{MEMBERS.format('acme')}/{membership_id(cast, 'marketer@acme.test')}/brands"
    response = put(api("owner@acme.test"), url, {"brands": [foreign.pk]})
    assert response.status_code == 400
    assert not BrandRestrictionChange.objects.for_account(cast.acme).exists()


def test_members_may_not_change_access_or_brands(api, cast):
    url = f"{MEMBERS.format('acme')}/{membership_id(cast, 'analyst@acme.test')}"
    client = api("marketer@acme.test")
    assert put(client, f"{url}/mcp-access", {"granted": False}).status_code == 403
    assert put(client, f"{url}/brands", {"brands": []}).status_code == 403
    assert put(api("outsider@example.test"), f"{url}/brands", {"brands": []}).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "acme/members/abc/brands",  # a membership id that is no number
        "acme/members/1/nope",
        "acme.corp/mcp",  # no slug: no account
        "acme/mcp/",
    ],
)
def test_other_urls_under_accounts_are_the_json_404(api, path):
    # They were the site's HTML 404 page, which an API client cannot read.
    response = api("owner@acme.test").get(f"/api/v1/accounts/{path}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == api("owner@acme.test").get("/api/v1/accounts/nope/mcp").json()
    write = api("owner@acme.test").put(f"/api/v1/accounts/{path}")  # no CSRF token
    assert (write.status_code, write["Content-Type"]) == (404, "application/json")
