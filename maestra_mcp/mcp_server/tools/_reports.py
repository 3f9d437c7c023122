"""What the two report tools share: handler, description and the result size budget."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

from maestra_mcp.mcp_server.principal import McpPrincipal
from maestra_mcp.mcp_server.tools.base import McpTool
from permissions.brand_scope import allowed_brand_ids
from reporting.errors import ReportError
from reporting.metrics import METRIC_DEFINITIONS
from reporting.schemas import CampaignReport, FlowReport
from reporting.windows import PERIODS

# Assistants cap tool results (Claude Code: 25,000 tokens by default, and the
# JSON is sent twice: structuredContent and a text block). Report JSON runs at
# roughly 3 characters a token.
MAX_RESULT_CHARS = 60_000

MESSAGE_TOO_LARGE = (
    "This report is too large for one answer ({chars} characters, the limit is {limit}) even "
    "after cutting the breakdown. Use a coarser timeline (week or month) or a shorter window, "
    "or drop compare_to."
)

ReportT = TypeVar("ReportT", CampaignReport, FlowReport)


def fit_to_budget(report: ReportT) -> ReportT:
    """Cut breakdown rows (marking it truncated) until the JSON fits MAX_RESULT_CHARS.

    Rows are already sorted, so the cut keeps the top groups. A report that is
    still too large (a long daily timeline) is refused with advice instead.
    """
    size = len(report.model_dump_json())
    breakdown = report.breakdown
    if size > MAX_RESULT_CHARS and breakdown is not None and breakdown.rows:
        row_sizes = [len(row.model_dump_json()) + 1 for row in breakdown.rows]  # + comma
        size -= sum(row_sizes)
        keep = 0
        for row_size in row_sizes:
            if size + row_size > MAX_RESULT_CHARS:
                break
            size += row_size
            keep += 1
        cut = breakdown.model_copy(update={"rows": breakdown.rows[:keep], "truncated": True})
        report = report.model_copy(update={"breakdown": cut})
        size = len(report.model_dump_json())
    if size > MAX_RESULT_CHARS:
        raise ReportError(MESSAGE_TOO_LARGE.format(chars=size, limit=MAX_RESULT_CHARS))
    return report


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
    """A report tool: the selector's parameters in, its report (within budget) out."""

    def handle(principal: McpPrincipal, arguments: BaseModel) -> ReportT:
        allowed = allowed_brand_ids(user=principal.user, account=principal.account)
        report = selector(account=principal.account, allowed_brands=allowed, params=arguments)
        return fit_to_budget(report)

    description = report_description(answers=answers, unit=unit, filters=filters, examples=examples)
    return McpTool(
        name=name,
        title=title,
        description=description,
        params=params,
        result=result,
        handler=handle,
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

Result: `summary` holds the window's totals; `breakdown.total_groups` is how many groups had \
activity and `breakdown.truncated` is true when rows were cut — by `limit`, or to keep the \
answer within assistant size limits (then fewer than `limit` rows are returned; ask for a \
smaller `limit` or narrower filters). `brand_restricted` true means the user sees only some \
brands and every total covers those brands only. `currency` and `timezone` name the units.

Metric definitions:
{METRIC_DEFINITIONS}

Example calls:
{example_lines}"""
