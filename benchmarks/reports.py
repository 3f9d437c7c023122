"""Report latency on the ``seed_demo --scale large`` dataset, beside the previous implementation.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/maestra_bench
    .venv/bin/python manage.py seed_demo --scale large        # once: ~2.1 M campaign rows
    .venv/bin/python benchmarks/reports.py --runs 30 --previous 6167363

For every window (7 days, 90 days, 1 year, 3 years, ending on the last day with
data) and report shape, the in-process p50/p95 of the whole selector call
(filters, queries, result models) on this checkout, and with ``--previous REV``
the same grid for that commit's implementation: a ``git worktree`` of REV on its
own database (``<name>_previous``; made, when missing, with the same
``megastore`` rows, exported from this database and imported through REV's own
``import_stats``). Both run at once, each in a process of its own
(``report_grid.py``), taking turns five calls at a time in every cell, so a
shared machine's load falls on both alike; their answers are checked equal.
Writes benchmarks/results/reports.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _setup import ROOT, django_setup, machine, percentile, previous_checkout, publish

django_setup()

from django.db import connection  # noqa: E402
from report_grid import SHAPES, WINDOWS  # noqa: E402

TARGETS = {  # shape -> p95 target in ms (compare: relative to the same report without)
    "top-50 campaigns": 50,
    "top-50 flows": 50,
}
SMALL_TARGET = 20
COMPARE_FACTOR = 1.5


TURN = 5  # calls a checkout makes before the other takes its turn


class _Grid:
    """One checkout's ``report_grid.py``, timing the cells it is asked for."""

    def __init__(self, checkout: Path, database_url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "report_grid.py")],
            cwd=checkout,
            env={**os.environ, "DATABASE_URL": database_url},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.last_day = self._answer()["last_day"]
        self.samples: dict[str, list[float]] = {}

    def _answer(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            sys.exit(f"report_grid.py stopped (exit {self.process.wait()})")
        return json.loads(line)

    def ask(self, key: str, runs: int) -> dict:
        self.process.stdin.write(f"{key}\t{runs}\n")
        self.process.stdin.flush()
        return self._answer()

    def time(self, key: str, runs: int) -> None:
        self.samples.setdefault(key, []).extend(self.ask(key, runs)["samples"])

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def _export_megastore(path: Path) -> int:
    """The ``megastore`` day rows as an import file, from this checkout's database."""
    from reporting.services.stats_import import COLUMNS

    sql = """
        SELECT s.period_start, '{kind}', src.external_id, src.name, {folder}, b.name, g.name,
               {activation}, s.channel, s.sends, s.delivered, s.bounces, s.opens, s.clicks,
               s.unsubscribes, s.spam_complaints, s.orders, s.revenue
        FROM reporting_{kind}stat s
        JOIN reporting_{kind} src ON src.id = s.{kind}_id
        JOIN reporting_brand b ON b.id = src.brand_id
        JOIN reporting_goal g ON g.id = src.goal_id
        {join}
        JOIN accounts_account a ON a.id = s.account_id
        WHERE a.system_name = 'megastore' AND s.grain = 'day'
    """
    rows = 0
    with path.open("w", newline="") as file, connection.cursor() as cursor:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        for kind, folder, activation, join in (
            (
                "campaign",
                "COALESCE(f.name, '')",
                "src.activation_type",
                "LEFT JOIN reporting_campaignfolder f ON f.id = src.folder_id",
            ),
            ("flow", "''", "''", ""),
        ):
            cursor.execute(sql.format(kind=kind, folder=folder, activation=activation, join=join))
            for row in cursor:
                writer.writerow(["" if value is None else value for value in row])
                rows += 1
    return rows


def _prepare_previous(rev: str, database_url: str) -> Path:
    """A worktree of ``rev`` and its database with the same megastore rows (kept between runs)."""
    checkout = previous_checkout(rev)
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "true"}
    name = database_url.rsplit("/", 1)[1]
    maintenance = database_url.rsplit("/", 1)[0] + "/postgres"
    exists = subprocess.run(
        [
            "psql",
            maintenance,
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{name}'",  # noqa: S608 - our own database name
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if exists:
        return checkout
    subprocess.run(
        ["psql", maintenance, "-qc", f'CREATE DATABASE "{name}"'],
        check=True,
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=checkout, env=env, check=True)
    subprocess.run([*manage, "seed_demo"], cwd=checkout, env=env, check=True, capture_output=True)
    subprocess.run(
        [
            *manage,
            "shell",
            "-c",
            "from accounts.models import Account; Account.objects.get_or_create("
            "system_name='megastore', defaults={'name': 'Megastore (benchmark)', "
            "'timezone': 'Europe/Berlin', 'currency': 'EUR'})",
        ],
        cwd=checkout,
        env=env,
        check=True,
    )
    with tempfile.TemporaryDirectory() as folder:
        export = Path(folder) / "megastore.csv"
        print(f"exported {_export_megastore(export):,} megastore rows for {rev}", file=sys.stderr)
        subprocess.run(
            [*manage, "import_stats", "--account", "megastore", str(export)],
            cwd=checkout,
            env=env,
            check=True,
        )
    return checkout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help=f"a multiple of {TURN}")
    parser.add_argument("--previous", metavar="REV", help="also measure this commit's code")
    args = parser.parse_args()
    current_url = os.environ["DATABASE_URL"]
    grids = []
    if args.previous:
        previous_url = f"{current_url}_previous"
        grids.append(_Grid(_prepare_previous(args.previous, previous_url), previous_url))
    grids.append(_Grid(ROOT, current_url))
    current, previous = grids[-1], grids[0] if args.previous else None
    if previous:
        assert previous.last_day == current.last_day, "the databases hold other data"
    for shape in SHAPES:
        for window in WINDOWS:
            key = f"{shape} | {window}"
            checks = [grid.ask(key, 0)["check"] for grid in grids]
            assert checks[0] == checks[-1], f"{key}: the implementations disagree"
            for turn in range(args.runs // TURN):
                for grid in grids if turn % 2 == 0 else grids[::-1]:
                    grid.time(key, TURN)
    for grid in grids:
        grid.close()

    def cell(grid, key) -> str:
        values = grid.samples[key]
        return f"{percentile(values, 0.5):.1f} / {percentile(values, 0.95):.1f}"

    lines = [
        f"# Report benchmark ({current.last_day} is the last day with data)",
        "",
        f"{machine()}; {args.runs} runs per cell after 3 warm-up runs, in-process"
        + (", both implementations taking turns five calls at a time." if previous else "."),
        "",
        "| shape | window | "
        + (f"previous ({args.previous}) p50 / p95 ms | " if previous else "")
        + "p50 / p95 ms | target p95 | met |",
        "|---|---|" + ("---:|" if previous else "") + "---:|---|---|",
    ]
    for shape in SHAPES:
        for window in WINDOWS:
            key = f"{shape} | {window}"
            p95 = percentile(current.samples[key], 0.95)
            if shape.endswith("+ compare"):
                base = percentile(current.samples[f"top-50 campaigns | {window}"], 0.95)
                target, met = f"≤ {COMPARE_FACTOR}x without", p95 <= COMPARE_FACTOR * base
            else:
                limit = TARGETS.get(shape, SMALL_TARGET)
                target, met = f"≤ {limit} ms", p95 <= limit
            lines.append(
                f"| {shape} | {window} | "
                + (f"{cell(previous, key)} | " if previous else "")
                + f"{cell(current, key)} | {target} | {'yes' if met else 'NO'} |"
            )
    publish(lines, "reports.md")


if __name__ == "__main__":
    main()
