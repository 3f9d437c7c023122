"""Fixtures for the MCP endpoint: DOT tokens minted directly, and real SDK clients.

Tests are synchronous (the ORM set-up stays simple) and run their client code
with ``anyio.run``. The application is built fresh for each test because the
SDK's session manager can be started only once per instance.
"""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta

import httpx2
import pytest
import uvicorn
from django.utils import timezone
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from oauth2_provider.models import AccessToken, Application, set_token_value

from maestra_mcp.asgi import build_application

# The in-process transport addresses the app by this origin (an allowed host in
# DEBUG test settings); the token audience is account.mcp_url, built from
# MAESTRA_PUBLIC_URL, independent of where the request arrives.
ASGI_ORIGIN = "http://127.0.0.1:8000"


def mint_token(
    user,
    *,
    resource: list[str] | None,
    scope: str = "reports:read",
    expires_in: timedelta = timedelta(hours=1),
) -> str:
    """An access token as DOT would issue it (checksum stored, not the token)."""
    application = Application.objects.create(
        name="Test assistant",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="http://127.0.0.1/callback",
        user=None,
    )
    raw = secrets.token_urlsafe(32)
    token = AccessToken(
        user=user,
        application=application,
        scope=scope,
        expires=timezone.now() + expires_in,
        resource=resource if resource is not None else [],
    )
    set_token_value(token, raw)
    token.save()
    return raw


@pytest.fixture
def token_for(cast):
    """``token_for(username, account=cast.acme, **kw)`` → raw bearer token for that account."""

    def make(username: str, account=None, **kwargs) -> str:
        account = account or cast.acme
        kwargs.setdefault("resource", [account.mcp_url])
        return mint_token(cast.user(username), **kwargs)

    return make


@asynccontextmanager
async def running_app() -> AsyncIterator:
    """The full ASGI application with its lifespan entered (httpx2 sends none)."""
    app = build_application()
    async with app.mcp_endpoint.lifespan():
        yield app


def asgi_http_client(app, token: str | None = None, **headers: str) -> httpx2.AsyncClient:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url=ASGI_ORIGIN, headers=headers
    )


def sdk_client(url: str, http_client: httpx2.AsyncClient, mode: str) -> Client:
    """The official SDK client over Streamable HTTP through ``http_client``."""
    return Client(streamable_http_client(url, http_client=http_client), mode=mode)


@contextmanager
def uvicorn_server(wrap=None) -> Iterator[str]:
    """A real uvicorn serving the full application on 127.0.0.1, an ephemeral port.

    It runs in a thread of the test process so it shares the test database
    (including SQLite's in-memory one); yields its origin. ``wrap(app)`` may put
    an ASGI layer in front (e.g. to add a header a test client cannot send).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = build_application()
    config = uvicorn.Config(wrap(app) if wrap else app, lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            if not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            threading.Event().wait(0.01)
        else:
            raise RuntimeError("uvicorn did not start within 5 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def uvicorn_origin(transactional_db) -> Iterator[str]:
    with uvicorn_server() as origin:
        yield origin


# --- Report data, imported through the real import service ------------------------------
WINDOW = {"date_from": "2026-01-05", "date_to": "2026-01-11"}


def _stat_rows(days: int = 7) -> list[dict]:
    rows = []
    for day in range(days):
        date = f"2026-01-{5 + day:02d}"
        rows += [
            _row(date, "campaign", "c1", "Spring sale", "Acme Home", "email", 1000 + day * 10, day),
            _row(date, "campaign", "c2", "SMS flash", "Acme Sport", "sms", 400 + day, day),
            _row(date, "flow", "f1", "Welcome", "Acme Home", "email", 200 + day, day),
            _row(date, "flow", "f2", "Abandoned cart", "Acme Sport", "mobile_push", 50, day),
        ]
    return rows


def _row(date, kind, source_id, name, brand, channel, sends, day) -> dict:
    tracked = channel != "sms"
    return {
        "date": date,
        "kind": kind,
        "source_id": source_id,
        "source_name": name,
        "folder": "Promotions" if kind == "campaign" else "",
        "brand": brand,
        "goal": "Sales",
        "activation_type": "one_time" if kind == "campaign" else "",
        "channel": channel,
        "sends": sends,
        "delivered": sends - 5 - day,
        "bounces": 5 + day,
        "opens": sends // 3 if tracked else "",
        "clicks": sends // 20 if tracked else "",
        "unsubscribes": day % 3,
        "spam_complaints": day % 2,
        "orders": 2 + day,
        "revenue": f"{(2 + day) * 41.5:.2f}",
    }


def import_stats(account, rows: list[dict]) -> None:
    import io

    from reporting.services.stats_import import COLUMNS, stats_import

    lines = [",".join(COLUMNS)]
    lines += [",".join(str(row[column]) for column in COLUMNS) for row in rows]
    stats_import(account=account, lines=io.StringIO("\n".join(lines) + "\n"))


@pytest.fixture
def report_data(cast):
    """A week of campaign and flow statistics for acme; much larger numbers for globex,
    so anything leaking across accounts would show in acme's totals."""
    rows = _stat_rows()
    import_stats(cast.acme, rows)
    import_stats(cast.globex, [{**row, "sends": row["sends"] * 100} for row in rows])
    return rows
