"""The token endpoint: DOT's, with RFC 6749 §5.2's JSON content type on every answer.

Errors raised while DOT stores a token (RFC 8707 ``invalid_target``, ours and
DOT's own) reach the response without oauthlib's headers, so DOT sends their
JSON body as ``text/html``; clients that check the content type would not read
the error.

Grant types other than the code flow and refresh are refused here, before DOT
sees them: DOT routes e.g. the device grant to handlers for features Maestra
does not mount (its models unused), which answered 500.

A client_id URL whose metadata document DOT could not use gets DOT's
``invalid_client`` with a description of what a usable document is (DOT's has none).
"""

from __future__ import annotations

import json

from django.http import JsonResponse
from oauth2_provider.views import TokenView as DotTokenView

from maestra_mcp.oauth.cimd import document_unusable_message, looks_like_metadata_document
from maestra_mcp.oauth.validators import ALLOWED_GRANT_TYPES

MESSAGE_UNSUPPORTED_GRANT = "Only the authorization_code and refresh_token grants are supported."


class TokenView(DotTokenView):
    def post(self, request, *args, **kwargs):
        grant_type = request.POST.get("grant_type")
        # A missing one is DOT's invalid_request.
        if grant_type is not None and grant_type not in ALLOWED_GRANT_TYPES:
            response = JsonResponse(
                {"error": "unsupported_grant_type", "error_description": MESSAGE_UNSUPPORTED_GRANT},
                status=400,
            )
            response["Cache-Control"] = "no-store"
            return response
        response = super().post(request, *args, **kwargs)
        if response.status_code == 401 and looks_like_metadata_document(
            request.POST.get("client_id", "")
        ):
            try:
                body = json.loads(response.content)
            except ValueError:  # not oauthlib's JSON error: leave it as it is
                body = {}
            if isinstance(body, dict) and body.get("error") == "invalid_client":
                body["error_description"] = document_unusable_message()
                response.content = json.dumps(body)
        return response

    def authorization_flow_token_response(self, request, *args, **kwargs):
        response = super().authorization_flow_token_response(request, *args, **kwargs)
        if not response.get("Content-Type", "").startswith("application/json"):
            response["Content-Type"] = "application/json"
        return response
