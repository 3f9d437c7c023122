"""Random campaign statistics and their metrics computed independently, in plain Python.

The property tests (tests/reporting/test_report_properties.py, test_rollups.py)
import the generated rows for real and compare the reports with ``expected``:
sums, and each rate from its definition, never from the reporting code.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from accounts.models import Account, Membership, Role
from reporting.metrics import ADDITIVE_METRICS
from tests.support.reports import import_rows

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


def csv_row(row: dict) -> dict:
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


def fresh_account(rows: list[dict]) -> Account:
    account = Account.objects.create(
        system_name=f"prop-{next(_accounts)}", name="Property", timezone="UTC", currency="EUR"
    )
    analyst = get_user_model().objects.filter(username=ANALYST).first()
    if analyst is not None:
        Membership.objects.create(account=account, user=analyst, role=Role.ANALYST)
    if rows:
        import_rows(account, [csv_row(r) for r in rows])
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


PROPERTY_SETTINGS = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
