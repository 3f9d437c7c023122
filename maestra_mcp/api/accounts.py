"""The account's MCP feature flag and its team's MCP Access and brands."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import account_membership_get, account_team
from accounts.services import account_mcp_feature_switch
from maestra_mcp.api.base import ERRORS, INVALID_BODY, AccountAPIView, ErrorSerializer
from maestra_mcp.session_logs.selectors import session_log_last_request_by_user
from permissions.brand_scope import brand_restriction_set
from permissions.forms import BrandRestrictionForm
from permissions.selectors import brand_restrictions, mcp_access_is_last_owner, mcp_access_user_ids
from permissions.services import mcp_access_grant, mcp_access_revoke
from reporting.models import Brand

MESSAGE_CSM_ONLY = "Only Customer Success Managers can switch the MCP feature."
MESSAGE_CONFIRM_LAST_OWNER = (
    "This is the last Owner with MCP Access: send confirm=true to revoke it anyway."
)


class McpFeatureSerializer(serializers.Serializer):
    system_name = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    mcp_enabled = serializers.BooleanField()
    mcp_url = serializers.CharField(read_only=True, help_text="The connector URL members use.")


class McpFeatureView(AccountAPIView):
    """GET: the MCP feature flag (members, CSMs). PATCH: switch it (CSMs only)."""

    access_level = "member"

    @extend_schema(responses={200: McpFeatureSerializer, **ERRORS})
    def get(self, request: Request, system_name: str) -> Response:
        return Response(McpFeatureSerializer(self.access.account).data)

    @extend_schema(
        request=McpFeatureSerializer,
        responses={200: McpFeatureSerializer, 400: INVALID_BODY, **ERRORS},
    )
    def patch(self, request: Request, system_name: str) -> Response:
        if not self.access.is_csm:  # staff holding accounts.change_mcp_feature
            raise PermissionDenied(MESSAGE_CSM_ONLY)
        incoming = McpFeatureSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        account = self.access.account
        account_mcp_feature_switch(
            account=account,
            enabled=incoming.validated_data["mcp_enabled"],
            acting_user=request.user,
        )
        return Response(McpFeatureSerializer(account).data)


class MemberSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The membership id (used in the member URLs).")
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.CharField()
    is_active = serializers.BooleanField()
    mcp_access = serializers.BooleanField()
    brands = serializers.ListField(
        child=serializers.IntegerField(),
        allow_null=True,
        help_text="Ids of the brands the member is limited to; null = every brand.",
    )
    last_mcp_request = serializers.DateTimeField(allow_null=True)


def _member_rows(account, memberships) -> list[dict]:
    """The team page's view of each member, in the same few queries."""
    holders = mcp_access_user_ids(account=account)
    last_requests = session_log_last_request_by_user(account=account)
    restrictions = brand_restrictions(
        account=account, brands=list(Brand.objects.for_account(account))
    )
    return [
        {
            "id": m.pk,
            "user_id": m.user_id,
            "username": m.user.get_username(),
            "role": m.role,
            "is_active": m.is_active,
            "mcp_access": m.user_id in holders,
            "brands": sorted(restrictions[m.user_id]) if m.user_id in restrictions else None,
            "last_mcp_request": last_requests.get(m.user_id),
        }
        for m in memberships
    ]


class MembersView(AccountAPIView):
    """Every member with role, MCP Access and brand restriction (Owners and CSMs)."""

    access_level = "owner"

    @extend_schema(responses={200: MemberSerializer(many=True), **ERRORS})
    def get(self, request: Request, system_name: str) -> Response:
        account = self.access.account
        rows = _member_rows(account, account_team(account=account))
        return Response(MemberSerializer(rows, many=True).data)


class _MemberView(AccountAPIView):
    access_level = "owner"

    def member(self, membership_id: int):
        membership = account_membership_get(
            account=self.access.account, membership_id=membership_id
        )
        if membership is None:
            raise Http404
        return membership

    def answer(self, membership) -> Response:
        row = _member_rows(self.access.account, [membership])[0]
        return Response(MemberSerializer(row).data)


class McpAccessSerializer(serializers.Serializer):
    granted = serializers.BooleanField()
    confirm = serializers.BooleanField(
        default=False, help_text="Required to revoke the last Owner's MCP Access."
    )


class MemberMcpAccessView(_MemberView):
    """Grant or revoke one member's MCP Access, audited like the team page."""

    @extend_schema(
        request=McpAccessSerializer,
        responses={
            200: MemberSerializer,
            400: INVALID_BODY,
            **ERRORS,
            409: OpenApiResponse(ErrorSerializer, description="The last Owner, without confirm."),
        },
    )
    def put(self, request: Request, system_name: str, membership_id: int) -> Response:
        membership = self.member(membership_id)
        incoming = McpAccessSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        granted, confirmed = incoming.validated_data["granted"], incoming.validated_data["confirm"]
        account, member = self.access.account, membership.user
        if granted != (member.pk in mcp_access_user_ids(account=account)):
            if (
                not granted
                and not confirmed
                and mcp_access_is_last_owner(account=account, user=member)
            ):
                return Response(
                    {"detail": MESSAGE_CONFIRM_LAST_OWNER}, status=status.HTTP_409_CONFLICT
                )
            service = mcp_access_grant if granted else mcp_access_revoke
            service(account=account, user=member, acting_user=request.user)
        return self.answer(membership)


class BrandsSerializer(serializers.Serializer):
    brands = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of the account's brands to limit the member to; [] = every brand.",
    )


class MemberBrandsView(_MemberView):
    """Limit one member's reports to some brands, audited like the team page."""

    @extend_schema(
        request=BrandsSerializer,
        responses={200: MemberSerializer, 400: INVALID_BODY, **ERRORS},
    )
    def put(self, request: Request, system_name: str, membership_id: int) -> Response:
        membership = self.member(membership_id)
        incoming = BrandsSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        # The team page's form: only this account's brands are valid choices.
        form = BrandRestrictionForm(
            {"brands": incoming.validated_data["brands"]}, account=self.access.account
        )
        if not form.is_valid():
            raise serializers.ValidationError({"brands": ["Choose brands of this account."]})
        brand_restriction_set(
            account=self.access.account,
            user=membership.user,
            brands=form.cleaned_data["brands"],
            acting_user=request.user,
        )
        return self.answer(membership)
