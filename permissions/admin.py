"""Django admin for memberships, and the membership pieces the Account admin reuses.

Here rather than in ``accounts/`` because a membership's list shows its MCP
Access and saving one applies the role's default MCP Access. The Account admin
itself shows MCP usage from the session logs and offboards through
``maestra_mcp.offboarding``, so it is registered in the MCP layer:
``maestra_mcp.account_pages.admin``.
"""

from __future__ import annotations

from django.contrib import admin
from guardian.shortcuts import get_user_perms

from accounts.models import Membership
from permissions.policy import MCP_ACCESS_PERMISSION
from permissions.services import membership_change_role, membership_create


def save_membership(membership: Membership, changed: list[str]) -> None:
    """Route admin saves through the services so role defaults apply."""
    if membership.pk is None:
        saved = membership_create(
            account=membership.account,
            user=membership.user,
            role=membership.role,
            is_active=membership.is_active,
        )
        membership.pk = saved.pk
        return
    if "role" in changed:
        new_role = membership.role
        membership.role = Membership.objects.values_list("role", flat=True).get(pk=membership.pk)
        membership_change_role(membership=membership, role=new_role)
    membership.save()


class McpAccessColumn:
    """A read-only "MCP Access" column for membership lists."""

    @admin.display(description="MCP Access", boolean=True)
    def mcp_access(self, membership: Membership) -> bool | None:
        if membership.pk is None:
            return None
        return MCP_ACCESS_PERMISSION in get_user_perms(membership.user, membership.account)


class MembershipInline(McpAccessColumn, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "is_active", "mcp_access", "created_at"]
    readonly_fields = ["mcp_access", "created_at"]


@admin.register(Membership)
class MembershipAdmin(McpAccessColumn, admin.ModelAdmin):
    list_display = ["user", "account", "role", "is_active", "mcp_access", "created_at"]
    list_filter = ["role", "is_active", "account"]
    list_select_related = ["user", "account"]
    search_fields = ["user__username", "user__email", "account__system_name"]
    autocomplete_fields = ["user", "account"]

    def save_model(self, request, obj: Membership, form, change: bool) -> None:
        save_membership(obj, form.changed_data if change else [])
