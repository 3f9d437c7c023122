"""Session-log rows and the OAuth tokens bound to an account, for the session-log tests."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
    set_token_value,
)

from maestra_mcp.session_logs.models import McpSessionLog
from maestra_mcp.session_logs.services import session_log_record


def issue_tokens(*, account, user, application) -> dict:
    """An access token, its refresh token and a pending grant, all bound to ``account``.

    Returns the raw token strings too, so tests can prove they are stored nowhere.
    """
    raw_access, raw_refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    resource = [account.mcp_url]
    expires = timezone.now() + timedelta(hours=1)
    access = get_access_token_model()(
        user=user,
        application=application,
        expires=expires,
        scope="reports:read",
        resource=resource,
    )
    set_token_value(access, raw_access)
    access.save()
    refresh = get_refresh_token_model()(
        user=user, application=application, access_token=access, resource=resource
    )
    set_token_value(refresh, raw_refresh)
    refresh.save()
    grant = get_grant_model().objects.create(
        user=user,
        application=application,
        code=secrets.token_urlsafe(16),
        expires=expires,
        redirect_uri="https://claude.ai/api/mcp/auth_callback",
        scope="reports:read",
        resource=resource,
        code_challenge="x" * 43,
        code_challenge_method="S256",
    )
    return {
        "access": access,
        "refresh": refresh,
        "grant": grant,
        "raw_access": raw_access,
        "raw_refresh": raw_refresh,
    }


def make_logs(account, n: int, *, created_at=None) -> None:
    """``n`` plain tools/call rows for ``account`` (bulk, bypassing the service)."""
    McpSessionLog.objects.unscoped().bulk_create(
        McpSessionLog(
            account=account,
            method="tools/call",
            tool_name="campaign_report",
            params={"i": i},
            status=McpSessionLog.Status.SUCCESS,
            created_at=created_at or timezone.now(),
        )
        for i in range(n)
    )


def record(account, **kwargs):
    kwargs.setdefault("status", McpSessionLog.Status.SUCCESS)
    return session_log_record(account=account, **kwargs)
