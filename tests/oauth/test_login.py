"""The staff login in front of the consent page: throttled per username and address."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils.html import escape

from maestra_mcp.oauth.login_throttle import MESSAGE_LOGIN_THROTTLED
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


def _admin_login(client: Client, username: str, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_admin_login_is_under_the_same_throttle(cast, settings):
    """The superuser's password cannot be guessed at /admin/login/ either."""
    settings.OAUTH_LOGIN_FAILURE_LIMIT = 3
    attacker = Client(REMOTE_ADDR="203.0.113.11")
    for _ in range(3):
        assert _admin_login(attacker, "admin@maestra.test", "wrong").status_code == 200
    refused = _admin_login(attacker, "admin@maestra.test", DEMO_PASSWORD)
    assert refused.status_code == 429
    message = MESSAGE_LOGIN_THROTTLED.format(
        minutes=settings.OAUTH_LOGIN_FAILURE_WINDOW_SECONDS // 60
    )
    assert escape(message) in refused.content.decode()
    assert "_auth_user_id" not in attacker.session
    # one counter for both pages: the member login is throttled for that pair too
    assert _login(attacker, "admin@maestra.test", DEMO_PASSWORD).status_code == 429
    assert refused["Content-Security-Policy"] == "frame-ancestors 'none'"
    # another address is not locked out
    admin = Client(REMOTE_ADDR="198.51.100.21")
    assert _admin_login(admin, "admin@maestra.test", DEMO_PASSWORD).status_code == 302
    assert admin.get("/admin/").status_code == 200


def test_failures_on_the_member_login_count_at_the_admin_login(cast, settings):
    settings.OAUTH_LOGIN_FAILURE_LIMIT = 2
    attacker = Client(REMOTE_ADDR="203.0.113.12")
    for _ in range(2):
        _login(attacker, "admin@maestra.test", "wrong")
    assert _admin_login(attacker, "admin@maestra.test", DEMO_PASSWORD).status_code == 429
    assert "_auth_user_id" not in attacker.session


def test_the_backend_refuses_a_throttled_pair_on_any_path(cast, settings, rf):
    """authenticate() itself refuses, whatever view calls it: no password is checked."""
    from django.contrib.auth import authenticate

    settings.OAUTH_LOGIN_FAILURE_LIMIT = 1
    request = rf.post("/anywhere/", REMOTE_ADDR="203.0.113.13")
    assert authenticate(request, username="owner@acme.test", password="wrong") is None
    assert authenticate(request, username="owner@acme.test", password=DEMO_PASSWORD) is None
    other = rf.post("/anywhere/", REMOTE_ADDR="203.0.113.14")
    assert authenticate(other, username="owner@acme.test", password=DEMO_PASSWORD) is not None
