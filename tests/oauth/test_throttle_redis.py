"""Throttle counters in a shared Redis cache (``CACHE_URL``), as production with several workers.

Runs when ``TEST_REDIS_URL`` is set (CI always sets it; scripts/test fails without it
under ``CI=true``). Its keys carry a prefix of their own and only they are deleted
afterwards: the cache's ``clear()`` would flush the whole Redis database, whoever else
uses it.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
import redis
from django.core.cache import cache
from django.test import Client

from maestra_mcp.oauth.throttle import RateLimit
from tests.support.availability import IN_CI
from tests.support.oauth import CLAUDE_CALLBACK, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_cache(settings):
    """(location, key prefix) of a Redis cache that is now the default cache."""
    location = os.environ.get("TEST_REDIS_URL")
    if not location:
        pytest.skip("needs Redis: set TEST_REDIS_URL=redis://127.0.0.1:6379/15 (CI always does)")
    prefix = f"maestra-oauth-tests-{secrets.token_hex(4)}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
        }
    }
    try:
        cache.get("probe")
    except Exception as error:  # any connection failure
        message = f"Redis at {location} is not reachable: {error}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(f"SKIPPED LOUDLY: {message}")
    yield location, prefix
    _delete_keys(location, prefix)


def _delete_keys(location: str, prefix: str) -> None:
    """Delete the keys the cache wrote under ``prefix``, and no other."""
    client = redis.Redis.from_url(location)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def test_the_fixture_deletes_only_its_own_keys(redis_cache):
    location, prefix = redis_cache
    client = redis.Redis.from_url(location)
    client.set("someone-elses-key", "kept", ex=60)
    cache.set("ours", 1)
    assert client.exists(f"{prefix}:1:ours")
    _delete_keys(location, prefix)  # the fixture's teardown, early: the other key stays
    assert client.get("someone-elses-key") == b"kept"
    assert cache.get("ours") is None
    client.delete("someone-elses-key")


def test_counts_are_shared_between_processes(redis_cache):
    location, prefix = redis_cache
    limit = RateLimit("shared", 3, 60)
    identity = "alice|203.0.113.1"
    assert limit.hit(identity) == 1
    # another worker process, same cache: its hit lands on the same counter
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='tests.settings';"
        f"os.environ['CACHE_URL']={location!r}; django.setup();"
        "from django.conf import settings;"
        f"settings.CACHES['default']['KEY_PREFIX']={prefix!r};"
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
