"""Tenant resolution for the API: one base view, as ``accounts.access`` does for pages."""

from __future__ import annotations

from typing import ClassVar, Literal

from django.core.exceptions import PermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.access import (
    ACCOUNT_ACCESS_ATTRIBUTE,
    MESSAGE_OWNERS_ONLY,
    AccountAccess,
    account_access_resolve,
)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


# The error answers every endpoint documents beside its 200 (DRF's, and the views' own).
ERRORS = {
    403: OpenApiResponse(
        ErrorSerializer,
        description="Not logged in, a write without the CSRF token, or not allowed here "
        "(e.g. not an Owner).",
    ),
    404: OpenApiResponse(
        ErrorSerializer,
        description="No such account for this user (unknown, offboarded and not theirs "
        "alike), or no such member of it.",
    ),
}
INVALID_BODY = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Invalid body: each field's messages under its name, or detail when the "
    "body is no JSON object.",
)


class AccountAPIView(APIView):
    """An endpoint under ``/api/v1/accounts/<system_name>/``.

    ``initial()`` (after authentication, before the handler) resolves the account
    once through ``accounts.access`` and sets ``self.access``; handlers never look
    the account up. ``access_level`` "owner" admits Owners and CSMs (403 for other
    members), "member" every active member and CSMs. Subclasses may not override
    ``initial``: that is where the decision is made.
    """

    access_level: ClassVar[Literal["member", "owner"]] = "member"
    access: AccountAccess

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "initial" in cls.__dict__:
            raise TypeError(f"{cls.__name__} may not override initial(): it resolves the account")

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        # What tests/accounts/test_access.py looks for on every account URL.
        setattr(view, ACCOUNT_ACCESS_ATTRIBUTE, cls.access_level)
        return view

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles
        self.access = account_access_resolve(user=request.user, system_name=kwargs["system_name"])
        if self.access_level == "owner" and not self.access.can_manage:
            raise PermissionDenied(MESSAGE_OWNERS_ONLY)
