"""The lookups every MCP request makes (account, token, membership): one query each,
loading everything the request then reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import account_served
from maestra_mcp.oauth.validators import MaestraOAuth2Validator
from permissions.policy import mcp_access_decision
from tests.support.mcp import mint_token

pytestmark = pytest.mark.django_db


def test_served_account_is_one_query(cast, django_assert_num_queries):
    with django_assert_num_queries(1):
        loaded = account_served(system_name="acme")
        assert (loaded.pk, loaded.timezone, loaded.mcp_url) == (
            cast.acme.pk,
            cast.acme.timezone,
            cast.acme.mcp_url,
        )


@pytest.mark.parametrize("system_name", ["nope", "ACME", "acme ", ""])
def test_no_account_for_another_name(cast, system_name):
    assert account_served(system_name=system_name) is None


def test_offboarded_account_is_not_served(cast):
    Account.objects.filter(pk=cast.acme.pk).update(offboarded_at=timezone.now())
    assert account_served(system_name="acme") is None
    assert account_served(system_name="globex") is not None


def test_bearer_token_comes_with_its_user_and_client_in_one_query(cast, django_assert_num_queries):
    analyst = cast.user("analyst@acme.test")
    raw = mint_token(analyst, resource=[cast.acme.mcp_url], expires_in=timedelta(minutes=5))
    with django_assert_num_queries(1):
        loaded = MaestraOAuth2Validator()._load_access_token(raw)
        # Everything the bearer check, the policy and the session log read: no query.
        assert (loaded.user.pk, loaded.user.is_active) == (analyst.pk, True)
        assert loaded.application.client_id and loaded.application.name == "Test assistant"
        assert loaded.is_valid(["reports:read"]) and loaded.updated is not None
        assert loaded.resource == [cast.acme.mcp_url]  # JSON decoded
    assert MaestraOAuth2Validator()._load_access_token(raw + "x") is None


def test_membership_and_grant_in_one_query(cast, django_assert_num_queries):
    ContentType.objects.get_for_model(Account)  # cached per process, like in a server
    analyst, editor = cast.user("analyst@acme.test"), cast.user("editor@acme.test")
    with django_assert_num_queries(1):
        decision = mcp_access_decision(user=analyst, account=cast.acme)
        assert decision.allowed and decision.membership.is_active
    assert mcp_access_decision(user=editor, account=cast.acme).membership.has_mcp_access is False
    assert (
        mcp_access_decision(user=cast.user("owner@globex.test"), account=cast.acme).membership
        is None
    )
