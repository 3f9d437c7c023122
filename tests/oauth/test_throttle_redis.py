"""Throttle counters in a shared Redis cache (``CACHE_URL``), as production with several workers.

Runs in the PostgreSQL + Redis pass of scripts/test (``TEST_REDIS_URL``), on
Redis database 12 of that server so it never touches the broker's database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.cache import cache
from django.test import Client

from maestra_mcp.oauth.throttle import RateLimit
from tests.support.availability import IN_CI
from tests.support.oauth import CLAUDE_CALLBACK, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_cache(settings):
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip(
            "needs Redis: runs in the PostgreSQL + Redis pass of scripts/test (TEST_REDIS_URL)"
        )
    location = urlunsplit(urlsplit(url)._replace(path="/12"))
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": "maestra-oauth-tests",
        }
    }
    try:
        cache.get("probe")
    except Exception as error:  # any connection failure
        message = f"Redis at {location} is not reachable: {error}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(f"SKIPPED LOUDLY: {message}")
    cache.clear()  # database 12 is this suite's own
    yield location
    cache.clear()


def test_counts_are_shared_between_processes(redis_cache):
    limit = RateLimit("shared", 3, 60)
    identity = "alice|203.0.113.1"
    assert limit.hit(identity) == 1
    # another worker process, same cache: its hit lands on the same counter
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='tests.settings';"
        f"os.environ['CACHE_URL']={redis_cache!r}; django.setup();"
        "from django.conf import settings;"
        "settings.CACHES['default']['KEY_PREFIX']='maestra-oauth-tests';"
        "from maestra_mcp.oauth.throttle import RateLimit;"
        f"print(RateLimit('shared', 3, 60).hit({identity!r}))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert other.stdout.strip().splitlines()[-1] == "2"
    assert not limit.exceeded(identity)
    assert limit.hit(identity) == 3
    assert limit.exceeded(identity)
    limit.reset(identity)
    assert not limit.exceeded(identity)


def test_registration_limit_with_redis(redis_cache, settings):
    settings.OAUTH_DCR_RATE_LIMIT = 2
    client = Client(REMOTE_ADDR="203.0.113.77")
    assert register(client, [CLAUDE_CALLBACK])[0] == 201
    assert register(client, [CLAUDE_CALLBACK])[0] == 201
    assert register(client, [CLAUDE_CALLBACK])[0] == 429
