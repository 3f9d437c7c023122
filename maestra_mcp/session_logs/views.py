"""The Owner's read-only page of their account's session logs.

Owners are not Django staff, so they do not use the admin; this page goes
through ``accounts.access`` like every account page (404 for unknown,
offboarded and not-yours accounts alike; 403 for members who are not Owners).
Support staff holding the session-log permission may open it too.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import AccountAccess, account_owner_required
from maestra_mcp.session_logs.models import VIEW_PERMISSION, McpSessionLog
from maestra_mcp.session_logs.selectors import session_logs_of_account

PAGE_SIZE = 50
MESSAGE_LOGS_OWNERS_ONLY = "Only the account's Owners can read its MCP session logs."


class SessionLogFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *McpSessionLog.Status.choices], required=False
    )
    tool = forms.CharField(max_length=100, required=False)


@account_owner_required
def account_session_logs(request: HttpRequest, *, access: AccountAccess) -> HttpResponse:
    if not (access.is_owner or request.user.has_perm(VIEW_PERMISSION)):
        raise PermissionDenied(MESSAGE_LOGS_OWNERS_ONLY)
    form = SessionLogFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    logs = session_logs_of_account(
        account=access.account,
        status=filters.get("status", ""),
        tool_name=filters.get("tool", ""),
    )
    return render(
        request,
        "session_logs/account_logs.html",
        {
            "access": access,
            "account": access.account,
            "form": form,
            "page": Paginator(logs, PAGE_SIZE).get_page(request.GET.get("page")),
            "retention_days": settings.MCP_SESSION_LOG_RETENTION_DAYS,
        },
    )
