"""Every account-owned model is reached through a manager that fails closed.

The models are found, not listed: any model with a foreign key to Account is
account data and must be scoped, unless it is named below with the reason. For
each, an unscoped query raises ``UnscopedQueryError`` (one class everywhere),
``for_account`` sees that account's rows only, and a scoped queryset refuses to
write a row of another account.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone

from accounts.models import Account, Membership
from accounts.scoping import AccountScopedManager, UnscopedQueryError

# Models holding an Account key that are not one account's data.
NOT_ACCOUNT_DATA = {
    # The tie between a user and their accounts: read per user across accounts
    # (the home page, the access policy), always filtered by account or user.
    Membership,
}


def _account_key(model) -> models.ForeignKey | None:
    for field in model._meta.concrete_fields:
        if field.many_to_one and field.related_model is Account:
            return field
    return None


ACCOUNT_MODELS = sorted(
    (m for m in apps.get_models() if _account_key(m) is not None and m not in NOT_ACCOUNT_DATA),
    key=lambda m: m._meta.label,
)
WRITABLE = ACCOUNT_MODELS


def label(model) -> str:
    return model._meta.label


def test_every_account_model_is_scoped():
    assert len(ACCOUNT_MODELS) >= 3  # session logs and both permission audits at least
    unscoped = [label(m) for m in ACCOUNT_MODELS if not isinstance(m.objects, AccountScopedManager)]
    assert unscoped == []


class Rows:
    """One minimal valid row of a model for an account; its required keys made alike."""

    def __init__(self):
        self.made: dict[tuple, models.Model] = {}
        self.user = get_user_model().objects.create_user("scoping@example.test")

    def instance(self, model, account: Account) -> models.Model:
        """An unsaved row of ``model`` for ``account`` (referenced rows are saved)."""
        values = {}
        for field in model._meta.concrete_fields:
            if field.primary_key or field.null or field.has_default():
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                continue
            values[field.attname] = self.value(field, account)
        return model(**values)

    def saved(self, model, account: Account) -> models.Model:
        key = (model, account.pk)
        if key not in self.made:
            row = self.instance(model, account)
            model.objects.for_account(account).bulk_create([row])
            self.made[key] = row
        return self.made[key]

    def value(self, field, account: Account):
        if field.many_to_one:
            target = field.related_model
            if target is Account:
                return account.pk
            if target is get_user_model():
                return self.user.pk
            return self.saved(target, account).pk
        if field.choices:
            return field.choices[0][0]
        if isinstance(field, models.BooleanField):
            return True
        if isinstance(field, models.DecimalField):
            return Decimal("1.00")
        if isinstance(field, models.IntegerField):
            return 1
        if isinstance(field, models.DateTimeField):
            return timezone.now()
        if isinstance(field, models.DateField):
            return date(2024, 1, 1)
        if isinstance(field, models.JSONField):
            return []
        if isinstance(field, models.CharField | models.TextField):
            return f"{field.name} of {account.system_name}"
        raise NotImplementedError(f"no test value for {field!r}: teach Rows.value")


@pytest.fixture
def rows(cast) -> Rows:
    return Rows()


@pytest.mark.django_db
@pytest.mark.parametrize("model", ACCOUNT_MODELS, ids=label)
def test_a_query_without_the_account_raises(model):
    for query in (
        lambda: model.objects.all(),
        lambda: model.objects.filter(pk=1),
        lambda: model.objects.count(),
        lambda: model.objects.exists(),
    ):
        with pytest.raises(UnscopedQueryError, match="for_account"):
            query()


@pytest.mark.django_db
@pytest.mark.parametrize("model", WRITABLE, ids=label)
def test_for_account_sees_only_that_accounts_rows(model, cast, rows):
    mine, theirs = rows.saved(model, cast.acme), rows.saved(model, cast.globex)
    for account, own, other in ((cast.acme, mine, theirs), (cast.globex.pk, theirs, mine)):
        seen = dict(model.objects.for_account(account).values_list("pk", "account_id"))
        assert own.pk in seen and other.pk not in seen
        assert set(seen.values()) == {own.account_id}
    assert set(model.objects.unscoped().values_list("pk", flat=True)) >= {mine.pk, theirs.pk}


@pytest.mark.django_db
@pytest.mark.parametrize("model", WRITABLE, ids=label)
def test_a_scoped_queryset_refuses_a_row_of_another_account(model, cast, rows):
    foreign = rows.instance(model, cast.globex)
    scoped = model.objects.for_account(cast.acme)
    before = model.objects.unscoped().count()
    with pytest.raises(UnscopedQueryError, match="scoped to account"):
        scoped.bulk_create([foreign])
    values = {
        field.attname: getattr(foreign, field.attname)
        for field in model._meta.concrete_fields
        if not field.primary_key
    }
    with pytest.raises(UnscopedQueryError, match="scoped to account"):
        scoped.create(**values)
    assert model.objects.unscoped().count() == before
    # Without an account, a scoped queryset writes its own.
    values.pop("account_id")
    assert scoped.create(**values).account_id == cast.acme.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    "model", [m for m in WRITABLE if isinstance(m.objects, AccountScopedManager)], ids=label
)
def test_a_scoped_queryset_refuses_to_move_rows_to_another_account(model, cast, rows):
    rows.saved(model, cast.acme)
    scoped = model.objects.for_account(cast.acme)
    count = scoped.count()
    for move in ({"account": cast.globex}, {"account_id": cast.globex.pk}):
        with pytest.raises(UnscopedQueryError, match="moved to account"):
            scoped.update(**move)
    assert scoped.count() == count
    assert scoped.update(account=cast.acme) == count  # the same account: not a move


@pytest.mark.django_db
def test_for_account_needs_an_account():
    model = WRITABLE[0]
    with pytest.raises(UnscopedQueryError):
        model.objects.for_account(None)
