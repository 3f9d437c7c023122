"""With the database unreachable: 503 + Retry-After + JSON, never a 500 page (issue #17).

The whole application runs under uvicorn in a subprocess whose DATABASE_URL
points at a port nothing listens on: a real connection failure, no mocks.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from maestra_mcp.database_unavailable import MESSAGE_DATABASE_UNAVAILABLE
from maestra_mcp.mcp_server.endpoint import MESSAGE_BUSY, MESSAGE_UNAUTHENTICATED
from tests.support.mcp import INITIALIZE, MCP_HEADERS

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def origin_without_database() -> Iterator[str]:
    closed, port = _free_port(), _free_port()
    origin = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed}/nowhere",
        "DATABASE_POOL_TIMEOUT": "1",
        "DEBUG": "true",
        "MAESTRA_PUBLIC_URL": origin,
        "DJANGO_SETTINGS_MODULE": "maestra_mcp.settings",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "maestra_mcp.asgi:application", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("uvicorn did not start") from None
                time.sleep(0.1)
        yield origin
    finally:
        server.terminate()
        server.wait(timeout=10)


def _assert_unavailable(response: httpx2.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"].isdigit()
    assert response.headers["content-type"].startswith("application/json")
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "/.well-known/oauth-protected-resource/mcp/acme", None),
        (
            "POST",
            "/o/token/",
            {"grant_type": "refresh_token", "refresh_token": "x", "client_id": "y"},
        ),
        ("POST", "/o/token/", {"grant_type": "authorization_code", "code": "x", "client_id": "y"}),
    ],
)
def test_oauth_endpoints_and_discovery_answer_503(origin_without_database, method, path, data):
    response = httpx2.request(method, origin_without_database + path, data=data, timeout=30)
    _assert_unavailable(response)
    assert response.json() == {
        "error": "temporarily_unavailable",
        "error_description": MESSAGE_DATABASE_UNAVAILABLE,
    }


def test_registration_answers_503(origin_without_database):
    body = {"redirect_uris": ["https://claude.ai/cb"], "token_endpoint_auth_method": "none"}
    response = httpx2.post(f"{origin_without_database}/o/register/", json=body, timeout=30)
    _assert_unavailable(response)
    assert response.json()["error"] == "temporarily_unavailable"


def test_mcp_with_a_token_answers_503(origin_without_database):
    response = httpx2.post(
        f"{origin_without_database}/mcp/acme",
        json=INITIALIZE,
        headers={**MCP_HEADERS, "Authorization": "Bearer some-token"},
        timeout=30,
    )
    _assert_unavailable(response)
    assert response.json()["error"]["message"] == MESSAGE_BUSY


def test_mcp_without_a_token_still_answers_401(origin_without_database):
    response = httpx2.post(
        f"{origin_without_database}/mcp/acme", json=INITIALIZE, headers=MCP_HEADERS, timeout=30
    )
    assert response.status_code == 401
    assert response.json()["error"]["message"] == MESSAGE_UNAUTHENTICATED
    assert response.headers["www-authenticate"] == (
        f'Bearer resource_metadata="{origin_without_database}'
        '/.well-known/oauth-protected-resource/mcp/acme", scope="reports:read"'
    )
