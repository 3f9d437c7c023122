"""The Owners' (and CSMs') view of every assistant connected to their account.

Members see and end their own connections on the account's MCP page
(``maestra_mcp.account_pages.views.mcp_settings``); this page shows everyone's, so an Owner can
cut off a connection without revoking the member's MCP Access altogether.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import AccountAccess, account_owner_required
from accounts.models import Membership
from maestra_mcp.oauth.selectors import oauth_connections
from maestra_mcp.oauth.services import oauth_revoke_connection


@account_owner_required
def account_connections(request: HttpRequest, *, access: AccountAccess) -> HttpResponse:
    return render(
        request,
        "oauth/connections.html",
        {
            "access": access,
            "account": access.account,
            "connections": oauth_connections(account=access.account),
        },
    )


@require_POST
@account_owner_required
def account_connection_revoke(
    request: HttpRequest, *, access: AccountAccess, user_id: int, application_id: int
) -> HttpResponse:
    # Any member, active or not: a deactivated member's tokens are worth ending too.
    membership = (
        Membership.objects.filter(account=access.account, user_id=user_id)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise Http404
    revoked = oauth_revoke_connection(
        account=access.account,
        user=membership.user,
        application_id=application_id,
        acting_user=request.user,
    )
    if revoked:
        messages.success(
            request,
            f"Disconnected the assistant of {membership.user.get_username()}. "
            "It is refused from its next request on.",
        )
    else:
        messages.info(request, "That assistant was no longer connected.")
    return redirect("oauth:account_connections", system_name=access.account.system_name)
