"""What a tool is: its MCP definition (name, schemas, annotations) and its handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import mcp_types as types
from pydantic import BaseModel

from maestra_mcp.mcp_server.principal import McpPrincipal

# Every Maestra tool reads aggregated numbers from Maestra's own database.
READ_ONLY = types.ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


@dataclass(frozen=True)
class McpTool:
    name: str
    title: str
    description: str
    params: type[BaseModel]
    result: type[BaseModel]
    # Synchronous ORM work; the server runs it via sync_to_async on the request's thread.
    handler: Callable[[McpPrincipal, BaseModel], BaseModel]

    @cached_property
    def definition(self) -> types.Tool:
        return types.Tool(
            name=self.name,
            title=self.title,
            description=self.description,
            input_schema=self.params.model_json_schema(),
            output_schema=self.result.model_json_schema(mode="serialization"),
            annotations=READ_ONLY,
        )
