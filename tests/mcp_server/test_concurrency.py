"""Concurrent MCP requests do their ORM work in parallel, on a bounded number of connections.

Each new database connection is made slow on purpose (``pg_sleep``) through
Django's ``connection_created`` signal, which fires on the thread that opens
the connection. If requests shared one thread (no ``ThreadSensitiveContext`` in
the dispatcher) the slow sections would run one after another; the assertions
are about overlap and threads, not about wall-clock time.

PostgreSQL only: SQLite's in-memory shared-cache test database refuses a
concurrent writer at once ("database table is locked", no busy timeout), and
the bearer check records a token's last use. (The psycopg pool is PostgreSQL's only.)
"""

from __future__ import annotations

import threading
import time

import anyio
import httpx2
import psycopg
import pytest
from django.db import connection
from django.db.backends.signals import connection_created

from maestra_mcp.mcp_server.endpoint import MESSAGE_BUSY, RETRY_AFTER_SECONDS
from tests.support.mcp import INITIALIZE, MCP_HEADERS, asgi_http_client, running_app, sdk_client
from tests.support.reports import WINDOW

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

CALLS = 20
SLOW_CONNECT_SECONDS = 0.5


# The application_name of the connections a rebuilt pool opens: what the counts below
# count, so that the previous pool's connections, still closing (or still being
# opened by its background workers) when the test starts, are not.
POOL_UNDER_TEST = "maestra-pool-under-test"


@pytest.fixture
def pool(monkeypatch):
    """``pool(**options)``: the process's database pool, rebuilt with these options."""
    options = connection.settings_dict["OPTIONS"]

    def rebuild(**changes) -> None:
        connection.close()  # the test's own connection goes back to the old pool...
        connection.close_pool()  # ...which closes them all
        monkeypatch.setitem(options, "pool", {**options["pool"], **changes})
        monkeypatch.setitem(options, "application_name", POOL_UNDER_TEST)

    yield rebuild
    connection.close()
    connection.close_pool()


class SlowConnections:
    """Records (thread, start, end) of every connection taken from the pool, each held
    for a while (Django sends ``connection_created`` whenever it takes one)."""

    def __init__(self, seconds: float = SLOW_CONNECT_SECONDS) -> None:
        self.seconds = seconds
        self.intervals: list[tuple[int, float, float]] = []
        self._lock = threading.Lock()

    def __call__(self, sender, connection, **kwargs) -> None:
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(%s)", [self.seconds])
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
    cast, report_data, token_for, uvicorn_origin, pool
):
    pool(max_size=CALLS + 2)  # so overlap is about threads, not connections
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


def test_concurrent_requests_overlap_in_process(cast, report_data, token_for, pool):
    pool(max_size=CALLS + 2)
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


CHECK_APPLICATION_NAME = "maestra-pool-check"


def connections_to_test_database() -> int:
    """Sessions on the test database that Django opened with the rebuilt pool's settings
    (any opened outside the pool would carry them too); these checks use connections of
    their own, named otherwise."""
    params = connection.get_connection_params()
    params.pop("pool", None)
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["application_name"] = CHECK_APPLICATION_NAME
    with psycopg.connect(**params) as check:
        return check.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [POOL_UNDER_TEST],
        ).fetchone()[0]


POOL_SIZE = 4


def _all_handed_back(timeout: float = 5.0) -> dict:
    """The pool's stats once every connection is back in it, or after ``timeout``.

    The client has its answers before the server is done: each request writes
    its session-log row after its response went out, then hands the connection back.
    """
    deadline = time.monotonic() + timeout
    while True:
        stats = connection.pool.get_stats()
        if stats["pool_available"] == stats["pool_size"] or time.monotonic() > deadline:
            return stats
        time.sleep(0.05)


def _sessions_once_settled(expected: int, timeout: float = 5.0) -> int:
    """:func:`connections_to_test_database` once it is ``expected``, or after ``timeout``.

    A closed connection's server process leaves pg_stat_activity a moment after the
    client has closed it; on a busy machine (parallel test workers) that moment shows.
    """
    deadline = time.monotonic() + timeout
    while (count := connections_to_test_database()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


def test_more_concurrent_requests_than_connections_share_the_pool(
    cast, report_data, token_for, uvicorn_origin, pool
):
    """CALLS concurrent calls, POOL_SIZE connections, in two rounds: all served, never
    more connections, every connection back in the pool after each round (none
    leaked, none opened outside it), and pg_stat_activity back to its baseline once
    the pool closes."""
    token = token_for("analyst@acme.test")
    pool(max_size=POOL_SIZE, timeout=60)
    baseline = connections_to_test_database()
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, connections_to_test_database())
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        for _ in range(2):
            with SlowConnections(seconds=0.2):
                results = anyio.run(calls_over_http, uvicorn_origin, token)
            assert len(results) == CALLS
            assert not any(result.is_error for result in results)
            stats = _all_handed_back()
            assert stats["pool_available"] == stats["pool_size"] <= POOL_SIZE
            assert connections_to_test_database() == baseline + stats["pool_size"]
    finally:
        done.set()
        sampler.join()
    assert baseline <= peak <= baseline + POOL_SIZE
    connection.close_pool()
    assert _sessions_once_settled(baseline) == baseline


def _request_threads(expected: int, timeout: float = 5.0) -> int:
    """Live request threads once there are ``expected``, or after ``timeout`` (a thread
    let go ends when its executor's queue is drained)."""
    deadline = time.monotonic() + timeout
    while True:
        alive = sum(1 for t in threading.enumerate() if t.name.startswith("mcp-request"))
        if alive <= expected or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def test_requests_beyond_the_idle_threads_leave_no_connection_behind(
    cast, report_data, token_for, pool, monkeypatch
):
    """Issue #17's leak: request threads beyond those kept idle were let go with their
    connections open. With 2 kept idle and CALLS requests at once, every connection the
    extra threads used is back in the pool, the extra threads end, and pg_stat_activity
    is back to its baseline once the pool closes."""
    monkeypatch.setattr("maestra_mcp.asgi.MAX_IDLE_REQUEST_THREADS", 2)
    token = token_for("analyst@acme.test")
    pool(max_size=CALLS + 2, timeout=60)  # a connection per request: none waits for one
    baseline = connections_to_test_database()
    threads_before = _request_threads(0, timeout=0)

    async def go():
        async with running_app() as app, asgi_http_client(app, token) as http:
            return await concurrent_calls(http, "http://127.0.0.1:8000/mcp/acme")

    with SlowConnections(seconds=0.2) as slow:
        results = anyio.run(go)
    assert len(results) == CALLS
    assert not any(result.is_error for result in results)
    assert len({ident for ident, _, _ in slow.intervals}) > 2  # more threads than kept idle
    stats = _all_handed_back()
    assert stats["pool_available"] == stats["pool_size"] > 2
    assert connections_to_test_database() == baseline + stats["pool_size"]
    assert _request_threads(threads_before + 2) <= threads_before + 2
    connection.close_pool()
    assert _sessions_once_settled(baseline) == baseline


def test_a_saturated_pool_answers_503_with_retry_after(cast, token_for, pool):
    token = token_for("analyst@acme.test")
    pool(max_size=1, timeout=1)
    statuses: list[int] = []
    busy: list[httpx2.Response] = []

    async def go() -> None:
        async with running_app() as app, asgi_http_client(app, token) as http:

            async def one() -> None:
                response = await http.post("/mcp/acme", json=INITIALIZE, headers=MCP_HEADERS)
                statuses.append(response.status_code)
                if response.status_code == 503:
                    busy.append(response)

            async with anyio.create_task_group() as tg:
                for _ in range(4):
                    tg.start_soon(one)

    # The one connection is held 2 s per request: longer than the others may wait.
    with SlowConnections(seconds=2):
        anyio.run(go)
    assert 200 in statuses
    assert set(statuses) == {200, 503}, statuses
    assert busy[0].headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert busy[0].json()["error"]["message"] == MESSAGE_BUSY
