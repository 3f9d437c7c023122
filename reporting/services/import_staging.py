"""The import's staging table: rows streamed in with ``COPY``, then checked as a set.

Part of :mod:`reporting.services.stats_import`: the parse loop hands validated rows
to :class:`StagingSink`; once the file is read, :func:`duplicate_key_problems` finds
keys that appear more than once.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from reporting.errors import ImportProblem, StatsImportError
from reporting.models import IMPORTED_COUNTS

STAGING = "reporting_import_staging"
STAGING_DDL = (
    f"CREATE TEMPORARY TABLE {STAGING} ("
    "line integer NOT NULL, kind varchar(8) NOT NULL, source_id varchar(100) NOT NULL, "
    "date date NOT NULL, channel varchar(16) NOT NULL, sends integer NOT NULL, "
    "delivered integer NOT NULL, bounces integer NOT NULL, opens integer, clicks integer, "
    "unsubscribes integer NOT NULL, spam_complaints integer NOT NULL, "
    "orders integer NOT NULL, revenue numeric(14, 2) NOT NULL) ON COMMIT DROP"
)
_STAGING_COLUMNS = ("line", "kind", "source_id", "date", "channel", *IMPORTED_COUNTS)
COPY_BATCH = 5_000
_KEY = "kind, source_id, date, channel"


class StagingSink:
    """Streams validated rows (tuples of text, None = NULL) into the staging table.

    COPY in text format, written in blocks of lines; the values are validated
    digits, dates and enum names, so only ``source_id`` may need escaping.
    ``progress`` is called with the number of rows staged after each block.
    """

    def __init__(self, cursor, progress: Callable[[int], None] | None = None) -> None:
        self._batch: list[str] = []
        self._progress = progress
        self.staged = 0
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper: COPY is psycopg's
        self._copy_context = raw.copy(f"COPY {STAGING} ({', '.join(_STAGING_COLUMNS)}) FROM STDIN")
        self._copy = self._copy_context.__enter__()

    def add(self, row: tuple) -> None:
        if _COPY_SPECIAL.search(row[2]):
            row = (*row[:2], _copy_escape(row[2]), *row[3:])
        self._batch.append("\t".join(_COPY_NULL if value is None else value for value in row))
        if len(self._batch) >= COPY_BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            self._copy.write("\n".join(self._batch) + "\n")
            self.staged += len(self._batch)
            self._batch = []
            if self._progress is not None:
                self._progress(self.staged)

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


def duplicate_key_problems(cursor) -> tuple[list[ImportProblem], int]:
    """Every repeat of a key within the file (the first ``PROBLEMS_LISTED`` and the count).

    A key twice in one file is ambiguous; each later line is reported with the line
    it repeats. The count is one grouping pass over the staged rows (hashed; the
    clean file's only cost); the listing, a window over the rows, runs only when
    there is something to list.
    """
    cursor.execute(
        f"SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM {STAGING} "  # noqa: S608 - constant names
        f"GROUP BY {_KEY} HAVING COUNT(*) > 1) AS repeated"
    )
    total = int(cursor.fetchone()[0])
    if not total:
        return [], 0
    cursor.execute(
        f"SELECT line, first, {_KEY} FROM (SELECT line, {_KEY}, "  # noqa: S608 - constant names
        f"MIN(line) OVER (PARTITION BY {_KEY}) AS first FROM {STAGING}) AS keyed "
        "WHERE line > first ORDER BY line LIMIT %s",
        [StatsImportError.PROBLEMS_LISTED],
    )
    problems = [
        ImportProblem(
            f"repeats line {first}: the same {kind} {source_id!r}, date {day} and "
            f"channel {channel!r}; each (date, kind, source_id, channel) may appear once",
            line=line,
        )
        for line, first, kind, source_id, day, channel in cursor.fetchall()
    ]
    return problems, total
