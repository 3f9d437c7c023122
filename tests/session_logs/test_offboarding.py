"""Offboarding, the purges and the sweeper — in-process (the tasks run eagerly).

The same flows against a real broker and worker are in test_worker.py.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from accounts.models import Account
from maestra_mcp.offboarding import account_offboard
from maestra_mcp.session_logs.models import McpSessionLog
from maestra_mcp.session_logs.selectors import accounts_awaiting_purge
from maestra_mcp.session_logs.services import session_log_purge_account, session_log_purge_expired
from maestra_mcp.session_logs.tasks import session_logs_sweep_offboarded
from permissions.policy import Reason, mcp_access_decision
from tests.support.session_logs import issue_tokens, make_logs, record

pytestmark = pytest.mark.django_db


def log_count(account) -> int:
    return McpSessionLog.objects.for_account(account).count()


@pytest.fixture
def small_batches(settings):
    settings.MCP_SESSION_LOG_PURGE_BATCH_SIZE = 3


def test_offboarding_revokes_switches_off_audits_and_purges(
    cast, claude_app, small_batches, django_capture_on_commit_callbacks
):
    analyst = cast.user("analyst@acme.test")
    acme_tokens = issue_tokens(account=cast.acme, user=analyst, application=claude_app)
    agency = cast.user("agency@partner.test")
    globex_tokens = issue_tokens(account=cast.globex, user=agency, application=claude_app)
    make_logs(cast.acme, 10)
    make_logs(cast.globex, 4)
    csm = cast.user("csm@maestra.test")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert account_offboard(account=cast.acme, acting_user=csm) is True
    assert len(callbacks) == 1  # the purge is enqueued only once committed

    acme = Account.objects.get(pk=cast.acme.pk)
    assert acme.offboarded_at is not None and acme.mcp_enabled is False
    assert mcp_access_decision(user=analyst, account=acme).reason is Reason.ACCOUNT_UNAVAILABLE
    # Every token and grant bound to acme is gone; globex's are untouched.
    assert not get_access_token_model().objects.filter(pk=acme_tokens["access"].pk).exists()
    assert not get_grant_model().objects.filter(pk=acme_tokens["grant"].pk).exists()
    assert get_refresh_token_model().objects.get(pk=acme_tokens["refresh"].pk).revoked
    assert get_access_token_model().objects.filter(pk=globex_tokens["access"].pk).exists()
    assert get_grant_model().objects.filter(pk=globex_tokens["grant"].pk).exists()
    assert get_refresh_token_model().objects.get(pk=globex_tokens["refresh"].pk).revoked is None
    # Purged (eagerly, no broker configured), completion recorded; globex untouched.
    assert (log_count(acme), log_count(cast.globex)) == (0, 4)
    assert acme.session_logs_purged_count == 10
    assert acme.session_logs_purged_at >= acme.offboarded_at
    (entry,) = LogEntry.objects.filter(object_id=str(acme.pk))
    assert entry.user == csm
    assert "Offboarded" in entry.change_message and "3 OAuth token(s)" in entry.change_message


def test_offboarding_twice_changes_nothing_but_purges_again(
    cast, django_capture_on_commit_callbacks
):
    csm = cast.user("csm@maestra.test")
    with django_capture_on_commit_callbacks(execute=True):
        account_offboard(account=cast.acme, acting_user=csm)
    first = Account.objects.get(pk=cast.acme.pk)
    make_logs(cast.acme, 2)  # e.g. a row that raced the offboarding
    with django_capture_on_commit_callbacks(execute=True):
        assert account_offboard(account=cast.acme, acting_user=csm) is False
    again = Account.objects.get(pk=cast.acme.pk)
    assert again.offboarded_at == first.offboarded_at
    assert (log_count(again), again.session_logs_purged_count) == (0, 2)
    assert LogEntry.objects.filter(object_id=str(cast.acme.pk)).count() == 1


def test_offboarded_account_gets_no_new_logs(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        account_offboard(account=cast.acme, acting_user=cast.user("csm@maestra.test"))
    assert record(cast.acme, method="tools/call") is None
    assert log_count(cast.acme) == 0


def test_purge_deletes_in_bounded_batches(cast, small_batches):
    make_logs(cast.acme, 10)
    Account.objects.filter(pk=cast.acme.pk).update(offboarded_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        assert session_log_purge_account(account_id=cast.acme.pk) == 10
    deletes = [q["sql"] for q in queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 4  # 3 + 3 + 3 + 1
    assert session_log_purge_account(account_id=cast.acme.pk) == 0  # idempotent
    assert Account.objects.get(pk=cast.acme.pk).session_logs_purged_count == 10


def test_purge_refuses_a_served_account(cast):
    make_logs(cast.acme, 3)
    assert session_log_purge_account(account_id=cast.acme.pk) is None
    assert log_count(cast.acme) == 3
    assert session_log_purge_account(account_id=999_999) is None


def test_retention_deletes_exactly_the_rows_past_the_cutoff(cast, settings, small_batches):
    settings.MCP_SESSION_LOG_RETENTION_DAYS = 30
    now = timezone.now()
    cutoff = now - timedelta(days=30)
    make_logs(cast.acme, 4, created_at=cutoff - timedelta(seconds=1))
    make_logs(cast.globex, 3, created_at=cutoff - timedelta(days=400))
    make_logs(cast.acme, 2, created_at=cutoff)  # exactly at the cut-off: kept
    make_logs(cast.globex, 5, created_at=cutoff + timedelta(seconds=1))
    expected_kept = set(
        McpSessionLog.objects.unscoped().filter(created_at__gte=cutoff).values_list("pk", flat=True)
    )
    assert len(expected_kept) == 7

    assert session_log_purge_expired(now=now) == 7
    assert set(McpSessionLog.objects.unscoped().values_list("pk", flat=True)) == expected_kept


def test_sweeper_enqueues_every_offboarded_account_not_fully_purged(cast):
    other = Account.objects.create(system_name="initech", name="Initech")
    make_logs(cast.acme, 2)
    make_logs(cast.globex, 2)
    make_logs(other, 2)
    now = timezone.now()
    # acme: offboarded, purge lost. globex: offboarded and purged, nothing left.
    Account.objects.filter(pk=cast.acme.pk).update(offboarded_at=now)
    Account.objects.filter(pk=cast.globex.pk).update(
        offboarded_at=now, session_logs_purged_at=now, session_logs_purged_count=0
    )
    McpSessionLog.objects.for_account(cast.globex).delete()
    assert list(accounts_awaiting_purge()) == [Account.objects.get(pk=cast.acme.pk)]

    assert session_logs_sweep_offboarded.apply().get() == 1  # runs the purges eagerly
    assert (log_count(cast.acme), log_count(other)) == (0, 2)
    assert list(accounts_awaiting_purge()) == []


def test_offboard_command(cast, django_capture_on_commit_callbacks, capsys):
    make_logs(cast.acme, 3)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("offboard_account", "acme", acting_user="csm@maestra.test", interactive=False)
    assert "Offboarded acme" in capsys.readouterr().out
    assert log_count(cast.acme) == 0
    with django_capture_on_commit_callbacks(execute=True):
        call_command("offboard_account", "acme", acting_user="csm@maestra.test", interactive=False)
    assert "already offboarded" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("system_name", "acting_user", "message"),
    [
        ("nope", "csm@maestra.test", "No account"),
        ("acme", "owner@acme.test", "No staff user"),  # not staff
        ("acme", "ghost@example.test", "No staff user"),
    ],
)
def test_offboard_command_refuses_bad_input(cast, system_name, acting_user, message):
    with pytest.raises(CommandError, match=message):
        call_command("offboard_account", system_name, acting_user=acting_user, interactive=False)
    assert Account.objects.get(pk=cast.acme.pk).offboarded_at is None


def test_offboard_command_shows_the_plan_and_offboards_on_yes(
    cast, monkeypatch, capsys, caplog, django_capture_on_commit_callbacks
):
    make_logs(cast.acme, 3)
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    with django_capture_on_commit_callbacks(execute=True):  # the purge is enqueued on commit
        call_command("offboard_account", "acme", acting_user="csm@maestra.test")
    out = capsys.readouterr().out
    assert "Offboard acme (" in out
    assert "switch MCP off (now on)" in out
    assert "purge its 3 MCP session log(s)" in out
    assert "Offboarded acme" in out
    assert Account.objects.get(pk=cast.acme.pk).offboarded_at is not None
    assert log_count(cast.acme) == 0
    # The eager purge enqueue no longer makes kombu warn about a broker without a host.
    assert not [r for r in caplog.records if "No hostname" in r.getMessage()]


@pytest.mark.parametrize("answer", ["no\n", "\n", ""])  # "" is a closed stdin
def test_offboard_command_changes_nothing_unless_confirmed(cast, monkeypatch, answer):
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    with pytest.raises(CommandError, match="cancelled"):
        call_command("offboard_account", "acme", acting_user="csm@maestra.test")
    assert Account.objects.get(pk=cast.acme.pk).offboarded_at is None
    assert Account.objects.get(pk=cast.acme.pk).mcp_enabled
