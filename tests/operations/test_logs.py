"""Structured logs: JSON lines with the request id and account; plain text by default."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from maestra_mcp.operations.logs import (
    JsonFormatter,
    account_name,
    new_request_id,
    request_id,
)
from tests.maestra_mcp.test_settings import run_django
from tests.maestra_mcp.test_startup import import_entry_point


def json_record(message: str = "hello %s", args=("world",), exc_info=None) -> dict:
    record = logging.LogRecord(
        "maestra.test", logging.WARNING, __file__, 1, message, args, exc_info
    )
    return json.loads(JsonFormatter().format(record))


def test_a_record_is_one_json_object_with_the_context():
    tokens = request_id.set("req-12345678"), account_name.set("acme")
    try:
        entry = json_record()
    finally:
        request_id.reset(tokens[0])
        account_name.reset(tokens[1])
    assert entry.keys() == {"time", "level", "logger", "message", "request_id", "account"}
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "WARNING",
        "maestra.test",
        "hello world",
    )
    assert (entry["request_id"], entry["account"]) == ("req-12345678", "acme")
    assert entry["time"].endswith("+00:00")


def test_outside_a_request_there_is_no_context_and_exceptions_are_kept():
    try:
        raise ValueError("boom")
    except ValueError:
        entry = json_record("failed", (), sys.exc_info())
    assert "request_id" not in entry and "account" not in entry
    assert "ValueError: boom" in entry["exception"]
    assert "\n" not in JsonFormatter().format(
        logging.LogRecord("x", logging.INFO, __file__, 1, "two\nlines", (), None)
    )


@pytest.mark.parametrize(
    ("offered", "kept"),
    [
        ("3f2a9c1e-77aa-4c1b-9a55-0d6c2e8e4f10", True),
        ("short", False),
        ("evil\ninjected line", False),
        ("x" * 65, False),
        (None, False),
    ],
)
def test_an_offered_request_id_is_kept_only_when_plausible(offered, kept):
    rid = new_request_id(offered)
    assert (rid == offered) is kept
    assert 8 <= len(rid) <= 64


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def request_log():
    """JSON lines of what ``django.request`` logs (e.g. "Not Found: …")."""
    handler = Collect()
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def test_records_of_a_request_carry_its_id_and_account(as_user, request_log):
    client = as_user("outsider@example.test")
    response = client.get("/accounts/acme/team/", HTTP_X_REQUEST_ID="lb-0123456789abcdef")
    assert response.status_code == 404  # not the outsider's account
    assert response["X-Request-ID"] == "lb-0123456789abcdef"
    entries = [json.loads(line) for line in request_log]
    assert entries, "django.request logs the 404"
    assert {(e["request_id"], e["account"]) for e in entries} == {("lb-0123456789abcdef", "acme")}
    assert "outsider" not in "".join(request_log)  # no user names


def test_each_request_gets_a_fresh_id(client, db):
    first = client.get("/login/")["X-Request-ID"]
    second = client.get("/login/")["X-Request-ID"]
    assert first != second
    assert (request_id.get(), account_name.get()) == (None, None)  # cleared after the request


def test_json_format_end_to_end_and_plain_by_default():
    result = import_entry_point("maestra_mcp.wsgi", {"DEBUG": "true", "LOG_FORMAT": "json"})
    lines = result.stderr.strip().splitlines()
    assert lines and all(json.loads(line)["logger"] == "maestra_mcp.startup" for line in lines)
    plain = import_entry_point("maestra_mcp.wsgi", {"DEBUG": "true"})
    assert " WARNING maestra_mcp.startup: SECRET_KEY is not set" in plain.stderr


def test_an_unknown_log_format_stops_start_up():
    result = run_django(["check"], {"DEBUG": "true", "LOG_FORMAT": "xml"})
    assert result.returncode != 0
    assert "LOG_FORMAT must be one of plain, json" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_under_asgi_too(cast, request_log):
    """Django's ASGI handler: the context set in its worker threads reaches the log lines."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    client = AsyncClient()
    client.force_login(cast.user("outsider@example.test"))
    response = async_to_sync(client.get)("/accounts/acme/team/")
    assert response.status_code == 404
    rid = response["X-Request-ID"]
    entries = [json.loads(line) for line in request_log]
    assert {(e["request_id"], e["account"]) for e in entries} == {(rid, "acme")}


@pytest.mark.django_db(transaction=True)
def test_mcp_requests_log_their_id_and_account(cast):
    from tests.support.mcp import exchange

    handler = Collect()
    logger = logging.getLogger("maestra_mcp.mcp_server.endpoint")
    logger.addHandler(handler)
    try:
        exchange("POST", "/mcp/acme", **{"X-Request-ID": "probe-0123456789"})  # no token
    finally:
        logger.removeHandler(handler)
    entries = [json.loads(line) for line in handler.lines]
    assert entries and entries[-1]["message"].startswith("mcp POST /mcp/acme -> 401 no_token")
    assert (entries[-1]["request_id"], entries[-1]["account"]) == ("probe-0123456789", "acme")
