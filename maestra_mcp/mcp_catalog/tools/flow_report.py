"""flow_report: performance of automated flows (triggered journeys)."""

from maestra_mcp.mcp_catalog.tools._reports import report_tool
from reporting.schemas import FlowReport, FlowReportParams
from reporting.selectors import flow_report

tool = report_tool(
    name="flow_report",
    title="Flow report",
    selector=flow_report,
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
