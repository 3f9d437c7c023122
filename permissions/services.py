"""Writes to MCP Access: grants, revokes and role defaults, each audited.

Memberships are created and moved between roles here too, since a member's
role decides their default MCP Access in the same transaction.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import MCP_DEFAULT_ROLES, Account, Membership, Role
from permissions.models import McpAccessChange
from permissions.policy import MCP_ACCESS_PERMISSION

_PERMISSION = f"accounts.{MCP_ACCESS_PERMISSION}"


@transaction.atomic
def membership_create(
    *, account: Account, user: AbstractBaseUser, role: Role | str, is_active: bool = True
) -> Membership:
    """Add a user to an account; default roles receive MCP Access."""
    membership = Membership(account=account, user=user, role=role, is_active=is_active)
    membership.full_clean()
    membership.save()
    mcp_access_apply_role_default(membership=membership)
    return membership


@transaction.atomic
def membership_change_role(*, membership: Membership, role: Role | str) -> Membership:
    """Move a member to another role; saving the same role again changes nothing."""
    if membership.role == role:
        return membership
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role"])
    mcp_access_apply_role_default(membership=membership)
    return membership


def _record(
    *,
    account: Account,
    user: AbstractBaseUser,
    granted: bool,
    source: str,
    acting_user: AbstractBaseUser | None,
) -> McpAccessChange:
    if granted:
        assign_perm(_PERMISSION, user, account)
    else:
        remove_perm(_PERMISSION, user, account)
    return McpAccessChange.objects.for_account(account).create(
        user=user, granted=granted, source=source, acting_user=acting_user
    )


@transaction.atomic
def mcp_access_grant(
    *, account: Account, user: AbstractBaseUser, acting_user: AbstractBaseUser | None
) -> McpAccessChange:
    """An explicit grant by a person (an Owner or a CSM)."""
    return _record(
        account=account,
        user=user,
        granted=True,
        source=McpAccessChange.Source.MANUAL,
        acting_user=acting_user,
    )


@transaction.atomic
def mcp_access_revoke(
    *, account: Account, user: AbstractBaseUser, acting_user: AbstractBaseUser | None
) -> McpAccessChange:
    """An explicit revoke by a person; it sticks through later role changes."""
    return _record(
        account=account,
        user=user,
        granted=False,
        source=McpAccessChange.Source.MANUAL,
        acting_user=acting_user,
    )


def mcp_access_apply_role_default(*, membership: Membership) -> McpAccessChange | None:
    """Grant MCP Access if the member's role carries it by default.

    Called when a member joins or their role changes. Roles outside the default
    set never receive it automatically, and a member on whom a person has
    already decided (granted or revoked) keeps that decision.
    """
    if membership.role not in MCP_DEFAULT_ROLES:
        return None
    decided = (
        McpAccessChange.objects.for_account(membership.account_id)
        .filter(
            user=membership.user,
            source=McpAccessChange.Source.MANUAL,
        )
        .exists()
    )
    if decided:
        return None
    return _record(
        account=membership.account,
        user=membership.user,
        granted=True,
        source=McpAccessChange.Source.ROLE_DEFAULT,
        acting_user=None,
    )
