"""OAuth URLs: DOT's endpoints we use (and only those), discovery, and fallbacks.

Mounted at the site root. Every endpoint answers with and without a trailing
slash, so no client POST is ever turned into a redirect by APPEND_SLASH (which
would make a client re-send it as GET). The origin-level ``/authorize``,
``/token`` and ``/register`` are the 2025-03-26 spec's fallbacks for clients
whose discovery failed (Claude does this).

DOT's application-management and authorized-token pages, device flow and OIDC
views are deliberately not mounted: clients register through DCR, and members
manage connections on the account pages.
"""

from django.urls import include, path
from oauth2_provider.views import (
    IntrospectTokenView,
    OAuthServerMetadataView,
    RevokeTokenView,
)

from maestra_mcp.oauth.views.connections import account_connection_revoke, account_connections
from maestra_mcp.oauth.views.consent import ConsentView
from maestra_mcp.oauth.views.metadata import ProtectedResourceMetadataView
from maestra_mcp.oauth.views.registration import RegistrationManagementView, RegistrationView
from maestra_mcp.oauth.views.token import TokenView


def _slash_optional(route: str, view, name: str) -> list:
    """``route/`` (named, so DOT's metadata advertises it) and ``route`` unnamed."""
    return [path(f"{route}/", view, name=name), path(route, view)]


authorize = ConsentView.as_view()
token = TokenView.as_view()
register = RegistrationView.as_view()
protected_resource_metadata = ProtectedResourceMetadataView.as_view()

# Names are DOT's, in DOT's namespace, so its metadata view finds them.
provider_patterns = [
    *_slash_optional("o/authorize", authorize, "authorize"),
    *_slash_optional("o/token", token, "token"),
    *_slash_optional("o/revoke_token", RevokeTokenView.as_view(), "revoke-token"),
    *_slash_optional("o/introspect", IntrospectTokenView.as_view(), "introspect"),
    *_slash_optional("o/register", register, "dcr-register"),
    path(
        "o/register/<str:client_id>/",
        RegistrationManagementView.as_view(),
        name="dcr-register-management",
    ),
    path(
        ".well-known/oauth-authorization-server",
        OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    path(
        ".well-known/oauth-protected-resource",
        protected_resource_metadata,
        name="oauth-resource-metadata",
    ),
    path(
        ".well-known/oauth-protected-resource/<path:resource_path>",
        protected_resource_metadata,
        name="oauth-resource-metadata-account",
    ),
    # Fallback endpoints at the origin (MCP 2025-03-26 "servers without metadata").
    path("authorize", authorize),
    path("token", token),
    path("register", register),
]

# Account pages (tenant resolution through accounts.access, like every account URL).
page_patterns = [
    path(
        "accounts/<slug:system_name>/connections/",
        account_connections,
        name="account_connections",
    ),
    path(
        "accounts/<slug:system_name>/connections/<int:user_id>/<int:application_id>/revoke/",
        account_connection_revoke,
        name="account_connection_revoke",
    ),
]

urlpatterns = [
    path("", include((provider_patterns, "oauth2_provider"))),
    path("", include((page_patterns, "oauth"))),
]
