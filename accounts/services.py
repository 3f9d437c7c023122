"""Writes to accounts.

Adding a member or changing their role also decides their MCP Access, so those
services live a layer up: ``permissions.services.membership_create``.
"""

from __future__ import annotations

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from accounts.models import Account


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
def account_mcp_feature_switch(
    *, account: Account, enabled: bool, acting_user: AbstractBaseUser
) -> bool:
    """A CSM switches the account's MCP feature; the change lands in the admin log.

    The admin (toggle and bulk actions) and the platform API both call this, so
    every switch leaves the same History entry. Returns whether anything changed
    (switching to the current state writes nothing).
    """
    changed = account_set_mcp_enabled(account=account, enabled=enabled)
    if changed:
        state = "enabled" if enabled else "disabled"
        account_log_change(
            account=account, acting_user=acting_user, message=f"MCP feature {state}."
        )
    return changed


@transaction.atomic
def account_mark_offboarded(*, account: Account) -> bool:
    """Set ``offboarded_at`` and switch MCP off; returns whether anything changed.

    Only the account's own state. Revoking its OAuth tokens and purging its
    session logs belong to the MCP layer: ``maestra_mcp.offboarding.account_offboard``
    calls this inside its own transaction, so the row lock taken here is held
    until the tokens are revoked too. An account already offboarded is left as is.
    """
    locked = Account.objects.select_for_update().get(pk=account.pk)
    changed = locked.offboarded_at is None
    if changed:
        locked.offboarded_at = timezone.now()
        locked.mcp_enabled = False
        locked.save(update_fields=["offboarded_at", "mcp_enabled"])
    account.offboarded_at = locked.offboarded_at
    account.mcp_enabled = locked.mcp_enabled
    return changed


def account_log_change(*, account: Account, acting_user: AbstractBaseUser, message: str) -> None:
    """Record a change made to ``account`` by ``acting_user`` in Django's admin log
    (the account's History in the admin), where CSMs look for who did what."""
    LogEntry.objects.log_actions(
        user_id=acting_user.pk,
        queryset=[account],
        action_flag=CHANGE,
        change_message=message,
        single_object=True,
    )
