"""Brand restrictions: a member may be limited to some of the account's brands.

Stored as the django-guardian object permission ``reporting.view_brand_reports``
on each ``reporting.Brand`` the member is limited to; a member holding it on no
brand of the account sees every brand. Reports apply the restriction in one
place (``reporting.selectors.reports.brand_scope``), so the pages and MCP agree.
Every change is audited in ``reporting.BrandRestrictionChange``.

Reading the restriction fails closed:

- a user without an active membership of the account sees no brand;
- a grant whose brand no longer exists still restricts (we cannot tell which
  account it was for, so it restricts in every account of the member, to the
  brands they still hold there, possibly none) until an owner sets the member's
  brands again, which clears such grants;
- a grant on another account's brand restricts only in that account.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import BigIntegerField, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Cast
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import Account, Membership
from reporting.models import Brand, BrandRestrictionChange

BRAND_PERMISSION = "reporting.view_brand_reports"
_CODENAME = BRAND_PERMISSION.split(".", 1)[1]
_MEMBER = "member"  # marks the membership row in _scope_rows


@functools.cache
def _all_grants() -> QuerySet:
    """Every user's own brand grants (no groups, no superuser shortcut, no global
    permission), each with the account of its brand (None: the brand is gone).

    Built once per process (filters and the subquery resolved once); filter it by user.
    """
    # The one cross-account read here: which account a granted brand belongs to.
    brand_account = (
        Brand.objects.unscoped()
        .filter(pk=Cast(OuterRef("object_pk"), BigIntegerField()))
        .order_by()
        .values("account_id")[:1]
    )
    return (
        UserObjectPermission.objects.filter(
            permission__codename=_CODENAME,
            permission__content_type__app_label=Brand._meta.app_label,
            permission__content_type__model=Brand._meta.model_name,
        )
        .annotate(brand_account=Subquery(brand_account))
        .order_by()
    )


@functools.cache
def _active_memberships() -> QuerySet:
    """Active memberships as rows shaped like _all_grants' (filter by user and account)."""
    return (
        Membership.objects.filter(is_active=True)
        .order_by()
        .values_list(Value(_MEMBER), Value(None, output_field=IntegerField()))
    )


def _scope_rows(*, user: AbstractBaseUser, account: Account) -> list[tuple]:
    """One query: the user's brand grants and, if active, their membership of ``account``."""
    grants = _all_grants().filter(user_id=user.pk).values_list("object_pk", "brand_account")
    membership = _active_memberships().filter(user_id=user.pk, account_id=account.pk)
    return list(grants.union(membership, all=True))


def allowed_brand_ids(*, user: AbstractBaseUser, account: Account) -> set[int] | None:
    """The ids of the brands ``user`` may see in ``account``'s reports; None = all brands.

    One query, on the primary database even when reports read a replica, so a
    new restriction applies at once. Fails closed (see the module docstring):
    no active membership gives the empty set.
    """
    rows = _scope_rows(user=user, account=account)
    if (_MEMBER, None) not in rows:
        return set()
    granted = [(int(pk), brand_account) for pk, brand_account in rows if pk != _MEMBER]
    restricted = any(brand_account in (account.pk, None) for _, brand_account in granted)
    if not restricted:
        return None
    return {pk for pk, brand_account in granted if brand_account == account.pk}


@transaction.atomic
def brand_restriction_set(
    *,
    account: Account,
    user: AbstractBaseUser,
    brands: Iterable[Brand],
    acting_user: AbstractBaseUser | None,
) -> BrandRestrictionChange:
    """Limit ``user`` to ``brands`` of ``account`` (an empty list lifts the restriction).

    Also drops the user's grants on brands that no longer exist, which would
    otherwise keep restricting them (see the module docstring).
    """
    brands = list(brands)
    foreign = [brand for brand in brands if brand.account_id != account.pk]
    if foreign:
        raise ValueError(f"brands of another account: {', '.join(b.name for b in foreign)}")
    if not Membership.objects.filter(user=user, account=account).exists():
        raise ValueError(f"{user} is not a member of {account.system_name}")
    for brand in Brand.objects.for_account(account).filter(pk__in=_held(user, account)):
        remove_perm(BRAND_PERMISSION, user, brand)
    _all_grants().filter(user_id=user.pk, brand_account__isnull=True).delete()
    for brand in brands:
        assign_perm(BRAND_PERMISSION, user, brand)
    return BrandRestrictionChange.objects.for_account(account).create(
        user=user,
        brand_names=sorted(brand.name for brand in brands),
        acting_user=acting_user,
    )


def _held(user: AbstractBaseUser, account: Account) -> list[int]:
    return [
        int(pk)
        for pk in _all_grants()
        .filter(user_id=user.pk, brand_account=account.pk)
        .values_list("object_pk", flat=True)
    ]
