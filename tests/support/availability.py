"""Optional tools (a browser, Node, Redis): skip loudly where missing, fail under CI."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI") == "true"


def unavailable(what: str, reason: str):
    """Skip with ``"<what> SKIPPED: <reason>"``; under ``CI=true`` fail instead."""
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(f"{what} SKIPPED: {reason}")
