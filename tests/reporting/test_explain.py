"""explain_change: drivers of a metric's change, against an independent decomposition.

The expectations are computed here from the generated rows (each metric's
numerator and denominator by its definition, the shift-share formulas written
out again), never from the reporting code.
"""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reporting.errors import ReportError
from reporting.metrics import METRIC_NAMES
from reporting.schemas import NO_FOLDER
from reporting.schemas_explain import ExplainChangeParams
from reporting.selectors import explain_change
from tests.support.report_properties import (
    ANALYST,
    DAYS,
    PROPERTY_SETTINGS,
    SOURCES,
    START,
    fresh_account,
    stat_row,
)
from tests.support.reports import BASE_ROW, import_rows

HALF = DAYS // 2
CURRENT = {"date_from": START + timedelta(days=HALF), "date_to": START + timedelta(days=DAYS - 1)}


def row(day: str, **changes) -> dict:
    return {**BASE_ROW, "date": day, **changes}


rows_strategy = st.lists(
    stat_row(), max_size=25, unique_by=lambda r: (r["source_id"], r["date"], r["channel"])
)


def _group(row: dict, by: str):
    brand, folder, _ = SOURCES[row["source_id"]]
    return {
        "campaign": row["source_id"],
        "brand": brand,
        "channel": row["channel"],
        "folder": folder or None,
    }[by]


def _parts(metric: str, rows: list[dict]) -> tuple:
    """(numerator, denominator) of ``metric`` over ``rows``, from its definition."""
    opens = [r for r in rows if r["opens"] is not None]
    clicks = [r for r in rows if r["clicks"] is not None]
    both = [r for r in opens if r["clicks"] is not None]

    def total(key, subset=rows):
        return sum((Fraction(r[key]) for r in subset), Fraction(0))

    return {
        "delivery_rate": (total("delivered"), total("sends")),
        "bounce_rate": (total("bounces"), total("sends")),
        "open_rate": (total("opens", opens), total("delivered", opens)),
        "click_rate": (total("clicks", clicks), total("delivered", clicks)),
        "click_to_open_rate": (total("clicks", both), total("opens", both)),
        "conversion_rate": (total("orders"), total("delivered")),
        "unsubscribe_rate": (total("unsubscribes"), total("delivered")),
        "spam_rate": (total("spam_complaints"), total("delivered")),
        "average_order_value": (total("revenue"), total("orders")),
        "revenue_per_delivered": (total("revenue"), total("delivered")),
    }.get(metric) or (
        (
            total(metric, opens if metric == "opens" else clicks)
            if metric in ("opens", "clicks")
            else total(metric)
        ),
        None,
    )


def _expected(rows: list[dict], metric: str, by: str) -> dict:
    """Per group: its contribution (and, for rates, its mix effect), and the total change."""
    windows = [
        [r for r in rows if r["date"] < CURRENT["date_from"]],
        [r for r in rows if r["date"] >= CURRENT["date_from"]],
    ]
    keys = {_group(r, by) for r in rows}
    totals = [_parts(metric, w) for w in windows]
    groups = {}
    if totals[0][1] is None:  # a sum: the group's own change
        for key in keys:
            values = [_parts(metric, [r for r in w if _group(r, by) == key])[0] for w in windows]
            groups[key] = (values[1] - values[0], None)
        return {"change": totals[1][0] - totals[0][0], "groups": groups}
    if not totals[0][1] or not totals[1][1]:
        return {"change": None, "groups": {}}
    for key in keys:
        n, d = zip(
            *(_parts(metric, [r for r in w if _group(r, by) == key]) for w in windows), strict=True
        )
        w = [d[i] / totals[i][1] for i in (0, 1)]
        r = [n[i] / d[i] if d[i] else None for i in (0, 1)]
        r = [r[0] if r[0] is not None else r[1], r[1] if r[1] is not None else r[0]]
        mix = ((r[0] or 0) + (r[1] or 0)) / 2 * (w[1] - w[0])
        groups[key] = (n[1] / totals[1][1] - n[0] / totals[0][1], mix)
    level = [t[0] / t[1] for t in totals]
    return {"change": level[1] - level[0], "groups": groups}


def _explain(cast, account, **params):
    from permissions.brand_scope import allowed_brand_ids

    user = cast.user(ANALYST)
    return explain_change(
        account=account,
        allowed_brands=allowed_brand_ids(user=user, account=account),
        params=ExplainChangeParams(kind="campaigns", **CURRENT, **params),
    )


@PROPERTY_SETTINGS
@given(
    rows=rows_strategy,
    metric=st.sampled_from([m for m in METRIC_NAMES]),
    by=st.sampled_from(["campaign", "brand", "channel", "folder"]),
)
def test_contributions_add_up_and_match_an_independent_decomposition(cast, rows, metric, by):
    account = fresh_account(rows)
    result = _explain(cast, account, metric=metric, by=by, limit=2)
    want = _expected(rows, metric, by)
    listed = result.drivers_up + result.drivers_down
    if want["change"] is None or (metric in ("opens", "clicks") and result.change.absolute is None):
        assert result.change.absolute is None and not result.explained and not listed
        return
    total = result.others.contribution if result.others else 0
    for driver in listed:
        total += driver.contribution
    ratio = want["groups"] and next(iter(want["groups"].values()))[1] is not None
    if ratio:
        assert float(want["change"]) == pytest.approx(result.change.absolute, abs=1e-12)
        assert total == pytest.approx(result.change.absolute, abs=1e-9)
    else:
        assert total == result.change.absolute == want["change"]  # exact: ints and Decimals
    # Each listed driver is its group, decomposed as written out above.
    for driver in listed:
        key = None if by == "folder" and driver.name == NO_FOLDER else driver.key
        contribution, mix = want["groups"][key]
        assert float(contribution) == pytest.approx(float(driver.contribution), abs=1e-12)
        if ratio:
            assert float(mix) == pytest.approx(driver.mix_effect, abs=1e-12)
            assert driver.rate_effect + driver.mix_effect == pytest.approx(
                driver.contribution, abs=1e-12
            )
    moved = sorted(abs(float(c)) for c, _ in want["groups"].values() if c)
    assert len(listed) == len([d for d in listed if d.contribution])
    assert len(result.drivers_up) <= 2 and len(result.drivers_down) <= 2
    assert result.total_groups == len(want["groups"])
    if listed:
        assert max(abs(float(d.contribution)) for d in listed) == pytest.approx(moved[-1])
    # New and gone groups are flagged from the data.
    previous_keys = {_group(r, by) for r in rows if r["date"] < CURRENT["date_from"]}
    current_keys = {_group(r, by) for r in rows if r["date"] >= CURRENT["date_from"]}
    assert result.new_groups == len(current_keys - previous_keys)
    assert result.gone_groups == len(previous_keys - current_keys)


def test_a_rate_change_split_into_rate_and_mix(acme):
    """Conversion rate: one campaign converts better, another grows its share."""
    before, after = "2024-03-04", "2024-03-11"
    rows = [
        row(before, source_id="c1", sends=100, delivered=100, orders=1),
        row(after, source_id="c1", sends=100, delivered=100, orders=3),
        row(before, source_id="c2", sends=100, delivered=100, orders=1),
        row(after, source_id="c2", sends=300, delivered=300, orders=3),
        row(after, source_id="c3", sends=100, delivered=100, orders=0),
    ]
    import_rows(acme, rows)
    result = explain_change(
        account=acme,
        allowed_brands=None,
        params=ExplainChangeParams(
            kind="campaigns",
            metric="conversion_rate",
            date_from="2024-03-11",
            date_to="2024-03-17",
        ),
    )
    assert result.method == "shift_share"
    assert result.previous == pytest.approx(0.01) and result.current == pytest.approx(6 / 500)
    c1 = next(d for d in result.drivers_up if d.key == "c1")
    # w: 0.5 -> 0.2, r: 0.01 -> 0.03; rate = 0.35 * 0.02, mix = 0.02 * -0.3
    assert c1.rate_effect == pytest.approx(0.007) and c1.mix_effect == pytest.approx(-0.006)
    c2 = next(d for d in result.drivers_up if d.key == "c2")
    assert c2.rate_effect == pytest.approx(0) and c2.mix_effect == pytest.approx(0.001)
    # c3 is new but converted nothing: no contribution, so it is among the others.
    assert result.new_groups == 1 and result.drivers_down == []
    assert result.others.groups == 1 and result.others.contribution == 0
    assert result.provenance.data_through.isoformat() == "2024-03-11"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"kind": "flows", "metric": "revenue", "by": "folder"}, "by='folder' is not available"),
        ({"kind": "flows", "metric": "revenue", "folders": ["x"]}, "applies to campaigns only"),
        ({"kind": "campaigns", "metric": "revenue", "flows": ["x"]}, "applies to flows only"),
        (
            {
                "kind": "campaigns",
                "metric": "revenue",
                "compare_to": "previous_year",
                "compare_date_from": "2024-01-01",
                "compare_date_to": "2024-01-07",
            },
            "not both",
        ),
        (
            {"kind": "campaigns", "metric": "revenue", "compare_date_from": "2024-01-01"},
            "Comparison window: Give both",
        ),
        ({"kind": "campaigns", "metric": "revenue", "brands": ["Acme Hme"]}, "Acme Home"),
    ],
)
def test_bad_arguments_get_a_message_saying_what_to_do(acme, params, message):
    import_rows(acme, [row("2024-03-04")])
    with pytest.raises(ReportError, match=message):
        explain_change(account=acme, allowed_brands=None, params=ExplainChangeParams(**params))
