"""``python manage.py import_stats --account SYSTEM_NAME FILE.csv``: a thin adapter."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from reporting.errors import StatsImportError
from reporting.services.rollups import stats_vacuum
from reporting.services.stats_import import COLUMNS, stats_import


class Command(BaseCommand):
    help = (
        "Import daily campaign/flow statistics from a CSV file into one account "
        f"(columns, any order: {', '.join(COLUMNS)}). All or nothing; re-importing is a no-op."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--account", required=True, help="The account's system name.")
        parser.add_argument("file", help="Path of the CSV file (UTF-8, header row).")

    def handle(self, *args, **options) -> None:
        try:
            account = Account.objects.get(system_name=options["account"])
        except Account.DoesNotExist:
            raise CommandError(f"No account with system name {options['account']!r}.") from None
        started = time.perf_counter()
        try:
            # newline="" lets the csv module handle quoted line breaks itself.
            with open(options["file"], encoding="utf-8-sig", newline="") as lines:
                result = stats_import(account=account, lines=lines)
        except OSError as error:
            raise CommandError(f"Cannot read {options['file']}: {error.strerror}") from None
        except UnicodeDecodeError as error:
            raise CommandError(f"{options['file']} is not UTF-8 text: {error}") from None
        except StatsImportError as error:
            raise CommandError(f"Nothing imported. {error.message}") from None
        seconds = time.perf_counter() - started
        vacuum = ""
        if result.written:  # nothing written, nothing to vacuum
            started = time.perf_counter()
            # Keeps reports on index-only scans; after the commit, not part of the import.
            if stats_vacuum():
                vacuum = (
                    f" Vacuumed the statistics tables in {time.perf_counter() - started:.1f} s."
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.rows} rows into {account.system_name} in {seconds:.1f} s "
                f"({result.rows / max(seconds, 1e-9):,.0f} rows/s): {result.written} new or "
                f"changed, {result.unchanged} unchanged; {result.campaigns_created} new "
                f"campaigns, {result.flows_created} new flows.{vacuum}"
            )
        )
