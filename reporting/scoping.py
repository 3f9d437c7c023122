"""Account scoping that fails closed.

Every reporting model holds one account's data. Its ``objects`` manager refuses
to build a query until it knows the account::

    Campaign.objects.for_account(account).filter(...)   # the normal entry
    Campaign.objects.filter(...)                         # raises UnscopedQueryError
    Campaign.objects.unscoped()                          # admin, migrations, purge only
    Campaign.objects.of_outer_account()                  # a subquery: the outer row's account

A scoped queryset also stamps the account on what it creates, so a write cannot
land in another account by accident.

A *shape* is a read query built once per process, before any account is known,
so that Django resolves its annotations once rather than on every call (reports
use them: see ``reporting.selectors.reports``). It refuses to run until scoped::

    SHAPE = CampaignStatRow.objects.shape().values("channel").annotate(...)
    SHAPE.for_account(account).filter(...)              # runs, for that account
    list(SHAPE)                                          # raises UnscopedQueryError

A shape's aggregate annotations can also be compiled once: wrapped in
:class:`CompiledOnce`, an annotation is compiled to SQL the first time a query
of the shape runs on a database connection, and that SQL is reused by every
later query of the shape on that connection. It depends only on the shape (the
expression and the table it reads), never on the account, the filters or any
other argument, which each call still adds and compiles.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Expression, OuterRef, Q
from django.db.models.lookups import Exact, Lookup
from django.db.models.sql import Query
from django.db.models.sql.where import AND

# The one error of every account-scoped manager (see accounts.scoping).
from accounts.scoping import UnscopedQueryError


class _ShapeQuery(Query):
    """The query of a shape: it compiles to SQL only once ``for_account`` scoped it.

    Every read (iteration, values, count, aggregate, exists, use as a subquery
    or in a union) compiles through ``get_compiler``, so this is the one check.
    Clones keep the class and the flag.
    """

    account_scoped = False

    def get_compiler(self, *args, **kwargs):
        if not self.account_scoped:
            raise UnscopedQueryError(
                f"A {self.model.__name__} query shape runs only after .for_account(account)."
            )
        return super().get_compiler(*args, **kwargs)


class AccountScopedQuerySet(models.QuerySet):
    _scoped_account_id: int | None = None

    def for_account(self, account, *conditions) -> AccountScopedQuerySet:
        """Scope a shape (see the module docstring) to ``account``.

        ``conditions`` (Q objects or conditional expressions) are added in the
        same step: one clone of the query instead of one per ``filter()``.
        """
        if not isinstance(self.query, _ShapeQuery):
            raise TypeError("for_account() on a queryset applies to shapes only (see shape())")
        account_id = _account_id(self.model, account)
        if self.query.account_scoped:
            raise UnscopedQueryError(
                f"{self.model.__name__} shape already scoped to account {self._scoped_account_id}"
            )
        clone = self._chain()
        query = clone.query
        # Added as resolved lookups rather than through filter(): Django's generic
        # filter path (names_to_path, setup_joins, build_lookup per keyword) was a
        # tenth of a report's Python time for a condition whose column is known.
        column = self.model._meta.get_field("account").get_col(query.get_initial_alias())
        query.where.add(Exact(column, account_id), AND)
        for condition in conditions:
            if isinstance(condition, Q):
                query.add_q(condition)
            else:
                query.where.add(_true(condition.resolve_expression(query)), AND)
        query.account_scoped = True
        clone._scoped_account_id = account_id
        return clone

    def _refuse_writes_on_shapes(self) -> None:
        # Update and delete build their own query classes, past _ShapeQuery's check.
        if isinstance(self.query, _ShapeQuery):
            raise UnscopedQueryError("Query shapes are read-only.")

    def update(self, **kwargs):
        self._refuse_writes_on_shapes()
        return super().update(**kwargs)

    def _update(self, values):
        self._refuse_writes_on_shapes()
        return super()._update(values)

    def delete(self):
        self._refuse_writes_on_shapes()
        return super().delete()

    def _raw_delete(self, using):
        self._refuse_writes_on_shapes()
        return super()._raw_delete(using)

    def _clone(self):
        clone = super()._clone()
        clone._scoped_account_id = self._scoped_account_id
        return clone

    def _stamp(self, obj) -> None:
        if self._scoped_account_id is None:
            return
        if obj.account_id is None:
            obj.account_id = self._scoped_account_id
        elif obj.account_id != self._scoped_account_id:
            raise UnscopedQueryError(
                f"{type(obj).__name__} of account {obj.account_id} written through a "
                f"queryset scoped to account {self._scoped_account_id}"
            )

    def create(self, **kwargs):
        obj = self.model(**kwargs)
        self._stamp(obj)
        obj.save(force_insert=True, using=self.db)
        return obj

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            self._stamp(obj)
        return super().bulk_create(objs, *args, **kwargs)


class AccountScopedManager(models.Manager.from_queryset(AccountScopedQuerySet)):
    """The default manager of every account-scoped model (see the module docstring)."""

    def get_queryset(self):
        raise UnscopedQueryError(
            f"{self.model.__name__} holds account data: query it through "
            f"{self.model.__name__}.objects.for_account(account) "
            "(or .unscoped() in the admin, migrations and purge)."
        )

    def for_account(self, account) -> AccountScopedQuerySet:
        account_id = _account_id(self.model, account)
        queryset = super().get_queryset().filter(account_id=account_id)
        queryset._scoped_account_id = account_id
        return queryset

    def shape(self) -> AccountScopedQuerySet:
        """A read query to build once and scope per call (see the module docstring)."""
        return self._queryset_class(model=self.model, query=_ShapeQuery(self.model), using=self._db)

    def of_outer_account(self) -> AccountScopedQuerySet:
        """Rows of the account of an outer query's row, for a subquery of a report.

        Scoped by ``account = OuterRef("account")``: the subquery runs only inside
        an outer query (Django refuses to run an ``OuterRef`` on its own), and
        only ever sees the account of the row it is evaluated for, which the
        outer query's own scope decides.
        """
        queryset = self.shape().filter(account=OuterRef("account"))
        queryset.query.account_scoped = True
        return queryset

    def unscoped(self) -> AccountScopedQuerySet:
        """All accounts' rows. Only for the admin, migrations, purge and retention."""
        return super().get_queryset()


def _true(condition: Expression) -> Lookup:
    """A resolved conditional expression as a WHERE clause, as ``filter(expression)`` adds it."""
    if not getattr(condition, "conditional", False):
        raise TypeError(f"{condition!r} is not a condition")
    return condition if isinstance(condition, Lookup) else Exact(condition, True)


def _account_id(model, account) -> int:
    account_id = getattr(account, "pk", account)
    if account_id is None:
        raise UnscopedQueryError(f"{model.__name__}.objects.for_account(None)")
    return account_id


class CompiledOnce(Expression):
    """An aggregate or window annotation of a shape, compiled once per database connection alias.

    Reports compile 19 metric expressions per query; Django walks each
    expression tree (about 3,000 Python calls per query) to produce the same SQL
    every time. The wrapped expression is resolved with the shape, once per
    process; its SQL is kept per connection alias (the backend decides the SQL)
    on the resolved instance, which every clone of the shape shares. Any copy
    (a relabelled clone when the query becomes a subquery, a re-resolution)
    starts without SQL, so it is compiled for its own table aliases.

    Only for aggregates and window functions over the shape's own rows: they
    are never grouped by, so the wrapper adds nothing to GROUP BY, and it
    compares by identity, so matching it against the select list (ORDER BY,
    GROUP BY) is one hash.

    ``convert=False`` returns values as the database driver gives them (on
    PostgreSQL a numeric is a Decimal), without the per-value cast to the
    output field's Python type: for values that a typed model validates and
    converts anyway (the reports' pydantic results), in one call for all rows.
    """

    def __init__(self, expression: Expression, *, convert: bool = True):
        super().__init__()
        self.expression = expression
        self.convert = convert
        self._sql: dict[str, tuple[str, tuple]] = {}

    def get_source_expressions(self):
        return [self.expression]

    def set_source_expressions(self, exprs):
        (self.expression,) = exprs

    def copy(self):
        clone = super().copy()
        clone._sql = {}
        return clone

    def resolve_expression(self, *args, **kwargs):
        resolved = super().resolve_expression(*args, **kwargs)
        inner = resolved.expression
        if not (inner.contains_aggregate or inner.contains_over_clause):
            raise TypeError("CompiledOnce wraps aggregates and window functions only")
        return resolved

    def _resolve_output_field(self):
        return self.expression.output_field

    def get_db_converters(self, connection):
        if self.convert:
            return self.expression.get_db_converters(connection)
        # The backend's own (SQLite's decimals, …) but not Django's int()/float()/Decimal()
        # of every value, one Python call per value.
        return self.output_field.get_db_converters(connection)

    def get_group_by_cols(self):
        return []

    def as_sql(self, compiler, connection):
        found = self._sql.get(connection.alias)
        if found is None:
            sql, params = compiler.compile(self.expression)
            found = self._sql[connection.alias] = (sql, tuple(params))
        return found

    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)
