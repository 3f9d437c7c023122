"""The per-request hot reads load exactly what the ORM loads, in one query each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from oauth2_provider.models import AccessToken

from accounts.models import Account, Membership
from accounts.selectors import account_served
from maestra_mcp.oauth.validators import MaestraOAuth2Validator
from permissions.policy import mcp_access_decision
from tests.support.mcp import mint_token

pytestmark = pytest.mark.django_db


def field_values(obj, fields) -> dict:
    return {name: getattr(obj, name) for name in fields}


def test_served_account_is_the_orm_row(cast, django_assert_num_queries):
    Account.objects.filter(pk=cast.acme.pk).update(session_logs_purged_count=3)
    fields = [field.attname for field in Account._meta.concrete_fields]
    with django_assert_num_queries(1):
        loaded = account_served(system_name="acme")
    assert field_values(loaded, fields) == field_values(
        Account.objects.get(pk=cast.acme.pk), fields
    )
    assert timezone.is_aware(loaded.created_at)
    assert loaded._state.adding is False


@pytest.mark.parametrize("system_name", ["nope", "ACME", "acme ", ""])
def test_no_account_for_another_name(cast, system_name):
    assert account_served(system_name=system_name) is None


def test_offboarded_account_is_not_served(cast):
    Account.objects.filter(pk=cast.acme.pk).update(offboarded_at=timezone.now())
    assert account_served(system_name="acme") is None
    assert account_served(system_name="globex") is not None


def test_bearer_token_is_the_orm_row_with_its_user_and_client(cast, django_assert_num_queries):
    analyst = cast.user("analyst@acme.test")
    raw = mint_token(analyst, resource=[cast.acme.mcp_url], expires_in=timedelta(minutes=5))
    with django_assert_num_queries(1):
        loaded = MaestraOAuth2Validator()._load_access_token(raw)
        # Everything the bearer check, the policy and the session log read: no query.
        assert (loaded.user.pk, loaded.user.is_active) == (analyst.pk, True)
        assert loaded.application.client_id and loaded.application.name == "Test assistant"
    stored = AccessToken.objects.get(pk=loaded.pk)
    fields = ["id", "user_id", "application_id", "expires", "scope", "resource", "updated"]
    assert field_values(loaded, fields) == field_values(stored, fields)
    assert loaded.resource == [cast.acme.mcp_url]  # JSON decoded, on every database
    assert timezone.is_aware(loaded.expires)
    assert MaestraOAuth2Validator()._load_access_token(raw + "x") is None


def test_membership_and_grant_in_one_query(cast, django_assert_num_queries):
    ContentType.objects.get_for_model(Account)  # cached per process, like in a server
    analyst, editor = cast.user("analyst@acme.test"), cast.user("editor@acme.test")
    with django_assert_num_queries(1):
        decision = mcp_access_decision(user=analyst, account=cast.acme)
    assert decision.allowed
    stored = Membership.objects.get(user=analyst, account=cast.acme)
    fields = [field.attname for field in Membership._meta.concrete_fields]
    assert field_values(decision.membership, fields) == field_values(stored, fields)
    assert mcp_access_decision(user=editor, account=cast.acme).membership.has_mcp_access is False
