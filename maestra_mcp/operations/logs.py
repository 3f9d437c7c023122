"""Structured logs: a request id and the account on every record, and one JSON object per line.

``LOG_FORMAT=json`` selects :class:`JsonFormatter` (settings.LOGGING); plain text stays
the default. :class:`RequestContextMiddleware` gives each request an id (the
caller's ``X-Request-ID`` when it is a plausible id, else a new one, echoed in the
response) and notes the account named in the URL, in context variables the
formatter reads, so records logged anywhere during the request carry both.
Records carry only what the code logs plus these two: no headers, no query strings,
no tokens, no user names.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# An id a proxy or client chose is kept (to follow one request through several
# systems) only when it cannot smuggle anything into a log line.
_PLAUSIBLE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
account_name: ContextVar[str | None] = ContextVar("account_name", default=None)


def new_request_id(offered: str | None) -> str:
    """``offered`` when it is a plausible id, else a fresh random one."""
    if offered and _PLAUSIBLE_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def _request_finished(sender, **kwargs) -> None:
    # A WSGI server reuses the thread for the next request; clear what this one set.
    request_id.set(None)
    account_name.set(None)


def connect_signals() -> None:
    """Called once from the app's ``ready()``."""
    request_finished.connect(_request_finished, dispatch_uid="maestra_log_context_finished")


class RequestContextMiddleware:
    """Sets the request's id (echoed in the response) and the account its URL names.

    Set, not reset on the way out: Django logs "Not Found: …" and other responses
    after the middleware has returned, and those lines need the id too. Under ASGI
    each request runs in a task of its own, so nothing outlives the request; under
    WSGI ``request_finished`` clears them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = new_request_id(request.headers.get(REQUEST_ID_HEADER))
        request_id.set(rid)
        account_name.set(None)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = rid
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        # Every account URL names the account as <system_name> (pages, API).
        if "system_name" in view_kwargs:
            account_name.set(view_kwargs["system_name"])


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, account."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (rid := request_id.get()) is not None:
            entry["request_id"] = rid
        if (account := account_name.get()) is not None:
            entry["account"] = account
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
