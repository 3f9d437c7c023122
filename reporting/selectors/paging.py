"""Cursors that continue an ordered listing where its last page stopped.

A cursor is the position reached and the last row's sort values, signed with the
site's secret (``django.core.signing``) together with a fingerprint of the query
it came from: a cursor edited by hand fails the signature, and one replayed with
other arguments (another window, filter, sort or account) fails the fingerprint;
both get a :class:`ReportError` telling the assistant what to do. The next page
is the rows strictly after those sort values in the same total ordering (keyset
paging), so it neither repeats nor skips a row, whatever ties the sort has.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from django.core import signing
from django.db.models import F, Q

from reporting.errors import ReportError

_SALT = "reporting.paging"

BAD_CURSOR = (
    "The cursor is not valid (it must be passed back exactly as a previous answer's "
    "next_cursor). Repeat the call without cursor to start from the first page."
)
OTHER_QUERY = (
    "The cursor belongs to a different query: pass it with exactly the arguments of the call "
    "that returned it (only cursor changes), or drop cursor to start from the first page."
)


@dataclass(frozen=True)
class SortKey:
    """One column of a total ordering: its alias, direction and where nulls go."""

    alias: str
    descending: bool = False
    nulls_last: bool = True


def fingerprint(**query) -> str:
    """A short digest of everything that defines a listing (not the cursor itself)."""
    text = json.dumps(query, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _plain(value):
    return {"d": str(value)} if isinstance(value, Decimal) else value


def _typed(value):
    return Decimal(value["d"]) if isinstance(value, dict) else value


def cursor_dumps(*, query: str, position: int, last: list) -> str:
    """The cursor after ``position`` rows, the last with sort values ``last``."""
    payload = {"q": query, "n": position, "v": [_plain(v) for v in last]}
    return signing.dumps(payload, salt=_SALT, compress=True)


def cursor_loads(cursor: str, *, query: str) -> tuple[int, list]:
    """(rows already shown, the last one's sort values); raises ReportError if invalid."""
    try:
        payload = signing.loads(cursor, salt=_SALT)
    except signing.BadSignature:
        raise ReportError(BAD_CURSOR) from None
    if payload.get("q") != query:
        raise ReportError(OTHER_QUERY)
    return payload["n"], [_typed(v) for v in payload["v"]]


def _equal(key: SortKey, value) -> Q:
    return Q(**{f"{key.alias}__isnull": True}) if value is None else Q(**{key.alias: value})


def _strictly_after(key: SortKey, value) -> Q | None:
    if value is None:  # only the non-null values follow a null placed first
        return None if key.nulls_last else Q(**{f"{key.alias}__isnull": False})
    after = Q(**{f"{key.alias}__{'lt' if key.descending else 'gt'}": value})
    return after | Q(**{f"{key.alias}__isnull": True}) if key.nulls_last else after


def after(keys: list[SortKey], last: list) -> Q | None:
    """The rows strictly after ``last`` in the ordering ``keys``; None when none can be."""
    clauses = []
    for index, key in enumerate(keys):
        step = _strictly_after(key, last[index])
        if step is None:
            continue
        for previous, value in zip(keys[:index], last[:index], strict=True):
            step &= _equal(previous, value)
        clauses.append(step)
    if not clauses:
        return None
    condition = clauses[0]
    for clause in clauses[1:]:
        condition |= clause
    return condition


def order_by(keys: list[SortKey]) -> list:
    """The ``order_by`` arguments of ``keys``."""
    ordering = []
    for key in keys:
        nulls = {"nulls_last": True} if key.nulls_last else {"nulls_first": True}
        column = F(key.alias)
        ordering.append(column.desc(**nulls) if key.descending else column.asc(**nulls))
    return ordering
