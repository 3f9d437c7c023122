"""Helpers for the reporting tests: CSV rows built from dicts, imported for real."""

from __future__ import annotations

import io
from collections.abc import Iterable

import pytest

from reporting.services.stats_import import COLUMNS, stats_import

BASE_ROW = {
    "date": "2024-03-04",
    "kind": "campaign",
    "source_id": "c1",
    "source_name": "Spring sale",
    "folder": "Promotions",
    "brand": "Acme Home",
    "goal": "Sales",
    "activation_type": "one_time",
    "channel": "email",
    "sends": "100",
    "delivered": "90",
    "bounces": "10",
    "opens": "30",
    "clicks": "6",
    "unsubscribes": "1",
    "spam_complaints": "0",
    "orders": "2",
    "revenue": "80.50",
}


def flow_row(**changes) -> dict:
    return {
        **BASE_ROW,
        "kind": "flow",
        "source_id": "f1",
        "source_name": "Welcome",
        "folder": "",
        "activation_type": "",
        **changes,
    }


def csv_text(rows: Iterable[dict], columns: Iterable[str] = COLUMNS) -> str:
    """A CSV file's text; values are written as given (tests control quoting)."""
    columns = list(columns)
    lines = [",".join(columns)]
    lines += [",".join(str(row.get(column, "")) for column in columns) for row in rows]
    return "\n".join(lines) + "\n"


def import_rows(account, rows: Iterable[dict], columns: Iterable[str] = COLUMNS):
    return stats_import(account=account, lines=io.StringIO(csv_text(rows, columns)))


@pytest.fixture
def acme(cast):
    return cast.acme


@pytest.fixture
def globex(cast):
    return cast.globex
