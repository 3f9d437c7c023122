"""Fixtures for the MCP endpoint tests (helpers: tests/support/mcp.py; ``token_for`` and
``report_data``, shared with tests/mcp_catalog/, in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.mcp import uvicorn_server


@pytest.fixture
def uvicorn_origin(transactional_db) -> Iterator[str]:
    with uvicorn_server() as origin:
        yield origin
