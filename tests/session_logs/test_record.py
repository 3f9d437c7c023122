"""session_log_record: one correct row per request, nothing secret, never fails the caller."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import Account
from accounts.scoping import UnscopedQueryError
from maestra_mcp.session_logs.models import McpSessionLog
from maestra_mcp.session_logs.services import REDACTED, TOO_DEEP, _to_json
from tests.support.session_logs import issue_tokens, record

pytestmark = pytest.mark.django_db

TOOL_PARAMS = {"name": "campaign_report", "arguments": {"window": "last_30_days"}}
TOOL_RESULT = {"summary": {"sent": 1200, "open_rate": 0.12}}


def rows():
    return list(McpSessionLog.objects.unscoped().values())


def table_text() -> str:
    """Every column of every row, as one string to grep for secrets."""
    return json.dumps(rows(), default=str)


def test_tools_call_leaves_one_complete_row(cast, claude_app):
    analyst = cast.user("analyst@acme.test")
    tokens = issue_tokens(account=cast.acme, user=analyst, application=claude_app)

    log = record(
        cast.acme,
        access_token=tokens["access"],
        protocol_version="2025-06-18",
        method="tools/call",
        tool_name="campaign_report",
        params=TOOL_PARAMS,
        result=TOOL_RESULT,
        http_status=200,
        duration_ms=41.6,
        user_agent="Claude-User/1.0",
    )

    assert log is not None
    (row,) = rows()
    assert row == {
        "id": log.pk,
        "account_id": cast.acme.pk,
        "user_id": analyst.pk,
        "oauth_client_id": claude_app.client_id,
        "oauth_client_name": "Claude",
        "token_id": tokens["access"].pk,
        "protocol_version": "2025-06-18",
        "method": "tools/call",
        "tool_name": "campaign_report",
        "params": TOOL_PARAMS,
        "result": TOOL_RESULT,
        "error": "",
        "status": "success",
        "http_status": 200,
        "duration_ms": 42,
        "user_agent": "Claude-User/1.0",
        "created_at": row["created_at"],
    }
    assert tokens["raw_access"] not in table_text()


def test_refused_call_leaves_one_row_without_user_or_token(cast):
    record(
        cast.globex,
        status=McpSessionLog.Status.REFUSED,
        method="tools/call",
        tool_name="campaign_report",
        params=TOOL_PARAMS,
        error="MCP is not enabled for this account.",
        http_status=403,
        user_agent="Claude-User/1.0",
    )
    (row,) = rows()
    assert (row["account_id"], row["status"], row["http_status"]) == (
        cast.globex.pk,
        "refused",
        403,
    )
    assert (row["user_id"], row["token_id"], row["oauth_client_id"], row["result"]) == (
        None,
        None,
        "",
        None,
    )
    assert row["error"] == "MCP is not enabled for this account."


def test_bad_argument_call_leaves_one_error_row(cast, claude_app):
    tokens = issue_tokens(
        account=cast.acme, user=cast.user("analyst@acme.test"), application=claude_app
    )
    error = "Unknown brand 'Nope'. Valid brands: Acme, Acme Outlet."
    record(
        cast.acme,
        status=McpSessionLog.Status.ERROR,
        access_token=tokens["access"],
        method="tools/call",
        tool_name="campaign_report",
        params={"name": "campaign_report", "arguments": {"brands": ["Nope"]}},
        result={"isError": True, "content": [{"type": "text", "text": error}]},
        error=error,
        http_status=200,
    )
    (row,) = rows()
    assert (row["status"], row["error"], row["tool_name"]) == ("error", error, "campaign_report")
    assert row["params"]["arguments"] == {"brands": ["Nope"]}


def test_credentials_are_never_stored(cast, claude_app):
    """Even when a caller hands over headers, tokens or cookies, none reach the table."""
    tokens = issue_tokens(
        account=cast.acme, user=cast.user("analyst@acme.test"), application=claude_app
    )
    raw = tokens["raw_access"]
    record(
        cast.acme,
        access_token=tokens["access"],
        method="initialize",
        params={
            "headers": {"Authorization": f"Bearer {raw}", "Cookie": f"sessionid={raw}"},
            "nested": [{"access_token": raw, "refresh-token": tokens["raw_refresh"]}],
            "note": f"client sent Bearer {raw}",
        },
        error=f"echo: bearer {raw}",
    )
    text = table_text()
    assert raw not in text
    assert tokens["raw_refresh"] not in text
    (row,) = rows()
    assert row["params"]["headers"] == {"Authorization": REDACTED, "Cookie": REDACTED}
    assert row["params"]["nested"] == [{"access_token": REDACTED, "refresh-token": REDACTED}]
    assert row["params"]["note"] == f"client sent Bearer {REDACTED}"
    assert row["error"] == f"echo: Bearer {REDACTED}"


def test_huge_result_is_stored_as_a_preview(cast):
    record(cast.acme, method="tools/call", result={"rows": ["x" * 1000] * 500})
    (row,) = rows()
    assert row["result"]["truncated"] is True
    assert row["result"]["original_chars"] > 500_000
    assert len(row["result"]["preview"]) == 100_000


def test_unknown_account_is_not_logged(cast):
    assert record(None, method="tools/call") is None
    assert rows() == []


def test_offboarded_account_gets_no_new_logs(cast):
    Account.objects.filter(pk=cast.acme.pk).update(offboarded_at="2026-01-01T00:00Z")
    assert record(cast.acme, method="tools/call") is None
    assert rows() == []


def test_a_failing_log_write_does_not_fail_the_caller(cast, caplog):
    """The database itself rejects the insert; the caller's transaction carries on."""
    table = McpSessionLog._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION log_storage_down() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'log storage down'; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER log_down BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION log_storage_down()"
        )
    with caplog.at_level(logging.ERROR), transaction.atomic():
        assert record(cast.acme, method="tools/call", params={"secret_stuff": "x"}) is None
        # The caller's own transaction is still usable.
        assert Account.objects.filter(pk=cast.acme.pk).exists()
    assert "Could not store the MCP session log" in caplog.text
    assert "log storage down" in caplog.text
    assert "secret_stuff" not in caplog.text  # the payload is not logged


def test_invalid_status_is_logged_not_raised(cast, caplog):
    with caplog.at_level(logging.ERROR):
        log = record(cast.acme, method="tools/call", status="bogus")
    assert "Could not store the MCP session log" in caplog.text
    # degraded to the minimal row, as an error naming the failure's class
    assert (log.method, log.status, log.error) == (
        "tools/call",
        "error",
        "[log failed: ValueError]",
    )


def test_unscoped_queries_fail_closed(cast):
    record(cast.acme, method="ping")
    with pytest.raises(UnscopedQueryError):
        McpSessionLog.objects.count()
    assert McpSessionLog.objects.for_account(cast.acme).count() == 1
    assert McpSessionLog.objects.for_account(cast.globex).count() == 0


_KEYS = st.sampled_from(
    ["date", "revenue", "Authorization", "COOKIE", "set-cookie", "Refresh-Token", "id_token",
     "client_secret", "passWord", "code-verifier", "coo\u212aie", "tokens", "name"]
)  # fmt: skip
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(alphabet=st.sampled_from("ab Bearer xyz.=-\u212a"), max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=4),
    max_leaves=20,
)


# The names among _KEYS that carry credentials, written here rather than taken from
# the module under test (the Kelvin sign "\u212a" lower-cases to "k").
_SECRET_NAMES = {"authorization", "cookie", "set_cookie", "refresh_token", "id_token",
                 "client_secret", "password", "code_verifier"}  # fmt: skip
_UNMASKED_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]")


def _pairs(value):
    """Every (key, value) of every dict in ``value``, and every string, walked."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from _pairs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _pairs(item)
    elif isinstance(value, str):
        yield None, value


@given(value=_JSON)
@hypothesis_settings(max_examples=300, deadline=None)
def test_no_credential_survives_in_the_stored_copy(value):
    """Whatever the value: the stored copy is JSON, every secret-named key holds only
    the marker, and no ``Bearer`` is followed by a token."""
    stored = _to_json(value)
    assert json.loads(json.dumps(stored)) == stored
    for key, item in _pairs(stored):
        if key is not None and key.lower().replace("-", "_") in _SECRET_NAMES:
            assert item == REDACTED
        if key is None:
            assert not _UNMASKED_BEARER.search(item), item


def test_unstorable_text_is_replaced_not_refused(cast):
    """NUL and lone surrogates (which PostgreSQL and psycopg refuse) in any field."""
    log = record(
        cast.acme,
        method="tools/call\x00",
        tool_name="x\ud800",
        params={"k\x00": ["\udfff", {"deep": "a\x00b"}]},
        result={"r": "\ud83d"},
        error="bad \x00 value",
        user_agent="agent\x00",
    )
    assert log is not None
    (row,) = rows()
    assert row["params"] == {"k\ufffd": ["\ufffd", {"deep": "a\ufffdb"}]}
    assert row["result"] == {"r": "\ufffd"}
    assert (row["method"], row["tool_name"]) == ("tools/call\ufffd", "x\ufffd")
    assert (row["error"], row["user_agent"]) == ("bad \ufffd value", "agent\ufffd")


def test_numbers_json_cannot_hold_are_stored_by_name(cast):
    """NaN and ±Infinity (the SDK's parser reads them from a request) would make
    PostgreSQL refuse the whole row: they are stored as text."""
    nan, infinity = float("nan"), float("inf")
    record(cast.acme, method="ping", params={"x": nan, "y": [infinity, -infinity], "z": 1.5})
    (row,) = rows()
    assert row["params"] == {"x": "NaN", "y": ["Infinity", "-Infinity"], "z": 1.5}
    assert row["error"] == ""


def test_deep_values_are_cut_not_raised(cast):
    """Whatever a caller passes, the walks stop at MAX_DEPTH (no RecursionError)."""
    value: list = ["bearer x"]
    for _ in range(200):
        value = [value]
    log = record(cast.acme, method="tools/call", params={"v": value})
    (row,) = rows()
    assert row["id"] == log.pk
    assert TOO_DEEP in json.dumps(row["params"])
    assert row["error"] == ""


def token_lookups(params) -> int:
    with CaptureQueriesContext(connection) as queries:
        record(Account.objects.get(system_name="acme"), method="tools/list", params=params)
    return sum("oauth2_provider" in query["sql"] for query in queries.captured_queries)


def test_protocol_meta_keys_cost_no_token_lookup(cast):
    """Every 2026-07-28 request's _meta has keys in a token's alphabet: only values are
    looked up as live tokens (keys are never masked), and a value still is."""
    meta = {"io.modelcontextprotocol/clientCapabilities": {}, "io.modelcontextprotocol/x": 1}
    assert token_lookups({"_meta": meta}) == 0
    assert token_lookups({"_meta": {"k": "x" * 40}}) == 2  # access and refresh tokens
    stored = [row["params"]["_meta"] for row in sorted(rows(), key=lambda row: row["id"])]
    assert stored == [meta, {"k": "x" * 40}]


def test_token_shaped_values_are_masked_in_text(cast):
    dot_token = "Zx9" * 10
    record(cast.acme, method="tools/call", params={"q": f"use {dot_token}."}, error=dot_token)
    (row,) = rows()
    assert row["params"] == {"q": f"use {REDACTED}."}
    assert row["error"] == REDACTED
