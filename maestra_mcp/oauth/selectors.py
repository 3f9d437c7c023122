"""Reads about OAuth tokens: what is bound to an account, and the connections it makes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model, QuerySet
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from accounts.models import Account
from maestra_mcp.oauth.clients import ClientIdentity, client_identity


def bound_to(queryset: QuerySet, url: str) -> list[Model]:
    """Rows of ``queryset`` whose RFC 8707 ``resource`` list contains exactly ``url``.

    ``icontains`` narrows the rows portably (JSON containment is PostgreSQL-only);
    the exact membership test then drops look-alikes such as ``…/mcp/acme2``.
    """
    return [row for row in queryset.filter(resource__icontains=url) if url in (row.resource or [])]


@dataclass(frozen=True)
class Connection:
    """One assistant connected by one member to one account."""

    application_id: int
    client_name: str  # the name to show (a known assistant's own, else the one it gave)
    client: ClientIdentity  # verified, an app on the member's computer, or unverified
    user_id: int
    username: str
    created: datetime
    last_used: datetime


def oauth_connections(
    *, account: Account, user: AbstractBaseUser | None = None
) -> list[Connection]:
    """Live connections to ``account``: ``user``'s, or every member's when None.

    A connection is a (member, client) pair holding an unexpired access token or
    an unrevoked refresh token bound to the account's MCP URL. ``created`` is its
    earliest token; ``last_used`` the latest of a refresh or a recorded call
    (the validator bumps the access token's ``updated`` at most once a minute).
    Newest use first.
    """
    url = account.mcp_url
    now = timezone.now()
    scope = {"user": user} if user is not None else {}
    access = bound_to(
        get_access_token_model()
        .objects.filter(expires__gt=now, **scope)
        .select_related("application", "user"),
        url,
    )
    refresh = bound_to(
        get_refresh_token_model().objects.filter(**scope).select_related("application", "user"),
        url,
    )
    live = {(t.user_id, t.application_id) for t in access}
    live |= {(t.user_id, t.application_id) for t in refresh if t.revoked is None}
    grouped: dict[tuple[int, int], list] = {}
    for token in [*access, *refresh]:
        key = (token.user_id, token.application_id)
        if key in live:
            grouped.setdefault(key, []).append(token)

    connections = []
    for (user_id, application_id), tokens in grouped.items():
        application, member = tokens[0].application, tokens[0].user
        identity = client_identity(application)
        connections.append(
            Connection(
                application_id=application_id,
                client_name=identity.name,
                client=identity,
                user_id=user_id,
                username=member.get_username(),
                created=min(t.created for t in tokens),
                last_used=max(t.updated for t in tokens),
            )
        )
    return sorted(connections, key=lambda c: c.last_used, reverse=True)
