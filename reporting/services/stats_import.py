"""Import daily statistics from CSV: validate, stage, upsert — all or nothing.

The file is read once, row by row (memory grows with the number of distinct
campaigns, flows and dates, never with rows). Valid rows stream into a temporary
staging table (PostgreSQL ``COPY``; ``executemany`` batches elsewhere). Once the
whole file has validated, the dimensions (brands, goals, folders, campaigns,
flows) are upserted through the ORM and the statistics with one
``INSERT … SELECT … ON CONFLICT DO UPDATE`` per kind, inside one transaction:
any invalid row raises :class:`StatsImportError` (line, column, value) and
nothing from the file is stored.

Upsert key: (account, date, kind, source_id, channel). Rows whose counts are
unchanged are not rewritten (``WHERE … IS DISTINCT FROM``), so re-importing a
file changes nothing. Within a file each key may appear once.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, connections, transaction

from accounts.models import Account
from reporting.errors import StatsImportError
from reporting.models import (
    ActivationType,
    Brand,
    Campaign,
    CampaignChannelDailyStat,
    CampaignDailyStat,
    CampaignFolder,
    CampaignMonthlyStat,
    CampaignWeeklyStat,
    Channel,
    Flow,
    FlowChannelDailyStat,
    FlowDailyStat,
    FlowMonthlyStat,
    FlowWeeklyStat,
    Goal,
)

COLUMNS = (
    "date",
    "kind",
    "source_id",
    "source_name",
    "folder",
    "brand",
    "goal",
    "activation_type",
    "channel",
    "sends",
    "delivered",
    "bounces",
    "opens",
    "clicks",
    "unsubscribes",
    "spam_complaints",
    "orders",
    "revenue",
)
COUNT_COLUMNS = ("sends", "delivered", "bounces", "unsubscribes", "spam_complaints", "orders")
TRACKED_COLUMNS = ("opens", "clicks")  # empty = not tracked on this channel
STAT_COLUMNS = (
    "sends",
    "delivered",
    "bounces",
    "opens",
    "clicks",
    "unsubscribes",
    "spam_complaints",
    "orders",
    "revenue",
)
KINDS = ("campaign", "flow")
MAX_COUNT = 2_147_483_647  # the columns are 32-bit
MAX_NAME = 100
MAX_SOURCE_NAME = 255
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_REVENUE = re.compile(r"\d{1,12}(?:\.\d{1,2})?")
_STAGING = "reporting_import_staging"
_LOCK_CLASS = 0x5354  # pg_advisory_xact_lock(class, account id) of stats imports
_COPY_BATCH = 5_000

_CHANNELS = {c.value: c.value for c in Channel}
_ACTIVATION_TYPES = {a.value: a.value for a in ActivationType}


@dataclass(frozen=True)
class ImportResult:
    rows: int
    written: int  # statistics rows inserted or changed
    campaigns_created: int
    flows_created: int

    @property
    def unchanged(self) -> int:
        return self.rows - self.written


def stats_import(*, account: Account, lines: Iterable[str]) -> ImportResult:
    """Import a statistics CSV (an iterable of text lines, e.g. an open file) into ``account``.

    Raises :class:`StatsImportError` naming the line, column and value of the
    first invalid cell; nothing is stored then.
    """
    connection = connections["default"]
    if connection.vendor not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"stats_import supports PostgreSQL and SQLite, not {connection}")
    with transaction.atomic(using="default"), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Room to hash the staged rows in memory (duplicate check, joins); this
            # transaction only.
            cursor.execute("SET LOCAL work_mem = '256MB'")
            # One import at a time per account: rollups are incremented or recomputed
            # from what this transaction sees, which a concurrent import of the same
            # account would make stale. Released at commit or rollback.
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, account.pk])
        cursor.execute(f"DROP TABLE IF EXISTS {_STAGING}")
        cursor.execute(_staging_ddl(connection.vendor))
        parsed = _parse_into_staging(lines, cursor, connection.vendor)
        # Temporary tables are never auto-analysed; without statistics the planner
        # guesses a few rows and picks nested loops over a million.
        cursor.execute(f"ANALYZE {_STAGING}")
        campaigns_created, flows_created = _upsert_dimensions(account, parsed)
        written = _upsert_stats(cursor, connection, account, parsed)
        cursor.execute(f"DROP TABLE {_STAGING}")
    return ImportResult(
        rows=parsed.rows,
        written=written,
        campaigns_created=campaigns_created,
        flows_created=flows_created,
    )


def _staging_ddl(vendor: str) -> str:
    suffix = " ON COMMIT DROP" if vendor == "postgresql" else ""
    return (
        f"CREATE TEMPORARY TABLE {_STAGING} ("
        "line integer NOT NULL, kind varchar(8) NOT NULL, source_id varchar(100) NOT NULL, "
        "date date NOT NULL, channel varchar(16) NOT NULL, sends integer NOT NULL, "
        "delivered integer NOT NULL, bounces integer NOT NULL, opens integer, clicks integer, "
        "unsubscribes integer NOT NULL, spam_complaints integer NOT NULL, "
        f"orders integer NOT NULL, revenue numeric(14, 2) NOT NULL){suffix}"
    )


_STAGING_COLUMNS = ("line", "kind", "source_id", "date", "channel", *STAT_COLUMNS)


@dataclass
class _Parsed:
    rows: int
    # (kind, source_id) -> (name, folder, brand, goal, activation_type) of its last row
    sources: dict[tuple[str, str], tuple[str, str, str, str, str]]
    # kind -> the days (ISO text) its rows fall on
    days: dict[str, set[str]]


def _read_header(reader) -> list[int]:
    try:
        header = next(reader)
    except StopIteration:
        raise StatsImportError("the file is empty; expected a header row", line=1) from None
    names = [name.strip().lower() for name in header]
    if names and names[0].startswith("\ufeff"):
        names[0] = names[0][1:]
    for name in names:
        if name not in COLUMNS:
            raise StatsImportError(
                f"unknown column; expected exactly: {', '.join(COLUMNS)}", line=1, column=name
            )
        if names.count(name) > 1:
            raise StatsImportError("column appears twice", line=1, column=name)
    missing = [name for name in COLUMNS if name not in names]
    if missing:
        raise StatsImportError(f"missing column(s): {', '.join(missing)}", line=1)
    return [names.index(name) for name in COLUMNS]


def _bad(line: int, column: str, value: str, reason: str) -> StatsImportError:
    return StatsImportError(reason, line=line, column=column, value=value)


def _parse_date(line: int, raw: str) -> str:
    if _DATE.fullmatch(raw):
        try:
            date.fromisoformat(raw)
            return raw
        except ValueError:
            pass
    raise _bad(line, "date", raw, "not a valid date (expected YYYY-MM-DD)")


def _count(line: int, column: str, raw: str) -> int:
    if raw.isascii() and raw.isdigit() and len(raw) <= 10:
        value = int(raw)
        if value <= MAX_COUNT:
            return value
    if raw.startswith("-") and raw[1:].isdigit():
        raise _bad(line, column, raw, "must not be negative")
    if raw == "":
        raise _bad(line, column, raw, "is required (a whole number ≥ 0)")
    raise _bad(line, column, raw, f"not a whole number between 0 and {MAX_COUNT}")


def _tracked(line: int, column: str, raw: str) -> str | None:
    """An opens/clicks cell: empty = not tracked (NULL), else a validated count."""
    if raw.isdigit() and raw.isascii() and len(raw) < 10:
        return raw
    if not raw.strip():
        return None
    return str(_count(line, column, raw))


def _text(line: int, column: str, raw: str, *, required: bool, max_length: int) -> str:
    value = raw.strip()
    if required and not value:
        raise _bad(line, column, raw, "is required")
    if len(value) > max_length:
        raise _bad(line, column, raw, f"longer than {max_length} characters")
    return value


def _source_attributes(line: int, kind: str, row: list[str], at: list[int]) -> tuple:
    name = _text(line, "source_name", row[at[3]], required=True, max_length=MAX_SOURCE_NAME)
    folder = _text(line, "folder", row[at[4]], required=False, max_length=MAX_NAME)
    brand = _text(line, "brand", row[at[5]], required=True, max_length=MAX_NAME)
    goal = _text(line, "goal", row[at[6]], required=True, max_length=MAX_NAME)
    raw_type = row[at[7]]
    activation_type = raw_type.strip().lower()
    if kind == "campaign":
        if activation_type not in _ACTIVATION_TYPES:
            reason = "is required for campaigns" if not activation_type else "unknown"
            raise _bad(
                line,
                "activation_type",
                raw_type,
                f"{reason}; valid: {', '.join(_ACTIVATION_TYPES)}",
            )
    else:
        if activation_type:
            raise _bad(line, "activation_type", raw_type, "must be empty for flows")
        if folder:
            raise _bad(line, "folder", row[at[4]], "must be empty for flows")
    return (name, folder, brand, goal, activation_type)


def _parse_into_staging(lines: Iterable[str], cursor, vendor: str) -> _Parsed:
    """Validate every row and stream it into the staging table; the hot loop."""
    reader = csv.reader(lines)
    at = _read_header(reader)
    width = len(at)
    (i_date, i_kind, i_source, _, _, _, _, _, i_channel) = at[:9]
    count_at = [(column, at[COLUMNS.index(column)]) for column in COUNT_COLUMNS]
    i_delivered, i_bounces = (at[COLUMNS.index(c)] for c in ("delivered", "bounces"))
    i_opens, i_clicks, i_revenue = (at[COLUMNS.index(c)] for c in ("opens", "clicks", "revenue"))
    dates: dict[str, str] = {}
    sources: dict[tuple[str, str], tuple] = {}
    last_raw: dict[tuple[str, str], tuple] = {}
    days: dict[str, set[str]] = {kind: set() for kind in KINDS}
    rows = 0
    sink = _StagingSink(cursor, vendor)
    try:
        for row in reader:
            line = reader.line_num
            if len(row) != width:
                if not row or row == [""]:
                    continue  # blank line
                raise StatsImportError(f"has {len(row)} fields, the header has {width}", line=line)
            raw_date = row[i_date]
            day = dates.get(raw_date)
            if day is None:
                day = dates[raw_date] = _parse_date(line, raw_date)
            kind = row[i_kind]
            if kind not in KINDS:
                kind = kind.strip().lower()
                if kind not in KINDS:
                    raise _bad(line, "kind", row[i_kind], "must be 'campaign' or 'flow'")
            channel = _CHANNELS.get(row[i_channel])
            if channel is None:
                channel = _CHANNELS.get(row[i_channel].strip().lower())
                if channel is None:
                    raise _bad(
                        line, "channel", row[i_channel], f"unknown; valid: {', '.join(_CHANNELS)}"
                    )
            source_id = row[i_source].strip()
            if not source_id or len(source_id) > MAX_NAME:
                _text(line, "source_id", row[i_source], required=True, max_length=MAX_NAME)
            key = (kind, source_id)
            raw_attrs = (row[at[3]], row[at[4]], row[at[5]], row[at[6]], row[at[7]])
            if last_raw.get(key) != raw_attrs:
                sources[key] = _source_attributes(line, kind, row, at)
                last_raw[key] = raw_attrs
            # Counts travel on as their validated text; only the three compared are ints.
            counts = []
            for column, index in count_at:
                raw = row[index]
                if not (raw.isdigit() and raw.isascii() and len(raw) < 10):
                    raw = str(_count(line, column, raw))  # longer, or invalid: raises
                counts.append(raw)
            sends, delivered, bounces = int(counts[0]), int(counts[1]), int(counts[2])
            if delivered > sends:
                raise _bad(line, "delivered", row[i_delivered], f"exceeds sends ({sends})")
            if bounces > sends:
                raise _bad(line, "bounces", row[i_bounces], f"exceeds sends ({sends})")
            opens = _tracked(line, "opens", row[i_opens])
            clicks = _tracked(line, "clicks", row[i_clicks])
            revenue = row[i_revenue]
            if not _REVENUE.fullmatch(revenue):
                reason = (
                    "must not be negative"
                    if revenue.startswith("-")
                    else "not an amount ≥ 0 with at most 2 decimals (e.g. 1234.50)"
                )
                raise _bad(line, "revenue", revenue, reason)
            sink.add(
                (
                    str(line),
                    kind,
                    source_id,
                    day,
                    channel,
                    counts[0],
                    counts[1],
                    counts[2],
                    opens,
                    clicks,
                    counts[3],
                    counts[4],
                    counts[5],
                    revenue,
                )
            )
            days[kind].add(day)
            rows += 1
        if rows == 0:
            raise StatsImportError("the file has a header but no rows")
    except csv.Error as error:
        raise StatsImportError(f"malformed CSV: {error}", line=reader.line_num) from None
    finally:
        sink.close()
    return _Parsed(rows=rows, sources=sources, days=days)


class _StagingSink:
    """Streams validated rows (tuples of text, None = NULL) into the staging table.

    PostgreSQL: COPY in text format, written in blocks of lines; the values are
    validated digits, dates and enum names, so only ``source_id`` may need escaping.
    Elsewhere: ``executemany`` in batches.
    """

    def __init__(self, cursor, vendor: str) -> None:
        self._cursor = cursor
        self._batch: list = []
        self._copy = self._copy_context = None
        if vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            self._copy_context = raw.copy(
                f"COPY {_STAGING} ({', '.join(_STAGING_COLUMNS)}) FROM STDIN"
            )
            self._copy = self._copy_context.__enter__()
        self._insert = (
            f"INSERT INTO {_STAGING} ({', '.join(_STAGING_COLUMNS)}) "  # noqa: S608 - constants
            f"VALUES ({', '.join(['%s'] * len(_STAGING_COLUMNS))})"
        )

    def add(self, row: tuple) -> None:
        if self._copy is not None:
            if _COPY_SPECIAL.search(row[2]):
                row = (*row[:2], _copy_escape(row[2]), *row[3:])
            row = "\t".join(_COPY_NULL if value is None else value for value in row)
        self._batch.append(row)
        if len(self._batch) >= _COPY_BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._batch:
            return
        if self._copy is not None:
            self._copy.write("\n".join(self._batch) + "\n")
        else:
            self._cursor.executemany(self._insert, self._batch)
        self._batch = []

    def close(self) -> None:
        self._flush()
        if self._copy_context is not None:
            # On an exception the COPY is abandoned with the transaction.
            context, self._copy_context = self._copy_context, None
            context.__exit__(None, None, None)


_COPY_NULL = "\\N"
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")


def _copy_escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _dimension_ids(model, account: Account, names: Iterable[str]) -> dict[str, int]:
    """Ids by lower-cased name, creating the missing ones (first spelling seen wins)."""
    wanted: dict[str, str] = {}
    for name in names:
        if name:
            wanted.setdefault(name.lower(), name)
    scoped = model.objects.for_account(account)
    existing = {name.lower(): pk for pk, name in scoped.values_list("pk", "name")}
    missing = [model(name=name) for key, name in wanted.items() if key not in existing]
    if missing:
        for obj in scoped.bulk_create(missing):
            existing[obj.name.lower()] = obj.pk
    return existing


def _upsert_dimensions(account: Account, parsed: _Parsed) -> tuple[int, int]:
    """Create or update brands, goals, folders, campaigns and flows; latest row wins."""
    attrs = parsed.sources.values()
    brands = _dimension_ids(Brand, account, (a[2] for a in attrs))
    goals = _dimension_ids(Goal, account, (a[3] for a in attrs))
    folders = _dimension_ids(CampaignFolder, account, (a[1] for a in attrs))
    created = []
    for model, kind, fields in (
        (Campaign, "campaign", ["name", "folder_id", "brand_id", "goal_id", "activation_type"]),
        (Flow, "flow", ["name", "brand_id", "goal_id"]),
    ):
        wanted = {}
        for (row_kind, source_id), (
            name,
            folder,
            brand,
            goal,
            activation_type,
        ) in parsed.sources.items():
            if row_kind != kind:
                continue
            values = {
                "name": name,
                "folder_id": folders[folder.lower()] if folder else None,
                "brand_id": brands[brand.lower()],
                "goal_id": goals[goal.lower()],
                "activation_type": activation_type,
            }
            wanted[source_id] = {field: values[field] for field in fields}
        scoped = model.objects.for_account(account)
        existing = {obj.external_id: obj for obj in scoped.only("external_id", *fields)}
        new = [
            model(external_id=source_id, **values)
            for source_id, values in wanted.items()
            if source_id not in existing
        ]
        changed = []
        for source_id, values in wanted.items():
            obj = existing.get(source_id)
            if obj is not None and any(getattr(obj, f) != v for f, v in values.items()):
                for field, value in values.items():
                    setattr(obj, field, value)
                changed.append(obj)
        scoped.bulk_create(new, batch_size=500)
        model.objects.for_account(account).bulk_update(changed, fields, batch_size=500)
        created.append(len(new))
    return created[0], created[1]


def _upsert_stats(cursor, connection, account: Account, parsed: _Parsed) -> int:
    """Move the staged rows into the statistics tables; returns rows inserted or changed."""
    if connection.vendor != "postgresql":
        _reject_duplicate_keys(cursor)
        written = 0
        for kind in KINDS:
            upsert, params = _daily_upsert_sql(connection, account, kind)
            cursor.execute(upsert, params)
            written += cursor.rowcount
            _refresh_rollups(cursor, connection, account, kind)
        return written
    fresh = {kind: _is_fresh(cursor, account, kind, parsed.days[kind]) for kind in KINDS}
    if not all(fresh.values()):
        _reject_duplicate_keys(cursor)
    cursor.execute(f"DROP TABLE IF EXISTS {_CHANGES}")
    cursor.execute(_CHANGES_DDL)
    written = 0
    for kind in KINDS:
        if not parsed.days[kind]:
            continue
        if fresh[kind]:
            changed = _insert_fresh(cursor, connection, account, kind)
        else:
            changed = _upsert_tracking_changes(cursor, connection, account, kind, parsed.days[kind])
        if changed:
            _apply_changes_to_rollups(cursor, account, kind)
        written += changed
    cursor.execute(f"DROP TABLE {_CHANGES}")
    return written


def _daily_upsert_sql(
    connection, account: Account, kind: str, days: set[str] | None = None
) -> tuple[str, list]:
    """``INSERT … SELECT … ON CONFLICT DO UPDATE`` of one kind's staged rows; changed rows only.

    With ``days`` (PostgreSQL), staged rows equal to the stored ones are left out
    before the upsert, by a join with the stored rows of those days: ON CONFLICT
    locks (writes) every conflicting row, even one its WHERE then leaves alone.
    """
    fk, daily, _ = _ROLLUPS[kind]
    source_model = Campaign if kind == "campaign" else Flow
    q = connection.ops.quote_name
    stat_table = q(daily._meta.db_table)
    source_table = q(source_model._meta.db_table)
    keys = ", ".join(q(c) for c in ("account_id", fk, "date", "channel"))
    columns = ", ".join(q(c) for c in STAT_COLUMNS)
    staged = ", ".join(f"s.{q(c)}" for c in STAT_COLUMNS)
    updates = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in STAT_COLUMNS)
    current = ", ".join(f"{stat_table}.{q(c)}" for c in STAT_COLUMNS)
    incoming = ", ".join(f"excluded.{q(c)}" for c in STAT_COLUMNS)
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    stored, changed, params = "", "", [account.pk, account.pk]
    if days:
        stored = (
            f"LEFT JOIN {stat_table} cur ON cur.account_id = %s "
            "AND cur.date BETWEEN %s AND %s AND cur.date = s.date "
            f"AND cur.{fk} = src.id AND cur.channel = s.channel "
        )
        changed = f"AND ({', '.join(f'cur.{q(c)}' for c in STAT_COLUMNS)}) {distinct} ({staged}) "
        params += [account.pk, min(days), max(days)]
    # The SELECT's WHERE also resolves SQLite's INSERT…SELECT…ON CONFLICT ambiguity.
    sql = (
        # Only constant table/column names are interpolated; values are parameters.
        f"INSERT INTO {stat_table} ({keys}, {columns}) "  # noqa: S608
        f"SELECT %s, src.id, s.date, s.channel, {staged} "
        f"FROM {_STAGING} s JOIN {source_table} src "
        f"ON src.account_id = %s AND src.external_id = s.source_id {stored}"
        f"WHERE s.kind = %s {changed}"
        f"ON CONFLICT ({keys}) DO UPDATE SET {updates} "
        f"WHERE ({current}) {distinct} ({incoming})"
    )
    return sql, [*params, kind]


# Rollup column -> aggregate over daily rows (alias d); see RollupStatBase.
ROLLUP_SUMS = {
    **{c: f"SUM(d.{c})" for c in STAT_COLUMNS},
    "opens_delivered": "SUM(CASE WHEN d.opens IS NOT NULL THEN d.delivered END)",
    "clicks_delivered": "SUM(CASE WHEN d.clicks IS NOT NULL THEN d.delivered END)",
    "both_opens": "SUM(CASE WHEN d.clicks IS NOT NULL THEN d.opens END)",
    "both_clicks": "SUM(CASE WHEN d.opens IS NOT NULL THEN d.clicks END)",
}


def period_sql(vendor: str, period: str, column: str) -> str:
    """SQL for the first day of ``column``'s month, ISO week (Monday) or day, as a date."""
    if period == "day":
        return column
    if vendor == "postgresql":
        return f"CAST(date_trunc('{period}', {column}) AS date)"
    if period == "month":
        return f"date({column}, 'start of month')"
    return f"date({column}, 'weekday 0', '-6 days')"  # the Sunday ending the week, minus 6


def _period_bounds(period: str, first: date, last: date) -> tuple[date, date]:
    """From the start of ``first``'s period to the day after ``last``'s period (exclusive)."""
    if period == "month":
        after = (last.replace(day=28) + timedelta(days=4)).replace(day=1)
        return first.replace(day=1), after
    if period == "week":
        return first - timedelta(days=first.weekday()), last + timedelta(days=7 - last.weekday())
    return first, last + timedelta(days=1)


# kind -> fk, daily model, [(rollup model, period, per source)]
_ROLLUPS = {
    "campaign": (
        "campaign_id",
        CampaignDailyStat,
        [
            (CampaignMonthlyStat, "month", True),
            (CampaignWeeklyStat, "week", True),
            (CampaignChannelDailyStat, "day", False),
        ],
    ),
    "flow": (
        "flow_id",
        FlowDailyStat,
        [
            (FlowMonthlyStat, "month", True),
            (FlowWeeklyStat, "week", True),
            (FlowChannelDailyStat, "day", False),
        ],
    ),
}


def _refresh_rollups(cursor, connection, account: Account, kind: str) -> None:
    """Recompute, from the daily rows, the rollup rows of every period the file touches.

    Runs in the import's transaction, after the daily upsert, so the rollups are
    exactly the sums of the daily rows at every commit. Rollup rows whose sums
    did not change are not rewritten (a re-import stays a no-op). Daily rows are
    never deleted by an import, so no rollup row has to disappear.
    """
    cursor.execute(
        f"SELECT MIN(date), MAX(date) FROM {_STAGING} WHERE kind = %s",  # noqa: S608
        [kind],
    )
    first, last = cursor.fetchone()
    if first is None:
        return
    if isinstance(first, str):  # SQLite
        first, last = date.fromisoformat(first), date.fromisoformat(last)
    fk, daily, rollups = _ROLLUPS[kind]
    vendor = connection.vendor
    q = connection.ops.quote_name
    columns = ", ".join(q(c) for c in ROLLUP_SUMS)
    updates = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in ROLLUP_SUMS)
    incoming = ", ".join(f"excluded.{q(c)}" for c in ROLLUP_SUMS)
    distinct = "IS DISTINCT FROM" if vendor == "postgresql" else "IS NOT"
    for rollup, period, per_source in rollups:
        table = q(rollup._meta.db_table)
        start = period_sql(vendor, period, "d.date")
        source_key = [fk] if per_source else []
        keys = ", ".join(q(c) for c in ("account_id", "date", *source_key, "channel"))
        group = ", ".join(["d.account_id", start, *(f"d.{c}" for c in source_key), "d.channel"])
        current = ", ".join(f"{table}.{q(c)}" for c in ROLLUP_SUMS)
        touched, params = "", []
        if period != "day":
            # Skip whole periods the file does not touch (a file of two far-apart days).
            # Not for days: the planner turns a date IN (…) into per-date index probes
            # with heap visits, several times slower than the range scan.
            touched = (
                f"AND {start} IN (SELECT DISTINCT {period_sql(vendor, period, 's.date')} "  # noqa: S608
                f"FROM {_STAGING} s WHERE s.kind = %s) "
            )
            params = [kind]
        cursor.execute(
            # Only constant table/column names are interpolated; values are parameters.
            # Every rollup row of the periods the file touches, from all the daily rows
            # of those periods (found by the index's date range): recomputing a few
            # untouched keys is cheaper than matching the file's keys row by row.
            f"INSERT INTO {table} ({keys}, {columns}) "  # noqa: S608
            f"SELECT {group}, {', '.join(ROLLUP_SUMS.values())} "
            f"FROM {q(daily._meta.db_table)} d "
            "WHERE d.account_id = %s AND d.date >= %s AND d.date < %s "
            f"{touched}GROUP BY {group} "
            f"ON CONFLICT ({keys}) DO UPDATE SET {updates} "
            f"WHERE ({current}) {distinct} ({incoming})",
            [account.pk, *_period_bounds(period, first, last), *params],
        )


# PostgreSQL: the daily rows an import inserted or changed, summed per (source, channel,
# month, week) -- grain s, from which the month and week rollups are grouped -- and per
# (channel, day) -- grain d; inserted: whether these daily rows are new.
_CHANGES = "reporting_import_changes"
_CHANGES_DDL = (
    f"CREATE TEMPORARY TABLE {_CHANGES} ("
    "kind varchar(8) NOT NULL, grain char(1) NOT NULL, inserted boolean NOT NULL, "
    "source integer, channel varchar(16) NOT NULL, month date, week date, day date, "
    "rows bigint NOT NULL, "
    + ", ".join(f"{c} {'numeric' if c == 'revenue' else 'bigint'}" for c in ROLLUP_SUMS)
    + ") ON COMMIT DROP"
)


def _pg_period(period: str, column: str) -> str:
    """Like :func:`period_sql` on PostgreSQL, cheaper per row (no time zone arithmetic).

    Week: 0001-01-01 was a Monday, and valid dates are later.
    """
    if period == "month":
        return f"CAST(date_trunc('month', CAST({column} AS timestamp)) AS date)"
    if period == "week":
        return f"{column} - mod({column} - DATE '0001-01-01', 7)"
    return column


def _is_fresh(cursor, account: Account, kind: str, days: set[str]) -> bool:
    """Whether the account has no daily row of ``kind`` between the file's first and last day.

    Then every staged row is new (the staged keys are unique, see
    :func:`_insert_fresh`): a plain insert, and the rollups only grow. The usual
    case: a first import, or each day's file appended after the last.
    """
    if not days:
        return True
    _, daily, _ = _ROLLUPS[kind]
    first, last = min(days), max(days)
    cursor.execute(
        # The first daily row on or after the file's first day, in index order: one
        # index probe (an EXISTS may be planned as a sequential scan).
        f"SELECT date FROM {daily._meta.db_table} "  # noqa: S608 - constant name
        "WHERE account_id = %s AND date >= %s ORDER BY account_id, date LIMIT 1",
        [account.pk, first],
    )
    found = cursor.fetchone()
    return found is None or found[0] > date.fromisoformat(last)


def _changes_sql(kind: str, inserted: str) -> str:
    """INSERT INTO the changes table the sums of daily rows ``d`` (source, date, channel, counts).

    One grouping pass yields both grains; ``inserted`` is a column of ``d`` or a constant.
    """
    month, week = _pg_period("month", "d.date"), _pg_period("week", "d.date")
    by_inserted = f"{inserted}, " if inserted.startswith("d.") else ""
    return (
        # Only constant names (and a kind of KINDS) are interpolated.
        f"INSERT INTO {_CHANGES} (kind, grain, inserted, source, channel, month, week, day, "  # noqa: S608
        f"rows, {', '.join(ROLLUP_SUMS)}) "
        f"SELECT '{kind}', CASE WHEN GROUPING(d.source) = 0 THEN 's' ELSE 'd' END, {inserted}, "
        f"d.source, d.channel, {month}, {week}, d.date, COUNT(*), "
        f"{', '.join(ROLLUP_SUMS.values())} "
        f"FROM d GROUP BY {by_inserted}d.channel, GROUPING SETS ("
        f"(d.source, {month}, {week}), (d.date))"
    )


def _insert_fresh(cursor, connection, account: Account, kind: str) -> int:
    """A plain INSERT of one kind's staged rows (see :func:`_is_fresh`), their sums noted.

    Skips the upsert's per-row conflict handling and the up-front duplicate
    check: a key twice in the file violates the unique index, and only then is
    the file searched for the two lines to name.
    """
    fk, daily, _ = _ROLLUPS[kind]
    source_table = (Campaign if kind == "campaign" else Flow)._meta.db_table
    staged = (
        f"SELECT src.id AS source, s.date, s.channel, {', '.join(f's.{c}' for c in STAT_COLUMNS)} "  # noqa: S608
        f"FROM {_STAGING} s JOIN {source_table} src "
        "ON src.account_id = %s AND src.external_id = s.source_id WHERE s.kind = %s"
    )
    try:
        with transaction.atomic(using="default"):
            cursor.execute(
                # Only constant table/column names are interpolated; values are parameters.
                f"INSERT INTO {daily._meta.db_table} (account_id, {fk}, date, channel, "  # noqa: S608
                f"{', '.join(STAT_COLUMNS)}) SELECT %s, d.* FROM ({staged}) d",
                [account.pk, account.pk, kind],
            )
    except IntegrityError:
        _reject_duplicate_keys(cursor)  # raises StatsImportError naming the lines
        raise
    written = cursor.rowcount
    cursor.execute(f"WITH d AS ({staged}) {_changes_sql(kind, 'true')}", [account.pk, kind])
    return written


def _upsert_tracking_changes(
    cursor, connection, account: Account, kind: str, days: set[str]
) -> int:
    """Upsert one kind's daily rows; the rows it inserted or changed are summed as changes.

    The upsert RETURNs only the rows it wrote (``xmax = 0``: inserted, else
    updated), so re-importing a file records no change.
    """
    fk, daily, _ = _ROLLUPS[kind]
    upsert, params = _daily_upsert_sql(connection, account, kind, days)
    t = daily._meta.db_table
    returned = ", ".join(
        [f"{t}.{fk} AS source", f"{t}.date", f"{t}.channel", *(f"{t}.{c}" for c in STAT_COLUMNS)]
    )
    cursor.execute(
        f"WITH d AS ({upsert} RETURNING {returned}, ({t}.xmax = 0) AS inserted) "
        f"{_changes_sql(kind, 'd.inserted')}",
        params,
    )
    cursor.execute(
        f"SELECT COALESCE(SUM(rows), 0) FROM {_CHANGES} "  # noqa: S608 - constant name
        "WHERE kind = %s AND grain = 'd'",
        [kind],
    )
    return cursor.fetchone()[0]


def _apply_changes_to_rollups(cursor, account: Account, kind: str) -> None:
    """Bring one kind's rollups in step with the changes noted for it.

    A rollup row whose new daily rows are all inserts only grows: it is
    incremented by their sums (created when missing; opens/clicks stay null
    while neither side tracks them). A rollup row holding an updated daily row
    is recomputed from all its daily rows. Rows the import left alone are not
    touched, so re-importing a file rewrites no rollup.
    """
    cursor.execute(
        f"SELECT COALESCE(bool_or(NOT inserted), false) FROM {_CHANGES} "  # noqa: S608
        "WHERE kind = %s",
        [kind],
    )
    (updated,) = cursor.fetchone()
    if updated:
        # Statistics for the key lists the recomputations join (a temporary table is
        # never auto-analysed).
        cursor.execute(f"ANALYZE {_CHANGES}")
    fk, daily, rollups = _ROLLUPS[kind]
    for rollup, period, per_source in rollups:
        table = rollup._meta.db_table
        keys = ", ".join(["account_id", "date", *([fk] if per_source else []), "channel"])
        group = ", ".join([f"c.{period}", *(["c.source"] if per_source else []), "c.channel"])
        # Both sides null (untracked) stays null; otherwise the sum of the tracked sides.
        adds = ", ".join(
            f"{c} = COALESCE({table}.{c} + excluded.{c}, {table}.{c}, excluded.{c})"
            for c in ROLLUP_SUMS
        )
        grain = "s" if per_source else "d"
        upsert = f"ON CONFLICT ({keys}) DO UPDATE SET {adds}"
        if not updated:
            # No rollup row from the first changed period on (a first import, or a new
            # month's days): plain inserts, without the per-row conflict check.
            cursor.execute(
                f"SELECT 1 FROM {table} WHERE account_id = %s "  # noqa: S608
                f"AND date >= (SELECT MIN(c.{period}) FROM {_CHANGES} c "
                "WHERE c.kind = %s AND c.grain = %s) ORDER BY account_id, date LIMIT 1",
                [account.pk, kind, grain],
            )
            if cursor.fetchone() is None:
                upsert = ""
        cursor.execute(
            f"INSERT INTO {table} ({keys}, {', '.join(ROLLUP_SUMS)}) "  # noqa: S608
            f"SELECT %s, {group}, {', '.join(f'SUM(c.{c})' for c in ROLLUP_SUMS)} "
            f"FROM {_CHANGES} c WHERE c.kind = %s AND c.grain = %s "
            f"GROUP BY {group} HAVING bool_and(c.inserted) {upsert}",
            [account.pk, kind, grain],
        )
        if updated:
            # One pass over the changed periods' daily rows, matched to the changed keys
            # by hashing. The daily table's statistics lag behind the rows just written,
            # and with an estimate of a few rows the planner probes the date range once
            # per key (minutes for a file that changed every row).
            cursor.execute("SET LOCAL enable_nestloop = off")
            _recompute(cursor, account, kind, daily, fk, rollup, period, per_source)
            cursor.execute("RESET enable_nestloop")


def _recompute(cursor, account, kind, daily, fk, rollup, period, per_source) -> None:
    """Rollup rows holding an updated daily row: recompute them from all their daily rows."""
    table = rollup._meta.db_table
    keys = ", ".join(["account_id", "date", *([fk] if per_source else []), "channel"])
    start = _pg_period(period, "d.date")
    step = {"month": "interval '1 month'", "week": "7", "day": "1"}[period]
    source = [f"d.{fk}"] if per_source else []
    group = ", ".join(["d.account_id", start, *source, "d.channel"])
    changed = f"FROM {_CHANGES} c WHERE c.kind = %s AND c.grain = %s AND NOT c.inserted"
    matched = ", ".join([start, *source, "d.channel"])
    wanted = ", ".join([f"c.{period}", *(["c.source"] if per_source else []), "c.channel"])
    updates = ", ".join(f"{c} = excluded.{c}" for c in ROLLUP_SUMS)
    current = ", ".join(f"{table}.{c}" for c in ROLLUP_SUMS)
    incoming = ", ".join(f"excluded.{c}" for c in ROLLUP_SUMS)
    grain = "s" if per_source else "d"
    cursor.execute(
        # The daily rows of the changed periods (an index range), those of changed keys.
        f"INSERT INTO {table} ({keys}, {', '.join(ROLLUP_SUMS)}) "  # noqa: S608
        f"SELECT {group}, {', '.join(ROLLUP_SUMS.values())} FROM {daily._meta.db_table} d "
        f"WHERE d.account_id = %s AND d.date >= (SELECT MIN(c.{period}) {changed}) "
        f"AND d.date < (SELECT CAST(MAX(c.{period}) + {step} AS date) {changed}) "
        f"AND ({matched}) IN (SELECT {wanted} {changed}) "
        f"GROUP BY {group} "
        f"ON CONFLICT ({keys}) DO UPDATE SET {updates} "
        f"WHERE ({current}) IS DISTINCT FROM ({incoming})",
        [account.pk, kind, grain, kind, grain, kind, grain],
    )


def _reject_duplicate_keys(cursor) -> None:
    """A key twice in one file is ambiguous: refuse it, naming both lines.

    Costs one grouping pass over the staged rows; cheaper than discovering it
    halfway through the upsert, and the same on every database.
    """
    cursor.execute(
        f"SELECT MIN(line), MAX(line), kind, source_id, date, channel FROM {_STAGING} "  # noqa: S608 - constant name
        "GROUP BY kind, source_id, date, channel HAVING COUNT(*) > 1 "
        "ORDER BY MIN(line) LIMIT 1"
    )
    duplicate = cursor.fetchone()
    if duplicate:
        first, second, kind, source_id, day, channel = duplicate
        raise StatsImportError(
            f"repeats line {first}: the same {kind} {source_id!r}, date {day} and "
            f"channel {channel!r}; each (date, kind, source_id, channel) may appear once",
            line=second,
        )


def stats_vacuum() -> bool:
    """VACUUM (ANALYZE) the statistics tables after imports (PostgreSQL, outside transactions).

    Reports are index-only scans, which read the heap for pages not yet marked
    all-visible; autovacuum reacts to inserts only after a fifth of the table
    changed, so the freshest, most-queried days would stay slow. Vacuum cost is
    proportional to the new pages. Returns whether it ran.
    """
    connection = connections["default"]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        for _, daily, rollups in _ROLLUPS.values():
            for model in (daily, *(rollup for rollup, _, _ in rollups)):
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"VACUUM (ANALYZE) {table}")
    return True
