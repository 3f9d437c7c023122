"""The account's MCP session logs: cursor-paginated JSON, or the whole selection as CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from maestra_mcp.api.base import ERRORS, AccountAPIView, ErrorSerializer
from maestra_mcp.session_logs.models import VIEW_PERMISSION, McpSessionLog
from maestra_mcp.session_logs.selectors import session_logs_of_account
from maestra_mcp.session_logs.views import MESSAGE_LOGS_OWNERS_ONLY, SessionLogFilterForm

CSV_COLUMNS = (
    "created_at",
    "user",
    "client",
    "method",
    "tool",
    "status",
    "http_status",
    "duration_ms",
    "error",
    "params",
)


class SessionLogSerializer(serializers.ModelSerializer):
    user = serializers.SerializerMethodField()

    class Meta:
        model = McpSessionLog
        fields = [
            "id",
            "created_at",
            "user",
            "oauth_client_name",
            "protocol_version",
            "method",
            "tool_name",
            "params",
            "result",
            "error",
            "status",
            "http_status",
            "duration_ms",
        ]

    def get_user(self, log: McpSessionLog) -> str | None:
        return log.user.get_username() if log.user else None


class SessionLogPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next (older) page.")
    previous = serializers.URLField(allow_null=True)
    results = SessionLogSerializer(many=True)


class FilterErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="The messages of each invalid filter.",
    )


class NewestFirst(CursorPagination):
    page_size = 50
    max_page_size = 500
    page_size_query_param = "page_size"
    # The selector's own order; the id breaks ties between rows of the same instant.
    ordering = ("-created_at", "-id")

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except ValidationError:
            # The cursor decoded, but its position is no date-time (the cursor is only
            # base64 of "p=<position>", so anyone can forge one): as any invalid cursor.
            raise NotFound(self.invalid_cursor_message) from None


class CsvRenderer(renderers.BaseRenderer):
    """Declares ``?format=csv`` to content negotiation; the view streams the CSV itself."""

    media_type = "text/csv"
    format = "csv"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        # Only error bodies (400, 403, 404) are rendered here, the CSV itself is
        # streamed: they are JSON, and say so rather than claim to be a CSV.
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data).encode()


def _spreadsheet_safe(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet; the values come
    # from assistants' requests, so they are defused.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv_rows(logs) -> Iterator[str]:
    class Line:
        def write(self, text: str) -> str:
            return text

    writer = csv.writer(Line())
    yield writer.writerow(CSV_COLUMNS)
    for log in logs.iterator(chunk_size=1000):
        yield writer.writerow(
            [
                log.created_at.isoformat(),
                _spreadsheet_safe(log.user.get_username() if log.user else ""),
                _spreadsheet_safe(log.oauth_client_name),
                log.method,
                _spreadsheet_safe(log.tool_name),
                log.status,
                log.http_status or "",
                log.duration_ms,
                _spreadsheet_safe(log.error),
                _spreadsheet_safe(json.dumps(log.params)) if log.params is not None else "",
            ]
        )


class SessionLogsView(AccountAPIView):
    """Owners, and CSMs holding the session-log permission; filter by status and tool."""

    access_level = "owner"
    renderer_classes = [renderers.JSONRenderer, CsvRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status", enum=["", *McpSessionLog.Status.values], description="blank: any"
            ),
            OpenApiParameter("tool", {"type": "string", "maxLength": 100}),
            OpenApiParameter(
                "format",
                enum=["json", "csv"],
                description=f"csv: every row, columns {', '.join(CSV_COLUMNS)}",
            ),
            OpenApiParameter("cursor", str, description="From a page's next or previous link."),
            OpenApiParameter(
                "page_size",
                int,
                description=f"Rows a page: {NewestFirst.page_size} by default, at most "
                f"{NewestFirst.max_page_size} (a larger one gives that many).",
            ),
        ],
        responses={
            (200, "application/json"): SessionLogPageSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            # Errors are JSON whatever the format asked (CsvRenderer).
            (400, "application/json"): FilterErrorSerializer,
            (403, "application/json"): ERRORS[403],
            (404, "application/json"): OpenApiResponse(
                ErrorSerializer,
                description="No such account for this user (unknown, offboarded and not theirs "
                "alike), or an invalid cursor.",
            ),
        },
    )
    def get(self, request: Request, system_name: str):
        if not (self.access.is_owner or request.user.has_perm(VIEW_PERMISSION)):
            raise PermissionDenied(MESSAGE_LOGS_OWNERS_ONLY)
        form = SessionLogFilterForm(request.query_params)
        if not form.is_valid():
            return Response({"detail": "Invalid filter.", "errors": form.errors}, status=400)
        logs = session_logs_of_account(
            account=self.access.account,
            status=form.cleaned_data["status"],
            tool_name=form.cleaned_data["tool"],
        )
        if request.accepted_renderer.format == "csv":
            filename = f"{self.access.account.system_name}-mcp-session-logs.csv"
            return StreamingHttpResponse(
                _csv_rows(logs),
                content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        paginator = NewestFirst()
        page = paginator.paginate_queryset(logs, request, view=self)
        return paginator.get_paginated_response(SessionLogSerializer(page, many=True).data)
