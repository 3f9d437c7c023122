"""explain_change: which groups drove a metric's change between two windows.

One grouped query reads, for every group (campaign, flow, folder, channel or
brand), the metric's numerator and denominator in both windows (``Sum`` with a
filter per window, each window read through :func:`reporting.periods.cover`)
and whether the group has rows in each. The decomposition is arithmetic on
those few numbers per group, done here in exact rationals (``Fraction``) so the
contributions add up to the total change; the formulas are
:data:`reporting.schemas_explain.METHOD`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from django.db.models import Count, Sum

from accounts.models import Account
from reporting.errors import ReportError
from reporting.metrics import FRACTIONS, METRICS, TRACKABLE, change, sum_present
from reporting.periods import DateWindow, account_today, comparison_window, resolve_window
from reporting.schemas_explain import EXPLAIN_BY, ExplainChangeParams, Explanation
from reporting.selectors.reports import provenance, window_model
from reporting.selectors.rows import CAMPAIGNS, FLOWS, groups, in_window, report_criteria

NOT_EXPLAINED = (
    "The metric is null in one window (nothing to divide by, or not tracked there), so its "
    "change is null and is not decomposed. Try a wider window or another metric."
)
_KINDS = {"campaigns": CAMPAIGNS, "flows": FLOWS}
_ONLY_FOR = {"activation_types": "campaigns", "folders": "campaigns", "flows": "flows"}


@dataclass
class _Group:
    key: str | None
    name: str
    numerator: tuple  # (previous, current): sums, None when no row of the window has one
    denominator: tuple  # (previous, current); (0, 0) for sum metrics
    rows: tuple  # (previous, current) row counts


class _Decomposition(NamedTuple):
    """The metric over all groups in each window, its change, and per group (``entries``)
    its values; exact rationals for rates, converted by :func:`_plain` at the output."""

    current: int | Decimal | Fraction | None
    previous: int | Decimal | Fraction | None
    absolute: int | Decimal | Fraction | None  # None: not explained, and no entries
    relative: float | None
    entries: list  # (group, its values: current, previous, contribution, ...)


def explain_change(
    *,
    account: Account,
    allowed_brands: set[int] | None,
    params: ExplainChangeParams,
    today: date | None = None,
) -> Explanation:
    """Why ``params.metric`` changed between the current and the comparison window, for
    the groups ``allowed_brands`` lets the member see (None = every brand)."""
    kind = _KINDS[params.kind]
    by = params.by or kind.source
    _check(params, by)
    today = today or account_today(account.timezone)
    window = resolve_window(
        period=params.period, date_from=params.date_from, date_to=params.date_to, today=today
    )
    other = _comparison(params, window, today)
    filters = report_criteria(account=account, allowed=allowed_brands, params=params)
    found = _groups(kind, account, filters.rows(kind, by), by, params.metric, window, other)
    ratio = params.metric in FRACTIONS
    result = _shift_share(found) if ratio else _differences(params.metric, found)
    return Explanation(
        account=account.system_name,
        kind=params.kind,
        metric=params.metric,
        definition=METRICS[params.metric].definition,
        method="shift_share" if ratio else "difference",
        window=window_model(window),
        comparison_window=window_model(other),
        by=by,
        limit=params.limit,
        total_groups=len(found),
        new_groups=sum(1 for g in found if _status(g) == "new"),
        gone_groups=sum(1 for g in found if _status(g) == "gone"),
        brand_restricted=allowed_brands is not None,
        provenance=provenance(account=account, window=window, today=today),
        **_drivers(result, params.limit),
    )


def _check(params: ExplainChangeParams, by: str) -> None:
    if by not in EXPLAIN_BY[params.kind]:
        raise ReportError(
            f"by={by!r} is not available for {params.kind}: use one of "
            f"{', '.join(EXPLAIN_BY[params.kind])}."
        )
    for name, kind in _ONLY_FOR.items():
        if getattr(params, name) and params.kind != kind:
            raise ReportError(
                f"The {name} filter applies to {kind} only; drop it for {params.kind}."
            )


def _comparison(params: ExplainChangeParams, window: DateWindow, today: date) -> DateWindow:
    explicit = params.compare_date_from is not None or params.compare_date_to is not None
    if explicit and params.compare_to is not None:
        raise ReportError("Give either compare_to or compare_date_from/compare_date_to, not both.")
    if not explicit:
        return comparison_window(window, params.compare_to or "previous_period")
    try:
        return resolve_window(
            period=None,
            date_from=params.compare_date_from,
            date_to=params.compare_date_to,
            today=today,
        )
    except ReportError as error:
        raise ReportError(f"Comparison window: {error.message}") from None


def _groups(kind, account, rows, by, metric, window, other) -> list[_Group]:
    """Each group's numerator, denominator and row count in both windows: one query."""
    windows = {"p": in_window(other), "c": in_window(window)}
    numerator, denominator = FRACTIONS.get(metric, (metric, None))
    sums = {}
    for prefix, where in windows.items():
        sums[f"{prefix}_n"] = Sum(numerator, filter=where)
        if denominator:
            sums[f"{prefix}_d"] = Sum(denominator, filter=where)
        sums[f"{prefix}_rows"] = Count("pk", filter=where)
    grouped = groups(kind, account, rows, by)
    found = (
        grouped.values.filter(windows["p"] | windows["c"])
        .annotate(**sums)
        .annotate(**grouped.names)
        .order_by()
    )
    money = numerator == "revenue"

    def number(value):  # PostgreSQL sums bigints as numeric
        return value if value is None or money else int(value)

    return [
        _Group(
            key=row["key"],
            name=row["name"],
            numerator=(number(row["p_n"]), number(row["c_n"])),
            denominator=(int(row.get("p_d") or 0), int(row.get("c_d") or 0)),
            rows=(row["p_rows"], row["c_rows"]),
        )
        for row in found
    ]


def _status(group: _Group) -> str:
    if not group.rows[0]:
        return "new"
    return "gone" if not group.rows[1] else "continuing"


def _differences(metric: str, found: list[_Group]) -> _Decomposition:
    """Sums: each group's contribution is its own change."""
    levels = [sum_present([g.numerator[i] for g in found]) for i in (0, 1)]
    if metric not in TRACKABLE:
        zero = Decimal("0.00") if metric == "revenue" else 0
        levels = [zero if level is None else level for level in levels]
    previous, current = levels
    absolute, relative = change(metric, current, previous)
    entries = []
    if absolute is not None:
        for g in found:
            before, now = g.numerator
            difference = (now or 0) - (before or 0)
            entries.append((g, {"current": now, "previous": before, "contribution": difference}))
    return _Decomposition(current, previous, absolute, relative, entries)


def _fraction(value) -> Fraction:
    return Fraction(value or 0)


def _level(found: list[_Group], i: int) -> Fraction | None:
    """The ratio over the groups ``found`` in window ``i`` (0 previous, 1 current); None
    when they have no denominator there."""
    denominator = sum(g.denominator[i] for g in found)
    return sum(_fraction(g.numerator[i]) for g in found) / denominator if denominator else None


def _shift_share(found: list[_Group]) -> _Decomposition:
    """Rates: each group's contribution split into rate and mix effects (exact rationals)."""
    previous, current = (_level(found, i) for i in (0, 1))
    if previous is None or current is None:
        return _Decomposition(current, previous, None, None, [])
    denominators = [sum(g.denominator[i] for g in found) for i in (0, 1)]
    entries = []
    for g in found:
        shares = [Fraction(g.denominator[i], denominators[i]) for i in (0, 1)]
        rates = [
            _fraction(g.numerator[i]) / g.denominator[i] if g.denominator[i] else None
            for i in (0, 1)
        ]
        # A window without denominator borrows the other window's rate: all mix.
        before, now = (
            rates[0] if rates[0] is not None else rates[1],
            rates[1] if rates[1] is not None else rates[0],
        )
        contribution = (
            _fraction(g.numerator[1]) / denominators[1]
            - _fraction(g.numerator[0]) / denominators[0]
        )
        mix = ((before or 0) + (now or 0)) / 2 * (shares[1] - shares[0])
        values = {
            "current": rates[1],
            "previous": rates[0],
            "contribution": contribution,
            "rate_effect": contribution - mix,
            "mix_effect": mix,
            "share_current": shares[1],
            "share_previous": shares[0],
        }
        entries.append((g, values))
    absolute = current - previous
    relative = float(absolute / previous) if previous else None
    return _Decomposition(current, previous, absolute, relative, entries)


def _drivers(result: _Decomposition, limit: int) -> dict:
    """The top movers each way, everything else as one row, and the change itself."""
    entries = result.entries

    def order(entry):
        group, values = entry
        return (-abs(values["contribution"]), group.name, group.key or "")

    up = sorted((e for e in entries if e[1]["contribution"] > 0), key=order)[:limit]
    down = sorted((e for e in entries if e[1]["contribution"] < 0), key=order)[:limit]
    listed = {id(e[0]) for e in up + down}
    rest = [e for e in entries if id(e[0]) not in listed]
    explained = result.absolute is not None
    return {
        "current": _plain(result.current),
        "previous": _plain(result.previous),
        "change": {"absolute": _plain(result.absolute), "relative": result.relative},
        "explained": explained,
        "note": None if explained else NOT_EXPLAINED,
        "drivers_up": [_driver(e) for e in up],
        "drivers_down": [_driver(e) for e in down],
        "others": _others(rest) if rest else None,
    }


def _plain(value):
    """Exact rationals become floats (the last step, so that sums of them stay exact); ints,
    Decimals and None stay as they are."""
    return float(value) if isinstance(value, Fraction) else value


def _driver(entry) -> dict:
    group, values = entry
    return {"key": group.key, "name": group.name, "status": _status(group)} | {
        name: _plain(value) for name, value in values.items()
    }


def _others(rest: list) -> dict:
    groups_ = [group for group, _ in rest]
    values = [v for _, v in rest]
    summed = {
        name: _plain(sum_present(v[name] for v in values))
        for name in ("contribution", "rate_effect", "mix_effect")
        if name in values[0]
    }
    if "rate_effect" in values[0]:  # a ratio: the level from the group sums
        previous, current = (_plain(_level(groups_, i)) for i in (0, 1))
    else:
        previous, current = (sum_present([g.numerator[i] for g in groups_]) for i in (0, 1))
    return {"groups": len(rest), "previous": previous, "current": current, **summed}
