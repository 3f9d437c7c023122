"""The import's staging table: rows streamed in with ``COPY``, then checked as a set.

Part of :mod:`reporting.services.stats_import`.
"""

from __future__ import annotations

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
# Rows go in through psycopg's COPY (``copy.write_row``): tuples of validated text,
# None for NULL; psycopg escapes the text and sends the rows in blocks.
STAGING_COPY = f"COPY {STAGING} ({', '.join(_STAGING_COLUMNS)}) FROM STDIN"
_KEY = "kind, source_id, date, channel"


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
