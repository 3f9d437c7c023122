"""The shared cast every test draws on, and the service-availability rules.

Cast (from the demo seed, plus an outsider): ``acme`` (MCP on) and ``globex``
(MCP off), a user for every role, ``agency@partner.test`` in both accounts, the
staff users (superuser, CSM, other staff) and ``outsider@example.test`` who
belongs to no account.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Account
from permissions.demo import DEMO_PASSWORD, seed_demo_accounts


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


@pytest.fixture
def as_user(client, cast):
    """``as_user(username)`` → the test client, logged in as that member of the cast."""

    def login(username: str):
        client.force_login(cast.user(username))
        return client

    return login


# Tests that start worker *processes* (tests/session_logs/test_worker.py) request
# this fixture; they need a test database another process can open.
WORKER_PROCESS_FIXTURE = "celery_worker_process"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, request):
    """On SQLite, put the test database in a file when worker-process tests run.

    Django's in-memory SQLite test database is invisible to other processes.
    A file costs the whole run a few seconds, so it is only used when a
    collected test needs it; the file name carries the pid so concurrent runs
    do not share one.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    needs_file = any(WORKER_PROCESS_FIXTURE in item.fixturenames for item in request.session.items)
    if database["ENGINE"] == "django.db.backends.sqlite3" and needs_file:
        database.setdefault("TEST", {})["NAME"] = str(
            Path(tempfile.gettempdir()) / f"maestra-test-{os.getpid()}.sqlite3"
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
