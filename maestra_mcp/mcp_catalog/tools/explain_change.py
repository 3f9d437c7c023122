"""explain_change: which campaigns, flows, folders, channels or brands drove a metric's change."""

from __future__ import annotations

from maestra_mcp.mcp_catalog.principal import McpPrincipal
from maestra_mcp.mcp_catalog.tools.base import McpTool
from maestra_mcp.mcp_catalog.views import REPORT_VIEW_URI
from permissions.brand_scope import allowed_brand_ids
from reporting.metrics import METRIC_DEFINITIONS
from reporting.periods import PERIODS
from reporting.schemas_explain import METHOD, ExplainChangeParams, Explanation
from reporting.selectors import explain_change


def handle(principal: McpPrincipal, params: ExplainChangeParams) -> Explanation:
    allowed = allowed_brand_ids(user=principal.user, account=principal.account)
    return explain_change(account=principal.account, allowed_brands=allowed, params=params)


DESCRIPTION = f"""\
Why a metric changed between two windows: the metric in both, its change, and the groups \
(campaigns, flows, folders, channels or brands) that pushed it up and down, each with its \
value in both windows and its contribution. The contributions of the drivers and of the \
`others` row add up exactly to the total change, so you can say "revenue fell 1,200 EUR; \
Spring sale accounts for -900 of it".

When to use: the user asks why a number went up or down ("why is revenue down on last \
month?", "which campaigns hurt our open rate this week?", "what drove the conversion rate \
drop in flows?"). One call replaces pulling and subtracting breakdowns yourself.

Arguments:
- `kind` (required): campaigns or flows. `metric` (required): any metric below.
- Current window: `period` (one of {", ".join(PERIODS)}; default last_30_days) OR `date_from` \
+ `date_to` (YYYY-MM-DD, inclusive, account time zone).
- Comparison window: `compare_to` previous_period (default: same length, just before) or \
previous_year; OR explicit `compare_date_from` + `compare_date_to`.
- `by`: campaign, folder, channel or brand (campaigns); flow, channel or brand (flows). \
Default: campaign / flow.
- Filters as in the reports: `channels`, `brands`, `goals`, `activation_types` and `folders` \
(campaigns), `flows` (flows). Call list_report_filters for valid names.
- `limit`: drivers listed per direction (default 10, max 50).

Method (`method` in the result): {METHOD}

Result: `current`, `previous`, `change` (absolute, relative); `drivers_up` and \
`drivers_down` (largest contribution first) with `status` new (no data in the comparison \
window), gone (none in the current one) or continuing; for rates also `rate_effect`, \
`mix_effect` and the group's denominator shares; `others` aggregates every group not listed; \
`new_groups`, `gone_groups`, `total_groups`. `explained` is false (with a `note`) when the \
metric is null in a window, e.g. opens on SMS only or no deliveries. `provenance` gives \
`data_through`, currency, time zone and `partial` when a window is incomplete — mention it.

Metric definitions:
{METRIC_DEFINITIONS}

Example calls:
  {{"kind": "campaigns", "metric": "revenue", "period": "last_month", \
"compare_to": "previous_period"}}
  {{"kind": "campaigns", "metric": "open_rate", "period": "last_30_days", "by": "channel"}}
  {{"kind": "flows", "metric": "conversion_rate", "date_from": "2026-03-01", \
"date_to": "2026-03-31", "compare_to": "previous_year", "limit": 5}}"""

tool = McpTool(
    name="explain_change",
    title="Explain a change",
    description=DESCRIPTION,
    params=ExplainChangeParams,
    result=Explanation,
    handler=handle,
    too_large_advice="Ask for a smaller limit (drivers per direction) or narrower filters.",
    view=REPORT_VIEW_URI,  # hosts with MCP Apps draw the drivers as bars
)
