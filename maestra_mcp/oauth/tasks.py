"""Periodic OAuth housekeeping (scheduled in settings.CELERY_BEAT_SCHEDULE): thin adapters."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from oauth2_provider.models import clear_expired

from maestra_mcp.oauth.services import oauth_exchanged_codes_clear, oauth_stale_clients_remove

# Both are idempotent: a redelivered or retried run finds nothing left to do.
_RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "max_retries": 5,
    "ignore_result": True,
}


@shared_task(name="oauth.remove_stale_clients", **_RETRY)
def oauth_remove_stale_clients() -> int:
    return oauth_stale_clients_remove(older_than_days=settings.OAUTH_STALE_CLIENT_DAYS)


@shared_task(name="oauth.clear_expired_tokens", **_RETRY)
def oauth_clear_expired_tokens() -> None:
    """DOT's ``cleartokens`` (expired access tokens and grants, old revoked refresh
    tokens), and the exchanged-code records past their retention."""
    clear_expired()
    oauth_exchanged_codes_clear()
