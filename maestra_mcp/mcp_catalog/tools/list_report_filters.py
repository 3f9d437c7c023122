"""list_report_filters: the filter values the report tools accept for this user."""

from __future__ import annotations

from maestra_mcp.mcp_catalog.principal import McpPrincipal
from maestra_mcp.mcp_catalog.tools.base import McpTool
from permissions.brand_scope import allowed_brand_ids
from reporting.schemas import ReportFilters, ReportFiltersParams
from reporting.selectors import report_filters


def handle(principal: McpPrincipal, params: ReportFiltersParams) -> ReportFilters:
    allowed = allowed_brand_ids(user=principal.user, account=principal.account)
    return report_filters(account=principal.account, allowed_brands=allowed, params=params)


tool = McpTool(
    name="list_report_filters",
    title="List report filters",
    description="""\
The values campaign_report, flow_report and explain_change accept for this Maestra account \
and user: brand names, goals, campaign folders (including "(no folder)" for unfiled \
campaigns), channels and activation types in use, a page of campaigns and a page of flows \
(external id and name), the period presets, the metric names and the metric definitions. A \
user limited to some brands sees only what those brands use.

When to use: before calling a report with a brand, goal, folder, campaign or flow filter, or \
when the user asks what can be reported on ("which brands do we have?", "list our flows", \
"find the Black Friday campaigns").

Arguments (all optional):
- `query`: only campaigns and flows whose name or external id contains it, ignoring case \
and accents ("ete" finds "Été promo"). Brands, goals, folders and channels are always listed \
in full.
- `limit`: campaigns and flows per page (default 100, max 500).
- `campaigns_cursor` / `flows_cursor`: a previous answer's `campaigns_next_cursor` / \
`flows_next_cursor`, with the same `query`, for the next page of that list.

Result: `campaigns_total` and `flows_total` count the matches; a non-null `*_next_cursor` \
means more follow.

Example calls:
  {}
  {"query": "black friday"}
  {"query": "welcome", "limit": 20}""",
    params=ReportFiltersParams,
    result=ReportFilters,
    handler=handle,
    too_large_advice="Ask for a smaller limit, or search with query.",
)
