"""RFC 7591 registration: DOT's view behind Maestra's rate limit and metadata policy."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import JsonResponse
from oauth2_provider.views import DynamicClientRegistrationView

from maestra_mcp.oauth.registration import registration_problem
from maestra_mcp.oauth.throttle import RateLimit, client_address

MESSAGE_TOO_MANY_REGISTRATIONS = "Too many client registrations from this address; try again later."


def registration_limit() -> RateLimit:
    return RateLimit("dcr", settings.OAUTH_DCR_RATE_LIMIT, settings.OAUTH_DCR_RATE_WINDOW_SECONDS)


class RegistrationView(DynamicClientRegistrationView):
    """Open to anonymous clients (Claude, ChatGPT, Cursor register themselves).

    Every attempt counts against the caller's address, refused ones included, so
    the endpoint cannot be used to probe the policy or fill the table at speed.
    """

    def post(self, request, *args, **kwargs):
        limit = registration_limit()
        if limit.hit(client_address(request)) > limit.limit:
            response = JsonResponse(
                {"error": "too_many_requests", "error_description": MESSAGE_TOO_MANY_REGISTRATIONS},
                status=429,
            )
            response["Retry-After"] = str(limit.window_seconds)
            return response
        try:
            metadata = json.loads(request.body)
        except ValueError:
            metadata = None  # DOT answers malformed JSON in RFC 7591 terms
        if isinstance(metadata, dict) and (problem := registration_problem(metadata)):
            error, description = problem
            return JsonResponse({"error": error, "error_description": description}, status=400)
        return super().post(request, *args, **kwargs)
