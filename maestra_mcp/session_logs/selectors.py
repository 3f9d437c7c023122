"""Reads over session logs."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from accounts.models import Account
from maestra_mcp.session_logs.models import McpSessionLog


def accounts_awaiting_purge() -> QuerySet[Account]:
    """Offboarded accounts whose purge never completed, or that still have logs.

    The second half catches a purge task lost with the broker and any row
    written by a request that raced the offboarding.
    """
    has_logs = Exists(McpSessionLog.objects.unscoped().filter(account_id=OuterRef("pk")))
    return Account.objects.filter(offboarded_at__isnull=False).filter(
        Q(session_logs_purged_at__isnull=True) | has_logs
    )


def session_log_last_request_by_user(*, account: Account) -> dict[int, datetime]:
    """When each member's assistant last reached ``account`` (within retention), one query."""
    rows = (
        McpSessionLog.objects.for_account(account)
        .filter(user__isnull=False)
        # A sign-in challenge carries no user anyway; said outright, it is not a request.
        .exclude(status=McpSessionLog.Status.SIGN_IN)
        .order_by()
        .values("user_id")
        .annotate(last=Max("created_at"))
    )
    return {row["user_id"]: row["last"] for row in rows}


def session_logs_of_account(
    *, account: Account, status: str = "", tool_name: str = ""
) -> QuerySet[McpSessionLog]:
    """The account's logs, newest first, optionally narrowed to one status or tool."""
    logs = McpSessionLog.objects.for_account(account).select_related("user")
    if status:
        logs = logs.filter(status=status)
    if tool_name:
        logs = logs.filter(tool_name=tool_name)
    return logs.order_by("-created_at", "-id")
