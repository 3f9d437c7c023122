"""/api/v1/accounts/<system_name>/session-logs: who reads them, cursor pages, filters, CSV."""

from __future__ import annotations

import base64
import csv
import io

import pytest

from maestra_mcp.session_logs.models import McpSessionLog
from tests.support.session_logs import make_logs

pytestmark = pytest.mark.django_db

LOGS = "/api/v1/accounts/{}/session-logs"


@pytest.fixture
def logs(cast):
    make_logs(cast.acme, 120)
    McpSessionLog.objects.unscoped().create(
        account=cast.acme,
        method="tools/call",
        tool_name="flow_report",
        status=McpSessionLog.Status.ERROR,
        error='=HYPERLINK("http://evil")',
        user=cast.user("analyst@acme.test"),
    )
    make_logs(cast.globex, 3)


@pytest.mark.parametrize("username", ["owner@acme.test", "csm@maestra.test"])
def test_owners_and_csms_with_the_log_permission_page_through_every_log(api, logs, username):
    client = api(username)
    response = client.get(LOGS.format("acme"))
    assert response.status_code == 200
    seen, pages = [], 0
    body = response.json()
    while True:
        seen += [row["id"] for row in body["results"]]
        pages += 1
        if not body["next"]:
            break
        body = client.get(body["next"]).json()
    assert pages == 3  # 121 rows, 50 a page
    assert len(seen) == len(set(seen)) == 121
    assert seen == sorted(seen, reverse=True)  # newest first (same instant: by id)


def test_filters_by_status_and_tool(api, logs):
    client = api("owner@acme.test")
    rows = client.get(LOGS.format("acme"), {"status": "error"}).json()["results"]
    assert [(r["tool_name"], r["user"]) for r in rows] == [("flow_report", "analyst@acme.test")]
    rows = client.get(LOGS.format("acme"), {"tool": "flow_report", "page_size": 500}).json()
    assert len(rows["results"]) == 1
    assert client.get(LOGS.format("acme"), {"status": "bogus"}).status_code == 400


@pytest.mark.parametrize(
    "decoded",
    ["p=notadate", "p=2024-13-45", "p=2024-01-01 00:00:00+99:00", "r=1&p=zzz", "p=\x00"],
)
def test_a_forged_cursor_is_an_invalid_cursor_not_a_server_error(api, logs, decoded):
    # The cursor is base64 of "p=<position>": a position that is no date-time was a 500.
    cursor = base64.b64encode(decoded.encode()).decode()
    response = api("owner@acme.test").get(LOGS.format("acme"), {"cursor": cursor})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor"}


def test_csv_export_has_every_filtered_row_and_defuses_formulas(api, logs):
    response = api("owner@acme.test").get(LOGS.format("acme"), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "acme-mcp-session-logs.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 121
    error = next(row for row in rows if row["status"] == "error")
    assert error["error"].startswith("'=HYPERLINK")
    filtered = api("owner@acme.test").get(LOGS.format("acme"), {"format": "csv", "status": "error"})
    assert len(list(csv.reader(io.StringIO(b"".join(filtered.streaming_content).decode())))) == 2


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("analyst@acme.test", 403),  # a member, not an Owner
        ("administrator@acme.test", 403),
        ("owner@globex.test", 404),  # another account's Owner
        ("outsider@example.test", 404),
        ("staff@maestra.test", 404),  # staff without the CSM permission
    ],
)
def test_everyone_else_is_refused(api, logs, username, status):
    assert api(username).get(LOGS.format("acme")).status_code == status
    refused = api(username).get(LOGS.format("acme"), {"format": "csv"})
    assert refused.status_code == status
    # The refusal is JSON, and its Content-Type says so (not text/csv).
    assert refused["Content-Type"] == "application/json"
    assert set(refused.json()) == {"detail"}


def test_a_bad_csv_request_answers_json(api, logs):
    response = api("owner@acme.test").get(LOGS.format("acme"), {"format": "csv", "status": "x"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert set(response.json()["errors"]) == {"status"}


def test_a_csm_without_the_log_permission_is_refused(api, cast, logs):
    from django.contrib.auth.models import Permission

    csm = cast.user("csm@maestra.test")
    for group in csm.groups.all():
        group.permissions.remove(Permission.objects.get(codename="view_mcp_session_logs"))
    response = api("csm@maestra.test").get(LOGS.format("acme"))
    assert response.status_code == 403
    assert "Only the account's Owners" in response.json()["detail"]
