"""The support view (admin) and the offboarding admin action: who sees and does what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from maestra_mcp.session_logs.models import McpSessionLog
from tests.support.session_logs import record

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:maestra_mcp_mcpsessionlog_changelist"


@pytest.fixture
def logs(cast):
    """One distinctive row per account, so leaks across accounts show."""
    acme = record(
        cast.acme,
        user=cast.user("analyst@acme.test"),
        method="tools/call",
        tool_name="campaign_report",
        params={"marker": "acme-params"},
        result={"marker": "acme-result"},
    )
    globex = record(
        cast.globex,
        status=McpSessionLog.Status.REFUSED,
        method="tools/call",
        tool_name="flow_report",
        error="globex-refusal",
    )
    return {"acme": acme, "globex": globex}


def listed(response) -> set[int]:
    return {log.pk for log in response.context["cl"].result_list}


@pytest.mark.parametrize("username", ["csm@maestra.test", "admin@maestra.test"])
def test_support_staff_browse_every_account(as_user, logs, username):
    client = as_user(username)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert listed(response) == {logs["acme"].pk, logs["globex"].pk}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("account__id__exact={acme}", {"acme"}),
        ("status__exact=refused", {"globex"}),
        ("tool_name=campaign_report", {"acme"}),
        ("user__id__exact={analyst}", {"acme"}),
    ],
)
def test_filters(as_user, cast, logs, query, expected):
    query = query.format(acme=cast.acme.pk, analyst=cast.user("analyst@acme.test").pk)
    response = as_user("csm@maestra.test").get(f"{reverse(CHANGELIST)}?{query}")
    assert response.status_code == 200
    assert listed(response) == {logs[name].pk for name in expected}


def test_time_filter(as_user, cast, logs):
    McpSessionLog.objects.unscoped().filter(pk=logs["globex"].pk).update(
        created_at=timezone.now() - timedelta(days=10)
    )
    client = as_user("csm@maestra.test")
    response = client.get(reverse(CHANGELIST))
    (spec,) = [s for s in response.context["cl"].filter_specs if s.field_path == "created_at"]
    (past_week,) = [
        c for c in spec.choices(response.context["cl"]) if c["display"] == "Past 7 days"
    ]
    assert listed(client.get(reverse(CHANGELIST) + past_week["query_string"])) == {logs["acme"].pk}


def test_detail_is_read_only(as_user, logs):
    client = as_user("admin@maestra.test")  # not even a superuser may edit
    url = reverse("admin:maestra_mcp_mcpsessionlog_change", args=[logs["acme"].pk])
    response = client.get(url)
    assert response.status_code == 200
    assert b"acme-result" in response.content
    assert b'name="_save"' not in response.content
    assert client.post(url, {"error": "edited"}).status_code == 403
    assert client.get(reverse("admin:maestra_mcp_mcpsessionlog_add")).status_code == 403
    delete = reverse("admin:maestra_mcp_mcpsessionlog_delete", args=[logs["acme"].pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert McpSessionLog.objects.for_account(logs["acme"].account).get().error == ""


def test_staff_without_the_permission_see_nothing(as_user, logs):
    client = as_user("staff@maestra.test")
    assert client.get(reverse(CHANGELIST)).status_code == 403
    index = client.get(reverse("admin:index"))
    assert b"MCP session logs" not in index.content


@pytest.mark.parametrize("username", ["owner@acme.test", "outsider@example.test"])
def test_non_staff_are_sent_to_the_admin_login(as_user, logs, username):
    response = as_user(username).get(reverse(CHANGELIST))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# --- "Offboard selected accounts" ---------------------------------------------
def _offboard_action(client, account, **extra):
    return client.post(
        reverse("admin:accounts_account_changelist"),
        {"action": "offboard_accounts", "_selected_action": [account.pk], **extra},
    )


def test_csm_offboards_after_confirming(as_user, cast, logs, django_capture_on_commit_callbacks):
    client = as_user("csm@maestra.test")
    confirmation = _offboard_action(client, cast.acme)
    assert confirmation.status_code == 200
    assert b"Yes, offboard" in confirmation.content
    assert cast.acme.name.encode() in confirmation.content
    assert Account.objects.get(pk=cast.acme.pk).offboarded_at is None  # not yet

    with django_capture_on_commit_callbacks(execute=True):
        response = _offboard_action(client, cast.acme, post="yes")
    assert response.status_code == 302
    acme = Account.objects.get(pk=cast.acme.pk)
    assert acme.offboarded_at is not None and not acme.mcp_enabled
    assert acme.session_logs_purged_count == 1
    assert McpSessionLog.objects.for_account(cast.globex).count() == 1


def test_staff_without_offboard_permission_cannot_offboard(as_user, cast, django_user_model):
    editor = django_user_model.objects.create_user("editor@maestra.test", is_staff=True)
    editor.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="accounts", codename__in=["view_account", "change_account"]
        )
    )
    client = as_user("editor@maestra.test")
    changelist = client.get(reverse("admin:accounts_account_changelist"))
    assert b"offboard_accounts" not in changelist.content
    _offboard_action(client, cast.acme, post="yes")
    assert Account.objects.get(pk=cast.acme.pk).offboarded_at is None
