"""CSM tools: an account's MCP usage at a glance in the admin, from the session logs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account
from maestra_mcp.session_logs.models import McpSessionLog
from maestra_mcp.session_logs.services import session_log_record
from permissions.demo import DEMO_PASSWORD

OK, ERROR, REFUSED = (
    McpSessionLog.Status.SUCCESS,
    McpSessionLog.Status.ERROR,
    McpSessionLog.Status.REFUSED,
)


def _log(account: Account, *, days_ago: float, status, client_id: str = "") -> None:
    row = session_log_record(account=account, status=status, method="tools/call")
    McpSessionLog.objects.unscoped().filter(pk=row.pk).update(
        created_at=timezone.now() - timedelta(days=days_ago), oauth_client_id=client_id
    )


@pytest.fixture
def usage(cast):
    rows = [
        (cast.acme, 1, OK, "claude"),
        (cast.acme, 2, OK, "claude"),
        (cast.acme, 3, ERROR, "chatgpt"),
        (cast.acme, 10, REFUSED, ""),  # refused before a token was read: no client
        (cast.acme, 20, OK, "cursor"),
        (cast.acme, 45, ERROR, "old-client"),  # outside every window
        (cast.globex, 0.5, OK, "claude"),
    ]
    for account, days_ago, status, client_id in rows:
        _log(account, days_ago=days_ago, status=status, client_id=client_id)
    return rows


def _expected(rows, account):
    """The figures computed independently in Python from the rows written."""
    mine = [r for r in rows if r[0] == account]
    month = [r for r in mine if r[1] <= 30]
    failed = [r for r in month if r[2] != OK]
    return {
        "7d": sum(1 for r in mine if r[1] <= 7),
        "30d": len(month),
        "rate": f"{len(failed) / len(month):.1%}",
        "clients": len({r[3] for r in month if r[3]}),
    }


def _admin(username: str = "csm@maestra.test") -> Client:
    client = Client()
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


@pytest.mark.parametrize("username", ["csm@maestra.test", "staff@maestra.test"])
def test_changelist_shows_usage_per_account(cast, usage, username):
    response = _admin(username).get("/admin/accounts/account/")
    assert response.status_code == 200
    shown = {a.system_name: a for a in response.context["cl"].result_list}
    for account in (cast.acme, cast.globex):
        expected = _expected(usage, account)
        row = shown[account.system_name]
        model_admin = response.context["cl"].model_admin
        assert (
            row._mcp_requests_7d,
            row._mcp_requests_30d,
            model_admin.mcp_error_rate(row),
            row._mcp_clients_30d,
        ) == (expected["7d"], expected["30d"], expected["rate"], expected["clients"])
    assert _expected(usage, cast.acme) == {"7d": 3, "30d": 5, "rate": "40.0%", "clients": 3}
    assert "40.0%" in response.content.decode()


def test_an_account_without_logs_shows_no_rate(cast):
    response = _admin().get("/admin/accounts/account/")
    acme = next(a for a in response.context["cl"].result_list if a.system_name == "acme")
    assert (acme._mcp_requests_7d, acme._mcp_requests_30d, acme._mcp_clients_30d) == (0, 0, 0)
    assert response.context["cl"].model_admin.mcp_error_rate(acme) is None


def test_changelist_query_count_does_not_grow_with_accounts(cast, usage):
    client = _admin()
    client.get("/admin/accounts/account/")
    with CaptureQueriesContext(connection) as few:
        client.get("/admin/accounts/account/")
    for n in range(4):
        extra = Account.objects.create(system_name=f"extra{n}", name=f"Extra {n}", mcp_enabled=True)
        _log(extra, days_ago=1, status=OK, client_id="claude")
    with CaptureQueriesContext(connection) as more:
        response = client.get("/admin/accounts/account/")
    assert len(response.context["cl"].result_list) == 6
    assert len(more.captured_queries) == len(few.captured_queries)


def test_change_page_summarises_usage(cast, usage):
    page = _admin().get(f"/admin/accounts/account/{cast.acme.pk}/change/").content.decode()
    assert (
        "3 requests in the last 7 days, 5 in the last 30 days; error rate 40.0% (2 failed)" in page
    )
    assert "3 distinct assistant clients in 30 days" in page


def test_sign_in_challenges_are_not_requests_errors_or_the_last_request(cast):
    """The unauthenticated 401 that starts every connection counts nowhere."""
    _log(cast.acme, days_ago=2, status=OK, client_id="claude")
    _log(cast.acme, days_ago=1, status=ERROR, client_id="claude")
    for days_ago in (0.1, 0.2, 0.3, 5):
        _log(cast.acme, days_ago=days_ago, status=McpSessionLog.Status.SIGN_IN)

    response = _admin().get("/admin/accounts/account/")
    acme = next(a for a in response.context["cl"].result_list if a.system_name == "acme")
    assert (acme._mcp_requests_7d, acme._mcp_requests_30d, acme._mcp_failed_30d) == (2, 2, 1)
    assert response.context["cl"].model_admin.mcp_error_rate(acme) == "50.0%"
    # The last request is the error a day ago, not the challenges since.
    assert timezone.now() - acme._mcp_last_request > timedelta(hours=23)


def test_only_challenges_give_no_rate_at_all(cast):
    _log(cast.acme, days_ago=1, status=McpSessionLog.Status.SIGN_IN)
    response = _admin().get("/admin/accounts/account/")
    acme = next(a for a in response.context["cl"].result_list if a.system_name == "acme")
    assert acme._mcp_requests_30d == 0
    assert response.context["cl"].model_admin.mcp_error_rate(acme) is None
