"""Writes to OAuth tokens and grants."""

from __future__ import annotations

from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from accounts.models import Account


def _bound_to(model, url: str):
    """Rows of ``model`` whose RFC 8707 ``resource`` list contains exactly ``url``.

    ``icontains`` narrows the rows portably (JSON containment is PostgreSQL-only);
    the exact membership test then drops look-alikes such as ``…/mcp/acme2``.
    """
    candidates = model.objects.filter(resource__icontains=url)
    return [row for row in candidates if url in (row.resource or [])]


def oauth_revoke_account_tokens(*, account: Account) -> int:
    """Revoke every access token, refresh token and grant bound to the account's MCP URL.

    Returns how many were revoked. Access tokens and unredeemed grants are
    deleted (DOT's own ``revoke()`` for them); refresh tokens go through DOT's
    ``revoke()``, which marks them revoked so reuse is detected.
    """
    url = account.mcp_url
    revoked = 0
    # Access tokens first: a refresh token's revoke() would delete its access
    # token silently, and every credential should be counted in the audit.
    for access_token in _bound_to(get_access_token_model(), url):
        access_token.delete()
        revoked += 1
    for refresh_token in _bound_to(get_refresh_token_model(), url):
        if refresh_token.revoked is None:
            refresh_token.revoke()
            revoked += 1
    for grant in _bound_to(get_grant_model(), url):
        grant.delete()
        revoked += 1
    return revoked
