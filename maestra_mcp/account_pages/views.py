"""Pages for account members and Owners: account data beside MCP usage and connections.

They sit in the MCP layer because they read OAuth connections and session logs,
which ``accounts/`` may not import (the contract in pyproject.toml).

Every view with an account in its URL is wrapped by ``accounts.access``, which
resolves the account (404 for unknown, offboarded and not-yours alike) and
passes ``access`` in; views never look the account up themselves.
"""

import base64
import json
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import AccountAccess, account_member_required, account_owner_required
from accounts.selectors import account_membership_get, account_team
from maestra_mcp.account_pages import help as help_page
from maestra_mcp.oauth.selectors import oauth_connections
from maestra_mcp.oauth.services import oauth_revoke_connection
from maestra_mcp.session_logs.selectors import session_log_last_request_by_user
from permissions.brand_scope import MESSAGE_RESTRICTED_BY_DELETED_BRAND, brand_restriction_set
from permissions.forms import BrandRestrictionForm, McpAccessForm
from permissions.policy import mcp_access_decision
from permissions.selectors import (
    brand_restriction_changes_recent,
    brand_restrictions,
    brand_restrictions_on_deleted_brands,
    mcp_access_changes_recent,
    mcp_access_is_last_owner,
    mcp_access_user_ids,
)
from permissions.services import mcp_access_grant, mcp_access_revoke
from reporting.models import Brand


def _cursor_config(*, server_name: str, url: str) -> tuple[str, str]:
    """Cursor's ``mcp.json`` snippet and its documented one-click install deeplink."""
    server = {"url": url}
    snippet = json.dumps({"mcpServers": {server_name: server}}, indent=2)
    config = base64.b64encode(json.dumps(server).encode()).decode()
    query = urlencode({"name": server_name, "config": config})
    return snippet, f"cursor://anysphere.cursor-deeplink/mcp/install?{query}"


@account_member_required
def mcp_settings(request: HttpRequest, *, access: AccountAccess) -> HttpResponse:
    """The connect page: the help page's steps with this account's URL, status, privacy."""
    account = access.account
    decision = mcp_access_decision(user=request.user, account=account)
    answered, troubleshooting = help_page.troubleshooting_for(decision.reason)
    server_name = help_page.claude_code_server_name(account.system_name)
    cursor_snippet, cursor_deeplink = _cursor_config(server_name=server_name, url=account.mcp_url)
    return render(
        request,
        "accounts/mcp_settings.html",
        {
            "access": access,
            "account": account,
            "decision": decision,
            "retention_days": settings.MCP_SESSION_LOG_RETENTION_DAYS,
            "connections": oauth_connections(account=account, user=request.user),
            "server_name": server_name,
            "claude_code_command": f"claude mcp add --transport http {server_name} "
            f"{account.mcp_url}",
            "cursor_snippet": cursor_snippet,
            "cursor_deeplink": cursor_deeplink,
            "troubleshooting": troubleshooting,
            "troubleshooting_answered": answered,
            "anthropic_guide_url": help_page.ANTHROPIC_GUIDE_URL,
            "openai_docs_url": help_page.OPENAI_DOCS_URL,
            "cursor_docs_url": help_page.CURSOR_DOCS_URL,
        },
    )


@require_POST
@account_member_required
def mcp_connection_revoke(
    request: HttpRequest, *, access: AccountAccess, application_id: int
) -> HttpResponse:
    """End one of the visitor's own assistant connections to the account."""
    revoked = oauth_revoke_connection(
        account=access.account,
        user=request.user,
        application_id=application_id,
        acting_user=request.user,
    )
    if revoked:
        messages.success(
            request, "Assistant disconnected. It must sign in again to reach this account."
        )
    else:
        messages.info(request, "That assistant was not connected any more.")
    return redirect("accounts:mcp_settings", system_name=access.account.system_name)


@account_owner_required
def team(request: HttpRequest, *, access: AccountAccess) -> HttpResponse:
    """Owners (and CSMs): every member's role and MCP Access, with the switches."""
    account = access.account
    holders = mcp_access_user_ids(account=account)
    last_requests = session_log_last_request_by_user(account=account)
    brands = list(Brand.objects.for_account(account))
    restrictions = brand_restrictions(account=account, brands=brands)
    on_deleted_brands = brand_restrictions_on_deleted_brands(account=account)
    members = [
        (
            m,
            m.user_id in holders,
            last_requests.get(m.user_id),
            restrictions.get(m.user_id, set()),
            m.user_id in on_deleted_brands,
        )
        for m in account_team(account=account)
    ]
    return render(
        request,
        "accounts/team.html",
        {
            "access": access,
            "account": access.account,
            "members": members,
            "changes": mcp_access_changes_recent(account=access.account),
            "brands": brands,
            "brand_changes": brand_restriction_changes_recent(account=access.account),
            "message_restricted_by_deleted_brand": MESSAGE_RESTRICTED_BY_DELETED_BRAND,
            "retention_days": settings.MCP_SESSION_LOG_RETENTION_DAYS,
        },
    )


@require_POST
@account_owner_required
def team_mcp_access(
    request: HttpRequest, *, access: AccountAccess, membership_id: int
) -> HttpResponse:
    """Switch one member's MCP Access; the last Owner's revoke needs a confirmation."""
    account = access.account
    membership = account_membership_get(account=account, membership_id=membership_id)
    if membership is None:
        raise Http404
    form = McpAccessForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid MCP Access change.")
    granted, confirmed = form.cleaned_data["granted"], form.cleaned_data["confirm"]
    member = membership.user
    if granted == (member.pk in mcp_access_user_ids(account=account)):
        messages.info(request, f"{member.get_username()} already has that MCP Access setting.")
        return redirect("accounts:team", system_name=account.system_name)
    if not granted and not confirmed and mcp_access_is_last_owner(account=account, user=member):
        return render(
            request,
            "accounts/team_confirm_revoke.html",
            {"access": access, "account": account, "membership": membership},
        )
    service = mcp_access_grant if granted else mcp_access_revoke
    service(account=account, user=member, acting_user=request.user)
    state = "granted to" if granted else "revoked for"
    messages.success(
        request,
        f"MCP Access {state} {member.get_username()}. "
        "It takes effect on their assistant's next request.",
    )
    return redirect("accounts:team", system_name=account.system_name)


@require_POST
@account_owner_required
def team_brands(request: HttpRequest, *, access: AccountAccess, membership_id: int) -> HttpResponse:
    """Limit one member's reports to some brands; none selected lifts the restriction."""
    account = access.account
    membership = account_membership_get(account=account, membership_id=membership_id)
    if membership is None:
        raise Http404
    form = BrandRestrictionForm(request.POST, account=account)
    if not form.is_valid():
        return HttpResponseBadRequest("Choose brands of this account.")
    brands = form.cleaned_data["brands"]
    brand_restriction_set(
        account=account, user=membership.user, brands=brands, acting_user=request.user
    )
    scope = ", ".join(sorted(b.name for b in brands)) or "every brand"
    messages.success(
        request,
        f"{membership.user.get_username()} now sees {scope} in reports, "
        "from their assistant's next request.",
    )
    return redirect("accounts:team", system_name=account.system_name)
