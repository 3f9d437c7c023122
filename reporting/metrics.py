"""Every report metric, defined once: what it sums or divides, and its definition.

A metric is a sum of a statistics row column or a ratio of two such sums
(:data:`FRACTIONS`). Reports let the database sum the rows, of any grain
(:func:`sum_aliases`; the conditional rates read the partial sums that
:class:`reporting.models.StatBase` explains), and derive every metric from those
sums with :func:`from_sums`. The ORM expression of each metric (:data:`METRICS`,
built from the same fractions) computes it inside a query, where a breakdown
sorts by it; tests hold the two to the same values. The definitions are the text
the README and the MCP tool descriptions show, so they cannot drift from the code.

Null rules: counts are 0 over no rows; ``opens``/``clicks`` are null when no
selected row tracks them (empty in the import = not tracked, e.g. SMS opens);
every ratio is null when its denominator is 0 or null.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    BigIntegerField,
    DecimalField,
    ExpressionWrapper,
    FloatField,
    Sum,
    Value,
)
from django.db.models.expressions import Combinable, Expression
from django.db.models.functions import Cast, Coalesce, NullIf, Round

from reporting.models import SUMMED_COLUMNS

_MONEY = DecimalField(max_digits=20, decimal_places=2)
_BIG = BigIntegerField()


@dataclass(frozen=True)
class Metric:
    name: str
    definition: str
    expression: Callable[[], Expression]  # the aggregate over the selected rows


def _integer_sum(field: str) -> Expression:
    # PostgreSQL sums bigints as numeric, which the driver loads as Decimals: several
    # times slower to load and to validate than ints, for counts that fit a bigint.
    return Cast(Sum(field), BigIntegerField())


def _ratio(numerator: Combinable, denominator: Combinable) -> Expression:
    """numerator / denominator as a float; null when the denominator is 0 or null."""
    return Cast(numerator, FloatField()) / NullIf(Cast(denominator, FloatField()), Value(0.0))


def _money_ratio(numerator: Combinable, denominator: Combinable, places: int) -> Expression:
    return Round(
        ExpressionWrapper(numerator / NullIf(denominator, 0), output_field=_MONEY),
        places,
        output_field=DecimalField(max_digits=20, decimal_places=places),
    )


# Each ratio as (numerator column, denominator column) of the statistics rows: the
# expressions below and the change decomposition (selectors/drivers.py) both read it.
FRACTIONS: dict[str, tuple[str, str]] = {
    "delivery_rate": ("delivered", "sends"),
    "bounce_rate": ("bounces", "sends"),
    "open_rate": ("opens", "opens_delivered"),
    "click_rate": ("clicks", "clicks_delivered"),
    "click_to_open_rate": ("both_clicks", "both_opens"),
    "conversion_rate": ("orders", "delivered"),
    "unsubscribe_rate": ("unsubscribes", "delivered"),
    "spam_rate": ("spam_complaints", "delivered"),
    "average_order_value": ("revenue", "orders"),
    "revenue_per_delivered": ("revenue", "delivered"),
}
# Decimal places of the money metrics (the documented rounding), and the quantum of each.
MONEY_PLACES = {"revenue": 2, "average_order_value": 2, "revenue_per_delivered": 4}
_EXPONENTS = {name: Decimal(1).scaleb(-places) for name, places in MONEY_PLACES.items()}
TRACKABLE = ("opens", "clicks")  # null when no selected row tracks them

# Every metric in the order the results and the tools' schemas list them.
_DEFINITIONS = {
    "sends": "Messages sent (sum).",
    "delivered": "Messages delivered (sum).",
    "bounces": "Messages bounced or failed (sum).",
    "opens": "Opens (sum over rows whose channel tracks opens; null when none does, e.g. SMS "
    "only).",
    "clicks": "Clicks (sum over rows whose channel tracks clicks; null when none does).",
    "unsubscribes": "Unsubscribes (sum).",
    "spam_complaints": "Spam complaints (sum).",
    "orders": "Attributed orders (sum).",
    "revenue": "Attributed revenue in the account's currency (sum; a decimal string).",
    "delivery_rate": "delivered / sends. Null when sends is 0.",
    "bounce_rate": "bounces / sends. Null when sends is 0.",
    "open_rate": "opens / delivered, the denominator counting only the delivered of rows that "
    "track opens (untracked channels never dilute it). Null when that is 0.",
    "click_rate": "clicks / delivered, the denominator counting only the delivered of rows that "
    "track clicks. Null when that is 0.",
    "click_to_open_rate": "clicks / opens, both summed over rows that track opens and clicks. "
    "Null when those opens are 0.",
    "conversion_rate": "orders / delivered. Null when delivered is 0.",
    "unsubscribe_rate": "unsubscribes / delivered. Null when delivered is 0.",
    "spam_rate": "spam_complaints / delivered. Null when delivered is 0.",
    "average_order_value": "revenue / orders, rounded to 2 decimals (a decimal string). Null "
    "when orders is 0.",
    "revenue_per_delivered": "revenue / delivered, rounded to 4 decimals (a decimal string). "
    "Null when delivered is 0.",
}


def _aggregate(name: str) -> Callable[[], Expression]:
    """Metric ``name``'s aggregate: a ratio of two sums (:data:`FRACTIONS`) or a column's sum."""
    if name in FRACTIONS:
        top, bottom = FRACTIONS[name]
        if name in MONEY_PLACES:
            return lambda: _money_ratio(Sum(top), Sum(bottom), MONEY_PLACES[name])
        return lambda: _ratio(Sum(top), Sum(bottom))
    if name == "revenue":
        return lambda: Coalesce(Sum(name), Value(Decimal("0")), output_field=_MONEY)
    if name in TRACKABLE:
        return lambda: _integer_sum(name)
    return lambda: Coalesce(_integer_sum(name), 0, output_field=_BIG)


METRICS: dict[str, Metric] = {
    name: Metric(name, text, _aggregate(name)) for name, text in _DEFINITIONS.items()
}
METRIC_NAMES: tuple[str, ...] = tuple(METRICS)
ADDITIVE_METRICS: tuple[str, ...] = tuple(name for name in METRICS if name not in FRACTIONS)
# Plain-text definitions for tool descriptions and the README.
METRIC_DEFINITIONS = "\n".join(
    [
        "Rates are fractions in [0, 1] (not percent), null when the denominator is 0. "
        "Money values are decimal strings in the account's currency.",
        *(f"- {m.name}: {m.definition}" for m in METRICS.values()),
    ]
)


def change(name: str, current, previous) -> tuple[object, float | None]:
    """The absolute and relative change of metric ``name`` between two computed values.

    absolute = current - previous (null when either is null); relative =
    (current - previous) / previous, null when previous is 0 or null. Money
    differences keep the metric's decimal places.
    """
    if current is None or previous is None:
        return None, None
    absolute = current - previous
    if name in _EXPONENTS:
        absolute = Decimal(absolute).quantize(_EXPONENTS[name])
    relative = float(absolute) / float(previous) if previous else None
    return absolute, relative


# The column whose sum says whether a summed column is tracked: SQL's SUM over rows none of
# which tracks an event is null, and a difference of sums (a breakdown's others) is not.
_TRACKED_BY = {
    "opens": "opens",
    "opens_delivered": "opens",
    "clicks": "clicks",
    "clicks_delivered": "clicks",
    "both_opens": "both_opens",
    "both_clicks": "both_opens",
}


def sum_aliases(*, cast: bool = False) -> dict[str, Expression]:
    """The base sums of the selected rows (models.SUMMED_COLUMNS), for :func:`from_sums`.

    ``cast``: the counts as bigints (see ``_integer_sum``), for a query of many rows (a
    day timeline: 1,095), where loading Decimals cost more than the casts; in a query
    of a few rows, compiling 12 casts costs more than they save."""
    integer_sum = _integer_sum if cast else Sum
    return {f"s_{c}": Sum(c) if c == "revenue" else integer_sum(c) for c in SUMMED_COLUMNS}


def sums_minus(total: dict, parts: list[dict], tracked_elsewhere: Callable[[str], bool]) -> dict:
    """The base sums of the rows in ``total`` but in none of ``parts``, null where none of
    those rows tracks the event.

    ``total`` may come from other rows than ``parts`` (per-brand rollups, per-campaign
    rows): sums subtract, which rows tracked an event does not. So a positive remaining
    sum proves a tracked row remains; when none does, ``tracked_elsewhere(column)``
    answers whether any remaining row has ``column`` (one small query, only then).
    """
    remaining = {
        column: (total[f"s_{column}"] or 0) - sum(part[f"s_{column}"] or 0 for part in parts)
        for column in SUMMED_COLUMNS
    }
    tracked = {}
    for tracker in set(_TRACKED_BY.values()):
        if total[f"s_{tracker}"] is None:
            tracked[tracker] = False  # no row at all tracks it
        else:
            shown = [c for c, t in _TRACKED_BY.items() if t == tracker]
            tracked[tracker] = any(remaining[c] for c in shown) or tracked_elsewhere(tracker)
    return {
        column: None if column in _TRACKED_BY and not tracked[_TRACKED_BY[column]] else value
        for column, value in remaining.items()
    }


def sum_present(values: Iterable):
    """The sum of the non-null ``values``, of their own type (a Decimal keeps its places);
    None when every one is null."""
    present = [v for v in values if v is not None]
    return sum(present[1:], present[0]) if present else None


def sums_plus(parts: list[dict]) -> dict:
    """The base sums of the rows of all ``parts`` together (null where every part's is)."""
    return {f"s_{c}": sum_present(part[f"s_{c}"] for part in parts) for c in SUMMED_COLUMNS}


_COUNTS = tuple(name for name in ADDITIVE_METRICS if name != "revenue")


def from_sums(sums: dict, prefix: str = "") -> dict:
    """Every metric from the base sums of some rows, exactly as the expressions above compute
    it in the database (a ratio's operands as floats, money ratios rounded half away from
    zero): for a row of metrics derived from others by subtraction (a breakdown's others)."""
    if prefix:
        sums = {column: sums[prefix + column] for column in SUMMED_COLUMNS}
    values = {name: int(sums[name] or 0) for name in _COUNTS}
    for name in TRACKABLE:
        if sums[name] is None:
            values[name] = None
    values["revenue"] = Decimal(sums["revenue"] or 0).quantize(_EXPONENTS["revenue"])
    for name, (numerator, denominator) in FRACTIONS.items():
        top, bottom = sums[numerator], sums[denominator]
        if top is None or not bottom:
            values[name] = None
        elif name in _EXPONENTS:
            ratio = Decimal(top) / Decimal(bottom)
            values[name] = ratio.quantize(_EXPONENTS[name], ROUND_HALF_UP)
        else:
            values[name] = float(top) / float(bottom)
    return values
