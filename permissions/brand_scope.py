"""Brand restrictions: a member may be limited to some of the account's brands.

Stored as the django-guardian object permission ``reporting.view_brand_reports``
on each ``reporting.Brand`` the member is limited to; a member holding it on no
brand of the account sees every brand. Reporting knows nothing of members: its
callers pass :func:`allowed_brand_ids` to the report selectors, which apply it in
one place (``reporting.selectors.rows``), so the pages and MCP agree.
Every change is audited in ``permissions.models.BrandRestrictionChange``.

Reading the restriction fails closed:

- a user without an active membership of the account sees no brand;
- a grant whose brand no longer exists still restricts (we cannot tell which
  account it was for, so it restricts in every account of the member, to the
  brands they still hold there, possibly none) until an owner sets the member's
  brands again, which clears such grants;
- a grant on another account's brand restricts only in that account.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import BigIntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Cast
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import Account, Membership
from permissions.models import BrandRestrictionChange
from reporting.models import Brand

BRAND_PERMISSION = "reporting.view_brand_reports"
_CODENAME = BRAND_PERMISSION.split(".", 1)[1]

# The team page's notice for a member held by a grant whose brand is gone.
MESSAGE_RESTRICTED_BY_DELETED_BRAND = (
    "Still restricted by a brand that was deleted. Save this member's brands again to clear it."
)


def _brand_grants() -> QuerySet:
    """Every user's own brand grants (no groups, no superuser shortcut, no global
    permission); filter it by user."""
    return UserObjectPermission.objects.filter(
        permission__codename=_CODENAME,
        permission__content_type__app_label=Brand._meta.app_label,
        permission__content_type__model=Brand._meta.model_name,
    ).order_by()


def _all_grants() -> QuerySet:
    """:func:`_brand_grants`, each with the account of its brand (None: the brand is gone)."""
    # The one cross-account read here: which account a granted brand belongs to.
    brand_account = (
        Brand.objects.unscoped()
        .filter(pk=Cast(OuterRef("object_pk"), BigIntegerField()))
        .order_by()
        .values("account_id")[:1]
    )
    return _brand_grants().annotate(brand_account=Subquery(brand_account))


def brand_grants_on_deleted_brands() -> QuerySet:
    """Every user's grants on brands that no longer exist; filter it by user.

    Each still restricts its user in every account (see the module docstring)
    until :func:`brand_restriction_set` drops it.
    """
    return _all_grants().filter(brand_account__isnull=True)


def allowed_brand_ids(*, user: AbstractBaseUser, account: Account) -> set[int] | None:
    """The ids of the brands ``user`` may see in ``account``'s reports; None = all brands.

    The membership, the user's grants and, when they hold any, their brands' accounts:
    two or three small queries, on the primary database even when reports read a
    replica, so a new restriction applies at once. Fails closed (see the module
    docstring): no active membership gives the empty set.
    """
    if not Membership.objects.filter(user_id=user.pk, account=account, is_active=True).exists():
        return set()
    grants = _brand_grants().filter(user_id=user.pk)
    granted = {int(pk) for pk in grants.values_list("object_pk", flat=True)}
    if not granted:
        return None
    # As in _all_grants, the cross-account read: which account each granted brand belongs to.
    owners = dict(Brand.objects.unscoped().filter(pk__in=granted).values_list("pk", "account_id"))
    held = {pk for pk, owner in owners.items() if owner == account.pk}
    if held or granted - owners.keys():  # a grant here, or on a brand that is gone
        return held
    return None


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
    brand_grants_on_deleted_brands().filter(user_id=user.pk).delete()
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
