"""The resources: ``maestra://metrics`` (how each metric is defined and a change explained)
and the MCP Apps views of ``views.py``."""

from __future__ import annotations

import mcp_types as types
from mcp.shared.exceptions import MCPError

from maestra_mcp.mcp_catalog.views import VIEWS, read_view
from reporting.metrics import METRIC_DEFINITIONS
from reporting.schemas_explain import METHOD

METRICS_URI = "maestra://metrics"
MARKDOWN = "text/markdown"

METRICS_TEXT = f"""\
# Maestra metric definitions

The metrics of campaign_report, flow_report and explain_change (`sort_by`, `metric`).

{METRIC_DEFINITIONS}

## How explain_change splits a change

{METHOD}
"""

METRICS = types.Resource(
    uri=METRICS_URI,
    name="metrics",
    title="Metric definitions",
    description="How every report metric is computed, and how explain_change decomposes "
    "a change into contributions (rate and mix effects for rates).",
    mime_type=MARKDOWN,
    size=len(METRICS_TEXT.encode()),
)
RESOURCES = {METRICS_URI: METRICS} | {uri: resource for uri, (resource, _) in VIEWS.items()}


def resource_read(uri: str) -> types.ReadResourceResult:
    """The resource's contents; an unknown URI is invalid params naming the known ones."""
    if uri == METRICS_URI:
        contents = types.TextResourceContents(uri=uri, mime_type=MARKDOWN, text=METRICS_TEXT)
        return types.ReadResourceResult(contents=[contents])
    view = read_view(uri)
    if view is None:
        # Resource not found: -32602 with the uri (2026-07-28, SEP-2164).
        raise MCPError(
            types.INVALID_PARAMS,
            f"Unknown resource: {uri}. Available resources: {', '.join(RESOURCES)}.",
            {"uri": uri},
        )
    return view
