"""Reads about MCP Access: who holds it on an account, and its audit trail."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from guardian.shortcuts import get_users_with_perms

from accounts.models import Account, Membership, Role
from permissions.models import McpAccessChange
from permissions.policy import MCP_ACCESS_PERMISSION


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
    return McpAccessChange.objects.filter(account=account).select_related("user", "acting_user")[
        :limit
    ]
