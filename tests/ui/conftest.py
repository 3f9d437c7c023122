"""Browser tests: Debian's chromium driven by Playwright, against the real ASGI app.

The whole application (pages and the MCP endpoint) runs under uvicorn in a
thread of the test process, on 127.0.0.1 and an ephemeral port, so the browser
and the MCP client hit the same server and the same test database.

Never ``playwright install``: the browser is Debian's ``chromium`` package
(``apt-get install chromium``; ``.ci/run`` installs it). Where it is missing the
tests skip with a loud reason, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import concurrent.futures
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from tests.conftest import IN_CI

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(f"BROWSER TESTS SKIPPED: {reason}")


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        _unavailable("Debian's chromium is not installed (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is missing (pip install -r requirements.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _orm_beside_playwright(monkeypatch):
    # Playwright's sync API keeps an asyncio loop registered on the main thread;
    # Django would then refuse the test's own (synchronous) ORM calls. The
    # server's requests run on their own threads and keep the check.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("screenshots", numbered=False)
    print(f"\nBrowser screenshots: {path}")
    return path


@pytest.fixture
def shoot(screenshot_dir, request):
    """``shoot(page, "name")`` saves a full-page screenshot named after the test."""

    def save(page, name: str) -> Path:
        path = screenshot_dir / f"{request.node.name}--{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def server(transactional_db, cast) -> Iterator[str]:
    """The origin of a uvicorn serving the full application, with the demo cast."""
    from tests.mcp_server.conftest import uvicorn_server

    with uvicorn_server() as origin:
        yield origin


@pytest.fixture
def page_as(browser, server):
    """``page_as(username, **context_options)`` → a logged-in Playwright page."""
    contexts = []

    def open_page(username: str, **options):
        from accounts.demo import DEMO_PASSWORD

        context = browser.new_context(base_url=server, **options)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server}/")
        return page

    yield open_page
    for context in contexts:
        context.close()


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
