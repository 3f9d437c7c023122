"""Serve the application: ``python -m maestra_mcp.serve [uvicorn options]``.

uvicorn with one default changed. uvicorn trusts ``X-Forwarded-For`` from
127.0.0.1 unless told otherwise, so a local proxy that passes the header through
would let a client choose its address and rotate past the login and registration
throttles. Here forwarded headers are honoured only from the proxies named in
``FORWARDED_ALLOW_IPS`` (comma-separated addresses or networks), and ignored when
it is empty. Every other option is uvicorn's own (``--host``, ``--port``,
``--workers`` or ``WEB_CONCURRENCY``, …), passed through.
"""

from __future__ import annotations

import os
import sys

from uvicorn import main as uvicorn_command  # uvicorn's click command line

APPLICATION = "maestra_mcp.asgi:application"


def proxy_arguments(forwarded_allow_ips: str) -> list[str]:
    """uvicorn's options for the proxies named in ``forwarded_allow_ips`` (none if empty)."""
    proxies = forwarded_allow_ips.strip()
    if not proxies:
        return ["--no-proxy-headers"]
    return ["--proxy-headers", "--forwarded-allow-ips", proxies]


def main(arguments: list[str]) -> None:
    """uvicorn's own command line, with the proxy options first (later ones win)."""
    proxies = proxy_arguments(os.environ.get("FORWARDED_ALLOW_IPS", ""))
    uvicorn_command.main(
        args=[APPLICATION, *proxies, *arguments], prog_name="python -m maestra_mcp.serve"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
