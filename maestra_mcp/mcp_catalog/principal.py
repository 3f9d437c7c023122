"""Who a tool call is for: the account of the URL and the user of the bearer token.

The endpoint (``maestra_mcp/mcp_server/``) resolves both, token and access policy
checked, before the SDK sees the request; every handler here receives it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from oauth2_provider.models import AccessToken

from accounts.models import Account


@dataclass(frozen=True)
class McpPrincipal:
    account: Account
    user: AbstractBaseUser
    access_token: AccessToken  # DOT's row (with its application), never the token text
