"""The resources: ``maestra://metrics``, how each metric is defined and a change explained."""

from __future__ import annotations

import mcp_types as types
from mcp.shared.exceptions import MCPError

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

RESOURCES = {
    METRICS_URI: types.Resource(
        uri=METRICS_URI,
        name="metrics",
        title="Metric definitions",
        description="How every report metric is computed, and how explain_change decomposes "
        "a change into contributions (rate and mix effects for rates).",
        mime_type=MARKDOWN,
        size=len(METRICS_TEXT.encode()),
    )
}
_TEXTS = {METRICS_URI: METRICS_TEXT}


def resource_read(uri: str) -> types.ReadResourceResult:
    """The resource's text; an unknown URI is invalid params naming the known ones."""
    text = _TEXTS.get(uri)
    if text is None:
        raise MCPError(
            types.INVALID_PARAMS,
            f"Unknown resource: {uri}. Available resources: {', '.join(RESOURCES)}.",
        )
    return types.ReadResourceResult(
        contents=[types.TextResourceContents(uri=uri, mime_type=MARKDOWN, text=text)]
    )
