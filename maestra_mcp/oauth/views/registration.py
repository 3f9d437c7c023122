"""Client registration (RFC 7591) and its management (RFC 7592): DOT's views behind
Maestra's rate limit and metadata policy.

RFC 7592 stays mounted because DOT's registration answer links to it
(``registration_client_uri``); MCP clients re-register rather than update, so
it matters little, but an update must not be a way around the policy: ``PUT``
is checked exactly like a registration, and every call to either endpoint
counts against the caller's address.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.views import (
    DynamicClientRegistrationManagementView,
    DynamicClientRegistrationView,
)

from maestra_mcp.oauth.registration import registration_problem
from maestra_mcp.oauth.throttle import RateLimit, client_address

MESSAGE_TOO_MANY_REGISTRATIONS = "Too many client registrations from this address; try again later."
MESSAGE_NOT_JSON = "The body must be a JSON object (UTF-8)."


def registration_limit() -> RateLimit:
    return RateLimit("dcr", settings.OAUTH_DCR_RATE_LIMIT, settings.OAUTH_DCR_RATE_WINDOW_SECONDS)


def _error(error: str, description: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status)


def registration_throttled(request) -> JsonResponse | None:
    """Count one registration from the caller's address; the 429 once it has too many.

    Used by the registration endpoints and by the token endpoint for a client_id
    metadata document it does not know yet (fetching one registers a client).
    """
    limit = registration_limit()
    if limit.hit(client_address(request)) <= limit.limit:
        return None
    response = _error("too_many_requests", MESSAGE_TOO_MANY_REGISTRATIONS, status=429)
    response["Retry-After"] = str(limit.window_seconds)
    return response


class RegistrationPolicyMixin:
    """Every request counts against the caller's address, refused ones included, so
    the endpoints cannot be used to probe the policy or fill the table at speed;
    a body (POST, PUT) must pass ``registration_problem`` before DOT reads it."""

    def dispatch(self, request, *args, **kwargs):
        if throttled := registration_throttled(request):
            return throttled
        if request.method in ("POST", "PUT"):
            try:
                metadata = json.loads(request.body)
            except (ValueError, RecursionError):  # bad JSON or UTF-8; nesting past the stack
                return _error("invalid_client_metadata", MESSAGE_NOT_JSON)
            if problem := registration_problem(metadata):
                return _error(*problem)
        return super().dispatch(request, *args, **kwargs)


# csrf_exempt again: as_view() reads it from the outermost dispatch (the mixin's);
# these are API endpoints without cookies, as DOT's own views say.
@method_decorator(csrf_exempt, name="dispatch")
class RegistrationView(RegistrationPolicyMixin, DynamicClientRegistrationView):
    """Open to anonymous clients (Claude, ChatGPT, Cursor register themselves)."""


@method_decorator(csrf_exempt, name="dispatch")
class RegistrationManagementView(RegistrationPolicyMixin, DynamicClientRegistrationManagementView):
    """RFC 7592 read, update and delete, with the registration access token."""
