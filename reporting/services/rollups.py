"""Write an import's staged rows into the statistics tables and keep the rollups exact.

One algorithm for every rollup (``reporting.models.ROLLUPS``), in the import's
transaction:

1. Upsert the staged rows as day rows of each campaign or flow. Rows equal to
   the stored ones are left alone, so re-importing a file writes nothing; the
   days of the rows that were inserted or changed are noted as *touched*.
2. A campaign or flow whose brand or folder changed touches every day it has
   rows on: those days' per-brand and per-folder rows must move with it.
3. For every table, finest first, and every touched period (the day itself, its
   week, its month and its year), delete the table's rows and recompute them in the
   database: day rows from the first finer table that has the table's key; weeks
   and months from that table's weeks and months when it holds the key in its own
   columns (a campaign's weeks from its weeks per channel: 2.7x fewer rows than its
   days, its months 11x), else from the table's own days; years from its own months.

After the commit, every week, month and year row is exactly the sum of its day rows,
and every row of a coarser table the sum of the imported rows it covers.

Raw SQL because the ORM cannot express ``INSERT … SELECT``, ``UPDATE … FROM``,
``CREATE TABLE … AS`` or data-modifying CTEs; Python never sees a statistics row.
Table and column names come from the models (``Model._meta``); values are
parameters.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connections

from accounts.models import Account
from reporting.models import IMPORTED_COUNTS, ROLLUPS, SUMMED_COLUMNS, Grain

# A day row's summed columns from its staged row ``s``: the counts, then the partial
# sums (see reporting.models.StatBase) from them.
_DAY_VALUES = {
    **{column: f"s.{column}" for column in IMPORTED_COUNTS},
    "opens_delivered": "CASE WHEN s.opens IS NOT NULL THEN s.delivered END",
    "clicks_delivered": "CASE WHEN s.clicks IS NOT NULL THEN s.delivered END",
    "both_opens": "CASE WHEN s.clicks IS NOT NULL THEN s.opens END",
    "both_clicks": "CASE WHEN s.opens IS NOT NULL THEN s.clicks END",
}
_TOUCHED = "reporting_import_touched"
_NEW = "reporting_import_new"  # the staged rows of one kind with no stored key
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
    Grain.YEAR: (
        "CAST(date_trunc('year', CAST({} AS timestamp)) AS date)",
        "CAST({} + interval '1 year' AS date)",
    ),
}


def _table(model) -> str:
    return connections["default"].ops.quote_name(model._meta.db_table)


def stats_write(cursor, *, account: Account, staging: str, moved: dict[str, Iterable[int]]) -> int:
    """Upsert the staged rows of ``account`` and recompute the touched rollups.

    ``staging``: the import's temporary table; ``moved``: per kind, the ids of
    the campaigns or flows whose brand or folder this import changed. Returns
    the number of day rows inserted or changed.
    """
    cursor.execute(f"DROP TABLE IF EXISTS {_TOUCHED}")
    cursor.execute(f"CREATE TEMPORARY TABLE {_TOUCHED} (day date NOT NULL) ON COMMIT DROP")
    written = 0
    for kind, tables in ROLLUPS.items():
        imported = tables[-1]
        cursor.execute(f"TRUNCATE {_TOUCHED}")
        written += _upsert_days(cursor, account, kind, imported, staging)
        # The planner's statistics must see this transaction's rows (ANALYZE counts
        # them): estimated from an empty or small table, the recompute below joined
        # each touched period to a sequential scan of the whole table.
        cursor.execute(f"ANALYZE {_table(imported)}")
        moved_ids = sorted(moved.get(kind, ()))
        if moved_ids:
            cursor.execute(
                f"INSERT INTO {_TOUCHED} SELECT DISTINCT period_start FROM {_table(imported)} "  # noqa: S608
                f"WHERE account_id = %s AND grain = %s AND {kind}_id = ANY(%s)",
                [account.pk, Grain.DAY, moved_ids],
            )
        cursor.execute(f"ANALYZE {_TOUCHED}")
        for at in reversed(range(len(tables))):  # finest first: coarser rows sum finer ones
            target = periods_from = tables[at]
            if target is not imported:
                finer = next(t for t in tables[at + 1 :] if all(map(t.reach, target.key)))
                _recompute(cursor, account, Grain.DAY, target, finer, kind)
                if all(finer.reach(name) == name for name in target.key):
                    periods_from = finer
            for grain in (Grain.WEEK, Grain.MONTH):
                source_grain = grain if periods_from is not target else Grain.DAY
                _recompute(cursor, account, grain, target, periods_from, kind, source_grain)
            _recompute(cursor, account, Grain.YEAR, target, target, kind, Grain.MONTH)
    cursor.execute(f"DROP TABLE {_TOUCHED}")
    return written


def _upsert_days(cursor, account: Account, kind: str, stats, staging: str) -> int:
    """Update the stored day rows whose counts differ and insert the new ones; note the days.

    Three statements (the account's import lock rules out a concurrent writer):

    1. UPDATE the rows whose counts differ. Not ``INSERT … ON CONFLICT DO
       UPDATE``: that one locks every conflicting row, unchanged or not, which made
       an unchanged re-import as slow as a first.
    2. Keep the staged rows with no stored key (``NOT EXISTS``) in a temporary
       table, before inserting them. In the INSERT itself, a table empty when
       planned (analysed while empty: after a restore, or once the only account
       with rows was purged) was rescanned for every staged row while that INSERT
       grew it, and a first import of 1,000,000 rows ran for over ten minutes.
    3. INSERT them. (``INSERT … ON CONFLICT DO NOTHING`` in place of 2 and 3
       probes the unique index for every staged row: a first import took a fifth
       longer.)
    """
    table, source_table = _table(stats), _table(_source_model(stats, kind))
    staged = (
        f"FROM {staging} s JOIN {source_table} src "
        "ON src.account_id = %s AND src.external_id = s.source_id WHERE s.kind = %s"
    )
    same_key = (
        "t.account_id = %s AND t.grain = %s AND t.period_start = s.date "
        f"AND t.{kind}_id = src.id AND t.channel = s.channel"
    )
    updates = ", ".join(f"{column} = {value}" for column, value in _DAY_VALUES.items())
    cursor.execute(
        f"WITH changed AS (UPDATE {table} t SET {updates} {staged} "  # noqa: S608 - names from models
        f"AND {same_key} AND "
        f"({', '.join(f't.{c}' for c in IMPORTED_COUNTS)}) IS DISTINCT FROM "
        f"({', '.join(f's.{c}' for c in IMPORTED_COUNTS)}) RETURNING t.period_start), "
        f"touched AS (INSERT INTO {_TOUCHED} SELECT DISTINCT period_start FROM changed) "
        "SELECT COUNT(*) FROM changed",
        [account.pk, kind, account.pk, Grain.DAY],
    )
    changed = cursor.fetchone()[0]
    new_row = {"period_start": "s.date", f"{kind}_id": "src.id", "channel": "s.channel"}
    new_row.update(_DAY_VALUES)
    columns = ", ".join(new_row)
    cursor.execute(
        f"CREATE TEMPORARY TABLE {_NEW} ON COMMIT DROP AS SELECT "  # noqa: S608 - names from models
        f"{', '.join(f'{value} AS {column}' for column, value in new_row.items())} "
        f"{staged} AND NOT EXISTS (SELECT FROM {table} t WHERE {same_key})",
        [account.pk, kind, account.pk, Grain.DAY],
    )
    added = cursor.rowcount
    cursor.execute(
        f"INSERT INTO {table} (account_id, grain, {columns}) "  # noqa: S608
        f"SELECT %s, %s, {columns} FROM {_NEW}",
        [account.pk, Grain.DAY],
    )
    cursor.execute(f"INSERT INTO {_TOUCHED} SELECT DISTINCT period_start FROM {_NEW}")  # noqa: S608
    cursor.execute(f"DROP TABLE {_NEW}")
    return changed + added


def _source_model(stats, kind: str):
    return stats._meta.get_field(kind).related_model


def _recompute(
    cursor, account: Account, grain: str, target, days, kind: str, days_grain: str = Grain.DAY
) -> None:
    """Delete ``target``'s ``grain`` rows of every touched period and rebuild them from the
    ``days_grain`` rows of ``days`` (a finer table, or ``target`` itself for weeks and
    months), grouped by the target's key; a brand or folder is read from the campaign or
    flow. A finer table's week or month rows each lie in one period of that grain.

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
    columns, keys, join = [], [], ""
    for name in target.key:
        columns.append(target._meta.get_field(name).column)
        path = days.reach(name)
        if path == name:
            keys.append(f"d.{days._meta.get_field(name).column}")
        else:  # an attribute of the campaign or flow
            source = _source_model(days, kind)
            keys.append(f"src.{source._meta.get_field(name).column}")
            join = f"JOIN {_table(source)} src ON src.id = d.{kind}_id"
    period = start.format("d.period_start")
    cursor.execute(
        f"INSERT INTO {table} (account_id, grain, period_start, {', '.join(columns)}, "  # noqa: S608
        f"{', '.join(SUMMED_COLUMNS)}) "
        f"SELECT d.account_id, %s, {period}, {', '.join(keys)}, "
        f"{', '.join(f'SUM(d.{c})' for c in SUMMED_COLUMNS)} FROM {_table(days)} d {join} "
        "WHERE d.account_id = %s AND d.grain = %s "
        f"AND d.period_start >= (SELECT MIN({start.format('day')}) FROM {_TOUCHED}) "
        f"AND d.period_start < (SELECT MAX({after.format(start.format('day'))}) FROM {_TOUCHED}) "
        f"AND {period} IN ({touched}) "
        f"GROUP BY d.account_id, {period}, {', '.join(keys)}",
        [grain, account.pk, days_grain],
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
        for tables in ROLLUPS.values():
            for model in tables:
                cursor.execute(f"VACUUM (ANALYZE) {_table(model)}")
    return True
