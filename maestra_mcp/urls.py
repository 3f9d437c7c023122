"""URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views as account_views
from maestra_mcp.oauth.views.login import ThrottledLoginView

urlpatterns = [
    path("", account_views.home, name="home"),
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("maestra_mcp.account_pages.urls")),
    path("accounts/", include("maestra_mcp.session_logs.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("maestra_mcp.api.urls")),
    # OAuth endpoints (/o/…), discovery (/.well-known/…) and origin fallbacks.
    path("", include("maestra_mcp.oauth.urls")),
]
