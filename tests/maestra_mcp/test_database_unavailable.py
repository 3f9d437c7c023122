"""With the database unreachable: 503 + Retry-After + JSON, never a 500 page (issue #17).

The whole application runs as in production (``python -m maestra_mcp.serve``) in a
subprocess whose DATABASE_URL points at a port nothing listens on: a real connection
failure, no mocks.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from maestra_mcp.database_unavailable import MESSAGE_DATABASE_UNAVAILABLE
from maestra_mcp.mcp_server.endpoint import MESSAGE_BUSY, MESSAGE_UNAUTHENTICATED
from tests.support.mcp import INITIALIZE, MCP_HEADERS
from tests.support.processes import free_port, server_process


@pytest.fixture(scope="module")
def origin_without_database() -> Iterator[str]:
    closed = free_port()
    environment = {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed}/nowhere",
        "DATABASE_POOL_TIMEOUT": "1",
    }
    with server_process("maestra_mcp.serve", environment) as origin:
        yield origin


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
