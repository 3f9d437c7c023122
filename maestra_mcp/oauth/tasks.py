"""Periodic OAuth housekeeping (scheduled in settings.CELERY_BEAT_SCHEDULE): thin adapters."""

from __future__ import annotations

import io
import logging

from celery import shared_task
from django.conf import settings
from django.core.management import call_command
from django.db import InterfaceError, OperationalError
from oauth2_provider.models import clear_expired

from maestra_mcp.oauth.services import oauth_exchanged_codes_clear, oauth_stale_clients_remove

logger = logging.getLogger(__name__)

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
    tokens), the exchanged-code records past their retention, and DOT's
    ``clearcimdapplications``: CIMD clients whose document's cache lifetime ended
    and that hold no token or grant (a client's next request fetches it again)."""
    clear_expired()
    oauth_exchanged_codes_clear()
    report = io.StringIO()  # the command prints its count; a worker logs it instead
    call_command("clearcimdapplications", stdout=report)
    logger.info("%s", report.getvalue().strip())
