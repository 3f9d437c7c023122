"""``/api/v1/``: the platform API and its OpenAPI schema."""

from django.urls import path
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
]
