"""Fixtures for the OAuth tests (helpers: tests/support/oauth.py)."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Throttle counters live in the cache, which outlives a test's database.
    _clear_process_cache()
    yield
    _clear_process_cache()


def _clear_process_cache() -> None:
    """Clear the default cache when it is this process's memory, never a Redis cache:
    that one is shared with other processes (parallel test workers) and a clear() is a
    FLUSHDB of their keys too; test_throttle_redis.py deletes its own keys instead."""
    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()
