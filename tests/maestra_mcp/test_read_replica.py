"""Scale-out on real engines: reports read a PostgreSQL streaming replica, writes go to the primary.

A hot standby of the test server (tests/support/replica.py) is added as the
alias ``replica`` with the default alias's options, and REPORTING_DATABASE_ALIAS
points at it. Reports (the selectors and the MCP tool) must read there; stats
imports, OAuth and session logs must write to the primary (the replica refuses
writes, so a misrouted write would fail); a replica that is behind answers with
what it has, its provenance saying how far that reaches.
"""

from __future__ import annotations

import copy
from datetime import date

import anyio
import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connections
from django.test.utils import CaptureQueriesContext

from maestra_mcp.session_logs.models import McpSessionLog
from reporting.models import StatBase, StatsImport
from reporting.schemas import CampaignReportParams
from reporting.selectors.rows import reporting_db
from tests.support.mcp import ASGI_ORIGIN, asgi_http_client, running_app, sdk_client
from tests.support.oauth import connect
from tests.support.replica import streaming_replica, wait_replayed
from tests.support.reports import WINDOW, campaign_report_as, import_rows, week_row, week_rows

ALIAS = "replica"
ANALYST = "analyst@acme.test"
TODAY = date(2026, 2, 1)  # after the window: provenance is about the data, not today
# Every statistics table: a report reads whichever has the columns it needs.
STAT_TABLES = tuple(
    model._meta.db_table
    for model in apps.get_app_config("reporting").get_models()
    if issubclass(model, StatBase)
)

# The replica is a mirror of default: Django neither creates nor flushes a test
# database on it, and the tests may query it.
# The first test's time includes the base backup (minutes on a server holding GBs).
pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", ALIAS]),
    pytest.mark.timeout(900),
]


@pytest.fixture(scope="module")
def read_replica(django_db_setup, django_db_blocker):
    """The alias ``replica``: a streaming replica of the test server, the test database
    on it, with the default alias's options (work_mem, jit, pool). One per module:
    a base backup copies the whole server."""
    with django_db_blocker.unblock():
        primary = connections["default"].settings_dict
        with streaming_replica(primary) as replica:
            config = copy.deepcopy(primary)
            config.update(HOST="127.0.0.1", PORT=str(replica.port))
            config["TEST"] = {**config["TEST"], "MIRROR": "default"}
            # Django's connection handler reads settings.DATABASES itself.
            assert connections.settings is django_settings.DATABASES
            django_settings.DATABASES[ALIAS] = config
            try:
                yield ALIAS
            finally:
                connections[ALIAS].close_pool()  # every thread's connections, before stopping
                del connections[ALIAS]
                del django_settings.DATABASES[ALIAS]


@pytest.fixture
def reports_on_replica(read_replica, settings):
    settings.REPORTING_DATABASE_ALIAS = read_replica
    cache.clear()  # the OAuth registration throttle counts in the cache
    yield read_replica
    cache.clear()


def one(cursor, sql: str, params=()):
    cursor.execute(sql, params)
    return cursor.fetchone()[0]


def replayed() -> None:
    with connections[ALIAS].cursor() as replica, connections["default"].cursor() as primary:
        wait_replayed(replica, primary)


def report(cast):
    return campaign_report_as(
        account=cast.acme,
        user=cast.user(ANALYST),
        params=CampaignReportParams(**WINDOW),
        today=TODAY,
    )


def tool_report(cast, token: str) -> dict:
    """campaign_report through the MCP endpoint, as an assistant calls it."""

    async def go():
        async with (
            running_app() as app,
            asgi_http_client(app, token) as http,
            sdk_client(f"{ASGI_ORIGIN}/mcp/{cast.acme.system_name}", http, "legacy") as client,
        ):
            return await client.call_tool("campaign_report", WINDOW)

    result = anyio.run(go)
    assert not result.is_error, result.content
    return result.structured_content


def test_the_replica_connection_has_the_options_of_default(reports_on_replica, cast):
    assert reporting_db() == ALIAS
    replica = connections[ALIAS]
    assert replica.settings_dict["OPTIONS"] == connections["default"].settings_dict["OPTIONS"]
    assert "pool" in replica.settings_dict["OPTIONS"]
    with replica.cursor() as cursor:
        assert one(cursor, "SELECT pg_is_in_recovery()") is True
        assert (
            one(cursor, "SELECT current_database()") == connections["default"].settings_dict["NAME"]
        )
        assert one(cursor, "SHOW work_mem") == "32MB"
        assert one(cursor, "SHOW jit") == "off"
        assert one(cursor, "SHOW port") == replica.settings_dict["PORT"]
    with connections["default"].cursor() as cursor:
        assert one(cursor, "SELECT pg_is_in_recovery()") is False


def test_reports_read_the_replica_while_writes_go_to_the_primary(reports_on_replica, cast):
    # Writes: OAuth (registration, consent, token) and the stats import, on the primary.
    connected = connect(ANALYST, cast.acme.mcp_url)
    import_rows(cast.acme, week_rows())
    replayed()

    with (
        CaptureQueriesContext(connections[ALIAS]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        answer = report(cast)
    assert any(t in q["sql"] for q in on_replica.captured_queries for t in STAT_TABLES)
    assert not any(t in q["sql"] for q in on_primary.captured_queries for t in STAT_TABLES)
    expected_sends = sum(
        row["sends"] for row in week_rows() if row["kind"] == "campaign"
    )  # both acme campaigns; the analyst sees every brand
    assert answer.summary.sends == expected_sends
    assert answer.provenance.data_through == date(2026, 1, 11)

    # The MCP tool: it reads the replica too, and its session log lands on the primary.
    answered = tool_report(cast, connected.access_token)
    assert answered["summary"]["sends"] == expected_sends
    assert answered["provenance"]["data_through"] == "2026-01-11"
    logged = McpSessionLog.objects.for_account(cast.acme).using("default")
    call = logged.get(method="tools/call")
    assert call.status == McpSessionLog.Status.SUCCESS
    assert call.tool_name == "campaign_report"
    assert call.token_id is not None

    # Everything written reached the replica through replication, nothing else.
    replayed()
    assert logged.count() == McpSessionLog.objects.for_account(cast.acme).using(ALIAS).count()


def test_a_replica_behind_the_primary_answers_with_what_it_has(reports_on_replica, cast):
    token = connect(ANALYST, cast.acme.mcp_url).access_token
    import_rows(cast.acme, week_rows())
    replayed()
    before = report(cast)

    replica = connections[ALIAS]
    with replica.cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    try:
        with replica.cursor() as cursor:
            assert one(cursor, "SELECT pg_get_wal_replay_pause_state()") in {
                "pause requested",
                "paused",
            }
        # The primary moves on: a day more, and a restated day.
        later = week_row("2026-01-12", "campaign", "c1", "Spring sale", "Acme Home", "email", 5, 0)
        restated = {**week_rows()[0], "sends": 9999}
        import_rows(cast.acme, [later, restated])
        primary_through = StatsImport.objects.for_account(cast.acme).using("default").get()
        assert primary_through.data_through == date(2026, 1, 12)
        with replica.cursor() as cursor, connections["default"].cursor() as primary:
            written = one(primary, "SELECT pg_current_wal_lsn()")
            assert one(cursor, "SELECT pg_last_wal_replay_lsn() < %s::pg_lsn", [written]) is True

        # A report still answers, with the replica's numbers, and says how far they reach.
        lagging = report(cast)
        assert lagging.summary == before.summary
        assert lagging.provenance.data_through == date(2026, 1, 11)
        answered = tool_report(cast, token)
        assert answered["summary"]["sends"] == before.summary.sends
        assert answered["provenance"]["data_through"] == "2026-01-11"
    finally:
        with replica.cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")

    # Caught up, the replica answers what the primary holds.
    replayed()
    caught_up = report(cast)
    assert caught_up.summary.sends == before.summary.sends - week_rows()[0]["sends"] + 9999
    assert caught_up.provenance.data_through == date(2026, 1, 12)
