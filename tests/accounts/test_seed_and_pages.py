"""The demo seed, the member login and the accounts landing page."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import Account, Membership
from permissions.demo import DEMO_PASSWORD


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_prints_the_logins(capsys):
    call_command("seed_demo")
    first = (Account.objects.count(), Membership.objects.count())
    call_command("seed_demo")
    assert (Account.objects.count(), Membership.objects.count()) == first == (2, 10)
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8000/mcp/acme" in out
    assert DEMO_PASSWORD in out
    assert "owner@acme.test" in out and "agency@partner.test" in out
    acme, globex = Account.objects.order_by("system_name")
    assert (acme.mcp_enabled, globex.mcp_enabled) == (True, False)


@pytest.mark.parametrize("username", ["admin@maestra.test", "csm@maestra.test"])
def test_demo_staff_logins_work_in_the_admin(client, cast, username):
    assert client.login(username=username, password=DEMO_PASSWORD)
    assert client.get("/admin/").status_code == 200


def test_member_logs_in_and_sees_only_their_accounts(client, cast):
    response = client.post(
        "/login/", {"username": "agency@partner.test", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302 and response.url == "/"
    page = client.get("/").content.decode()
    assert "Acme Retail" in page and "Globex Fashion" in page

    client.logout()
    client.login(username="owner@globex.test", password=DEMO_PASSWORD)
    page = client.get("/").content.decode()
    assert "Globex Fashion" in page and "Acme Retail" not in page


def test_outsider_sees_no_account(client, cast):
    client.login(username="outsider@example.test", password=DEMO_PASSWORD)
    page = client.get("/").content.decode()
    assert "not a member of any account" in page
    assert "Acme" not in page


def test_anonymous_is_sent_to_login(client, db):
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_wrong_password_is_refused(client, cast):
    response = client.post("/login/", {"username": "owner@acme.test", "password": "guess"})
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("system_name", "Acme Inc"),
        ("system_name", "-acme"),
        ("timezone", "Mars/Olympus"),
        ("currency", "EURO"),
    ],
)
def test_account_fields_are_validated(field, value):
    from django.core.exceptions import ValidationError

    account = Account(system_name="valid", name="Valid", timezone="UTC", currency="EUR")
    setattr(account, field, value)
    with pytest.raises(ValidationError) as error:
        account.full_clean()
    assert field in error.value.message_dict
