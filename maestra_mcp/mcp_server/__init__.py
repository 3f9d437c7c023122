"""The MCP endpoint: Streamable HTTP per account, served next to Django by ASGI.

Read in the order a request runs: ``maestra_mcp/asgi.py`` → ``endpoint`` (HTTP,
token, policy) → ``server`` (the SDK server; ``session_log`` and
``listing_cache`` are its middleware) → what it serves, in ``maestra_mcp/mcp_catalog/``:
``tools`` (the list) → ``tools/<tool>.py`` → the reporting selector it calls.
"""
