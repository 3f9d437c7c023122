"""What the MCP server offers an assistant: the tools, the prompts, the resources and
the report view (MCP Apps), for one authorised principal.

Nothing here knows HTTP, bearer tokens or the SDK's transport: the endpoint in
``maestra_mcp/mcp_server/`` checks who is asking and hands a :class:`McpPrincipal`
to these handlers, which read through one reporting selector each (an import
contract keeps this package from importing the server's).
"""
