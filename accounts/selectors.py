"""Reads about accounts and memberships."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, IntegerField, QuerySet, Value, When

from accounts.models import Account, Membership, Role


def account_served(*, system_name: str) -> Account | None:
    """The account of a URL's system name; None when it does not exist or is offboarded.

    Runs on every MCP request: one query on the unique ``system_name``.
    """
    try:
        return Account.objects.get(system_name=system_name, offboarded_at__isnull=True)
    except Account.DoesNotExist:
        return None


def accounts_served() -> QuerySet[Account]:
    """Every account still served (not offboarded), by name: what a CSM manages."""
    return Account.objects.filter(offboarded_at__isnull=True).order_by("name")


def memberships_of_user(*, user: AbstractBaseUser) -> QuerySet[Membership]:
    """The user's active memberships in accounts that are still served."""
    return (
        Membership.objects.filter(user=user, is_active=True, account__offboarded_at__isnull=True)
        .select_related("account")
        .order_by("account__name")
    )


def account_team(*, account: Account) -> QuerySet[Membership]:
    """Everyone with a membership of ``account`` (deactivated ones too), Owners first."""
    role_order = Case(
        *(When(role=role, then=Value(index)) for index, role in enumerate(Role)),
        output_field=IntegerField(),
    )
    return (
        Membership.objects.filter(account=account)
        .select_related("user")
        .order_by(role_order, "user__username")
    )


def account_membership_get(*, account: Account, membership_id: int) -> Membership | None:
    """One membership of ``account``; None for an id of another account."""
    return (
        Membership.objects.filter(account=account, pk=membership_id).select_related("user").first()
    )
