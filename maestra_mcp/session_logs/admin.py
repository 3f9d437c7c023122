"""Support view of the session logs in the Django admin: read-only, permission-gated.

Only staff holding ``maestra_mcp.view_mcp_session_logs`` (the demo gives it to
the "Customer Success Managers" group) see the logs, of every account. Not even
a superuser can add, change or delete a row here: rows come only from MCP
requests and leave only through retention and the offboarding purge. Account
Owners, who are not staff, read their own account's logs on the member page
``/accounts/<system_name>/session-logs/``.
"""

from __future__ import annotations

import json

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from maestra_mcp.session_logs.models import VIEW_PERMISSION, McpSessionLog


def _pretty_json(value) -> str:
    if value is None:
        return "—"
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))


@admin.register(McpSessionLog)
class McpSessionLogAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "account",
        "user",
        "oauth_client_name",
        "method",
        "tool_name",
        "status",
        "http_status",
        "duration_ms",
    ]
    list_filter = [
        "status",
        "tool_name",
        ("created_at", admin.DateFieldListFilter),
        "account",
        # Only users who appear in the logs, not every user of the platform.
        ("user", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["account", "user"]
    date_hierarchy = "created_at"
    search_fields = ["account__system_name", "user__username", "oauth_client_name", "tool_name"]
    # The table grows by one row per request: skip the unfiltered COUNT(*).
    show_full_result_count = False
    fields = [
        "created_at",
        "account",
        "user",
        "oauth_client_name",
        "oauth_client_id",
        "token_id",
        "protocol_version",
        "method",
        "tool_name",
        "status",
        "http_status",
        "duration_ms",
        "user_agent",
        "error",
        "params_json",
        "result_json",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest):
        # Every account's rows: the admin is the support view, gated below.
        return McpSessionLog.objects.unscoped().select_related("account", "user")

    @admin.display(description="params")
    def params_json(self, log: McpSessionLog) -> str:
        return _pretty_json(log.params)

    @admin.display(description="result")
    def result_json(self, log: McpSessionLog) -> str:
        return _pretty_json(log.result)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_active and request.user.has_perm(VIEW_PERMISSION)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
