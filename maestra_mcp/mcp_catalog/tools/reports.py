"""The report tools, campaign_report and flow_report: one builder, two declarations.

Both answer the same questions over a different read model, so they share the
handler (the member's brands, the arguments, the result size budget) and the
description a language model reads; only what differs is declared per tool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

from maestra_mcp.mcp_catalog.principal import McpPrincipal
from maestra_mcp.mcp_catalog.tools.base import MAX_RESULT_CHARS, McpTool
from maestra_mcp.mcp_catalog.views import REPORT_VIEW_URI
from permissions.brand_scope import allowed_brand_ids
from reporting import selectors
from reporting.metrics import METRIC_DEFINITIONS
from reporting.periods import PERIODS
from reporting.schemas import CampaignReport, CampaignReportParams, FlowReport, FlowReportParams

ADVICE_TOO_LARGE = "Use a coarser timeline (week or month) or a shorter window, or drop compare_to."

ReportT = TypeVar("ReportT", CampaignReport, FlowReport)


def report_tool(
    *,
    name: str,
    title: str,
    selector: Callable[..., ReportT],
    params: type[BaseModel],
    result: type[ReportT],
    answers: str,
    unit: str,
    filters: str,
    examples: list[str],
) -> McpTool:
    """A report tool: the selector's parameters in, its report out, the breakdown cut
    to fit the result size budget (a report still too large the server refuses, with
    ADVICE_TOO_LARGE)."""

    def handle(principal: McpPrincipal, arguments: BaseModel) -> ReportT:
        allowed = allowed_brand_ids(user=principal.user, account=principal.account)
        return selector(
            account=principal.account,
            allowed_brands=allowed,
            params=arguments,
            max_chars=MAX_RESULT_CHARS,
        )

    description = report_description(answers=answers, unit=unit, filters=filters, examples=examples)
    return McpTool(
        name=name,
        title=title,
        description=description,
        params=params,
        result=result,
        handler=handle,
        too_large_advice=ADVICE_TOO_LARGE,
        view=REPORT_VIEW_URI,  # hosts with MCP Apps chart the result
    )


def report_description(*, answers: str, unit: str, filters: str, examples: list[str]) -> str:
    """The description a language model reads to pick and call a report tool."""
    example_lines = "\n".join(f"  {example}" for example in examples)
    return f"""\
{answers}

When to use: questions about {unit} performance in this Maestra account — sends, deliveries, \
opens, clicks, conversions, revenue — over a date window, in total, over time or broken down. \
Call list_report_filters first to learn the brand, goal, folder and flow names this account uses.

Arguments (all optional):
- Window: `period` (one of {", ".join(PERIODS)}; default last_30_days) OR `date_from` + \
`date_to` (YYYY-MM-DD, both inclusive). Dates are days in the account's time zone.
- Filters: `channels`, `brands`, `goals`{filters}. Names are matched case-insensitively; \
an unknown name is an error listing the valid ones.
- `breakdown` groups the rows; they are sorted by `sort_by` (a metric, default revenue) in \
`order` and at most `limit` rows are returned (default 50, max 500).
- `timeline`: day, week or month buckets across the window.
- `compare_to`: previous_period or previous_year, with absolute and relative change per metric.
- `cursor`: a previous answer's `breakdown.next_cursor`, with every other argument unchanged \
(`limit` may change), for the next page of the same breakdown.

Result: `summary` holds the window's totals; `breakdown.total_groups` is how many groups had \
activity. `breakdown.truncated` is true when groups come after this page — cut by `limit`, or \
fewer rows to keep the answer within assistant size limits; then `breakdown.next_cursor` \
continues the same ordering and `breakdown.others` aggregates every group not on the page \
(rows + others = summary). `brand_restricted` true means the user sees only some brands and \
every total covers those brands only. `provenance` says how far the data reaches: \
`data_through` (last imported day), `currency`, `timezone`, and `partial` (with \
`partial_reason`) when the window includes today or days not imported yet — say so when \
quoting the numbers. To learn WHY a metric moved between two windows, use explain_change \
instead of comparing breakdowns yourself.

Metric definitions:
{METRIC_DEFINITIONS}

Example calls:
{example_lines}"""


# One-off and triggered campaigns.
campaign_report = report_tool(
    name="campaign_report",
    title="Campaign report",
    selector=selectors.campaign_report,
    params=CampaignReportParams,
    result=CampaignReport,
    answers=(
        "Aggregated performance of the account's campaigns (newsletters and other sends over "
        "email, SMS, mobile/web push, Viber, WhatsApp): totals for a window, optionally by "
        "campaign, folder, channel or brand, over time, and against an earlier period."
    ),
    unit="campaign",
    filters=", `folders`, `activation_types`",
    examples=[
        '{"period": "last_month"}',
        '{"period": "last_90_days", "channels": ["email"], "breakdown": "campaign", '
        '"sort_by": "revenue", "limit": 10}',
        '{"date_from": "2026-01-01", "date_to": "2026-03-31", "breakdown": "channel", '
        '"timeline": "month", "compare_to": "previous_year"}',
    ],
)

# Automated flows (triggered journeys).
flow_report = report_tool(
    name="flow_report",
    title="Flow report",
    selector=selectors.flow_report,
    params=FlowReportParams,
    result=FlowReport,
    answers=(
        "Aggregated performance of the account's automated flows (welcome series, "
        "abandoned-cart and other triggered journeys): totals for a window, optionally by "
        "flow, channel or brand, over time, and against an earlier period."
    ),
    unit="automated flow",
    filters=", `flows` (flow ids or names)",
    examples=[
        '{"period": "last_30_days", "breakdown": "flow"}',
        '{"period": "this_quarter", "flows": ["Abandoned cart"], "timeline": "week", '
        '"compare_to": "previous_period"}',
    ],
)
