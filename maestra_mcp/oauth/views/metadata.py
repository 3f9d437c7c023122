"""RFC 9728 protected-resource metadata: the root document and each account's.

Both are DOT's own view, so both documents are built one way. The root
document (``/.well-known/oauth-protected-resource``) describes the server as a
whole: a client that found only this one sends the origin as ``resource`` and
the user picks the account on the consent page (see ``resources.py``). The
path-suffixed form (RFC 9728 §3.1: ``/.well-known/oauth-protected-resource`` +
the resource's path, e.g. ``…/mcp/acme``, the URL of the MCP endpoint's 401
challenge) describes the resource at that path: an account's MCP URL, byte for
byte (§3.3), mapped to its account by ``resources.account_for_resource``. Both
are public by design: they are what a client reads before it has a token. The
authorization server metadata is DOT's own view; the issuer is pinned to the
bare public origin by ``OIDC_ISS_ENDPOINT`` (settings).
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from oauth2_provider.views import OAuthProtectedResourceMetadataView

from maestra_mcp.oauth.resources import account_for_resource


class ProtectedResourceMetadataView(OAuthProtectedResourceMetadataView):
    def get(self, request, *args, resource_path: str | None = None, **kwargs):
        if resource_path is None:
            self.resource = settings.MAESTRA_PUBLIC_URL
        else:
            account = account_for_resource(f"{settings.MAESTRA_PUBLIC_URL}/{resource_path}")
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
