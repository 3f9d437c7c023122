"""Account scoping that fails closed, for every model holding one account's data.

Such a model declares ``objects = AccountScopedManager()`` and is then reached as::

    Model.objects.for_account(account).filter(...)   # the normal entry
    Model.objects.filter(...)                         # raises UnscopedQueryError
    Model.objects.unscoped()                          # admin, migrations, purge, retention only

A queryset from ``for_account`` stamps the account on what it creates and
refuses to write a row of, or move rows to, another account, so a write cannot
land in the wrong account by accident.

Django itself never goes through this manager where it must see every row: the
deletion cascade and ``refresh_from_db`` use the model's plain base manager.
"""

from __future__ import annotations

from django.db import models


class UnscopedQueryError(RuntimeError):
    """Account data was queried, or written, without naming (or against) its account."""


def _account_id(model: type[models.Model], account) -> int:
    account_id = getattr(account, "pk", account)
    if account_id is None:
        raise UnscopedQueryError(f"{model.__name__}.objects.for_account(None)")
    return account_id


class AccountScopedQuerySet(models.QuerySet):
    # The account a ``for_account`` queryset (and every clone of it) is bound to;
    # None on ``unscoped()``, which stamps and checks nothing.
    _scoped_account_id: int | None = None

    # QuerySet._clone is the one place every chained queryset (filter, order_by, …) is
    # made, hence Django's only hook for state that must follow a queryset; unlike the
    # query compiler (see tests/maestra_mcp/test_private_api.py) it has kept its
    # signature since Django 2.0.
    def _clone(self):
        clone = super()._clone()
        clone._scoped_account_id = self._scoped_account_id
        return clone

    def _stamp(self, obj: models.Model) -> None:
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

    def update(self, **kwargs):
        if self._scoped_account_id is not None:
            for name in ("account", "account_id"):
                if name in kwargs:
                    target = getattr(kwargs[name], "pk", kwargs[name])
                    if target != self._scoped_account_id:
                        raise UnscopedQueryError(
                            f"{self.model.__name__} rows of account {self._scoped_account_id} "
                            f"moved to account {target} through a scoped queryset"
                        )
        return super().update(**kwargs)


class AccountScopedManager(models.Manager.from_queryset(AccountScopedQuerySet)):
    """The default manager of every account-owned model (see the module docstring)."""

    def get_queryset(self):
        raise UnscopedQueryError(
            f"{self.model.__name__} holds account data: query it through "
            f"{self.model.__name__}.objects.for_account(account) "
            "(or .unscoped() in the admin, migrations, purge and retention)."
        )

    def for_account(self, account) -> AccountScopedQuerySet:
        """The rows of ``account`` (an Account or its id)."""
        account_id = _account_id(self.model, account)
        queryset = super().get_queryset().filter(account_id=account_id)
        queryset._scoped_account_id = account_id
        return queryset

    def unscoped(self) -> AccountScopedQuerySet:
        """Every account's rows. Only for the admin, migrations, purge and retention."""
        return super().get_queryset()
