"""The MCP endpoint: HTTP, bearer token and access policy in front of the SDK.

``asgi.py`` hands every ``/mcp/…`` request here, on a thread of its own between
Django's request signals. For ``POST /mcp/<system_name>``, in this order:

1. transport security, by the SDK's own check (``TransportSecuritySettings``):
   Host, a present ``Origin`` → 421/403;
2. exactly ``/mcp/<system_name>`` → 404; POST only (this server keeps no sessions,
   so GET streams and DELETE have nothing to serve) → 405, except a browser's GET
   (asks for HTML, not an event stream): a short page saying the URL goes into an
   assistant, linking the account's connect page (``mcp_server/connector.html``);
3. the account of the URL — unknown or offboarded → 404;
4. the bearer token, through DOT's validator (``OAUTH2_VALIDATOR_CLASS``) with the
   account's MCP URL as the audience → 401 with a ``WWW-Authenticate`` challenge
   pointing at the account's protected resource metadata;
5. ``permissions.policy.mcp_access_decision`` → 403 with its user-facing message;
6. the body, read here (``_read_message``): at most 64 KiB → 413,
   ``Content-Type: application/json`` → 415, nesting, exactly one JSON-RPC message → 400;
7. the SDK's session manager (stateless, JSON responses): JSON-RPC, both protocol
   eras, then ``server.py`` → the tool's module in ``mcp_catalog/tools/``.

Then the session-log row (``session_log.py``), refusals included, after the
response went out. Nothing is cached between requests: revoking a token,
switching the flag off or revoking MCP Access takes effect on the next request.
Cookies are never read.
"""

from __future__ import annotations

import logging
import re
import time
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import anyio
import pydantic_core
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.template.loader import render_to_string
from django.urls import reverse
from mcp.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp_types import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    PARSE_ERROR,
    ErrorData,
    JSONRPCError,
    jsonrpc_message_adapter,
)
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request as OAuthRequest
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Message, Receive, Scope, Send

from accounts.models import Account
from accounts.selectors import account_served
from maestra_mcp.mcp_catalog.principal import McpPrincipal
from maestra_mcp.mcp_catalog.tools import TOOLS
from maestra_mcp.mcp_server.server import SCOPE_KEY
from maestra_mcp.mcp_server.session_log import Exchange, current_exchange, session_log_write
from maestra_mcp.operations.logs import (
    REQUEST_ID_HEADER,
    account_name,
    new_request_id,
    request_id,
)
from maestra_mcp.operations.metrics import observe_mcp_request
from permissions.policy import Reason, mcp_access_decision

logger = logging.getLogger(__name__)
_TOOL_NAMES = {tool.name for tool in TOOLS} | {""}

MCP_PATH_PREFIX = "/mcp"
_MCP_PATH = re.compile(rf"^{MCP_PATH_PREFIX}/(?P<system_name>[a-z0-9-]{{1,63}})$")
# Tool arguments are a few hundred bytes; anything near this is not a report request.
MAX_REQUEST_BODY_BYTES = 64 * 1024
# A tool call nests about six levels (params, arguments, a list; _meta's client
# capabilities); deeper bodies are refused before any parser or log walk sees them.
MAX_JSON_DEPTH = 32
# Seconds a client should wait when no database connection is free (503).
RETRY_AFTER_SECONDS = 2
# How long a notification's log row waits for the SDK to dispatch it (it has been
# answered already; its handlers only log).
NOTIFICATION_LOG_WAIT_SECONDS = 1

# JSON-RPC error codes of HTTP-level refusals (the body is informative; clients act
# on the status). -32001/-32003 sit in the implementation-defined server range.
AUTHENTICATION_REQUIRED = -32001
ACCESS_DENIED = -32003

# The log reason of the 401 to a request without a token: how every connection
# starts (the client reads the challenge and signs in), logged as a sign-in, not a refusal.
SIGN_IN_CHALLENGE = "no_token"

MESSAGE_NOT_FOUND = "There is no MCP server at this URL."
MESSAGE_METHOD_NOT_ALLOWED = "This MCP server is stateless: send JSON-RPC messages with POST."
MESSAGE_INTERNAL_ERROR = "Internal error. It has been logged; try again later."
MESSAGE_BUSY = "The server is busy. Try again in a few seconds."
MESSAGE_TOO_LARGE = f"The request body is larger than {MAX_REQUEST_BODY_BYTES // 1024} KiB."
MESSAGE_CONTENT_TYPE = "Send the JSON-RPC message with Content-Type: application/json."
MESSAGE_PARSE_ERROR = "Parse error: the body is not valid JSON (UTF-8, no lone surrogates)."
MESSAGE_TOO_DEEP = f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels."
MESSAGE_NOT_ONE_OBJECT = (
    "The body must be one JSON-RPC message: a JSON object. Batches (arrays) and other "
    "JSON values are not accepted."
)
MESSAGE_NOT_JSON_RPC = (
    'Not a JSON-RPC 2.0 message: a request needs "jsonrpc": "2.0", a string "method" and '
    'an "id" (a string or an integer); a notification has no "id"; "params" is an object.'
)
MESSAGE_UNAUTHENTICATED = (
    "Authentication required: connect this MCP server from your assistant to sign in to Maestra."
)
MESSAGE_INVALID_TOKEN = (
    "The access token is invalid, expired, revoked or not issued for this MCP URL. "  # noqa: S105 - a message
    "Reconnect the MCP server in your assistant."
)


def protected_resource_metadata_url(resource: str) -> str:
    """RFC 9728 §3.1: the well-known prefix goes between the resource's origin and path."""
    parts = urlsplit(resource)
    return f"{parts.scheme}://{parts.netloc}/.well-known/oauth-protected-resource{parts.path}"


def transport_security(request: Request) -> TransportSecuritySettings:
    """DNS-rebinding protection for the MCP paths, from Django's settings.

    Hosts: the public URL's and ``ALLOWED_HOSTS`` names, any port. Origins: the
    public URL, ``CSRF_TRUSTED_ORIGINS``, and the request's own origin. The SDK
    matches exactly (or any port with ``:*``), so Django's patterns
    (``.example.com``, ``*``, ``https://*.x``) do not apply to these paths: name
    MCP hosts and origins explicitly. Built per request, as Django reads its
    settings per request.
    """
    names = {urlsplit(settings.MAESTRA_PUBLIC_URL).hostname, *settings.ALLOWED_HOSTS}
    plain = sorted(name for name in names if name and not name.startswith(("*", ".")))
    # Same-origin requests (a page served by this host; the conformance suite's
    # localhost check) are fine, but the SDK's lists are static: this request's own
    # origin is added by hand. Safe because the SDK checks Host before Origin.
    own_origin = f"{request.url.scheme}://{request.headers.get('host', '')}"
    return TransportSecuritySettings(
        allowed_hosts=[*plain, *(f"{name}:*" for name in plain)],
        allowed_origins=[settings.MAESTRA_PUBLIC_URL, *settings.CSRF_TRUSTED_ORIGINS, own_origin],
    )


def _error_response(status: int, code: int, message: str, headers=None) -> Response:
    body = JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=code, message=message))
    return Response(
        body.model_dump_json(by_alias=True, exclude_unset=True),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


class Refused(Exception):
    """An answer given instead of the SDK's, with its reason for the logs and metrics."""

    def __init__(self, response: Response, reason: str, message: str = "") -> None:
        super().__init__(reason)
        self.response, self.reason, self.message = response, reason, message


def _refused(status: int, code: int, message: str, reason: str, headers=None) -> Refused:
    return Refused(_error_response(status, code, message, headers), reason, message)


class McpEndpoint:
    """ASGI app for ``/mcp/…``; ``lifespan()`` must be entered once per instance."""

    def __init__(self, server: Server) -> None:
        # Stateless + JSON: no per-process session state, so any instance behind a
        # load balancer answers any request; each POST gets one JSON answer. Host
        # and Origin are checked in step 1, before the token's queries; the manager
        # still enforces Content-Type and the body cap.
        self.session_manager = StreamableHTTPSessionManager(
            app=server,
            stateless=True,
            json_response=True,
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            max_request_body_size=MAX_REQUEST_BODY_BYTES,
        )

    def lifespan(self):
        """Runs the SDK's session manager (entered by ``asgi.py`` on ASGI lifespan)."""
        return self.session_manager.run()

    @staticmethod
    def handles(path: str) -> bool:
        # Everything under the prefix, so /mcp/acme/ gets a JSON 404 here
        # instead of a Django page or an APPEND_SLASH redirect.
        return path == MCP_PATH_PREFIX or path.startswith(MCP_PATH_PREFIX + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request = Request(scope, receive)
        status = 0

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        request_id.set(new_request_id(request.headers.get(REQUEST_ID_HEADER)))
        exchange = Exchange()  # who asked, what, and the answer: the session-log row
        refusal = None
        try:
            principal = await _admit(request, exchange)
            # Read and checked here, before the SDK: size, depth and shape refusals
            # are JSON-RPC errors, and nothing deep reaches a parser or the log.
            body = await _read_message(scope, receive)
        except Refused as refused:
            refusal = refused
        # The log records of this request carry its id and account (LOG_FORMAT=json).
        account_name.set(exchange.account.system_name if exchange.account else None)
        if refusal is not None:
            if refusal.reason == SIGN_IN_CHALLENGE:
                exchange.challenged(refusal.message)
            else:
                exchange.refused(refusal.message)
            await refusal.response(scope, receive, send_noting_status)
        else:
            # The SDK hands this scope to the tool as ``ctx.request.scope``.
            sdk_scope = {**scope, SCOPE_KEY: principal, "headers": _json_content_type(scope)}
            token = current_exchange.set(exchange)
            try:
                await self.session_manager.handle_request(
                    sdk_scope, _replay(body, receive), send_noting_status
                )
            except Exception:
                # Never a dropped connection: a JSON-RPC error, and the row below.
                logger.exception("MCP request failed inside the SDK")
                exchange.failed(ErrorData(code=INTERNAL_ERROR, message=MESSAGE_INTERNAL_ERROR))
                if status == 0:
                    response = _error_response(500, INTERNAL_ERROR, MESSAGE_INTERNAL_ERROR)
                    await response(scope, receive, send_noting_status)
            finally:
                current_exchange.reset(token)
            if status == HTTPStatus.ACCEPTED:  # a notification: its dispatch comes after
                with anyio.move_on_after(NOTIFICATION_LOG_WAIT_SECONDS):
                    await exchange.dispatched.wait()
        # After the response went out: the client never waits for the metrics or the log row.
        exchange.finish(status)
        observe_mcp_request(
            method=exchange.method,
            # Only this server's tools by name: a client may send any name.
            tool=exchange.tool_name if exchange.tool_name in _TOOL_NAMES else "other",
            status=exchange.status,
            refusal_reason=refusal.reason if refusal else None,
            seconds=time.perf_counter() - started,
        )
        logger.info(
            "mcp %s %s -> %s %s account=%s user=%s token=%s %.1fms",
            request.method,
            scope["path"],
            status,
            refusal.reason if refusal else "served",
            exchange.account.system_name if exchange.account else "-",
            exchange.user.pk if exchange.user else "-",
            exchange.access_token.pk if exchange.access_token else "-",
            (time.perf_counter() - started) * 1000,
        )
        if exchange.account is not None:  # a request naming no account has no log to go to
            await sync_to_async(session_log_write)(
                exchange,
                http_status=status,
                duration_ms=(time.perf_counter() - started) * 1000,
                user_agent=request.headers.get("user-agent", ""),
                secrets=(_bearer_token(request) or "",),
            )


def _json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in ``body``, without parsing it.

    Strings are removed first (brackets inside them do not nest); the rest is a
    linear count, so no recursion limit is ever near whatever the input.
    """
    depth = deepest = 0
    for bracket in re.findall(rb"[\[\]{}]", re.sub(rb'"(?:[^"\\]|\\.)*"', b"", body)):
        if bracket in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


async def _read_message(scope: Scope, receive: Receive) -> bytes:
    """The body, if it is one JSON-RPC message the SDK may parse; else raises Refused."""
    headers = dict(scope["headers"])
    media_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if media_type != b"application/json":
        raise _refused(415, INVALID_REQUEST, MESSAGE_CONTENT_TYPE, "content_type")
    declared = headers.get(b"content-length", b"")
    if declared.isdigit() and int(declared) > MAX_REQUEST_BODY_BYTES:
        raise _refused(413, INVALID_REQUEST, MESSAGE_TOO_LARGE, "too_large")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if size > MAX_REQUEST_BODY_BYTES:
            raise _refused(413, INVALID_REQUEST, MESSAGE_TOO_LARGE, "too_large")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    if _json_depth(body) > MAX_JSON_DEPTH:
        raise _refused(400, INVALID_REQUEST, MESSAGE_TOO_DEEP, "too_deep")
    try:
        # The SDK's own parser, so what passes here parses there (it refuses lone
        # surrogates, which json.loads would let through).
        value = pydantic_core.from_json(body)
    except ValueError:
        raise _refused(400, PARSE_ERROR, MESSAGE_PARSE_ERROR, "parse_error") from None
    if not isinstance(value, dict):
        raise _refused(400, INVALID_REQUEST, MESSAGE_NOT_ONE_OBJECT, "not_one_object")
    try:
        jsonrpc_message_adapter.validate_python(value, by_name=False)
    except ValidationError:
        raise _refused(400, INVALID_REQUEST, MESSAGE_NOT_JSON_RPC, "not_json_rpc") from None
    if "method" in value and "id" in value and not _is_request_id(value["id"]):
        # The SDK's union would take it for a notification and answer 202, nothing:
        # MCP ids are strings or integers, never null.
        raise _refused(400, INVALID_REQUEST, MESSAGE_NOT_JSON_RPC, "not_json_rpc")
    return body


def _is_request_id(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the SDK the body read already, then the client's events."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


def _json_content_type(scope: Scope) -> list[tuple[bytes, bytes]]:
    """The headers with Content-Type as the SDK compares it (media types are
    case-insensitive, RFC 9110 §8.3.1; the SDK matches ``application/json`` exactly)."""
    return [
        (name, b"application/json") if name == b"content-type" else (name, value)
        for name, value in scope["headers"]
    ]


async def _admit(request: Request, exchange: Exchange) -> McpPrincipal:
    """Steps 1 to 5: the principal the SDK serves; raises Refused instead."""
    # Host and Origin only: the Content-Type is checked with the body (_read_message),
    # after the token, so that refusal is a logged 415 like the other body refusals.
    sdk_refusal = await TransportSecurityMiddleware(transport_security(request)).validate_request(
        request, is_post=False
    )
    if sdk_refusal is not None:
        # The SDK's plain-text refusal (Host, Origin), as a JSON-RPC error.
        message = bytes(sdk_refusal.body).decode()
        raise _refused(sdk_refusal.status_code, INVALID_REQUEST, message, "transport")
    match = _MCP_PATH.match(request.scope["path"])
    if match is None:
        raise _refused(404, INVALID_REQUEST, MESSAGE_NOT_FOUND, "no_path")
    if request.method == "GET" and _wants_html(request):
        raise Refused(await sync_to_async(_browser_page)(match["system_name"]), "browser")
    if request.method != "POST":
        allow = {"Allow": "POST"}
        raise _refused(405, INVALID_REQUEST, MESSAGE_METHOD_NOT_ALLOWED, "method", allow)
    raw_token = _bearer_token(request)
    try:
        return await sync_to_async(_authorize)(match["system_name"], raw_token, exchange)
    except (OperationalError, InterfaceError):
        # No free connection in the pool within its timeout, or no database at all.
        logger.warning("MCP request refused: database unavailable", exc_info=True)
        exchange.account = None  # unlogged: the log is in the database
        if raw_token is None:
            # The 401 needs no database: the challenge names the URL's own metadata.
            # (An unknown account gets the same 401 as a known one, not a 404, while
            # the database is away.)
            url = Account(system_name=match["system_name"]).mcp_url
            raise _refused(
                401,
                AUTHENTICATION_REQUIRED,
                MESSAGE_UNAUTHENTICATED,
                "no_token (database unavailable)",
                {"WWW-Authenticate": _challenge(url)},
            ) from None
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        raise _refused(503, INTERNAL_ERROR, MESSAGE_BUSY, "busy", headers) from None
    except Refused:
        raise
    except Exception:
        logger.exception("MCP request failed before reaching the SDK")
        raise _refused(500, INTERNAL_ERROR, MESSAGE_INTERNAL_ERROR, "error") from None


def _wants_html(request: Request) -> bool:
    """A person's browser opening the URL; MCP clients ask for JSON or an event stream."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "text/event-stream" not in accept


def _browser_page(system_name: str) -> HTMLResponse:
    """What a person who pasted the connector URL into a browser should read instead.

    Anonymous and not logged: it names no account beyond the URL's own system
    name (the connect page behind the link checks who may see it).
    """
    account = account_served(system_name=system_name)
    context = {
        "mcp_url": account.mcp_url if account else "",
        "connect_url": reverse("accounts:mcp_settings", args=[system_name]) if account else "",
    }
    html = render_to_string("mcp_server/connector.html", context)
    return HTMLResponse(html, status_code=200 if account else 404)


def _bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None for anything else."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def _challenge(mcp_url: str) -> str:
    return (
        f'Bearer resource_metadata="{protected_resource_metadata_url(mcp_url)}", '
        f'scope="{settings.MCP_SCOPE}"'
    )


def _authorize(system_name: str, raw_token: str | None, exchange: Exchange) -> McpPrincipal:
    """Account → bearer token → policy, in one hop to the request's thread (all ORM work).

    Who asked, as far as it got, is noted on ``exchange`` for the log row.
    """
    account = exchange.account = account_served(system_name=system_name)
    if account is None:
        raise _refused(404, INVALID_REQUEST, MESSAGE_NOT_FOUND, "no_account")

    challenge = {"WWW-Authenticate": _challenge(account.mcp_url)}
    if raw_token is None:
        raise _refused(
            401, AUTHENTICATION_REQUIRED, MESSAGE_UNAUTHENTICATED, SIGN_IN_CHALLENGE, challenge
        )

    # The audience is the canonical public URL, not the URL this request arrived
    # at: behind a TLS-terminating proxy the latter is http:// and would never match.
    oauth_request = OAuthRequest(account.mcp_url)
    validator = oauth2_settings.OAUTH2_VALIDATOR_CLASS()
    if not validator.validate_bearer_token(raw_token, [settings.MCP_SCOPE], oauth_request):
        dot_error: dict[str, Any] = getattr(oauth_request, "oauth2_error", None) or {}
        why = dot_error.get("error_description", "unknown or expired")
        challenge["WWW-Authenticate"] += ', error="invalid_token"'
        raise _refused(
            401, AUTHENTICATION_REQUIRED, MESSAGE_INVALID_TOKEN, f"invalid_token ({why})", challenge
        )

    user = exchange.user = oauth_request.user
    access_token = exchange.access_token = oauth_request.access_token
    decision = mcp_access_decision(user=user, account=account)
    if decision.reason is Reason.ACCOUNT_UNAVAILABLE:  # offboarded since the lookup above
        raise _refused(404, INVALID_REQUEST, MESSAGE_NOT_FOUND, "no_account")
    if not decision.allowed:
        raise _refused(403, ACCESS_DENIED, decision.message, f"policy:{decision.reason.value}")
    return McpPrincipal(account=account, user=user, access_token=access_token)
