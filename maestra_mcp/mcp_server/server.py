"""The SDK server: identity, instructions, the session log, and what ``mcp_catalog``
offers (its tools, its prompts with their completions, its resources), each
served to the request's principal only.

Built on the SDK's low-level ``Server`` so each tool publishes exactly the
reporting core's pydantic models as its ``inputSchema``/``outputSchema`` (the
high-level ``MCPServer`` derives schemas from function signatures, which would
nest or re-declare them). The SDK still owns JSON-RPC, both protocol eras,
capabilities and serialisation; this module only maps a ``tools/call`` to a
tool handler and its outcome to a ``CallToolResult``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import mcp_types as types
from asgiref.sync import sync_to_async
from mcp.server import Server, ServerRequestContext
from mcp.server.caching import CacheHint
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from maestra_mcp import __version__
from maestra_mcp.mcp_catalog.principal import McpPrincipal
from maestra_mcp.mcp_catalog.prompts import PROMPTS, complete, prompt_get
from maestra_mcp.mcp_catalog.resources import RESOURCES, resource_read
from maestra_mcp.mcp_catalog.tools import TOOLS
from maestra_mcp.mcp_catalog.tools.base import MAX_RESULT_CHARS, MESSAGE_TOO_LARGE, McpTool
from maestra_mcp.mcp_catalog.views import EXTENSION_ID
from maestra_mcp.mcp_server.listing_cache import ToolListCache
from maestra_mcp.mcp_server.session_log import SessionLogMiddleware
from reporting.errors import ReportError

logger = logging.getLogger(__name__)

SERVER_NAME = "maestra"
SERVER_TITLE = "Maestra campaign reports"
INSTRUCTIONS = """\
Maestra is a marketing-automation platform (email, SMS, push, Viber and WhatsApp campaigns and \
automated flows). This server answers questions about ONE Maestra account's marketing \
performance with aggregated, read-only numbers; it holds no customer personal data.

How to work with it:
- Call list_report_filters first when the user names a brand, goal, campaign folder, channel \
or flow, so you pass values that exist; filter values are matched exactly.
- campaign_report answers "how did our campaigns/newsletters do?" for a date window, with \
optional breakdowns (by campaign, channel, brand, day, ...) and comparison to the previous period.
- flow_report answers the same for automated flows (triggered journeys).
- explain_change answers "why did this number move?": the campaigns, flows, channels or \
brands that drove a metric's change between two windows, with contributions adding up to it.
- All rates are fractions between 0 and 1 (0.25 = 25 %); revenue is in the account currency \
named in the result; dates are days in the account's time zone, also named in the result.
- The numbers are already computed: quote them rather than re-deriving them. If a breakdown \
is truncated, pass its next_cursor back for more rows, or say only the top groups are shown.
- Every answer's provenance says how far the imported data reaches (data_through) and whether \
the window is partial; mention it when the numbers are incomplete.
- The resource maestra://metrics defines every metric.
- An error result explains what to change (e.g. the valid brand names); correct the call and retry.
"""

# The lists and the resources change only with a deployment; clients may reuse them a while.
_CACHE_HINTS = {
    method: CacheHint(ttl_ms=10 * 60 * 1000, scope="private")
    for method in ("tools/list", "prompts/list", "resources/list", "resources/read")
}

MESSAGE_INTERNAL_ERROR = (
    "The report could not be produced because of an internal error. It has been logged; "
    "try again later or narrow the request."
)

# Where the endpoint puts the request's principal in the ASGI scope; the SDK hands
# that scope to every handler as ``ctx.request``, in both protocol eras.
SCOPE_KEY = "maestra.mcp_principal"


def request_principal(ctx: ServerRequestContext[Any, Any]) -> McpPrincipal:
    """The principal the endpoint authorised for this request.

    Raises ``LookupError`` when the request did not come through the endpoint
    (e.g. an in-process client): nothing is served without an authorised principal.
    """
    request = ctx.request
    principal = request.scope.get(SCOPE_KEY) if request is not None else None
    if not isinstance(principal, McpPrincipal):
        raise LookupError("MCP request reached a tool without an authorised principal")
    return principal


def build_server() -> Server:
    """The SDK server serving ``tools.TOOLS``."""
    tools = {tool.name: tool for tool in TOOLS}
    # Static for the life of the process: built once, not on every tools/list (the
    # SDK copies a result before adding its cache hints, never changes it).
    listing = types.ListToolsResult(tools=[tool.definition for tool in tools.values()])

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return listing

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        tool = tools.get(params.name)
        if tool is None:
            # A protocol error, not a tool result: the client asked for something
            # this server never advertised.
            raise MCPError(
                types.INVALID_PARAMS,
                f"Unknown tool: {params.name}. Available tools: {', '.join(tools)}.",
            )
        return await run_tool(tool, request_principal(ctx), params.arguments or {})

    prompts = types.ListPromptsResult(prompts=[p.definition for p in PROMPTS.values()])
    resources = types.ListResourcesResult(resources=list(RESOURCES.values()))

    # Prompts, resources and completions are served to the request's principal only,
    # like tools: request_principal() fails for a request the endpoint did not authorise.
    async def list_prompts(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        request_principal(ctx)
        return prompts

    async def get_prompt(
        ctx: ServerRequestContext[Any, Any], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        principal = request_principal(ctx)
        text = await sync_to_async(prompt_get)(principal, params.name, params.arguments or {})
        return types.GetPromptResult(
            description=PROMPTS[params.name].description,
            messages=[
                types.PromptMessage(role="user", content=types.TextContent(type="text", text=text))
            ],
        )

    async def completion(
        ctx: ServerRequestContext[Any, Any], params: types.CompleteRequestParams
    ) -> types.CompleteResult:
        principal = request_principal(ctx)
        if not isinstance(params.ref, types.PromptReference):
            raise MCPError(types.INVALID_PARAMS, "This server has no resource templates.")
        values, total = await sync_to_async(complete)(
            principal, params.ref.name, params.argument.name, params.argument.value
        )
        return types.CompleteResult(
            completion=types.Completion(values=values, total=total, has_more=total > len(values))
        )

    async def list_resources(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        request_principal(ctx)
        return resources

    async def read_resource(
        ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        request_principal(ctx)
        return resource_read(str(params.uri))

    def input_schema(name: str) -> Mapping[str, Any] | None:
        tool = tools.get(name)
        return tool.definition.input_schema if tool else None

    server = Server(
        SERVER_NAME,
        title=SERVER_TITLE,
        version=__version__,
        instructions=INSTRUCTIONS,
        cache_hints=_CACHE_HINTS,
        get_tool_input_schema=input_schema,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
        on_completion=completion,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
    )
    # MCP Apps (SEP-1865), advertised under capabilities.extensions (SEP-2133) as the
    # SDK's own Apps extension does for MCPServer: no settings.
    server.extensions[EXTENSION_ID] = {}
    # Inside the SDK's OpenTelemetry middleware; the session log sees every message,
    # cached listings included.
    server.middleware.append(SessionLogMiddleware())
    server.middleware.append(ToolListCache())
    return server


async def run_tool(
    tool: McpTool, principal: McpPrincipal, arguments: dict[str, Any]
) -> types.CallToolResult:
    """Validate, run, present. Errors the assistant can fix come back as ``isError``."""
    try:
        params = tool.params.model_validate(arguments)
    except ValidationError as exc:
        return _error_result(f"Invalid arguments for {tool.name}: {_describe(exc)}")
    try:
        # thread_sensitive: the request's own thread (asgi.py's ThreadSensitiveContext),
        # whose database connection request_finished hands back to the pool.
        result = await sync_to_async(tool.handler)(principal, params)
    except ReportError as exc:
        return _error_result(exc.message)
    except Exception:
        logger.exception(
            "MCP tool %s failed for account=%s user=%s",
            tool.name,
            principal.account.system_name,
            principal.user.pk,
        )
        return _error_result(MESSAGE_INTERNAL_ERROR)
    structured = result.model_dump(mode="json")
    text = json.dumps(structured, ensure_ascii=False, separators=(",", ":"))
    if len(text) > MAX_RESULT_CHARS:
        # What tools/list declares as _meta["anthropic/maxResultSizeChars"]: an answer
        # beyond it would be cut by the client, silently; refused here with advice.
        return _error_result(
            MESSAGE_TOO_LARGE.format(
                chars=len(text), limit=MAX_RESULT_CHARS, advice=tool.too_large_advice
            )
        )
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=structured
    )


def _error_result(message: str) -> types.CallToolResult:
    content = [types.TextContent(type="text", text=message)]
    return types.CallToolResult(content=content, is_error=True)


def _describe(exc: ValidationError) -> str:
    """One line per problem, naming the argument, without pydantic's boilerplate."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        problems.append(f"{where}: {error['msg']}")
    return "; ".join(problems)
