"""The OAuth flow once in a real browser: Debian's chromium driven by Playwright.

The MCP SDK client does discovery, registration and the token exchange; where a
real client opens the browser, Playwright's chromium logs in on the login page,
reads the consent page and clicks Allow. The loopback redirect (Claude Code's
shape) is intercepted in the browser, as the client's local listener would
take it. Screenshots of each page go to the test's tmp directory.

Chromium is Debian's package (``apt-get install -y chromium``); never
``playwright install``. Skips loudly where chromium or playwright is missing,
fails instead under ``CI=true``.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult
from mcp.client.streamable_http import streamable_http_client
from oauth2_provider.models import AccessToken, Grant

from permissions.demo import DEMO_PASSWORD
from permissions.policy import MESSAGE_MCP_DISABLED
from tests.support.browser import CHROMIUM_ARGS, chromium_executable
from tests.support.mcp import uvicorn_server
from tests.support.oauth import MemoryStorage, Pkce, sdk_oauth_provider, serve_at

pytestmark = pytest.mark.django_db(transaction=True)

CALLBACK = re.compile(r"^http://127\.0\.0\.1:\d+/callback\?")


@pytest.fixture
def chromium() -> str:
    return chromium_executable()


class ChromiumUser:
    """The member at the browser: the SDK client's redirect and callback handlers."""

    def __init__(self, page, username: str, shots, origin: str) -> None:
        self.page, self.username, self.shots, self.origin = page, username, shots, origin
        self.callback_url: str | None = None
        self.consent_text = ""

    async def intercept(self, route) -> None:
        self.callback_url = route.request.url
        await route.fulfill(status=200, content_type="text/plain", body="Connected. Close me.")

    async def authorize(self, authorization_url: str) -> None:
        page = self.page
        await page.goto(authorization_url)
        await page.wait_for_selector("#id_username")
        assert page.url.startswith(f"{self.origin}/login/")
        await page.screenshot(path=str(self.shots / "1-login.png"), full_page=True)
        await page.fill("#id_username", self.username)
        await page.fill("#id_password", DEMO_PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_selector("#consent")
        self.consent_text = await page.inner_text("main")
        await page.screenshot(path=str(self.shots / "2-consent.png"), full_page=True)
        await page.click("#allow")
        await page.wait_for_url(CALLBACK)
        await page.screenshot(path=str(self.shots / "3-callback.png"), full_page=True)

    async def callback(self) -> AuthorizationCodeResult:
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.callback_url).query).items()}
        return AuthorizationCodeResult(code=query["code"], state=query["state"], iss=query["iss"])


def test_login_and_consent_in_chromium(cast, settings, chromium, tmp_path):
    from playwright.async_api import async_playwright

    shots = tmp_path / "screenshots"
    shots.mkdir()
    print(f"\nOAuth browser screenshots: {shots}")

    async def go(origin: str):
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            context = await browser.new_context()
            page = await context.new_page()
            user = ChromiumUser(page, "analyst@acme.test", shots, origin)
            await context.route(CALLBACK, user.intercept)
            storage = MemoryStorage()
            mcp_url = f"{origin}/mcp/acme"
            redirect = ["http://127.0.0.1:45123/callback"]  # Claude Code's loopback shape
            oauth = sdk_oauth_provider(mcp_url, redirect, user, storage)
            async with (
                httpx2.AsyncClient(auth=oauth, timeout=30) as http,
                Client(streamable_http_client(mcp_url, http_client=http)) as client,
            ):
                result = await client.call_tool("list_report_filters", {})

            # The same member asks for globex, whose MCP is off: the policy's message, no Allow.
            pkce = Pkce.new()
            query = {
                "response_type": "code",
                "client_id": storage.client_info.client_id,
                "redirect_uri": redirect[0],
                "state": "s1",
                "code_challenge": pkce.challenge,
                "code_challenge_method": "S256",
                "resource": f"{origin}/mcp/globex",
            }
            await page.goto(f"{origin}/o/authorize/?{urlencode(query)}")
            await page.wait_for_selector("#policy-message")
            refusal = await page.inner_text("#policy-message")
            allow_buttons = await page.locator("#allow").count()
            await page.screenshot(path=str(shots / "4-policy-refusal.png"), full_page=True)
            await browser.close()
            return user, storage, result, refusal, allow_buttons

    with uvicorn_server() as origin:
        serve_at(settings, origin)
        user, storage, result, refusal, allow_buttons = anyio.run(go, origin)

    assert not result.is_error
    text = user.consent_text
    assert "Connect Claude to Maestra?" in text
    # A loopback redirect: a program on the member's computer, whatever name it gave.
    assert "App on your computer" in text and "Unverified" not in text
    assert "127.0.0.1" in text and "an app on this computer" in text
    assert "Acme Retail" in text
    assert "read-only" in text and "never receives customer personal data" in text
    assert MESSAGE_MCP_DISABLED in refusal
    assert allow_buttons == 0
    token = AccessToken.objects.get(
        token_checksum=hashlib.sha256(storage.tokens.access_token.encode()).hexdigest()
    )
    assert token.resource == [cast.acme.mcp_url]
    assert not Grant.objects.filter(resource__icontains="globex").exists()
    assert sorted(p.name for p in shots.iterdir()) == [
        "1-login.png",
        "2-consent.png",
        "3-callback.png",
        "4-policy-refusal.png",
    ]
