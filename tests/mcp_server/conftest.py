"""Fixtures for the MCP endpoint tests (helpers: tests/support/mcp.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.mcp import mint_token, uvicorn_server
from tests.support.reports import import_rows, week_rows


@pytest.fixture
def token_for(cast):
    """``token_for(username, account=cast.acme, **kw)`` → raw bearer token for that account."""

    def make(username: str, account=None, **kwargs) -> str:
        account = account or cast.acme
        kwargs.setdefault("resource", [account.mcp_url])
        return mint_token(cast.user(username), **kwargs)

    return make


@pytest.fixture
def uvicorn_origin(transactional_db) -> Iterator[str]:
    with uvicorn_server() as origin:
        yield origin


@pytest.fixture
def report_data(cast):
    """A week of campaign and flow statistics for acme; much larger numbers for globex,
    so anything leaking across accounts would show in acme's totals."""
    rows = week_rows()
    import_rows(cast.acme, rows)
    import_rows(cast.globex, [{**row, "sends": row["sends"] * 100} for row in rows])
    return rows
