"""RFC 8707 resource indicators: which account a token is (to be) bound to.

Every token Maestra issues is bound to exactly one account's MCP URL
(``Account.mcp_url``, the one place it is built). This module is the one place that
maps a resource URI to an account; the validator, the consent page and the
revocation service all go through it.
"""

from __future__ import annotations

from django.conf import settings

from accounts.models import Account
from accounts.selectors import account_served


def account_for_resource(uri: str) -> Account | None:
    """The served account whose MCP URL is exactly ``uri``, or None.

    This is the resource allow-list: an existing account that is not offboarded.
    Whether its MCP flag is on or the user may use it is the access policy's
    question, asked at consent and on every MCP request, so the user sees the
    policy's own message instead of a bare ``invalid_target``.
    """
    # The URL ends with the system name; the exact comparison with the account's
    # own URL then rejects every other origin, path or normalised look-alike.
    system_name = uri.rpartition("/")[2]
    if not system_name or "\x00" in system_name:  # no system name holds NUL (PostgreSQL)
        return None
    account = account_served(system_name=system_name)
    if account is None or account.mcp_url != uri:
        return None
    return account


def is_server_resource(uri: str) -> bool:
    """True when ``uri`` names the whole server rather than one account.

    The root protected-resource metadata document advertises the bare public
    origin; a client that discovered us through it sends that as ``resource``.
    It is treated like an omitted ``resource``: the user picks one account on
    the consent page and the token is bound to that account only.
    """
    return uri.rstrip("/") == settings.MAESTRA_PUBLIC_URL
