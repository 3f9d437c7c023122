"""Request threads are reused, and with CONN_MAX_AGE so are their database connections."""

from __future__ import annotations

import threading

import anyio
import pytest
from django.db import connections
from django.db.backends.signals import connection_created

from tests.support.mcp import ASGI_ORIGIN, asgi_http_client, running_app, sdk_client

pytestmark = pytest.mark.django_db(transaction=True)


def connections_opened_by_sequential_requests(token: str) -> list[int]:
    """Thread idents of the connections opened while a client makes 6 requests, one by one."""
    opened: list[int] = []

    def record(sender, connection, **kwargs):
        opened.append(threading.get_ident())

    async def go():
        async with (
            running_app() as app,
            asgi_http_client(app, token) as http,
            sdk_client(f"{ASGI_ORIGIN}/mcp/acme", http, "legacy") as client,
        ):
            for _ in range(4):
                await client.list_tools()

    connection_created.connect(record, dispatch_uid="record-connections")
    try:
        anyio.run(go)
    finally:
        connection_created.disconnect(dispatch_uid="record-connections")
    return opened


def test_sequential_requests_reuse_one_thread_and_close_its_connection_each_time(cast, token_for):
    opened = connections_opened_by_sequential_requests(token_for("analyst@acme.test"))
    # The thread lent to each request is the same one...
    assert len(set(opened)) == 1
    if connections["default"].vendor == "postgresql":
        # ...and CONN_MAX_AGE=0 closes its connection after each of initialize,
        # notifications/initialized and the 4 tools/list (SQLite's in-memory test
        # database is never closed).
        assert len(opened) == 6


def test_with_conn_max_age_the_connection_is_kept_across_requests(cast, token_for, monkeypatch):
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 60)
    opened = connections_opened_by_sequential_requests(token_for("analyst@acme.test"))
    assert len(opened) == 1
