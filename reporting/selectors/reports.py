"""campaign_report and flow_report: plain ORM aggregation in a constant number of queries.

One report = one lookup per name filter used, one summary query (both windows
in one pass with ``compare_to``), one timeline query and one breakdown query
(two by campaign or flow: the ranking, then the page's sums). The database sums
the rows, sorts the breakdown by its metric, cuts it and counts its groups; Python
derives every metric from the sums (``metrics.from_sums``), the comparison's changes
from the two summaries, a cut breakdown's others from the summary's sums minus the
page's, and lays the empty timeline buckets (from the window, not from rows).

Each query reads the coarsest statistics table that has every column it filters on
or groups by (``Kind.table``), and in it the fewest rows that cover its window
(:func:`reporting.periods.cover`: month, week, then day rows).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Case, F, QuerySet, Value, When
from django.db.models.functions import TruncMonth, TruncWeek

from accounts.models import Account
from reporting import schemas
from reporting.errors import ReportError
from reporting.metrics import (
    METRIC_NAMES,
    METRICS,
    change,
    from_sums,
    sum_aliases,
    sums_minus,
    sums_plus,
)
from reporting.models import SUMMED_COLUMNS, StatsImport
from reporting.periods import (
    DateWindow,
    account_today,
    buckets,
    comparison_window,
    resolve_window,
)
from reporting.selectors.rows import (
    CAMPAIGNS,
    FLOWS,
    Kind,
    SortKey,
    fingerprint,
    groups,
    in_window,
    next_cursor,
    read_page,
    report_criteria,
    reporting_db,
)


def campaign_report(
    *,
    account: Account,
    allowed_brands: set[int] | None,
    params: schemas.CampaignReportParams,
    today: date | None = None,
    max_chars: int | None = None,
) -> schemas.CampaignReport:
    """Campaign performance for ``account``, limited to ``allowed_brands`` (None = every brand).

    ``allowed_brands`` is the member's brand scope, decided by the caller
    (``permissions.brand_scope.allowed_brand_ids``). ``today`` pins the
    account-local current day (tests); by default it is read from the clock in
    the account's time zone. With ``max_chars``, the breakdown page is cut (top
    rows kept) until the report's JSON fits: a shorter page of its own, whose
    cursor continues right after its last row and whose others holds every group
    not on it; a timeline whose buckets alone exceed it is refused before any query.
    """
    return _report(
        CAMPAIGNS, schemas.CampaignReport, account, allowed_brands, params, today, max_chars
    )


def flow_report(
    *,
    account: Account,
    allowed_brands: set[int] | None,
    params: schemas.FlowReportParams,
    today: date | None = None,
    max_chars: int | None = None,
) -> schemas.FlowReport:
    """Flow performance for ``account``, limited to ``allowed_brands`` (None = every brand);
    ``max_chars`` as for :func:`campaign_report`."""
    return _report(FLOWS, schemas.FlowReport, account, allowed_brands, params, today, max_chars)


_TRUNCATE = {
    "day": F("period_start"),
    "week": TruncWeek("period_start"),
    "month": TruncMonth("period_start"),
}


def _empty() -> dict:
    """Metrics over no rows: zero counts, null opens/clicks (nothing tracked), null rates."""
    return from_sums(dict.fromkeys(SUMMED_COLUMNS))


def _timeline(rows: QuerySet, window: DateWindow, granularity: str) -> schemas.Timeline:
    # Each row lies inside one bucket (see reporting.periods.cover): truncating its
    # start gives the bucket's.
    grouped = (
        rows.filter(in_window(window, granularity))
        .values(bucket=_TRUNCATE[granularity])
        .annotate(**sum_aliases(cast=True))
        .order_by("bucket")
    )
    found = {row["bucket"]: from_sums(row, "s_") for row in grouped}
    empty = _empty()
    return schemas.Timeline(
        granularity=granularity,
        buckets=[
            {
                "period_start": max(start, window.date_from),
                "period_end": end,
                "metrics": found.get(start, empty),
            }
            for start, end in buckets(window.date_from, window.date_to, granularity)
        ],
    )


def _breakdown(
    kind: Kind,
    account: Account,
    rows: QuerySet,
    window: DateWindow,
    params,
    query: str,
    totals: dict | None,
) -> Callable[[int], schemas.Breakdown]:
    """One page of the breakdown (``params.limit`` groups from ``params.cursor`` on), with
    the cursor of the next page and the groups not shown aggregated as ``others``; as a
    function of its length, so that a shorter page is cut from the rows read (the rows,
    cursor and others it would have if asked with that ``limit``) without reading the
    statistics again.

    A breakdown by campaign or flow ranks its thousands of groups by the sort metric
    alone, then sums the page's groups (read by the source's index): summing every
    group cost four times the ranking. A handful of brands, folders or channels are
    summed as they are ranked. ``totals``: the base sums of the whole window (the
    summary's). The others row is those minus the page's groups: the page and the
    others add up to the summary without reading the window's rows a second time.
    """
    by = params.breakdown
    ranked_first = by == kind.source
    rows = rows.filter(in_window(window))
    grouped = groups(kind, account, rows, by)
    keys = [
        SortKey(f"m_{params.sort_by}", descending=params.order == "desc"),
        SortKey("name"),
        # The unique end of the ordering: the source's id, or the key (null first).
        SortKey(grouped.tie, nulls_last=grouped.tie != "key"),
    ]
    # The sort metric's expression for ORDER BY; every metric from the sums.
    page = grouped.values.annotate(
        **{f"m_{params.sort_by}": METRICS[params.sort_by].expression()},
        **({} if ranked_first else sum_aliases()),
    )
    page = page.annotate(**grouped.names)
    shown_before, read, total = read_page(
        page, keys, query=query, cursor=params.cursor, limit=params.limit
    )
    if ranked_first and read:
        shown = rows.filter(**{f"{kind.source}__in": [r[kind.source] for r in read]})
        sums = shown.values(kind.source).annotate(**sum_aliases()).order_by()
        by_source = {row[kind.source]: row for row in sums}
        # An import committed between the two queries may have moved a group out (its
        # brand changed): it shows no activity, as it would a moment later.
        nothing = dict.fromkeys(sum_aliases())
        read = [row | by_source.get(row[kind.source], nothing) for row in read]

    def page_of(length: int) -> schemas.Breakdown:
        found = read[:length]
        cursor = next_cursor(keys, query=query, shown=shown_before, found=found, total=total)
        others = None
        if total > len(found):
            tracked = _tracked_outside(grouped, rows, found)
            others = schemas.BreakdownOthers(
                groups=total - len(found), metrics=from_sums(sums_minus(totals, found, tracked))
            )
        return schemas.Breakdown(
            by=by,
            sort_by=params.sort_by,
            order=params.order,
            limit=length,
            total_groups=total,
            truncated=cursor is not None,
            rows=[
                {"key": row["key"], "name": row["name"], "metrics": from_sums(row, "s_")}
                for row in found
            ],
            next_cursor=cursor,
            others=others,
        )

    return page_of


def _tracked_outside(grouped, rows: QuerySet, shown: list[dict]):
    """Whether any row outside the ``shown`` groups has a column (for ``sums_minus``)."""
    keys = [row[grouped.tie] for row in shown]
    named = [key for key in keys if key is not None]
    rest = rows.exclude(**{f"{grouped.path}__in": named}) if named else rows
    if len(named) < len(keys):  # the null group (unfiled campaigns) is on the page
        rest = rest.filter(**{f"{grouped.path}__isnull": False})
    return lambda column: rest.filter(**{f"{column}__isnull": False}).exists()


def _summary(rows: QuerySet, window: DateWindow, compare_to: str | None):
    """The window's metrics, its base sums (see ``metrics.sum_aliases``) and, with
    ``compare_to``, the comparison: in one query."""
    current = in_window(window)
    if compare_to is None:
        sums = rows.filter(current).aggregate(**sum_aliases())
        return from_sums(sums, "s_"), sums, None
    other = comparison_window(window, compare_to)
    previous = in_window(other)
    # Both windows in one grouped query of the base sums, each row tagged with the
    # windows it is in (they overlap for previous_year of a window over a year); each
    # window's metrics from its tags' sums. Written as filtered aggregates instead,
    # every metric's filter resolved both windows' conditions: 6x the Python of a summary.
    tag = Case(
        When(current & previous, then=Value("both")),
        When(current, then=Value("current")),
        default=Value("previous"),
    )
    tagged = rows.filter(current | previous).values(tag=tag).annotate(**sum_aliases()).order_by()
    found = {row["tag"]: row for row in tagged}
    empty = dict.fromkeys(sum_aliases())  # a window no row is in: null sums
    sums = sums_plus([found.get("current", empty), found.get("both", empty)])
    before = sums_plus([found.get("previous", empty), found.get("both", empty)])
    return from_sums(sums, "s_"), sums, (other, from_sums(before, "s_"))


def _comparison(summary: dict, compared, compare_to: str) -> schemas.Comparison:
    other, before = compared
    changes = {name: change(name, summary[name], before[name]) for name in METRIC_NAMES}
    return schemas.Comparison(
        compare_to=compare_to,
        window=window_model(other),
        summary=before,
        change={
            name: {"absolute": absolute, "relative": relative}
            for name, (absolute, relative) in changes.items()
        },
    )


def window_model(window: DateWindow) -> schemas.Window:
    return schemas.Window(
        date_from=window.date_from, date_to=window.date_to, days=window.days, period=window.period
    )


# Arguments a breakdown page does not depend on: a cursor may come back with other values.
_NOT_PAGED = {"cursor", "timeline", "compare_to", "limit"}


def _within(report, page_of: Callable[[int], schemas.Breakdown], max_chars: int):
    """``report`` with its breakdown cut to the longest page whose JSON fits ``max_chars``
    (one row at least: a report still too large is the caller's to refuse)."""
    size = len(report.model_dump_json())
    rows = [len(row.model_dump_json()) + 1 for row in report.breakdown.rows]  # + a comma
    keep = len(rows)
    while size > max_chars and keep > 1:
        excess = size - max_chars
        while keep > 1 and excess > 0:
            keep -= 1
            excess -= rows[keep]
        # Measured again: a cut page may gain a cursor and an others row.
        report = report.model_copy(update={"breakdown": page_of(keep)})
        size = len(report.model_dump_json())
    return report


def _shortest_bucket_chars() -> int:
    """The fewest characters a timeline bucket adds to a report's JSON: every count 0,
    every rate 0.0 (shorter than null), the money ratios null (shorter than "0.00"),
    and the comma before it."""
    metrics = dict.fromkeys(METRIC_NAMES, 0) | {
        "revenue": Decimal("0.00"),
        "average_order_value": None,
        "revenue_per_delivered": None,
    }
    bucket = schemas.TimelineBucket(period_start=date.min, period_end=date.min, metrics=metrics)
    return len(bucket.model_dump_json()) + 1


_SHORTEST_BUCKET_CHARS = _shortest_bucket_chars()


def _refuse_oversized_timeline(window: DateWindow, granularity: str, max_chars: int) -> None:
    """Refuse, before reading any row, a timeline whose buckets alone exceed ``max_chars``
    (a day timeline over about 150 days): computing it only to refuse it took up to
    ten times as long as the refusal."""
    count = len(buckets(window.date_from, window.date_to, granularity))
    if count * _SHORTEST_BUCKET_CHARS > max_chars:
        coarser = {"day": "a week or month timeline or ", "week": "a month timeline or "}
        raise ReportError(
            f"This answer is too large: a {granularity} timeline of {window.days:,} days has "
            f"{count:,} buckets, at least {count * _SHORTEST_BUCKET_CHARS:,} characters (the "
            f"limit is {max_chars:,}). Use {coarser.get(granularity, '')}a shorter window."
        )


def _report(kind: Kind, result_type, account, allowed, params, today, max_chars):
    today = today or account_today(account.timezone)
    window = resolve_window(
        period=params.period, date_from=params.date_from, date_to=params.date_to, today=today
    )
    if params.timeline and max_chars:
        _refuse_oversized_timeline(window, params.timeline, max_chars)
    filters = report_criteria(account=account, allowed=allowed, params=params)
    summary, sums, compared = _summary(filters.rows(kind), window, params.compare_to)
    page_of = None
    if params.breakdown != "none":
        # What a cursor must be replayed with: everything but the cursor, and the
        # resolved window (a preset moves with the days).
        query = fingerprint(
            account=account.pk,
            kind=kind.source,
            params=params.model_dump(mode="json", exclude=_NOT_PAGED),
            window=[window.date_from, window.date_to],
        )
        rows = filters.rows(kind, params.breakdown)
        page_of = _breakdown(kind, account, rows, window, params, query, sums)
    elif params.cursor:
        raise ReportError("cursor pages a breakdown: it needs the breakdown it came from.")
    timeline = _timeline(filters.rows(kind), window, params.timeline) if params.timeline else None
    report = result_type(
        account=account.system_name,
        currency=account.currency,
        timezone=account.timezone,
        window=window_model(window),
        brand_restricted=allowed is not None,
        summary=summary,
        timeline=timeline,
        breakdown=page_of(params.limit) if page_of else None,
        comparison=_comparison(summary, compared, params.compare_to) if compared else None,
        provenance=provenance(account=account, window=window, today=today),
    )
    return _within(report, page_of, max_chars) if page_of and max_chars else report


def _partial_reason(window: DateWindow, today: date, data_through: date | None) -> str | None:
    reasons = []
    if window.date_to >= today:
        reasons.append(f"the window includes today ({today}), which is not over")
    if data_through is None:
        reasons.append("no statistics have been imported yet")
    elif window.date_to > data_through:
        missing = (window.date_to - max(data_through, window.date_from - timedelta(days=1))).days
        reasons.append(
            f"statistics are imported through {data_through}; the window's last {missing} "
            f"day(s) have none yet"
        )
    if not reasons:
        return None
    text = "; ".join(reasons)
    return text[0].upper() + text[1:] + "."


def provenance(*, account: Account, window: DateWindow, today: date) -> schemas.Provenance:
    """The account's import state (one query) and whether ``window`` is partial."""
    record = StatsImport.objects.for_account(account).using(reporting_db()).first()
    data_through = record.data_through if record else None
    reason = _partial_reason(window, today, data_through)
    return schemas.Provenance(
        data_through=data_through,
        imported_at=record.imported_at if record else None,
        timezone=account.timezone,
        currency=account.currency,
        partial=reason is not None,
        partial_reason=reason,
    )
