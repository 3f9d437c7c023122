"""Browser tests: Debian's chromium driven by Playwright, against the real ASGI app.

The whole application (pages and the MCP endpoint) runs under uvicorn in a
thread of the test process, on 127.0.0.1 and an ephemeral port, so the browser
and the MCP client hit the same server and the same test database (helpers:
tests/support/browser.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM_ARGS, chromium_executable
from tests.support.mcp import uvicorn_server


@pytest.fixture(scope="module")
def browser():
    # Per module, not per session: Playwright's sync API keeps an asyncio loop on the
    # main thread while it runs, and Django then refuses the synchronous ORM calls of
    # every later test outside tests/ui/ (SynchronousOnlyOperation).
    executable = chromium_executable()
    from playwright.sync_api import sync_playwright

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
    with uvicorn_server() as origin:
        yield origin


@pytest.fixture
def page_as(browser, server):
    """``page_as(username, **context_options)`` → a logged-in Playwright page."""
    contexts = []

    def open_page(username: str, **options):
        from permissions.demo import DEMO_PASSWORD

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
