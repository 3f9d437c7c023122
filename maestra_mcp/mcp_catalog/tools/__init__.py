"""The MCP tools, listed in ``TOOLS``.

Adding a tool is adding a module here that defines it as an ``McpTool(...)``
(``base.py``): a strict pydantic argument model (``extra="forbid"``), a pydantic
result model, a title, a description written for a language model, and a thin
handler that calls one reporting selector for the request's account, over
the brands its user may see (``permissions.brand_scope.allowed_brand_ids``); then one
line in ``TOOLS``. The two report tools share one module (``reports.py``) because
they share their builder. The connector directories accept at most 6 tools.
"""

from maestra_mcp.mcp_catalog.tools import explain_change, list_report_filters, reports

TOOLS = (
    reports.campaign_report,
    reports.flow_report,
    explain_change.tool,
    list_report_filters.tool,
)
