"""Writes to accounts and memberships."""

from __future__ import annotations

from functools import partial

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Membership, Role
from maestra_mcp.oauth.services import oauth_revoke_account_tokens
from maestra_mcp.session_logs.tasks import enqueue_account_purge
from permissions.services import mcp_access_apply_role_default


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


@transaction.atomic
def account_set_mcp_enabled(*, account: Account, enabled: bool) -> bool:
    """Switch the account's MCP feature flag; returns whether anything changed.

    The row is locked so two CSMs toggling at once both see a consistent value.
    """
    locked = Account.objects.select_for_update().get(pk=account.pk)
    if locked.mcp_enabled == enabled:
        return False
    locked.mcp_enabled = enabled
    locked.save(update_fields=["mcp_enabled"])
    account.mcp_enabled = enabled
    return True


@transaction.atomic
def account_offboard(*, account: Account, acting_user: AbstractBaseUser) -> bool:
    """Offboard an account: no more MCP, no more tokens, and its session logs purged.

    In one transaction: sets ``offboarded_at``, switches MCP off, revokes every
    OAuth access token, refresh token and grant bound to the account's MCP URL,
    and writes an admin-log entry for ``acting_user``. The session-log purge is
    enqueued only after commit, so the worker sees the account as offboarded;
    if the broker is unreachable the commit still stands and the periodic
    sweeper enqueues the purge later.

    Returns False (and only re-enqueues the purge) when the account was already
    offboarded, so running it twice is harmless.
    """
    locked = Account.objects.select_for_update().get(pk=account.pk)
    changed = locked.offboarded_at is None
    if changed:
        locked.offboarded_at = timezone.now()
        locked.mcp_enabled = False
        locked.save(update_fields=["offboarded_at", "mcp_enabled"])
    revoked = oauth_revoke_account_tokens(account=locked)
    if changed:
        LogEntry.objects.log_actions(
            user_id=acting_user.pk,
            queryset=[locked],
            action_flag=CHANGE,
            change_message=(
                f"Offboarded: MCP switched off, {revoked} OAuth token(s) and grant(s) "
                "revoked, session-log purge enqueued."
            ),
            single_object=True,
        )
    transaction.on_commit(partial(enqueue_account_purge, locked.pk))
    account.offboarded_at = locked.offboarded_at
    account.mcp_enabled = locked.mcp_enabled
    return changed
