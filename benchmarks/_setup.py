"""Django set-up shared by the benchmark scripts (run them from the project root)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maestra_mcp.settings")
    # Production-like settings (no query log); the key only has to be non-default.
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 40)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("The benchmarks need PostgreSQL: set DATABASE_URL=postgres://…/maestra_bench")


def machine() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
        cursor.execute("SHOW random_page_cost")
        (random_page_cost,) = cursor.fetchone()
        cursor.execute("SHOW shared_buffers")
        (shared_buffers,) = cursor.fetchone()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"PostgreSQL {version} (random_page_cost {random_page_cost}, "
        f"shared_buffers {shared_buffers}), "
        f"{os.cpu_count()} CPUs shared with other work "
        f"(load average at the end: {load})"
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def publish(lines: list[str], filename: str) -> None:
    """Print a benchmark's report and write it to ``benchmarks/results/<filename>``."""
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / filename).write_text(text)


def previous_checkout(rev: str) -> Path:
    """A ``git worktree`` of ``rev`` in the system temp directory (created once, kept for
    later runs), for measuring an earlier implementation beside this checkout."""
    checkout = Path(tempfile.gettempdir()) / f"maestra-previous-{rev}"
    if not checkout.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(checkout), rev], cwd=ROOT, check=True
        )
    return checkout
