"""``python -m maestra_mcp.serve``: forwarded headers trusted only from the proxies named.

uvicorn alone trusts ``X-Forwarded-For`` from 127.0.0.1, so a client behind a local
proxy passing the header through could rotate its address past the throttles
(issue #17). The server runs in a process of its own on the test database, with a
registration limit of 2 per client address; the client is this test, on 127.0.0.1.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx2
import pytest
from django.db import connection

from maestra_mcp.serve import proxy_arguments
from tests.support.processes import server_process

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

LIMIT = 2
REGISTRATION = {
    "client_name": "Claude",
    "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
}


def this_database_url() -> str:
    """The URL of the database this test runs on, for a server in another process."""
    db = connection.settings_dict
    host = quote(db["HOST"] or "", safe="")
    return f"postgres://{quote(db['USER'])}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def registrations_from_rotating_addresses(forwarded_allow_ips: str | None) -> list[int]:
    """The statuses of LIMIT + 1 registrations, each claiming another X-Forwarded-For."""
    environment = {
        "DATABASE_URL": this_database_url(),
        "OAUTH_DCR_RATE_LIMIT": str(LIMIT),
        "FORWARDED_ALLOW_IPS": forwarded_allow_ips,
        "CACHE_URL": "",  # the throttle's counters in the server's own memory
    }
    with server_process("maestra_mcp.serve", environment) as origin:
        return [
            httpx2.post(
                f"{origin}/o/register/",
                json=REGISTRATION,
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
                timeout=30,
            ).status_code
            for n in range(LIMIT + 1)
        ]


@pytest.mark.parametrize("forwarded_allow_ips", [None, ""], ids=["unset", "empty"])
def test_forwarded_addresses_are_ignored_by_default(forwarded_allow_ips):
    """Unset or empty: the client is the connection's address, so rotating the header
    does not escape the limit (unset, uvicorn alone would trust 127.0.0.1)."""
    assert registrations_from_rotating_addresses(forwarded_allow_ips) == [201] * LIMIT + [429]


def test_forwarded_addresses_count_from_a_named_proxy():
    """Named (here the test itself, on 127.0.0.1, plays the proxy): each forwarded
    address is a client of its own, under the limit."""
    assert registrations_from_rotating_addresses("127.0.0.1") == [201] * (LIMIT + 1)


@pytest.mark.parametrize(
    ("value", "arguments"),
    [
        ("", ["--no-proxy-headers"]),
        ("  ", ["--no-proxy-headers"]),
        (
            "10.0.0.1,10.0.1.0/24",
            ["--proxy-headers", "--forwarded-allow-ips", "10.0.0.1,10.0.1.0/24"],
        ),
    ],
)
def test_proxy_arguments(value, arguments):
    assert proxy_arguments(value) == arguments
