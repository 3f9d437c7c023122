"""Report queries compiled by the ORM once per structure, then run with each call's values.

Django compiles a queryset to SQL every time it runs: for a report query that is
about half of the report's Python time (~1 ms of CPU for a flow report's two
queries), spent producing the same SQL whenever the query has the same
structure. Here a query is described by

- a ``key``: everything that shapes its SQL (the report, the grouping, the
  grains of the window's rows, which filters apply and how many ids each
  lists, the sort, the limit, the database alias), and
- ``values``: what only fills its parameters — the account id and the ids and
  dates the key says are there.

The first call of a key builds the queryset twice through ``build(account_id,
values)``: once with unique placeholder values, to learn which parameter of
Django's SQL each value fills, and once with the real values, to check that
Django's own SQL and parameters equal the template's (any difference means the
key misses a part of the structure: an error, never a wrong answer). Later calls
of the key only bind their values into the template and run it.

The account stays bound: a template whose parameters do not carry the account id
is refused (``UnscopedQueryError``) unless Django wrote it as matching nothing
(``WHERE 0 = 1``), and ``build`` can only reach account data through
``for_account`` (see :mod:`reporting.scoping`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

from reporting.scoping import UnscopedQueryError

Value = int | date
Build = Callable[[int, Sequence[Value]], QuerySet]

# Placeholders: unique, never a real id or report date, within every backend's
# integer range (Django turns an out-of-range integer lookup into "no rows").
_INT_PLACEHOLDER = -1_000_000_000
_DATE_PLACEHOLDER = date(1001, 1, 1)
_MAX_TEMPLATES = 512  # distinct structures kept per process; far more than reports use


class TemplateMismatchError(RuntimeError):
    """A query's SQL depends on more than its key: its template would be wrong."""


@dataclass(frozen=True)
class _Template:
    sql: str | None  # None: the query can match no row (an empty IN list); not run
    slots: tuple[int, ...]  # per parameter: the value it takes, or -1 for a constant
    constants: tuple
    dates: tuple[bool, ...]  # per value: a date, adapted for the backend like Django does
    names: tuple[str, ...]  # the result's column names
    converters: tuple  # Django's converters of the result columns (backend types)

    def params(self, account_id: int, values: Sequence[Value], ops) -> list:
        bound = _bound(account_id, values, self.dates, ops)
        return [
            bound[slot] if slot >= 0 else constant
            for slot, constant in zip(self.slots, self.constants, strict=True)
        ]


def _bound(account_id: int, values: Sequence[Value], dates: Sequence[bool], ops) -> list:
    """The account id, then each value as Django passes it to the backend."""
    return [
        account_id,
        *(
            ops.adapt_datefield_value(value) if is_date else value
            for value, is_date in zip(values, dates, strict=True)
        ),
    ]


_templates: dict[Hashable, _Template] = {}


def fetch(
    key: Hashable,
    build: Build,
    *,
    account_id: int,
    values: Sequence[Value],
    using: str,
    elide_empty: bool = True,
) -> list[dict]:
    """The rows of ``build(account_id, values)`` as dicts, through the key's template.

    A query that can match no row (an empty IN list) is not run, as Django skips
    it, unless ``elide_empty`` is False: then the database answers it over no
    rows (one row of aggregates for a query without GROUP BY).
    """
    connection = connections[using]
    cache_key = (using, elide_empty, key)
    template = _templates.get(cache_key)
    if template is None:
        template = _compile(build, account_id, values, connection, elide_empty)
        if len(_templates) >= _MAX_TEMPLATES:
            _templates.clear()
        _templates[cache_key] = template
    if template.sql is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(template.sql, template.params(account_id, values, connection.ops))
        rows = cursor.fetchall()
    names = template.names
    if template.converters:
        rows = [_convert(row, template.converters, connection) for row in rows]
    return [dict(zip(names, row, strict=True)) for row in rows]


def templates_cached() -> int:
    """How many query structures have a template in this process."""
    return len(_templates)


def _convert(row: tuple, converters: tuple, connection) -> list:
    row = list(row)
    for position, functions, expression in converters:
        value = row[position]
        for function in functions:
            value = function(value, expression, connection)
        row[position] = value
    return row


def _placeholders(values: Sequence[Value]) -> list[Value]:
    placeholders = []
    for index, value in enumerate(values, start=1):
        if isinstance(value, date):
            placeholders.append(_DATE_PLACEHOLDER + timedelta(days=index))
        elif isinstance(value, int) and not isinstance(value, bool):
            placeholders.append(_INT_PLACEHOLDER - index)
        else:
            raise TypeError(f"template values are ids and dates, not {value!r}")
    return placeholders


def _compile(
    build: Build, account_id: int, values: Sequence[Value], connection, elide_empty: bool
) -> _Template:
    placeholders = _placeholders(values)
    dates = tuple(isinstance(value, date) for value in values)
    compiled = _sql(build(_INT_PLACEHOLDER, placeholders), connection, elide_empty)
    if compiled.sql is None:
        template = _Template(None, (), (), dates, (), ())
    else:
        bound = _bound(_INT_PLACEHOLDER, placeholders, dates, connection.ops)
        slot_of = {placeholder: slot for slot, placeholder in enumerate(bound)}
        slots = tuple(_slot(slot_of, param) for param in compiled.params)
        # Django writes a query that can match nothing as WHERE 0 = 1: no account's rows.
        if 0 not in slots and not compiled.matches_nothing:
            raise UnscopedQueryError("a report query template must bind the account id")
        constants = tuple(
            None if slot >= 0 else param for slot, param in zip(slots, compiled.params, strict=True)
        )
        template = _Template(
            compiled.sql, slots, constants, dates, compiled.names, compiled.converters
        )
    compiled = _sql(build(account_id, values), connection, elide_empty)
    _check(template, compiled, template.params(account_id, values, connection.ops))
    return template


def _slot(slot_of: dict, param) -> int:
    try:
        return slot_of.get(param, -1)
    except TypeError:  # unhashable: a constant
        return -1


@dataclass(frozen=True)
class _Compiled:
    """What Django compiles a queryset to; ``sql`` None: not run (it can match nothing)."""

    sql: str | None
    params: tuple = ()
    names: tuple[str, ...] = ()
    converters: tuple = ()
    matches_nothing: bool = False


def _sql(queryset: QuerySet, connection, elide_empty: bool) -> _Compiled:
    try:
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        matches_nothing = False
    except EmptyResultSet:
        if elide_empty:
            return _Compiled(None, matches_nothing=True)
        compiler = queryset.query.get_compiler(connection=connection, elide_empty=False)
        sql, params = compiler.as_sql()
        matches_nothing = True
    columns = [select[0] for select in compiler.select[: compiler.col_count]]
    return _Compiled(
        sql=sql,
        params=tuple(params),
        names=tuple(select[2] for select in compiler.select[: compiler.col_count]),
        converters=tuple(
            (position, tuple(functions), expression)
            for position, (functions, expression) in compiler.get_converters(columns).items()
        ),
        matches_nothing=matches_nothing,
    )


def _check(template: _Template, compiled: _Compiled, bound: list) -> None:
    """Django's SQL for the real values (``compiled``) must be the template's with
    those values ``bound``."""
    if (compiled.sql, list(compiled.params), compiled.names) != (
        template.sql,
        bound,
        template.names,
    ):
        raise TemplateMismatchError(
            "the query's SQL depends on more than its key; add what differs to the key"
        )
