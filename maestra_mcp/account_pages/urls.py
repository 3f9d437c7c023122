"""Member and Owner pages of one account; each view goes through accounts.access.

The namespace stays ``accounts`` (URL names such as ``accounts:team``).
"""

from django.urls import path

from maestra_mcp.account_pages import views

app_name = "accounts"

urlpatterns = [
    path("<slug:system_name>/mcp/", views.mcp_settings, name="mcp_settings"),
    path(
        "<slug:system_name>/mcp/connections/<int:application_id>/revoke/",
        views.mcp_connection_revoke,
        name="mcp_connection_revoke",
    ),
    path("<slug:system_name>/team/", views.team, name="team"),
    path(
        "<slug:system_name>/team/<int:membership_id>/mcp-access/",
        views.team_mcp_access,
        name="team_mcp_access",
    ),
    path(
        "<slug:system_name>/team/<int:membership_id>/brands/",
        views.team_brands,
        name="team_brands",
    ),
]
