"""Malformed bodies and hostile values: a JSON-RPC error or a served answer, never a 500,
never a dropped connection, and always one storable session-log row (issue #17)."""

from __future__ import annotations

import json
import logging
import secrets
import time

import anyio
import httpx2
import pytest
from django.db import connection

from maestra_mcp.mcp_server.endpoint import (
    MAX_JSON_DEPTH,
    MESSAGE_CONTENT_TYPE,
    MESSAGE_NOT_JSON_RPC,
    MESSAGE_NOT_ONE_OBJECT,
    MESSAGE_PARSE_ERROR,
    MESSAGE_TOO_DEEP,
)
from maestra_mcp.session_logs.models import McpSessionLog
from maestra_mcp.session_logs.services import REDACTED
from reporting.schemas import MESSAGE_NUL
from tests.support.mcp import MCP_HEADERS, asgi_http_client, running_app
from tests.support.reports import WINDOW

pytestmark = pytest.mark.django_db(transaction=True)

ANALYST = "analyst@acme.test"
VERSION = {"MCP-Protocol-Version": "2025-11-25"}


def rows(account, expected: int | None = None) -> list[McpSessionLog]:
    """The account's rows; with ``expected``, waits (up to 5 s) for that many: under
    uvicorn a row is written after its response went out."""
    deadline = time.monotonic() + 5
    while True:
        found = list(McpSessionLog.objects.for_account(account).order_by("id"))
        if expected is None or len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def call(arguments, *, meta=None, request_id=1) -> dict:
    params = {"name": "campaign_report", "arguments": arguments}
    if meta is not None:
        params["_meta"] = meta
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def post_raw(token: str, *bodies: bytes, content_type: str = "application/json"):
    """Each body POSTed in turn on one client; the responses."""

    async def go():
        headers = {**MCP_HEADERS, **VERSION, "Content-Type": content_type}
        async with running_app() as app, asgi_http_client(app, token) as http:
            return [await http.post("/mcp/acme", content=b, headers=headers) for b in bodies]

    return anyio.run(go)


def nested(depth: int) -> bytes:
    inner = b"[" * depth + b"]" * depth
    return b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"x":' + inner + b"}}"


def assert_json_rpc_error(response, status: int, code: int, message: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": code, "message": message},
    }


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (b"[" + json.dumps(call(WINDOW)).encode() + b"]", -32600, MESSAGE_NOT_ONE_OBJECT),
        (b"42", -32600, MESSAGE_NOT_ONE_OBJECT),
        (b'"tools/call"', -32600, MESSAGE_NOT_ONE_OBJECT),
        (b"null", -32600, MESSAGE_NOT_ONE_OBJECT),
        (b"[]", -32600, MESSAGE_NOT_ONE_OBJECT),
        (b"{}", -32600, MESSAGE_NOT_JSON_RPC),
        (b'{"jsonrpc":"1.0","id":1,"method":"ping"}', -32600, MESSAGE_NOT_JSON_RPC),
        (b'{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}', -32600, MESSAGE_NOT_JSON_RPC),
        # Ids MCP does not allow: the SDK alone would take these for notifications (202)
        (b'{"jsonrpc":"2.0","id":null,"method":"tools/list"}', -32600, MESSAGE_NOT_JSON_RPC),
        (b'{"jsonrpc":"2.0","id":{},"method":"tools/list"}', -32600, MESSAGE_NOT_JSON_RPC),
        (b'{"jsonrpc":"2.0","id":true,"method":"tools/list"}', -32600, MESSAGE_NOT_JSON_RPC),
        (b"{", -32700, MESSAGE_PARSE_ERROR),
        (b"\xff\xfe{}", -32700, MESSAGE_PARSE_ERROR),
        (b"", -32700, MESSAGE_PARSE_ERROR),
        (
            b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\\ud800"}}',
            -32700,
            MESSAGE_PARSE_ERROR,
        ),
        (nested(MAX_JSON_DEPTH + 1), -32600, MESSAGE_TOO_DEEP),
    ],
    ids=lambda value: value[:24] if isinstance(value, bytes) else None,
)
def test_a_body_that_is_not_one_message_gets_one_clear_error(cast, token_for, body, code, message):
    (response,) = post_raw(token_for(ANALYST), body)
    assert_json_rpc_error(response, 400, code, message)
    (row,) = rows(cast.acme)
    assert (row.status, row.http_status, row.error) == ("refused", 400, message)
    assert row.user == cast.user(ANALYST)


def test_deep_nesting_under_the_size_cap_keeps_the_connection_and_logs(
    cast, report_data, token_for, uvicorn_origin
):
    """1,500 levels in 3 KiB: refused, logged, and the same keep-alive connection then
    serves the next request (the adversarial run saw RecursionError and a dropped one)."""
    body = nested(1500)
    assert len(body) < 64 * 1024
    headers = {**MCP_HEADERS, **VERSION, "Content-Type": "application/json"}
    headers["Authorization"] = f"Bearer {token_for(ANALYST)}"

    async def go():
        async with httpx2.AsyncClient(base_url=uvicorn_origin, headers=headers) as http:
            first = await http.post("/mcp/acme", content=body)
            second = await http.post("/mcp/acme", json=call(WINDOW))
            return first, second

    first, second = anyio.run(go)
    assert_json_rpc_error(first, 400, -32600, MESSAGE_TOO_DEEP)
    assert second.status_code == 200
    assert "result" in second.json()
    # either order: each row is written after its own response went out
    assert sorted(row.status for row in rows(cast.acme, expected=2)) == ["refused", "success"]


def test_nul_anywhere_is_served_and_logged(cast, report_data, token_for):
    """PostgreSQL refuses NUL in text and jsonb: the row stores U+FFFD instead.
    (Lone surrogates are refused as a parse error above, by the SDK's own parser.)"""
    with_brands = call({**WINDOW, "brands": ["Acme\u0000"]}, meta={"p": "a\u0000b", "k\u0000": 1})
    meta_only = call(WINDOW, meta={"note": "\u0000"})
    answers = post_raw(
        token_for(ANALYST), *(json.dumps(b).encode() for b in (with_brands, meta_only))
    )
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json()["result"]["isError"] is True  # no such brand: a tool error
    assert answers[1].json()["result"].get("isError") is not True  # the report itself
    bad_brand, served = rows(cast.acme)
    assert bad_brand.params["arguments"]["brands"] == ["Acme\ufffd"]
    assert bad_brand.params["_meta"] == {"p": "a\ufffdb", "k\ufffd": 1}
    assert "\u0000" not in bad_brand.error
    assert served.status == "success"
    assert served.params["_meta"] == {"note": "\ufffd"}


def test_token_values_are_redacted_wherever_they_appear(cast, report_data, token_for):
    own = token_for(ANALYST)
    other_live = token_for("owner@acme.test")  # token_urlsafe: not DOT's shape
    dot_shaped = "aB3" * 10  # 30 characters of DOT's alphabet, live or not
    arguments = {**WINDOW, "brands": [own, f"see {other_live} here", dot_shaped]}
    (answer,) = post_raw(own, json.dumps(call(arguments, meta={"k": own})).encode())
    assert answer.status_code == 200
    (row,) = rows(cast.acme)
    stored = json.dumps([row.params, row.result, row.error])
    for secret in (own, other_live, dot_shaped):
        assert secret not in stored
    assert row.params["arguments"]["brands"] == [REDACTED, f"see {REDACTED} here", REDACTED]
    assert row.params["_meta"] == {"k": REDACTED}


def test_media_type_is_case_insensitive(cast, report_data, token_for):
    token = token_for(ANALYST)
    body = json.dumps(call(WINDOW)).encode()
    upper, params, other = (
        post_raw(token, body, content_type="APPLICATION/JSON")[0],
        post_raw(token, body, content_type="Application/Json; charset=UTF-8")[0],
        post_raw(token, body, content_type="application/jsonx")[0],
    )
    assert upper.status_code == params.status_code == 200
    assert_json_rpc_error(other, 415, -32600, MESSAGE_CONTENT_TYPE)


@pytest.mark.parametrize("content_type", ["text/plain", "", " application/json-rpc"])
def test_any_other_content_type_is_a_logged_415(cast, token_for, content_type):
    """One refusal for every wrong media type, logged with who sent it (the SDK's own
    check answered 400 before the token was read, and left no row)."""
    (answer,) = post_raw(
        token_for(ANALYST), json.dumps(call(WINDOW)).encode(), content_type=content_type
    )
    assert_json_rpc_error(answer, 415, -32600, MESSAGE_CONTENT_TYPE)
    (row,) = rows(cast.acme)
    assert (row.status, row.http_status, row.user) == ("refused", 415, cast.user(ANALYST))


def test_a_search_with_nul_is_an_argument_error(cast, report_data, token_for):
    """It reached the database, which refuses NUL: an internal error (found by the fuzz corpus)."""
    body = call({"query": "Spring\u0000"})
    body["params"]["name"] = "list_report_filters"
    (answer,) = post_raw(token_for(ANALYST), json.dumps(body).encode())
    result = answer.json()["result"]
    assert result["isError"] is True
    assert result["content"][0]["text"] == (
        f"Invalid arguments for list_report_filters: query: Value error, {MESSAGE_NUL}"
    )


@pytest.mark.parametrize("limit", [True, 5.0, "5"])
def test_limit_must_be_an_integer(cast, report_data, token_for, limit):
    (answer,) = post_raw(token_for(ANALYST), json.dumps(call({**WINDOW, "limit": limit})).encode())
    result = answer.json()["result"]
    assert result["isError"] is True
    assert "limit" in result["content"][0]["text"]


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_failing_full_row_degrades_to_a_minimal_one(cast, report_data, token_for):
    """The database refuses the full row (here a trigger refusing any params): the
    request is still logged, with who, client, method, tool, status and the error class."""
    # On the module's logger: building the app re-applies LOGGING, which replaces
    # the root logger's handlers (caplog's included).
    errors = Collected()
    logging.getLogger("maestra_mcp.session_logs.services").addHandler(errors)
    table = McpSessionLog._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_params() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN IF NEW.params IS NOT NULL THEN RAISE EXCEPTION 'no params'; END IF; "
            "RETURN NEW; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER refuse_params BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_params()"
        )
    try:
        (answer,) = post_raw(token_for(ANALYST), json.dumps(call(WINDOW)).encode())
        assert answer.status_code == 200
        (row,) = rows(cast.acme)
        assert (row.method, row.tool_name, row.status, row.http_status) == (
            "tools/call",
            "campaign_report",
            "success",
            200,
        )
        assert row.error.startswith("[log failed: ")
        assert row.user == cast.user(ANALYST)
        assert row.oauth_client_name == "Test assistant"
        assert row.params is None
        assert any("Could not store the MCP session log" in m for m in errors.messages)
    finally:
        logging.getLogger("maestra_mcp.session_logs.services").removeHandler(errors)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER refuse_params ON {table}")
            cursor.execute("DROP FUNCTION refuse_params()")


def test_secrets_module_tokens_are_not_dot_shaped():
    """The test above relies on token_for's tokens (token_urlsafe) being found as live
    tokens, not by shape: 43 characters with - and _ are not DOT's 30."""
    assert len(secrets.token_urlsafe(32)) == 43


@pytest.mark.parametrize("date_from", ["0001-01-01", "0003-06-01", "9997-01-01", "9999-12-31"])
def test_far_dates_are_a_tool_error_naming_the_bounds(cast, report_data, token_for, date_from):
    arguments = {"date_from": date_from, "date_to": "9999-12-31"}
    (answer,) = post_raw(token_for(ANALYST), json.dumps(call(arguments)).encode())
    assert answer.status_code == 200
    result = answer.json()["result"]
    assert result["isError"] is True
    assert "must be between 2000-01-01 and" in result["content"][0]["text"]
    assert "internal error" not in result["content"][0]["text"]
