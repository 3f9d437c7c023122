"""/accounts/<system_name>/session-logs/: an Owner reads their own account's logs only."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from maestra_mcp.session_logs.models import McpSessionLog
from tests.support.session_logs import record
from tests.support.time_zones import LATE_EVENING_UTC, NEXT_MORNING_IN_TOKYO, TOKYO, set_time_zone

pytestmark = pytest.mark.django_db


def url(account) -> str:
    return reverse("session_logs:account_logs", args=[account.system_name])


@pytest.fixture
def logs(cast):
    record(cast.acme, method="tools/call", tool_name="campaign_report", params={"m": "acme-ok"})
    record(
        cast.acme,
        status=McpSessionLog.Status.ERROR,
        method="tools/call",
        tool_name="flow_report",
        error="acme-bad-argument",
    )
    record(cast.globex, method="tools/call", tool_name="campaign_report", params={"m": "globex"})


def page(client, username, account, query=""):
    client.force_login(get_user_model().objects.get(username=username))
    return client.get(url(account) + query)


def test_owner_sees_their_account_only(client, cast, logs):
    response = page(client, "owner@acme.test", cast.acme)
    assert response.status_code == 200
    assert b"acme-ok" in response.content and b"acme-bad-argument" in response.content
    assert {log.account_id for log in response.context["page"].object_list} == {cast.acme.pk}


def test_filters_by_status_and_tool(client, cast, logs):
    errors = page(client, "owner@acme.test", cast.acme, "?status=error")
    assert [log.error for log in errors.context["page"].object_list] == ["acme-bad-argument"]
    reports = page(client, "owner@acme.test", cast.acme, "?tool=campaign_report")
    assert [log.params for log in reports.context["page"].object_list] == [{"m": "acme-ok"}]


def test_csm_with_the_log_permission_may_read_it(client, cast, logs):
    assert page(client, "csm@maestra.test", cast.acme).status_code == 200


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("analyst@acme.test", 403),  # a member, not an Owner
        ("support@acme.test", 403),
        ("owner@globex.test", 404),  # another account's Owner: as if it didn't exist
        ("outsider@example.test", 404),
        ("staff@maestra.test", 404),  # staff without CSM rights
    ],
)
def test_everyone_else_is_refused(client, cast, logs, username, status):
    response = page(client, username, cast.acme)
    assert response.status_code == status
    assert b"acme-ok" not in response.content


def test_anonymous_is_sent_to_log_in(client, cast, logs):
    response = client.get(url(cast.acme))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_offboarded_account_is_gone(client, cast, logs):
    Account.objects.filter(pk=cast.acme.pk).update(offboarded_at=timezone.now())
    assert page(client, "owner@acme.test", cast.acme).status_code == 404


def test_times_are_in_the_accounts_time_zone(client, cast):
    set_time_zone(cast.acme, TOKYO)
    row = record(cast.acme, method="tools/call", tool_name="campaign_report")
    McpSessionLog.objects.unscoped().filter(pk=row.pk).update(created_at=LATE_EVENING_UTC)
    html = page(client, "owner@acme.test", cast.acme).content.decode()
    assert f"<th>Time ({TOKYO})</th>" in html
    assert f'<td data-label="Time">{NEXT_MORNING_IN_TOKYO}:00</td>' in html


def test_parameters_and_results_are_shown_as_json(client, cast):
    record(
        cast.acme,
        method="tools/call",
        tool_name="campaign_report",
        params={"name": "campaign_report", "arguments": {"compare": True, "brand": None}},
        result={"rows": [{"name": "Été", "sends": 3}]},
    )
    html = page(client, "owner@acme.test", cast.acme).content.decode()
    # JSON, not Python reprs (True/None/single quotes); non-ASCII kept readable.
    assert "&quot;compare&quot;: true" in html and "&quot;brand&quot;: null" in html
    assert "&quot;name&quot;: &quot;Été&quot;" in html
    assert "True" not in html and "&#x27;compare&#x27;" not in html


def test_sign_in_challenges_have_their_own_label(client, cast):
    record(cast.acme, status=McpSessionLog.Status.SIGN_IN, error="Authentication required")
    html = page(client, "owner@acme.test", cast.acme).content.decode()
    assert "status-sign_in" in html and "Sign-in requested" in html
    assert "badge off status-sign_in" not in html  # not styled as a failure
    filtered = page(client, "owner@acme.test", cast.acme, "?status=sign_in")
    assert len(filtered.context["page"].object_list) == 1
