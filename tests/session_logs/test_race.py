"""A request's log write racing the offboarding: the row is either purged or never written."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from accounts.models import Account
from maestra_mcp.offboarding import account_offboard
from maestra_mcp.session_logs.models import McpSessionLog
from tests.support.session_logs import record


def in_thread(target) -> threading.Thread:
    def run():
        try:
            target()
        finally:
            connection.close()  # each thread has its own connection

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_offboarding_waits_for_an_in_flight_log_write_then_purges_it(cast):
    written, may_commit = threading.Event(), threading.Event()

    def slow_request():
        # The log write done, its transaction not yet committed (a slow commit).
        with transaction.atomic():
            assert record(cast.acme, method="tools/call") is not None
            written.set()
            may_commit.wait(10)

    writer = in_thread(slow_request)
    assert written.wait(10)
    offboarding = in_thread(
        lambda: account_offboard(account=cast.acme, acting_user=cast.user("csm@maestra.test"))
    )
    offboarding.join(0.5)
    assert offboarding.is_alive()  # held back by the writer's FOR KEY SHARE on the account
    may_commit.set()
    writer.join(10)
    offboarding.join(10)

    acme = Account.objects.get(pk=cast.acme.pk)
    assert acme.offboarded_at is not None
    # The purge ran after the write committed, so it caught the row.
    assert McpSessionLog.objects.for_account(acme).count() == 0
    assert acme.session_logs_purged_count == 1
    # And any write from now on is refused.
    assert record(cast.acme, method="tools/call") is None
