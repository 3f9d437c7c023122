"""Discovery documents at the origin: RFC 8414 and the root RFC 9728 document.

The authorization server metadata is DOT's own view; the issuer is pinned to
the bare public origin by ``OIDC_ISS_ENDPOINT`` (settings). The per-account
protected-resource documents (``/.well-known/oauth-protected-resource/mcp/<x>``)
belong to the MCP endpoint; the root document here describes the server as a
whole: a client that found only this one sends the origin as ``resource`` and
the user picks the account on the consent page (see ``resources.py``).
"""

from __future__ import annotations

from django.conf import settings
from oauth2_provider.views import OAuthProtectedResourceMetadataView


class RootProtectedResourceMetadataView(OAuthProtectedResourceMetadataView):
    def get_resource(self, request):
        return settings.MAESTRA_PUBLIC_URL

    def get_authorization_servers(self, request):
        return [settings.MAESTRA_PUBLIC_URL]

    def get_resource_name(self):
        return "Maestra MCP"
