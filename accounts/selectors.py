"""Reads about accounts and memberships."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from accounts.models import Membership


def memberships_of_user(*, user: AbstractBaseUser) -> QuerySet[Membership]:
    """The user's active memberships in accounts that are still served."""
    return (
        Membership.objects.filter(user=user, is_active=True, account__offboarded_at__isnull=True)
        .select_related("account")
        .order_by("account__name")
    )
