"""``/api/v1/``: the platform API and its OpenAPI schema."""

from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView

from maestra_mcp.api.accounts import (
    McpFeatureView,
    MemberBrandsView,
    MemberMcpAccessView,
    MembersView,
)
from maestra_mcp.api.reports import CampaignReportView, FlowReportView
from maestra_mcp.api.session_logs import SessionLogsView

app_name = "api"


@csrf_exempt  # it changes nothing, so a write without the token gets the same JSON 404
def not_found(request: HttpRequest) -> JsonResponse:
    """Any other URL under accounts/ (e.g. a membership id that is no number): the JSON 404
    the endpoints answer, not the site's HTML page."""
    return JsonResponse({"detail": "Not found."}, status=404)


account = "accounts/<slug:system_name>/"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(f"{account}mcp", McpFeatureView.as_view(), name="mcp_feature"),
    path(f"{account}members", MembersView.as_view(), name="members"),
    path(
        f"{account}members/<int:membership_id>/mcp-access",
        MemberMcpAccessView.as_view(),
        name="member_mcp_access",
    ),
    path(
        f"{account}members/<int:membership_id>/brands",
        MemberBrandsView.as_view(),
        name="member_brands",
    ),
    path(f"{account}session-logs", SessionLogsView.as_view(), name="session_logs"),
    path(f"{account}reports/campaigns", CampaignReportView.as_view(), name="campaign_report"),
    path(f"{account}reports/flows", FlowReportView.as_view(), name="flow_report"),
    re_path(r"^accounts/", not_found),  # last
]
