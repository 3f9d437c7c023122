"""campaign_report and flow_report: ORM aggregation in a constant number of queries.

One report = at most: the caller's brand scope, one lookup per name filter used,
one summary query (with the comparison window and the changes when asked), one
timeline query and one breakdown query. All sums, rates, changes, sorting and
the group count run in the database; Python only lays empty timeline buckets
(from the window, not from rows) and copies values into the result models.

The queries' shapes (grouping, the metric annotations) are built once per
process as account-scoped query shapes (:mod:`reporting.scoping`): Django
resolves and copies every node of an annotation when it is added, which was
most of a report's Python time. A shape scoped to the account, with the
filters, the window rows and the ordering added, is then compiled to SQL once
per structure (:mod:`reporting.prepared`); later reports of the same structure
bind their account, dates and ids into that SQL.

Each query reads the cheapest rows that cover its window exactly (see
:class:`reporting.models.Grain`): without dimension filters (brand, goal,
folder, activation type, flow — a brand-restricted member always has one) the
per-channel daily rollup; otherwise, for summaries, breakdowns and month
timelines, the monthly rollup for the whole months inside the window, the weekly
rollup for whole weeks of the partial months at its edges and the daily rows for
the remaining days; for day and week timelines the daily rows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Count,
    Expression,
    F,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek

from accounts.models import Account
from reporting import prepared, schemas
from reporting.errors import ReportError
from reporting.metrics import ADDITIVE_METRICS, METRIC_NAMES, METRICS, change_expressions
from reporting.models import (
    Brand,
    Campaign,
    CampaignFolder,
    CampaignStatRow,
    Flow,
    FlowStatRow,
    Goal,
    Grain,
)
from reporting.scoping import CompiledOnce
from reporting.selectors.visibility import reporting_db, visible
from reporting.windows import (
    DateWindow,
    account_today,
    buckets,
    comparison_window,
    resolve_window,
)

_MAX_LISTED = 40  # valid values listed in an error message before "… and N more"


@dataclass(frozen=True, eq=False)  # hashed by identity: keys of the shape cache
class _Source:
    """What differs between the campaign and the flow report."""

    stats: type[Model]
    fk: str  # the statistics row's link to its campaign or flow, and the breakdown by them
    sources: type[Model]  # Campaign or Flow
    breakdowns: dict[str, tuple[str, object]]  # the others: by -> (key expression, name expression)


_CAMPAIGNS = _Source(
    stats=CampaignStatRow,
    fk="campaign",
    sources=Campaign,
    breakdowns={
        "folder": (
            "campaign__folder__name",
            Coalesce(F("campaign__folder__name"), Value(schemas.NO_FOLDER)),
        ),
        "brand": ("campaign__brand__name", F("campaign__brand__name")),
        "channel": ("channel", F("channel")),
    },
)
_FLOWS = _Source(
    stats=FlowStatRow,
    fk="flow",
    sources=Flow,
    breakdowns={
        "brand": ("flow__brand__name", F("flow__brand__name")),
        "channel": ("channel", F("channel")),
    },
)


def campaign_report(
    *,
    account: Account,
    allowed_brands: set[int] | None,
    params: schemas.CampaignReportParams,
    today: date | None = None,
) -> schemas.CampaignReport:
    """Campaign performance for ``account``, over the ``allowed_brands`` only (None = every
    brand): the caller passes the member's ``permissions.brand_scope.allowed_brand_ids``.

    ``today`` pins the account-local current day (tests); by default it is read
    from the clock in the account's time zone.
    """
    return _report(
        _CAMPAIGNS,
        schemas.CampaignReport,
        account=account,
        allowed=allowed_brands,
        params=params,
        today=today,
    )


def flow_report(
    *,
    account: Account,
    allowed_brands: set[int] | None,
    params: schemas.FlowReportParams,
    today: date | None = None,
) -> schemas.FlowReport:
    """Flow performance for ``account``, over the ``allowed_brands`` only (None = every brand)."""
    return _report(
        _FLOWS,
        schemas.FlowReport,
        account=account,
        allowed=allowed_brands,
        params=params,
        today=today,
    )


def _listing(values: Iterable[str]) -> str:
    values = sorted(values, key=str.lower)
    if not values:
        return "(none)"
    shown = ", ".join(values[:_MAX_LISTED])
    if len(values) > _MAX_LISTED:
        shown += f", … and {len(values) - _MAX_LISTED} more (see list_report_filters)"
    return shown


def _unknown(label: str, unknown: list[str], valid: Iterable[str]) -> ReportError:
    return ReportError(
        f"Unknown {label}: {', '.join(repr(u) for u in unknown)}. Valid {label}: {_listing(valid)}."
    )


def _resolve_names(
    model: type[Model], account: Account, allowed: set[int] | None, requested: list[str], label: str
) -> set[int]:
    """Ids of the named rows the member may see (case-insensitive); other names raise
    with the list of those they may use, whether the name exists or is hidden."""
    rows = list(visible(model, account, allowed).values_list("pk", "name"))
    by_name = {name.lower(): pk for pk, name in rows}
    unknown = [name for name in requested if name.strip().lower() not in by_name]
    if unknown:
        raise _unknown(label, unknown, (name for _, name in rows))
    return {by_name[name.strip().lower()] for name in requested}


def brand_scope(
    *, account: Account, allowed: set[int] | None, requested: list[str] | None
) -> set[int] | None:
    """The brand ids a report may cover (None = every brand), given the user's ``allowed``.

    The one place the member's brand restriction is enforced for reports. A
    restricted member asking for another brand gets the same answer as for a
    brand that does not exist: the list of brands they may see.
    """
    if not requested:
        return allowed
    return _resolve_names(Brand, account, allowed, requested, "brands")


@dataclass(frozen=True)
class _Filters:
    """A report's filters with names resolved to ids, brand scope included.

    Which filters apply and how many ids each lists shape the report's SQL
    (:meth:`structure`, part of a query template's key); the ids only fill its
    parameters (:meth:`ids`). :meth:`where` builds the condition from any ids
    in :meth:`ids`' order: the real ones, or a template's placeholders.
    """

    fk: str  # "campaign" or "flow": the report rows' link to their dimensions
    brands: tuple[int, ...] | None = None
    goals: tuple[int, ...] | None = None
    activation_types: tuple[str, ...] = ()
    folders: tuple[int, ...] | None = None
    unfiled: bool = False  # with ``folders``: also campaigns in no folder
    flows: tuple[int, ...] | None = None
    channels: tuple[str, ...] = ()

    @property
    def dimensional(self) -> bool:
        """Whether a filter needs the campaign's or flow's dimensions (then the
        per-channel rollup cannot answer)."""
        return bool(self.activation_types) or any(ids is not None for ids in self._lists())

    def _lists(self) -> tuple[tuple[int, ...] | None, ...]:
        return (self.brands, self.goals, self.folders, self.flows)

    def structure(self) -> tuple:
        lengths = tuple(None if ids is None else len(ids) for ids in self._lists())
        return (lengths, self.activation_types, self.unfiled, self.channels)

    def ids(self) -> tuple[int, ...]:
        return tuple(pk for ids in self._lists() if ids is not None for pk in ids)

    def where(self, ids: Iterator[int]) -> Q:
        """Every filter as one Q on the report rows, taking the ids from ``ids``."""
        brands, goals, folders, flows = (
            None if listed is None else [next(ids) for _ in listed] for listed in self._lists()
        )
        fk, where = self.fk, Q()
        if brands is not None:
            where &= Q(**{f"{fk}__brand_id__in": brands})
        if goals is not None:
            where &= Q(**{f"{fk}__goal_id__in": goals})
        if self.activation_types:
            where &= Q(campaign__activation_type__in=self.activation_types)
        if folders is not None:
            folder_q = Q(campaign__folder_id__in=folders)
            if self.unfiled:
                folder_q |= Q(campaign__folder__isnull=True)
            where &= folder_q
        if flows is not None:
            where &= Q(flow_id__in=flows)
        if self.channels:
            where &= Q(channel__in=self.channels)
        return where


def _filters(source: _Source, account: Account, allowed: set[int] | None, params) -> _Filters:
    """The report's filters, each name resolved to the ids the member may see."""

    def ids(found: set[int] | None) -> tuple[int, ...] | None:
        return None if found is None else tuple(sorted(found))

    filters = {
        "brands": ids(brand_scope(account=account, allowed=allowed, requested=params.brands)),
        "channels": tuple(sorted(set(params.channels or ()))),
    }
    if params.goals:
        filters["goals"] = ids(_resolve_names(Goal, account, allowed, params.goals, "goals"))
    if getattr(params, "activation_types", None):
        filters["activation_types"] = tuple(sorted(set(params.activation_types)))
    if getattr(params, "folders", None):
        named = [f for f in params.folders if f.strip().lower() != schemas.NO_FOLDER]
        found = _resolve_names(CampaignFolder, account, allowed, named, "folders")
        filters |= {"folders": ids(found), "unfiled": len(named) < len(params.folders)}
    if getattr(params, "flows", None):
        filters["flows"] = ids(_resolve_flows(account, allowed, params.flows))
    return _Filters(fk=source.fk, **filters)


def _resolve_flows(account: Account, allowed: set[int] | None, requested: list[str]) -> set[int]:
    """Ids of the flows named by id or name among those the member may see."""
    rows = list(visible(Flow, account, allowed).values_list("pk", "external_id", "name"))
    by_id = {external_id: pk for pk, external_id, _ in rows}
    by_name: dict[str, set[int]] = {}
    for pk, _, name in rows:
        by_name.setdefault(name.lower(), set()).add(pk)
    found: set[int] = set()
    unknown = []
    for value in requested:
        matches = (
            {by_id[value.strip()]} if value.strip() in by_id else by_name.get(value.strip().lower())
        )
        if not matches:
            unknown.append(value)
        else:
            found |= matches
    if unknown:
        raise _unknown(
            "flows", unknown, (f"{name} (id {external_id})" for _, external_id, name in rows)
        )
    return found


_Span = tuple[str, date, date]  # (grain, first day, last day): those rows of those days


def _days(first: date, last: date, grain: str = Grain.DAY) -> list[_Span]:
    return [(str(grain), first, last)]


class _GrainRows(Expression):
    """The report rows of some spans: ``(grain = g AND date BETWEEN a AND b) OR …``.

    The condition ``Q(grain=g, date__range=(a, b)) | …`` would give, written
    from the two columns: Django's generic filter path built and compiled two
    lookups per span (about 900 Python calls for a five-span window, as much
    as the rest of the query). Usable wherever a Q is (``filter``, an
    aggregate's ``filter``, ``|``).
    """

    conditional = True
    output_field = BooleanField()

    def __init__(self, spans: list[_Span], columns: tuple = (None, None)):
        super().__init__()
        self.spans = tuple(spans)
        self.grain, self.date = columns

    def get_source_expressions(self):
        return [self.grain, self.date]

    def set_source_expressions(self, exprs):
        self.grain, self.date = exprs

    def resolve_expression(
        self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False
    ):
        if self.grain is not None:  # resolved already: a subquery's WHERE is resolved again
            return super().resolve_expression(query, allow_joins, reuse, summarize, for_save)
        # Columns of the query's own table: no name lookup or join to resolve.
        alias, fields = query.get_initial_alias(), query.get_meta()
        columns = (
            fields.get_field("grain").get_col(alias),
            fields.get_field("date").get_col(alias),
        )
        return type(self)(self.spans, columns)

    def as_sql(self, compiler, connection):
        grain, _ = compiler.compile(self.grain)
        day, _ = compiler.compile(self.date)
        adapt = connection.ops.adapt_datefield_value
        params = []
        for grain_value, first, last in self.spans:
            params += (grain_value, adapt(first), adapt(last))
        span = f"({grain} = %s AND {day} BETWEEN %s AND %s)"
        return f"({' OR '.join([span] * len(self.spans))})", params


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


_COVER = "cover"  # not a grain: the coarsest rows covering a window (see _spans)


def _spans(window: DateWindow, grain: str) -> list[_Span]:
    """The spans whose rows together cover ``window`` exactly once.

    ``_COVER`` means: monthly rollup rows for the whole months inside the window,
    weekly rollup rows for the whole ISO weeks in the partial months at its
    edges, daily rows for the days left over (at most six at either end of
    each edge). Any other grain: that grain's rows for every day of the window.
    """
    first, last = window.date_from, window.date_to
    if grain != _COVER:
        return _days(first, last, grain)
    months_from = first if first.day == 1 else _next_month(first)
    months_end = (last + timedelta(days=1)).replace(day=1)  # after the last whole month
    if months_from > months_end:  # the window lies inside one month
        return _weeks_and_days(first, last)
    # Each edge lies inside one month, so its weeks do too (month timelines stay exact).
    spans = []
    if months_from < months_end:
        spans += _days(months_from, months_end - timedelta(days=1), Grain.MONTH)
    if first < months_from:
        spans += _weeks_and_days(first, months_from - timedelta(days=1))
    if months_end <= last:
        spans += _weeks_and_days(months_end, last)
    return spans


def _weeks_and_days(first: date, last: date) -> list[_Span]:
    weeks_from = first + timedelta(days=-first.weekday() % 7)  # first Monday on or after
    after = last + timedelta(days=1)
    weeks_end = after - timedelta(days=after.weekday())  # Monday after the last whole week
    if weeks_from >= weeks_end:
        return _days(first, last)
    spans = _days(weeks_from, weeks_end - timedelta(days=1), Grain.WEEK)
    if first < weeks_from:
        spans += _days(first, weeks_from - timedelta(days=1))
    if weeks_end <= last:
        spans += _days(weeks_end, last)
    return spans


def _metric_aliases(where: Q | None = None) -> dict[str, object]:
    # Prefixed: annotations may not reuse the model's field names (sends, opens, …).
    return {f"m_{name}": METRICS[name].expression(where) for name in METRIC_NAMES}


_TRUNCATE = {"week": TruncWeek, "month": TruncMonth}
_TOTAL = "total"  # the summary's shape: every selected row in one group


@functools.cache
def _shape(source: _Source, group: str, db: str) -> QuerySet:
    """The report query grouped by ``group`` with every metric, built once per process
    and database alias.

    ``group``: ``_TOTAL``, a timeline granularity or a breakdown dimension.
    """
    rows = source.stats.objects.shape().using(db)
    if group == _TOTAL:
        # Grouped by a constant only: no GROUP BY, so one row even over no rows.
        grouped = rows.values(total=Value(True))
    elif group == "day":
        grouped = rows.values(bucket=F("date"))
    elif group in _TRUNCATE:
        grouped = rows.annotate(bucket=_TRUNCATE[group]("date")).values("bucket")
    elif group == source.fk:
        # By campaign or flow: grouped by the rows' link, its external id and name
        # looked up once per group. Joined to every row before grouping, they cost an index
        # probe per row (28,000 for a large account's 90-day top 50) and a group
        # estimate from the whole campaign table that tipped the plan into a sort.
        grouped = rows.values(source.fk)
    else:
        key, name = source.breakdowns[group]
        grouped = rows.values(key=F(key), name=name)
    grouped = grouped.annotate(
        # Unconverted: the result models convert the values (see _metric_values).
        **{
            alias: CompiledOnce(metric, convert=False)
            for alias, metric in _metric_aliases().items()
        }
    )
    if group == source.fk:
        grouped = grouped.annotate(
            key=_attribute(source, "external_id"), name=_attribute(source, "name")
        )
    if group == source.fk or group in source.breakdowns:
        # Counted after grouping and before the limit: the number of groups.
        grouped = grouped.annotate(total_groups=CompiledOnce(Window(Count("*")), convert=False))
    return grouped


def _attribute(source: _Source, column: str) -> Subquery:
    """``column`` of the report row's campaign or flow (in a grouped query: once per group)."""
    linked = source.sources.objects.of_outer_account().filter(pk=OuterRef(source.fk))
    return Subquery(linked.order_by().values(column))


def _metrics(values: dict, prefix: str = "m_") -> schemas.Metrics:
    return schemas.Metrics(**_metric_values(values, prefix))


def _metric_values(values: dict, prefix: str = "m_") -> dict:
    """The metrics of a result row, for a result model to validate (and convert).

    Lists of rows are validated by their parent model in one call: building a
    model per row from Python cost ~5 Python calls a row.
    """
    return {name: values[f"{prefix}{name}"] for name in METRIC_NAMES}


def _empty_metrics() -> schemas.Metrics:
    """A bucket without rows: zero counts, null opens/clicks (nothing tracked), null rates."""
    values = {name: None for name in METRIC_NAMES}
    values |= {name: 0 for name in ADDITIVE_METRICS if name not in ("opens", "clicks")}
    return schemas.Metrics(**values | {"revenue": Decimal("0.00")})


def _window(window: DateWindow) -> schemas.Window:
    return schemas.Window(
        date_from=window.date_from, date_to=window.date_to, days=window.days, period=window.period
    )


def _report(source: _Source, result_type, *, account: Account, allowed, params, today):
    window = resolve_window(
        period=params.period,
        date_from=params.date_from,
        date_to=params.date_to,
        today=today or account_today(account.timezone),
    )
    filters = _filters(source, account, allowed, params)
    dimensional = filters.dimensional
    db = reporting_db()

    def rows(group: str, grain: str, sort: _Sort = None, limit: int | None = None) -> list[dict]:
        """The window's rows of ``grain``, grouped by ``group``, as dicts."""
        arguments = (source, group, db, sort, limit)
        return _fetch(_grouped, arguments, account, filters, [window], grain, db)

    # Coarsest rows that can answer: see the module docstring.
    coarse = _COVER if dimensional else Grain.CHANNEL_DAY
    timeline_grain = coarse if params.timeline == "month" or not dimensional else Grain.DAY
    breakdown_grain = (
        Grain.CHANNEL_DAY if params.breakdown == "channel" and not dimensional else _COVER
    )
    if params.compare_to is None:
        # No row only when a filter can match nothing (a user who sees no brand):
        # Django then skips the query.
        totals = rows(_TOTAL, coarse)
        summary, comparison = (_metrics(totals[0]) if totals else _empty_metrics()), None
    else:
        other = comparison_window(window, params.compare_to)
        # Over no rows (a filter that can match nothing) the database still answers:
        # zero counts, null rates and changes, as for windows without activity.
        (values,) = _fetch(
            _comparison,
            (source, db),
            account,
            filters,
            [window, other],
            coarse,
            db,
            elide_empty=False,
        )
        summary, comparison = _compared(values, other, params.compare_to)
    return result_type(
        account=account.system_name,
        currency=account.currency,
        timezone=account.timezone,
        window=_window(window),
        brand_restricted=allowed is not None,
        summary=summary,
        timeline=(
            _timeline(rows(params.timeline, timeline_grain, _BY_BUCKET), window, params.timeline)
            if params.timeline
            else None
        ),
        breakdown=(
            _breakdown(
                rows(
                    params.breakdown, breakdown_grain, (params.sort_by, params.order), params.limit
                ),
                params,
            )
            if params.breakdown != "none"
            else None
        ),
        comparison=comparison,
    )


def _grouped(
    source: _Source,
    group: str,
    db: str,
    sort: _Sort,
    limit: int | None,
    account_id: int,
    where: tuple,
    window_rows: _GrainRows,
) -> QuerySet:
    """``window_rows`` grouped by ``group`` (its shape) for the account, sorted and cut."""
    scoped = _shape(source, group, db).for_account(account_id, *where, window_rows)
    # By campaign or flow, same-name ties go by its id, not by the looked-up external
    # id: a key that sorts nothing is looked up for the rows kept, not for every group.
    return _sorted(scoped, sort, limit, last=source.fk if group == source.fk else "key")


def _comparison(
    source: _Source,
    db: str,
    account_id: int,
    where: tuple,
    current: _GrainRows,
    previous: _GrainRows,
) -> QuerySet:
    """The summary of the ``current`` rows, the ``previous`` rows' and the changes, in
    one query.

    Not a shape built once: each aggregate reads its own window's rows, whose
    spans differ per call; its template (see :func:`_fetch`) is built once per
    structure instead.
    """
    aggregates = _metric_aliases(current)
    for name in METRIC_NAMES:
        before, absolute, relative = change_expressions(name, current, previous)
        aggregates |= {f"p_{name}": before, f"a_{name}": absolute, f"r_{name}": relative}
    rows = source.stats.objects.shape().using(db).values(total=Value(True))
    return rows.annotate(**aggregates).for_account(account_id, *where, current | previous)


def _compared(values: dict, other: DateWindow, compare_to: str):
    """The summary and the comparison of a row of :func:`_comparison`."""
    comparison = schemas.Comparison(
        compare_to=compare_to,
        window=_window(other),
        summary=_metrics(values, "p_"),
        change={
            name: schemas.Change(
                absolute=(
                    _money(values[f"a_{name}"], places=_MONEY[name])
                    if name in _MONEY
                    else values[f"a_{name}"]
                ),
                relative=values[f"r_{name}"],
            )
            for name in METRIC_NAMES
        },
    )
    return _metrics(values), comparison


_MONEY = {"revenue": 2, "average_order_value": 2, "revenue_per_delivered": 4}


def _money(value, *, places: int) -> Decimal | None:
    """Fixed-point formatting of a money difference computed by the database."""
    return None if value is None else Decimal(value).quantize(Decimal(1).scaleb(-places))


def _fetch(
    query: Callable[..., QuerySet],
    arguments: tuple,
    account: Account,
    filters: _Filters,
    windows: list[DateWindow],
    grain: str,
    db: str,
    *,
    elide_empty: bool = True,
) -> list[dict]:
    """The rows of ``query(*arguments, account_id, where, *window_rows)`` for
    ``account``, as dicts.

    ``window_rows``: each window's rows of ``grain`` (see :func:`_spans`); ``where``:
    the filters' condition, if any. Runs through a template
    (:mod:`reporting.prepared`) keyed by the query, its arguments, the spans'
    grains and the filters' structure; the spans' days and the filters' ids are
    its values.
    """
    spans = [_spans(window, grain) for window in windows]
    grains = tuple(tuple(span_grain for span_grain, _, _ in each) for each in spans)
    days = tuple(day for each in spans for _, first, last in each for day in (first, last))

    def build(account_id: int, values: Sequence) -> QuerySet:
        values = iter(values)
        window_rows = [
            _GrainRows([(g, next(values), next(values)) for g in each]) for each in grains
        ]
        where = filters.where(values)  # the ids after the days
        return query(*arguments, account_id, (where,) if where else (), *window_rows)

    return prepared.fetch(
        (query.__name__, arguments, grains, filters.structure()),
        build,
        account_id=account.pk,
        values=(*days, *filters.ids()),
        using=db,
        elide_empty=elide_empty,
    )


_BY_BUCKET = "bucket"
_Sort = str | tuple[str, str] | None  # _BY_BUCKET, (metric, "asc" | "desc") or unsorted


def _sorted(query: QuerySet, sort: _Sort, limit: int | None, last: str = "key") -> QuerySet:
    """Timelines by bucket; breakdowns by a metric, ties by name then ``last``, cut at ``limit``."""
    if sort == _BY_BUCKET:
        query = query.order_by(_BY_BUCKET)
    elif sort is not None:
        sort_by, order = sort
        metric = F(f"m_{sort_by}")
        ordering = metric.asc(nulls_last=True) if order == "asc" else metric.desc(nulls_last=True)
        query = query.order_by(ordering, F("name").asc(), F(last).asc(nulls_first=True))
    return query if limit is None else query[:limit]


def _timeline(grouped: list[dict], window: DateWindow, granularity: str) -> schemas.Timeline:
    found = {row["bucket"]: _metric_values(row) for row in grouped}
    empty = _empty_metrics()
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


def _breakdown(found: list[dict], params) -> schemas.Breakdown:
    total = found[0]["total_groups"] if found else 0
    return schemas.Breakdown(
        by=params.breakdown,
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
