"""Rollups (monthly, weekly, channel-day) against the daily rows they sum.

Reports read whole months and weeks from rollups and the partial edges from the
daily rows; these tests draw windows that start and end mid-month and cross a
year boundary, and change days by re-importing, and compare every number with
plain arithmetic over the raw rows.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from permissions.brand_scope import allowed_brand_ids
from reporting.models import (
    Campaign,
    CampaignChannelDailyStat,
    CampaignMonthlyStat,
    CampaignWeeklyStat,
    FlowChannelDailyStat,
    FlowMonthlyStat,
    FlowWeeklyStat,
)
from reporting.schemas import CampaignReportParams, FlowReportParams
from reporting.selectors import campaign_report, flow_report
from tests.support.report_properties import (
    PROPERTY_SETTINGS,
    SOURCES,
    assert_metrics_match,
    csv_row,
    fresh_account,
    stat_row,
)
from tests.support.reports import flow_row, import_rows

SPAN_START = date(2023, 11, 20)  # a Monday; the span crosses the new year
SPAN_DAYS = 90
SPAN_END = SPAN_START + timedelta(days=SPAN_DAYS - 1)


@st.composite
def spread_row(draw):
    return {**draw(stat_row()), "date": SPAN_START + timedelta(draw(st.integers(0, SPAN_DAYS - 1)))}


spread_rows = st.lists(
    spread_row(),
    max_size=40,
    unique_by=lambda r: (r["source_id"], r["date"], r["channel"]),
)


@st.composite
def windows(draw):
    first = SPAN_START + timedelta(draw(st.integers(0, SPAN_DAYS - 1)))
    last = first + timedelta(draw(st.integers(0, (SPAN_END - first).days)))
    return first, last


def _month(day: date) -> date:
    return day.replace(day=1)


@settings(PROPERTY_SETTINGS, max_examples=25)
@given(rows=spread_rows, window=windows(), dimensional=st.booleans())
def test_reports_over_rollups_equal_the_raw_rows(cast, rows, window, dimensional):
    """Summary, month timeline and per-campaign breakdown for any window.

    ``dimensional`` asks for every brand imported: the same rows, but the report
    must use the per-source rollups instead of the per-channel one.
    """
    account = fresh_account(rows)
    first, last = window
    brands = sorted({SOURCES[r["source_id"]][0] for r in rows})
    params = {"brands": brands} if dimensional and brands else {}
    report = campaign_report(
        account=account,
        allowed_brands=allowed_brand_ids(user=cast.user("analyst@acme.test"), account=account),
        params=CampaignReportParams(
            date_from=first, date_to=last, timeline="month", limit=500, **params
        ),
    )
    inside = [r for r in rows if first <= r["date"] <= last]
    assert_metrics_match(report.summary, inside)
    for bucket in report.timeline.buckets:
        assert_metrics_match(
            bucket.metrics, [r for r in inside if _month(r["date"]) == _month(bucket.period_start)]
        )
    by_campaign = {
        key: list(group)
        for key, group in itertools.groupby(
            sorted(inside, key=lambda r: r["source_id"]), key=lambda r: r["source_id"]
        )
    }
    assert {row.key for row in report.breakdown.rows} == set(by_campaign)
    for row in report.breakdown.rows:
        assert_metrics_match(row.metrics, by_campaign[row.key])


def _rollup_values(model, key_fields, account=None) -> dict:
    fields = [
        "sends",
        "delivered",
        "opens",
        "clicks",
        "orders",
        "revenue",
        "opens_delivered",
        "clicks_delivered",
        "both_opens",
        "both_clicks",
    ]
    rows = model.objects.unscoped()
    if account is not None:
        rows = rows.filter(account=account)
    return {
        tuple(row[k] for k in key_fields): {f: row[f] for f in fields}
        for row in rows.values(*key_fields, *fields)
    }


def _expected_rollup(rows: list[dict], key) -> dict:
    def optional_sum(values):
        present = [v for v in values if v is not None]
        return sum(present) if present else None

    groups: dict = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return {
        k: {
            "sends": sum(r["sends"] for r in g),
            "delivered": sum(r["delivered"] for r in g),
            "opens": optional_sum(r["opens"] for r in g),
            "clicks": optional_sum(r["clicks"] for r in g),
            "orders": sum(r["orders"] for r in g),
            "revenue": sum((r["revenue"] for r in g), Decimal("0")),
            "opens_delivered": optional_sum(
                r["delivered"] if r["opens"] is not None else None for r in g
            ),
            "clicks_delivered": optional_sum(
                r["delivered"] if r["clicks"] is not None else None for r in g
            ),
            "both_opens": optional_sum(r["opens"] if r["clicks"] is not None else None for r in g),
            "both_clicks": optional_sum(r["clicks"] if r["opens"] is not None else None for r in g),
        }
        for k, g in groups.items()
    }


def _assert_rollups_match(rows: list[dict], account=None) -> None:
    def monday(day: date) -> date:
        return day - timedelta(days=day.weekday())

    source = {f"Campaign {s}": s for s in SOURCES}
    names = dict(
        CampaignMonthlyStat.objects.unscoped().values_list("campaign_id", "campaign__name")
    )
    monthly = {
        (source[names[c]], ch, d): v
        for (c, ch, d), v in _rollup_values(
            CampaignMonthlyStat, ["campaign_id", "channel", "date"], account
        ).items()
    }
    assert monthly == _expected_rollup(
        rows, lambda r: (r["source_id"], r["channel"], _month(r["date"]))
    )
    names |= dict(
        CampaignWeeklyStat.objects.unscoped().values_list("campaign_id", "campaign__name")
    )
    weekly = {
        (source[names[c]], ch, d): v
        for (c, ch, d), v in _rollup_values(
            CampaignWeeklyStat, ["campaign_id", "channel", "date"], account
        ).items()
    }
    assert weekly == _expected_rollup(
        rows, lambda r: (r["source_id"], r["channel"], monday(r["date"]))
    )
    assert _rollup_values(
        CampaignChannelDailyStat, ["channel", "date"], account
    ) == _expected_rollup(rows, lambda r: (r["channel"], r["date"]))


def _row(source_id: str, day: date, channel: str, **counts) -> dict:
    values = {
        "sends": 100,
        "delivered": 90,
        "bounces": 10,
        "opens": 30,
        "clicks": 6,
        "unsubscribes": 1,
        "spam_complaints": 0,
        "orders": 2,
        "revenue": Decimal("80.50"),
    }
    return {"source_id": source_id, "date": day, "channel": channel, **values, **counts}


@pytest.mark.django_db
def test_rollups_follow_reimports_that_change_days():
    rows = [
        _row("c0", date(2023, 12, 31), "email"),
        _row("c0", date(2024, 1, 1), "email", opens=None),  # same ISO week, next year
        _row("c0", date(2024, 1, 1), "sms", opens=None, clicks=None),
        _row("c1", date(2024, 1, 15), "email", revenue=Decimal("0.01")),
        _row("c2", date(2024, 2, 29), "web_push", opens=None),
    ]
    account = fresh_account(rows)
    _assert_rollups_match(rows)

    changed = [
        _row("c0", date(2024, 1, 1), "email", opens=12, sends=500, delivered=480, bounces=20),
        _row("c1", date(2024, 1, 15), "email", clicks=None, revenue=Decimal("99.99")),
        _row("c3", date(2024, 1, 16), "email"),  # a new campaign in a touched week
    ]
    result = import_rows(account, [csv_row(r) for r in changed])
    assert result.written == 3
    merged = {(r["source_id"], r["date"], r["channel"]): r for r in rows + changed}
    _assert_rollups_match(list(merged.values()))

    before = {
        model: _rollup_values(model, ["id"])
        for model in (CampaignMonthlyStat, CampaignWeeklyStat, CampaignChannelDailyStat)
    }
    assert import_rows(account, [csv_row(r) for r in changed]).written == 0
    for model, values in before.items():
        assert _rollup_values(model, ["id"]) == values, model  # nothing rewritten


@pytest.mark.django_db
def test_flow_report_over_rollups_after_an_upsert(cast, acme):
    days = [date(2023, 12, 28) + timedelta(days=n) for n in range(40)]
    import_rows(
        acme,
        [flow_row(date=d.isoformat(), sends="10", delivered="10", bounces="0") for d in days],
    )
    import_rows(acme, [flow_row(date="2024-01-10", sends="1000", delivered="900", bounces="0")])
    assert (
        FlowMonthlyStat.objects.for_account(acme).get(date=date(2024, 1, 1)).sends == 30 * 10 + 1000
    )
    report = flow_report(
        account=acme,
        allowed_brands=allowed_brand_ids(user=cast.user("analyst@acme.test"), account=acme),
        params=FlowReportParams(date_from=date(2023, 12, 30), date_to=date(2024, 2, 3)),
    )
    # 36 days of 10, one of them raised to 1000.
    assert report.summary.sends == 35 * 10 + 1000
    assert report.summary.delivered == 35 * 10 + 900
    assert report.breakdown.rows[0].metrics.sends == 35 * 10 + 1000


def _merged(*batches: list[dict]) -> list[dict]:
    """The daily rows after importing ``batches`` in turn: a later row of a key wins."""
    rows = {}
    for batch in batches:
        rows |= {(r["source_id"], r["date"], r["channel"]): r for r in batch}
    return list(rows.values())


def _unique(rows: list[dict]) -> list[dict]:
    return _merged(rows)


@st.composite
def import_sequences(draw):
    """A first file; a second that edits some of its rows (counts, tracked or not) and
    adds others, anywhere in the span; a third appended after the span (new days only,
    its first week shared with the span's last)."""
    first = draw(spread_rows)
    edits = [
        {**draw(stat_row()), **{k: row[k] for k in ("source_id", "date", "channel")}}
        for row in first
        if draw(st.booleans())
    ]
    second = _unique(edits + draw(spread_rows))
    appended = draw(
        st.lists(
            st.builds(
                lambda row, offset: {**row, "date": SPAN_END + timedelta(days=offset)},
                stat_row(),
                st.integers(1, 20),
            ),
            max_size=10,
            unique_by=lambda r: (r["source_id"], r["date"], r["channel"]),
        )
    )
    return first, second, appended


@settings(PROPERTY_SETTINGS, max_examples=25)
@given(batches=import_sequences())
def test_rollups_equal_the_daily_rows_after_any_sequence_of_imports(db, batches):
    """Each rollup row equals the sums of the daily rows it covers, after every import,
    however the files overlap: rows changed, tracked events becoming untracked and back,
    new rows in existing periods, new periods, days appended after the last."""
    first, second, appended = batches
    account = fresh_account(first)
    _assert_rollups_match(first, account)
    for done in ([first, second], [first, second, appended]):
        if done[-1]:
            import_rows(account, [csv_row(r) for r in done[-1]])
        _assert_rollups_match(_merged(*done), account)


@pytest.mark.django_db
def test_a_group_whose_only_tracked_row_stops_tracking_becomes_untracked():
    tracked = _row("c0", date(2024, 1, 31), "email", opens=30, clicks=6)
    untracked = _row("c0", date(2024, 1, 30), "email", opens=None, clicks=None)
    account = fresh_account([tracked, untracked])
    monthly = CampaignMonthlyStat.objects.for_account(account).get()
    assert (monthly.opens, monthly.opens_delivered, monthly.both_opens) == (30, 90, 30)

    stopped = {**tracked, "opens": None}
    import_rows(account, [csv_row(stopped)])
    _assert_rollups_match([stopped, untracked], account)
    monthly.refresh_from_db()
    assert (monthly.opens, monthly.opens_delivered, monthly.both_opens) == (None, None, None)
    assert (monthly.clicks, monthly.clicks_delivered, monthly.both_clicks) == (6, 90, None)


@pytest.mark.django_db
def test_new_days_across_month_and_week_boundaries_add_to_existing_rollups():
    """A file of the next days (the insert-only path) grows the month and week rollups
    it shares with earlier days and creates the others."""
    earlier = [_row("c0", date(2024, 1, 29), ch) for ch in ("email", "sms")]  # a Monday
    account = fresh_account(earlier)
    later = [
        _row("c0", date(2024, 1, 31), "email", opens=None),  # same month and week
        _row("c0", date(2024, 2, 1), "sms", sends=7, delivered=7, bounces=0),  # same week
        _row("c1", date(2024, 2, 5), "email"),  # next week, new campaign
    ]
    result = import_rows(account, [csv_row(r) for r in later])
    assert result.written == 3
    _assert_rollups_match(earlier + later, account)
    week = CampaignWeeklyStat.objects.for_account(account).get(
        date=date(2024, 1, 29), channel="sms"
    )
    assert week.sends == 100 + 7


ROLLUP_MODELS = (
    CampaignMonthlyStat,
    CampaignWeeklyStat,
    CampaignChannelDailyStat,
    FlowMonthlyStat,
    FlowWeeklyStat,
    FlowChannelDailyStat,
)


def _by_key(account) -> dict:
    """(model, natural key) -> (row values, row version: xmin on PostgreSQL, else None)."""
    rows = {}
    for model in ROLLUP_MODELS:
        per_source = [f for f in ("campaign_id", "flow_id") if hasattr(model, f)]
        xmin = {}
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, xmin::text FROM {model._meta.db_table} "  # noqa: S608
                    "WHERE account_id = %s",
                    [account.pk],
                )
                xmin = dict(cursor.fetchall())
        for (pk, day, *source, channel), values in _rollup_values(
            model, ["id", "date", *per_source, "channel"], account
        ).items():
            rows[(model, day, *source, channel)] = (values, xmin.get(pk))
    return rows


@pytest.mark.django_db
def test_a_reimport_rewrites_exactly_the_rollup_rows_of_its_changed_days():
    days = [date(2024, 1, 22) + timedelta(days=n) for n in range(21)]  # 3 weeks, 2 months
    rows = [_row(s, d, ch) for s in ("c0", "c1") for d in days for ch in ("email", "sms")]
    account = fresh_account(rows)
    flows = [flow_row(date=d.isoformat()) for d in days]
    import_rows(account, flows)
    before = _by_key(account)

    changed = _row("c1", date(2024, 2, 1), "sms", opens=None, sends=300, delivered=250)
    added = _row("c0", date(2024, 2, 1), "web_push")  # a new key on the same day
    result = import_rows(account, [csv_row(r) for r in [changed, added, rows[0]]])
    assert (result.rows, result.written) == (3, 2)
    _assert_rollups_match(_merged(rows, [changed, added]), account)

    c0, c1 = (Campaign.objects.for_account(account).get(external_id=s).pk for s in ("c0", "c1"))
    feb_1, its_monday = date(2024, 2, 1), date(2024, 1, 29)
    expected = {
        (CampaignMonthlyStat, feb_1, c1, "sms"),
        (CampaignMonthlyStat, feb_1, c0, "web_push"),
        (CampaignWeeklyStat, its_monday, c1, "sms"),
        (CampaignWeeklyStat, its_monday, c0, "web_push"),
        (CampaignChannelDailyStat, feb_1, "sms"),
        (CampaignChannelDailyStat, feb_1, "web_push"),
    }
    after = _by_key(account)
    assert {k for k, (values, _) in after.items() if before.get(k, (None,))[0] != values} == (
        expected
    )
    if connection.vendor == "postgresql":  # and no other row was even rewritten
        assert {k for k, (_, xmin) in after.items() if before.get(k, (0, None))[1] != xmin} == (
            expected
        )


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite recomputes the file's periods"
)
def test_an_unchanged_reimport_does_not_touch_the_rollups():
    rows = [
        _row(s, date(2024, 1, 1) + timedelta(days=n), "email") for s in SOURCES for n in range(9)
    ]
    account = fresh_account(rows)
    import_rows(account, [flow_row(date="2024-01-03")])
    tables = [m._meta.db_table for m in ROLLUP_MODELS]
    with CaptureQueriesContext(connection) as queries:
        assert import_rows(account, [csv_row(r) for r in rows]).written == 0
    assert [q["sql"] for q in queries if any(t in q["sql"] for t in tables)] == []


@pytest.mark.django_db
def test_import_queries_do_not_grow_with_the_rows():
    def queries_for(count: int) -> int:
        rows = [
            _row(f"c{n % 4}", date(2024, 1, 1) + timedelta(days=n // 4), "email")
            for n in range(count)
        ]
        account = fresh_account([])
        with CaptureQueriesContext(connection) as queries:
            import_rows(account, [csv_row(r) for r in rows] + [flow_row()])
        again = _merged(rows, [{**rows[-1], "sends": 999}])
        with CaptureQueriesContext(connection) as changed:
            import_rows(account, [csv_row(r) for r in again])
        return len(queries), len(changed)

    assert queries_for(8) == queries_for(80)
