"""A scripted person at a browser, over plain HTTP, for the SDK's OAuth handlers.

``OAuthClientProvider`` calls ``redirect_handler(url)`` where a real client opens
the browser, then ``callback_handler()`` for the code that came back. Here the
"browser" is an ``httpx2`` client with a cookie jar against the same app: it
follows the authorization URL to the login page, logs in with the form (CSRF
token and all), submits the consent form the page rendered, and keeps the
``code``/``state``/``iss`` of the final redirect. The redirect URI itself is
never fetched, as a real browser would hand it to the client app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2
from mcp.client.auth import AuthorizationCodeResult

from permissions.demo import DEMO_PASSWORD


class _Forms(HTMLParser):
    """The named inputs of each ``<form>`` (checked radios and hidden/text inputs)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._current = self.forms.setdefault(attributes.get("id") or "", {})
        elif tag == "input" and self._current is not None and attributes.get("name"):
            kind = attributes.get("type", "text")
            if kind == "radio" and "checked" not in attributes:
                return
            if kind in ("hidden", "text", "radio", "password", "email"):
                self._current[attributes["name"]] = attributes.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def forms_of(html: str) -> dict[str, dict[str, str]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


@dataclass
class HeadlessBrowser:
    http: httpx2.AsyncClient
    username: str
    password: str = DEMO_PASSWORD
    allow: bool = True
    account: str | None = None  # radio choice when the client named no account
    pages: list[httpx2.Response] = field(default_factory=list)
    result: AuthorizationCodeResult | None = None

    async def _follow(self, url: str) -> httpx2.Response:
        response = await self.http.get(url)
        while response.status_code in (301, 302) and "/login/" in response.headers["location"]:
            url = urljoin(url, response.headers["location"])
            response = await self._log_in(url)
        return response

    async def _log_in(self, login_url: str) -> httpx2.Response:
        page = await self.http.get(login_url)
        form = forms_of(page.text)[""]
        form.update(username=self.username, password=self.password)
        answer = await self.http.post(login_url, data=form)
        assert answer.status_code == 302, (answer.status_code, answer.text[:300])
        return await self.http.get(urljoin(login_url, answer.headers["location"]))

    async def authorize(self, authorization_url: str) -> None:
        """The ``redirect_handler``: log in, then consent as the page asks."""
        page = await self._follow(authorization_url)
        self.pages.append(page)
        assert page.status_code == 200, (page.status_code, page.text[:500])
        form = forms_of(page.text)["consent-form"]
        if self.account is not None:
            form["account"] = self.account
        if self.allow:
            form["allow"] = "Authorize"
        answer = await self.http.post(str(page.url), data=form)
        self.pages.append(answer)
        assert answer.status_code == 302, (answer.status_code, answer.text[:500])
        query = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
        if "code" in query:
            self.result = AuthorizationCodeResult(
                code=query["code"], state=query.get("state"), iss=query.get("iss")
            )
        else:
            self.result = None
            self.error = query

    async def callback(self) -> AuthorizationCodeResult:
        """The ``callback_handler``: what came back to the redirect URI."""
        assert self.result is not None, getattr(self, "error", "no authorization happened")
        return self.result
