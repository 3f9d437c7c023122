"""The MCP tools: one module per tool, found by discovery.

Adding a tool is adding a module here that defines ``tool = McpTool(...)``: a
strict pydantic argument model (``extra="forbid"``), a pydantic result model,
a title, a description written for a language model, and a thin handler that
calls one reporting selector for the request's account, over the brands its user may
see (``permissions.brand_scope.allowed_brand_ids``).
"""

from __future__ import annotations

import importlib
import pkgutil
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


def discover_tools() -> dict[str, McpTool]:
    """Every ``tool`` defined by a module of this package, by name."""
    tools: dict[str, McpTool] = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name.startswith("_"):  # shared helpers, not tools
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        tool = getattr(module, "tool", None)
        if not isinstance(tool, McpTool):
            raise TypeError(f"{module.__name__} must define `tool = McpTool(...)`")
        if tool.name in tools:
            raise ValueError(f"two MCP tools are named {tool.name!r}")
        tools[tool.name] = tool
    return dict(sorted(tools.items()))
