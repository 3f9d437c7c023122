"""explain_change, the list_report_filters search, the prompts (with completions) and the
maestra://metrics resource through the official SDK client, in both protocol eras.

Two weeks of statistics: the current window is tests.support.reports.WINDOW, the
comparison window the 7 days before it. A campaign runs in both, one only before
(gone), one only now (new); SMS tracks no opens.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from fractions import Fraction

import anyio
import jsonschema
import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import PromptReference, ResourceTemplateReference

from maestra_mcp.mcp_catalog.prompts import PROMPTS
from maestra_mcp.mcp_catalog.resources import METRICS_URI
from maestra_mcp.session_logs.models import McpSessionLog
from permissions.brand_scope import brand_restriction_set
from permissions.policy import MESSAGE_NOT_A_MEMBER
from reporting.metrics import METRIC_DEFINITIONS
from reporting.models import Brand
from reporting.schemas_explain import METHOD, ExplainChangeParams
from tests.mcp_catalog.test_tools import session
from tests.support.mcp import ASGI_ORIGIN, asgi_http_client, exchange, running_app, sdk_client
from tests.support.reports import WINDOW, explain_change_as, import_rows, week_row

pytestmark = pytest.mark.django_db(transaction=True)

ANALYST = "analyst@acme.test"
MODES = ["auto", "legacy"]  # 2026-07-28 and 2025-11-25
CURRENT = (date(2026, 1, 5), date(2026, 1, 11))
PREVIOUS = (date(2025, 12, 29), date(2026, 1, 4))


def two_weeks() -> list[dict]:
    rows = []
    for day in range(7):
        before = f"2025-12-{29 + day}" if day < 3 else f"2026-01-{day - 2:02d}"
        now = f"2026-01-{5 + day:02d}"
        rows += [
            week_row(before, "campaign", "c1", "Spring sale", "Acme Home", "email", 900, day),
            week_row(now, "campaign", "c1", "Spring sale", "Acme Home", "email", 1200, day + 1),
            week_row(before, "campaign", "c2", "SMS flash", "Acme Sport", "sms", 300, day),
            week_row(now, "campaign", "c2", "SMS flash", "Acme Sport", "sms", 250, day),
            week_row(before, "campaign", "c3", "Winter clearance", "Acme Home", "email", 500, 2),
            week_row(now, "campaign", "c4", "New arrivals", "Acme Sport", "web_push", 700, 3),
            week_row(now, "flow", "f1", "Welcome", "Acme Home", "email", 200, day),
        ]
    return rows


@pytest.fixture
def explain_data(cast):
    rows = two_weeks()
    import_rows(cast.acme, rows)
    # Another account with the same ids: nothing of it may show in acme's answers.
    import_rows(
        cast.globex,
        [
            {**row, "brand": row["brand"].replace("Acme", "Globex"), "revenue": "99999.00"}
            for row in rows
        ],
    )
    return rows


def by_campaign(rows: list[dict], window: tuple[date, date]) -> dict[str, dict]:
    """Each campaign's sums in ``window``, straight from the imported rows."""
    sums: dict[str, dict] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        if row["kind"] == "campaign" and window[0] <= date.fromisoformat(row["date"]) <= window[1]:
            group = sums[row["source_id"]]
            group["revenue"] += Decimal(row["revenue"])
            if row["opens"] != "":  # opens tracked on this channel
                group["opens"] += row["opens"]
                group["opens_delivered"] += row["delivered"]
    return sums


def call_tool(token: str, name: str, arguments: dict, mode: str = "legacy"):
    async def work(client):
        return await client.call_tool(name, arguments)

    return anyio.run(session, "asgi", token, mode, work)


def everyone(result: dict) -> list[dict]:
    return result["drivers_up"] + result["drivers_down"] + [result["others"] or {}]


# --- explain_change -------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_revenue_contributions_add_up_to_the_change_exactly(cast, explain_data, token_for, mode):
    arguments = {**WINDOW, "kind": "campaigns", "metric": "revenue", "limit": 1}

    async def work(client):
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        return listed["explain_change"], await client.call_tool("explain_change", arguments)

    tool, result = anyio.run(session, "asgi", token_for(ANALYST), mode, work)
    assert result.is_error is False, result.content
    jsonschema.validate(result.structured_content, tool.output_schema)
    answer = result.structured_content
    expected = explain_change_as(
        account=cast.acme, user=cast.user(ANALYST), params=ExplainChangeParams(**arguments)
    )
    assert answer == expected.model_dump(mode="json")

    now, before = by_campaign(explain_data, CURRENT), by_campaign(explain_data, PREVIOUS)
    change = sum(g["revenue"] for g in now.values()) - sum(g["revenue"] for g in before.values())
    assert Decimal(answer["change"]["absolute"]) == change
    assert sum(Decimal(str(entry.get("contribution", 0))) for entry in everyone(answer)) == change
    assert answer["method"] == "difference"
    assert (answer["new_groups"], answer["gone_groups"], answer["total_groups"]) == (1, 1, 4)
    # limit 1 per direction: the biggest mover each way, everything else in others.
    (up,), (down,) = answer["drivers_up"], answer["drivers_down"]
    assert answer["others"]["groups"] == 2
    for driver in (up, down):
        key = driver["key"]
        own = now.get(key, {}).get("revenue", 0) - before.get(key, {}).get("revenue", 0)
        assert Decimal(str(driver["contribution"])) == own
    statuses = {d["key"]: d["status"] for d in (up, down)}
    assert statuses.get("c3", "gone") == "gone" and statuses.get("c4", "new") == "new"


@pytest.mark.parametrize("mode", MODES)
def test_a_rate_splits_into_rate_and_mix_effects_that_add_up(cast, explain_data, token_for, mode):
    arguments = {**WINDOW, "kind": "campaigns", "metric": "open_rate"}
    answer = call_tool(token_for(ANALYST), "explain_change", arguments, mode).structured_content
    assert answer["method"] == "shift_share"

    # An independent shift-share: the rate over channels that track opens (SMS does not).
    now, before = by_campaign(explain_data, CURRENT), by_campaign(explain_data, PREVIOUS)
    d_now = sum(g["opens_delivered"] for g in now.values())
    d_before = sum(g["opens_delivered"] for g in before.values())
    rate_now = Fraction(int(sum(g["opens"] for g in now.values())), int(d_now))
    rate_before = Fraction(int(sum(g["opens"] for g in before.values())), int(d_before))
    assert answer["current"] == pytest.approx(float(rate_now), abs=1e-12)
    assert answer["change"]["absolute"] == pytest.approx(float(rate_now - rate_before), abs=1e-12)
    total = sum(entry.get("contribution", 0) for entry in everyone(answer))
    assert total == pytest.approx(answer["change"]["absolute"], abs=1e-9)
    for driver in answer["drivers_up"] + answer["drivers_down"]:
        assert driver["rate_effect"] + driver["mix_effect"] == pytest.approx(
            driver["contribution"], abs=1e-12
        )
        key = driver["key"]
        own = Fraction(int(now.get(key, {}).get("opens", 0)), int(d_now)) - Fraction(
            int(before.get(key, {}).get("opens", 0)), int(d_before)
        )
        assert driver["contribution"] == pytest.approx(float(own), abs=1e-12)
    # SMS tracks no opens: it is no driver of the open rate.
    assert "c2" not in {d["key"] for d in answer["drivers_up"] + answer["drivers_down"]}


@pytest.mark.parametrize(
    ("arguments", "advice"),
    [
        ({"metric": "revenue"}, "kind: Field required"),
        ({"kind": "flows", "metric": "revenue", "by": "folder"}, "use one of flow, channel, brand"),
        ({"kind": "flows", "metric": "revenue", "folders": ["Promotions"]}, "drop it for flows"),
        ({"kind": "campaigns", "metric": "roi"}, "'open_rate'"),  # the valid metric names
        ({"kind": "campaigns", "metric": "revenue", "brands": ["Acme Hom"]}, "'Acme Home'"),
        (
            {
                "kind": "campaigns",
                "metric": "revenue",
                "compare_to": "previous_year",
                **{"compare_date_from": "2025-01-01", "compare_date_to": "2025-01-07"},
            },
            "either compare_to or compare_date_from",
        ),
        # Dates as bounded as the reports' (before, year 1 crashed the previous year's
        # arithmetic), and limit as strict (true was 1).
        (
            {"kind": "campaigns", "metric": "revenue", "date_from": "0001-01-01"},
            "date_from: Value error, must be between 2000-01-01 and",
        ),
        (
            {
                "kind": "campaigns",
                "metric": "revenue",
                **{"compare_date_from": "0001-01-01", "compare_date_to": "0001-01-07"},
            },
            "compare_date_from: Value error, must be between 2000-01-01 and",
        ),
        (
            {"kind": "campaigns", "metric": "revenue", "limit": True},
            "limit: Input should be a valid integer",
        ),
    ],
)
def test_bad_explain_arguments_are_tool_errors_saying_what_to_do(
    cast, explain_data, token_for, arguments, advice
):
    result = call_tool(token_for(ANALYST), "explain_change", {**WINDOW, **arguments})
    assert result.is_error is True
    assert advice in result.content[0].text
    assert "Traceback" not in result.content[0].text


def test_a_brand_restricted_member_explains_only_their_brand(cast, explain_data, token_for):
    sport = Brand.objects.for_account(cast.acme).get(name="Acme Sport")
    brand_restriction_set(
        account=cast.acme, user=cast.user(ANALYST), brands=[sport], acting_user=None
    )
    token = token_for(ANALYST)
    arguments = {**WINDOW, "kind": "campaigns", "metric": "revenue"}
    answer = call_tool(token, "explain_change", arguments).structured_content
    assert answer["brand_restricted"] is True
    keys = {d["key"] for d in answer["drivers_up"] + answer["drivers_down"]}
    assert keys <= {"c2", "c4"}  # Acme Home's campaigns stay out
    hidden = call_tool(token, "explain_change", {**arguments, "brands": ["Acme Home"]})
    assert hidden.is_error is True
    valid = hidden.content[0].text.split("Valid")[1]
    assert "Acme Sport" in valid and "Acme Home" not in valid


# --- list_report_filters: search and paging ------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_campaigns_are_searched_and_paged_through_the_tool(cast, explain_data, token_for, mode):
    async def work(client):
        found = await client.call_tool("list_report_filters", {"query": "SALE"})
        pages, cursor = [], None
        while True:
            arguments = {"limit": 1} | ({"campaigns_cursor": cursor} if cursor else {})
            page = (await client.call_tool("list_report_filters", arguments)).structured_content
            pages.append(page)
            cursor = page["campaigns_next_cursor"]
            if cursor is None:
                break
        bad = await client.call_tool("list_report_filters", {"campaigns_cursor": "forged"})
        return found, pages, bad

    found, pages, bad = anyio.run(session, "asgi", token_for(ANALYST), mode, work)
    assert [c["name"] for c in found.structured_content["campaigns"]] == ["Spring sale"]
    names = [c["name"] for page in pages for c in page["campaigns"]]
    assert names == ["New arrivals", "SMS flash", "Spring sale", "Winter clearance"]
    assert {page["campaigns_total"] for page in pages} == {4}
    assert bad.is_error is True
    assert "without cursor" in bad.content[0].text


# --- Prompts and completions ---------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_prompts_are_listed_and_name_the_tools_to_call(cast, explain_data, token_for, mode):
    async def work(client):
        listed = await client.list_prompts()
        weekly = await client.get_prompt("weekly_review", {"brand": "acme sport"})
        monthly = await client.get_prompt(
            "month_over_month", {"kind": "flows", "metric": "Open_Rate"}
        )
        under = await client.get_prompt("find_underperformers", {})
        return listed, weekly, monthly, under

    listed, weekly, monthly, under = anyio.run(session, "asgi", token_for(ANALYST), mode, work)
    prompts = {prompt.name: prompt for prompt in listed.prompts}
    assert sorted(prompts) == ["find_underperformers", "month_over_month", "weekly_review"]
    assert all(prompt.title and prompt.description for prompt in prompts.values())
    assert [a.name for a in prompts["weekly_review"].arguments] == ["brand", "channel"]
    assert not any(a.required for p in prompts.values() for a in p.arguments)

    text = weekly.messages[0].content.text
    assert weekly.messages[0].role == "user"
    # The account's spelling of the brand, in the arguments of every tool call.
    assert '"brands": ["Acme Sport"]' in text
    assert all(tool in text for tool in ("campaign_report", "flow_report", "explain_change"))
    monthly_text = monthly.messages[0].content.text
    assert "flow_report" in monthly_text and '"metric": "open_rate"' in monthly_text
    assert '"kind": "flows"' in monthly_text and '"period": "last_month"' in monthly_text
    under_text = under.messages[0].content.text
    assert '"order": "asc"' in under_text and '"sort_by": "conversion_rate"' in under_text


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("monthly_report", {}, "Available prompts: weekly_review"),
        ("weekly_review", {"colour": "red"}, "Its arguments: brand, channel"),
        ("weekly_review", {"brand": "Acme Sprot"}, "Did you mean Acme Sport"),
        ("month_over_month", {"metric": "roi"}, "Valid values: sends"),
        ("find_underperformers", {"channel": "fax"}, "email"),
    ],
)
def test_bad_prompt_arguments_are_invalid_params_naming_the_valid_ones(
    cast, explain_data, token_for, name, arguments, message
):
    async def work(client):
        try:
            return await client.get_prompt(name, arguments)
        except MCPError as error:
            return error

    error = anyio.run(session, "asgi", token_for(ANALYST), "legacy", work)
    assert isinstance(error, MCPError)
    assert error.code == -32602
    assert message in error.message


def complete_as(token: str, prompt: str, argument: str, value: str, mode="legacy"):
    async def work(client):
        ref = PromptReference(type="ref/prompt", name=prompt)
        result = await client.complete(ref, {"name": argument, "value": value})
        return result.completion

    return anyio.run(session, "asgi", token, mode, work)


@pytest.mark.parametrize("mode", MODES)
def test_completions_offer_the_accounts_own_values(cast, explain_data, token_for, mode):
    token = token_for(ANALYST)
    assert complete_as(token, "weekly_review", "brand", "", mode).values == [
        "Acme Home",
        "Acme Sport",
    ]
    assert complete_as(token, "weekly_review", "brand", "acme s", mode).values == ["Acme Sport"]
    assert complete_as(token, "weekly_review", "brand", "sport", mode).values == ["Acme Sport"]
    channels = complete_as(token, "weekly_review", "channel", "", mode)
    assert channels.values == ["email", "sms", "web_push"]  # in use, not every channel
    # Values starting with what was typed first, then those containing it.
    opens = complete_as(token, "month_over_month", "metric", "open", mode)
    assert opens.values == ["opens", "open_rate", "click_to_open_rate"]
    assert opens.total == 3 and opens.has_more is False
    assert complete_as(token, "month_over_month", "kind", "f", mode).values == ["flows"]
    assert complete_as(token, "weekly_review", "metric", "", mode).values == []  # not its arg


def test_completions_and_prompts_respect_the_brand_scope(cast, explain_data, token_for):
    home = Brand.objects.for_account(cast.acme).get(name="Acme Home")
    brand_restriction_set(
        account=cast.acme, user=cast.user(ANALYST), brands=[home], acting_user=None
    )
    token = token_for(ANALYST)
    assert complete_as(token, "weekly_review", "brand", "").values == ["Acme Home"]
    assert complete_as(token, "weekly_review", "channel", "").values == ["email"]

    async def work(client):
        try:
            return await client.get_prompt("weekly_review", {"brand": "Acme Sport"})
        except MCPError as error:
            return error

    error = anyio.run(session, "asgi", token, "legacy", work)
    assert isinstance(error, MCPError)
    assert "Acme Sport" not in error.message.split("Valid values:")[1]


def test_completions_are_of_the_requests_own_account(cast, explain_data, token_for):
    cast.globex.mcp_enabled = True
    cast.globex.save()
    agency = "agency@partner.test"  # a member of both accounts
    globex_brands = sorted(Brand.objects.for_account(cast.globex).values_list("name", flat=True))
    token = token_for(agency, account=cast.globex)

    async def on_globex():
        async with (
            running_app() as app,
            asgi_http_client(app, token) as http,
            sdk_client(f"{ASGI_ORIGIN}/mcp/globex", http, "legacy") as client,
        ):
            ref = PromptReference(type="ref/prompt", name="weekly_review")
            return (await client.complete(ref, {"name": "brand", "value": ""})).completion.values

    assert anyio.run(on_globex) == globex_brands
    assert globex_brands == ["Globex Home", "Globex Sport"]


def test_a_resource_template_reference_is_invalid_params(cast, token_for):
    async def work(client):
        try:
            ref = ResourceTemplateReference(type="ref/resource", uri="maestra://{x}")
            return await client.complete(ref, {"name": "x", "value": ""})
        except MCPError as error:
            return error

    error = anyio.run(session, "asgi", token_for(ANALYST), "legacy", work)
    assert isinstance(error, MCPError) and error.code == -32602


# --- The metrics resource ------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_the_metrics_resource_is_listed_and_read(cast, token_for, mode):
    async def work(client):
        listed = await client.list_resources()
        read = await client.read_resource(METRICS_URI)
        try:
            await client.read_resource("maestra://secrets")
        except MCPError as error:
            return listed, read, error

    listed, read, error = anyio.run(session, "asgi", token_for(ANALYST), mode, work)
    (resource,) = [r for r in listed.resources if str(r.uri) == METRICS_URI]
    assert str(resource.uri) == METRICS_URI
    assert resource.mime_type == "text/markdown" and resource.title
    (content,) = read.contents
    assert content.mime_type == "text/markdown"
    assert METRIC_DEFINITIONS in content.text and METHOD in content.text
    assert resource.size == len(content.text.encode())
    assert error.code == -32602 and METRICS_URI in error.message


# --- Refusals before the SDK, and the session log -------------------------------------

REQUESTS = {
    "tools/call": {"name": "explain_change", "arguments": {"kind": "flows", "metric": "sends"}},
    "prompts/list": {},
    "prompts/get": {"name": "weekly_review", "arguments": {}},
    "completion/complete": {
        "ref": {"type": "ref/prompt", "name": "weekly_review"},
        "argument": {"name": "brand", "value": ""},
    },
    "resources/read": {"uri": METRICS_URI},
}


@pytest.mark.parametrize("method", sorted(REQUESTS))
def test_an_outsider_gets_nothing(cast, explain_data, token_for, method):
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": REQUESTS[method]}
    response = exchange("POST", "/mcp/acme", token=token_for("outsider@example.test"), body=body)
    assert response.status_code == 403
    assert response.json()["error"]["message"] == MESSAGE_NOT_A_MEMBER
    assert "Acme" not in response.text


@pytest.mark.parametrize("method", sorted(REQUESTS))
def test_another_accounts_token_gets_nothing(cast, explain_data, token_for, method):
    cast.globex.mcp_enabled = True
    cast.globex.save()
    token = token_for("agency@partner.test", account=cast.globex)
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": REQUESTS[method]}
    response = exchange("POST", "/mcp/acme", token=token, body=body)
    assert response.status_code == 401
    assert "Acme" not in response.text


def test_one_session_log_row_per_request_with_the_tool_name(cast, explain_data, token_for):
    arguments = {**WINDOW, "kind": "campaigns", "metric": "revenue"}

    async def work(client):
        await client.get_prompt("weekly_review", {})
        await client.read_resource(METRICS_URI)
        return await client.call_tool("explain_change", arguments)

    result = anyio.run(session, "asgi", token_for(ANALYST), "legacy", work)
    logged = list(McpSessionLog.objects.for_account(cast.acme).order_by("id"))
    assert [row.method for row in logged] == [
        "initialize",
        "notifications/initialized",
        "prompts/get",
        "resources/read",
        "tools/call",
        "tools/list",  # the SDK client validates the answer against the output schema
    ]
    call = logged[4]
    assert call.tool_name == "explain_change"
    assert call.params["arguments"] == arguments
    assert call.result == result.structured_content
    assert all(row.status == McpSessionLog.Status.SUCCESS for row in logged)


def test_every_prompt_renders_with_every_argument(cast, explain_data, token_for):
    """Each prompt takes each of its arguments (a template that forgot one would fail)."""
    values = {"brand": "Acme Home", "channel": "email", "metric": "click_rate", "kind": "flows"}

    async def work(client):
        return {
            name: await client.get_prompt(name, {a: values[a] for a in prompt.arguments})
            for name, prompt in PROMPTS.items()
        }

    got = anyio.run(session, "asgi", token_for(ANALYST), "legacy", work)
    for name, prompt in PROMPTS.items():
        text = got[name].messages[0].content.text
        assert '"brands": ["Acme Home"]' in text and '"channels": ["email"]' in text
        if "metric" in prompt.arguments:
            assert '"metric": "click_rate"' in text and '"kind": "flows"' in text
