"""campaign_report and flow_report: plain ORM aggregation in a constant number of queries.

One report = one lookup per name filter used, one summary query (both windows
in one pass with ``compare_to``), one timeline query and one breakdown query.
All sums, rates, sorting, the limit and the group count run in the database;
Python only lays empty timeline buckets (from the window, not from rows),
computes the comparison's changes from the two summaries and copies values into
the result models.

Each query reads the statistics rows that cover its window with the fewest
rows (:func:`reporting.periods.cover`): whole months as month rows, whole weeks
at the edges as week rows, the remaining days as day rows. Reports that neither
filter on nor break down by a campaign's or flow's own attributes (goal, folder,
activation type, the campaign or flow itself) read the per-brand rows instead
of the per-campaign ones: a handful of rows per period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Model, OuterRef, Q, QuerySet, Subquery, Value, Window
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek

from accounts.models import Account
from reporting import schemas
from reporting.metrics import ADDITIVE_METRICS, METRIC_NAMES, METRICS, change
from reporting.models import (
    Campaign,
    CampaignBrandStat,
    CampaignStat,
    Flow,
    FlowBrandStat,
    FlowStat,
    Grain,
)
from reporting.periods import Span, cover
from reporting.selectors.criteria import report_criteria
from reporting.selectors.visibility import reporting_db
from reporting.windows import (
    DateWindow,
    account_today,
    buckets,
    comparison_window,
    resolve_window,
)


@dataclass(frozen=True)
class _Kind:
    """What differs between the campaign and the flow report."""

    stats: type[Model]  # rows per campaign or flow
    sources: type[Model]  # Campaign or Flow
    brand_stats: type[Model]  # rows per brand
    source: str  # "campaign" or "flow": the rows' link, and the breakdown by it
    # Breakdowns other than by source, on per-source rows: by -> (key, name)
    breakdowns: dict[str, tuple[str, object]]


_CAMPAIGNS = _Kind(
    stats=CampaignStat,
    sources=Campaign,
    brand_stats=CampaignBrandStat,
    source="campaign",
    breakdowns={
        "folder": (
            "campaign__folder__name",
            Coalesce(F("campaign__folder__name"), Value(schemas.NO_FOLDER)),
        ),
        "brand": ("campaign__brand__name", F("campaign__brand__name")),
        "channel": ("channel", F("channel")),
    },
)
_FLOWS = _Kind(
    stats=FlowStat,
    sources=Flow,
    brand_stats=FlowBrandStat,
    source="flow",
    breakdowns={
        "brand": ("flow__brand__name", F("flow__brand__name")),
        "channel": ("channel", F("channel")),
    },
)
# Breakdowns the per-brand rows answer: by -> (key, name)
_BRAND_ROW_BREAKDOWNS = {
    "brand": ("brand__name", F("brand__name")),
    "channel": ("channel", F("channel")),
}


def campaign_report(
    *,
    account: Account,
    allowed_brands: set[int] | None,
    params: schemas.CampaignReportParams,
    today: date | None = None,
) -> schemas.CampaignReport:
    """Campaign performance for ``account``, limited to ``allowed_brands`` (None = every brand).

    ``allowed_brands`` is the member's brand scope, decided by the caller
    (``permissions.brand_scope.allowed_brand_ids``). ``today`` pins the
    account-local current day (tests); by default it is read from the clock in
    the account's time zone.
    """
    return _report(_CAMPAIGNS, schemas.CampaignReport, account, allowed_brands, params, today)


def flow_report(
    *,
    account: Account,
    allowed_brands: set[int] | None,
    params: schemas.FlowReportParams,
    today: date | None = None,
) -> schemas.FlowReport:
    """Flow performance for ``account``, limited to ``allowed_brands`` (None = every brand)."""
    return _report(_FLOWS, schemas.FlowReport, account, allowed_brands, params, today)


def _in(spans: list[Span]) -> Q:
    """The rows of ``spans``: each (grain, first, last) selects that grain's rows starting
    between first and last."""
    condition = Q()
    for grain, first, last in spans:
        condition |= Q(grain=grain, period_start__range=(first, last))
    return condition


def _metric_aliases(where: Q | None = None, prefix: str = "m_") -> dict[str, object]:
    # Prefixed: annotations may not reuse the model's field names (sends, opens, …).
    return {f"{prefix}{name}": METRICS[name].expression(where) for name in METRIC_NAMES}


def _metric_values(values: dict, prefix: str = "m_") -> dict:
    return {name: values[f"{prefix}{name}"] for name in METRIC_NAMES}


def _empty_values() -> dict:
    """Metrics over no rows: zero counts, null opens/clicks (nothing tracked), null rates."""
    values = {name: None for name in METRIC_NAMES}
    values |= {name: 0 for name in ADDITIVE_METRICS if name not in ("opens", "clicks")}
    return values | {"revenue": Decimal("0.00")}


_TRUNCATE = {
    "day": F("period_start"),
    "week": TruncWeek("period_start"),
    "month": TruncMonth("period_start"),
}


def _timeline(rows: QuerySet, window: DateWindow, granularity: str) -> schemas.Timeline:
    # Each row lies inside one bucket (see reporting.periods.cover): truncating its
    # start gives the bucket's.
    grouped = (
        rows.filter(_in(cover(window.date_from, window.date_to, granularity)))
        .values(bucket=_TRUNCATE[granularity])
        .annotate(**_metric_aliases())
        .order_by("bucket")
    )
    found = {row["bucket"]: _metric_values(row) for row in grouped}
    empty = _empty_values()
    return schemas.Timeline(
        granularity=granularity,
        buckets=[
            {
                "period_start": max(start, window.date_from),
                "period_end": end,
                "metrics": found.get(start, empty),
            }
            for start, end in buckets(window, granularity)
        ],
    )


def _breakdown(
    kind: _Kind, account: Account, rows: QuerySet, per_source: bool, window: DateWindow, params
) -> schemas.Breakdown:
    by = params.breakdown
    names = {}
    if by == kind.source:
        # Grouped by the campaign's or flow's id, its external id and name looked up per
        # group: joined to every row before grouping, they made a 3-year breakdown
        # hash ~100,000 rows on two text columns. Same-name ties go by that id.
        grouped = rows.values(kind.source)
        source = kind.sources.objects.for_account(account).filter(pk=OuterRef(kind.source))
        names = {
            "key": Subquery(source.values("external_id")),
            "name": Subquery(source.values("name")),
        }
        tie = F(kind.source).asc()
    else:
        key, name = (kind.breakdowns if per_source else _BRAND_ROW_BREAKDOWNS)[by]
        grouped = rows.values(key=F(key), name=name)
        tie = F("key").asc(nulls_first=True)
    metric = F(f"m_{params.sort_by}")
    ordering = (
        metric.asc(nulls_last=True) if params.order == "asc" else metric.desc(nulls_last=True)
    )
    found = list(
        grouped.filter(_in(cover(window.date_from, window.date_to, Grain.MONTH)))
        .annotate(**_metric_aliases())
        .annotate(**names)
        # Counted over the groups, before the limit cuts them.
        .annotate(total_groups=Window(Count("*")))
        .order_by(ordering, F("name").asc(), tie)[: params.limit]
    )
    total = found[0]["total_groups"] if found else 0
    return schemas.Breakdown(
        by=by,
        sort_by=params.sort_by,
        order=params.order,
        limit=params.limit,
        total_groups=total,
        truncated=total > len(found),
        rows=[
            {"key": row["key"], "name": row["name"], "metrics": _metric_values(row)}
            for row in found
        ],
    )


def _summary(rows: QuerySet, window: DateWindow, compare_to: str | None):
    """The window's metrics and, with ``compare_to``, the comparison: in one query."""
    current = _in(cover(window.date_from, window.date_to, Grain.MONTH))
    if compare_to is None:
        values = rows.filter(current).aggregate(**_metric_aliases())
        return _metric_values(values), None
    other = comparison_window(window, compare_to)
    previous = _in(cover(other.date_from, other.date_to, Grain.MONTH))
    values = rows.filter(current | previous).aggregate(
        **_metric_aliases(current), **_metric_aliases(previous, prefix="p_")
    )
    return _metric_values(values), (other, _metric_values(values, "p_"))


def _comparison(summary: dict, compared, compare_to: str) -> schemas.Comparison:
    other, before = compared
    changes = {name: change(name, summary[name], before[name]) for name in METRIC_NAMES}
    return schemas.Comparison(
        compare_to=compare_to,
        window=_window(other),
        summary=before,
        change={
            name: {"absolute": absolute, "relative": relative}
            for name, (absolute, relative) in changes.items()
        },
    )


def _window(window: DateWindow) -> schemas.Window:
    return schemas.Window(
        date_from=window.date_from, date_to=window.date_to, days=window.days, period=window.period
    )


def _report(kind: _Kind, result_type, account, allowed, params, today):
    window = resolve_window(
        period=params.period,
        date_from=params.date_from,
        date_to=params.date_to,
        today=today or account_today(account.timezone),
    )
    filters = report_criteria(source=kind.source, account=account, allowed=allowed, params=params)
    db = reporting_db()
    by_source = bool(filters.of_source)

    def rows(per_source: bool) -> QuerySet:
        stats = kind.stats if per_source else kind.brand_stats
        return filters.rows(stats, per_source, db, account)

    breakdown = None
    if params.breakdown != "none":
        per_source = by_source or params.breakdown not in _BRAND_ROW_BREAKDOWNS
        breakdown = _breakdown(kind, account, rows(per_source), per_source, window, params)
    if filters.brands == set():  # a member who sees no brand: no row can match
        summary, compared = _empty_values(), None
        if params.compare_to:
            other = comparison_window(window, params.compare_to)
            compared = (other, _empty_values())
    else:
        summary, compared = _summary(rows(by_source), window, params.compare_to)
    return result_type(
        account=account.system_name,
        currency=account.currency,
        timezone=account.timezone,
        window=_window(window),
        brand_restricted=allowed is not None,
        summary=summary,
        timeline=_timeline(rows(by_source), window, params.timeline) if params.timeline else None,
        breakdown=breakdown,
        comparison=_comparison(summary, compared, params.compare_to) if compared else None,
    )
