"""Writes to OAuth clients, tokens and grants."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_refresh_token_model,
    refresh_token_expire_timedelta,
)
from oauth2_provider.settings import oauth2_settings

from accounts.models import Account
from accounts.services import account_log_change
from maestra_mcp.oauth.models import EXCHANGED_CODE_RETENTION, ExchangedCode
from maestra_mcp.oauth.selectors import bound_to


def _revoke(*, url: str, scope: dict) -> int:
    """Revoke the access tokens, refresh tokens and grants bound to ``url`` within ``scope``."""
    revoked = 0
    # Access tokens first: a refresh token's revoke() would delete its access
    # token silently, and every credential should be counted in the audit.
    for access_token in bound_to(get_access_token_model().objects.filter(**scope), url):
        access_token.delete()
        revoked += 1
    for refresh_token in bound_to(get_refresh_token_model().objects.filter(**scope), url):
        if refresh_token.revoked is None:
            refresh_token.revoke()  # marked, not deleted, so a replay is recognised
            revoked += 1
    for grant in bound_to(get_grant_model().objects.filter(**scope), url):
        grant.delete()
        revoked += 1
    return revoked


@transaction.atomic
def oauth_revoke_account_tokens(*, account: Account) -> int:
    """Revoke every access token, refresh token and grant bound to the account's MCP URL.

    Used by offboarding. Returns how many were revoked. Access tokens and
    unredeemed grants are deleted (what DOT's own ``revoke()`` does for them);
    refresh tokens go through DOT's ``revoke()``, which marks them revoked.
    """
    return _revoke(url=account.mcp_url, scope={})


@transaction.atomic
def oauth_revoke_connection(
    *,
    account: Account,
    user: AbstractBaseUser,
    application_id: int,
    acting_user: AbstractBaseUser,
) -> int:
    """End one member's connection of one client to one account; returns tokens revoked.

    Whether ``acting_user`` may do this (the member themself, an Owner or a
    CSM of the account) is the page's decision, through ``accounts.access``.
    The change is recorded in the admin log of the account.
    """
    revoked = _revoke(url=account.mcp_url, scope={"user": user, "application_id": application_id})
    if revoked:
        application = get_application_model().objects.filter(pk=application_id).first()
        client = (application.name or application.client_id) if application else application_id
        account_log_change(
            account=account,
            acting_user=acting_user,
            message=(
                f"Revoked the connection of {client!s} for {user.get_username()} "
                f"({revoked} OAuth token(s) and grant(s))."
            ),
        )
    return revoked


@transaction.atomic
def oauth_stale_clients_remove(*, older_than_days: int) -> int:
    """Delete dynamically registered clients unused for ``older_than_days``.

    Claude registers a new client for every fresh connection ("DCR sprawl");
    clients nobody completed a connection with, or whose connections all ended
    long ago, only fill the table. A client is kept while it has a live access
    token, a refresh token that can still be used, or any token or grant
    activity within the period. Its own registration access token (RFC 7592,
    never expiring) does not count as use. Returns the number deleted.
    """
    now = timezone.now()
    cutoff = now - timedelta(days=older_than_days)
    access = get_access_token_model().objects.exclude(scope=oauth2_settings.DCR_REGISTRATION_SCOPE)
    refresh_alive = Q(revoked__isnull=True)
    if (lifetime := refresh_token_expire_timedelta()) is not None:
        refresh_alive &= Q(access_token__expires__gt=now - lifetime)
    in_use = (
        access.filter(Q(expires__gt=now) | Q(updated__gte=cutoff)).values("application_id"),
        get_refresh_token_model()
        .objects.filter(refresh_alive | Q(updated__gte=cutoff))
        .values("application_id"),
        get_grant_model().objects.filter(created__gte=cutoff).values("application_id"),
    )
    Application = get_application_model()
    stale = Application.objects.filter(
        registration_source=Application.RegistrationSource.DCR, created__lt=cutoff
    )
    for used in in_use:
        stale = stale.exclude(pk__in=used)
    stale_ids = list(stale.values_list("pk", flat=True))
    Application.objects.filter(pk__in=stale_ids).delete()  # cascades to tokens and grants
    return len(stale_ids)


def oauth_exchanged_codes_clear() -> int:
    """Delete the exchanged-code records past ``EXCHANGED_CODE_RETENTION``; the count."""
    cutoff = timezone.now() - EXCHANGED_CODE_RETENTION
    deleted, _ = ExchangedCode.objects.filter(created_at__lt=cutoff).delete()
    return deleted
