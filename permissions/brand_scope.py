"""Brand restrictions: a member may be limited to some of the account's brands.

Stored as the django-guardian object permission ``reporting.view_brand_reports``
on each ``reporting.Brand`` the member is limited to; a member holding it on no
brand of the account sees every brand. Reports apply the restriction in one
place (``reporting.selectors.reports.brand_scope``), so the pages and MCP agree.
Every change is audited in ``reporting.BrandRestrictionChange``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from guardian.shortcuts import assign_perm, get_objects_for_user, remove_perm

from accounts.models import Account, Membership
from reporting.models import Brand, BrandRestrictionChange

BRAND_PERMISSION = "reporting.view_brand_reports"


def _restricted_brands(*, user: AbstractBaseUser, account: Account):
    # Only the member's own grants: no superuser shortcut, no global permission.
    return get_objects_for_user(
        user,
        BRAND_PERMISSION,
        klass=Brand.objects.for_account(account),
        use_groups=False,
        with_superuser=False,
        accept_global_perms=False,
    )


def allowed_brand_ids(*, user: AbstractBaseUser, account: Account) -> set[int] | None:
    """The ids of the brands ``user`` may see in ``account``'s reports; None = all brands."""
    ids = set(_restricted_brands(user=user, account=account).values_list("pk", flat=True))
    return ids or None


@transaction.atomic
def brand_restriction_set(
    *,
    account: Account,
    user: AbstractBaseUser,
    brands: Iterable[Brand],
    acting_user: AbstractBaseUser | None,
) -> BrandRestrictionChange:
    """Limit ``user`` to ``brands`` of ``account`` (an empty list lifts the restriction)."""
    brands = list(brands)
    foreign = [brand for brand in brands if brand.account_id != account.pk]
    if foreign:
        raise ValueError(f"brands of another account: {', '.join(b.name for b in foreign)}")
    if not Membership.objects.filter(user=user, account=account).exists():
        raise ValueError(f"{user} is not a member of {account.system_name}")
    for brand in _restricted_brands(user=user, account=account):
        remove_perm(BRAND_PERMISSION, user, brand)
    for brand in brands:
        assign_perm(BRAND_PERMISSION, user, brand)
    return BrandRestrictionChange.objects.for_account(account).create(
        user=user,
        brand_names=sorted(brand.name for brand in brands),
        acting_user=acting_user,
    )
