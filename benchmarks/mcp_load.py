"""Load on the MCP endpoint over HTTP on loopback, against uvicorn on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/maestra_bench \\
        .venv/bin/python manage.py seed_demo --scale large        # once, a few minutes
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/maestra_bench \\
        .venv/bin/python benchmarks/mcp_load.py [--workers 1,2] [--duration 20] \
        [--concurrency 8,50] [--soak 300] [--compare DIR]

For each ``--workers`` count, starts that many uvicorn processes serving
``maestra_mcp.asgi:application`` on one port (see :class:`Instances`; the
endpoint keeps no state, so any process answers any request); all counts are
up at once and each scenario is run against one after the other, so the
figures compared were measured minutes apart at most on a shared machine. Each
is driven, for each ``--concurrency``, with that many concurrent clients, each a
keep-alive HTTP/1.1 connection sending stateless JSON-RPC POSTs, every one
with the bearer token, so each call pays the whole path: Host/Origin
checks, token validation, access policy, the SDK, the tool, the session-log row.
The clients are plain asyncio streams writing a prepared request and reading
the ``Content-Length`` answer (each answer is parsed as JSON and checked): the
load generator shares the two cores with the server and PostgreSQL, so it must
cost little; its own CPU time per call is printed. Scenarios, each bounded by
``--duration`` seconds and ``--max-calls`` calls:

(a) ``tools/list`` in the 2025-11-25 era (as Claude.ai sends it after its
``initialize``) and in the 2026-07-28 era (``Mcp-Method`` header and ``_meta``
in the params, as the official SDK sends it); (b) a small ``campaign_report``
(last 7 days, no breakdown); (c) the 90-day report of ``benchmarks/reports.py``
(day timeline, top-50 campaigns); (b) and (c) in the 2025-11-25 era.

Prints p50/p95/p99 latency, calls/s, errors and the peak RSS of each server
process per scenario, and (c) end to end against the same report called
in-process here (one client, httpx2, as an assistant back-end would call).

CPU per call, which a shared machine cannot blur as it blurs calls/s: the
server processes' CPU time (``/proc/<pid>/stat``, all their threads) and that
of the PostgreSQL backends serving them (found by ``application_name``) over
each scenario, divided by its calls. On a machine whose cores the load
generator, the servers and PostgreSQL share, 2 processes cannot show 2x the
calls/s of 1; if the CPU each call costs stays the same with 2 processes (no
contention, no lock), each process added with its own core adds its calls/s.

``--compare DIR`` also serves the code of another checkout of the project
(e.g. ``git worktree add /tmp/mcp-previous <commit>``) on the same database,
its processes started beside this checkout's and driven in the same turn; a
table sets the two side by side.
``--soak N`` adds an N-second mixed run sampling each server process's RSS every 10 s.
``--soak`` runs with the largest ``--workers`` count. Uses the ``--scale large``
account when it has data, else the demo account (and says so). Writes
benchmarks/results/mcp_load.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from _setup import ROOT, django_setup, machine, percentile, publish

django_setup()

import httpx2  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.utils import timezone  # noqa: E402
from oauth2_provider.models import AccessToken, Application, set_token_value  # noqa: E402

from accounts.models import Account, Membership, Role  # noqa: E402
from accounts.services import account_set_mcp_enabled  # noqa: E402
from maestra_mcp.demo_stats import LARGE_ACCOUNT  # noqa: E402
from maestra_mcp.session_logs.models import McpSessionLog  # noqa: E402
from permissions.brand_scope import allowed_brand_ids  # noqa: E402
from permissions.policy import mcp_access_decision  # noqa: E402
from permissions.services import membership_create  # noqa: E402
from reporting.models import CampaignStat, Grain  # noqa: E402
from reporting.schemas import CampaignReportParams  # noqa: E402
from reporting.selectors import campaign_report  # noqa: E402

BENCH_USER = "mcp-benchmark@maestra.test"
CALLS_PER_CONNECTION = 50
LEGACY = "2025-11-25"
MODERN = "2026-07-28"
# What the official client puts in every 2026-07-28 request's params.
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": {"name": "mcp-load", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


def prepare(account: Account):
    """A member with MCP Access on ``account`` (flag on) and a fresh bearer token for it."""
    if not account.mcp_enabled:
        account_set_mcp_enabled(account=account, enabled=True)
    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    if not Membership.objects.filter(user=user, account=account).exists():
        membership_create(account=account, user=user, role=Role.ANALYST)
    assert mcp_access_decision(user=user, account=account).allowed
    application, _ = Application.objects.get_or_create(
        name="MCP load benchmark",
        defaults={
            "client_type": Application.CLIENT_PUBLIC,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": "http://127.0.0.1/callback",
        },
    )
    raw = secrets.token_urlsafe(32)
    token = AccessToken(
        user=user,
        application=application,
        scope="reports:read",
        expires=timezone.now() + timedelta(hours=2),
        resource=[account.mcp_url],
    )
    set_token_value(token, raw)
    token.save()
    return user, token, raw


class Instances:
    """``count`` uvicorn processes, each an instance on its own listening socket.

    The sockets share one loopback port through ``SO_REUSEPORT``, so the kernel
    spreads connections evenly over the instances, as a load balancer spreads
    them over servers. (uvicorn's ``--workers`` share one socket, and on this
    kernel most connections opened at once land on one worker.)
    """

    def __init__(
        self, count: int, pool_size: int | None, checkout: Path, name: str, env: dict | None = None
    ) -> None:
        sockets, port = [], 0
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen(1024)
            port = sock.getsockname()[1]
            sockets.append(sock)
        # PGAPPNAME names their PostgreSQL connections, whose backends' CPU is counted.
        self.application_name = f"mcp-load-{name}-{os.getpid()}"
        env = {
            **os.environ,
            "LOG_LEVEL": "WARNING",
            "PGAPPNAME": self.application_name,
            **({} if pool_size is None else {"DATABASE_POOL_SIZE": str(pool_size)}),
            **(env or {}),
        }
        self.processes = [
            subprocess.Popen(
                [sys.executable, "benchmarks/_uvicorn_instance.py", str(sock.fileno())],
                cwd=checkout,
                env=env,
                pass_fds=(sock.fileno(),),
            )
            for sock in sockets
        ]
        for sock in sockets:
            sock.close()
        self.origin = f"http://127.0.0.1:{port}"
        self.pids = [process.pid for process in self.processes]

    def wait_ready(self) -> None:
        """Until a round of new connections, several per instance, has been answered
        (an instance still starting holds its connections in its backlog)."""
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            if any(process.poll() is not None for process in self.processes):
                break
            try:
                for _ in range(4 * len(self.processes)):
                    httpx2.get(f"{self.origin}/.well-known/oauth-protected-resource/mcp/x")
                return
            except httpx2.TransportError:
                time.sleep(0.2)
        self.stop()
        sys.exit("uvicorn did not start")

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=30)

    def cpu_seconds(self) -> tuple[dict[int, float], dict[int, float]]:
        """CPU seconds so far of each server process and of each PostgreSQL backend
        serving them (an empty dict when PostgreSQL runs on another machine)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                [self.application_name],
            )
            backends = [pid for (pid,) in cursor.fetchall()]
        return (
            {pid: cpu_seconds(pid) for pid in self.pids},
            {pid: seconds for pid in backends if (seconds := cpu_seconds(pid)) is not None},
        )


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process, all its threads (None if it is not here)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings; a process born in between counts from zero."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def memory_kib(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) of a process, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def prepared_request(port: int, path: str, token: str, body: dict) -> bytes:
    """The HTTP request of ``body``; its era is the one of its ``_meta`` (else 2025-11-25)."""
    payload = json.dumps(body).encode()
    modern = "_meta" in body.get("params", {})
    era_headers = f"MCP-Protocol-Version: {MODERN if modern else LEGACY}\r\n" + (
        f"Mcp-Method: {body['method']}\r\n" if modern else ""
    )
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\n"
        "Accept: application/json, text/event-stream\r\n"
        f"{era_headers}"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 response with a Content-Length."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed by the server")
    status = int(status_line.split()[1])
    length = None
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise ValueError("response without Content-Length")
    return status, await reader.readexactly(length)


async def drive(origin: str, path: str, token: str, body, *, concurrency, duration, cap):
    """``concurrency`` keep-alive clients sending ``body`` until time or call budget runs out;
    ``body`` may be a list of bodies, which each client sends in turn (a mixed load).

    Returns (latencies ms, errors, elapsed s, client CPU s); an error is ``HTTP <status>``
    for an answer other than 200, else the JSON-RPC error or the exception.
    """
    port = int(origin.rsplit(":", 1)[1])
    bodies = body if isinstance(body, list) else [body]
    requests = [prepared_request(port, path, token, each) for each in bodies]
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + duration
    started, cpu_started = time.perf_counter(), time.process_time()

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        calls = 0
        while time.perf_counter() < deadline and len(latencies) + len(errors) < cap:
            calls += 1
            if calls % CALLS_PER_CONNECTION == 0:
                # Assistants' connections come and go; each new one may land on
                # another instance.
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            sent = time.perf_counter()
            try:
                writer.write(requests[calls % len(requests)])
                status, raw = await read_response(reader)
                payload = json.loads(raw)
                problem = (
                    f"HTTP {status}"
                    if status != 200
                    else payload.get("error") or (payload["result"].get("isError") and "isError")
                )
            except Exception as exc:  # every failure counts, whatever it is
                problem = repr(exc)
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            if problem:
                errors.append(str(problem)[:200])
            else:
                latencies.append((time.perf_counter() - sent) * 1000)
        writer.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies, errors, time.perf_counter() - started, time.process_time() - cpu_started


def paired(url, token, body, runs, account, user, params):
    """``runs`` times (one call over HTTP, then the same report in-process); latencies in ms."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": LEGACY,
    }
    e2e, direct, errors = [], [], 0
    with httpx2.Client(timeout=60, headers=headers) as http:
        for _ in range(runs):
            sent = time.perf_counter()
            response = http.post(url, json=body)
            if response.status_code != 200 or response.json()["result"].get("isError"):
                errors += 1
            else:
                e2e.append((time.perf_counter() - sent) * 1000)
            started = time.perf_counter()
            campaign_report(
                account=account,
                allowed_brands=allowed_brand_ids(user=user, account=account),
                params=params,
            )
            direct.append((time.perf_counter() - started) * 1000)
    return e2e, direct, errors


def summary(name: str, latencies, errors, elapsed, client_cpu, peaks_kib) -> dict:
    calls = len(latencies) + len(errors)
    return {
        "scenario": name,
        "calls": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        "p50": percentile(latencies, 0.50) if latencies else float("nan"),
        "p95": percentile(latencies, 0.95) if latencies else float("nan"),
        "p99": percentile(latencies, 0.99) if latencies else float("nan"),
        "calls_per_s": len(latencies) / elapsed,
        "client_cpu_ms": client_cpu * 1000 / calls if calls else float("nan"),
        "peak_rss_mib": [kib / 1024 for kib in peaks_kib],
    }


def bench_account() -> tuple[Account, str, int, date]:
    """The ``--scale large`` account when it has data, else the demo account ``acme``:
    the account, how to name it in a result, its campaign day rows and their last day."""
    account = Account.objects.filter(system_name=LARGE_ACCOUNT).first()
    dataset = f"`seed_demo --scale large` account `{LARGE_ACCOUNT}`"
    if account is None or not CampaignStat.objects.for_account(account).exists():
        account = Account.objects.get(system_name="acme")
        dataset = "the demo account `acme` (the `--scale large` data was not found)"
    days = CampaignStat.objects.for_account(account).filter(grain=Grain.DAY)
    return account, dataset, days.count(), days.aggregate(last=Max("period_start"))["last"]


def call(name: str, arguments: dict) -> dict:
    """The params of a tools/call."""
    return {"name": name, "arguments": arguments}


def counts(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workers", type=counts, default=[1, 2], help="uvicorn processes, e.g. 1,2"
    )
    parser.add_argument("--duration", type=float, default=20, help="seconds per scenario")
    parser.add_argument(
        "--concurrency", type=counts, default=[8, 50], help="simultaneous clients, e.g. 8,50"
    )
    parser.add_argument("--max-calls", type=int, default=20_000, help="calls per scenario, at most")
    parser.add_argument("--in-process-runs", type=int, default=30)
    parser.add_argument("--soak", type=float, default=0, help="seconds of mixed load (memory)")
    parser.add_argument(
        "--pool-size",
        type=int,
        default=None,
        help="DATABASE_POOL_SIZE for each server process (default: the project's, 10)",
    )
    parser.add_argument(
        "--scenarios", default="abc", help="which of the scenarios (a), (b), (c) to run"
    )
    parser.add_argument(
        "--compare",
        type=Path,
        default=None,
        help="another checkout of the project (e.g. a git worktree of an earlier commit) "
        "to run every scenario against too, side by side",
    )
    args = parser.parse_args()

    account, dataset, rows, last = bench_account()
    user, token, raw = prepare(account)
    window_90 = {"date_from": str(last - timedelta(days=89)), "date_to": str(last)}
    report_90 = {**window_90, "timeline": "day", "limit": 50}

    scenarios = [
        (f"(a) tools/list, {LEGACY}", {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        (
            f"(a) tools/list, {MODERN}",
            {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": MODERN_META}},
        ),
        (
            "(b) campaign_report, 7 days, no breakdown",
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": call("campaign_report", {"period": "last_7_days", "breakdown": "none"}),
            },
        ),
        (
            "(c) campaign_report, 90 days, day timeline, top-50 campaigns",
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": call("campaign_report", report_90),
            },
        ),
    ]
    report_body = scenarios[-1][1]
    scenarios = [(name, body) for name, body in scenarios if name[1] in args.scenarios]

    load_before = os.getloadavg()[0]
    print(f"Dataset: {dataset}, {rows:,} campaign rows; {machine()}; load {load_before:.1f}")
    path = f"/mcp/{account.system_name}"
    checkouts = {"now": ROOT} | ({"previous": args.compare.resolve()} if args.compare else {})
    results = []
    pairs: list[tuple[int, list[float], list[float], int]] = []
    rss_samples: list[tuple[float, list[int]]] = []
    soak_pids: list[int] = []
    # Every process count of both implementations up at once, driven in turn, scenario
    # by scenario: the idle ones cost nothing, and the figures compared were measured
    # within a minute or two of each other on this shared machine.
    running = {
        (name, workers): Instances(workers, args.pool_size, checkout, f"{name}-{workers}")
        for workers in args.workers
        for name, checkout in checkouts.items()
    }
    try:
        for instances in running.values():
            instances.wait_ready()
            # Warm-up, not measured: every worker imports its code paths and fills
            # its connection pool before the first scenario.
            for _, body in scenarios:
                asyncio.run(
                    drive(instances.origin, path, raw, body, concurrency=8, duration=2, cap=10**9)
                )
        for concurrency in args.concurrency:
            for name, body in scenarios:
                for (implementation, workers), instances in running.items():
                    cpu_before = instances.cpu_seconds()
                    latencies, errors, elapsed, client_cpu = asyncio.run(
                        drive(
                            instances.origin,
                            path,
                            raw,
                            body,
                            concurrency=concurrency,
                            duration=args.duration,
                            cap=args.max_calls,
                        )
                    )
                    cpu_after = instances.cpu_seconds()
                    peaks = [memory_kib(pid)[1] for pid in instances.pids]
                    results.append(
                        {
                            "implementation": implementation,
                            "workers": workers,
                            "concurrency": concurrency,
                            **summary(name, latencies, errors, elapsed, client_cpu, peaks),
                            "server_cpu_s": spent(cpu_before[0], cpu_after[0]),
                            "database_cpu_s": spent(cpu_before[1], cpu_after[1]),
                        }
                    )
                    print(json.dumps(results[-1]))
        for workers in args.workers:
            # (c) from a single client, each call paired with the same report in-process,
            # alternating, so both see the same machine load (this machine is shared).
            params = CampaignReportParams(**report_90)
            url = f"{running['now', workers].origin}{path}"
            e2e, direct, errors = paired(
                url, raw, report_body, args.in_process_runs, account, user, params
            )
            pairs.append((workers, e2e, direct, errors))
        if args.soak:
            soaked = running["now", max(args.workers)]
            soak_pids = soaked.pids
            rss_samples = asyncio.run(
                soak(soaked.origin, path, raw, scenarios, soak_pids, args.soak)
            )
    finally:
        for instances in running.values():
            instances.stop()
    # Processes, then clients, then the scenarios in their order.
    results.sort(key=lambda r: (r["workers"], r["concurrency"]))

    load_after = os.getloadavg()[0]
    McpSessionLog.objects.for_account(account).filter(token_id=token.pk).delete()
    token.delete()

    pool = "project default (10)" if args.pool_size is None else args.pool_size
    now = [r for r in results if r["implementation"] == "now"]
    lines = [
        "# MCP endpoint under load",
        "",
        f"{machine()}; uvicorn processes on one port (SO_REUSEPORT); keep-alive clients on "
        f"the same machine; {args.duration:g} s per scenario after a 2 s warm-up per "
        f"scenario. Dataset: {dataset}, {rows:,} campaign statistics rows. Server "
        f"DATABASE_POOL_SIZE: {pool}. Machine load average (other work included) "
        f"{load_before:.1f} before, {load_after:.1f} after.",
        "",
        "| processes | clients | scenario | calls | errors | p50 ms | p95 ms | p99 ms | calls/s | "
        "server CPU ms/call | PostgreSQL CPU ms/call | client CPU ms/call | "
        "peak RSS MiB per server process |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in now:
        rss = ", ".join(f"{mib:.0f}" for mib in r["peak_rss_mib"])
        lines.append(
            f"| {r['workers']} | {r['concurrency']} | {r['scenario']} | {r['calls']:,} | "
            f"{r['errors']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | "
            f"{r['calls_per_s']:.0f} | {per_call(r, 'server_cpu_s')} | "
            f"{per_call(r, 'database_cpu_s')} | {r['client_cpu_ms']:.2f} | {rss} |"
        )
    lines += ["", *cpu_scaling(now, args.workers)]
    if args.compare:
        lines += ["", *side_by_side(results, args.compare)]
    lines.append("")
    for workers, e2e, direct, pair_errors in pairs:
        e2e_p50, in_p50 = percentile(e2e, 0.5), percentile(direct, 0.5)
        lines.append(
            f"- (c) with {workers_text(workers)}, from one client, {len(e2e)} end-to-end calls "
            f"({pair_errors} errors) alternating with the same report called in-process: end "
            f"to end p50 {e2e_p50:.1f} ms, p95 {percentile(e2e, 0.95):.1f} ms; in-process p50 "
            f"{in_p50:.1f} ms; added cost {e2e_p50 - in_p50:.1f} ms at p50 (HTTP, protocol, "
            "token check, policy, session log, result size budget)."
        )
    if rss_samples:
        lines += [
            "",
            f"Soak: {args.soak:g} s of all scenarios mixed, {workers_text(max(args.workers))}; "
            "RSS sampled every 10 s:",
        ]
        for index, pid in enumerate(soak_pids):
            series = [kibs[index] / 1024 for _, kibs in rss_samples]
            lines.append(
                f"- server process {index + 1} (pid {pid}): "
                + ", ".join(f"{mib:.0f}" for mib in series)
                + f" MiB (first {series[0]:.0f}, last {series[-1]:.0f})."
            )
    for r in results:
        if r["errors"]:
            lines.append(
                f"\nFirst error in {r['scenario']} ({r['implementation']}, {r['workers']} "
                f"processes, {r['concurrency']} clients): `{r['first_error']}`"
            )
    publish(lines, "mcp_load.md")


def per_call(result: dict, key: str) -> str:
    """CPU milliseconds per answered call ("-" when nothing was measured)."""
    if not result["calls"] or (key == "database_cpu_s" and not result[key]):
        return "-"
    return f"{result[key] * 1000 / result['calls']:.2f}"


def cpu_scaling(results: list[dict], workers: list[int]) -> list[str]:
    """Server CPU per call with the fewest and the most processes, per scenario and clients."""
    few, most = min(workers), max(workers)
    if few == most:
        return []
    lines = [
        f"Server CPU per call, {few} vs {most} processes (same scenario and clients); "
        "calls/s per server CPU second is what one core gives:",
        "",
        f"| clients | scenario | server CPU ms/call, {few} → {most} | ratio | "
        f"calls/s per server CPU s, {few} → {most} |",
        "|---:|---|---:|---:|---:|",
    ]
    by_key = {(r["workers"], r["concurrency"], r["scenario"]): r for r in results}
    for (count, concurrency, scenario), one in by_key.items():
        other = by_key.get((most, concurrency, scenario))
        if count != few or other is None or not one["calls"] or not other["calls"]:
            continue
        cpu_few = one["server_cpu_s"] / one["calls"]
        cpu_most = other["server_cpu_s"] / other["calls"]
        lines.append(
            f"| {concurrency} | {scenario} | {cpu_few * 1000:.2f} → {cpu_most * 1000:.2f} | "
            f"{cpu_most / cpu_few:.2f} | {1 / cpu_few:.0f} → {1 / cpu_most:.0f} |"
        )
    return lines


def side_by_side(results: list[dict], previous: Path) -> list[str]:
    """The previous implementation's figures beside this checkout's, scenario by scenario."""
    commit = subprocess.run(
        ["git", "-C", str(previous), "log", "-1", "--format=%h %s"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    lines = [
        f"This checkout (now) against `{previous}` (previous: {commit or 'not a git checkout'}), "
        "each scenario run against one then the other:",
        "",
        "| processes | clients | scenario | calls/s previous → now | p50 ms previous → now | "
        "server CPU ms/call previous → now | errors previous, now |",
        "|---:|---:|---|---:|---:|---:|---:|",
    ]
    by_key = {
        (r["implementation"], r["workers"], r["concurrency"], r["scenario"]): r for r in results
    }
    for (implementation, workers, concurrency, scenario), now in by_key.items():
        before = by_key.get(("previous", workers, concurrency, scenario))
        if implementation != "now" or before is None:
            continue
        lines.append(
            f"| {workers} | {concurrency} | {scenario} | "
            f"{before['calls_per_s']:.0f} → {now['calls_per_s']:.0f} | "
            f"{before['p50']:.1f} → {now['p50']:.1f} | "
            f"{per_call(before, 'server_cpu_s')} → {per_call(now, 'server_cpu_s')} | "
            f"{before['errors']}, {now['errors']} |"
        )
    return lines


async def soak(origin, path, raw, scenarios, pids, seconds) -> list[tuple[float, list[int]]]:
    """``seconds`` of every scenario mixed (2 clients each); each process's RSS every 10 s."""
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    samples: list[tuple[float, list[int]]] = []

    async def sampler() -> None:
        while time.perf_counter() < deadline:
            samples.append((time.perf_counter() - started, [memory_kib(pid)[0] for pid in pids]))
            await asyncio.sleep(10)

    await asyncio.gather(
        sampler(),
        *(
            drive(origin, path, raw, body, concurrency=2, duration=seconds, cap=10**9)
            for _, body in scenarios
        ),
    )
    return samples


def workers_text(workers: int) -> str:
    if workers == 1:
        return "one uvicorn process"
    return f"{workers} uvicorn processes on one port (SO_REUSEPORT)"


if __name__ == "__main__":
    main()
