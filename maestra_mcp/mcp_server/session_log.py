"""One session-log row per MCP request: what was asked and what came back.

The endpoint notes who asked on the request's :class:`Exchange` (account, user,
token, as far as its checks got) and sets it as ``current_exchange`` (a context
variable: the SDK runs each message in a copy of the request's context, and
notifications carry no HTTP request to hang it on); the SDK middleware below
fills in what was asked from the SDK's own values (method, params, the result
or the error it raised), or the endpoint marks it refused when it answered
before the SDK. After the response went out the endpoint writes it
with :func:`session_log_write`. Redaction of credentials, size caps and the
offboarding rule live in ``maestra_mcp.session_logs.services``.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import anyio
from django.contrib.auth.models import AbstractBaseUser
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.shared.jsonrpc_dispatcher import handler_exception_to_error_data
from mcp_types import INTERNAL_ERROR, ErrorData
from oauth2_provider.models import AccessToken

from accounts.models import Account
from maestra_mcp.session_logs.models import McpSessionLog
from maestra_mcp.session_logs.services import session_log_record

Status = McpSessionLog.Status


@dataclass
class Exchange:
    """Who asked what in one request, and what they got.

    ``account``, ``user`` and ``access_token`` are as far as the endpoint got before
    it served or refused the request; ``method`` is empty if the SDK never dispatched it.
    """

    account: Account | None = None
    user: AbstractBaseUser | None = None
    access_token: AccessToken | None = None
    method: str = ""
    tool_name: str = ""
    params: Mapping[str, Any] | None = None
    result: Any = None
    error: str = ""
    status: str = Status.SUCCESS
    protocol_version: str = ""
    # Set when the SDK's middleware chain returned. A request's answer waits for
    # it anyway; a notification is answered 202 at once and dispatched after.
    dispatched: anyio.Event = field(default_factory=anyio.Event)

    def refused(self, message: str) -> None:
        self.status, self.error = Status.REFUSED, message

    def challenged(self, message: str) -> None:
        """The 401 without a token that sends a client to sign in: expected, not a failure."""
        self.status, self.error = Status.SIGN_IN, message

    def failed(self, error: ErrorData) -> None:
        self.status, self.error = Status.ERROR, error.message
        self.result = error.model_dump(mode="json", exclude_none=True)

    def finish(self, http_status: int) -> None:
        """Settle the outcome from the HTTP status sent (idempotent); 0 = nothing was sent."""
        if not self.method and http_status >= 400 and self.status == Status.SUCCESS:
            # Refused by the SDK's HTTP layer (wrong Accept, a protocol-version header).
            try:
                phrase = HTTPStatus(http_status).phrase
            except ValueError:
                phrase = f"HTTP {http_status}"
            self.refused(phrase)
        elif (http_status >= 400 or http_status == 0) and self.status == Status.SUCCESS:
            self.status = Status.ERROR

    def answered(self, result: Mapping[str, Any]) -> None:
        if self.method == "initialize":
            self.protocol_version = str(result.get("protocolVersion", self.protocol_version))
        if self.method != "tools/call":
            # Other results (tool lists, capabilities) are the same for everyone:
            # only tool answers are worth keeping per request.
            return
        self.result = result.get("structuredContent", result.get("content"))
        if result.get("isError"):
            self.status = Status.ERROR
            self.error = " ".join(block.get("text", "") for block in result.get("content", []))


current_exchange: ContextVar[Exchange | None] = ContextVar("mcp_exchange", default=None)


class SessionLogMiddleware(ServerMiddleware[Any]):
    """Fills the request's :class:`Exchange` from the message the SDK dispatches."""

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        exchange = current_exchange.get()
        if exchange is None:  # not through the endpoint (an in-process client)
            return await call_next(ctx)
        exchange.method = ctx.method
        exchange.params = dict(ctx.params) if ctx.params is not None else None
        exchange.protocol_version = ctx.protocol_version
        if ctx.method == "tools/call" and ctx.params:
            exchange.tool_name = str(ctx.params.get("name", ""))
        try:
            result = await call_next(ctx)
        except Exception as exc:
            error = handler_exception_to_error_data(exc)
            exchange.failed(error or ErrorData(code=INTERNAL_ERROR, message="Internal error"))
            raise
        finally:
            exchange.dispatched.set()
        if isinstance(result, Mapping):  # the SDK's wire form (None for a notification)
            exchange.answered(result)
        return result


def session_log_write(exchange: Exchange, *, http_status: int, **request_fields: Any) -> None:
    """The row of one request (``session_log_record`` never raises, and always stores one)."""
    exchange.finish(http_status)
    session_log_record(
        account=exchange.account,
        user=exchange.user,
        access_token=exchange.access_token,
        method=exchange.method,
        tool_name=exchange.tool_name,
        params=exchange.params,
        result=exchange.result,
        error=exchange.error,
        status=exchange.status,
        protocol_version=exchange.protocol_version,
        http_status=http_status or None,
        **request_fields,
    )
