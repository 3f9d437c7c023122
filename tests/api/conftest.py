"""The platform API's clients: the cast logged in, CSRF enforced as in production."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Membership
from reporting.models import Brand
from tests.support.reports import BASE_ROW, import_rows


@pytest.fixture
def api(cast):
    """``api(username)`` → a client logged in as that member of the cast, CSRF checked.

    Writes send the CSRF token the way a browser frontend does (cookie + header).
    """

    def login(username: str | None) -> Client:
        client = Client(enforce_csrf_checks=True)
        if username is not None:
            client.force_login(cast.user(username))
        return client

    return login


def csrf_headers(client: Client) -> dict:
    """The X-CSRFToken header a frontend sends (the cookie set by a first GET)."""
    client.get("/login/")
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


def membership_id(cast, username: str, account=None) -> int:
    return Membership.objects.get(user__username=username, account=account or cast.acme).pk


@pytest.fixture
def brands(cast):
    """acme's Acme Home (100 sends) and Acme Sport (400 sends) on 2024-03-04."""
    import_rows(
        cast.acme,
        [BASE_ROW, {**BASE_ROW, "source_id": "c2", "brand": "Acme Sport", "sends": "400"}],
    )
    import_rows(cast.globex, [{**BASE_ROW, "brand": "Globex Kids"}])
    return {b.name: b for b in Brand.objects.for_account(cast.acme)}
