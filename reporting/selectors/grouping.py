"""What the reports and the change explanation share: the two kinds of report, the
rows a window reads, the metric annotations and the groups a breakdown forms."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import F, Model, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from reporting import schemas
from reporting.metrics import METRIC_NAMES, METRICS, from_sums
from reporting.models import ROLLUPS, SUMMED_COLUMNS, Campaign, Flow, StatBase
from reporting.periods import Span


@dataclass(frozen=True)
class Kind:
    """What differs between the campaign and the flow report."""

    source: str  # "campaign" or "flow": the rows' link, and the breakdown by it
    sources: type[Model]  # Campaign or Flow
    tables: tuple[type[StatBase], ...]  # its statistics tables, coarsest first

    def table(self, needs: Collection[str]) -> type[StatBase]:
        """The coarsest table that reaches every attribute a report filters on or groups by."""
        return next(table for table in self.tables if all(map(table.reach, needs)))


CAMPAIGNS = Kind(source="campaign", sources=Campaign, tables=ROLLUPS["campaign"])
FLOWS = Kind(source="flow", sources=Flow, tables=ROLLUPS["flow"])


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
    return from_sums(dict.fromkeys(SUMMED_COLUMNS))


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


def groups(kind: Kind, account, rows: QuerySet, by: str) -> Groups:
    """``rows`` grouped by ``by``: the campaign or flow, or a brand, folder or channel."""
    if by == kind.source:
        # Grouped by the campaign's or flow's id, its external id and name looked up per
        # group: joined to every row before grouping, they made a 3-year breakdown
        # hash ~100,000 rows on two text columns. Same-name ties go by that id.
        source = kind.sources.objects.for_account(account).filter(pk=OuterRef(kind.source))
        names = {
            "key": Subquery(source.values("external_id").order_by()),
            "name": Subquery(source.values("name").order_by()),
        }
        return Groups(rows.values(kind.source), names, tie=kind.source, path=kind.source)
    path = rows.model.reach(by)
    key = path if by == "channel" else f"{path}__name"
    name = Coalesce(F(key), Value(schemas.NO_FOLDER)) if by == "folder" else F(key)
    return Groups(rows.values(key=F(key), name=name), {}, tie="key", path=key)
