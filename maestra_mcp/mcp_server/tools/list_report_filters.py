"""list_report_filters: the filter values the report tools accept for this user."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from maestra_mcp.mcp_server.principal import McpPrincipal
from maestra_mcp.mcp_server.tools.base import McpTool
from permissions.brand_scope import allowed_brand_ids
from reporting.schemas import ReportFilters
from reporting.selectors import report_filters


class ListReportFiltersParams(BaseModel):
    """No arguments."""

    model_config = ConfigDict(extra="forbid")


def handle(principal: McpPrincipal, params: ListReportFiltersParams) -> ReportFilters:
    allowed = allowed_brand_ids(user=principal.user, account=principal.account)
    return report_filters(account=principal.account, allowed_brands=allowed)


tool = McpTool(
    name="list_report_filters",
    title="List report filters",
    description="""\
The values campaign_report and flow_report accept for this Maestra account and user: brand \
names, goals, campaign folders (including "(no folder)" for unfiled campaigns) and flows (id \
and name) this user may see (a user limited to some brands sees only what those brands use), \
channels and activation types in use, the period presets, the metric names usable as sort_by, \
and the metric definitions.

When to use: before calling a report with a brand, goal, folder or flow filter, or when the \
user asks what can be reported on ("which brands do we have?", "list our flows"). Takes no \
arguments.

Example call: {}""",
    params=ListReportFiltersParams,
    result=ReportFilters,
    handler=handle,
)
