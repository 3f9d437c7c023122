"""Reads over session logs."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

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
