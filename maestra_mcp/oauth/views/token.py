"""The token endpoint: DOT's, with RFC 6749 §5.2's JSON content type on every answer.

Errors raised while DOT stores a token (RFC 8707 ``invalid_target``, ours and
DOT's own) reach the response without oauthlib's headers, so DOT sends their
JSON body as ``text/html``; clients that check the content type would not read
the error.
"""

from __future__ import annotations

from oauth2_provider.views import TokenView as DotTokenView


class TokenView(DotTokenView):
    def authorization_flow_token_response(self, request, *args, **kwargs):
        response = super().authorization_flow_token_response(request, *args, **kwargs)
        if not response.get("Content-Type", "").startswith("application/json"):
            response["Content-Type"] = "application/json"
        return response
