"""campaign_report / flow_report / report_filters: windows, comparison, filters, scoping."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import RestrictedError, Sum
from pydantic import ValidationError

from accounts.scoping import UnscopedQueryError
from permissions.brand_scope import allowed_brand_ids, brand_restriction_set
from permissions.models import BrandRestrictionChange
from reporting.errors import ReportError
from reporting.metrics import FRACTIONS, MONEY_PLACES
from reporting.models import (
    Brand,
    CampaignBrandStat,
    CampaignStat,
    Grain,
)
from reporting.periods import preset_window, resolve_window
from reporting.schemas import (
    EARLIEST_REPORT_DATE,
    CampaignReportParams,
    FlowReportParams,
    latest_report_date,
)
from reporting.selectors import campaign_report, flow_report
from tests.support.reports import (
    BASE_ROW,
    campaign_report_as,
    flow_report_as,
    flow_row,
    import_rows,
    report_filters_as,
)

TODAY = date(2024, 5, 15)  # a Wednesday


def row(day: str, **changes) -> dict:
    return {**BASE_ROW, "date": day, **changes}


@pytest.fixture
def analyst(cast):
    return cast.user("analyst@acme.test")


@pytest.fixture
def data(acme, globex):
    """acme: two brands, two campaigns, a flow; globex: a campaign with huge numbers."""
    import_rows(
        acme,
        [
            row("2024-05-14", sends="100", delivered="90", bounces="10", revenue="50.00"),
            row("2024-05-01", channel="sms", opens="", clicks="4", revenue="10.00"),
            row(
                "2024-04-20",
                source_id="c2",
                source_name="Outdoor days",
                brand="Acme Outdoor",
                folder="",
                activation_type="trigger",
                sends="200",
                delivered="200",
                bounces="0",
                opens="50",
                clicks="10",
                orders="4",
                revenue="400.00",
            ),
            row("2023-05-14", sends="10", delivered="10", bounces="0", opens="5", revenue="5.00"),
            flow_row(date="2024-05-10", revenue="7.00"),
            flow_row(date="2024-05-11", source_id="f2", source_name="Cart", brand="Acme Outdoor"),
        ],
    )
    import_rows(globex, [row("2024-05-14", sends="999999", delivered="999999", bounces="0")])


def report(account, user, **params):
    return campaign_report_as(
        account=account, user=user, params=CampaignReportParams(**params), today=TODAY
    )


# --- windows ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("today", "2024-05-15", "2024-05-15"),
        ("yesterday", "2024-05-14", "2024-05-14"),
        ("last_7_days", "2024-05-08", "2024-05-14"),
        ("last_30_days", "2024-04-15", "2024-05-14"),
        ("last_90_days", "2024-02-15", "2024-05-14"),
        ("this_month", "2024-05-01", "2024-05-15"),
        ("last_month", "2024-04-01", "2024-04-30"),
        ("this_quarter", "2024-04-01", "2024-05-15"),
        ("last_quarter", "2024-01-01", "2024-03-31"),
        ("this_year", "2024-01-01", "2024-05-15"),
        ("last_year", "2023-01-01", "2023-12-31"),
    ],
)
def test_presets_resolve_against_the_given_today(period, start, end):
    window = preset_window(period, TODAY)
    assert (window.date_from.isoformat(), window.date_to.isoformat()) == (start, end)


def test_default_window_is_last_30_days_ending_yesterday_in_the_account_timezone(
    data, acme, analyst
):
    result = report(acme, analyst, breakdown="none")
    assert (result.window.date_from, result.window.date_to) == (
        date(2024, 4, 15),
        date(2024, 5, 14),
    )
    assert (result.window.period, result.window.days) == ("last_30_days", 30)
    assert (result.currency, result.timezone, result.account) == ("EUR", "Europe/Berlin", "acme")
    # 05-14 email + 05-01 sms + 04-20 trigger; not 2023, not globex
    assert (result.summary.sends, result.summary.revenue) == (400, Decimal("460.00"))


def test_today_comes_from_the_account_timezone():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from reporting.periods import account_today

    assert (
        account_today("Pacific/Kiritimati") == datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    )
    assert account_today("Pacific/Kiritimati") != account_today("Pacific/Pago_Pago")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"period": "today", "date_from": date(2024, 1, 1)}, "either a period or date_from"),
        ({"date_from": date(2024, 1, 1)}, "both date_from and date_to"),
        ({"date_to": date(2024, 1, 1)}, "both date_from and date_to"),
        ({"date_from": date(2024, 2, 1), "date_to": date(2024, 1, 1)}, "is after date_to"),
        ({"date_from": date(2021, 1, 1), "date_to": date(2024, 1, 1)}, "longer than 3 years"),
    ],
)
def test_bad_windows_are_report_errors(kwargs, message):
    params = {"period": None, "date_from": None, "date_to": None} | kwargs
    with pytest.raises(ReportError, match=message):
        resolve_window(**params, today=TODAY)


def test_three_years_exactly_is_allowed():
    window = resolve_window(
        period=None, date_from=date(2021, 1, 2), date_to=date(2024, 1, 1), today=TODAY
    )
    assert window.days == 1095


# --- parameters ---------------------------------------------------------------------


def test_fixed_vocabularies_are_case_insensitive_and_unknown_values_list_the_valid_ones():
    params = CampaignReportParams(channels=["EMAIL", " Sms"], period="Last_7_Days", order="ASC")
    assert (params.channels, params.period, params.order) == (
        ["email", "sms"],
        "last_7_days",
        "asc",
    )
    with pytest.raises(ValidationError, match="'email', 'sms', 'mobile_push'"):
        CampaignReportParams(channels=["fax"])
    with pytest.raises(ValidationError, match="extra"):
        CampaignReportParams(campaign="x")
    with pytest.raises(ValidationError):
        CampaignReportParams(limit=501)
    with pytest.raises(ValidationError):
        FlowReportParams(breakdown="folder")
    schema = CampaignReportParams.model_json_schema()
    assert "enum" in str(schema["properties"]["breakdown"])
    assert all("description" in field for field in schema["properties"].values())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"brands": ["Acme Garden"]},
            "Unknown brands: 'Acme Garden' (did you mean 'Acme Home'?). "
            "Valid brands: Acme Home, Acme Outdoor.",
        ),
        (
            {"brands": ["acme outdor", "Zzz"]},
            "Unknown brands: 'acme outdor' (did you mean 'Acme Outdoor' or 'Acme Home'?), 'Zzz'. "
            "Valid brands: Acme Home, Acme Outdoor.",
        ),
        (
            {"folders": ["Promotion"]},
            "Unknown folders: 'Promotion' (did you mean 'Promotions'?). Valid folders: Promotions.",
        ),
        ({"goals": ["Fun"]}, "Unknown goals: 'Fun'. Valid goals: Sales."),
        ({"folders": ["Nope"]}, "Unknown folders: 'Nope'. Valid folders: Promotions."),
    ],
)
def test_unknown_names_list_the_valid_ones(data, acme, analyst, params, message):
    with pytest.raises(ReportError) as raised:
        report(acme, analyst, **params)
    assert raised.value.message == message


def test_unknown_flow_lists_the_flows(data, acme, analyst):
    with pytest.raises(
        ReportError, match=r"Unknown flows: 'zzz'. Valid flows: Cart \(id f2\), Welcome \(id f1\)"
    ):
        flow_report_as(
            account=acme, user=analyst, params=FlowReportParams(flows=["zzz"]), today=TODAY
        )


# --- results ---------------------------------------------------------------------------


def test_breakdown_sorting_ties_limit_and_truncation(data, acme, analyst):
    result = report(acme, analyst, breakdown="campaign", sort_by="sends", order="asc", limit=1)
    assert result.breakdown.total_groups == 2 and result.breakdown.truncated
    assert [(r.key, r.name, r.metrics.sends) for r in result.breakdown.rows] == [
        ("c2", "Outdoor days", 200)
    ]
    by_rate = report(acme, analyst, breakdown="channel", sort_by="open_rate")
    # sms tracks no opens: null sorts last whatever the order
    assert [r.key for r in by_rate.breakdown.rows] == ["email", "sms"]
    assert by_rate.breakdown.rows[1].metrics.open_rate is None
    ties = report(acme, analyst, breakdown="brand", sort_by="spam_complaints")
    assert [r.name for r in ties.breakdown.rows] == ["Acme Home", "Acme Outdoor"]  # by name
    folders = report(acme, analyst, breakdown="folder")
    assert [(r.key, r.name) for r in folders.breakdown.rows] == [
        (None, "(no folder)"),
        ("Promotions", "Promotions"),
    ]
    assert report(acme, analyst, breakdown="none").breakdown is None


def test_untracked_opens_do_not_dilute_and_zero_denominators_are_null(data, acme, analyst):
    email = report(
        acme, analyst, channels=["email"], date_from=date(2024, 5, 1), date_to=date(2024, 5, 14)
    )
    both = report(acme, analyst, date_from=date(2024, 5, 1), date_to=date(2024, 5, 14))
    assert both.summary.delivered == email.summary.delivered + 90  # the sms row counts here
    assert both.summary.open_rate == email.summary.open_rate == 30 / 90
    sms = report(
        acme, analyst, channels=["sms"], date_from=date(2024, 5, 1), date_to=date(2024, 5, 1)
    )
    assert sms.summary.opens is None and sms.summary.open_rate is None
    assert sms.summary.click_to_open_rate is None
    empty = report(acme, analyst, period="today")
    assert empty.summary.sends == 0 and empty.summary.delivery_rate is None
    assert empty.summary.revenue == Decimal("0.00") and empty.summary.average_order_value is None


def test_comparison_previous_year_and_previous_period(data, acme, analyst):
    result = report(acme, analyst, period="yesterday", compare_to="previous_year")
    comparison = result.comparison
    assert (comparison.window.date_from, comparison.window.date_to) == (date(2023, 5, 14),) * 2
    assert (result.summary.sends, comparison.summary.sends) == (100, 10)
    assert comparison.change["sends"].absolute == 90 and comparison.change["sends"].relative == 9.0
    assert comparison.change["revenue"].absolute == Decimal("45.00")
    assert comparison.change["open_rate"].absolute == pytest.approx(30 / 90 - 5 / 10)
    assert comparison.change["open_rate"].relative == pytest.approx((30 / 90 - 0.5) / 0.5)

    previous = report(acme, analyst, period="last_7_days", compare_to="previous_period")
    window = previous.comparison.window
    assert (window.date_from, window.date_to, window.days) == (
        date(2024, 5, 1),
        date(2024, 5, 7),
        7,
    )
    assert previous.comparison.summary.sends == 100  # the sms row of 05-01
    nothing_before = report(acme, analyst, period="last_year", compare_to="previous_period")
    assert nothing_before.comparison.change["sends"].relative is None  # previous is 0


def test_comparison_over_rows_the_user_cannot_see_is_all_zero(data, acme, cast):
    """A user who sees no brand (not a member) compares two empty windows: the
    database answers over no rows, as for windows without activity."""
    outsider = cast.user("outsider@example.test")
    result = report(acme, outsider, period="last_7_days", compare_to="previous_year")
    comparison = result.comparison
    assert result.summary == comparison.summary
    assert (result.summary.sends, result.summary.revenue) == (0, Decimal("0.00"))
    assert (result.summary.opens, result.summary.open_rate) == (None, None)
    assert (comparison.change["sends"].absolute, comparison.change["sends"].relative) == (0, None)
    assert comparison.change["revenue"].absolute == Decimal("0.00")
    assert comparison.change["open_rate"].absolute is None


# --- account and brand scoping -------------------------------------------------------


def test_never_sees_another_accounts_data(data, acme, globex, cast):
    agency = cast.user("agency@partner.test")  # a member of both accounts
    acme_total = report(acme, agency, period="yesterday").summary.sends
    globex_total = report(globex, agency, period="yesterday").summary.sends
    assert (acme_total, globex_total) == (100, 999999)
    assert (
        report(acme, agency, period="yesterday", breakdown="campaign").breakdown.total_groups == 1
    )
    # globex's brand/flow names are unknown in acme (same as nonexistent)
    import_rows(globex, [flow_row(source_id="g-flow", source_name="Globex only", brand="Globex")])
    with pytest.raises(ReportError, match="Unknown brands: 'Globex'"):
        report(acme, agency, brands=["Globex"])
    with pytest.raises(ReportError, match="Unknown flows: 'g-flow'"):
        flow_report_as(account=acme, user=agency, params=FlowReportParams(flows=["g-flow"]))
    assert "Globex only" not in str(report_filters_as(account=acme, user=agency))


def test_unscoped_queries_fail_closed(data, acme):
    for model in (CampaignStat, CampaignBrandStat, Brand):
        with pytest.raises(UnscopedQueryError, match="for_account"):
            list(model.objects.all())
    with pytest.raises(UnscopedQueryError):
        CampaignStat.objects.filter(channel="email").count()
    with pytest.raises(UnscopedQueryError, match="for_account"):
        CampaignStat.objects.aggregate(total=Sum("sends"))
    with pytest.raises(UnscopedQueryError):
        Brand.objects.create(account=acme, name="x")
    with pytest.raises(UnscopedQueryError, match="scoped to account"):
        Brand.objects.for_account(acme).create(account_id=acme.pk + 1000, name="x")
    with pytest.raises(UnscopedQueryError, match="scoped to account"):
        Brand.objects.for_account(acme).bulk_create([Brand(account_id=acme.pk + 1000, name="y")])
    with pytest.raises(UnscopedQueryError, match=r"for_account\(None\)"):
        Brand.objects.for_account(None)
    assert Brand.objects.for_account(acme).create(name="Stamped").account_id == acme.pk
    # The named escape hatch: acme's four campaign days and globex's one.
    assert CampaignStat.objects.unscoped().filter(grain=Grain.DAY).count() == 5


def test_metric_values_have_their_kinds_type(data, acme, analyst):
    """Counts are ints, money Decimal, rates floats, whatever the database driver returns."""
    result = report(
        acme, analyst, period="last_90_days", timeline="week", compare_to="previous_year"
    )
    for metrics in [
        result.summary,
        result.comparison.summary,
        *(row.metrics for row in result.breakdown.rows),
        *(bucket.metrics for bucket in result.timeline.buckets),
    ]:
        for name, value in metrics:
            expected = Decimal if name in MONEY_PLACES else float if name in FRACTIONS else int
            assert value is None or type(value) is expected, (name, value)
    # 100 (05-14) + 100 (sms, 05-01) + 200 (c2); the 2023 row is outside the window.
    assert result.summary.sends == 400 and result.summary.revenue == Decimal("460.00")


def test_brand_restriction_limits_totals_filters_and_refuses_other_brands(
    data, acme, analyst, cast
):
    home = Brand.objects.for_account(acme).get(name="Acme Home")
    owner = cast.user("owner@acme.test")
    change = brand_restriction_set(account=acme, user=analyst, brands=[home], acting_user=owner)
    assert allowed_brand_ids(user=analyst, account=acme) == {home.pk}
    audit = BrandRestrictionChange.objects.for_account(acme).get()
    assert (audit.pk, audit.user, audit.acting_user, audit.brand_names) == (
        change.pk,
        analyst,
        owner,
        ["Acme Home"],
    )

    result = report(acme, analyst, breakdown="brand")
    assert result.brand_restricted
    assert result.summary.sends == 200  # Acme Home only: 100 email + 100 sms
    assert [r.name for r in result.breakdown.rows] == ["Acme Home"]
    with pytest.raises(ReportError) as raised:
        report(acme, analyst, brands=["acme outdoor"])
    assert raised.value.message == ("Unknown brands: 'acme outdoor'. Valid brands: Acme Home.")
    flows = flow_report_as(account=acme, user=analyst, params=FlowReportParams(), today=TODAY)
    assert [r.key for r in flows.breakdown.rows] == ["f1"]
    filters = report_filters_as(account=acme, user=analyst)
    assert filters.brands == ["Acme Home"] and [f.id for f in filters.flows] == ["f1"]

    # others are unaffected; lifting the restriction restores everything
    assert report(acme, cast.user("owner@acme.test")).summary.sends == 400
    brand_restriction_set(account=acme, user=analyst, brands=[], acting_user=owner)
    assert allowed_brand_ids(user=analyst, account=acme) is None
    assert not report(acme, analyst).brand_restricted


def test_brand_restriction_refuses_foreign_brands_and_non_members(data, acme, globex, cast):
    import_rows(globex, [row("2024-05-14", brand="Globex")])
    foreign = Brand.objects.for_account(globex).get(name="Globex")
    owner = cast.user("owner@acme.test")
    with pytest.raises(ValueError, match="another account"):
        brand_restriction_set(
            account=acme, user=cast.user("analyst@acme.test"), brands=[foreign], acting_user=owner
        )
    with pytest.raises(ValueError, match="not a member"):
        brand_restriction_set(
            account=acme, user=cast.user("outsider@example.test"), brands=[], acting_user=owner
        )


def test_report_filters_lists_what_exists(data, acme, analyst):
    filters = report_filters_as(account=acme, user=analyst)
    assert filters.brands == ["Acme Home", "Acme Outdoor"]
    assert filters.goals == ["Sales"]
    assert filters.campaign_folders == ["Promotions", "(no folder)"]
    assert filters.channels == ["email", "sms"]
    assert filters.activation_types == ["one_time", "trigger"]
    assert [(f.id, f.name) for f in filters.flows] == [("f2", "Cart"), ("f1", "Welcome")]
    assert "open_rate: opens / delivered" in filters.metric_definitions


# --- queries -------------------------------------------------------------------------


def test_query_count_is_constant_whatever_the_data_size(acme, analyst, django_assert_num_queries):
    """A report is one query per name filter, the summary (with its comparison), the
    timeline, the breakdown (by campaign or flow: its ranking, then its page's sums; its
    others row is the summary's sums minus the page's) and the provenance (the account's
    import record); the member's brand scope is the caller's."""
    full = {
        "period": "last_90_days",
        "timeline": "day",
        "breakdown": "campaign",
        "compare_to": "previous_year",
        "brands": ["Acme Home"],
        "goals": ["sales"],
        "folders": ["Promotions"],
        "channels": ["email"],
    }
    import_rows(acme, [row("2024-05-14"), flow_row()])
    allowed = allowed_brand_ids(user=analyst, account=acme)

    def campaigns(max_chars=None, **params):
        return campaign_report(
            account=acme,
            allowed_brands=allowed,
            params=CampaignReportParams(**params),
            today=TODAY,
            max_chars=max_chars,
        )

    # brands + goals + folders + summary (with comparison) + timeline + ranking + page sums
    # + provenance
    with django_assert_num_queries(8):
        small = campaigns(**full)
    import_rows(
        acme,
        [
            row(f"2024-0{m}-{d:02d}", source_id=f"c{n}")
            for m in (3, 4)
            for d in range(1, 29)
            for n in range(5)
        ],
    )
    with django_assert_num_queries(8):
        large = campaigns(**full)
    assert large.summary.sends > small.summary.sends
    # Fitted to a size, the breakdown is cut from the rows read: no query is repeated.
    budget = len(large.model_dump_json()) - 1
    with django_assert_num_queries(8):
        fitted = campaigns(**full, max_chars=budget)
    assert len(fitted.breakdown.rows) < len(large.breakdown.rows)
    assert len(fitted.model_dump_json()) <= budget
    with django_assert_num_queries(4):  # summary + ranking + page sums + provenance
        campaigns()
    with django_assert_num_queries(4):  # a cut breakdown's others: the summary minus the page
        cut = campaigns(limit=2)
    with django_assert_num_queries(3):  # summary + breakdown by brand + provenance
        campaigns(breakdown="brand")
    assert cut.breakdown.others is not None
    # flows + summary + timeline + ranking + page sums + provenance
    with django_assert_num_queries(6):
        flow_report(
            account=acme,
            allowed_brands=allowed,
            params=FlowReportParams(flows=["f1"], timeline="month", period="last_90_days"),
            today=TODAY,
        )
    # A member who sees no brand: nothing can match, and nothing but the provenance is asked
    # of the database (Django answers a filter on an empty set of ids without a query).
    with django_assert_num_queries(1):
        nothing = campaign_report(
            account=acme,
            allowed_brands=set(),
            params=CampaignReportParams(timeline="week"),
            today=TODAY,
        )
    assert nothing.summary.sends == 0 and nothing.breakdown.rows == []
    assert {bucket.metrics.sends for bucket in nothing.timeline.buckets} == {0}
    with django_assert_num_queries(2):  # the brand scope: the membership, the grants
        allowed_brand_ids(user=analyst, account=acme)


def test_a_campaign_moved_out_between_ranking_and_page_sums_shows_no_activity(data, acme):
    """The ranking and the page's sums are two statements: an import committed between
    them (here: c1 leaves the brand filtered on) leaves a ranked row without sums, shown
    as no activity rather than failing the report."""
    moved = []

    def move_after_ranking(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "OVER ()" in sql and not moved:  # the ranking query: move c1 right after it
            moved.append(sql)
            import_rows(acme, [row("2024-05-14", brand="Acme Outdoor")])
        return result

    with connection.execute_wrapper(move_after_ranking):
        report = campaign_report(
            account=acme,
            allowed_brands=None,
            params=CampaignReportParams(brands=["Acme Home"], period="last_30_days"),
            today=TODAY,
        )
    assert moved
    ranked = {r.key: r.metrics for r in report.breakdown.rows}
    assert list(ranked) == ["c1"]
    assert (ranked["c1"].sends, ranked["c1"].revenue, ranked["c1"].opens) == (0, Decimal(0), None)


def test_deleting_an_account_removes_its_reporting_data_only(data, acme, globex):
    brand = Brand.objects.for_account(acme).get(name="Acme Home")
    with pytest.raises(RestrictedError):
        brand.delete()  # in use by campaigns
    acme_id = acme.pk
    acme.delete()
    assert Brand.objects.for_account(acme_id).count() == 0
    for model in (CampaignStat, CampaignBrandStat):
        assert model.objects.unscoped().filter(account_id=acme_id).count() == 0
    assert CampaignStat.objects.for_account(globex).filter(grain=Grain.DAY).count() == 1
    assert CampaignBrandStat.objects.for_account(globex).filter(grain=Grain.DAY).count() == 1


def test_reports_read_through_the_configured_alias(data, acme, analyst, settings):
    from django.utils.connection import ConnectionDoesNotExist

    settings.REPORTING_DATABASE_ALIAS = "replica"  # not configured here: proves it is used
    with pytest.raises(ConnectionDoesNotExist, match="replica"):
        report(acme, analyst, brands=["Acme Home"])


@pytest.mark.parametrize(
    "value",
    ["0001-01-01", "0003-12-31", "1999-12-31", "9997-01-01", "9999-12-31", 0, 315_532_800],
)
@pytest.mark.parametrize("params", [CampaignReportParams, FlowReportParams])
@pytest.mark.parametrize("field", ["date_from", "date_to"])
def test_dates_outside_the_bounds_are_a_clear_validation_error(params, field, value):
    """Years 1-3 or 9997-9999 once reached date arithmetic and gave an internal error."""
    other = "date_to" if field == "date_from" else "date_from"
    with pytest.raises(ValidationError, match="must be between 2000-01-01 and "):
        params(**{field: value, other: "2026-01-01"})


def test_the_bounds_themselves_are_valid():
    latest = latest_report_date()
    params = CampaignReportParams(date_from=EARLIEST_REPORT_DATE, date_to=latest)
    assert (params.date_from, params.date_to) == (EARLIEST_REPORT_DATE, latest)
    with pytest.raises(ValidationError, match="must be between 2000-01-01 and "):
        CampaignReportParams(date_from=latest, date_to=latest + timedelta(days=1))


@pytest.mark.parametrize(
    ("today", "latest"),
    [
        (date(2026, 12, 7), date(2027, 12, 7)),
        (date(2026, 2, 10), date(2027, 2, 10)),  # not the 28th: any February day
        (date(2028, 2, 29), date(2029, 2, 28)),
    ],
)
def test_the_latest_date_is_a_year_from_today(today, latest):
    assert latest_report_date(today) == latest


@pytest.mark.parametrize("limit", [True, False, 5.0, "5"])
def test_limit_is_a_strict_integer(limit):
    with pytest.raises(ValidationError, match="limit"):
        CampaignReportParams(limit=limit)
