"""The accounts admin: only CSMs switch the MCP flag, and every switch is logged."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from accounts.models import Account


def _switch_url(account: Account) -> str:
    return reverse("admin:accounts_account_mcp_feature", args=[account.pk])


def _log_messages(account: Account) -> list[tuple[str, str]]:
    return list(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Account),
            object_id=str(account.pk),
            action_flag=CHANGE,
        ).values_list("user__username", "change_message")
    )


def test_csm_switches_mcp_on_and_it_is_logged(as_user, cast):
    client = as_user("csm@maestra.test")
    response = client.post(_switch_url(cast.globex), {"enabled": "1"})
    assert response.status_code == 302
    cast.globex.refresh_from_db()
    assert cast.globex.mcp_enabled is True
    assert _log_messages(cast.globex) == [("csm@maestra.test", "MCP feature enabled.")]


def test_other_staff_get_403_and_nothing_changes(as_user, cast):
    client = as_user("staff@maestra.test")
    assert client.get(reverse("admin:accounts_account_changelist")).status_code == 200
    response = client.post(_switch_url(cast.globex), {"enabled": "1"})
    assert response.status_code == 403
    cast.globex.refresh_from_db()
    assert cast.globex.mcp_enabled is False
    assert _log_messages(cast.globex) == []


@pytest.mark.parametrize("username", ["owner@acme.test", "outsider@example.test"])
def test_non_staff_cannot_reach_the_switch(as_user, cast, username):
    response = as_user(username).post(_switch_url(cast.globex), {"enabled": "1"})
    assert response.status_code == 302  # to the admin login
    cast.globex.refresh_from_db()
    assert cast.globex.mcp_enabled is False


def test_get_on_switch_is_refused(as_user, cast):
    assert as_user("csm@maestra.test").get(_switch_url(cast.acme)).status_code == 405


def test_bulk_actions_for_csm(as_user, cast):
    client = as_user("csm@maestra.test")
    changelist = reverse("admin:accounts_account_changelist")
    ids = [cast.acme.pk, cast.globex.pk]
    response = client.post(changelist, {"action": "disable_mcp", "_selected_action": ids})
    assert response.status_code == 302
    assert not Account.objects.filter(mcp_enabled=True).exists()
    # acme was on, globex already off: only acme's switch is a change worth logging.
    assert _log_messages(cast.acme) == [("csm@maestra.test", "MCP feature disabled.")]
    assert _log_messages(cast.globex) == []

    client.post(changelist, {"action": "enable_mcp", "_selected_action": ids})
    assert Account.objects.filter(mcp_enabled=True).count() == 2


def test_bulk_actions_hidden_from_other_staff(as_user, cast):
    client = as_user("staff@maestra.test")
    changelist = reverse("admin:accounts_account_changelist")
    page = client.get(changelist).content.decode()
    assert "enable_mcp" not in page and "disable_mcp" not in page
    client.post(changelist, {"action": "enable_mcp", "_selected_action": [cast.globex.pk]})
    cast.globex.refresh_from_db()
    assert cast.globex.mcp_enabled is False


def test_flag_is_read_only_on_the_change_form_without_csm_permission(as_user, cast):
    url = reverse("admin:accounts_account_change", args=[cast.acme.pk])
    staff_page = as_user("staff@maestra.test").get(url).content.decode()
    assert 'name="mcp_enabled"' not in staff_page
    csm_page = as_user("csm@maestra.test").get(url).content.decode()
    assert 'name="mcp_enabled"' in csm_page
    assert "Disable MCP" in csm_page


def test_changelist_filters_by_flag(as_user, cast):
    client = as_user("csm@maestra.test")
    response = client.get(reverse("admin:accounts_account_changelist"), {"mcp_enabled__exact": "1"})
    assert [a.system_name for a in response.context["cl"].result_list] == ["acme"]


def test_account_page_shows_memberships_and_mcp_access(as_user, cast):
    page = (
        as_user("admin@maestra.test")
        .get(reverse("admin:accounts_account_change", args=[cast.acme.pk]))
        .content.decode()
    )
    assert "analyst@acme.test" in page and "editor@acme.test" in page
    assert "MCP Access" in page


def test_membership_added_in_admin_gets_role_default(as_user, cast):
    from permissions.policy import mcp_access_decision

    outsider = cast.user("outsider@example.test")
    client = as_user("admin@maestra.test")
    response = client.post(
        reverse("admin:accounts_membership_add"),
        {"user": outsider.pk, "account": cast.acme.pk, "role": "analyst", "is_active": "on"},
    )
    assert response.status_code == 302
    assert mcp_access_decision(user=outsider, account=cast.acme).allowed
