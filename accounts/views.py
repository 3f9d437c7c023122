"""The page after login: the accounts the visitor belongs to.

The member and Owner pages of one account combine account data with MCP,
OAuth and session-log data, so they live in ``maestra_mcp.account_pages``.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import is_csm
from accounts.selectors import accounts_served, memberships_of_user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """After login: the accounts the member belongs to; for a CSM, every account they manage."""
    user = request.user
    return render(
        request,
        "accounts/home.html",
        {
            "memberships": memberships_of_user(user=user),
            "managed_accounts": accounts_served() if is_csm(user) else None,
        },
    )
