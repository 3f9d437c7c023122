"""Offboarding: the one write that spans the account, its OAuth tokens and its session logs.

It lives here, not in ``accounts/``, because the domain apps may not import the
MCP and OAuth layers (the import contract in pyproject.toml); this layer may
import them all.
"""

from __future__ import annotations

from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from accounts.models import Account
from accounts.services import account_log_change, account_mark_offboarded
from maestra_mcp.oauth.services import oauth_revoke_account_tokens
from maestra_mcp.session_logs.tasks import enqueue_account_purge


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
    # Takes the row lock first and keeps it (same transaction) while the tokens
    # are revoked, so a concurrent token check or log writer sees either before
    # or after, never half an offboarding.
    changed = account_mark_offboarded(account=account)
    revoked = oauth_revoke_account_tokens(account=account)
    if changed:
        account_log_change(
            account=account,
            acting_user=acting_user,
            message=(
                f"Offboarded: MCP switched off, {revoked} OAuth token(s) and grant(s) "
                "revoked, session-log purge enqueued."
            ),
        )
    transaction.on_commit(partial(enqueue_account_purge, account.pk))
    return changed
