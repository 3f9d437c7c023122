"""What the reports and the change explanation share: the two kinds of report, the
rows a window reads, the metric annotations and the groups a breakdown forms."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Model, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from reporting import schemas
from reporting.metrics import ADDITIVE_METRICS, METRIC_NAMES, METRICS
from reporting.models import (
    Campaign,
    CampaignBrandStat,
    CampaignStat,
    Flow,
    FlowBrandStat,
    FlowStat,
)
from reporting.periods import Span


@dataclass(frozen=True)
class Kind:
    """What differs between the campaign and the flow report."""

    stats: type[Model]  # rows per campaign or flow
    sources: type[Model]  # Campaign or Flow
    brand_stats: type[Model]  # rows per brand
    source: str  # "campaign" or "flow": the rows' link, and the breakdown by it
    # Breakdowns other than by source, on per-source rows: by -> (key, name)
    breakdowns: dict[str, tuple[str, object]]


CAMPAIGNS = Kind(
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
FLOWS = Kind(
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
BRAND_ROW_BREAKDOWNS = {
    "brand": ("brand__name", F("brand__name")),
    "channel": ("channel", F("channel")),
}


def rows_in(spans: list[Span]) -> Q:
    """The rows of ``spans``: each (grain, first, last) selects that grain's rows starting
    between first and last."""
    condition = Q()
    for grain, first, last in spans:
        condition |= Q(grain=grain, period_start__range=(first, last))
    return condition


def metric_aliases(where: Q | None = None, prefix: str = "m_") -> dict[str, object]:
    # Prefixed: annotations may not reuse the model's field names (sends, opens, …).
    return {f"{prefix}{name}": METRICS[name].expression(where) for name in METRIC_NAMES}


def metric_values(values: dict, prefix: str = "m_") -> dict:
    return {name: values[f"{prefix}{name}"] for name in METRIC_NAMES}


def empty_values() -> dict:
    """Metrics over no rows: zero counts, null opens/clicks (nothing tracked), null rates."""
    values = {name: None for name in METRIC_NAMES}
    values |= {name: 0 for name in ADDITIVE_METRICS if name not in ("opens", "clicks")}
    return values | {"revenue": Decimal("0.00")}


@dataclass(frozen=True)
class Groups:
    """Rows grouped for a breakdown by ``by``: ``values`` annotated with ``names`` (after
    the aggregates) has ``key`` and ``name``; ``tie`` is the unique column that ends the
    ordering (the source's id, or ``key``) and ``path`` the row field a group is
    identified by (to exclude groups)."""

    values: QuerySet
    names: dict
    tie: str
    path: str


def groups(kind: Kind, account, rows: QuerySet, per_source: bool, by: str) -> Groups:
    """``rows`` grouped by ``by`` (the source, or one of the kind's breakdowns)."""
    if by == kind.source:
        # Grouped by the campaign's or flow's id, its external id and name looked up per
        # group: joined to every row before grouping, they made a 3-year breakdown
        # hash ~100,000 rows on two text columns. Same-name ties go by that id.
        source = kind.sources.objects.for_account(account).filter(pk=OuterRef(kind.source))
        names = {
            "key": Subquery(source.values("external_id")),
            "name": Subquery(source.values("name")),
        }
        return Groups(rows.values(kind.source), names, tie=kind.source, path=kind.source)
    key, name = (kind.breakdowns if per_source else BRAND_ROW_BREAKDOWNS)[by]
    return Groups(rows.values(key=F(key), name=name), {}, tie="key", path=key)


def reads_per_source(filters_on_source: bool, by: str) -> bool:
    """Whether a breakdown by ``by`` needs the per-source rows (not the per-brand ones)."""
    return filters_on_source or by not in BRAND_ROW_BREAKDOWNS
