"""Single-row reads for the checks every MCP request makes, at a fraction of the ORM's cost.

Each MCP request looks up its account, its bearer token (with the user and the
client) and the member's MCP Access before doing anything else. Through the
ORM, each of those lookups spent 1,000 to 3,500 Python calls compiling the query
and building the instance (``Model.objects.raw()`` still ~550), which on a
2-core server was most of the request's CPU. Here the caller writes the SQL once
(table and column names from the model's ``_meta``) and gets a model instance
from a row with the ORM's own value conversion: ~150 calls.

Only for those lookups; everything else reads through the ORM.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Model

ModelT = TypeVar("ModelT", bound=Model)


def columns(model: type[Model], fields: Sequence[str], table_alias: str) -> str:
    """The select list for ``fields`` (attribute names) of ``model``, e.g. ``t.id, t.user_id``."""
    quote = connections["default"].ops.quote_name
    meta = model._meta
    return ", ".join(f"{table_alias}.{quote(meta.get_field(name).column)}" for name in fields)


def fetch_row(sql: str, params: Sequence[Any], *, using: str = "default") -> tuple | None:
    """The first row of ``sql``, or None."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def instance(
    model: type[ModelT], fields: Sequence[str], values: Sequence[Any], *, using: str = "default"
) -> ModelT:
    """``model`` loaded from ``values`` of ``fields`` (other fields deferred), converted as
    the ORM converts what it reads (e.g. datetimes and JSON on SQLite)."""
    converted = list(values)
    for index, converters in _converters(model, tuple(fields), using):
        value = converted[index]
        for converter, expression in converters:
            value = converter(value, expression, connections[using])
        converted[index] = value
    return model.from_db(using, list(fields), converted)


@functools.cache
def _converters(model: type[Model], fields: tuple[str, ...], using: str) -> list:
    connection = connections[using]
    found = []
    for index, name in enumerate(fields):
        field = model._meta.get_field(name)
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if converters:
            found.append((index, [(converter, column) for converter in converters]))
    return found
