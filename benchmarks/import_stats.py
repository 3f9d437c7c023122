"""Import throughput: a 1,000,000-row CSV through ``manage.py import_stats`` on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/maestra_bench \\
        .venv/bin/python benchmarks/import_stats.py [--rows 1000000] [--neighbour]

Generates the file once (demo data of the large profile, cached in the system
temp directory), imports it into a fresh account ``bench-import`` (all rows
new), then again (all rows unchanged), then a copy with every row's ``orders``
plus one (all rows changed: every rollup row recomputed), then the day after
the file's last (a daily import into an account holding the file), and writes
benchmarks/results/import.md.
``--repeat N`` does that N times (a fresh account each time) and reports the
median. ``--previous REF`` runs the same imports with the command of commit REF
(a ``git worktree`` in the system temp directory, on the same database: REF must
have the same migrations), alternating with this checkout's run by run, so both
see the same machine load, and prints both side by side. The import figure is
the command's own (parse, validate, store, keep the rollups: one transaction,
committed); the VACUUM the command runs after the commit (when rows were
written) is reported on its own, and the command's whole run as well.

A production database already holds other accounts' rows, so the tables and
indexes the import writes are not empty. On a database without such data (not
the ``seed_demo --scale large`` one), ``--neighbour`` first imports the same
file into a second account, ``bench-import-neighbour``, kept between runs (not
timed). The result states how many statistics rows the database held.
``--analysed-empty``, on a database holding no statistics rows, runs ``VACUUM
(ANALYZE)`` on the empty tables before each run, as after a restore and
``vacuumdb --analyze``: the planner then takes them for empty, its worst case
(written to benchmarks/results/import-analysed-empty.md).
"""

from __future__ import annotations

import argparse
import collections
import itertools
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from _setup import ROOT, django_setup, machine, previous_checkout, publish

django_setup()

from django.db import connection  # noqa: E402

from accounts.models import Account  # noqa: E402
from maestra_mcp.demo_stats import LARGE_PROFILE, demo_csv_lines  # noqa: E402
from reporting.models import CampaignStat, FlowStat, Grain  # noqa: E402
from reporting.services.rollups import stats_vacuum  # noqa: E402

ACCOUNT = "bench-import"
NEIGHBOUR = "bench-import-neighbour"


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


def _next_day_csv(path: Path) -> tuple[Path, int]:
    """The day after the file's last, as a daily import brings it (rows, all new), and
    its row count."""
    with path.open(encoding="utf-8") as source:
        # One line kept at a time: a subprocess forked from a large parent reports the
        # parent's memory as its own peak.
        (last,) = collections.deque(source, maxlen=1)
    following = date.fromisoformat(last.split(",", 1)[0]) + timedelta(days=1)
    lines = list(demo_csv_lines(LARGE_PROFILE, first_day=following, last_day=following))
    day = path.with_name(f"{path.stem}-next-day.csv")
    day.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return day, len(lines) - 1


def _changed_csv(path: Path) -> Path:
    """The same rows with one more order each: every row and rollup row changes."""
    changed = path.with_name(path.stem + "-changed.csv")
    if not changed.exists():
        partial = changed.with_suffix(".partial")
        with path.open(encoding="utf-8") as source, partial.open("w", encoding="utf-8") as out:
            header = next(source)
            out.write(header)
            orders = header.rstrip("\n").split(",").index("orders")
            for line in source:  # the demo's cells hold no commas or quotes
                cells = line.rstrip("\n").split(",")
                cells[orders] = str(int(cells[orders]) + 1)
                out.write(",".join(cells) + "\n")
        partial.rename(changed)
    return changed


def _timed_import(
    account: str, path: Path, checkout: Path = ROOT
) -> tuple[float, float, float, float]:
    """(import seconds as the command reports them, vacuum seconds, whole command seconds,
    the command's peak resident memory in MiB).

    The command runs in a process of its own (from ``checkout``), so its peak memory
    is its own.
    """
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", "import_stats", "--account", account, str(path)],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    )
    total = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    text = result.stdout
    seconds = float(re.search(r" in ([0-9.]+) s \(", text).group(1))
    vacuum = re.search(r"Vacuumed the statistics tables in ([0-9.]+) s", text)
    return seconds, float(vacuum.group(1)) if vacuum else 0.0, total, peak


def _stats_rows() -> int:
    return sum(
        model.objects.unscoped().filter(grain=Grain.DAY).count()
        for model in (CampaignStat, FlowStat)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--neighbour",
        action="store_true",
        help=f"first import the file into account {NEIGHBOUR!r} (kept), so the tables hold "
        "another account's rows",
    )
    parser.add_argument(
        "--analysed-empty",
        action="store_true",
        help="on a database without statistics rows: analyse the empty tables before each run",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs (median reported)")
    parser.add_argument("--previous", metavar="REF", help="also run commit REF, alternating")
    args = parser.parse_args()
    checkouts = {"this checkout": ROOT}
    if args.previous:
        checkouts[f"previous ({args.previous})"] = previous_checkout(args.previous)
    path = _csv(args.rows)
    changed = _changed_csv(path)
    next_day, next_day_rows = _next_day_csv(path)
    if args.neighbour and not Account.objects.filter(system_name=NEIGHBOUR).exists():
        Account.objects.create(system_name=NEIGHBOUR, name="Import benchmark neighbour")
        _timed_import(NEIGHBOUR, path)
    Account.objects.filter(system_name=ACCOUNT).delete()
    existing = _stats_rows()
    if args.analysed_empty and existing:
        parser.error(f"--analysed-empty: the database holds {existing:,} statistics rows")
    runs: dict[str, list] = {name: [] for name in checkouts}
    for _ in range(args.repeat):
        for name, checkout in checkouts.items():
            Account.objects.create(system_name=ACCOUNT, name="Import benchmark", timezone="UTC")
            if args.analysed_empty:
                stats_vacuum()  # the import's own VACUUM (ANALYZE): the tables are empty
            runs[name].append(
                (
                    _timed_import(ACCOUNT, path, checkout),
                    _timed_import(ACCOUNT, path, checkout),
                    _timed_import(ACCOUNT, changed, checkout),
                    _timed_import(ACCOUNT, next_day, checkout),
                )
            )
            Account.objects.filter(system_name=ACCOUNT).delete()
    size = path.stat().st_size / 1e6

    def row(label: str, at: int, target: str, rows: int = args.rows) -> list[str]:
        lines = []
        for name, timings in runs.items():
            timings = [run[at] for run in timings]
            seconds, vacuum, total = (statistics.median(t[i] for t in timings) for i in range(3))
            peak = max(t[3] for t in timings)
            lines.append(
                f"| {label} | {name} | {seconds:.1f} | {rows / seconds:,.0f} "
                f"| {vacuum:.1f} | {total:.1f} | {peak:.0f} | {target} |"
            )
        return lines

    lines = [
        f"# Import benchmark ({date.today().isoformat()})",
        "",
        f"{machine()}; `{path.name}`: {args.rows:,} rows, {size:.0f} MB; "
        f"`manage.py import_stats` into a fresh account of database "
        f"`{connection.settings_dict['NAME']}`, already holding "
        f"{existing:,} statistics rows of other accounts"
        f"{' (the tables analysed while empty before each run)' if args.analysed_empty else ''}"
        f"; median of {args.repeat} run(s).",
        "",
        "Import = the command's own figure (one transaction: parse, validate, store, keep "
        "the rollups). The command then VACUUMs the tables it wrote (after the commit, "
        "none when nothing changed); whole command = both.",
        "",
        "| run | code | import s | rows/s | then vacuum s | whole command s | peak RSS MiB "
        "(any run so far) | target |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
        *row("first import (all rows new)", 0, "≥ 25,000"),
        *row("same file again (all unchanged)", 1, "≥ 25,000"),
        *row("every row changed (orders + 1)", 2, "—"),
        *row(f"then the next day ({next_day_rows:,} rows, all new)", 3, "—", next_day_rows),
    ]
    publish(lines, "import-analysed-empty.md" if args.analysed_empty else "import.md")


if __name__ == "__main__":
    main()
