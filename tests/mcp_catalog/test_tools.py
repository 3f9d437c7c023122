"""The tools through the official SDK client, in both protocol eras, in-process and over uvicorn.

Every structured result is validated against the outputSchema the server
published, and its numbers are compared with the reporting selectors called
directly for the same account and user.
"""

from __future__ import annotations

import dataclasses
import json
import logging

import anyio
import httpx2
import jsonschema
import pytest
from mcp.shared.exceptions import MCPError

from maestra_mcp.mcp_catalog.tools.base import MAX_RESULT_CHARS
from maestra_mcp.mcp_server import server
from maestra_mcp.mcp_server.server import MESSAGE_INTERNAL_ERROR
from reporting.errors import ReportError
from reporting.metrics import METRIC_DEFINITIONS
from reporting.schemas import CampaignReportParams, FlowReportParams, ReportFiltersParams
from reporting.schemas_explain import METHOD, ExplainChangeParams
from tests.support.mcp import ASGI_ORIGIN, asgi_http_client, running_app, sdk_client, uvicorn_server
from tests.support.reports import (
    WINDOW,
    campaign_report_as,
    explain_change_as,
    flow_report_as,
    import_rows,
    report_filters_as,
    week_row,
)

pytestmark = pytest.mark.django_db(transaction=True)

ANALYST = "analyst@acme.test"
TOOLS = ("campaign_report", "flow_report", "explain_change", "list_report_filters")
CALLS = {
    "campaign_report": {**WINDOW, "breakdown": "campaign", "timeline": "day"},
    "flow_report": {**WINDOW, "breakdown": "channel", "compare_to": "previous_period"},
    "explain_change": {**WINDOW, "kind": "campaigns", "metric": "open_rate", "by": "channel"},
    "list_report_filters": {"query": "sale", "limit": 5},
}


async def session(transport: str, token: str, mode: str, work):
    """Run ``work(client)`` with an SDK client connected to /mcp/acme over ``transport``."""
    headers = {"Authorization": f"Bearer {token}"}
    if transport == "asgi":
        async with (
            running_app() as app,
            asgi_http_client(app, token) as http,
            sdk_client(f"{ASGI_ORIGIN}/mcp/acme", http, mode) as client,
        ):
            return await work(client)
    with uvicorn_server() as origin:
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            sdk_client(f"{origin}/mcp/acme", http, mode) as client,
        ):
            return await work(client)


def expected(tool: str, account, user) -> dict:
    """The same answer, straight from the reporting core."""
    if tool == "campaign_report":
        report = campaign_report_as(
            account=account, user=user, params=CampaignReportParams(**CALLS[tool])
        )
    elif tool == "flow_report":
        report = flow_report_as(account=account, user=user, params=FlowReportParams(**CALLS[tool]))
    elif tool == "explain_change":
        params = ExplainChangeParams(**CALLS[tool])
        report = explain_change_as(account=account, user=user, params=params)
    else:
        params = ReportFiltersParams(**CALLS[tool])
        report = report_filters_as(account=account, user=user, params=params)
    return report.model_dump(mode="json")


@pytest.mark.parametrize("transport", ["asgi", "uvicorn"])
@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_every_tool_answers_like_the_reporting_core(cast, report_data, token_for, transport, mode):
    token = token_for(ANALYST)

    async def work(client):
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        results = {name: await client.call_tool(name, CALLS[name]) for name in TOOLS}
        return listed, results

    listed, results = anyio.run(session, transport, token, mode, work)
    assert sorted(listed) == sorted(TOOLS)
    for name in TOOLS:
        result = results[name]
        assert result.is_error is False, result.content
        jsonschema.validate(result.structured_content, listed[name].output_schema)
        # The same JSON as a text block, for clients that ignore structuredContent.
        assert json.loads(result.content[0].text) == result.structured_content
        assert result.structured_content == expected(name, cast.acme, cast.user(ANALYST))


def test_numbers_match_an_independent_sum_of_the_imported_rows(cast, report_data, token_for):
    token = token_for(ANALYST)

    async def work(client):
        return await client.call_tool(
            "campaign_report", {**WINDOW, "breakdown": "channel", "channels": ["email", "sms"]}
        )

    report = anyio.run(session, "asgi", token, "legacy", work).structured_content
    campaigns = [row for row in report_data if row["kind"] == "campaign"]
    summary = report["summary"]
    # acme's rows only: globex's (100 times larger) never leak in.
    assert summary["sends"] == sum(row["sends"] for row in campaigns)
    assert summary["orders"] == sum(row["orders"] for row in campaigns)
    assert float(summary["revenue"]) == pytest.approx(sum(float(r["revenue"]) for r in campaigns))
    delivered = sum(row["delivered"] for row in campaigns)
    assert summary["conversion_rate"] == pytest.approx(summary["orders"] / delivered)
    # Open rate only over channels that track opens (SMS does not).
    email = [row for row in campaigns if row["channel"] == "email"]
    assert summary["open_rate"] == pytest.approx(
        sum(row["opens"] for row in email) / sum(row["delivered"] for row in email)
    )
    assert {row["key"] for row in report["breakdown"]["rows"]} == {"email", "sms"}


def test_published_tool_definitions(cast, token_for):
    token = token_for(ANALYST)

    async def work(client):
        return {tool.name: tool for tool in (await client.list_tools()).tools}

    tools = anyio.run(session, "asgi", token, "legacy", work)
    assert len(tools) <= 6  # the connector directories' limit
    for tool in tools.values():
        assert tool.title
        # The server's own size budget, so a client never cuts an answer the server sent whole.
        assert tool.meta["anthropic/maxResultSizeChars"] == MAX_RESULT_CHARS
        assert tool.annotations.read_only_hint is True
        assert tool.annotations.destructive_hint is False
        assert tool.annotations.idempotent_hint is True
        assert tool.annotations.open_world_hint is False
        assert tool.input_schema["type"] == "object"
        assert tool.input_schema["additionalProperties"] is False
        assert tool.output_schema["type"] == "object"
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
        jsonschema.Draft202012Validator.check_schema(tool.output_schema)
    for name in ("campaign_report", "flow_report"):
        schema = tools[name].input_schema
        properties = schema["properties"]
        assert "email" in json.dumps(properties["channels"])
        assert "last_30_days" in json.dumps(properties["period"])
        assert "revenue" in json.dumps(properties["sort_by"])
        assert '"enum"' in json.dumps(properties["breakdown"])
        assert properties["limit"]["maximum"] == 500
        description = tools[name].description
        assert METRIC_DEFINITIONS in description  # drawn from reporting.metrics, never drifts
        assert "Example calls" in description
    assert set(tools["list_report_filters"].input_schema["properties"]) == {
        "query",
        "limit",
        "campaigns_cursor",
        "flows_cursor",
    }
    explain = tools["explain_change"]
    assert explain.input_schema["required"] == ["kind", "metric"]
    assert METHOD in explain.description  # the decomposition, as the reporting core states it
    assert METRIC_DEFINITIONS in explain.description


# --- Errors the assistant can correct, and errors it cannot ---------------------------


def call(token, name, arguments, mode="legacy"):
    """The tool result, or the MCPError the client raised (returned, not raised)."""

    async def work(client):
        try:
            return await client.call_tool(name, arguments)
        except MCPError as error:
            return error

    return anyio.run(session, "asgi", token, mode, work)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_unknown_argument_is_a_tool_error_naming_it(cast, report_data, token_for, mode):
    result = call(token_for(ANALYST), "campaign_report", {**WINDOW, "colour": "red"}, mode)
    assert result.is_error is True
    assert "colour" in result.content[0].text
    assert "Traceback" not in result.content[0].text


def test_bad_enum_value_is_a_tool_error_naming_the_argument(cast, report_data, token_for):
    result = call(token_for(ANALYST), "campaign_report", {"channels": ["fax"]})
    assert result.is_error is True
    assert "channels" in result.content[0].text
    assert "email" in result.content[0].text  # the valid values, to self-correct


def test_report_error_comes_back_with_the_reporting_message(cast, report_data, token_for):
    arguments = {**WINDOW, "brands": ["Nonexistent brand"]}
    with pytest.raises(ReportError) as direct:
        campaign_report_as(
            account=cast.acme, user=cast.user(ANALYST), params=CampaignReportParams(**arguments)
        )
    result = call(token_for(ANALYST), "campaign_report", arguments)
    assert result.is_error is True
    assert result.content[0].text == direct.value.message
    assert "Acme Home" in result.content[0].text


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_unknown_tool_is_a_protocol_error(cast, token_for, mode):
    error = call(token_for(ANALYST), "delete_everything", {}, mode)
    assert isinstance(error, MCPError)
    assert error.code == -32602
    assert "Unknown tool: delete_everything" in error.message


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_crash_is_logged_but_never_shown(cast, report_data, token_for, monkeypatch):
    def crash(principal, params):
        raise RuntimeError("connection string postgres://secret@db")

    tools = [
        dataclasses.replace(tool, handler=crash) if tool.name == "flow_report" else tool
        for tool in server.TOOLS
    ]
    monkeypatch.setattr(server, "TOOLS", tools)
    # On the module's logger: building the application re-runs Django's logging set-up,
    # which replaces the root handlers (and pytest's caplog with them).
    records = Records()
    logging.getLogger("maestra_mcp.mcp_server.server").addHandler(records)
    try:
        result = call(token_for(ANALYST), "flow_report", WINDOW)
    finally:
        logging.getLogger("maestra_mcp.mcp_server.server").removeHandler(records)
    assert result.is_error is True
    assert result.content[0].text == MESSAGE_INTERNAL_ERROR
    assert "secret" not in result.content[0].text
    # For the operators: the traceback is logged.
    assert "postgres://secret@db" in str(records.records[0].exc_info[1])


# --- Size budget -----------------------------------------------------------------------


def test_large_breakdown_is_cut_to_the_size_budget_and_pages_on(cast, token_for):
    rows = [
        week_row(
            "2026-01-05",
            "campaign",
            f"c{n}",
            f"Campaign number {n}",
            "Acme Home",
            "email",
            100 + n % 50,  # ties on revenue: the cursor must still continue exactly
            n % 3,
        )
        for n in range(400)
    ]
    import_rows(cast.acme, rows)
    token = token_for(ANALYST)
    arguments = {**WINDOW, "limit": 500}
    first = call(token, "campaign_report", arguments)
    assert first.is_error is False
    report = first.structured_content
    breakdown = report["breakdown"]
    assert breakdown["total_groups"] == 400
    assert breakdown["truncated"] is True
    assert 0 < len(breakdown["rows"]) < 400
    assert len(first.content[0].text) <= MAX_RESULT_CHARS
    # The top rows by revenue are the ones kept.
    direct = campaign_report_as(
        account=cast.acme,
        user=cast.user(ANALYST),
        params=CampaignReportParams(**arguments),
    ).model_dump(mode="json")["breakdown"]["rows"]
    assert breakdown["rows"] == direct[: len(breakdown["rows"])]
    # The page the budget allowed is a page of its own: others holds every group not on
    # it (page + others = summary) and the cursor continues right after its last row.
    others = breakdown["others"]
    assert others["groups"] == 400 - len(breakdown["rows"])
    page_sends = sum(row["metrics"]["sends"] for row in breakdown["rows"])
    assert page_sends + others["metrics"]["sends"] == report["summary"]["sends"]

    async def follow(client):
        pages, cursor = [breakdown], breakdown["next_cursor"]
        while cursor:
            result = await client.call_tool("campaign_report", {**arguments, "cursor": cursor})
            assert result.is_error is False, result.content
            assert len(result.content[0].text) <= MAX_RESULT_CHARS
            pages.append(result.structured_content["breakdown"])
            cursor = pages[-1]["next_cursor"]
        return pages

    pages = anyio.run(session, "asgi", token, "legacy", follow)
    assert len(pages) > 1
    assert [row for page in pages for row in page["rows"]] == direct  # each once, in order
    assert pages[-1]["truncated"] is False
    for page in pages:  # others: every group not on the page, earlier pages' too
        page_sends = sum(row["metrics"]["sends"] for row in page["rows"])
        assert page_sends + page["others"]["metrics"]["sends"] == report["summary"]["sends"]


def test_a_replayed_cursor_with_other_arguments_tells_what_to_do(cast, report_data, token_for):
    token = token_for(ANALYST)
    first = call(token, "campaign_report", {**WINDOW, "limit": 1}).structured_content
    cursor = first["breakdown"]["next_cursor"]
    assert cursor
    other_sort = call(token, "campaign_report", {**WINDOW, "sort_by": "sends", "cursor": cursor})
    assert other_sort.is_error is True
    assert "exactly the arguments of the call" in other_sort.content[0].text
    edited = call(token, "campaign_report", {**WINDOW, "cursor": cursor[:-3] + "abc"})
    assert edited.is_error is True
    assert "without cursor" in edited.content[0].text


def test_report_too_large_even_without_breakdown_explains_how_to_narrow(
    cast, report_data, token_for
):
    arguments = {
        "date_from": "2023-01-01",
        "date_to": "2025-12-31",
        "timeline": "day",
        "breakdown": "none",
    }
    result = call(token_for(ANALYST), "campaign_report", arguments)
    assert result.is_error is True
    text = result.content[0].text
    assert "a day timeline of 1,096 days has 1,096 buckets" in text  # refused before computing
    assert "Use a week or month timeline or a shorter window." in text


def test_a_filter_listing_over_the_budget_is_refused_with_advice(cast, token_for):
    long_name = "Seasonal promotion with a rather long descriptive campaign name number " * 2
    rows = [
        week_row("2026-01-05", "campaign", f"c{n}", f"{long_name} {n}", "Acme Home", "email", 10, 0)
        for n in range(500)
    ]
    import_rows(cast.acme, rows)
    token = token_for(ANALYST)
    refused = call(token, "list_report_filters", {"limit": 500})
    assert refused.is_error is True
    assert f"the limit is {MAX_RESULT_CHARS}" in refused.content[0].text
    assert "smaller limit" in refused.content[0].text
    # ...and the advice works.
    smaller = call(token, "list_report_filters", {"limit": 100})
    assert smaller.is_error is False
    assert smaller.structured_content["campaigns_total"] == 500
