"""Import throughput: a 1,000,000-row CSV through ``manage.py import_stats`` on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/maestra_bench \\
        .venv/bin/python benchmarks/import_stats.py [--rows 1000000]

Generates the file once (demo data of the large profile, cached in the system
temp directory), imports it into a fresh account ``bench-import`` (all rows
new), then again (all rows unchanged), and writes benchmarks/results/import.md.
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from _setup import RESULTS, django_setup, machine

django_setup()

from django.core.management import call_command  # noqa: E402

from accounts.models import Account  # noqa: E402
from reporting.demo import LARGE_PROFILE, demo_csv_lines  # noqa: E402

ACCOUNT = "bench-import"


def _csv(rows: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"maestra-bench-import-{rows}.csv"
    if not path.exists():
        # ~2,800 rows a day in the large profile: generate enough days, keep `rows`.
        lines = demo_csv_lines(
            LARGE_PROFILE,
            first_day=date(2024, 1, 1),
            last_day=date(2024, 1, 1) + timedelta(days=730),
        )
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8") as out:
            for line in itertools.islice(lines, rows + 1):  # + header
                out.write(line + "\n")
        partial.rename(path)
    return path


def _timed_import(path: Path) -> float:
    started = time.perf_counter()
    call_command("import_stats", "--account", ACCOUNT, str(path), stdout=open(os.devnull, "w"))  # noqa: SIM115
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    path = _csv(args.rows)
    Account.objects.filter(system_name=ACCOUNT).delete()
    Account.objects.create(system_name=ACCOUNT, name="Import benchmark", timezone="UTC")
    first = _timed_import(path)
    second = _timed_import(path)
    size = path.stat().st_size / 1e6
    lines = [
        f"# Import benchmark ({date.today().isoformat()})",
        "",
        f"{machine()}; `{path.name}`: {args.rows:,} rows, {size:.0f} MB; "
        "`manage.py import_stats` into a fresh account.",
        "",
        "| run | seconds | rows/s | target |",
        "|---|---:|---:|---:|",
        f"| first import (all rows new) | {first:.1f} | {args.rows / first:,.0f} | ≥ 50,000 |",
        f"| same file again (all unchanged) | {second:.1f} | {args.rows / second:,.0f} "
        "| ≥ 50,000 |",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "import.md").write_text(text)
    Account.objects.filter(system_name=ACCOUNT).delete()


if __name__ == "__main__":
    main()
