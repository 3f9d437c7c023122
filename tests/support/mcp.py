"""The MCP endpoint under test: DOT tokens minted directly, the app in process or under
uvicorn, raw HTTP exchanges and the official SDK client.

Tests are synchronous (the ORM set-up stays simple) and run their client code
with ``anyio.run``. The application is built fresh for each use because the
SDK's session manager can be started only once per instance.
"""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta

import anyio
import httpx2
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

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


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


def exchange(method: str, path: str, *, token: str | None = None, body=INITIALIZE, **headers):
    """One raw HTTP request to a freshly started application."""

    async def go():
        async with running_app() as app, asgi_http_client(app, token) as http:
            return await http.request(
                method,
                path,
                json=body if method == "POST" else None,
                headers={**MCP_HEADERS, **headers},
            )

    return anyio.run(go)


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
