"""Load on the MCP endpoint over HTTP on loopback, against uvicorn on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/maestra_bench \\
        .venv/bin/python manage.py seed_demo --scale large        # once, a few minutes
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/maestra_bench \\
        .venv/bin/python benchmarks/mcp_load.py [--workers 2] [--duration 20] [--concurrency 8] \
        [--soak 300]

Starts ``--workers`` uvicorn processes serving ``maestra_mcp.asgi:application``
on one port (see :class:`Instances`; the endpoint keeps no state, so any
process answers any request) and drives them with
concurrent clients, each a keep-alive HTTP/1.1 connection sending stateless
JSON-RPC POSTs (the 2025-11-25 era, as Claude.ai does after its ``initialize``),
every one with the bearer token, so each call pays the whole path: Host/Origin
checks, token validation, access policy, the SDK, the tool, the session-log row.
The clients are plain asyncio streams writing a prepared request and reading
the ``Content-Length`` answer (each answer is parsed as JSON and checked): the
load generator shares the two cores with the server and PostgreSQL, so it must
cost little; its own CPU time per call is printed. Scenarios, each bounded by
``--duration`` seconds and ``--max-calls`` calls:

(a) ``tools/list``; (b) a small ``campaign_report`` (last 7 days, no breakdown);
(c) the 90-day report of ``benchmarks/reports.py`` (day timeline, top-50 campaigns).

Prints p50/p95/p99 latency, calls/s, errors and the peak RSS of each server
process per scenario, and (c) end to end against the same report called
in-process here (one client, httpx2, as an assistant back-end would call).
``--soak N`` adds an N-second mixed run sampling each server process's RSS every 10 s.
Uses the ``--scale large`` account when it has data, else the demo account
(and says so). Writes benchmarks/results/mcp_load_workers_N.md
(``…_conn_max_age_N.md`` appended with ``--conn-max-age N``).
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
from datetime import timedelta
from pathlib import Path

from _setup import ROOT, django_setup, machine, percentile, publish

django_setup()

import httpx2  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.utils import timezone  # noqa: E402
from oauth2_provider.models import AccessToken, Application, set_token_value  # noqa: E402

from accounts.models import Account, Membership, Role  # noqa: E402
from accounts.services import account_set_mcp_enabled  # noqa: E402
from maestra_mcp.session_logs.models import McpSessionLog  # noqa: E402
from permissions.brand_scope import allowed_brand_ids  # noqa: E402
from permissions.policy import mcp_access_decision  # noqa: E402
from permissions.services import membership_create  # noqa: E402
from reporting.demo import LARGE_ACCOUNT  # noqa: E402
from reporting.models import CampaignDailyStat  # noqa: E402
from reporting.schemas import CampaignReportParams  # noqa: E402
from reporting.selectors import campaign_report  # noqa: E402

BENCH_USER = "mcp-benchmark@maestra.test"
CALLS_PER_CONNECTION = 50
PROTOCOL_VERSION = "2025-11-25"


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

    def __init__(self, count: int, conn_max_age: int | None) -> None:
        sockets, port = [], 0
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen(1024)
            port = sock.getsockname()[1]
            sockets.append(sock)
        env = {
            **os.environ,
            "LOG_LEVEL": "WARNING",
            **({} if conn_max_age is None else {"DATABASE_CONN_MAX_AGE": str(conn_max_age)}),
        }
        self.processes = [
            subprocess.Popen(
                [sys.executable, "benchmarks/_uvicorn_instance.py", str(sock.fileno())],
                cwd=ROOT,
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


def memory_kib(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) of a process, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def prepared_request(port: int, path: str, token: str, body: dict) -> bytes:
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\n"
        "Accept: application/json, text/event-stream\r\n"
        f"MCP-Protocol-Version: {PROTOCOL_VERSION}\r\n"
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


async def drive(origin: str, path: str, token: str, body: dict, *, concurrency, duration, cap):
    """``concurrency`` keep-alive clients sending ``body`` until time or call budget runs out.

    Returns (latencies ms, errors, elapsed s, client CPU s).
    """
    port = int(origin.rsplit(":", 1)[1])
    request = prepared_request(port, path, token, body)
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
                writer.write(request)
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
        "MCP-Protocol-Version": PROTOCOL_VERSION,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn processes (instances on one port)"
    )
    parser.add_argument("--duration", type=float, default=20, help="seconds per scenario")
    parser.add_argument("--concurrency", type=int, default=8, help="simultaneous clients")
    parser.add_argument("--max-calls", type=int, default=20_000, help="calls per scenario, at most")
    parser.add_argument("--in-process-runs", type=int, default=30)
    parser.add_argument("--soak", type=float, default=0, help="seconds of mixed load (memory)")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=None,
        help="DATABASE_CONN_MAX_AGE for the server (default: the project's, 0)",
    )
    args = parser.parse_args()

    account = Account.objects.filter(system_name=LARGE_ACCOUNT).first()
    dataset = f"`seed_demo --scale large` account `{LARGE_ACCOUNT}`"
    if account is None or not CampaignDailyStat.objects.for_account(account).exists():
        account = Account.objects.get(system_name="acme")
        dataset = "the demo account `acme` (the `--scale large` data was not found)"
    rows = CampaignDailyStat.objects.for_account(account).count()
    last = CampaignDailyStat.objects.for_account(account).aggregate(last=Max("date"))["last"]
    user, token, raw = prepare(account)
    window_90 = {"date_from": str(last - timedelta(days=89)), "date_to": str(last)}
    report_90 = {**window_90, "timeline": "day", "limit": 50}

    def call(name: str, arguments: dict) -> dict:
        return {"name": name, "arguments": arguments}

    scenarios = [
        ("(a) tools/list", {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
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

    load_before = os.getloadavg()[0]
    print(f"Dataset: {dataset}, {rows:,} campaign rows; {machine()}; load {load_before:.1f}")
    instances = Instances(args.workers, args.conn_max_age)
    instances.wait_ready()
    origin, pids = instances.origin, instances.pids
    path = f"/mcp/{account.system_name}"
    url = f"{origin}{path}"
    results = []
    rss_samples: list[tuple[float, list[int]]] = []
    try:
        # Warm-up, not measured: every worker imports its code paths and opens its
        # connections (with CONN_MAX_AGE > 0) before the first scenario.
        for _, body in scenarios:
            asyncio.run(
                drive(origin, path, raw, body, concurrency=args.concurrency, duration=2, cap=10**9)
            )
        for name, body in scenarios:
            latencies, errors, elapsed, client_cpu = asyncio.run(
                drive(
                    origin,
                    path,
                    raw,
                    body,
                    concurrency=args.concurrency,
                    duration=args.duration,
                    cap=args.max_calls,
                )
            )
            peaks = [memory_kib(pid)[1] for pid in pids]
            results.append(summary(name, latencies, errors, elapsed, client_cpu, peaks))
            print(json.dumps(results[-1]))
        # (c) from a single client, each call paired with the same report in-process,
        # alternating, so both see the same machine load (this machine is shared).
        params = CampaignReportParams(**report_90)
        e2e, direct, pair_errors = paired(
            url, raw, scenarios[2][1], args.in_process_runs, account, user, params
        )
        if args.soak:
            mixed_deadline = time.perf_counter() + args.soak
            started = time.perf_counter()

            async def soak() -> None:
                async def sampler() -> None:
                    while time.perf_counter() < mixed_deadline:
                        rss_samples.append(
                            (time.perf_counter() - started, [memory_kib(pid)[0] for pid in pids])
                        )
                        await asyncio.sleep(10)

                await asyncio.gather(
                    sampler(),
                    *(
                        drive(origin, path, raw, body, concurrency=2, duration=args.soak, cap=10**9)
                        for _, body in scenarios
                    ),
                )

            asyncio.run(soak())
    finally:
        instances.stop()

    load_after = os.getloadavg()[0]
    e2e_p50, in_p50 = percentile(e2e, 0.5), percentile(direct, 0.5)

    McpSessionLog.objects.for_account(account).filter(token_id=token.pk).delete()
    token.delete()

    lines = [
        "# MCP endpoint under load",
        "",
        f"{machine()}; {workers_text(args.workers)}; {args.concurrency} concurrent keep-alive "
        f"clients on the same machine; {args.duration:g} s per scenario after a 2 s warm-up "
        f"per scenario. Dataset: {dataset}, "
        f"{rows:,} campaign statistics rows. Machine load average (other work included) "
        f"{load_before:.1f} before, {load_after:.1f} after.",
        "",
        "| scenario | calls | errors | p50 ms | p95 ms | p99 ms | calls/s | "
        "client CPU ms/call | peak RSS MiB per server process |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rss = ", ".join(f"{mib:.0f}" for mib in r["peak_rss_mib"])
        lines.append(
            f"| {r['scenario']} | {r['calls']:,} | {r['errors']} | {r['p50']:.1f} | "
            f"{r['p95']:.1f} | {r['p99']:.1f} | {r['calls_per_s']:.0f} | "
            f"{r['client_cpu_ms']:.2f} | {rss} |"
        )
    conn = "project default" if args.conn_max_age is None else args.conn_max_age
    lines += [
        "",
        f"(c) from one client, {len(e2e)} end-to-end calls ({pair_errors} errors) alternating "
        f"with the same report called in-process: end to end p50 {e2e_p50:.1f} ms, p95 "
        f"{percentile(e2e, 0.95):.1f} ms; in-process p50 {in_p50:.1f} ms. Ratio "
        f"{e2e_p50 / in_p50:.2f}; added cost {e2e_p50 - in_p50:.1f} ms at p50 (HTTP, "
        "protocol, token check, policy, session log, result size budget). Server "
        f"DATABASE_CONN_MAX_AGE: {conn}.",
    ]
    if rss_samples:
        lines += [
            "",
            f"Soak: {args.soak:g} s of all three scenarios mixed; RSS sampled every 10 s:",
        ]
        for index, pid in enumerate(pids):
            series = [kibs[index] / 1024 for _, kibs in rss_samples]
            lines.append(
                f"- server process {index + 1} (pid {pid}): "
                + ", ".join(f"{mib:.0f}" for mib in series)
                + f" MiB (first {series[0]:.0f}, last {series[-1]:.0f})."
            )
    errors = [r for r in results if r["errors"]]
    for r in errors:
        lines.append(f"\nFirst error in {r['scenario']}: `{r['first_error']}`")
    suffix = "" if args.conn_max_age is None else f"_conn_max_age_{args.conn_max_age}"
    publish(lines, f"mcp_load_workers_{args.workers}{suffix}.md")


def workers_text(workers: int) -> str:
    if workers == 1:
        return "one uvicorn process"
    return f"{workers} uvicorn processes on one port (SO_REUSEPORT)"


if __name__ == "__main__":
    main()
