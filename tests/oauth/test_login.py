"""The staff login in front of the consent page: throttled per username and address."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils.html import escape

from maestra_mcp.oauth.views.login import MESSAGE_LOGIN_THROTTLED
from permissions.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def _login(client: Client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


def test_login_page_cannot_be_framed(db):
    response = Client().get("/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_guessing_is_throttled_per_username_and_address(cast, settings):
    settings.OAUTH_LOGIN_FAILURE_LIMIT = 3
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(3):
        assert _login(attacker, "owner@acme.test", "wrong").status_code == 200
    # now even the right password is not checked from this address
    refused = _login(attacker, "owner@acme.test", DEMO_PASSWORD)
    assert refused.status_code == 429
    message = MESSAGE_LOGIN_THROTTLED.format(
        minutes=settings.OAUTH_LOGIN_FAILURE_WINDOW_SECONDS // 60
    )
    assert escape(message) in refused.content.decode()
    assert "_auth_user_id" not in attacker.session
    # the same username is case-folded into the same counter
    assert _login(attacker, "OWNER@acme.test", DEMO_PASSWORD).status_code == 429
    # the colleague at their own address is not locked out
    colleague = Client(REMOTE_ADDR="198.51.100.20")
    assert _login(colleague, "owner@acme.test", DEMO_PASSWORD).status_code == 302
    # and another username from the attacker's address still works
    assert _login(attacker, "analyst@acme.test", DEMO_PASSWORD).status_code == 302


def test_success_clears_the_failure_count(cast, settings):
    settings.OAUTH_LOGIN_FAILURE_LIMIT = 3
    client = Client(REMOTE_ADDR="203.0.113.10")
    for _ in range(2):
        _login(client, "owner@acme.test", "wrong")
    assert _login(client, "owner@acme.test", DEMO_PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        _login(client, "owner@acme.test", "wrong")
    assert _login(client, "owner@acme.test", DEMO_PASSWORD).status_code == 302


def test_login_returns_to_the_authorization_request(cast):
    next_url = "/o/authorize/?client_id=x&response_type=code"
    response = Client().post(
        "/login/", {"username": "owner@acme.test", "password": DEMO_PASSWORD, "next": next_url}
    )
    assert response.status_code == 302
    assert response["Location"] == next_url
