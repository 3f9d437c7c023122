"""``python manage.py import_stats --account SYSTEM_NAME FILE.csv``: a thin adapter.

``-`` reads standard input; ``--dry-run`` validates and rolls back. On a terminal a
progress line (rows, rows/s, ETA) appears once an import has run for a second.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from contextlib import nullcontext
from typing import BinaryIO

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from reporting.errors import StatsImportError
from reporting.services.rollups import stats_vacuum
from reporting.services.stats_import import COLUMNS, stats_import

PROGRESS_AFTER_SECONDS = 1.0  # small files finish before a progress line would help
PROGRESS_EVERY_SECONDS = 0.5


class Command(BaseCommand):
    help = (
        "Import daily campaign/flow statistics from a CSV file into one account "
        f"(columns, any order: {', '.join(COLUMNS)}). All or nothing: every invalid row "
        "is reported before the file is refused; re-importing is a no-op."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--account", required=True, help="The account's system name.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Validate the file and report what would change, then roll back.",
        )
        parser.add_argument(
            "file", help="Path of the CSV file (UTF-8, header row); - reads standard input."
        )

    def handle(self, *args, account: str, dry_run: bool, file: str, **options) -> None:
        target = Account.objects.filter(system_name=account).first()
        if target is None:
            raise CommandError(f"No account with system name {account!r}.")
        if target.is_offboarded:
            raise CommandError(
                f"{account} was offboarded on {target.offboarded_at:%Y-%m-%d}: "
                "nothing is imported into an offboarded account."
            )
        name = "standard input" if file == "-" else file
        self._progress_shown = False
        started = time.perf_counter()
        try:
            # Binary: the service decodes line by line, so bad UTF-8 is reported by line.
            with nullcontext(sys.stdin.buffer) if file == "-" else open(file, "rb") as lines:
                progress = self._progress_reporter(lines, started)
                result = stats_import(
                    account=target, lines=lines, dry_run=dry_run, progress=progress
                )
        except OSError as error:
            raise CommandError(f"Cannot read {name}: {error.strerror}") from None
        except StatsImportError as error:
            raise CommandError(_refusal(error)) from None
        finally:
            self._end_progress()
        seconds = time.perf_counter() - started
        rate = f"{result.rows / max(seconds, 1e-9):,.0f} rows/s"
        changes = (
            f"{result.written} new or changed, {result.unchanged} unchanged; "
            f"{result.campaigns_created} new campaigns, {result.flows_created} new flows."
        )
        if dry_run:
            self.stdout.write(
                f"Dry run: {result.rows} valid rows for {account} in {seconds:.1f} s ({rate}); "
                f"nothing written. Would be {changes}"
            )
            return
        vacuum = ""
        if result.written:  # nothing written, nothing to vacuum
            started = time.perf_counter()
            # Keeps reports on index-only scans; after the commit, not part of the import.
            if stats_vacuum():
                vacuum = (
                    f" Vacuumed the statistics tables in {time.perf_counter() - started:.1f} s."
                )
        # benchmarks/import_stats.py reads " in <seconds> s (" and the vacuum time from this.
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.rows} rows into {account} in {seconds:.1f} s ({rate}): "
                f"{changes}{vacuum}"
            )
        )

    def _progress_reporter(self, lines: BinaryIO, started: float):
        """A progress callback writing one updating line to a terminal, or None."""
        if not self.stderr.isatty():
            return None
        size = _size(lines)
        shown_at = started + PROGRESS_AFTER_SECONDS - PROGRESS_EVERY_SECONDS

        def report(rows: int) -> None:
            nonlocal shown_at
            now = time.perf_counter()
            if now - shown_at < PROGRESS_EVERY_SECONDS:
                return
            shown_at = now
            elapsed = now - started
            text = f"{rows:,} rows, {rows / elapsed:,.0f} rows/s"
            if size:
                done = lines.tell() / size
                if done > 0:
                    text += f", about {elapsed * (1 - done) / done:.0f} s left"
            self.stderr.write(f"\r{text}\033[K", ending="")
            self.stderr.flush()
            self._progress_shown = True

        return report

    def _end_progress(self) -> None:
        if self._progress_shown:
            self.stderr.write("\r\033[K", ending="")  # the summary replaces the progress line
            self._progress_shown = False


def _size(lines: BinaryIO) -> int | None:
    """The input's size in bytes when it is a regular file (not a pipe), for the ETA."""
    info = os.fstat(lines.fileno())
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _refusal(error: StatsImportError) -> str:
    """The command's message for a refused file: every listed problem on its own line."""
    if error.total == 1:
        return f"Nothing imported. {error.problems[0]}"
    listed = (
        f" (the first {len(error.problems)} listed)" if error.total > len(error.problems) else ""
    )
    lines = [f"Nothing imported: {error.total} invalid rows{listed}."]
    lines += [f"  {problem}" for problem in error.problems]
    return "\n".join(lines)
