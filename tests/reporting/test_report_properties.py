"""Property tests: random statistics, imported for real, against independent arithmetic.

Every expectation here is computed in plain Python from the generated rows, not
from the reporting code: sums, each rate's definition (tests/support/report_properties.py),
partitions by filter.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from reporting.schemas import CampaignReportParams
from tests.support.report_properties import (
    ADDITIVE,
    ANALYST,
    CHANNELS,
    DAYS,
    PROPERTY_SETTINGS,
    SOURCES,
    START,
    assert_metrics_match,
    fresh_account,
    stat_row,
)
from tests.support.reports import campaign_report_as

rows_strategy = st.lists(
    stat_row(),
    min_size=0,
    max_size=25,
    unique_by=lambda r: (r["source_id"], r["date"], r["channel"]),
)


def _add(values: list):
    present = [v for v in values if v is not None]
    return sum(present[1:], present[0]) if present else None


def _report(account, user, **params):
    params = {"date_from": START, "date_to": START + timedelta(days=DAYS - 1), **params}
    return campaign_report_as(account=account, user=user, params=CampaignReportParams(**params))


@PROPERTY_SETTINGS
@given(rows=rows_strategy)
def test_summary_rates_equal_their_definitions(cast, rows):
    account = fresh_account(rows)
    report = _report(account, cast.user(ANALYST), breakdown="none")
    assert_metrics_match(report.summary, rows)


@PROPERTY_SETTINGS
@given(rows=rows_strategy, by=st.sampled_from(["campaign", "folder", "brand", "channel"]))
def test_breakdown_rows_match_their_groups_and_add_up(cast, rows, by):
    account = fresh_account(rows)
    report = _report(account, cast.user(ANALYST), breakdown=by, limit=500)
    group_of = {
        "campaign": lambda r: r["source_id"],
        "folder": lambda r: SOURCES[r["source_id"]][1] or None,
        "brand": lambda r: SOURCES[r["source_id"]][0],
        "channel": lambda r: r["channel"],
    }[by]
    groups: dict = {}
    for row in rows:
        groups.setdefault(group_of(row), []).append(row)
    breakdown = report.breakdown
    assert breakdown.total_groups == len(groups) == len(breakdown.rows)
    assert not breakdown.truncated
    assert {r.key for r in breakdown.rows} == set(groups)
    for row in breakdown.rows:
        assert_metrics_match(row.metrics, groups[row.key])
    for key in ADDITIVE:
        assert _add([getattr(r.metrics, key) for r in breakdown.rows]) == (
            getattr(report.summary, key) if rows else None
        ), key


@PROPERTY_SETTINGS
@given(rows=rows_strategy, granularity=st.sampled_from(["day", "week", "month"]))
def test_timeline_is_continuous_and_adds_up_to_the_summary(cast, rows, granularity):
    account = fresh_account(rows)
    report = _report(account, cast.user(ANALYST), timeline=granularity)
    buckets = report.timeline.buckets
    assert buckets[0].period_start == START
    assert buckets[-1].period_end == START + timedelta(days=DAYS - 1)
    for before, after in itertools.pairwise(buckets):
        assert after.period_start == before.period_end + timedelta(days=1)
    assert len(buckets) == {"day": DAYS, "week": 2, "month": 2}[granularity]
    for bucket in buckets:
        inside = [r for r in rows if bucket.period_start <= r["date"] <= bucket.period_end]
        assert_metrics_match(bucket.metrics, inside)
    for key in ADDITIVE:
        summed = _add([getattr(b.metrics, key) for b in buckets])
        if key not in ("opens", "clicks") or summed is not None:
            assert summed == getattr(report.summary, key), key


@PROPERTY_SETTINGS
@given(rows=rows_strategy)
def test_filters_partition_the_data(cast, rows):
    account = fresh_account(rows)
    user = cast.user(ANALYST)
    total = _report(account, user, breakdown="none").summary
    brands = {SOURCES[r["source_id"]][0] for r in rows}
    folders = {SOURCES[r["source_id"]][1] or "(no folder)" for r in rows}
    for dimension, values, pick in (
        ("channels", CHANNELS, lambda r, v: r["channel"] == v),
        # Names match case-insensitively; only names the import created exist.
        (
            "brands",
            [b.swapcase() for b in sorted(brands)],
            lambda r, v: SOURCES[r["source_id"]][0].lower() == v.lower(),
        ),
        (
            "folders",
            [f.upper() for f in sorted(folders)],
            lambda r, v: (SOURCES[r["source_id"]][1] or "(no folder)").lower() == v.lower(),
        ),
        (
            "activation_types",
            ["one_time", "trigger", "recurring", "api"],
            lambda r, v: SOURCES[r["source_id"]][2] == v,
        ),
    ):
        parts = []
        for value in values:
            part = _report(account, user, breakdown="none", **{dimension: [value]}).summary
            assert_metrics_match(part, [r for r in rows if pick(r, value)])
            parts.append(part)
        for key in ("sends", "delivered", "orders", "revenue"):
            assert sum(getattr(p, key) for p in parts) == getattr(total, key), (dimension, key)
