"""The MCP Apps views this server ships (extension ``io.modelcontextprotocol/ui``).

One view today: ``ui://maestra/report``, a self-contained HTML page (JavaScript and
CSS inlined, nothing fetched, no secret) that charts the report tools'
``structuredContent``. A tool links it through ``_meta.ui.resourceUri``; hosts that
render MCP Apps fetch it with ``resources/read`` and show it beside the answer, the
others ignore the link and get the same text and structured results as before.

The HTML is built from ``apps/report/`` (``npm ci && npm run build`` there, see the
README) and committed, so serving it needs no Node.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import mcp_types as types
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID

__all__ = ["APP_MIME_TYPE", "EXTENSION_ID", "REPORT_VIEW_URI", "VIEWS", "read_view", "ui_meta"]

REPORT_VIEW_URI = "ui://maestra/report"
REPORT_VIEW_HTML = Path(__file__).with_name("apps") / "report.html"

# No `_meta.ui.csp`: the view declares no connect/resource domains, so hosts apply
# their strictest policy; it needs nothing else.
VIEWS = {
    REPORT_VIEW_URI: (
        types.Resource(
            uri=REPORT_VIEW_URI,
            name="report",
            title="Report chart",
            description=(
                "Interactive view of a campaign or flow report: totals with their change, "
                "the timeline as a chart and the breakdown as a sortable table."
            ),
            mime_type=APP_MIME_TYPE,
        ),
        REPORT_VIEW_HTML,
    ),
}


def ui_meta(resource_uri: str) -> dict:
    """A tool's ``_meta`` linking the view ``resource_uri``."""
    if resource_uri not in VIEWS:
        raise ValueError(f"no MCP Apps view {resource_uri!r}; known: {', '.join(VIEWS)}")
    return {"ui": {"resourceUri": resource_uri}}


@cache
def read_view(uri: str) -> types.ReadResourceResult | None:
    """The view's HTML as a ``resources/read`` result (read from disk once), or None."""
    if uri not in VIEWS:
        return None
    resource, path = VIEWS[uri]
    text = path.read_text(encoding="utf-8")
    contents = types.TextResourceContents(uri=uri, mime_type=resource.mime_type, text=text)
    return types.ReadResourceResult(contents=[contents])
