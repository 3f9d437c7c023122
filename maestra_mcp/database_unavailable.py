"""A database outage answered as one: 503, ``Retry-After`` and a JSON body, not a 500 page.

Django middleware for the pages and OAuth endpoints (the MCP endpoint, outside
Django's handler, answers its own 503 in ``mcp_server/endpoint.py``). A
connection that cannot be made, or no free pooled connection within
``DATABASE_POOL_TIMEOUT``, is Django's ``OperationalError`` (``InterfaceError``
for a connection lost mid-request); clients such as the OAuth client of an
assistant retry on 503 with ``Retry-After``, but treat a 500 as a bug.
``temporarily_unavailable`` is RFC 6749's own error code for it.
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MESSAGE_DATABASE_UNAVAILABLE = "The service is temporarily unavailable. Try again in a few seconds."


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.warning("%s %s: database unavailable", request.method, request.path, exc_info=True)
        response = JsonResponse(
            {"error": "temporarily_unavailable", "error_description": MESSAGE_DATABASE_UNAVAILABLE},
            status=503,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
