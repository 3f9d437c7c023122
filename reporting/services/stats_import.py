"""Import daily statistics from CSV: validate, stage, upsert — all or nothing.

The file is read once, row by row (memory grows with the number of distinct
campaigns, flows and dates, never with rows). Valid rows stream into a temporary
staging table (``COPY``); invalid ones do not stop the reading, so one
:class:`StatsImportError` reports them all. Once the whole file has validated, the
dimensions (brands, goals, folders, campaigns, flows) are upserted through the ORM
and the statistics and their rollups written set-based
(:mod:`reporting.services.rollups`), inside one transaction.

Upsert key: (account, date, kind, source_id, channel). Rows whose counts are
unchanged are not rewritten, so re-importing a file changes nothing. Within a
file each key may appear once.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from operator import itemgetter

from django.db import connections, transaction
from django.db.models import Value
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import Account
from reporting.errors import ImportProblem, StatsImportError
from reporting.models import (
    IMPORTED_COUNTS,
    SOURCES,
    ActivationType,
    Campaign,
    Channel,
    Flow,
    StatsImport,
)
from reporting.services.dimensions import dimensions_upsert
from reporting.services.import_input import ProblemList, text_lines
from reporting.services.import_staging import (
    STAGING,
    STAGING_COPY,
    STAGING_DDL,
    duplicate_key_problems,
)
from reporting.services.rollups import stats_write
from reporting.signals import stats_import_finished

# A campaign's or flow's attributes, as of its last row in the file.
SOURCE_COLUMNS = ("source_name", "folder", "brand", "goal", "activation_type")
COLUMNS = ("date", "kind", "source_id", *SOURCE_COLUMNS, "channel", *IMPORTED_COUNTS)
COUNT_COLUMNS = ("sends", "delivered", "bounces", "unsubscribes", "spam_complaints", "orders")
MAX_COUNT = 2_147_483_647  # the columns are 32-bit
MAX_NAME = 100
MAX_SOURCE_NAME = 255
PROGRESS_EVERY = 5_000  # rows between calls of an import's progress callback
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_REVENUE = re.compile(r"\d{1,12}(?:\.\d{1,2})?")
_LOCK_CLASS = 0x5354  # pg_advisory_xact_lock(class, account id) of stats imports
ACCOUNT_OFFBOARDED = "the account is offboarded: nothing is imported into it any more"

_CHANNELS = tuple(Channel.values)
_ACTIVATION_TYPES = tuple(ActivationType.values)
_UNKNOWN_CHANNEL = f"unknown; valid: {', '.join(_CHANNELS)}"


@dataclass(frozen=True)
class ImportResult:
    rows: int
    written: int  # statistics rows inserted or changed
    campaigns_created: int
    flows_created: int

    @property
    def unchanged(self) -> int:
        return self.rows - self.written


def stats_import(
    *,
    account: Account,
    lines: Iterable[str] | Iterable[bytes],
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import a statistics CSV into ``account``: all of it, or nothing.

    ``lines`` are text lines, or byte lines (a file opened in binary) decoded here
    as UTF-8 so an undecodable line is reported by its number. Every invalid row
    is collected, then :class:`StatsImportError` refuses the file (nothing stored).
    ``dry_run`` validates and computes the result, then rolls back. ``progress`` is
    called with the rows read so far, every few thousand rows.
    """
    started = time.perf_counter()
    try:
        result = _stats_import(account=account, lines=lines, dry_run=dry_run, progress=progress)
    except StatsImportError:
        _finished("refused", 0, started)
        raise
    _finished("dry_run" if dry_run else "imported", result.rows, started)
    return result


def _finished(outcome: str, rows: int, started: float) -> None:
    stats_import_finished.send(
        sender=stats_import, outcome=outcome, rows=rows, seconds=time.perf_counter() - started
    )


def _stats_import(
    *,
    account: Account,
    lines: Iterable[str] | Iterable[bytes],
    dry_run: bool,
    progress: Callable[[int], None] | None,
) -> ImportResult:
    connection = connections["default"]
    with transaction.atomic(using="default"), connection.cursor() as cursor:
        # Holds off a concurrent offboarding (its FOR UPDATE waits) until this
        # transaction ends, and sees one that committed first.
        if (
            Account.objects.select_for_update(no_key=True)
            .filter(pk=account.pk, offboarded_at__isnull=False)
            .exists()
        ):
            raise StatsImportError(ACCOUNT_OFFBOARDED)
        # Room to hash the staged rows in memory (duplicate check, joins); this
        # transaction only.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # One import at a time per account: rollups are recomputed from what this
        # transaction sees, which a concurrent import of the same account would make
        # stale. Released at commit or rollback.
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, account.pk])
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
        cursor.execute(STAGING_DDL)
        problems = ProblemList()
        parsed = _parse_into_staging(text_lines(lines, problems), cursor, problems, progress)
        # Temporary tables are never auto-analysed; without statistics the planner
        # guesses a few rows and picks nested loops over a million.
        cursor.execute(f"ANALYZE {STAGING}")
        repeats, repeat_total = duplicate_key_problems(cursor)
        if problems.total or repeat_total:
            listed = sorted(problems.listed + repeats, key=lambda problem: problem.line or 0)
            raise StatsImportError.of_problems(listed, problems.total + repeat_total)
        campaigns_created, flows_created, moved = dimensions_upsert(
            account=account, sources=parsed.sources
        )
        if campaigns_created or flows_created:
            # The new campaigns and flows join every staged row below; unknown to the
            # planner's statistics, they are guessed at a row or two, and a first
            # import of 1,000,000 rows once spent over nine minutes in the flows' upsert.
            for model in (Campaign, Flow):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        written = stats_write(cursor, account=account, staging=STAGING, moved=moved)
        _record_import(account, date.fromisoformat(max(parsed.days)))
        cursor.execute(f"DROP TABLE {STAGING}")
        if dry_run:
            transaction.set_rollback(True, using="default")
    return ImportResult(
        rows=parsed.rows,
        written=written,
        campaigns_created=campaigns_created,
        flows_created=flows_created,
    )


def _record_import(account: Account, last_day: date) -> None:
    """Move ``data_through`` forward to the file's last day (never back: a file of older
    days corrects history, it does not lose the newer days) and stamp the import time."""
    now = timezone.now()
    StatsImport.objects.for_account(account).update_or_create(
        # PostgreSQL's GREATEST ignores NULL: a record without a day takes the file's.
        defaults={"data_through": Greatest("data_through", Value(last_day)), "imported_at": now},
        create_defaults={"data_through": last_day, "imported_at": now},
    )


@dataclass
class _Parsed:
    rows: int
    # (kind, source_id) -> (name, folder, brand, goal, activation_type) of its last row
    sources: dict[tuple[str, str], tuple[str, str, str, str, str]]
    days: set[str]  # the dates of the rows, validated (YYYY-MM-DD sorts as the days do)


def _read_header(reader) -> dict[str, int]:
    """Each column's position in a row, from the header row."""
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
    return {name: names.index(name) for name in COLUMNS}


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


def _choice(line: int, column: str, raw: str, valid: tuple[str, ...], reason: str) -> str:
    """A cell that is not exactly one of ``valid``: accepted stripped and lower-cased."""
    value = raw.strip().lower()
    if value not in valid:
        raise _bad(line, column, raw, reason)
    return value


def _count(line: int, column: str, raw: str) -> str:
    """A count cell as its validated text (the parse loop checks the short ones inline)."""
    if raw.isascii() and raw.isdigit() and len(raw) <= 10 and int(raw) <= MAX_COUNT:
        return str(int(raw))
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
    return _count(line, column, raw)


def _text(line: int, column: str, raw: str, *, required: bool, max_length: int) -> str:
    value = raw.strip()
    if required and not value:
        raise _bad(line, column, raw, "is required")
    if len(value) > max_length:
        raise _bad(line, column, raw, f"longer than {max_length} characters")
    if "\x00" in value:  # PostgreSQL text cannot hold it: refused here, with its cell
        raise _bad(line, column, raw, "contains a NUL character")
    return value


def _source_attributes(line: int, kind: str, cells: tuple[str, ...]) -> tuple:
    """A row's source_name, folder, brand, goal and activation_type cells, validated."""
    raw_name, raw_folder, raw_brand, raw_goal, raw_type = cells
    name = _text(line, "source_name", raw_name, required=True, max_length=MAX_SOURCE_NAME)
    folder = _text(line, "folder", raw_folder, required=False, max_length=MAX_NAME)
    brand = _text(line, "brand", raw_brand, required=True, max_length=MAX_NAME)
    goal = _text(line, "goal", raw_goal, required=True, max_length=MAX_NAME)
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
            raise _bad(line, "folder", raw_folder, "must be empty for flows")
    return (name, folder, brand, goal, activation_type)


def _parse_into_staging(
    lines: Iterable[str],
    cursor,
    problems: ProblemList,
    progress: Callable[[int], None] | None,
) -> _Parsed:
    """Validate every row and stream the valid ones into the staging table; the hot loop.

    Invalid rows go to ``problems``; structural errors (header, empty file) raise.
    """
    reader = csv.reader(lines)
    at = _read_header(reader)
    width = len(at)
    i_date, i_kind, i_source, i_channel = at["date"], at["kind"], at["source_id"], at["channel"]
    source_cells = itemgetter(*(at[column] for column in SOURCE_COLUMNS))
    count_at = [(column, at[column]) for column in COUNT_COLUMNS]
    i_delivered, i_bounces = at["delivered"], at["bounces"]
    i_opens, i_clicks, i_revenue = at["opens"], at["clicks"], at["revenue"]
    days: set[str] = set()
    sources: dict[tuple[str, str], tuple] = {}
    last_cells: dict[tuple[str, str], tuple] = {}
    rows = 0
    # The psycopg cursor under Django's wrapper: COPY is psycopg's. An exception
    # abandons the COPY (and the import's transaction) and propagates as it is.
    with cursor.cursor.copy(STAGING_COPY) as copy:
        try:
            for row in reader:
                line = reader.line_num
                if len(row) != width and (not row or row == [""]):
                    continue  # blank line
                # One problem per row (its first bad cell); the reading goes on.
                try:
                    if len(row) != width:
                        raise StatsImportError(
                            f"has {len(row)} fields, the header has {width}", line=line
                        )
                    day = row[i_date]
                    if day not in days:
                        days.add(_parse_date(line, day))
                    kind = row[i_kind]
                    if kind not in SOURCES:
                        kind = _choice(line, "kind", kind, SOURCES, "must be 'campaign' or 'flow'")
                    channel = row[i_channel]
                    if channel not in _CHANNELS:
                        channel = _choice(line, "channel", channel, _CHANNELS, _UNKNOWN_CHANNEL)
                    source_id = row[i_source].strip()
                    if not source_id or len(source_id) > MAX_NAME or "\x00" in source_id:
                        _text(line, "source_id", row[i_source], required=True, max_length=MAX_NAME)
                    key = (kind, source_id)
                    cells = source_cells(row)
                    if last_cells.get(key) != cells:
                        sources[key] = _source_attributes(line, kind, cells)
                        last_cells[key] = cells
                    # Counts travel on as their validated text; only the three compared are ints.
                    counts = []
                    for column, index in count_at:
                        raw = row[index]
                        if not (raw.isdigit() and raw.isascii() and len(raw) < 10):
                            raw = _count(line, column, raw)  # longer, or invalid: raises
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
                    # The staging columns: line, the key, then the counts of IMPORTED_COUNTS.
                    staged = (str(line), kind, source_id, day, channel, *counts[:3], opens, clicks)
                    copy.write_row((*staged, *counts[3:], revenue))
                except StatsImportError as error:
                    problems.add(error.problems[0])
                    continue
                rows += 1
                if progress is not None and not rows % PROGRESS_EVERY:
                    progress(rows)
            if rows == 0 and not problems.total:
                raise StatsImportError("the file has a header but no rows")
        except csv.Error as error:
            # The reader cannot be trusted past this point: the problems so far and this one.
            problems.add(
                ImportProblem(f"malformed CSV: {error}; reading stopped here", line=reader.line_num)
            )
    if progress is not None and rows % PROGRESS_EVERY:
        progress(rows)
    return _Parsed(rows=rows, sources=sources, days=days)
