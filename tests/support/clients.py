"""Django test clients signed in as a member of the shared cast (tests/conftest.py)."""

from __future__ import annotations

from django.test import Client

from permissions.demo import DEMO_PASSWORD


def logged_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client
