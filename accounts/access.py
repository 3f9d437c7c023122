"""Tenant resolution for every page that carries an account in its URL.

Each view under ``/accounts/<system_name>/…`` is wrapped by exactly one of
:func:`account_member_required` or :func:`account_owner_required`. The wrapper
resolves the account once, decides who the visitor is to it and calls the view
as ``view(request, access=AccountAccess(...), **rest)``. Views never look the
account up themselves, and ``tests/accounts/test_access.py`` walks the URL
patterns to prove every account URL goes through here.

An unknown account, an offboarded one and one the visitor has no business
seeing all give the same 404, so the pages never reveal which accounts exist.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from accounts.models import Account, Membership, Role
from accounts.selectors import account_served

# Customer Success Managers are staff holding this permission; they may look
# at and manage every served account's MCP pages without being members.
CSM_PERMISSION = "accounts.change_mcp_feature"

# Set on every wrapped view; the URL-walking test looks for it.
ACCOUNT_ACCESS_ATTRIBUTE = "account_access_required"

MESSAGE_OWNERS_ONLY = "Only the account's Owners can manage team access."


@dataclass(frozen=True)
class AccountAccess:
    """Who the visitor is to the account: a member (with a role), a CSM, or both."""

    account: Account
    membership: Membership | None
    is_csm: bool

    @property
    def is_owner(self) -> bool:
        return self.membership is not None and self.membership.role == Role.OWNER

    @property
    def can_manage(self) -> bool:
        """May change the team's MCP Access and brand restrictions."""
        return self.is_owner or self.is_csm


def is_csm(user) -> bool:
    """A Customer Success Manager: staff holding :data:`CSM_PERMISSION`."""
    return user.is_active and user.is_staff and user.has_perm(CSM_PERMISSION)


def account_access_resolve(*, user, system_name: str) -> AccountAccess:
    """Who ``user`` is to the account named ``system_name``; Http404 when it is not theirs.

    The one tenant decision for pages and the platform API (``maestra_mcp.api``):
    unknown, offboarded and not-yours accounts raise the same Http404.
    """
    account = account_served(system_name=system_name)
    if account is None:
        raise Http404
    membership = (
        Membership.objects.filter(account=account, user=user, is_active=True)
        .select_related("user")
        .first()
    )
    csm = is_csm(user)
    if membership is None and not csm:
        # Same answer as for an unknown account: don't reveal that it exists.
        raise Http404
    return AccountAccess(account=account, membership=membership, is_csm=csm)


def _account_view(view: Callable[..., HttpResponse], *, owners_only: bool):
    @functools.wraps(view)
    def wrapped(request: HttpRequest, system_name: str, **kwargs) -> HttpResponse:
        access = account_access_resolve(user=request.user, system_name=system_name)
        if owners_only and not access.can_manage:
            raise PermissionDenied(MESSAGE_OWNERS_ONLY)
        return view(request, access=access, **kwargs)

    setattr(wrapped, ACCOUNT_ACCESS_ATTRIBUTE, "owner" if owners_only else "member")
    # login_required outermost: an anonymous visitor is sent to log in, and the
    # account is only resolved for an authenticated (active) user.
    return login_required(wrapped)


def account_member_required(view: Callable[..., HttpResponse]):
    """Active members of the account and CSM staff; everyone else gets 404."""
    return _account_view(view, owners_only=False)


def account_owner_required(view: Callable[..., HttpResponse]):
    """Like :func:`account_member_required`, and other members get 403."""
    return _account_view(view, owners_only=True)
