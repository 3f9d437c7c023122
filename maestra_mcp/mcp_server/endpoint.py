"""The MCP endpoint: HTTP + bearer token + access policy in front of the SDK.

One module knows HTTP, MCP transport and bearer tokens. For every request to
``/mcp/<system_name>``, in this order:

1. transport security — Host must be allowed (Django's ``ALLOWED_HOSTS``), a
   present ``Origin`` must be ours (absent is fine: assistant back-ends send none);
2. POST only (both protocol eras work over POST; this server keeps no sessions,
   so GET streams and DELETE have nothing to serve);
3. the account of the URL — unknown or offboarded → 404;
4. the bearer token, through DOT's validator (``OAUTH2_VALIDATOR_CLASS``) with the
   account's canonical MCP URL as the audience → 401 with a ``WWW-Authenticate``
   challenge pointing at the account's protected resource metadata;
5. ``permissions.policy.mcp_access_decision`` → 403 with its user-facing message;
6. the SDK's session manager (stateless, JSON responses), which owns JSON-RPC,
   version negotiation for both eras and the request body cap. Tools find the
   account and user through :mod:`maestra_mcp.mcp_server.principal`.

Nothing is cached between requests: revoking a token, switching the flag off or
revoking MCP Access takes effect on the next request. Cookies are never read.

Steps 1 to 5 cost three small queries (account, token with its user and client,
membership with its grant) in the request's first hop to its thread, after
Django's ``request_started``; the session-log row and ``request_finished`` are
the last hop, after the response went out.

It also serves the per-account RFC 9728 protected resource metadata at
``/.well-known/oauth-protected-resource/mcp/<system_name>``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import signals
from django.http.request import split_domain_port, validate_host
from mcp.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import INTERNAL_ERROR, INVALID_REQUEST, ErrorData, JSONRPCError
from oauth2_provider.models import AccessToken
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request as OAuthRequest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Router
from starlette.types import Receive, Scope, Send

from accounts.models import Account
from accounts.selectors import account_served
from maestra_mcp.mcp_server.principal import SCOPE_KEY, McpPrincipal
from maestra_mcp.mcp_server.session_log import WireTap
from maestra_mcp.mcp_server.threads import RequestThreads
from maestra_mcp.session_logs.models import McpSessionLog
from maestra_mcp.session_logs.services import session_log_record
from permissions.policy import Reason, mcp_access_decision

logger = logging.getLogger(__name__)

MCP_PATH_PREFIX = "/mcp"
PRM_PATH_PREFIX = "/.well-known/oauth-protected-resource/mcp"
_SYSTEM_NAME = r"(?P<system_name>[a-z0-9-]{1,63})"
_MCP_PATH = re.compile(rf"^{MCP_PATH_PREFIX}/{_SYSTEM_NAME}$")
_PRM_PATH = re.compile(rf"^{re.escape(PRM_PATH_PREFIX)}/{_SYSTEM_NAME}$")

_PREFIXES = (MCP_PATH_PREFIX, PRM_PATH_PREFIX)

REQUIRED_SCOPE = "reports:read"
# Tool arguments are a few hundred bytes; anything near this is not a report request.
MAX_REQUEST_BODY_BYTES = 64 * 1024

# JSON-RPC error codes of HTTP-level refusals (the body is informative; clients act
# on the status). -32001/-32003 sit in the implementation-defined server range.
AUTHENTICATION_REQUIRED = -32001
ACCESS_DENIED = -32003

MESSAGE_NOT_FOUND = "There is no MCP server at this URL."
MESSAGE_METHOD_NOT_ALLOWED = "This MCP server is stateless: send JSON-RPC messages with POST."
MESSAGE_INTERNAL_ERROR = "Internal error. It has been logged; try again later."
MESSAGE_BAD_HOST = "Invalid Host header."
MESSAGE_BAD_ORIGIN = "Requests from this Origin are not allowed."
MESSAGE_UNAUTHENTICATED = (
    "Authentication required: connect this MCP server from your assistant to sign in to Maestra."
)
MESSAGE_INVALID_TOKEN = (
    "The access token is invalid, expired, revoked or not issued for this MCP URL. "  # noqa: S105 - a message
    "Reconnect the MCP server in your assistant."
)


def protected_resource_metadata_url(system_name: str) -> str:
    return f"{settings.MAESTRA_PUBLIC_URL}{PRM_PATH_PREFIX}/{system_name}"


def _error_response(status: int, code: int, message: str, headers=None) -> Response:
    body = JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=code, message=message))
    return Response(
        body.model_dump_json(by_alias=True, exclude_unset=True),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


@dataclass(frozen=True)
class _Refusal:
    response: Response
    log_reason: str
    message: str
    # As far as the request got: for the session log of a refused request.
    account: Account | None = None
    user: AbstractBaseUser | None = None
    access_token: AccessToken | None = None


def _refusal(status: int, code: int, message: str, log_reason: str, headers=None, **context):
    response = _error_response(status, code, message, headers)
    return _Refusal(response, log_reason, message, **context)


def _authorize(system_name: str, raw_token: str | None) -> McpPrincipal | _Refusal:
    """Account → bearer token → policy, in one worker-thread hop (all ORM work)."""
    account = account_served(system_name=system_name)
    if account is None:
        return _refusal(404, INVALID_REQUEST, MESSAGE_NOT_FOUND, "no_account")

    challenge = (
        f'Bearer resource_metadata="{protected_resource_metadata_url(system_name)}", '
        f'scope="{REQUIRED_SCOPE}"'
    )
    if raw_token is None:
        return _refusal(
            401,
            AUTHENTICATION_REQUIRED,
            MESSAGE_UNAUTHENTICATED,
            "no_token",
            {"WWW-Authenticate": challenge},
            account=account,
        )

    # The audience is the canonical public URL, not the URL this request arrived
    # at: behind a TLS-terminating proxy the latter is http:// and would never match.
    oauth_request = OAuthRequest(account.mcp_url)
    validator = oauth2_settings.OAUTH2_VALIDATOR_CLASS()
    if not validator.validate_bearer_token(raw_token, [REQUIRED_SCOPE], oauth_request):
        dot_error = getattr(oauth_request, "oauth2_error", None) or {}
        return _refusal(
            401,
            AUTHENTICATION_REQUIRED,
            MESSAGE_INVALID_TOKEN,
            f"invalid_token ({dot_error.get('error_description', 'unknown or expired')})",
            {"WWW-Authenticate": f'{challenge}, error="invalid_token"'},
            account=account,
        )

    user, access_token = oauth_request.user, oauth_request.access_token
    decision = mcp_access_decision(user=user, account=account)
    if decision.reason is Reason.ACCOUNT_UNAVAILABLE:  # offboarded since the lookup above
        return _refusal(404, INVALID_REQUEST, MESSAGE_NOT_FOUND, "no_account")
    if not decision.allowed:
        return _refusal(
            403,
            ACCESS_DENIED,
            decision.message,
            f"policy:{decision.reason.value}",
            account=account,
            user=user,
            access_token=access_token,
        )
    return McpPrincipal(account=account, user=user, access_token=access_token)


def _bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None for anything else."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def _host_refusal(request: Request) -> _Refusal | None:
    """Host must be allowed: the dispatcher bypasses Django's middleware for these
    paths, so ALLOWED_HOSTS is applied here, with Django's own matching rules."""
    domain, _port = split_domain_port(request.headers.get("host", ""))
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return _refusal(421, INVALID_REQUEST, MESSAGE_BAD_HOST, "host")
    return None


def _origin_refusal(request: Request) -> _Refusal | None:
    """DNS-rebinding protection: a present Origin must be ours (absent is fine).

    Ours = the public URL, CSRF_TRUSTED_ORIGINS, or the request's own origin
    (same-origin; its Host has already passed ALLOWED_HOSTS). A rebinding page
    carries its own site's Origin and Host, and is refused by one or the other.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return None
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    allowed = {settings.MAESTRA_PUBLIC_URL, *settings.CSRF_TRUSTED_ORIGINS, own}
    if origin.lower() not in {value.lower() for value in allowed}:
        return _refusal(403, INVALID_REQUEST, MESSAGE_BAD_ORIGIN, "origin")
    return None


class McpEndpoint:
    """ASGI app for the MCP paths; ``lifespan`` must be entered once per instance."""

    def __init__(self, server: Server) -> None:
        # Stateless + JSON: no per-process session state, so any instance behind a
        # load balancer answers any request; each POST gets one JSON answer.
        self.session_manager = StreamableHTTPSessionManager(
            app=server,
            stateless=True,
            json_response=True,
            # Host and Origin are checked above with Django's rules; the SDK still
            # enforces Content-Type and the body cap.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            max_request_body_size=MAX_REQUEST_BODY_BYTES,
        )
        self.threads = RequestThreads()
        self._lifespan_app = Router(lifespan=lambda _app: self.lifespan())

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        try:
            async with self.session_manager.run():
                yield
        finally:
            await self.threads.close()

    async def handle_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI lifespan protocol (uvicorn): runs the SDK's session manager."""
        await self._lifespan_app(scope, receive, send)

    @staticmethod
    def handles(path: str) -> bool:
        # Everything under the prefixes, so /mcp/acme/ gets a JSON 404 here
        # instead of a Django page or an APPEND_SLASH redirect.
        return any(path == prefix or path.startswith(prefix + "/") for prefix in _PREFIXES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].startswith(PRM_PATH_PREFIX):
            await self._protected_resource_metadata(scope, receive, send)
        else:
            await self._mcp(scope, receive, send)

    async def _mcp(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request = Request(scope, receive)
        log_entry = None
        try:
            try:
                outcome = await sync_to_async(_begin_request)(request, _admit)
            except Exception:
                logger.exception("MCP request failed before reaching the SDK")
                outcome = _refusal(500, INTERNAL_ERROR, MESSAGE_INTERNAL_ERROR, "error")
            if isinstance(outcome, _Refusal):
                await outcome.response(scope, receive, send)
                http_status = outcome.response.status_code
                fields = {"status": McpSessionLog.Status.REFUSED, "error": outcome.message}
            else:
                tap = WireTap(receive, send)
                await self.session_manager.handle_request(
                    {**scope, SCOPE_KEY: outcome}, tap.receive, tap.send
                )
                http_status = tap.status
                fields = tap.log_fields(request.headers.get("mcp-protocol-version"))
            log_entry = _log_entry(request, outcome, http_status, started, fields)
        finally:
            # After the response went out: the client never waits for the log row.
            await sync_to_async(_end_request)(log_entry)

    async def _protected_resource_metadata(
        self, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """RFC 9728 document for one account's MCP URL (public, CORS-open)."""
        request = Request(scope, receive)
        try:
            response = await sync_to_async(_begin_request)(request, _protected_resource_metadata)
        finally:
            await sync_to_async(_end_request)(None)
        await response(scope, receive, send)


def _begin_request(request: Request, handler):
    """Django's ``request_started``, then ``handler(request)``: the request's first hop
    to its thread (see ``RequestThreads``), where all its ORM work runs."""
    signals.request_started.send(sender=McpEndpoint, scope=request.scope)
    return handler(request)


def _end_request(log_entry: dict[str, Any] | None) -> None:
    """The session-log row (if any), then Django's ``request_finished`` (which closes
    or keeps the thread's connection as ``CONN_MAX_AGE`` says): the last hop."""
    try:
        if log_entry is not None:
            session_log_record(**log_entry)  # never raises
    finally:
        signals.request_finished.send(sender=McpEndpoint)


def _log_entry(
    request: Request,
    outcome: McpPrincipal | _Refusal,
    http_status: int,
    started: float,
    fields: dict[str, Any],
) -> dict[str, Any] | None:
    """Logs the request (without its token); the session-log row's fields, or None
    for a request that names no account (there is no tenant to attribute it to)."""
    account, user, access_token = outcome.account, outcome.user, outcome.access_token
    duration_ms = (time.perf_counter() - started) * 1000
    logger.info(
        "mcp %s %s -> %s %s account=%s user=%s token=%s %.1fms",
        request.method,
        request.scope["path"],
        http_status,
        outcome.log_reason if isinstance(outcome, _Refusal) else "served",
        account.system_name if account else "-",
        user.pk if user else "-",
        access_token.pk if access_token else "-",
        duration_ms,
    )
    if account is None:
        return None
    return {
        "account": account,
        "user": user,
        "access_token": access_token,
        "http_status": http_status,
        "duration_ms": duration_ms,
        "user_agent": request.headers.get("user-agent", ""),
        **fields,
    }


def _admit(request: Request) -> McpPrincipal | _Refusal:
    refusal = _host_refusal(request) or _origin_refusal(request)
    if refusal is not None:
        return refusal
    match = _MCP_PATH.match(request.scope["path"])
    if match is None:
        return _refusal(404, INVALID_REQUEST, MESSAGE_NOT_FOUND, "no_path")
    if request.method != "POST":
        return _refusal(
            405, INVALID_REQUEST, MESSAGE_METHOD_NOT_ALLOWED, "method", {"Allow": "POST"}
        )
    return _authorize(match["system_name"], _bearer_token(request))


def _protected_resource_metadata(request: Request) -> Response:
    """RFC 9728 document for one account's MCP URL (public, CORS-open)."""
    refusal = _host_refusal(request)
    if refusal is not None:
        return refusal.response
    if request.method not in {"GET", "HEAD"}:
        return _error_response(405, INVALID_REQUEST, "Use GET.", {"Allow": "GET, HEAD"})
    match = _PRM_PATH.match(request.scope["path"])
    account = account_served(system_name=match["system_name"]) if match else None
    if account is None:
        return _error_response(404, INVALID_REQUEST, MESSAGE_NOT_FOUND)
    document = {
        # RFC 9728 §3.3: must equal the URL clients connect to, byte for byte.
        "resource": account.mcp_url,
        "authorization_servers": [settings.MAESTRA_PUBLIC_URL],
        "scopes_supported": [REQUIRED_SCOPE],
        "bearer_methods_supported": ["header"],
        "resource_name": "Maestra MCP",
    }
    headers = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}
    return JSONResponse(document, headers=headers)
