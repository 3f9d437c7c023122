"""The MCP tools: one module each, listed in ``TOOLS``.

Adding a tool is adding a module here that defines ``tool = McpTool(...)``
(``base.py``): a strict pydantic argument model (``extra="forbid"``), a pydantic
result model, a title, a description written for a language model, and a thin
handler that calls one reporting selector for the request's account, over
the brands its user may see (``permissions.brand_scope.allowed_brand_ids``); then one
line in ``TOOLS``. The connector directories accept at most 6 tools.
"""

from maestra_mcp.mcp_catalog.tools import (
    campaign_report,
    explain_change,
    flow_report,
    list_report_filters,
)

TOOLS = (
    campaign_report.tool,
    flow_report.tool,
    explain_change.tool,
    list_report_filters.tool,
)
