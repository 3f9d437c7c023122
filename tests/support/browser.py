"""A real browser for the tests: Debian's chromium driven by Playwright.

Never ``playwright install``: the browser is Debian's ``chromium`` package
(``apt-get install chromium``; ``.ci/run`` installs it). Where it is missing the
tests skip with a loud reason, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import concurrent.futures
import shutil
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx2

from tests.support.availability import unavailable

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def browser_unavailable(reason: str):
    unavailable("BROWSER TESTS", reason)


def chromium_executable() -> str:
    """Debian's chromium, once Playwright is known to be importable too."""
    executable = shutil.which("chromium")
    if executable is None:
        browser_unavailable("Debian's chromium is not installed (apt-get install -y chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        browser_unavailable(
            "the playwright package is missing (pip install -r requirements-dev.txt)"
        )
    return executable


def run_mcp(origin: str, path: str, token: str, action: Callable[[Any], Awaitable[Any]]):
    """``await action(client)`` with the official MCP SDK client at ``origin + path``.

    The client runs on a thread of its own: Playwright's loop occupies the main one.
    """
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async def go():
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(streamable_http_client(f"{origin}{path}", http_client=http)) as client,
        ):
            return await action(client)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        try:
            return pool.submit(anyio.run, go).result(timeout=60)
        except BaseExceptionGroup as group:
            # The client's task groups wrap a refusal; surface the MCP error itself.
            raise _leaves(group)[0] from group


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]
