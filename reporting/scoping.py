"""Account scoping that fails closed.

Every reporting model holds one account's data. Its ``objects`` manager refuses
to build a query until it knows the account::

    Campaign.objects.for_account(account).filter(...)   # the normal entry
    Campaign.objects.filter(...)                         # raises UnscopedQueryError
    Campaign.objects.unscoped()                          # admin, migrations, purge only

A scoped queryset also stamps the account on what it creates, so a write cannot
land in another account by accident.
"""

from __future__ import annotations

from django.db import models


class UnscopedQueryError(RuntimeError):
    """An account-scoped model was queried without ``for_account(account)``."""


class AccountScopedQuerySet(models.QuerySet):
    _scoped_account_id: int | None = None

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
        account_id = getattr(account, "pk", account)
        if account_id is None:
            raise UnscopedQueryError(f"{self.model.__name__}.objects.for_account(None)")
        queryset = super().get_queryset().filter(account_id=account_id)
        queryset._scoped_account_id = account_id
        return queryset

    def unscoped(self) -> AccountScopedQuerySet:
        """All accounts' rows. Only for the admin, migrations, purge and retention."""
        return super().get_queryset()
