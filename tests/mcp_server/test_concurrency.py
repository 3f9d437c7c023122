"""Concurrent MCP requests do their ORM work in parallel and leave no connection open.

Each new database connection is made slow on purpose (``pg_sleep``) through
Django's ``connection_created`` signal, which fires on the thread that opens
the connection. If requests shared one thread (no ``ThreadSensitiveContext`` in
the dispatcher) the slow sections would run one after another; the assertions
are about overlap and threads, not about wall-clock time.

PostgreSQL only: SQLite's in-memory shared-cache test database refuses a
concurrent writer at once ("database table is locked", no busy timeout), and
the bearer check records a token's last use.
"""

from __future__ import annotations

import threading
import time

import anyio
import httpx2
import pytest
from django.db import connection
from django.db.backends.signals import connection_created

from tests.support.mcp import asgi_http_client, running_app, sdk_client
from tests.support.reports import WINDOW

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

CALLS = 20
SLOW_CONNECT_SECONDS = 0.5


class SlowConnections:
    """Records (thread, start, end) of every new connection, each held for a while."""

    def __init__(self) -> None:
        self.intervals: list[tuple[int, float, float]] = []
        self._lock = threading.Lock()

    def __call__(self, sender, connection, **kwargs) -> None:
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(%s)", [SLOW_CONNECT_SECONDS])
        with self._lock:
            self.intervals.append((threading.get_ident(), started, time.monotonic()))

    def __enter__(self) -> SlowConnections:
        connection_created.connect(self, weak=False, dispatch_uid="slow-connections")
        return self

    def __exit__(self, *exc) -> None:
        connection_created.disconnect(dispatch_uid="slow-connections")

    def max_overlap(self) -> int:
        return max(
            sum(1 for _, start, end in self.intervals if start <= moment < end)
            for _, moment, _ in self.intervals
        )


async def concurrent_calls(http, url: str) -> list:
    results = []
    async with sdk_client(url, http, "legacy") as client:

        async def one() -> None:
            results.append(await client.call_tool("campaign_report", WINDOW))

        async with anyio.create_task_group() as tg:
            for _ in range(CALLS):
                tg.start_soon(one)
    return results


async def calls_over_http(origin: str, token: str) -> list:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        return await concurrent_calls(http, f"{origin}/mcp/acme")


def test_concurrent_requests_overlap_on_their_own_threads_over_uvicorn(
    cast, report_data, token_for, uvicorn_origin
):
    token = token_for("analyst@acme.test")
    with SlowConnections() as slow:
        results = anyio.run(calls_over_http, uvicorn_origin, token)

    assert len(results) == CALLS
    assert not any(result.is_error for result in results)
    threads = {ident for ident, _, _ in slow.intervals}
    # One connection (and one thread) per request: the initialize exchange plus the calls.
    assert len(threads) >= CALLS
    assert len(slow.intervals) >= CALLS
    # Serialised requests would never overlap; concurrent ones mostly do.
    assert slow.max_overlap() >= CALLS // 2


def test_concurrent_requests_overlap_in_process(cast, report_data, token_for):
    token = token_for("analyst@acme.test")
    with SlowConnections() as slow:

        async def go():
            async with running_app() as app, asgi_http_client(app, token) as http:
                return await concurrent_calls(http, "http://127.0.0.1:8000/mcp/acme")

        results = anyio.run(go)
    assert len(results) == CALLS
    assert not any(result.is_error for result in results)
    assert len({ident for ident, _, _ in slow.intervals}) >= CALLS
    assert slow.max_overlap() >= CALLS // 2


def open_connections_to_test_database() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_no_connection_is_left_open_after_concurrent_requests(
    cast, report_data, token_for, uvicorn_origin
):
    token = token_for("analyst@acme.test")
    assert open_connections_to_test_database() == 0
    assert len(anyio.run(calls_over_http, uvicorn_origin, token)) == CALLS
    # request_finished closes each request's connection right after its response
    # is sent; allow that last step to finish (bounded wait, not a timing assert).
    for _ in range(100):
        if open_connections_to_test_database() == 0:
            break
        time.sleep(0.05)
    assert open_connections_to_test_database() == 0
