"""The adversarial corpus of issue #17 in one place, replayed against the whole application.

Every request goes through ``maestra_mcp.asgi``'s application in process (the MCP
endpoint and Django's OAuth views, called as uvicorn calls them) on PostgreSQL.
The families are those of the adversarial run:

1. malformed HTTP and JSON-RPC requests to the MCP endpoint (``MCP_CASES``);
2. tool calls: arguments drawn from each tool's published ``inputSchema`` (dates
   from year 1 to 9999, any limit the schema allows) and garbage beside it (wrong
   types, booleans for numbers, huge limits, unknown keys, hostile text);
3. malformed OAuth requests: registration (RFC 7591) and its management
   (RFC 7592), the token and authorization endpoints, revocation, introspection
   and discovery (``OAUTH_CASES``), and drawn registration bodies, token requests
   and authorization queries.

Every answer: no 5xx, no stack trace or server path in the body, nothing logged
at ERROR, and an error of the expected kind (the endpoint's own JSON-RPC
refusals by their exact message; a tool's argument error when pydantic refuses
the arguments; OAuth errors by their RFC code). Every MCP request that reaches
the account's checks leaves exactly one session-log row, with the status it was
answered; refused OAuth requests store nothing. The regressions of single
findings live beside their code (``tests/mcp_server/test_bad_input.py``,
``tests/oauth/test_registration.py`` …); this module re-runs the whole corpus.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio.from_thread
import httpx2
import jsonschema
import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client as DjangoClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from mcp_types import (
    CLIENT_CAPABILITIES_META_KEY,
    CLIENT_INFO_META_KEY,
    PROTOCOL_VERSION_META_KEY,
)
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken
from pydantic import ValidationError

from maestra_mcp.mcp_catalog.tools import TOOLS
from maestra_mcp.mcp_server.endpoint import (
    MAX_JSON_DEPTH,
    MAX_REQUEST_BODY_BYTES,
    MESSAGE_CONTENT_TYPE,
    MESSAGE_METHOD_NOT_ALLOWED,
    MESSAGE_NOT_FOUND,
    MESSAGE_NOT_JSON_RPC,
    MESSAGE_NOT_ONE_OBJECT,
    MESSAGE_PARSE_ERROR,
    MESSAGE_TOO_DEEP,
    MESSAGE_TOO_LARGE,
)
from maestra_mcp.mcp_server.server import MESSAGE_INTERNAL_ERROR
from maestra_mcp.session_logs.models import McpSessionLog
from tests.support.mcp import MCP_HEADERS, asgi_http_client, mint_token, running_app
from tests.support.oauth import CLAUDE_CALLBACK, Pkce
from tests.support.reports import WINDOW, import_rows, week_rows

pytestmark = pytest.mark.django_db(transaction=True)

ANALYST = "analyst@acme.test"
LEGACY = "2025-11-25"
MODERN = "2026-07-28"
# What the official client puts in every 2026-07-28 request's params.
MODERN_META = {
    PROTOCOL_VERSION_META_KEY: MODERN,
    CLIENT_INFO_META_KEY: {"name": "fuzz", "version": "1"},
    CLIENT_CAPABILITIES_META_KEY: {},
}
# Text a body must never show: a Python traceback, a source location, this checkout.
LEAKS = ("Traceback", 'File "', ".py:", '.py",', "site-packages", str(settings.BASE_DIR))


# --- The application, driven from synchronous test code -------------------------------------
class App:
    """The full ASGI application with its lifespan entered, on a blocking portal, so
    that tests stay synchronous and count rows with the ORM between requests."""

    def __init__(self, portal, http: httpx2.AsyncClient) -> None:
        self.portal, self.http = portal, http

    def request(self, method: str, path: str, cookies=None, **kwargs) -> httpx2.Response:
        self.http.cookies.clear()  # only what a case sends, none an earlier answer set
        self.http.cookies.update(cookies or {})
        return self.portal.call(partial(self.http.request, method, path, **kwargs))


class ErrorLog(logging.Handler):
    """Records logged at ERROR or above (a crash the answer may have hidden)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()}")


@dataclass
class Target:
    """What the corpus runs against: the application, the cast (``acme``), the analyst's
    bearer token for acme, and the records logged at ERROR."""

    app: App
    cast: object
    token: str
    errors: ErrorLog

    @property
    def acme(self):
        return self.cast.acme


@contextmanager
def running(cast) -> Iterator[Target]:
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(running_app()) as application,
        portal.wrap_async_context_manager(asgi_http_client(application)) as http,
    ):
        # After the application is built: building it re-applies LOGGING.
        errors = ErrorLog()
        logging.getLogger().addHandler(errors)
        try:
            token = mint_token(cast.user(ANALYST), resource=[cast.acme.mcp_url])
            yield Target(App(portal, http), cast, token, errors)
        finally:
            logging.getLogger().removeHandler(errors)


@pytest.fixture
def target(cast, settings) -> Iterator[Target]:
    # Registration is rate limited per address (every case comes from one); the
    # limit has its own tests (tests/oauth/test_registration.py).
    settings.OAUTH_DCR_RATE_LIMIT = 10**6
    cache.clear()
    import_rows(cast.acme, week_rows())
    with running(cast) as value:
        yield value
    cache.clear()


def assert_sound(response: httpx2.Response, errors: ErrorLog) -> None:
    """No server error, no internals shown, nothing logged as an error."""
    assert response.status_code < 500, response.text[:500]
    text = response.content.decode("utf-8", "replace")
    leaked = [marker for marker in LEAKS if marker in text]
    assert not leaked, (leaked, text[:500])
    assert not errors.records, errors.records


# --- 1. Malformed HTTP and JSON-RPC requests to the MCP endpoint ---------------------------
MCP_PATH = "/mcp/acme"
HEADERS = {**MCP_HEADERS, "Content-Type": "application/json", "MCP-Protocol-Version": LEGACY}


@dataclass(frozen=True)
class Expected:
    """What an MCP request must get.

    ``status``: the HTTP status. ``code``: the JSON-RPC error code, when the answer
    is an error; ``message``: its exact text (the endpoint's own refusals).
    ``tool_error``: a fragment of a tool error's text. ``row``: the status of the
    request's session-log row, or None for requests answered before the account is
    looked up (Host, Origin, method, path: README "The endpoint"), which leave none.
    """

    status: int
    code: int | None = None
    message: str | None = None
    tool_error: str | None = None
    row: str | None = "refused"


def refused(status: int, code: int, message: str) -> Expected:
    return Expected(status, code, message)


def unlogged(status: int, message: str) -> Expected:
    return Expected(status, -32600, message, row=None)


def protocol_error(code: int) -> Expected:
    return Expected(200, code, row="error")


def tool_error(fragment: str) -> Expected:
    return Expected(200, tool_error=fragment, row="error")


def sdk_refused(status: int, code: int) -> Expected:
    """The SDK's own refusal before it dispatched the message (its message, the request's id)."""
    return Expected(status, code, row="refused")


SERVED = Expected(200, row="success")
ACCEPTED = Expected(202, row="success")  # a notification (or a client's response): no body
NOT_ONE_OBJECT = refused(400, -32600, MESSAGE_NOT_ONE_OBJECT)
NOT_JSON_RPC = refused(400, -32600, MESSAGE_NOT_JSON_RPC)
PARSE_ERROR = refused(400, -32700, MESSAGE_PARSE_ERROR)
WRONG_CONTENT_TYPE = refused(415, -32600, MESSAGE_CONTENT_TYPE)
NOT_ACCEPTABLE = refused(406, -32600, "Not Acceptable: Client must accept application/json")
METHOD_NOT_FOUND = protocol_error(-32601)
INVALID_PARAMS = protocol_error(-32602)


def rpc(method: str, params: dict | None = None, *, request_id=1, **extra) -> dict:
    message = {"jsonrpc": "2.0", "id": request_id, "method": method, **extra}
    if params is not None:
        message["params"] = params
    return message


def tool_call(arguments=WINDOW, name: str = "campaign_report", **params) -> dict:
    return rpc("tools/call", {"name": name, "arguments": arguments, **params})


def encoded(message) -> bytes:
    return json.dumps(message).encode()


DEFAULT_BODY = encoded(tool_call())


@dataclass(frozen=True)
class McpCase:
    id: str
    expected: Expected
    body: bytes = DEFAULT_BODY  # a small report over the test week
    headers: dict[str, str | None] = field(default_factory=dict)  # None drops a header
    method: str = "POST"
    path: str = MCP_PATH


def nest(levels: int) -> dict | int:
    """``levels`` objects inside each other."""
    value: dict | int = 1
    for _ in range(levels):
        value = {"a": value}
    return value


def padded_to(size: int) -> bytes:
    """A tools/list request of exactly ``size`` bytes (the padding in ``_meta``)."""
    empty = encoded(rpc("tools/list", {"_meta": {"pad": ""}}))
    return encoded(rpc("tools/list", {"_meta": {"pad": "x" * (size - len(empty))}}))


def with_text(message: dict, old: str, new: str) -> bytes:
    """``message`` encoded with ``old`` replaced by ``new`` in its JSON text (for escapes
    that json.dumps does not write, such as lone surrogates)."""
    text = json.dumps(message)
    assert old in text
    return text.replace(old, new, 1).encode()


# The request's top level and params are two levels: _meta nested to reach the cap.
AT_DEPTH_CAP = nest(MAX_JSON_DEPTH - 2)
OVER_DEPTH_CAP = nest(MAX_JSON_DEPTH - 1)
LONE_SURROGATES = ("\\ud800", "\\udfff", "\\udbff\\u0041")
MODERN_HEADERS = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list"}

MCP_CASES = [
    # Content types: the media type, case-insensitive, with parameters; nothing else.
    McpCase(
        "ct-spaces-charset", SERVED, headers={"Content-Type": " application/json ; charset=utf-8"}
    ),
    McpCase(
        "ct-json-utf16-charset",
        SERVED,
        headers={"Content-Type": "application/json; charset=utf-16"},
    ),
    *(
        McpCase(f"ct-{value or 'empty'}", WRONG_CONTENT_TYPE, headers={"Content-Type": value})
        for value in (
            "text/plain",
            "",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json-rpc",
            "application/json, text/plain",
            "text/json",
            "application/*",
        )
    ),
    McpCase("ct-missing", WRONG_CONTENT_TYPE, headers={"Content-Type": None}),
    # Accept: the SDK answers JSON only to a client that accepts it.
    McpCase("accept-html", NOT_ACCEPTABLE, headers={"Accept": "text/html"}),
    McpCase("accept-sse-only", NOT_ACCEPTABLE, headers={"Accept": "text/event-stream"}),
    McpCase("accept-any", SERVED, headers={"Accept": "*/*"}),
    McpCase("accept-missing", SERVED, headers={"Accept": None}),
    # Protocol versions: the older ones served; unknown ones are the 2026 era's refusal.
    McpCase("pv-2024", SERVED, headers={"MCP-Protocol-Version": "2024-11-05"}),
    McpCase("pv-missing", SERVED, headers={"MCP-Protocol-Version": None}),
    McpCase("pv-garbage", sdk_refused(400, -32602), headers={"MCP-Protocol-Version": "garbage"}),
    McpCase(
        "pv-modern-no-envelope", sdk_refused(400, -32602), headers={"MCP-Protocol-Version": MODERN}
    ),
    McpCase("session-id-ignored", SERVED, headers={"Mcp-Session-Id": "x" * 300}),
    # Method, path, Host, Origin: answered before the account is looked up (no row).
    *(
        McpCase(f"http-{verb}", unlogged(405, MESSAGE_METHOD_NOT_ALLOWED), b"", method=verb)
        for verb in ("GET", "DELETE", "PUT", "PATCH")
    ),
    McpCase("path-case", unlogged(404, MESSAGE_NOT_FOUND), path="/mcp/Acme"),
    McpCase("path-params", unlogged(404, MESSAGE_NOT_FOUND), path="/mcp/acme;x"),
    McpCase("path-nul", unlogged(404, MESSAGE_NOT_FOUND), path="/mcp/ac%00me"),
    McpCase("host-evil", unlogged(421, "Invalid Host header"), headers={"Host": "evil.example"}),
    McpCase("origin-null", unlogged(403, "Invalid Origin header"), headers={"Origin": "null"}),
    # Bodies that are not one JSON object.
    *(
        McpCase(f"body-{name}", NOT_ONE_OBJECT, text.encode())
        for name, text in [
            ("true", "true"),
            ("zero", "0"),
            ("float", "-1.5e3"),
            ("overflow", "1e999"),
            ("nul-string", '"\\u0000"'),
            (
                "batch-of-two",
                f"[{json.dumps(rpc('ping'))},{json.dumps(rpc('ping', request_id=2))}]",
            ),
            ("batch-of-notifications", '[{"jsonrpc":"2.0","method":"notifications/initialized"}]'),
            ("nested-arrays", "[[[]]]"),
        ]
    ),
    *(
        McpCase(f"body-{name}", PARSE_ERROR, text)
        for name, text in [
            ("whitespace", b" \r\n\t "),
            ("bom", b"\xef\xbb\xbf" + encoded(rpc("ping"))),
            ("utf16", json.dumps(rpc("ping")).encode("utf-16")),
            (
                "latin1",
                '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"é"}}'.encode("latin-1"),
            ),
            ("overlong-utf8", encoded(rpc("ping"))[:-2] + b',"x":"\xc0\xaf"}'),
            ("trailing-garbage", encoded(rpc("ping")) + b"x"),
            ("two-objects", encoded(rpc("ping")) * 2),
            ("single-quotes", b"{'jsonrpc':'2.0','id':1,'method':'ping'}"),
            ("comment", b'{"jsonrpc":"2.0",/* */"id":1,"method":"ping"}'),
            ("unterminated-string", b'{"jsonrpc":"2.0","id":1,"method":"ping'),
        ]
    ),
    # Not JSON-RPC 2.0 messages (the id: a string or an integer, never null, MCP).
    *(
        McpCase(f"id-{name}", NOT_JSON_RPC, encoded(rpc("ping", request_id=value)))
        for name, value in [
            ("null", None),
            ("float", 1.5),
            ("true", True),
            ("object", {}),
            ("array", [1]),
        ]
    ),
    McpCase("jsonrpc-number", NOT_JSON_RPC, b'{"jsonrpc":2.0,"id":1,"method":"ping"}'),
    McpCase("jsonrpc-spaced", NOT_JSON_RPC, b'{"jsonrpc":"2.0 ","id":1,"method":"ping"}'),
    McpCase("method-missing", NOT_JSON_RPC, b'{"jsonrpc":"2.0","id":1}'),
    McpCase("method-number", NOT_JSON_RPC, b'{"jsonrpc":"2.0","id":1,"method":7}'),
    McpCase("method-null", NOT_JSON_RPC, b'{"jsonrpc":"2.0","id":1,"method":null}'),
    McpCase(
        "params-string", NOT_JSON_RPC, b'{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}'
    ),
    McpCase("params-number", NOT_JSON_RPC, b'{"jsonrpc":"2.0","id":1,"method":"ping","params":5}'),
    McpCase("result-and-method", SERVED, b'{"jsonrpc":"2.0","id":1,"method":"ping","result":{}}'),
    # Ids JSON-RPC allows: echoed.
    *(
        McpCase(f"id-{name}", SERVED, encoded(rpc("ping", request_id=value)))
        for name, value in [
            ("huge", 10**30),
            ("negative", -1),
            ("empty", ""),
            ("long", "i" * 5000),
            ("nul", "a\u0000b"),
            ("emoji", "\U0001f4a5"),
        ]
    ),
    McpCase(
        "duplicate-keys", SERVED, b'{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/list"}'
    ),
    McpCase("params-null", SERVED, b'{"jsonrpc":"2.0","id":1,"method":"ping","params":null}'),
    # Unknown methods, and methods this server does not offer.
    *(
        McpCase(f"method-{name}", METHOD_NOT_FOUND, encoded(rpc(method)))
        for name, method in [
            ("empty", ""),
            ("upper", "TOOLS/LIST"),
            ("unknown", "admin/shell"),
            ("long", "m" * 5000),
            ("nul", "tools/list\u0000"),
            ("traversal", "../../tools/list"),
            ("templates", "resources/templates/list"),
            ("sampling", "sampling/createMessage"),
            ("tasks", "tasks/list"),
            ("discover-legacy-era", "server/discover"),
        ]
    ),
    McpCase(
        "method-subscribe",
        METHOD_NOT_FOUND,
        encoded(rpc("resources/subscribe", {"uri": "maestra://metrics"})),
    ),
    McpCase(
        "method-log-level", METHOD_NOT_FOUND, encoded(rpc("logging/setLevel", {"level": "debug"}))
    ),
    McpCase(
        "method-known-bad-params", INVALID_PARAMS, encoded(rpc("logging/setLevel", {"level": 5}))
    ),
    # Notifications, and responses a client sends unasked: accepted, nothing to answer.
    McpCase(
        "notification-unknown", ACCEPTED, b'{"jsonrpc":"2.0","method":"x/y","params":{"\\u0000":1}}'
    ),
    McpCase(
        "notification-cancel-garbage",
        ACCEPTED,
        b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":{}}}',
    ),
    McpCase(
        "client-response", ACCEPTED, encoded({"jsonrpc": "2.0", "id": 9, "result": {"x": "\x00"}})
    ),
    # Methods with bad params.
    McpCase(
        "initialize-bad-version", INVALID_PARAMS, encoded(rpc("initialize", {"protocolVersion": 5}))
    ),
    McpCase(
        "initialize-nul",
        SERVED,
        encoded(
            rpc(
                "initialize",
                {
                    "protocolVersion": LEGACY,
                    "capabilities": {"\x00": {}},
                    "clientInfo": {"name": "\x00", "version": "\x00"},
                },
            )
        ),
    ),
    McpCase("tools-list-cursor-nul", SERVED, encoded(rpc("tools/list", {"cursor": "\x00"}))),
    McpCase("prompt-unknown", INVALID_PARAMS, encoded(rpc("prompts/get", {"name": "x\x00"}))),
    McpCase(
        "prompt-arguments-list",
        INVALID_PARAMS,
        encoded(rpc("prompts/get", {"name": "weekly_review", "arguments": [1]})),
    ),
    McpCase(
        "prompt-arguments-nul",
        INVALID_PARAMS,
        encoded(rpc("prompts/get", {"name": "weekly_review", "arguments": {"\x00": "x"}})),
    ),
    McpCase(
        "prompt-argument-value-nul",
        INVALID_PARAMS,
        encoded(rpc("prompts/get", {"name": "weekly_review", "arguments": {"brand": "\x00"}})),
    ),
    McpCase(
        "completion-nul",
        SERVED,
        encoded(
            rpc(
                "completion/complete",
                {
                    "ref": {"type": "ref/prompt", "name": "weekly_review"},
                    "argument": {"name": "\x00", "value": "\x00"},
                },
            )
        ),
    ),
    McpCase(
        "completion-resource-ref",
        INVALID_PARAMS,
        encoded(
            rpc(
                "completion/complete",
                {
                    "ref": {"type": "ref/resource", "uri": "x"},
                    "argument": {"name": "a", "value": "b"},
                },
            )
        ),
    ),
    McpCase("completion-garbage", INVALID_PARAMS, encoded(rpc("completion/complete", {"ref": 5}))),
    McpCase(
        "resource-nul", INVALID_PARAMS, encoded(rpc("resources/read", {"uri": "maestra://\x00"}))
    ),
    McpCase(
        "resource-file",
        INVALID_PARAMS,
        encoded(rpc("resources/read", {"uri": "file:///etc/passwd"})),
    ),
    # tools/call shapes.
    McpCase("tool-unknown", INVALID_PARAMS, encoded(tool_call(name="shell"))),
    McpCase("tool-nul", INVALID_PARAMS, encoded(tool_call(name="campaign_report\x00"))),
    McpCase("tool-case", INVALID_PARAMS, encoded(tool_call(name="Campaign_Report"))),
    McpCase(
        "tool-name-number", INVALID_PARAMS, encoded(rpc("tools/call", {"name": 5, "arguments": {}}))
    ),
    McpCase("tool-name-missing", INVALID_PARAMS, encoded(rpc("tools/call", {"arguments": {}}))),
    McpCase("tool-arguments-list", INVALID_PARAMS, encoded(tool_call([]))),
    McpCase("tool-arguments-string", INVALID_PARAMS, encoded(tool_call("x"))),
    McpCase("tool-arguments-null", SERVED, encoded(tool_call(None))),  # the defaults
    # NUL anywhere: answered like any other text, and stored (as U+FFFD) in the row.
    McpCase(
        "nul-argument-key",
        tool_error("Extra inputs are not permitted"),
        encoded(tool_call({**WINDOW, "bra\x00nds": ["x"]})),
    ),
    McpCase(
        "nul-argument-value",
        tool_error("period:"),
        encoded(tool_call({"period": "last_7_days\x00"})),
    ),
    McpCase(
        "nul-cursor",
        tool_error("cursor is not valid"),
        encoded(tool_call({**WINDOW, "cursor": "\x00"})),
    ),
    McpCase(
        "nul-filter",
        tool_error("Unknown"),
        encoded(tool_call({**WINDOW, "brands": ["\x00"], "goals": ["\x00"]})),
    ),
    McpCase(
        "nul-meta", SERVED, encoded(tool_call(_meta={"\x00": "\x00", "progressToken": "\x00"}))
    ),
    McpCase("nul-extra-param", SERVED, encoded(tool_call(**{"\x00": ["\x00"]}))),
    # Lone surrogates anywhere: the SDK's parser refuses them (PostgreSQL could not store them).
    *(
        McpCase(
            f"surrogate-{where}-{escape[2:]}", PARSE_ERROR, with_text(message, old, f"x{escape}")
        )
        for escape in LONE_SURROGATES
        for where, message, old in [
            ("meta", tool_call(_meta={"k": "v"}), '"v"'),
            ("argument", tool_call({**WINDOW, "brands": ["b"]}), '"b"'),
            ("key", tool_call({**WINDOW, "k": 1}), '"k"'),
            ("method", rpc("tools/list"), '"tools/list"'),
            ("id", rpc("ping", request_id="i"), '"i"'),
        ]
    ),
    McpCase(
        "surrogate-pair",
        tool_error("Unknown brands"),
        encoded(tool_call({**WINDOW, "brands": ["💥"]})),
    ),
    McpCase(
        "raw-surrogate-bytes", PARSE_ERROR, encoded(tool_call())[:-2] + b',"x":"\xed\xa0\x80"}}'
    ),
    # Numbers PostgreSQL's jsonb cannot hold.
    McpCase("meta-nan", SERVED, encoded(rpc("ping"))[:-1] + b',"params":{"_meta":{"x":NaN}}}'),
    McpCase("meta-infinity", SERVED, encoded(rpc("ping"))[:-1] + b',"params":{"x":-Infinity}}'),
    McpCase("meta-overflow", SERVED, encoded(rpc("ping"))[:-1] + b',"params":{"x":1e999}}'),
    McpCase("meta-bignum", SERVED, encoded(rpc("ping", {"x": 10**400}))),
    # Nesting: at most MAX_JSON_DEPTH levels, brackets inside strings do not count.
    McpCase("depth-at-cap", SERVED, encoded(tool_call(_meta=AT_DEPTH_CAP))),
    McpCase(
        "depth-over-cap",
        refused(400, -32600, MESSAGE_TOO_DEEP),
        encoded(tool_call(_meta=OVER_DEPTH_CAP)),
    ),
    McpCase(
        "depth-10000-objects",
        refused(400, -32600, MESSAGE_TOO_DEEP),
        b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":'
        + b'{"a":' * 10000
        + b"1"
        + b"}" * 10000
        + b"}}",
    ),
    McpCase(
        "depth-unbalanced",
        refused(400, -32600, MESSAGE_TOO_DEEP),
        b'{"jsonrpc":"2.0","id":1,"method":"ping","params":' + b"[" * 5000,
    ),
    McpCase(
        "brackets-in-strings",
        tool_error("Unknown brands"),
        encoded(tool_call({**WINDOW, "brands": ["[{" * 400]})),
    ),
    McpCase(
        "escaped-quotes",
        tool_error("Unknown brands"),
        encoded(tool_call({**WINDOW, "brands": ['\\"[' * 100]})),
    ),
    # Size: at most MAX_REQUEST_BODY_BYTES, whatever Content-Length says.
    McpCase("size-at-cap", SERVED, padded_to(MAX_REQUEST_BODY_BYTES)),
    McpCase(
        "size-over-cap",
        refused(413, -32600, MESSAGE_TOO_LARGE),
        padded_to(MAX_REQUEST_BODY_BYTES + 1),
    ),
    McpCase(
        "size-declared-huge",
        refused(413, -32600, MESSAGE_TOO_LARGE),
        headers={"Content-Length": str(10**12)},
    ),
    # The 2026-07-28 era: the envelope in _meta, the method in a header.
    McpCase(
        "modern-list", SERVED, encoded(rpc("tools/list", {"_meta": MODERN_META})), MODERN_HEADERS
    ),
    McpCase(
        "modern-nul-envelope",
        SERVED,
        encoded(
            rpc(
                "tools/list",
                {
                    "_meta": {
                        **MODERN_META,
                        CLIENT_INFO_META_KEY: {"name": "\x00", "version": "\x00"},
                    }
                },
            )
        ),
        MODERN_HEADERS,
    ),
    McpCase(
        "modern-envelope-version-garbage",
        sdk_refused(400, -32020),
        encoded(
            rpc(
                "tools/list",
                {"_meta": {**MODERN_META, PROTOCOL_VERSION_META_KEY: "\x00"}},
            )
        ),
        MODERN_HEADERS,
    ),
    McpCase(
        "modern-method-header-mismatch",
        sdk_refused(400, -32020),
        encoded(
            rpc(
                "tools/call", {"_meta": MODERN_META, "name": "campaign_report", "arguments": WINDOW}
            )
        ),
        MODERN_HEADERS,
    ),
    McpCase(
        "modern-envelope-not-object",
        sdk_refused(400, -32602),
        encoded(rpc("tools/list", {"_meta": [MODERN_META]})),
        MODERN_HEADERS,
    ),
]


def log_rows() -> list[McpSessionLog]:
    return list(McpSessionLog.objects.unscoped().order_by("id"))


def mcp_exchange(target: Target, case: McpCase) -> httpx2.Response:
    headers = {**HEADERS, "Authorization": f"Bearer {target.token}", **case.headers}
    headers = {name: value for name, value in headers.items() if value is not None}
    return target.app.request(case.method, case.path, content=case.body, headers=headers)


def check_mcp(target: Target, case: McpCase) -> None:
    """One request of the corpus: its answer and its session-log row."""
    before = len(log_rows())
    target.errors.records.clear()
    response = mcp_exchange(target, case)
    assert_sound(response, target.errors)
    expected = case.expected
    assert response.status_code == expected.status, response.text[:500]
    if expected.status == 202:
        assert response.content in (b"", b"null")
    elif case.method != "HEAD":
        assert response.headers["content-type"].startswith("application/json")
        check_json_rpc(response.json(), case.body, expected)
    new = log_rows()[before:]
    if expected.row is None:
        assert new == []
        return
    (row,) = new
    assert row.account_id == target.acme.pk
    assert (row.status, row.http_status) == (expected.row, expected.status)
    assert not row.error.startswith("[log failed"), row.error


def check_json_rpc(answer: dict, body: bytes, expected: Expected) -> None:
    """The JSON-RPC answer: the expected error, or a result (a tool's, when expected)."""
    assert answer["jsonrpc"] == "2.0"
    if expected.code is not None:
        error = answer["error"]
        assert error["code"] == expected.code, error
        assert error["message"], error
        if expected.message is not None:
            assert answer["id"] is None
            assert error["message"] == expected.message
        else:  # answered by the SDK, to the request's own id
            assert answer["id"] == json.loads(body)["id"]
        return
    assert "result" in answer, answer
    result = answer["result"]
    assert answer["id"] == json.loads(body)["id"]
    if expected.tool_error is not None:
        assert result["isError"] is True, result
        text = result["content"][0]["text"]
        assert expected.tool_error in text, text
        assert text != MESSAGE_INTERNAL_ERROR
    else:
        assert result.get("isError") is not True, result


def test_malformed_mcp_requests(target, subtests):
    for case in MCP_CASES:
        with subtests.test(case.id):
            check_mcp(target, case)


# --- 2. Tool calls: each tool's published schema, and garbage -------------------------------
# Hostile text the adversarial run used: NUL, bidi overrides, combining marks, emoji,
# escapes as text, injection-shaped and long strings. (Lone surrogates cannot travel
# in a valid body: the table above sends them.)
HOSTILE_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "\x00",
            "a\x00b",
            "\u202e",
            "e\u0301\u0301\u0301",
            "\U0001f4a5",
            "\\u0000",
            "%00",
            "' OR 1=1 --",
            "../../etc/passwd",
            "${jndi:ldap://x}",
            "x" * 5000,
            "",
            " ",
        ]
    ),
)
# Any JSON value: wrong types for every argument.
GARBAGE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | HOSTILE_TEXT,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(HOSTILE_TEXT, children, max_size=3)
    ),
    max_leaves=6,
)
# The values the adversarial run aimed at each kind of argument.
EXTREMES = {
    "string": st.sampled_from(["0001-01-01", "9999-12-31", "2024-02-30", "2024-13-01", "today"]),
    "integer": st.sampled_from([0, -1, 10**12, 2**63, True, False, 1.5, "5", None]),
}


def from_schema(schema: dict) -> st.SearchStrategy:
    """Values a published JSON schema admits, for the features the tools' schemas use.

    (hypothesis-jsonschema would do this, but does not run on current hypothesis.)
    A feature not handled here fails loudly, so a new argument cannot go unfuzzed.
    """
    if "anyOf" in schema:
        return st.one_of([from_schema(option) for option in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "string" and schema.get("format") == "date":
        # Any day from year 1 to 9999, and often ones near the data.
        return st.one_of(st.dates(), st.dates(date(2023, 1, 1), date(2027, 1, 1))).map(str)
    if kind == "string":
        return st.text(max_size=schema.get("maxLength", 40)) | HOSTILE_TEXT.filter(
            lambda text: len(text) <= schema.get("maxLength", 10**6)
        )
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "array":
        return st.lists(from_schema(schema["items"]), max_size=3)
    if kind == "object":
        properties = {name: from_schema(value) for name, value in schema["properties"].items()}
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {name: value for name, value in properties.items() if name in required},
            optional={name: value for name, value in properties.items() if name not in required},
        )
    raise AssertionError(f"schema feature not fuzzed: {schema}")


def garbage_arguments(schema: dict) -> st.SearchStrategy:
    """The tool's argument names (and others) with values of any type, extremes included."""
    names = st.sampled_from(sorted(schema["properties"])) | HOSTILE_TEXT
    value = GARBAGE | st.one_of(list(EXTREMES.values()))
    return st.dictionaries(names, value, max_size=5)


def tool_arguments(tool) -> st.SearchStrategy:
    schema = tool.definition.input_schema
    return st.one_of(from_schema(schema), garbage_arguments(schema))


def check_tool_call(target: Target, tool, arguments: dict) -> None:
    """One call: the answer the arguments deserve, and its one row."""
    arguments = json.loads(json.dumps(arguments))  # as the server will read them
    before = len(log_rows())
    target.errors.records.clear()
    message = tool_call(arguments, name=tool.name)
    response = mcp_exchange(target, McpCase(tool.name, SERVED, encoded(message)))
    assert_sound(response, target.errors)
    assert response.status_code == 200, response.text[:500]
    result = response.json()["result"]
    text = result["content"][0]["text"]
    try:
        tool.params.model_validate(arguments)
    except ValidationError as exc:
        # The assistant is told which argument to fix.
        assert result["isError"] is True, result
        assert text.startswith(f"Invalid arguments for {tool.name}: "), text
        where = ".".join(str(part) for part in exc.errors()[0]["loc"]) or "arguments"
        assert where in text, (where, text)
    else:
        if result.get("isError"):  # a report refusal (dates, names, size): said plainly
            assert MESSAGE_INTERNAL_ERROR not in text and "Invalid arguments" not in text, text
        else:
            jsonschema.validate(result["structuredContent"], tool.definition.output_schema)
    (row,) = log_rows()[before:]
    assert (row.method, row.tool_name, row.http_status) == ("tools/call", tool.name, 200)
    assert row.status == ("error" if result.get("isError") else "success")
    assert not row.error.startswith("[log failed"), row.error


FUZZ_SETTINGS = hypothesis_settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("tool", TOOLS, ids=lambda tool: tool.name)
def test_fuzzed_tool_calls(target, tool):
    @FUZZ_SETTINGS
    @given(arguments=tool_arguments(tool))
    def call(arguments):
        check_tool_call(target, tool, arguments)

    call()


# What the adversarial run sent to the report tools, run every time (hypothesis may not
# draw them): years 1 and 9999, windows reversed or over the 3-year cap, limits past
# the range, booleans and strings for numbers, both window forms at once.
ADVERSARIAL_REPORT_ARGUMENTS = [
    {"date_from": "0001-01-01", "date_to": "0001-01-07"},
    {"date_from": "9999-12-25", "date_to": "9999-12-31"},
    {"date_from": "2024-03-10", "date_to": "2024-03-04"},
    {"date_from": "2000-01-01", "date_to": "2002-12-31", "compare_to": "previous_year"},
    {"date_from": "2021-01-01", "date_to": "2024-12-31", "timeline": "day"},
    {"date_from": "2024-02-30", "date_to": "2024-03-01"},
    {"period": "last_7_days", "limit": 10**12},
    {"period": "last_7_days", "limit": True},
    {"period": "last_7_days", "limit": 0},
    {"period": "last_7_days", "limit": "5"},
    {"period": "last_7_days", "date_from": "2024-03-04"},
    {"period": "LAST_7_DAYS"},
    {"cursor": "A" * 5000},
    {"brands": ["x"] * 1000},
    {"channels": "email"},
    {"breakdown": None},
]


REPORT_TOOLS = [tool for tool in TOOLS if tool.name in ("campaign_report", "flow_report")]


def test_report_arguments_the_adversarial_run_sent(target, subtests):
    for arguments in ADVERSARIAL_REPORT_ARGUMENTS:
        for tool in REPORT_TOOLS:
            with subtests.test(f"{tool.name} {arguments}"[:80]):
                check_tool_call(target, tool, arguments)


# --- 3. Malformed OAuth requests -----------------------------------------------------------
DCR_ERRORS = ("invalid_client_metadata", "invalid_redirect_uri")
TOKEN_ERRORS = (
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_target",
)
CSRF = "c" * 32  # an unmasked CSRF secret, sent as cookie and header
CLAIMS = {
    "client_name": "Claude",
    "redirect_uris": [CLAUDE_CALLBACK],
    "token_endpoint_auth_method": "none",
}


@dataclass(frozen=True)
class OAuthExpected:
    """What an OAuth request must get: ``kind`` is "json" (an RFC error object, with
    ``errors`` the codes allowed), "redirect" (to the client's registered callback,
    with ``errors``), "error-page" (the consent template's error), "login" (the
    login page for an anonymous visitor), "page" (any HTML page), "empty" (no body)
    or "created"/"ok" (the request was fine)."""

    status: int
    kind: str
    errors: tuple[str, ...] = ()


def oauth_error(status: int, *errors: str) -> OAuthExpected:
    return OAuthExpected(status, "json", errors)


def redirected_with(error: str) -> OAuthExpected:
    return OAuthExpected(302, "redirect", (error,))


DCR_REFUSED = oauth_error(400, *DCR_ERRORS)
CREATED = OAuthExpected(201, "created")
OK = OAuthExpected(200, "ok")
ERROR_PAGE = OAuthExpected(400, "error-page")
CONSENT_PAGE = OAuthExpected(200, "page")
NOT_ALLOWED = OAuthExpected(405, "empty")
FORM_REFUSED = OAuthExpected(400, "page")  # a consent form that does not validate
ISSUED = OAuthExpected(200, "issued")  # a code exchanged for exactly the granted scope


@dataclass(frozen=True)
class OAuthCase:
    """One OAuth request. Strings may hold placeholders, filled per case: ``{client_id}``
    and ``{rat}`` (a fresh registration and its registration access token),
    ``{code}``, ``{verifier}``, ``{challenge}`` (a fresh code for it, with PKCE) and
    ``{acme}`` (acme's MCP URL). ``login``: as a signed-in member (with a CSRF token)."""

    id: str
    method: str
    path: str
    expected: OAuthExpected
    json: object = None
    raw: bytes | None = None
    form: dict | None = None
    query: dict | None = None
    headers: dict = field(default_factory=dict)
    login: bool = False


def dcr(case_id: str, expected: OAuthExpected, **metadata) -> OAuthCase:
    return OAuthCase(case_id, "POST", "/o/register/", expected, json={**CLAIMS, **metadata})


def manage(case_id: str, method: str, expected: OAuthExpected, **kwargs) -> OAuthCase:
    kwargs.setdefault("headers", {"Authorization": "Bearer {rat}"})
    return OAuthCase(case_id, method, "/o/register/{client_id}/", expected, **kwargs)


def token(case_id: str, expected: OAuthExpected, headers=None, **form) -> OAuthCase:
    return OAuthCase(case_id, "POST", "/o/token/", expected, form=form, headers=headers or {})


EXCHANGE = {
    "grant_type": "authorization_code",
    "code": "{code}",
    "client_id": "{client_id}",
    "redirect_uri": CLAUDE_CALLBACK,
    "code_verifier": "{verifier}",
}
AUTHORIZE = {
    "response_type": "code",
    "client_id": "{client_id}",
    "redirect_uri": CLAUDE_CALLBACK,
    "state": "st",
    "code_challenge": "{challenge}",
    "code_challenge_method": "S256",
    "resource": "{acme}",
}


# What the consent page posts back when the member allows.
CONSENT = {**AUTHORIZE, "scope": "reports:read", "allow": "Authorize"}


def authorize(case_id: str, expected: OAuthExpected, *, login=True, **query) -> OAuthCase:
    return OAuthCase(
        case_id, "GET", "/o/authorize/", expected, query={**AUTHORIZE, **query}, login=login
    )


def consent_post(case_id: str, expected: OAuthExpected, **form) -> OAuthCase:
    """The consent form posted back by a signed-in member, with ``form`` changed."""
    return OAuthCase(
        case_id, "POST", "/o/authorize/", expected, form={**CONSENT, **form}, login=True
    )


def basic(user: bytes, password: bytes = b"x") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(user + b":" + password).decode()}


OAUTH_CASES = [
    # Registration (RFC 7591): every bad field a 400, never a 500; odd but storable ones kept.
    dcr("dcr-empty", DCR_REFUSED, redirect_uris=None),
    OAuthCase("dcr-no-fields", "POST", "/o/register/", DCR_REFUSED, json={}),
    dcr("dcr-no-uris", DCR_REFUSED, redirect_uris=[]),
    dcr("dcr-name-nul", DCR_REFUSED, client_name="a\x00b"),
    dcr("dcr-name-escape", DCR_REFUSED, client_name="\x1b[31mClaude"),
    dcr("dcr-name-surrogate", DCR_REFUSED, client_name="\ud800"),
    dcr("dcr-uri-surrogate", DCR_REFUSED, redirect_uris=["https://claude.ai/\udfff"]),
    dcr("dcr-scope-surrogate", DCR_REFUSED, scope="reports:read\udbff"),
    dcr("dcr-name-256", DCR_REFUSED, client_name="x" * 256),
    dcr("dcr-name-255", CREATED, client_name="x" * 255),
    dcr("dcr-name-bidi", DCR_REFUSED, client_name="\u202eClaude"),  # reads "edualC"
    dcr("dcr-name-emoji", CREATED, client_name="Claude \U0001f4a5"),
    dcr("dcr-name-list", DCR_REFUSED, client_name=["Claude"]),
    dcr("dcr-uri-idn", CREATED, redirect_uris=["https://клод.example/cb"]),
    dcr("dcr-uri-very-long", DCR_REFUSED, redirect_uris=["https://claude.ai/" + "a" * 20_000]),
    dcr("dcr-uri-port", DCR_REFUSED, redirect_uris=["https://claude.ai:99999/cb"]),
    dcr("dcr-uri-ipv6", DCR_REFUSED, redirect_uris=["https://[::1/cb"]),
    dcr("dcr-uri-userinfo-http", DCR_REFUSED, redirect_uris=["http://127.0.0.1@evil.example/cb"]),
    dcr("dcr-uri-data", DCR_REFUSED, redirect_uris=["data:text/html,<script>1</script>"]),
    dcr("dcr-uri-number", DCR_REFUSED, redirect_uris=[5]),
    dcr("dcr-uris-500", CREATED, redirect_uris=[f"https://claude.ai/{i}" for i in range(500)]),
    dcr("dcr-auth-secret-basic", CREATED, token_endpoint_auth_method="client_secret_basic"),
    dcr("dcr-auth-private-key-jwt", DCR_REFUSED, token_endpoint_auth_method="private_key_jwt"),
    dcr("dcr-auth-empty", DCR_REFUSED, token_endpoint_auth_method=""),
    dcr("dcr-auth-nul", DCR_REFUSED, token_endpoint_auth_method="none\x00"),
    dcr("dcr-logo-number", DCR_REFUSED, logo_uri=5),
    dcr("dcr-client-uri-object", DCR_REFUSED, client_uri={}),
    dcr("dcr-grants-null", DCR_REFUSED, grant_types=None),
    dcr("dcr-grants-empty", DCR_REFUSED, grant_types=[]),
    dcr(
        "dcr-grants-device",
        DCR_REFUSED,
        grant_types=["urn:ietf:params:oauth:grant-type:device_code"],
    ),
    dcr("dcr-responses-empty", CREATED, response_types=[]),
    dcr(
        "dcr-unknown-fields",
        CREATED,
        contacts=[None, 5],
        jwks={"keys": "x"},
        software_statement="x.y.z",
        client_id="\x00",
        client_secret="\x00",
    ),
    OAuthCase(
        "dcr-form", "POST", "/o/register/", DCR_REFUSED, form={"redirect_uris": CLAUDE_CALLBACK}
    ),
    OAuthCase("dcr-empty-body", "POST", "/o/register/", DCR_REFUSED, raw=b""),
    OAuthCase("dcr-not-utf8", "POST", "/o/register/", DCR_REFUSED, raw=b'{"client_name":"\xff"}'),
    OAuthCase(
        "dcr-nan",
        "POST",
        "/o/register/",
        DCR_REFUSED,
        raw=b'{"redirect_uris":["https://claude.ai/cb"],"client_name":NaN}',
    ),
    OAuthCase(
        "dcr-duplicate-keys",
        "POST",
        "/o/register/",
        DCR_REFUSED,
        raw=b'{"redirect_uris":["https://claude.ai/cb"],"redirect_uris":"x"}',
    ),
    OAuthCase("dcr-get", "GET", "/o/register/", NOT_ALLOWED),
    # Management (RFC 7592): the registration token, and the registration's own policy.
    manage("manage-no-token", "GET", oauth_error(401, "invalid_token"), headers={}),
    manage(
        "manage-wrong-token",
        "GET",
        oauth_error(401, "invalid_token"),
        headers={"Authorization": "Bearer nope"},
    ),
    manage("manage-basic", "GET", oauth_error(401, "invalid_token"), headers=basic(b"x")),
    manage("manage-read", "GET", OK),
    manage("manage-put-nul", "PUT", DCR_REFUSED, json={**CLAIMS, "client_name": "a\x00"}),
    manage("manage-put-surrogate", "PUT", DCR_REFUSED, json={**CLAIMS, "client_name": "\ud800"}),
    manage("manage-put-array", "PUT", DCR_REFUSED, raw=b"[]"),
    manage(
        "manage-put-evil-uri",
        "PUT",
        DCR_REFUSED,
        json={**CLAIMS, "redirect_uris": ["http://evil.example/cb"]},
    ),
    manage(
        "manage-put-grant",
        "PUT",
        DCR_REFUSED,
        json={**CLAIMS, "grant_types": ["client_credentials"]},
    ),
    manage("manage-put-other-client-id", "PUT", OK, json={**CLAIMS, "client_id": "other"}),
    OAuthCase(
        "manage-nul-id",
        "GET",
        "/o/register/%00/",
        oauth_error(401, "invalid_token"),
        headers={"Authorization": "Bearer {rat}"},
    ),
    manage("manage-patch", "PATCH", NOT_ALLOWED, json=CLAIMS),
    # The token endpoint: only the code (with PKCE) and refresh grants, every refusal JSON.
    token("token-nothing", oauth_error(400, "unsupported_grant_type")),
    token("token-grant-empty", oauth_error(400, "unsupported_grant_type"), grant_type=""),
    token(
        "token-grant-nul",
        oauth_error(400, "unsupported_grant_type"),
        grant_type="authorization_code\x00",
    ),
    token(
        "token-device-code",
        oauth_error(400, "unsupported_grant_type"),
        grant_type="urn:ietf:params:oauth:grant-type:device_code",
        device_code="\x00",
    ),
    token(
        "token-client-credentials",
        oauth_error(400, "unsupported_grant_type"),
        grant_type="client_credentials",
        client_id="{client_id}",
    ),
    token(
        "token-password",
        oauth_error(400, "unsupported_grant_type"),
        grant_type="password",
        username="analyst@acme.test",
        password="x",
    ),
    token("token-code-nul", oauth_error(400, "invalid_grant"), **{**EXCHANGE, "code": "\x00"}),
    token("token-code-unknown", oauth_error(400, "invalid_grant"), **{**EXCHANGE, "code": "x"}),
    token(
        "token-client-nul", oauth_error(401, "invalid_client"), **{**EXCHANGE, "client_id": "\x00"}
    ),
    token(
        "token-client-unknown",
        oauth_error(401, "invalid_client"),
        **{**EXCHANGE, "client_id": "nobody"},
    ),
    token(
        "token-redirect-nul",
        oauth_error(400, "invalid_request"),
        **{**EXCHANGE, "redirect_uri": CLAUDE_CALLBACK + "\x00"},
    ),
    token(
        "token-redirect-other",
        oauth_error(400, "invalid_request"),
        **{**EXCHANGE, "redirect_uri": "https://evil.example/cb"},
    ),
    token(
        "token-verifier-missing",
        oauth_error(400, "invalid_request"),
        **{**EXCHANGE, "code_verifier": None},
    ),
    token(
        "token-verifier-short",
        oauth_error(400, "invalid_grant"),
        **{**EXCHANGE, "code_verifier": "a"},
    ),
    token(
        "token-verifier-nul",
        oauth_error(400, "invalid_grant"),
        **{**EXCHANGE, "code_verifier": "\x00" * 50},
    ),
    token(
        "token-verifier-long",
        oauth_error(400, "invalid_grant"),
        **{**EXCHANGE, "code_verifier": "a" * 5000},
    ),
    token(
        "token-verifier-is-challenge",
        oauth_error(400, "invalid_grant"),
        **{**EXCHANGE, "code_verifier": "{challenge}"},
    ),
    token(
        "token-resource-nul", oauth_error(400, "invalid_target"), **{**EXCHANGE, "resource": "\x00"}
    ),
    token(
        "token-resource-other-account",
        oauth_error(400, "invalid_target"),
        **{**EXCHANGE, "resource": "http://127.0.0.1:8000/mcp/globex"},
    ),
    token(
        "token-resource-relative",
        oauth_error(400, "invalid_target"),
        **{**EXCHANGE, "resource": "/mcp/acme"},
    ),
    # (a code exchange takes no scope, RFC 6749 §4.1.3: the granted one is issued)
    token("token-scope-widened", ISSUED, **{**EXCHANGE, "scope": "reports:read admin"}),
    token(
        "token-refresh-nul",
        oauth_error(400, "invalid_grant"),
        grant_type="refresh_token",
        refresh_token="\x00",
        client_id="{client_id}",
    ),
    token(
        "token-refresh-long",
        oauth_error(400, "invalid_grant"),
        grant_type="refresh_token",
        refresh_token="r" * 10_000,
        client_id="{client_id}",
    ),
    token(
        "token-refresh-no-client",
        oauth_error(401, "invalid_client"),
        grant_type="refresh_token",
        refresh_token="r",
    ),
    token(
        "token-basic-not-base64",
        oauth_error(401, "invalid_client"),
        headers={"Authorization": "Basic %%%"},
        **{**EXCHANGE, "client_id": None},
    ),
    token(
        "token-basic-nul",
        oauth_error(401, "invalid_client"),
        headers=basic(b"\x00", b"\x00"),
        **{**EXCHANGE, "client_id": None},
    ),
    token(
        "token-basic-percent-nul",
        oauth_error(401, "invalid_client"),
        headers=basic(b"%00"),
        **{**EXCHANGE, "client_id": None},
    ),
    token(
        "token-basic-not-utf8",
        oauth_error(401, "invalid_client"),
        headers=basic(b"\xff\xfe"),
        **{**EXCHANGE, "client_id": None},
    ),
    OAuthCase(
        "token-json-body",
        "POST",
        "/o/token/",
        oauth_error(400, "unsupported_grant_type"),
        json={"grant_type": "authorization_code", "code": "x"},
    ),
    OAuthCase(
        "token-form-not-utf8",
        "POST",
        "/o/token/",
        oauth_error(400, *TOKEN_ERRORS),
        raw=b"grant_type=%FF%FE&code=%00",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    OAuthCase("token-get", "GET", "/o/token/", NOT_ALLOWED),
    # The authorization endpoint: refusals go back to the registered callback, or
    # (when the client or its callback is not known) an error page; never elsewhere.
    authorize(
        "authorize-nothing",
        ERROR_PAGE,
        client_id=None,
        redirect_uri=None,
        response_type=None,
        code_challenge=None,
        resource=None,
    ),
    authorize("authorize-client-nul", ERROR_PAGE, client_id="\x00"),
    authorize("authorize-client-unknown", ERROR_PAGE, client_id="nobody"),
    authorize("authorize-redirect-nul", ERROR_PAGE, redirect_uri=CLAUDE_CALLBACK + "\x00"),
    authorize("authorize-redirect-other", ERROR_PAGE, redirect_uri="https://evil.example/cb"),
    authorize(
        "authorize-challenge-nul", redirected_with("invalid_request"), code_challenge="\x00" * 43
    ),
    authorize(
        "authorize-challenge-method",
        redirected_with("invalid_request"),
        code_challenge_method="S512",
    ),
    authorize("authorize-resource-nul", redirected_with("invalid_target"), resource="\x00"),
    authorize(
        "authorize-resource-nul-inside",
        redirected_with("invalid_target"),
        resource="http://127.0.0.1:8000/mcp/ac\x00me",
    ),
    authorize(
        "authorize-resource-100", redirected_with("invalid_target"), resource=["{acme}"] * 100
    ),
    authorize(
        "authorize-resource-other-host",
        redirected_with("invalid_target"),
        resource="https://evil.example/mcp/acme",
    ),
    authorize("authorize-scope-nul", redirected_with("invalid_scope"), scope="\x00"),
    authorize(
        "authorize-response-token", redirected_with("unauthorized_client"), response_type="token"
    ),
    authorize("authorize-state-nul", CONSENT_PAGE, state="\x00"),
    authorize("authorize-state-long", CONSENT_PAGE, state="s" * 6000),
    authorize("authorize-prompt-garbage", CONSENT_PAGE, prompt="none\x00"),
    authorize(
        "authorize-anonymous-nul", OAuthExpected(302, "login"), login=False, client_id="\x00"
    ),
    consent_post("authorize-post-nul-client", FORM_REFUSED, client_id="\x00"),
    consent_post("authorize-post-nul-resource", FORM_REFUSED, resource="\x00"),
    consent_post("authorize-post-nul-account", FORM_REFUSED, resource="", account="ac\x00me"),
    consent_post("authorize-post-other-account", FORM_REFUSED, resource="", account="globex-x"),
    consent_post("authorize-post-denied", redirected_with("access_denied"), allow=None),
    # Revocation, introspection, discovery.
    OAuthCase(
        "revoke-token-nul",
        "POST",
        "/o/revoke_token/",
        OK,
        form={"token": "\x00", "client_id": "{client_id}"},
    ),
    OAuthCase(
        "revoke-client-nul",
        "POST",
        "/o/revoke_token/",
        oauth_error(401, "invalid_client"),
        form={"token": "x", "client_id": "\x00"},
    ),
    OAuthCase(
        "introspect-anonymous-nul",
        "POST",
        "/o/introspect/",
        OAuthExpected(403, "empty"),
        form={"token": "\x00"},
    ),
    OAuthCase(
        "resource-document-nul",
        "GET",
        "/.well-known/oauth-protected-resource/mcp/%00",
        OAuthExpected(404, "page"),
    ),
    OAuthCase(
        "resource-document-nul-suffix",
        "GET",
        "/.well-known/oauth-protected-resource/mcp/acme%00",
        OAuthExpected(404, "page"),
    ),
    OAuthCase(
        "resource-document-deep",
        "GET",
        "/.well-known/oauth-protected-resource/" + "a/" * 2000,
        OAuthExpected(404, "page"),
    ),
    OAuthCase(
        "server-metadata-query",
        "GET",
        "/.well-known/oauth-authorization-server",
        OAuthExpected(200, "ok"),
        query={"x": "\x00"},
    ),
]


def fill(value, values: dict[str, str], *, omit_none: bool = False):
    """``value`` with its ``{name}`` placeholders replaced (keys and nested values too);
    ``omit_none``: leave out the keys whose value is None (form and query fields)."""
    if isinstance(value, str):
        for name, replacement in values.items():
            value = value.replace(f"{{{name}}}", replacement)
        return value
    if isinstance(value, list):
        return [fill(item, values) for item in value]
    if isinstance(value, dict):
        return {
            fill(k, values): fill(v, values)
            for k, v in value.items()
            if not (omit_none and v is None)
        }
    return value


def stored() -> tuple[int, ...]:
    return (
        Application.objects.count(),
        AccessToken.objects.count(),
        RefreshToken.objects.count(),
        Grant.objects.count(),
    )


class OAuthClient:
    """Registers clients and obtains codes through the application, as a client and a
    member's browser would (the member's session made directly, with a CSRF secret)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        browser = DjangoClient()
        browser.force_login(target.cast.user(ANALYST))
        self.session = {"sessionid": browser.cookies["sessionid"].value, "csrftoken": CSRF}

    def register(self, metadata) -> httpx2.Response:
        return self.target.app.request("POST", "/o/register/", json=metadata)

    def values_for(self, case) -> dict[str, str]:
        """Values for the placeholders ``case`` (or any value whose repr names them) uses,
        each made fresh."""
        text = repr(case)
        values = {"acme": self.target.acme.mcp_url}
        if "{client_id}" in text or "{rat}" in text or "{code}" in text:
            registered = self.register(CLAIMS).json()
            values |= {"client_id": registered["client_id"]}
            values |= {"rat": registered["registration_access_token"]}
        pkce = Pkce.new()
        values |= {"verifier": pkce.verifier, "challenge": pkce.challenge}
        if "{code}" in text:
            values["code"] = self.code(values["client_id"], pkce)
        return values

    def code(self, client_id: str, pkce: Pkce) -> str:
        form = fill(CONSENT, {"acme": self.target.acme.mcp_url})
        form |= {"client_id": client_id, "code_challenge": pkce.challenge}
        response = self.send("POST", "/o/authorize/", data=form, login=True)
        assert response.status_code == 302, response.text[:500]
        return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]

    def send(self, method: str, path: str, *, login: bool = False, **kwargs) -> httpx2.Response:
        if login:
            kwargs["cookies"] = self.session
            kwargs["headers"] = {**kwargs.get("headers", {}), "X-CSRFToken": CSRF}
        return self.target.app.request(method, path, **kwargs)

    def run(self, case: OAuthCase, values: dict[str, str]) -> httpx2.Response:
        """The case's request, its placeholders filled from ``values``."""
        kwargs: dict = {"headers": fill(case.headers, values)}
        if case.json is not None:
            # ensure_ascii: lone surrogates travel as JSON escapes, as a client sends them
            kwargs["content"] = json.dumps(fill(case.json, values)).encode()
            kwargs["headers"].setdefault("Content-Type", "application/json")
        elif case.raw is not None:
            kwargs["content"] = case.raw
            kwargs["headers"].setdefault("Content-Type", "application/json")
        elif case.form is not None:
            kwargs["data"] = fill(case.form, values, omit_none=True)
        path = fill(case.path, values)
        if case.query is not None:
            path += "?" + urlencode(fill(case.query, values, omit_none=True), doseq=True)
        return self.send(case.method, path, login=case.login, **kwargs)


def check_oauth(target: Target, client: OAuthClient, case: OAuthCase) -> None:
    target.errors.records.clear()
    # The placeholders are made before counting what is stored.
    values = client.values_for(case)
    before = stored()
    response = client.run(case, values)
    assert_sound(response, target.errors)
    check_oauth_answer(response, case, values)
    if case.expected.kind == "created":  # a client and its registration access token
        assert stored() == (before[0] + 1, before[1] + 1, *before[2:])
    elif case.expected.kind == "issued":  # the code's grant for an access and a refresh token
        assert stored() == (before[0], before[1] + 1, before[2] + 1, before[3] - 1)
    else:  # refused (or a read): nothing stored, nothing half-way
        assert stored() == before
    if "client_id" in values and case.method == "PUT":
        application = Application.objects.get(client_id=values["client_id"])
        if case.expected.status >= 400:  # the registration as it was
            assert application.redirect_uris == CLAUDE_CALLBACK
            assert application.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
            assert application.name == "Claude"


def check_oauth_answer(response: httpx2.Response, case: OAuthCase, values: dict) -> None:
    expected = case.expected
    assert response.status_code == expected.status, response.text[:500]
    content_type = response.headers.get("content-type", "")
    if expected.kind == "json":
        assert content_type.startswith("application/json"), content_type
        body = response.json()
        assert body["error"] in expected.errors, body
        assert isinstance(body.get("error_description", ""), str)
    elif expected.kind == "redirect":
        location = urlsplit(response.headers["location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == CLAUDE_CALLBACK
        params = parse_qs(location.query)
        assert params["error"] == list(expected.errors), params
    elif expected.kind == "error-page":
        assert content_type.startswith("text/html")
        assert 'id="oauth-error"' in response.text
        assert "location" not in response.headers
    elif expected.kind == "login":
        assert response.headers["location"].startswith("/login/")
    elif expected.kind == "page":
        assert content_type.startswith(("text/html", "text/plain")), content_type
    elif expected.kind == "empty":
        assert response.content == b""
    elif expected.kind == "issued":
        assert response.json()["scope"] == "reports:read"
    elif expected.kind == "created":
        body = response.json()
        sent = fill(case.json, values)
        application = Application.objects.get(client_id=body["client_id"])
        assert application.redirect_uris.split() == sent["redirect_uris"]
        assert application.name == sent.get("client_name", "")
        assert application.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE


def test_malformed_oauth_requests(target, subtests):
    client = OAuthClient(target)
    for case in OAUTH_CASES:
        with subtests.test(case.id):
            check_oauth(target, client, case)


# Drawn OAuth requests: each field a plausible value or garbage (lone surrogates too
# where the body is JSON, whose escapes carry them; a form or a URL cannot).
SURROGATE_TEXT = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3)
CLIENT_TEXT = HOSTILE_TEXT | SURROGATE_TEXT
REDIRECT_URIS = st.sampled_from(
    [
        CLAUDE_CALLBACK,
        "http://127.0.0.1:8765/cb",
        "http://[::1]/cb",
        "cursor://anysphere.cursor-mcp/oauth/callback",
        "http://evil.example/cb",
        "https://claude.ai/cb#frag",
        "javascript:alert(1)",
        "https:///x",
    ]
)
REGISTRATIONS = st.fixed_dictionaries(
    {},
    optional={
        "redirect_uris": st.lists(REDIRECT_URIS | CLIENT_TEXT, max_size=3) | GARBAGE,
        "client_name": CLIENT_TEXT | GARBAGE,
        "grant_types": st.lists(
            st.sampled_from(["authorization_code", "refresh_token", "client_credentials"]),
            max_size=2,
        )
        | GARBAGE,
        "response_types": st.lists(st.sampled_from(["code", "token"]), max_size=2) | GARBAGE,
        "token_endpoint_auth_method": st.sampled_from(["none", "client_secret_post"])
        | CLIENT_TEXT
        | GARBAGE,
        "scope": CLIENT_TEXT | GARBAGE,
        "logo_uri": CLIENT_TEXT | GARBAGE,
        "jwks": GARBAGE,
    },
)
TOKEN_REQUESTS = st.fixed_dictionaries(
    {},
    optional={
        "grant_type": st.sampled_from(
            ["authorization_code", "refresh_token", "client_credentials", "password"]
        )
        | HOSTILE_TEXT,
        "code": HOSTILE_TEXT,
        "client_id": st.just("{client_id}") | HOSTILE_TEXT,
        "redirect_uri": st.just(CLAUDE_CALLBACK) | HOSTILE_TEXT,
        "code_verifier": st.just("{verifier}") | HOSTILE_TEXT,
        "refresh_token": HOSTILE_TEXT,
        "resource": st.just("{acme}") | HOSTILE_TEXT,
        "scope": st.just("reports:read") | HOSTILE_TEXT,
    },
)
AUTHORIZE_QUERIES = st.fixed_dictionaries(
    {},
    optional={
        "response_type": st.just("code") | HOSTILE_TEXT,
        "client_id": st.just("{client_id}") | HOSTILE_TEXT,
        "redirect_uri": REDIRECT_URIS | HOSTILE_TEXT,
        "state": HOSTILE_TEXT,
        "code_challenge": st.just("{challenge}") | HOSTILE_TEXT,
        "code_challenge_method": st.sampled_from(["S256", "plain"]) | HOSTILE_TEXT,
        "resource": st.just("{acme}") | st.lists(HOSTILE_TEXT, max_size=2) | HOSTILE_TEXT,
        "scope": st.just("reports:read") | HOSTILE_TEXT,
        "prompt": st.just("consent") | HOSTILE_TEXT,
    },
)
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def allowed_redirect_uri(uri: str) -> bool:
    """The registration policy, stated independently: https, loopback http or cursor://,
    no fragment, no whitespace or control characters."""
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in uri):
        return False
    parts = urlsplit(uri)
    if "#" in uri:
        return False
    return (
        (parts.scheme == "https" and bool(parts.hostname))
        or (parts.scheme == "http" and parts.hostname in LOOPBACK)
        or parts.scheme == "cursor"
    )


def check_registration(target: Target, client: OAuthClient, metadata: dict) -> None:
    """A drawn registration: created exactly as sent and within the policy, or a 400
    that stores nothing."""
    before = stored()
    target.errors.records.clear()
    response = client.send(
        "POST",
        "/o/register/",
        content=json.dumps(metadata).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert_sound(response, target.errors)
    if response.status_code != 201:
        assert response.status_code == 400, response.text[:500]
        assert response.json()["error"] in DCR_ERRORS
        assert stored() == before
        return
    application = Application.objects.get(client_id=response.json()["client_id"])
    uris = metadata["redirect_uris"]
    assert uris and all(allowed_redirect_uri(uri) for uri in uris), uris
    assert application.redirect_uris.split() == uris
    assert application.name == metadata.get("client_name", "")
    assert application.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    assert stored() == (before[0] + 1, before[1] + 1, *before[2:])


def test_drawn_registrations(target):
    client = OAuthClient(target)

    @FUZZ_SETTINGS
    @given(metadata=REGISTRATIONS)
    def register(metadata):
        check_registration(target, client, metadata)

    register()


def test_drawn_token_requests(target):
    """Whatever the fields, no token without a code: a JSON error, nothing stored."""
    client = OAuthClient(target)
    values = client.values_for("{client_id}")

    @FUZZ_SETTINGS
    @given(form=TOKEN_REQUESTS)
    def request_token(form):
        before = stored()
        target.errors.records.clear()
        response = client.send("POST", "/o/token/", data=fill(form, values))
        assert_sound(response, target.errors)
        assert response.status_code in (400, 401), response.text[:500]
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"] in TOKEN_ERRORS
        assert stored() == before

    request_token()


def test_drawn_authorization_requests(target):
    """Whatever the query, a member is shown the consent page, an error page, or is
    sent back to the client's registered callback (with an error, never a code) or to
    the login page; nothing is granted by a GET."""
    client = OAuthClient(target)
    values = client.values_for("{client_id}")

    @FUZZ_SETTINGS
    @given(query=AUTHORIZE_QUERIES)
    def authorize_request(query):
        before = stored()
        target.errors.records.clear()
        path = "/o/authorize/?" + urlencode(fill(query, values), doseq=True)
        response = client.send("GET", path, login=True)
        assert_sound(response, target.errors)
        assert response.status_code in (200, 302, 400), response.text[:500]
        if response.status_code == 302:
            location = urlsplit(response.headers["location"])
            sent_to = f"{location.scheme}://{location.netloc}{location.path}"
            if sent_to != CLAUDE_CALLBACK:
                assert response.headers["location"].startswith("/login/"), location
            assert "code" not in parse_qs(location.query)
        elif response.status_code == 400:
            assert 'id="oauth-error"' in response.text
        else:
            assert "<form" in response.text
        assert stored() == before

    authorize_request()
