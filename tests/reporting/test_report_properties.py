"""Property tests: random statistics, imported for real, against independent arithmetic.

Every expectation here is computed in plain Python from the generated rows, not
from the reporting code: sums, each rate's definition, partitions by filter.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account, Membership, Role
from reporting.metrics import ADDITIVE_METRICS
from reporting.schemas import CampaignReportParams
from reporting.selectors import campaign_report
from tests.reporting.conftest import import_rows

START = date(2024, 2, 26)  # a Monday
DAYS = 10
CHANNELS = ["email", "sms", "web_push"]
# source_id -> (brand, folder, activation_type)
SOURCES = {
    "c0": ("Alpha", "Promos", "one_time"),
    "c1": ("Beta", "", "trigger"),
    "c2": ("Alpha", "News", "recurring"),
    "c3": ("Beta", "Promos", "api"),
}
ADDITIVE = ADDITIVE_METRICS  # names only; the values are computed here
_accounts = itertools.count()


@st.composite
def stat_row(draw):
    sends = draw(st.integers(0, 1000))
    delivered = draw(st.integers(0, sends))
    tracked_opens = draw(st.booleans())
    return {
        "source_id": draw(st.sampled_from(sorted(SOURCES))),
        "date": START + timedelta(days=draw(st.integers(0, DAYS - 1))),
        "channel": draw(st.sampled_from(CHANNELS)),
        "sends": sends,
        "delivered": delivered,
        "bounces": draw(st.integers(0, sends - delivered)),
        "opens": draw(st.integers(0, delivered)) if tracked_opens else None,
        "clicks": draw(st.one_of(st.none(), st.integers(0, 50))),
        "unsubscribes": draw(st.integers(0, 5)),
        "spam_complaints": draw(st.integers(0, 2)),
        "orders": draw(st.integers(0, 10)),
        "revenue": Decimal(draw(st.integers(0, 100_000))) / 100,
    }


rows_strategy = st.lists(
    stat_row(),
    min_size=0,
    max_size=25,
    unique_by=lambda r: (r["source_id"], r["date"], r["channel"]),
)


def _csv_row(row: dict) -> dict:
    brand, folder, activation_type = SOURCES[row["source_id"]]
    return {
        **row,
        "date": row["date"].isoformat(),
        "kind": "campaign",
        "source_name": f"Campaign {row['source_id']}",
        "folder": folder,
        "brand": brand,
        "goal": "Sales",
        "activation_type": activation_type,
        "opens": "" if row["opens"] is None else row["opens"],
        "clicks": "" if row["clicks"] is None else row["clicks"],
    }


# The user the property tests report as (from the cast, when a test has it): a
# member of every fresh account, since reports show a non-member nothing.
ANALYST = "analyst@acme.test"


def _fresh_account(rows: list[dict]) -> Account:
    account = Account.objects.create(
        system_name=f"prop-{next(_accounts)}", name="Property", timezone="UTC", currency="EUR"
    )
    analyst = get_user_model().objects.filter(username=ANALYST).first()
    if analyst is not None:
        Membership.objects.create(account=account, user=analyst, role=Role.ANALYST)
    if rows:
        import_rows(account, [_csv_row(r) for r in rows])
    return account


def _ratio(numerator, denominator):
    return None if not denominator else numerator / denominator


def expected(rows: list[dict]) -> dict:
    """The metric definitions, computed independently from the raw rows."""

    def total(key, subset=rows):
        return sum(r[key] for r in subset)

    opens_rows = [r for r in rows if r["opens"] is not None]
    clicks_rows = [r for r in rows if r["clicks"] is not None]
    both = [r for r in rows if r["opens"] is not None and r["clicks"] is not None]
    sums = {key: total(key) for key in ADDITIVE if key not in ("opens", "clicks", "revenue")}
    sums["opens"] = total("opens", opens_rows) if opens_rows else None
    sums["clicks"] = total("clicks", clicks_rows) if clicks_rows else None
    sums["revenue"] = sum((r["revenue"] for r in rows), Decimal("0"))
    delivered = sums["delivered"]
    return sums | {
        "delivery_rate": _ratio(delivered, sums["sends"]),
        "bounce_rate": _ratio(sums["bounces"], sums["sends"]),
        "open_rate": _ratio(sums["opens"], total("delivered", opens_rows)),
        "click_rate": _ratio(sums["clicks"], total("delivered", clicks_rows)),
        "click_to_open_rate": _ratio(total("clicks", both), total("opens", both)),
        "conversion_rate": _ratio(sums["orders"], delivered),
        "unsubscribe_rate": _ratio(sums["unsubscribes"], delivered),
        "spam_rate": _ratio(sums["spam_complaints"], delivered),
        "average_order_value": _ratio(sums["revenue"], sums["orders"]),
        "revenue_per_delivered": _ratio(sums["revenue"], delivered),
    }


def assert_metrics_match(metrics, rows):
    want = expected(rows)
    got = metrics.model_dump()
    for key in ADDITIVE:
        assert got[key] == want[key], key
    for key in ("average_order_value", "revenue_per_delivered"):
        places = Decimal("0.01") if key == "average_order_value" else Decimal("0.0001")
        if want[key] is None:
            assert got[key] is None, key
        else:
            assert abs(got[key] - want[key]) <= places / 2 + Decimal("1e-12"), key
    for key in (
        "delivery_rate",
        "bounce_rate",
        "open_rate",
        "click_rate",
        "click_to_open_rate",
        "conversion_rate",
        "unsubscribe_rate",
        "spam_rate",
    ):
        if want[key] is None:
            assert got[key] is None, key
        else:
            assert got[key] == pytest.approx(want[key], rel=1e-9), key
            assert got[key] >= 0 or key == "click_to_open_rate"


def _add(values: list):
    present = [v for v in values if v is not None]
    return sum(present[1:], present[0]) if present else None


def _report(account, user, **params):
    params = {"date_from": START, "date_to": START + timedelta(days=DAYS - 1), **params}
    return campaign_report(account=account, user=user, params=CampaignReportParams(**params))


PROPERTY_SETTINGS = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(rows=rows_strategy)
def test_summary_rates_equal_their_definitions(cast, rows):
    account = _fresh_account(rows)
    report = _report(account, cast.user(ANALYST), breakdown="none")
    assert_metrics_match(report.summary, rows)


@PROPERTY_SETTINGS
@given(rows=rows_strategy, by=st.sampled_from(["campaign", "folder", "brand", "channel"]))
def test_breakdown_rows_match_their_groups_and_add_up(cast, rows, by):
    account = _fresh_account(rows)
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
    account = _fresh_account(rows)
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
    account = _fresh_account(rows)
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
