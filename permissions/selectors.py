"""Reads about MCP Access and brand restrictions: who holds them, and their audit trails."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from guardian.models import UserObjectPermission
from guardian.shortcuts import get_users_with_perms

from accounts.models import Account, Membership, Role
from permissions.brand_scope import BRAND_PERMISSION, brand_grants_on_deleted_brands
from permissions.models import BrandRestrictionChange, McpAccessChange
from permissions.policy import MCP_ACCESS_PERMISSION
from reporting.models import Brand


def mcp_access_user_ids(*, account: Account) -> set[int]:
    """Ids of the users holding the MCP Access permission on ``account`` (one query).

    Only direct user grants count, exactly like the policy: no superuser
    shortcut and no group grants.
    """
    users = get_users_with_perms(
        account,
        only_with_perms_in=[MCP_ACCESS_PERMISSION],
        with_superusers=False,
        with_group_users=False,
    )
    return set(users.values_list("pk", flat=True))


def mcp_access_is_last_owner(*, account: Account, user: AbstractBaseUser) -> bool:
    """True when ``user`` is the only active Owner of ``account`` who holds MCP Access.

    Revoking it then leaves nobody on the account's side able to use MCP as an
    Owner, so the team page asks for an explicit confirmation first.
    """
    owner_ids = set(
        Membership.objects.filter(account=account, role=Role.OWNER, is_active=True).values_list(
            "user_id", flat=True
        )
    )
    holders = owner_ids & mcp_access_user_ids(account=account)
    return holders == {user.pk}


def mcp_access_changes_recent(*, account: Account, limit: int = 20) -> QuerySet[McpAccessChange]:
    """The latest MCP Access changes on ``account``, newest first."""
    return McpAccessChange.objects.for_account(account).select_related("user", "acting_user")[
        :limit
    ]


def brand_restrictions(*, account: Account, brands: list[Brand]) -> dict[int, set[int]]:
    """user id → ids of the ``brands`` (the account's) a member is limited to; one query.

    A member missing from the result sees every brand. Like
    ``permissions.brand_scope.allowed_brand_ids``, only the member's own object
    permissions count (no groups, no superuser shortcut); the team page test
    checks the two agree for every member.
    """
    if not brands:
        return {}
    rows = UserObjectPermission.objects.filter(
        permission__codename=BRAND_PERMISSION.split(".", 1)[1],
        content_type=ContentType.objects.get_for_model(Brand),
        object_pk__in=[str(brand.pk) for brand in brands if brand.account_id == account.pk],
    ).values_list("user_id", "object_pk")
    restrictions: dict[int, set[int]] = {}
    for user_id, object_pk in rows:
        restrictions.setdefault(user_id, set()).add(int(object_pk))
    return restrictions


def brand_restrictions_on_deleted_brands(*, account: Account) -> set[int]:
    """Ids of ``account``'s members still restricted by a grant on a deleted brand; one query.

    ``brand_restrictions`` cannot show such a grant (its brand is gone), yet it
    keeps restricting, possibly to no brand at all, until an Owner saves the
    member's brands again (see ``permissions.brand_scope``, whose reading of the
    grants this reuses).
    """
    members = Membership.objects.filter(account=account).values("user_id")
    return set(
        brand_grants_on_deleted_brands()
        .filter(user_id__in=members)
        .values_list("user_id", flat=True)
        .distinct()
    )


def brand_restriction_changes_recent(
    *, account: Account, limit: int = 20
) -> QuerySet[BrandRestrictionChange]:
    """The latest brand restriction changes on ``account``, newest first."""
    return BrandRestrictionChange.objects.for_account(account).select_related(
        "user", "acting_user"
    )[:limit]
