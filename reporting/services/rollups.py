"""Write an import's staged rows into the statistics tables and keep the rollups exact.

One algorithm for every rollup, in the import's transaction:

1. Upsert the staged rows as day rows of each campaign or flow. Rows equal to
   the stored ones are left alone, so re-importing a file writes nothing; the
   days of the rows that were inserted or changed are noted as *touched*.
2. A campaign or flow whose brand changed touches every day it has rows on:
   those days' per-brand rows must move to the new brand.
3. For every touched period (the week and month of each touched day, and the
   day itself for the per-brand rows), delete the rollup rows and recompute them
   from the day rows, grouped in the database: per-source weeks and months and
   per-brand days from the per-source day rows, per-brand weeks and months from
   the per-brand day rows.

After the commit, every week and month row is exactly the sum of its day rows,
and every per-brand row the sum of its brand's per-source rows.

Raw SQL because the ORM cannot express ``INSERT … SELECT``, ``ON CONFLICT … DO
UPDATE … WHERE`` or data-modifying CTEs; Python never sees a statistics row.
Table and column names come from the models (``Model._meta``); values are
parameters.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connections

from accounts.models import Account
from reporting.models import (
    IMPORTED_COUNTS,
    PARTIAL_SUMS,
    SUMMED_COLUMNS,
    Campaign,
    CampaignBrandStat,
    CampaignStat,
    Flow,
    FlowBrandStat,
    FlowStat,
    Grain,
)

# A day row's partial sums (see reporting.models.StatBase), from its own counts.
_PARTIALS = {
    "opens_delivered": "CASE WHEN s.opens IS NOT NULL THEN s.delivered END",
    "clicks_delivered": "CASE WHEN s.clicks IS NOT NULL THEN s.delivered END",
    "both_opens": "CASE WHEN s.clicks IS NOT NULL THEN s.opens END",
    "both_clicks": "CASE WHEN s.opens IS NOT NULL THEN s.clicks END",
}
_TOUCHED = "reporting_import_touched"
# kind -> (per-source model, per-brand model, source model)
KINDS = {
    "campaign": (CampaignStat, CampaignBrandStat, Campaign),
    "flow": (FlowStat, FlowBrandStat, Flow),
}
# The first day of the period holding day ``{}``, and the first day after it.
_PERIOD = {
    Grain.DAY: ("{}", "{} + 1"),
    Grain.WEEK: (
        "CAST(date_trunc('week', CAST({} AS timestamp)) AS date)",
        "{} + 7",
    ),
    Grain.MONTH: (
        "CAST(date_trunc('month', CAST({} AS timestamp)) AS date)",
        "CAST({} + interval '1 month' AS date)",
    ),
}


def _table(model) -> str:
    return connections["default"].ops.quote_name(model._meta.db_table)


def stats_write(cursor, *, account: Account, staging: str, moved: dict[str, Iterable[int]]) -> int:
    """Upsert the staged rows of ``account`` and recompute the touched rollups.

    ``staging``: the import's temporary table; ``moved``: per kind, the ids of
    the campaigns or flows whose brand this import changed. Returns the number
    of day rows inserted or changed.
    """
    cursor.execute(f"DROP TABLE IF EXISTS {_TOUCHED}")
    cursor.execute(f"CREATE TEMPORARY TABLE {_TOUCHED} (day date NOT NULL) ON COMMIT DROP")
    written = 0
    for kind, (stats, brand_stats, sources) in KINDS.items():
        cursor.execute(f"TRUNCATE {_TOUCHED}")
        written += _upsert_days(cursor, account, kind, stats, sources, staging)
        # The planner's statistics must see this transaction's rows (ANALYZE counts
        # them): estimated from an empty or small table, the recompute below joined
        # each touched period to a sequential scan of the whole table.
        cursor.execute(f"ANALYZE {_table(stats)}")
        moved_ids = sorted(moved.get(kind, ()))
        if moved_ids:
            cursor.execute(
                f"INSERT INTO {_TOUCHED} SELECT DISTINCT period_start FROM {_table(stats)} "  # noqa: S608
                f"WHERE account_id = %s AND grain = %s AND {kind}_id = ANY(%s)",
                [account.pk, Grain.DAY, moved_ids],
            )
        cursor.execute(f"ANALYZE {_TOUCHED}")
        for grain in (Grain.WEEK, Grain.MONTH):
            _recompute(cursor, account, grain, stats, f"{kind}_id", stats, f"d.{kind}_id")
        brand = f"JOIN {_table(sources)} src ON src.id = d.{kind}_id"
        _recompute(
            cursor, account, Grain.DAY, brand_stats, "brand_id", stats, "src.brand_id", brand
        )
        # A brand's weeks and months from its days: a few rows a day, not one per source.
        for grain in (Grain.WEEK, Grain.MONTH):
            _recompute(cursor, account, grain, brand_stats, "brand_id", brand_stats, "d.brand_id")
    cursor.execute(f"DROP TABLE {_TOUCHED}")
    return written


def _upsert_days(cursor, account: Account, kind: str, stats, sources, staging: str) -> int:
    """Update the stored day rows whose counts differ and insert the new ones; note the days.

    An UPDATE of the changed rows beside an INSERT of the missing keys (the
    account's import lock rules out a concurrent writer), not ``INSERT … ON
    CONFLICT``: that one locks every conflicting row, unchanged or not, and
    inserts speculatively, which made an unchanged re-import as slow as a first.
    """
    table, source_table = _table(stats), _table(sources)
    keys = f"account_id, grain, period_start, {kind}_id, channel"
    values = ", ".join(
        [*(f"s.{c}" for c in IMPORTED_COUNTS), *(_PARTIALS[c] for c in PARTIAL_SUMS)]
    )
    updates = ", ".join(
        [f"{c} = s.{c}" for c in IMPORTED_COUNTS] + [f"{c} = {sql}" for c, sql in _PARTIALS.items()]
    )
    staged = (
        f"FROM {staging} s JOIN {source_table} src "
        "ON src.account_id = %s AND src.external_id = s.source_id"
    )
    same_key = (
        "t.account_id = %s AND t.grain = %s AND t.period_start = s.date "
        f"AND t.{kind}_id = src.id AND t.channel = s.channel"
    )
    cursor.execute(
        f"WITH changed AS (UPDATE {table} t SET {updates} {staged} "  # noqa: S608 - names from models
        f"WHERE s.kind = %s AND {same_key} AND "
        f"({', '.join(f't.{c}' for c in IMPORTED_COUNTS)}) IS DISTINCT FROM "
        f"({', '.join(f's.{c}' for c in IMPORTED_COUNTS)}) RETURNING t.period_start), "
        f"added AS (INSERT INTO {table} ({keys}, {', '.join(SUMMED_COLUMNS)}) "
        f"SELECT %s, %s, s.date, src.id, s.channel, {values} {staged} WHERE s.kind = %s "
        f"AND NOT EXISTS (SELECT FROM {table} t WHERE {same_key}) RETURNING period_start), "
        f"touched AS (INSERT INTO {_TOUCHED} SELECT DISTINCT period_start FROM "
        "(SELECT period_start FROM changed UNION ALL SELECT period_start FROM added) w) "
        "SELECT (SELECT COUNT(*) FROM changed) + (SELECT COUNT(*) FROM added)",
        [
            *(account.pk, kind, account.pk, Grain.DAY),
            *(account.pk, Grain.DAY, account.pk, kind, account.pk, Grain.DAY),
        ],
    )
    return cursor.fetchone()[0]


def _recompute(
    cursor, account: Account, grain: str, target, target_key: str, days, key: str, join: str = ""
) -> None:
    """Delete ``target``'s ``grain`` rows of every touched period and rebuild them from the
    day rows of ``days``, grouped by ``key`` (the target's ``target_key``) and channel.

    The day rows of the touched periods are found by equality on their period's
    start (a hash semi-join) within the range the periods span (an index range):
    joined on ``day BETWEEN start AND end`` instead, the planner may nest a loop
    over every pair of day row and period.
    """
    start, after = _PERIOD[grain]
    touched = f"SELECT {start.format('day')} FROM {_TOUCHED}"  # noqa: S608 - constant names
    table = _table(target)
    cursor.execute(
        f"DELETE FROM {table} WHERE account_id = %s AND grain = %s "  # noqa: S608 - names from models
        f"AND period_start IN ({touched})",
        [account.pk, grain],
    )
    period = start.format("d.period_start")
    cursor.execute(
        f"INSERT INTO {table} (account_id, grain, period_start, {target_key}, channel, "  # noqa: S608
        f"{', '.join(SUMMED_COLUMNS)}) "
        f"SELECT d.account_id, %s, {period}, {key}, d.channel, "
        f"{', '.join(f'SUM(d.{c})' for c in SUMMED_COLUMNS)} FROM {_table(days)} d {join} "
        "WHERE d.account_id = %s AND d.grain = %s "
        f"AND d.period_start >= (SELECT MIN({start.format('day')}) FROM {_TOUCHED}) "
        f"AND d.period_start < (SELECT MAX({after.format(start.format('day'))}) FROM {_TOUCHED}) "
        f"AND {period} IN ({touched}) "
        f"GROUP BY d.account_id, {period}, {key}, d.channel",
        [grain, account.pk, Grain.DAY],
    )


def stats_vacuum() -> bool:
    """VACUUM (ANALYZE) the statistics tables after imports (outside transactions).

    Reports are index-only scans, which read the heap for pages not yet marked
    all-visible; autovacuum reacts to inserts only after a fifth of the table
    changed, so the freshest, most-queried days would stay slow. Returns whether
    it ran.
    """
    connection = connections["default"]
    if connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        for models in KINDS.values():
            for model in models[:2]:
                cursor.execute(f"VACUUM (ANALYZE) {_table(model)}")
    return True
