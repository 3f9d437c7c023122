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
The endpoint is anonymous, and a client_id URL it does not know yet makes DOT
fetch that document and register a client, so such a request counts against the
caller's address under the registration rate limit, as a registration would.
"""

from __future__ import annotations

import json

from django.http import JsonResponse
from oauth2_provider.models import get_application_model
from oauth2_provider.views import TokenView as DotTokenView

from maestra_mcp.oauth.cimd import document_unusable_message, looks_like_metadata_document
from maestra_mcp.oauth.validators import ALLOWED_GRANT_TYPES
from maestra_mcp.oauth.views.registration import registration_throttled

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
        client_id = request.POST.get("client_id", "")
        # No stored client_id holds NUL (PostgreSQL text cannot): DOT's lookup refuses it.
        is_document = looks_like_metadata_document(client_id) and "\x00" not in client_id
        is_new_document = (
            is_document and not get_application_model().objects.filter(client_id=client_id).exists()
        )
        if is_new_document and (throttled := registration_throttled(request)):
            return throttled
        response = super().post(request, *args, **kwargs)
        if response.status_code == 401 and is_document:
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
