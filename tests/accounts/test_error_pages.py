"""403 and 404 are friendly pages in production (DEBUG off), never Django's debug output."""

from __future__ import annotations

from django.test import Client
from django.utils.html import escape

from accounts.access import MESSAGE_OWNERS_ONLY
from permissions.demo import DEMO_PASSWORD


def _client(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


def test_404_is_the_friendly_page(cast, settings):
    settings.DEBUG = False
    response = _client("analyst@acme.test").get("/accounts/globex/mcp/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in page and 'href="/"' in page
    assert "Traceback" not in page and "URLconf" not in page and "globex" not in page


def test_403_is_the_friendly_page_with_the_reason(cast, settings):
    settings.DEBUG = False
    response = _client("analyst@acme.test").get("/accounts/acme/team/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "You can't do that here" in page
    assert escape(MESSAGE_OWNERS_ONLY) in page


def test_csrf_failure_is_the_friendly_page(cast, settings):
    settings.DEBUG = False
    client = Client(enforce_csrf_checks=True)
    client.login(username="owner@acme.test", password=DEMO_PASSWORD)
    response = client.post("/accounts/acme/team/1/mcp-access/", {"granted": "0"})
    page = response.content.decode()
    assert response.status_code == 403
    assert "Please try again" in page and "CSRF verification failed" not in page


def test_404_for_anonymous_visitors_too(db, settings):
    settings.DEBUG = False
    response = Client().get("/no/such/page/")
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.content.decode()
