"""Writes to MCP Access: grants, revokes and role defaults, each audited."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import MCP_DEFAULT_ROLES, Account, Membership
from permissions.models import McpAccessChange
from permissions.policy import MCP_ACCESS_PERMISSION

_PERMISSION = f"accounts.{MCP_ACCESS_PERMISSION}"


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
    return McpAccessChange.objects.create(
        account=account, user=user, granted=granted, source=source, acting_user=acting_user
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
    decided = McpAccessChange.objects.filter(
        account=membership.account,
        user=membership.user,
        source=McpAccessChange.Source.MANUAL,
    ).exists()
    if decided:
        return None
    return _record(
        account=membership.account,
        user=membership.user,
        granted=True,
        source=McpAccessChange.Source.ROLE_DEFAULT,
        acting_user=None,
    )
