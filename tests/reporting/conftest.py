"""Fixtures for the reporting tests (helpers: tests/support/reports.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def acme(cast):
    return cast.acme


@pytest.fixture
def globex(cast):
    return cast.globex
