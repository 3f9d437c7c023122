"""The access policy's full truth table and its user-facing messages."""

from __future__ import annotations

import itertools

import pytest
from django.utils import timezone

from accounts.models import Account, Role
from permissions.policy import (
    MESSAGE_ACCOUNT_UNAVAILABLE,
    MESSAGE_MCP_DISABLED,
    MESSAGE_NO_PERMISSION,
    Reason,
    mcp_access_decision,
)
from permissions.services import mcp_access_grant, mcp_access_revoke, membership_create

CASES = list(
    itertools.product(
        Role.values,
        [True, False],  # mcp_enabled
        [False, True],  # offboarded
        [True, False],  # membership active
        [True, False],  # user active
        [True, False],  # permission granted (else revoked)
    )
)


def expected_reason(flag, offboarded, membership_active, user_active, granted) -> Reason:
    """The policy written out independently, in its documented order."""
    if offboarded:
        return Reason.ACCOUNT_UNAVAILABLE
    if not flag:
        return Reason.MCP_DISABLED
    if not user_active:
        return Reason.USER_INACTIVE
    if not membership_active:
        return Reason.MEMBERSHIP_INACTIVE
    if not granted:
        return Reason.NO_PERMISSION
    return Reason.ALLOWED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "flag", "offboarded", "membership_active", "user_active", "granted"), CASES
)
def test_truth_table(
    django_user_model, role, flag, offboarded, membership_active, user_active, granted
):
    account = Account.objects.create(
        system_name="tenant",
        name="Tenant",
        mcp_enabled=flag,
        offboarded_at=timezone.now() if offboarded else None,
    )
    owner = django_user_model.objects.create_user("owner")
    user = django_user_model.objects.create_user("member", is_active=user_active)
    membership_create(account=account, user=user, role=role, is_active=membership_active)
    change = mcp_access_grant if granted else mcp_access_revoke
    change(account=account, user=user, acting_user=owner)

    decision = mcp_access_decision(user=user, account=account)

    reason = expected_reason(flag, offboarded, membership_active, user_active, granted)
    assert decision.reason is reason
    assert decision.allowed is (reason is Reason.ALLOWED)
    assert bool(decision) is decision.allowed


def test_truth_table_covers_every_combination():
    assert len(CASES) == len(Role.values) * 2**5 == 192


@pytest.mark.django_db
def test_messages_are_the_promised_ones(cast):
    analyst = cast.user("analyst@acme.test")
    marketer_globex = cast.user("marketer@globex.test")

    assert mcp_access_decision(user=marketer_globex, account=cast.globex).message == (
        MESSAGE_MCP_DISABLED
    )
    assert MESSAGE_MCP_DISABLED == (
        "MCP is not enabled for this account. Contact your Maestra Customer Success Manager."
    )
    mcp_access_revoke(account=cast.acme, user=analyst, acting_user=cast.user("owner@acme.test"))
    decision = mcp_access_decision(user=analyst, account=cast.acme)
    assert decision.message == MESSAGE_NO_PERMISSION
    assert MESSAGE_NO_PERMISSION == (
        "You don't have the MCP Access permission. Contact your account Owner."
    )
    assert mcp_access_decision(user=analyst, account=None).message == MESSAGE_ACCOUNT_UNAVAILABLE


@pytest.mark.django_db
def test_outsider_and_anonymous_are_refused(cast):
    from django.contrib.auth.models import AnonymousUser

    outsider = cast.user("outsider@example.test")
    assert mcp_access_decision(user=outsider, account=cast.acme).reason is Reason.NOT_A_MEMBER
    assert (
        mcp_access_decision(user=AnonymousUser(), account=cast.acme).reason
        is Reason.NOT_AUTHENTICATED
    )
    assert mcp_access_decision(user=None, account=cast.acme).reason is Reason.NOT_AUTHENTICATED


@pytest.mark.django_db
def test_superuser_gets_no_bypass(cast):
    admin = cast.user("admin@maestra.test")
    assert mcp_access_decision(user=admin, account=cast.acme).reason is Reason.NOT_A_MEMBER


@pytest.mark.django_db
def test_member_of_both_accounts_is_judged_per_account(cast):
    agency = cast.user("agency@partner.test")
    assert mcp_access_decision(user=agency, account=cast.acme).allowed
    # globex has MCP off: the same user is refused there.
    assert mcp_access_decision(user=agency, account=cast.globex).reason is Reason.MCP_DISABLED


@pytest.mark.django_db
def test_nothing_is_cached_between_calls(cast):
    """A revoke or a flag switch-off is seen by the very next decision."""
    analyst = cast.user("analyst@acme.test")
    owner = cast.user("owner@acme.test")
    assert mcp_access_decision(user=analyst, account=cast.acme).allowed
    mcp_access_revoke(account=cast.acme, user=analyst, acting_user=owner)
    assert mcp_access_decision(user=analyst, account=cast.acme).reason is Reason.NO_PERMISSION
    mcp_access_grant(account=cast.acme, user=analyst, acting_user=owner)
    assert mcp_access_decision(user=analyst, account=cast.acme).allowed
    Account.objects.filter(pk=cast.acme.pk).update(mcp_enabled=False)
    cast.acme.refresh_from_db()
    assert mcp_access_decision(user=analyst, account=cast.acme).reason is Reason.MCP_DISABLED


@pytest.mark.django_db
def test_decision_costs_a_fixed_number_of_queries(cast, django_assert_num_queries):
    analyst = cast.user("analyst@acme.test")
    mcp_access_decision(user=analyst, account=cast.acme)  # warm the content-type cache
    # The MCP endpoint decides on every request: the membership and the grant are
    # read together.
    with django_assert_num_queries(1):
        assert mcp_access_decision(user=analyst, account=cast.acme).allowed
    editor = cast.user("editor@acme.test")  # a member without MCP Access
    with django_assert_num_queries(1):
        assert mcp_access_decision(user=editor, account=cast.acme).reason is Reason.NO_PERMISSION


@pytest.mark.django_db
def test_only_the_users_own_grant_on_this_account_counts(cast):
    """Grants to a group, or on another account, or of another permission, don't count."""
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    editor = cast.user("editor@acme.test")  # member of acme without MCP Access
    assert mcp_access_decision(user=editor, account=cast.acme).reason is Reason.NO_PERMISSION

    group = Group.objects.create(name="mcp users")
    editor.groups.add(group)
    assign_perm("accounts.use_mcp", group, cast.acme)
    assign_perm("accounts.use_mcp", editor, cast.globex)
    assign_perm("accounts.offboard_account", editor, cast.acme)
    assert mcp_access_decision(user=editor, account=cast.acme).reason is Reason.NO_PERMISSION

    assign_perm("accounts.use_mcp", editor, cast.acme)
    assert mcp_access_decision(user=editor, account=cast.acme).allowed
