"""PostgreSQL connections under MCP load: bounded by processes x DATABASE_POOL_SIZE.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/maestra_bench \\
        .venv/bin/python benchmarks/mcp_connections.py [--clients 50,100] \\
        [--workers 1,2] [--pool-sizes 5,10] [--duration 120]

Issue #17's load test asked for 50 and 100 clients with ``DATABASE_CONN_MAX_AGE``
0 and 60: that setting is gone, connections now come from Django's psycopg pool
(``DATABASE_POOL_SIZE`` per process, ``DATABASE_POOL_TIMEOUT``). So this measures
what replaced it: for every combination of ``--workers`` uvicorn processes (the
instances of ``mcp_load.py``), ``--pool-sizes`` and ``--clients`` keep-alive clients
(``mcp_load.drive``), ``--duration`` seconds of a mixed load on the MCP endpoint
(tools/list in both protocol eras, a 7-day campaign summary, a 30-day flow
breakdown by channel), while a thread counts the servers' connections in
``pg_stat_activity`` every 0.2 s (the servers connect with their own
``application_name``, so other users of the database do not count).

Reports per run: calls, 503 answers (no free pooled connection within
``DATABASE_POOL_TIMEOUT``: the endpoint's designed refusal, with ``Retry-After``)
apart from any other error, p50/p95 latency, the peak of connections beside the
bound (processes x pool size), the connections left while the servers idle after the
load (the pool keeps them open for reuse), and after the servers stop. Writes
benchmarks/results/mcp_connections.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
import time
from collections import Counter
from datetime import timedelta
from functools import partial

import psycopg
from _setup import ROOT, machine, percentile, publish
from mcp_load import MODERN_META, Instances, bench_account, call, counts, drive, prepare

APPLICATION_NAME = "maestra-connections-benchmark"
SAMPLE_SECONDS = 0.2
BUSY = "HTTP 503"
COUNT = (
    "SELECT count(*), count(*) FILTER (WHERE state = 'active') "
    "FROM pg_stat_activity WHERE application_name = %s"
)


class ConnectionSampler(threading.Thread):
    """Counts the servers' connections (all, and running a query) every SAMPLE_SECONDS,
    on a connection of its own, until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.samples: list[tuple[int, int]] = []
        self.stopped = threading.Event()

    def count(self) -> tuple[int, int]:
        with psycopg.connect(self.url, autocommit=True) as connection:
            return connection.execute(COUNT, [APPLICATION_NAME]).fetchone()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as connection:
            while not self.stopped.wait(SAMPLE_SECONDS):
                self.samples.append(connection.execute(COUNT, [APPLICATION_NAME]).fetchone())

    def stop(self) -> None:
        self.stopped.set()
        self.join()


def with_application_name(url: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}application_name={APPLICATION_NAME}"


def mixed_load(last) -> list[dict]:
    """What each client sends in turn: listings in both eras, a small and a larger report."""
    week = {"date_from": str(last - timedelta(days=6)), "date_to": str(last)}
    month = {"date_from": str(last - timedelta(days=29)), "date_to": str(last)}
    return [
        {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": call("campaign_report", {**week, "breakdown": "none"}),
        },
        {"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {"_meta": MODERN_META}},
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "tools/call",
            "params": call("flow_report", {**month, "breakdown": "channel"}),
        },
    ]


def run(url, path, raw, bodies, *, workers, pool_size, clients, duration) -> dict:
    """One combination: its calls, errors, latencies and connection counts."""
    sampler = ConnectionSampler(url)
    baseline = sampler.count()[0]
    sampler.start()
    # The URL's application_name (which overrides the PGAPPNAME Instances sets) is
    # what the sampler counts.
    env = {"DATABASE_URL": with_application_name(url)}
    instances = Instances(workers, pool_size, ROOT, f"connections-{workers}", env)
    try:
        instances.wait_ready()
        # Not measured: every process imports its code paths before the load.
        load = partial(drive, instances.origin, path, raw, bodies, cap=10**9)
        asyncio.run(load(concurrency=8, duration=2))
        latencies, errors, elapsed, _ = asyncio.run(load(concurrency=clients, duration=duration))
        idle = sampler.count()[0]
    finally:
        instances.stop()
        sampler.stop()
    # The servers' connections close with them; how long until none is left.
    stopped = time.perf_counter()
    while (after := sampler.count()[0]) > baseline and time.perf_counter() - stopped < 10:
        time.sleep(SAMPLE_SECONDS)
    by_kind = Counter(BUSY if error == BUSY else "other" for error in errors)
    return {
        "workers": workers,
        "pool_size": pool_size,
        "clients": clients,
        "calls": len(latencies),
        "busy": by_kind[BUSY],
        "errors": by_kind["other"],
        "first_error": next((error for error in errors if error != BUSY), ""),
        "p50": percentile(latencies, 0.50) if latencies else float("nan"),
        "p95": percentile(latencies, 0.95) if latencies else float("nan"),
        "calls_per_s": len(latencies) / elapsed,
        "baseline": baseline,
        "peak": max(total for total, _ in sampler.samples),
        "peak_active": max(active for _, active in sampler.samples),
        "idle": idle,
        "after": after,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=counts, default=[50, 100], help="e.g. 50,100")
    parser.add_argument("--workers", type=counts, default=[1, 2], help="uvicorn processes")
    parser.add_argument("--pool-sizes", type=counts, default=[5, 10], help="DATABASE_POOL_SIZE")
    parser.add_argument("--duration", type=float, default=120, help="seconds of load per run")
    args = parser.parse_args()

    url = os.environ["DATABASE_URL"]
    account, dataset, rows, last = bench_account()
    _, token, raw = prepare(account)
    bodies = mixed_load(last)
    path = f"/mcp/{account.system_name}"
    with psycopg.connect(url) as connection:
        (max_connections,) = connection.execute("SHOW max_connections").fetchone()
    load_before = os.getloadavg()[0]
    print(f"Dataset: {dataset}, {rows:,} campaign rows; {machine()}; load {load_before:.1f}")
    results = []
    for workers in args.workers:
        for pool_size in args.pool_sizes:
            for clients in args.clients:
                result = run(
                    url,
                    path,
                    raw,
                    bodies,
                    workers=workers,
                    pool_size=pool_size,
                    clients=clients,
                    duration=args.duration,
                )
                results.append(result)
                print(result)
    load_after = os.getloadavg()[0]
    token.delete()

    lines = [
        "# PostgreSQL connections under MCP load",
        "",
        f"{machine()}; PostgreSQL max_connections {max_connections}. uvicorn processes on one "
        f"port (SO_REUSEPORT), keep-alive clients on the same machine, {args.duration:g} s of "
        "mixed load per run after a 2 s warm-up (each client in turn: tools/list 2025-11-25, "
        "a 7-day campaign summary, tools/list 2026-07-28, a 30-day flow breakdown by channel; "
        f"{dataset}, {rows:,} campaign statistics rows). DATABASE_POOL_TIMEOUT: the default "
        f"(5 s). Connections: the servers' rows in pg_stat_activity, sampled every "
        f"{SAMPLE_SECONDS:g} s. Machine load average (other work included) "
        f"{load_before:.1f} before, {load_after:.1f} after: the two cores are shared with "
        "other work, so latencies and calls/s are this machine's, not the code's.",
        "",
        "| processes | DATABASE_POOL_SIZE | clients | calls answered | 503 (pool busy) "
        "| other errors | p50 ms | p95 ms | calls/s | peak connections (bound) "
        "| peak running a query | idle after the load | after stop |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        bound = r["workers"] * r["pool_size"]
        lines.append(
            f"| {r['workers']} | {r['pool_size']} | {r['clients']} | {r['calls']:,} | "
            f"{r['busy']:,} | {r['errors']:,} | {r['p50']:.0f} | {r['p95']:.0f} | "
            f"{r['calls_per_s']:.0f} | {r['peak']} ({bound}) | {r['peak_active']} | "
            f"{r['idle']} | {r['after']} |"
        )
    for r in results:
        if r["errors"]:
            lines.append(
                f"\nFirst other error ({r['workers']} processes, pool {r['pool_size']}, "
                f"{r['clients']} clients): `{r['first_error']}`"
            )
    publish(lines, "mcp_connections.md")


if __name__ == "__main__":
    main()
