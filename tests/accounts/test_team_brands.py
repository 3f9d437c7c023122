"""Owners limit a member's reports to some brands from the team page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils.html import escape
from guardian.shortcuts import assign_perm

from accounts.models import Membership
from permissions.brand_scope import (
    BRAND_PERMISSION,
    MESSAGE_RESTRICTED_BY_DELETED_BRAND,
    allowed_brand_ids,
)
from permissions.models import BrandRestrictionChange
from permissions.selectors import brand_restrictions_on_deleted_brands
from reporting.errors import ReportError
from reporting.models import Brand
from reporting.schemas import CampaignReportParams
from tests.support.clients import logged_in
from tests.support.reports import BASE_ROW, campaign_report_as, import_rows

MARKETER = "marketer@acme.test"
WINDOW = {"date_from": "2024-03-04", "date_to": "2024-03-04"}


@pytest.fixture
def brands(cast):
    """acme's brands Acme Home (100 sends) and Acme Sport (400 sends); globex's Globex Kids."""
    import_rows(
        cast.acme,
        [
            BASE_ROW,
            {**BASE_ROW, "source_id": "c2", "brand": "Acme Sport", "sends": "400"},
        ],
    )
    import_rows(cast.globex, [{**BASE_ROW, "brand": "Globex Kids"}])
    by_name = {b.name: b for b in Brand.objects.for_account(cast.acme)}
    by_name["Globex Kids"] = Brand.objects.for_account(cast.globex).get()
    return by_name


def _url(cast, username: str, account=None) -> str:
    account = account or cast.acme
    membership = Membership.objects.get(user__username=username, account=cast.acme)
    return f"/accounts/{account.system_name}/team/{membership.pk}/brands/"


def _scope_text(allowed: set[int] | None) -> str:
    """What the brand cell must say of the scope the reports apply (None: every brand)."""
    if allowed is None:
        return "All brands"
    return "Only the selected" if allowed else "No brand"


def _restrict_to_a_deleted_brand(cast, username: str) -> None:
    """Limit the member to a brand of acme, then delete the brand (the grant stays)."""
    gone = Brand.objects.for_account(cast.acme).create(name="Acme Gone")
    logged_in("owner@acme.test").post(_url(cast, username), {"brands": [gone.pk]})
    gone.delete()


def _brand_cell(page: str, username: str) -> str:
    row = page.split(f'data-member="{username}"')[1].split("</tr>")[0]
    return row.split('class="brands">')[1].split("</td>")[0]


def _brand_breakdown(cast, username: str) -> dict[str, int]:
    report = campaign_report_as(
        account=cast.acme,
        user=cast.user(username),
        params=CampaignReportParams(breakdown="brand", **WINDOW),
    )
    return {row.name: row.metrics.sends for row in report.breakdown.rows}


@pytest.mark.parametrize("username", ["owner@acme.test", "csm@maestra.test"])
def test_owner_limits_a_member_to_one_brand_and_reports_follow(cast, brands, username):
    assert _brand_breakdown(cast, MARKETER) == {"Acme Home": 100, "Acme Sport": 400}
    home = brands["Acme Home"]

    response = logged_in(username).post(_url(cast, MARKETER), {"brands": [home.pk]})

    assert response.status_code == 302 and response.url == "/accounts/acme/team/"
    assert allowed_brand_ids(user=cast.user(MARKETER), account=cast.acme) == {home.pk}
    assert _brand_breakdown(cast, MARKETER) == {"Acme Home": 100}
    with pytest.raises(ReportError) as refused:
        campaign_report_as(
            account=cast.acme,
            user=cast.user(MARKETER),
            params=CampaignReportParams(brands=["Acme Sport"], **WINDOW),
        )
    assert "Acme Home" in refused.value.message
    # Nobody else is affected.
    assert _brand_breakdown(cast, "analyst@acme.test") == {"Acme Home": 100, "Acme Sport": 400}
    change = BrandRestrictionChange.objects.for_account(cast.acme).get()
    assert (change.user.username, change.brand_names, change.acting_user.username) == (
        MARKETER,
        ["Acme Home"],
        username,
    )


def test_team_page_shows_the_restriction_as_the_reports_see_it(cast, brands):
    owner = logged_in("owner@acme.test")
    owner.post(_url(cast, MARKETER), {"brands": [brands["Acme Sport"].pk]})
    owner.post(_url(cast, "analyst@acme.test"), {"brands": [b.pk for b in brands.values()][:2]})
    _restrict_to_a_deleted_brand(cast, "administrator@acme.test")
    # A deactivated member's reports show nothing, whatever their brands were.
    Membership.objects.filter(account=cast.acme, user__username="support@acme.test").update(
        is_active=False
    )
    page = owner.get("/accounts/acme/team/").content.decode()
    for membership in Membership.objects.filter(account=cast.acme).select_related("user"):
        row = page.split(f'data-member="{membership.user.username}"')[1].split("</tr>")[0]
        selected = {
            int(chunk.split('"')[0])
            for chunk in row.split('<option value="')[1:]
            if chunk.split(">")[0].endswith(" selected")
        }
        scope = row.split('class="muted brand-scope">')[1].split("</div>")[0]
        expected = allowed_brand_ids(user=membership.user, account=cast.acme)
        assert selected == (expected or set()), membership.user.username
        assert scope == _scope_text(expected), membership.user.username
    assert "Globex Kids" not in page
    assert "Brands of marketer@acme.test set to <strong>Acme Sport</strong>" in page


def test_a_grant_on_a_deleted_brand_shows_until_the_brands_are_saved_again(cast, brands):
    notice = escape(MESSAGE_RESTRICTED_BY_DELETED_BRAND)
    owner = logged_in("owner@acme.test")
    _restrict_to_a_deleted_brand(cast, MARKETER)
    # The reports see no brand at all; the page must not say "All brands".
    assert allowed_brand_ids(user=cast.user(MARKETER), account=cast.acme) == set()
    assert _brand_breakdown(cast, MARKETER) == {}

    page = owner.get("/accounts/acme/team/").content.decode()
    cell = _brand_cell(page, MARKETER)
    assert notice in cell and "No brand" in cell and "All brands" not in cell
    assert page.count(notice) == 1  # members without such a grant show none

    owner.post(_url(cast, MARKETER), {})  # the existing form, saved again as it stands
    page = owner.get("/accounts/acme/team/").content.decode()
    assert notice not in page
    assert "All brands" in _brand_cell(page, MARKETER)
    assert _brand_breakdown(cast, MARKETER) == {"Acme Home": 100, "Acme Sport": 400}


def test_the_notice_stands_beside_the_brands_still_selected(cast, brands):
    _restrict_to_a_deleted_brand(cast, MARKETER)
    assign_perm(BRAND_PERMISSION, cast.user(MARKETER), brands["Acme Home"])
    owner = logged_in("owner@acme.test")
    cell = _brand_cell(owner.get("/accounts/acme/team/").content.decode(), MARKETER)
    assert "Only the selected" in cell and escape(MESSAGE_RESTRICTED_BY_DELETED_BRAND) in cell

    owner.post(_url(cast, MARKETER), {"brands": [brands["Acme Home"].pk]})
    cell = _brand_cell(owner.get("/accounts/acme/team/").content.decode(), MARKETER)
    assert "Only the selected" in cell and escape(MESSAGE_RESTRICTED_BY_DELETED_BRAND) not in cell
    assert allowed_brand_ids(user=cast.user(MARKETER), account=cast.acme) == {
        brands["Acme Home"].pk
    }


def test_without_any_brand_left_the_notice_still_comes_with_a_save_button(cast):
    _restrict_to_a_deleted_brand(cast, MARKETER)  # acme's only brand
    owner = logged_in("owner@acme.test")
    cell = _brand_cell(owner.get("/accounts/acme/team/").content.decode(), MARKETER)
    assert escape(MESSAGE_RESTRICTED_BY_DELETED_BRAND) in cell and "<select" not in cell
    assert f'aria-label="Save brands for {MARKETER}"' in cell

    owner.post(_url(cast, MARKETER), {})
    assert allowed_brand_ids(user=cast.user(MARKETER), account=cast.acme) is None


def test_the_notice_follows_the_member_into_their_other_account(cast, brands):
    # Nobody can tell whose brand a dangling grant was for, so it restricts the agency
    # user in globex too; globex's Owner sees why, and acme's page shows only acme's team.
    _restrict_to_a_deleted_brand(cast, "agency@partner.test")
    notice = escape(MESSAGE_RESTRICTED_BY_DELETED_BRAND)
    globex_owner = logged_in("owner@globex.test")
    page = globex_owner.get("/accounts/globex/team/").content.decode()
    assert notice in _brand_cell(page, "agency@partner.test")
    agency = cast.user("agency@partner.test")
    assert brand_restrictions_on_deleted_brands(account=cast.globex) == {agency.pk}

    # A non-member's dangling grant is not acme's business.
    outsider = cast.user("outsider@example.test")
    gone = Brand.objects.for_account(cast.globex).create(name="Globex Gone")
    assign_perm(BRAND_PERMISSION, outsider, gone)
    gone.delete()
    assert brand_restrictions_on_deleted_brands(account=cast.acme) == {agency.pk}


def test_selecting_no_brand_lifts_the_restriction(cast, brands):
    owner = logged_in("owner@acme.test")
    owner.post(_url(cast, MARKETER), {"brands": [brands["Acme Home"].pk]})
    owner.post(_url(cast, MARKETER), {})
    assert allowed_brand_ids(user=cast.user(MARKETER), account=cast.acme) is None
    latest = BrandRestrictionChange.objects.for_account(cast.acme).first()
    assert latest.brand_names == []


def test_another_accounts_brand_is_refused_and_nothing_is_stored(cast, brands):
    response = logged_in("owner@acme.test").post(
        _url(cast, MARKETER), {"brands": [brands["Acme Home"].pk, brands["Globex Kids"].pk]}
    )
    assert response.status_code == 400
    assert allowed_brand_ids(user=cast.user(MARKETER), account=cast.acme) is None
    assert not BrandRestrictionChange.objects.for_account(cast.acme).exists()


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("administrator@acme.test", 403),
        ("analyst@acme.test", 403),
        (MARKETER, 403),  # not even for oneself
        ("agency@partner.test", 403),
        ("owner@globex.test", 404),
        ("staff@maestra.test", 404),
        ("outsider@example.test", 404),
    ],
)
def test_only_owners_and_csms_change_brands(cast, brands, username, status):
    response = logged_in(username).post(_url(cast, MARKETER), {"brands": [brands["Acme Home"].pk]})
    assert response.status_code == status
    assert allowed_brand_ids(user=cast.user(MARKETER), account=cast.acme) is None


def test_anonymous_is_sent_to_log_in(cast, brands):
    response = Client().post(_url(cast, MARKETER), {"brands": [brands["Acme Home"].pk]})
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_globex_owner_cannot_reach_an_acme_member_through_globex(cast, brands):
    url = _url(cast, MARKETER, account=cast.globex)
    response = logged_in("owner@globex.test").post(url, {"brands": [brands["Globex Kids"].pk]})
    assert response.status_code == 404
    assert allowed_brand_ids(user=cast.user(MARKETER), account=cast.acme) is None
