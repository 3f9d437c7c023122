"""The Owner's session-log page, under the account pages' /accounts/<system_name>/."""

from django.urls import path

from maestra_mcp.session_logs import views

app_name = "session_logs"

urlpatterns = [
    path(
        "<slug:system_name>/session-logs/",
        views.account_session_logs,
        name="account_logs",
    ),
]
