"""Who a tool call is for: the account of the URL and the user of the bearer token.

The endpoint resolves both (token → policy) before the SDK sees the request and
stores them in the ASGI scope; the SDK hands that scope to tool handlers as
``ctx.request``, in both protocol eras.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from mcp.server import ServerRequestContext
from oauth2_provider.models import AccessToken

from accounts.models import Account

SCOPE_KEY = "maestra.mcp_principal"


@dataclass(frozen=True)
class McpPrincipal:
    account: Account
    user: AbstractBaseUser
    access_token: AccessToken  # DOT's row (with its application), never the token text


def request_principal(ctx: ServerRequestContext[Any, Any]) -> McpPrincipal:
    """The principal the endpoint authorised for this request.

    Raises ``LookupError`` when the request did not come through the endpoint
    (e.g. an in-process client): tools never run without an authorised principal.
    """
    request = ctx.request
    principal = request.scope.get(SCOPE_KEY) if request is not None else None
    if not isinstance(principal, McpPrincipal):
        raise LookupError("MCP request reached a tool without an authorised principal")
    return principal
