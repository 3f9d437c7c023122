"""The purge against a real broker and real ``celery worker`` processes.

Broker: Redis at TEST_REDIS_URL when set (always under CI), else kombu's
filesystem transport. Each test starts its own worker subprocess on the test
database, so data must be committed: ``transaction=True``. These tests are in the
slow tier (worker_process; tests/conftest.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import psycopg
import pytest
from django.utils import timezone

from accounts.models import Account
from maestra_mcp.offboarding import account_offboard
from maestra_mcp.session_logs.models import McpSessionLog
from maestra_mcp.session_logs.tasks import (
    session_logs_purge_expired,
    session_logs_sweep_offboarded,
)
from tests.session_logs import workers
from tests.support.session_logs import make_logs

pytestmark = pytest.mark.django_db(transaction=True)


def remaining(account) -> int:
    return McpSessionLog.objects.for_account(account).count()


def purge_finished(account, after=None):
    fresh = Account.objects.get(pk=account.pk)
    done = fresh.session_logs_purged_at is not None and (
        after is None or fresh.session_logs_purged_at > after
    )
    return fresh if done else None


def test_offboarding_purges_through_the_worker_and_reruns_idempotently(cast, celery_worker_process):
    make_logs(cast.acme, 25)
    make_logs(cast.globex, 5)
    csm = cast.user("csm@maestra.test")
    celery_worker_process(MCP_SESSION_LOG_PURGE_BATCH_SIZE=10)

    assert account_offboard(account=cast.acme, acting_user=csm) is True
    first = workers.wait_for(lambda: purge_finished(cast.acme), what="the purge")
    assert (remaining(cast.acme), remaining(cast.globex)) == (0, 5)
    assert first.session_logs_purged_count == 25

    assert account_offboard(account=cast.acme, acting_user=csm) is False
    again = workers.wait_for(
        lambda: purge_finished(cast.acme, after=first.session_logs_purged_at), what="the re-run"
    )
    assert again.session_logs_purged_count == 25
    assert (remaining(cast.acme), remaining(cast.globex)) == (0, 5)


def test_retention_runs_on_the_worker(cast, celery_worker_process, settings):
    old = timezone.now() - timedelta(days=settings.MCP_SESSION_LOG_RETENTION_DAYS, minutes=5)
    make_logs(cast.acme, 6, created_at=old)
    make_logs(cast.acme, 2)
    make_logs(cast.globex, 3, created_at=old)
    celery_worker_process(MCP_SESSION_LOG_PURGE_BATCH_SIZE=4)

    session_logs_purge_expired.delay()
    workers.wait_for(
        lambda: McpSessionLog.objects.unscoped().count() == 2, what="the retention purge"
    )
    assert (
        McpSessionLog.objects.unscoped()
        .filter(created_at__lt=timezone.now() - timedelta(days=1))
        .count()
        == 0
    )


def test_worker_killed_mid_purge_is_made_good(cast, broker, celery_worker_process):
    """SIGKILL the worker between batches; the purge still completes, counted exactly.

    Redis: the task was acknowledged late, so it is still on the broker and
    another worker receives it once the visibility timeout passes (see
    worker_settings.py for why the new worker's first scan may miss it). kombu's
    filesystem transport removes a message when it is received, so there the
    task is lost with the worker and the periodic sweeper re-enqueues it.
    """
    make_logs(cast.acme, 40)
    slow = {"MCP_SESSION_LOG_PURGE_BATCH_SIZE": 4, "MCP_SESSION_LOG_PURGE_BATCH_PAUSE_MS": 150}
    first = celery_worker_process(**slow)
    account_offboard(account=cast.acme, acting_user=cast.user("csm@maestra.test"))
    workers.wait_for(lambda: 0 < remaining(cast.acme) <= 32, what="the purge to be under way")
    first.kill()
    left = remaining(cast.acme)
    assert left > 0
    assert Account.objects.get(pk=cast.acme.pk).session_logs_purged_at is None

    second = celery_worker_process(**slow)
    if not broker.is_redis:
        session_logs_sweep_offboarded.delay()
    done = workers.wait_for(lambda: purge_finished(cast.acme), what="the redelivered purge")
    assert remaining(cast.acme) == 0
    assert done.session_logs_purged_count == 40  # counted per committed batch: exact
    if broker.is_redis:
        # Redelivered by the broker: nothing but the original task ran.
        assert "Task session_logs.purge_account[" in second.output
        assert "Task session_logs.sweep_offboarded[" not in second.output


def _hold_log_table_lock(db_url: str):
    """From another connection, lock the session-log table against the purge's writes."""
    table = McpSessionLog._meta.db_table
    holder = psycopg.connect(db_url.replace("postgres://", "postgresql://", 1))
    holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    return holder


def test_database_error_on_first_attempt_is_retried(cast, celery_worker_process):
    """A lock held elsewhere makes the first attempt fail (lock timeout); the task
    retries with backoff and completes once the lock is gone."""
    make_logs(cast.acme, 12)
    account_offboard(account=cast.acme, acting_user=cast.user("csm@maestra.test"))
    holder = _hold_log_table_lock(workers.database_url_for_workers())
    try:
        worker = celery_worker_process(
            MCP_SESSION_LOG_PURGE_BATCH_SIZE=5, MCP_SESSION_LOG_PURGE_LOCK_TIMEOUT_MS=300
        )
        worker.wait_for_output("Retry in", timeout=30)
    finally:
        holder.rollback()
        holder.close()
    done = workers.wait_for(lambda: purge_finished(cast.acme), what="the retried purge")
    assert (remaining(cast.acme), done.session_logs_purged_count) == (0, 12)
    assert "lock timeout" in worker.output


def test_broker_down_at_offboarding_then_sweeper_completes(
    cast, broker, celery_worker_process, caplog
):
    make_logs(cast.acme, 7)
    workers.point_app_at(url=workers.closed_port_url(), queue=broker.queue, transport_options={})
    with caplog.at_level(logging.ERROR):
        assert account_offboard(account=cast.acme, acting_user=cast.user("csm@maestra.test"))
    assert "Could not enqueue the session-log purge" in caplog.text
    account = Account.objects.get(pk=cast.acme.pk)
    assert account.offboarded_at is not None and not account.mcp_enabled  # committed anyway
    assert (remaining(account), account.session_logs_purged_at) == (7, None)

    # The broker is back; beat's hourly sweeper runs.
    workers.point_app_at(
        url=broker.url, queue=broker.queue, transport_options=broker.transport_options
    )
    celery_worker_process()
    session_logs_sweep_offboarded.delay()
    done = workers.wait_for(lambda: purge_finished(cast.acme), what="the swept purge")
    assert (remaining(cast.acme), done.session_logs_purged_count) == (0, 7)
