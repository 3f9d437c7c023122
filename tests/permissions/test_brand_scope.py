"""Brand restrictions as reports read them: one query, failing closed.

The expected sets are written out by hand, and checked against guardian's own
``get_objects_for_user`` where guardian's answer is the right one.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm, get_objects_for_user

from accounts.models import Membership
from permissions.brand_scope import BRAND_PERMISSION, allowed_brand_ids, brand_restriction_set
from reporting.errors import ReportError
from reporting.models import Brand
from reporting.schemas import CampaignReportParams
from tests.support.reports import BASE_ROW, campaign_report_as, import_rows, report_filters_as

DAY = date(2024, 3, 4)  # BASE_ROW's date
AGENCY = "agency@partner.test"  # Marketer of acme, Analyst of globex


@pytest.fixture
def brands(cast):
    """acme: Acme Home (100 sends), Acme Sport (400), an unused brand; globex: Globex Kids (97)."""
    import_rows(
        cast.acme,
        [
            {**BASE_ROW, "brand": "Acme Home"},
            {**BASE_ROW, "source_id": "c2", "brand": "Acme Sport", "sends": "400"},
        ],
    )
    import_rows(cast.globex, [{**BASE_ROW, "brand": "Globex Kids", "sends": "97"}])
    Brand.objects.for_account(cast.acme).create(name="Acme Unused")
    acme = {b.name: b for b in Brand.objects.for_account(cast.acme)}
    return acme | {"Globex Kids": Brand.objects.for_account(cast.globex).get()}


def _sends_by_brand(account, user) -> dict[str, int]:
    report = campaign_report_as(
        account=account,
        user=user,
        params=CampaignReportParams(date_from=DAY, date_to=DAY, breakdown="brand"),
    )
    return {row.name: row.metrics.sends for row in report.breakdown.rows}


def _guardian(user, account) -> set[int]:
    return set(
        get_objects_for_user(
            user,
            BRAND_PERMISSION,
            klass=Brand.objects.for_account(account),
            use_groups=False,
            with_superuser=False,
            accept_global_perms=False,
        ).values_list("pk", flat=True)
    )


def test_unrestricted_and_restricted_members(cast, brands):
    analyst, owner = cast.user("analyst@acme.test"), cast.user("owner@acme.test")
    assert allowed_brand_ids(user=analyst, account=cast.acme) is None
    assert _sends_by_brand(cast.acme, analyst) == {"Acme Home": 100, "Acme Sport": 400}

    home, sport = brands["Acme Home"], brands["Acme Sport"]
    brand_restriction_set(account=cast.acme, user=analyst, brands=[home], acting_user=owner)
    assert allowed_brand_ids(user=analyst, account=cast.acme) == {home.pk}
    assert _guardian(analyst, cast.acme) == {home.pk}
    assert _sends_by_brand(cast.acme, analyst) == {"Acme Home": 100}

    brand_restriction_set(account=cast.acme, user=analyst, brands=[home, sport], acting_user=owner)
    assert allowed_brand_ids(user=analyst, account=cast.acme) == {home.pk, sport.pk}
    assert _guardian(analyst, cast.acme) == {home.pk, sport.pk}


def test_users_without_an_active_membership_see_no_brand(cast, brands):
    outsider = cast.user("outsider@example.test")
    assert allowed_brand_ids(user=outsider, account=cast.acme) == set()
    assert _sends_by_brand(cast.acme, outsider) == {}
    assert report_filters_as(account=cast.acme, user=outsider).brands == []
    with pytest.raises(ReportError) as refused:
        campaign_report_as(
            account=cast.acme, user=outsider, params=CampaignReportParams(brands=["Acme Home"])
        )
    assert refused.value.message == "Unknown brands: 'Acme Home'. Valid brands: (none)."
    # A member of globex only is an outsider to acme.
    assert allowed_brand_ids(user=cast.user("owner@globex.test"), account=cast.acme) == set()

    analyst = cast.user("analyst@acme.test")
    Membership.objects.filter(user=analyst, account=cast.acme).update(is_active=False)
    assert allowed_brand_ids(user=analyst, account=cast.acme) == set()
    assert _sends_by_brand(cast.acme, analyst) == {}


def test_a_restriction_in_one_account_stays_in_that_account(cast, brands):
    agency = cast.user(AGENCY)
    kids = brands["Globex Kids"]
    brand_restriction_set(
        account=cast.globex, user=agency, brands=[kids], acting_user=cast.user("owner@globex.test")
    )
    assert allowed_brand_ids(user=agency, account=cast.globex) == {kids.pk}
    assert allowed_brand_ids(user=agency, account=cast.acme) is None
    assert _sends_by_brand(cast.acme, agency) == {"Acme Home": 100, "Acme Sport": 400}
    assert _sends_by_brand(cast.globex, agency) == {"Globex Kids": 97}


def test_a_grant_on_another_accounts_brand_never_opens_that_brand(cast, brands):
    # Only possible by writing guardian directly (the service refuses foreign brands).
    analyst = cast.user("analyst@acme.test")
    assign_perm(BRAND_PERMISSION, analyst, brands["Globex Kids"])
    assert allowed_brand_ids(user=analyst, account=cast.acme) is None  # no acme brand granted
    assert allowed_brand_ids(user=analyst, account=cast.globex) == set()  # not a member
    assert "Globex Kids" not in _sends_by_brand(cast.acme, analyst)
    with pytest.raises(ReportError, match="Unknown brands: 'Globex Kids'"):
        campaign_report_as(
            account=cast.acme, user=analyst, params=CampaignReportParams(brands=["Globex Kids"])
        )

    home = brands["Acme Home"]
    assign_perm(BRAND_PERMISSION, analyst, home)
    assert allowed_brand_ids(user=analyst, account=cast.acme) == {home.pk}
    assert _sends_by_brand(cast.acme, analyst) == {"Acme Home": 100}


def test_a_restriction_on_a_deleted_brand_fails_closed_until_reset(cast, brands):
    analyst, owner = cast.user("analyst@acme.test"), cast.user("owner@acme.test")
    unused, home = brands["Acme Unused"], brands["Acme Home"]
    brand_restriction_set(account=cast.acme, user=analyst, brands=[unused], acting_user=owner)
    unused.delete()  # guardian keeps the grant: "limited to a brand that is gone"
    assert _guardian(analyst, cast.acme) == set()  # guardian alone would lift the restriction
    assert allowed_brand_ids(user=analyst, account=cast.acme) == set()
    assert _sends_by_brand(cast.acme, analyst) == {}

    brand_restriction_set(account=cast.acme, user=analyst, brands=[home], acting_user=owner)
    assert allowed_brand_ids(user=analyst, account=cast.acme) == {home.pk}
    # Setting the member's brands again dropped the dangling grant: lifting now lifts.
    brand_restriction_set(account=cast.acme, user=analyst, brands=[], acting_user=owner)
    assert allowed_brand_ids(user=analyst, account=cast.acme) is None
    assert _sends_by_brand(cast.acme, analyst) == {"Acme Home": 100, "Acme Sport": 400}


def test_a_deleted_brand_restricts_a_member_of_several_accounts_everywhere(cast, brands):
    # We cannot tell whose brand a dangling grant was for, so it restricts everywhere.
    agency, owner = cast.user(AGENCY), cast.user("owner@acme.test")
    unused = brands["Acme Unused"]
    brand_restriction_set(account=cast.acme, user=agency, brands=[unused], acting_user=owner)
    assert allowed_brand_ids(user=agency, account=cast.globex) is None
    unused.delete()
    assert allowed_brand_ids(user=agency, account=cast.acme) == set()
    assert allowed_brand_ids(user=agency, account=cast.globex) == set()
    brand_restriction_set(
        account=cast.globex, user=agency, brands=[], acting_user=cast.user("owner@globex.test")
    )
    assert allowed_brand_ids(user=agency, account=cast.globex) is None
    assert allowed_brand_ids(user=agency, account=cast.acme) is None


def test_the_brand_scope_is_two_queries_or_three_when_restricted(
    cast, brands, django_assert_num_queries
):
    """The membership and the grants; the granted brands' accounts only when there are
    grants; no membership: the first alone."""
    analyst = cast.user("analyst@acme.test")
    for restricted, queries in (([], 2), ([brands["Acme Home"], brands["Acme Sport"]], 3)):
        brand_restriction_set(
            account=cast.acme,
            user=analyst,
            brands=restricted,
            acting_user=cast.user("owner@acme.test"),
        )
        with django_assert_num_queries(queries):
            allowed_brand_ids(user=analyst, account=cast.acme)
    outsider = cast.user("outsider@example.test")
    with django_assert_num_queries(1):
        allowed_brand_ids(user=outsider, account=cast.acme)


def test_a_restriction_costs_one_query_whatever_the_report(cast, brands, django_assert_num_queries):
    analyst, owner = cast.user("analyst@acme.test"), cast.user("owner@acme.test")
    outsider = cast.user("outsider@example.test")
    _sends_by_brand(cast.acme, analyst)  # warm the per-process caches
    # brand scope (membership, grants) + summary + breakdown + provenance
    with django_assert_num_queries(5):
        _sends_by_brand(cast.acme, analyst)
    brand_restriction_set(
        account=cast.acme, user=analyst, brands=[brands["Acme Home"]], acting_user=owner
    )
    with django_assert_num_queries(6):  # + the granted brands' accounts
        assert _sends_by_brand(cast.acme, analyst) == {"Acme Home": 100}
    # Nothing to aggregate for a user who sees no brand: only the membership and
    # the provenance (the account's import record) are read.
    with django_assert_num_queries(2):
        assert _sends_by_brand(cast.acme, outsider) == {}


def _expected_scope(user, account) -> set[int] | None:
    """The scope from the module docstring's rules, read with the ORM (an independent path)."""
    if not Membership.objects.filter(user=user, account=account, is_active=True).exists():
        return set()
    grants = [
        (int(pk), Brand.objects.unscoped().filter(pk=int(pk)).values_list("account_id").first())
        for pk in UserObjectPermission.objects.filter(
            user=user,
            permission__codename=BRAND_PERMISSION.split(".", 1)[1],
            permission__content_type=ContentType.objects.get_for_model(Brand),
        ).values_list("object_pk", flat=True)
    ]
    grants = [(pk, row[0] if row else None) for pk, row in grants]
    if not any(brand_account in (account.pk, None) for _, brand_account in grants):
        return None
    return {pk for pk, brand_account in grants if brand_account == account.pk}


def test_only_the_users_own_grants_of_the_brand_permission_restrict(cast, brands):
    analyst, marketer = cast.user("analyst@acme.test"), cast.user("marketer@acme.test")
    home, sport, kids = brands["Acme Home"], brands["Acme Sport"], brands["Globex Kids"]
    # Grants that must not restrict the analyst: a group's, another user's, another permission.
    team = Group.objects.create(name="brand team")
    analyst.groups.add(team)
    assign_perm(BRAND_PERMISSION, team, home)
    assign_perm(BRAND_PERMISSION, marketer, sport)
    assign_perm("reporting.change_brand", analyst, sport)
    assert allowed_brand_ids(user=analyst, account=cast.acme) is None
    assert allowed_brand_ids(user=marketer, account=cast.acme) == {sport.pk}

    # Every user of the cast against both accounts, through a sequence of grants.
    users = list(get_user_model().objects.all())
    steps = [
        lambda: None,
        lambda: assign_perm(BRAND_PERMISSION, cast.user(AGENCY), kids),
        lambda: assign_perm(BRAND_PERMISSION, cast.user(AGENCY), home),
        lambda: assign_perm(BRAND_PERMISSION, analyst, brands["Acme Unused"]),
        lambda: brands["Acme Unused"].delete(),  # a dangling grant restricts everywhere
        lambda: Membership.objects.filter(user=marketer).update(is_active=False),
    ]
    checked = 0
    for step in steps:
        step()
        for user in users:
            for account in (cast.acme, cast.globex):
                expected = _expected_scope(user, account)
                assert allowed_brand_ids(user=user, account=account) == expected, (user, account)
                checked += expected is not None and len(expected) > 0
    assert checked >= 4  # the sequence does reach restricted members with brands
