"""Role defaults for MCP Access, and how an Owner's decision sticks."""

from __future__ import annotations

import pytest

from accounts.models import MCP_DEFAULT_ROLES, Account, Role
from permissions.models import McpAccessChange
from permissions.policy import Reason, mcp_access_decision
from permissions.services import (
    mcp_access_grant,
    mcp_access_revoke,
    membership_change_role,
    membership_create,
)

NON_DEFAULT_ROLES = [role for role in Role if role not in MCP_DEFAULT_ROLES]


@pytest.fixture
def account(db):
    return Account.objects.create(system_name="tenant", name="Tenant", mcp_enabled=True)


def has_access(user, account) -> bool:
    return mcp_access_decision(user=user, account=account).allowed


def test_at_least_two_roles_have_no_default():
    assert {Role.OWNER, Role.ANALYST, Role.MARKETER} == set(MCP_DEFAULT_ROLES)
    assert len(NON_DEFAULT_ROLES) >= 2


@pytest.mark.parametrize("role", list(Role))
def test_join_grants_only_default_roles(django_user_model, account, role):
    user = django_user_model.objects.create_user("member")
    membership_create(account=account, user=user, role=role)
    assert has_access(user, account) is (role in MCP_DEFAULT_ROLES)
    changes = McpAccessChange.objects.for_account(account).filter(user=user)
    if role in MCP_DEFAULT_ROLES:
        assert list(changes.values_list("granted", "source", "acting_user")) == [
            (True, McpAccessChange.Source.ROLE_DEFAULT, None)
        ]
    else:
        assert not changes.exists()


@pytest.mark.parametrize("old", NON_DEFAULT_ROLES)
@pytest.mark.parametrize("new", sorted(MCP_DEFAULT_ROLES))
def test_role_change_to_default_role_grants(django_user_model, account, old, new):
    user = django_user_model.objects.create_user("member")
    membership = membership_create(account=account, user=user, role=old)
    assert not has_access(user, account)
    membership_change_role(membership=membership, role=new)
    assert has_access(user, account)


def test_role_change_to_non_default_role_keeps_existing_grant(django_user_model, account):
    """Moving away from a default role is not a revoke; only a person revokes."""
    user = django_user_model.objects.create_user("member")
    membership = membership_create(account=account, user=user, role=Role.ANALYST)
    membership_change_role(membership=membership, role=Role.SUPPORT)
    assert has_access(user, account)


def test_revoke_survives_role_resave_and_role_change(django_user_model, account):
    owner = django_user_model.objects.create_user("owner")
    user = django_user_model.objects.create_user("member")
    membership = membership_create(account=account, user=user, role=Role.MARKETER)
    mcp_access_revoke(account=account, user=user, acting_user=owner)

    membership_change_role(membership=membership, role=Role.MARKETER)  # saved again
    membership.save()
    assert mcp_access_decision(user=user, account=account).reason is Reason.NO_PERMISSION
    membership_change_role(membership=membership, role=Role.ANALYST)  # another default role
    assert mcp_access_decision(user=user, account=account).reason is Reason.NO_PERMISSION

    mcp_access_grant(account=account, user=user, acting_user=owner)
    assert has_access(user, account)
    assert list(
        McpAccessChange.objects.for_account(account)
        .filter(user=user)
        .order_by("id")
        .values_list("granted", "source", "acting_user__username")
    ) == [
        (True, "role_default", None),
        (False, "manual", "owner"),
        (True, "manual", "owner"),
    ]


def test_explicit_grant_to_non_default_role(django_user_model, account):
    owner = django_user_model.objects.create_user("owner")
    user = django_user_model.objects.create_user("member")
    membership_create(account=account, user=user, role=Role.CONTENT_EDITOR)
    mcp_access_grant(account=account, user=user, acting_user=owner)
    assert has_access(user, account)


def test_grant_in_one_account_opens_nothing_in_another(django_user_model, account):
    other = Account.objects.create(system_name="other", name="Other", mcp_enabled=True)
    user = django_user_model.objects.create_user("member")
    membership_create(account=account, user=user, role=Role.OWNER)
    membership_create(account=other, user=user, role=Role.SUPPORT)
    assert has_access(user, account)
    assert mcp_access_decision(user=user, account=other).reason is Reason.NO_PERMISSION


def test_invalid_role_is_refused_and_nothing_is_stored(django_user_model, account):
    from django.core.exceptions import ValidationError

    user = django_user_model.objects.create_user("member")
    with pytest.raises(ValidationError):
        membership_create(account=account, user=user, role="emperor")
    assert not account.memberships.exists()
    assert not McpAccessChange.objects.unscoped().filter(user=user).exists()
