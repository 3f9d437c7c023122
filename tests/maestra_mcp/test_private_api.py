"""No Django private API in product code.

The product packages (migrations excluded) are parsed and searched for the
query-compilation internals Django does not promise to keep across its majors
(5.2 and 6.1 are both supported): the SQL query classes, compilers, column and
converter plumbing, instances built from raw rows, and expressions that write
their own SQL. Code parsed, not grepped: comments and docstrings may name them.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_PACKAGES = ["accounts", "permissions", "reporting", "maestra_mcp"]

# Attribute names that reach into the query compiler or the field/column plumbing.
FORBIDDEN_ATTRIBUTES = {
    "get_compiler": "the SQL compiler",
    "get_db_converters": "the ORM's value converters",
    "from_db": "a model instance built from a raw row",
    "get_col": "a column expression taken from a field",
    "get_initial_alias": "a query's table aliases",
    "add_q": "a filter added to the query object directly",
}
# Methods that make an expression compile itself (Expression.as_sql and the per-vendor
# overrides): the reports are plain querysets of Django's own expressions.
FORBIDDEN_METHODS = {"as_sql", "as_postgresql", "as_sqlite", "as_mysql", "as_oracle"}
FORBIDDEN_MODULE = "django.db.models.sql"


def violations(source: str) -> list[str]:
    """``line: what`` for every private API use in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            modules = []
        if any(m == FORBIDDEN_MODULE or m.startswith(f"{FORBIDDEN_MODULE}.") for m in modules):
            found.append(f"{node.lineno}: imports {FORBIDDEN_MODULE} (the SQL query classes)")
        if isinstance(node, ast.Attribute):
            if node.attr in FORBIDDEN_ATTRIBUTES:
                found.append(f"{node.lineno}: .{node.attr} ({FORBIDDEN_ATTRIBUTES[node.attr]})")
            elif node.attr == "where" and _names_query(node.value):
                found.append(f"{node.lineno}: query.where (the WHERE tree)")
            elif node.attr == "compile" and _names(node.value, "compiler"):
                found.append(f"{node.lineno}: compiler.compile (the SQL compiler)")
        if isinstance(node, ast.FunctionDef):
            if node.name in FORBIDDEN_METHODS:
                found.append(f"{node.lineno}: def {node.name} (SQL written by an expression)")
            elif node.name in FORBIDDEN_ATTRIBUTES:
                what = FORBIDDEN_ATTRIBUTES[node.name]
                found.append(f"{node.lineno}: def {node.name} (overrides {what})")
    return sorted(found, key=lambda line: int(line.split(":")[0]))


def _names(node: ast.expr, name: str) -> bool:
    return (isinstance(node, ast.Name) and node.id == name) or (
        isinstance(node, ast.Attribute) and node.attr == name
    )


def _names_query(node: ast.expr) -> bool:
    return _names(node, "query")


def product_files() -> list[Path]:
    return sorted(
        path
        for package in PRODUCT_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def test_product_code_uses_no_private_django_api():
    found = {}
    for path in product_files():
        name = path.relative_to(ROOT).as_posix()
        if uses := violations(path.read_text()):
            found[name] = uses
    assert found == {}


def test_the_check_finds_each_forbidden_use():
    source = """\
from django.db.models.sql import Query
from django.db.models import sql
import django.db.models.sql.where

def report(queryset, connection, field, Model, row, compiler):
    queryset.query.where.add(None, "AND")
    queryset.query.get_compiler(using="default")
    field.get_db_converters(connection)
    Model.from_db("default", ["id"], row)
    Model._meta.get_field("account").get_col("t")
    queryset.query.get_initial_alias()
    queryset.query.add_q(None)
    compiler.compile(None)

class Hand:
    def as_sql(self, compiler, connection):
        return "", []

    def as_sqlite(self, compiler, connection):
        return "", []

    def get_db_converters(self, connection):
        return []
"""
    lines = [int(line.split(":")[0]) for line in violations(source)]
    assert lines == [1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 16, 19, 22]
    # Public look-alikes are not flagged: a regex compile, a model refresh, a `where` kwarg.
    assert violations("import re\nre.compile('x')\nobj.refresh_from_db()\nf(where=1)\n") == []
