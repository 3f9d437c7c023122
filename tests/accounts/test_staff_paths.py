"""CSMs and other staff: where they land, what they are linked to, and no link to a refusal."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client

from permissions.groups import CSM_GROUP, CSM_PERMISSIONS
from tests.support.clients import logged_in

pytestmark = pytest.mark.django_db

ACCOUNT_PAGES = ["/accounts/{a}/mcp/", "/accounts/{a}/team/", "/accounts/{a}/connections/"]
LOGS = "/accounts/{a}/session-logs/"


def _links(html: str) -> set[str]:
    return set(re.findall(r'href="(/[^"]*)"', html))


def _every_link_opens(client: Client, html: str) -> None:
    for href in _links(html):
        if href.startswith(("/static/", "/admin/logout")):
            continue
        assert client.get(href).status_code == 200, href


def test_csm_home_lists_every_account_with_its_pages(cast):
    client = logged_in("csm@maestra.test")
    html = client.get("/").content.decode()
    assert "ask your account Owner" not in html
    for account in (cast.acme, cast.globex):
        for page in [*ACCOUNT_PAGES, LOGS]:
            assert f'href="{page.format(a=account.system_name)}"' in html
    _every_link_opens(client, html)


def test_csm_without_the_log_permission_gets_no_log_link(cast):
    group = Group.objects.get(name=CSM_GROUP)
    group.permissions.remove(Permission.objects.get(codename="view_mcp_session_logs"))
    client = logged_in("csm@maestra.test")
    for url in ["/", "/accounts/acme/mcp/", f"/admin/accounts/account/{cast.acme.pk}/change/"]:
        html = client.get(url).content.decode()
        assert "/session-logs/" not in html, url
        assert "mcpsessionlog" not in html, url
    assert client.get(LOGS.format(a="acme")).status_code == 403
    # Still a CSM: the team page opens.
    assert client.get("/accounts/acme/team/").status_code == 200


def test_other_staff_are_pointed_at_the_admin_not_at_an_owner(cast):
    html = logged_in("staff@maestra.test").get("/").content.decode()
    assert "ask your account Owner" not in html.lower()
    assert 'href="/admin/"' in html
    assert "managed-accounts" not in html


def test_admin_account_page_links_the_accounts_pages_for_a_csm(cast):
    client = logged_in("csm@maestra.test")
    html = client.get(f"/admin/accounts/account/{cast.acme.pk}/change/").content.decode()
    for page in [*ACCOUNT_PAGES, LOGS]:
        assert f'href="{page.format(a="acme")}"' in html
    assert f"account__id__exact={cast.acme.pk}" in html
    for href in _links(html):
        if href.startswith("/accounts/"):
            assert client.get(href).status_code == 200, href


def test_admin_account_page_gives_other_staff_no_dead_links(cast):
    client = logged_in("staff@maestra.test")  # sees accounts, is no CSM, no log permission
    html = client.get(f"/admin/accounts/account/{cast.acme.pk}/change/").content.decode()
    assert 'class="account-page-link"' not in html
    assert "/accounts/acme/" not in html
    assert "mcpsessionlog" not in html


def test_admin_is_titled_maestra_administration(cast):
    html = logged_in("csm@maestra.test").get("/admin/").content.decode()
    assert "Maestra administration" in html and "Django administration" not in html


def test_owner_home_links_their_pages_and_each_opens(cast):
    client = logged_in("owner@acme.test")
    html = client.get("/").content.decode()
    for page in [*ACCOUNT_PAGES, LOGS]:
        assert f'href="{page.format(a="acme")}"' in html
    _every_link_opens(client, html)


@pytest.mark.parametrize("username", ["analyst@acme.test", "owner@acme.test", "csm@maestra.test"])
def test_account_nav_links_only_to_pages_that_open(cast, username):
    client = logged_in(username)
    html = client.get("/accounts/acme/mcp/").content.decode()
    nav = html.split("<nav>")[1].split("</nav>")[0]
    _every_link_opens(client, nav)


def test_ensure_csm_group_is_idempotent_and_complete(db):
    Group.objects.filter(name=CSM_GROUP).delete()
    call_command("ensure_csm_group")
    call_command("ensure_csm_group")
    group = Group.objects.get(name=CSM_GROUP)
    assert {(p.content_type.app_label, p.codename) for p in group.permissions.all()} == set(
        CSM_PERMISSIONS
    )
