"""What a tool is: its MCP definition (name, schemas, annotations) and its handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import mcp_types as types
from pydantic import BaseModel

from maestra_mcp.mcp_catalog.principal import McpPrincipal
from maestra_mcp.mcp_catalog.views import ui_meta

# Every Maestra tool reads aggregated numbers from Maestra's own database.
READ_ONLY = types.ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

# The result size budget of every tool, in characters of its JSON text block.
# Assistants cap tool results (Claude Code: 25,000 tokens by default, and the
# JSON is sent twice: structuredContent and a text block). Report JSON runs at
# roughly 3 characters a token. Declared to clients as
# _meta["anthropic/maxResultSizeChars"], so one that honours it never cuts an
# answer this server considers whole.
MAX_RESULT_CHARS = 60_000

MESSAGE_TOO_LARGE = "This answer is too large ({chars} characters, the limit is {limit}). {advice}"


@dataclass(frozen=True)
class McpTool:
    name: str
    title: str
    description: str
    params: type[BaseModel]
    result: type[BaseModel]
    # Synchronous ORM work; the server runs it via sync_to_async on the request's thread.
    handler: Callable[[McpPrincipal, BaseModel], BaseModel]
    # What to ask for instead when an answer exceeds MAX_RESULT_CHARS (the server
    # refuses such an answer with MESSAGE_TOO_LARGE rather than let a client cut it).
    too_large_advice: str = "Narrow the request."
    # The MCP Apps view (a ``ui://`` resource of views.VIEWS) that renders the result.
    view: str | None = None

    @cached_property
    def definition(self) -> types.Tool:
        return types.Tool(
            name=self.name,
            title=self.title,
            description=self.description,
            input_schema=self.params.model_json_schema(),
            output_schema=self.result.model_json_schema(mode="serialization"),
            annotations=READ_ONLY,
            meta={"anthropic/maxResultSizeChars": MAX_RESULT_CHARS}
            | (ui_meta(self.view) if self.view else {}),
        )
