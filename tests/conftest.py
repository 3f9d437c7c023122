"""The shared cast every test draws on, and the service-availability rules.

Cast (from the demo seed, plus an outsider): ``acme`` (MCP on) and ``globex``
(MCP off), a user for every role, ``agency@partner.test`` in both accounts, the
staff users (superuser, CSM, other staff) and ``outsider@example.test`` who
belongs to no account.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model

from accounts.demo import DEMO_PASSWORD, seed_demo_accounts
from accounts.models import Account

IN_CI = os.environ.get("CI") == "true"


@dataclass
class Cast:
    acme: Account
    globex: Account

    def user(self, username: str):
        return get_user_model().objects.get(username=username)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 costs ~0.3 s a user; tests check behaviour, not hash strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def cast(db) -> Cast:
    seed_demo_accounts()
    get_user_model().objects.create_user(
        "outsider@example.test", "outsider@example.test", DEMO_PASSWORD
    )
    return Cast(
        acme=Account.objects.get(system_name="acme"),
        globex=Account.objects.get(system_name="globex"),
    )


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need PostgreSQL; elsewhere they skip, loudly."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL: runs in the PostgreSQL pass of scripts/test "
        "(DATABASE_URL=postgres://…); CI always runs it"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
