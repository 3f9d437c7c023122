"""Celery tasks for session logs: thin adapters over the services.

Tasks take ids, are idempotent, acknowledge late (a worker killed mid-purge
leaves the message on the broker to be redelivered) and retry with exponential
backoff on database and broker errors. Whatever still slips through — a task
lost with the broker, retries exhausted — the periodic sweeper re-enqueues.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError

from maestra_mcp.session_logs import services
from maestra_mcp.session_logs.selectors import accounts_awaiting_purge

logger = logging.getLogger(__name__)

_TRANSIENT = (OperationalError, InterfaceError, BrokerOperationalError)
_RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": _TRANSIENT,
    "retry_backoff": True,  # 1 s, 2 s, 4 s … with full jitter
    "retry_backoff_max": 300,
    "max_retries": 10,  # then the hourly sweeper takes over
    "ignore_result": True,
}


@shared_task(name="session_logs.purge_account", **_RETRY)
def session_logs_purge_account(account_id: int) -> int | None:
    return services.session_log_purge_account(account_id=account_id)


@shared_task(name="session_logs.purge_expired", **_RETRY)
def session_logs_purge_expired() -> int:
    return services.session_log_purge_expired()


@shared_task(name="session_logs.sweep_offboarded", **_RETRY)
def session_logs_sweep_offboarded() -> int:
    """Re-enqueue the purge of every offboarded account not yet fully purged."""
    account_ids = list(accounts_awaiting_purge().values_list("pk", flat=True))
    for account_id in account_ids:
        session_logs_purge_account.delay(account_id)
    if account_ids:
        logger.info("Sweeper re-enqueued the purge of account(s) %s", account_ids)
    return len(account_ids)


def enqueue_account_purge(account_id: int) -> bool:
    """Send the purge to the broker; on failure log it and leave it to the sweeper.

    Called from ``transaction.on_commit`` by offboarding, after the account is
    committed as offboarded: an unreachable broker must not undo or fail that.
    The publish itself retries briefly (kombu's retry policy) first.
    """
    try:
        session_logs_purge_account.apply_async(
            args=[account_id],
            retry=True,
            retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5},
        )
    except Exception:
        logger.exception(
            "Could not enqueue the session-log purge of account %s; "
            "the periodic sweeper will retry it",
            account_id,
        )
        return False
    return True
