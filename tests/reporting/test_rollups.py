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
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting.models import (
    CampaignChannelDailyStat,
    CampaignMonthlyStat,
    CampaignWeeklyStat,
    FlowMonthlyStat,
)
from reporting.schemas import CampaignReportParams, FlowReportParams
from reporting.selectors import campaign_report, flow_report
from tests.reporting.conftest import flow_row, import_rows
from tests.reporting.test_report_properties import (
    PROPERTY_SETTINGS,
    SOURCES,
    _csv_row,
    _fresh_account,
    assert_metrics_match,
    stat_row,
)

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
    account = _fresh_account(rows)
    first, last = window
    brands = sorted({SOURCES[r["source_id"]][0] for r in rows})
    params = {"brands": brands} if dimensional and brands else {}
    report = campaign_report(
        account=account,
        user=cast.user("analyst@acme.test"),
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


def _rollup_values(model, key_fields) -> dict:
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
    return {
        tuple(row[k] for k in key_fields): {f: row[f] for f in fields}
        for row in model.objects.unscoped().values(*key_fields, *fields)
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


def _assert_rollups_match(rows: list[dict]) -> None:
    def monday(day: date) -> date:
        return day - timedelta(days=day.weekday())

    source = {f"Campaign {s}": s for s in SOURCES}
    names = dict(
        CampaignMonthlyStat.objects.unscoped().values_list("campaign_id", "campaign__name")
    )
    monthly = {
        (source[names[c]], ch, d): v
        for (c, ch, d), v in _rollup_values(
            CampaignMonthlyStat, ["campaign_id", "channel", "date"]
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
            CampaignWeeklyStat, ["campaign_id", "channel", "date"]
        ).items()
    }
    assert weekly == _expected_rollup(
        rows, lambda r: (r["source_id"], r["channel"], monday(r["date"]))
    )
    assert _rollup_values(CampaignChannelDailyStat, ["channel", "date"]) == _expected_rollup(
        rows, lambda r: (r["channel"], r["date"])
    )


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
    account = _fresh_account(rows)
    _assert_rollups_match(rows)

    changed = [
        _row("c0", date(2024, 1, 1), "email", opens=12, sends=500, delivered=480, bounces=20),
        _row("c1", date(2024, 1, 15), "email", clicks=None, revenue=Decimal("99.99")),
        _row("c3", date(2024, 1, 16), "email"),  # a new campaign in a touched week
    ]
    result = import_rows(account, [_csv_row(r) for r in changed])
    assert result.written == 3
    merged = {(r["source_id"], r["date"], r["channel"]): r for r in rows + changed}
    _assert_rollups_match(list(merged.values()))

    before = {
        model: _rollup_values(model, ["id"])
        for model in (CampaignMonthlyStat, CampaignWeeklyStat, CampaignChannelDailyStat)
    }
    assert import_rows(account, [_csv_row(r) for r in changed]).written == 0
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
        user=cast.user("analyst@acme.test"),
        params=FlowReportParams(date_from=date(2023, 12, 30), date_to=date(2024, 2, 3)),
    )
    # 36 days of 10, one of them raised to 1000.
    assert report.summary.sends == 35 * 10 + 1000
    assert report.summary.delivered == 35 * 10 + 900
    assert report.breakdown.rows[0].metrics.sends == 35 * 10 + 1000
