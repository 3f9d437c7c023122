"""RFC 9728 protected-resource metadata: the root document and each account's.

Both are DOT's own view, so both documents are built one way. The root
document (``/.well-known/oauth-protected-resource``) describes the server as a
whole: a client that found only this one sends the origin as ``resource`` and
the user picks the account on the consent page (see ``resources.py``). Each
account's (``/.well-known/oauth-protected-resource/mcp/<system_name>``, the URL
of the MCP endpoint's 401 challenge) names that account's MCP URL, byte for
byte (RFC 9728 §3.3). The authorization server metadata is DOT's own view; the
issuer is pinned to the bare public origin by ``OIDC_ISS_ENDPOINT`` (settings).
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from oauth2_provider.views import OAuthProtectedResourceMetadataView

from accounts.selectors import account_served


class ProtectedResourceMetadataView(OAuthProtectedResourceMetadataView):
    def get(self, request, *args, system_name: str | None = None, **kwargs):
        if system_name is None:
            self.resource = settings.MAESTRA_PUBLIC_URL
        else:
            account = account_served(system_name=system_name)
            if account is None:
                raise Http404("There is no MCP server at this URL.")
            self.resource = account.mcp_url
        response = super().get(request, *args, **kwargs)
        response["Cache-Control"] = "public, max-age=300"
        return response

    def get_resource(self, request):
        return self.resource

    def get_authorization_servers(self, request):
        return [settings.MAESTRA_PUBLIC_URL]

    def get_resource_name(self):
        return "Maestra MCP"
