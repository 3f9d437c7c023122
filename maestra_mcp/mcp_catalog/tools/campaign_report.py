"""campaign_report: performance of one-off and triggered campaigns."""

from maestra_mcp.mcp_catalog.tools._reports import report_tool
from reporting.schemas import CampaignReport, CampaignReportParams
from reporting.selectors import campaign_report

tool = report_tool(
    name="campaign_report",
    title="Campaign report",
    selector=campaign_report,
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
