"""The MCP endpoint: Streamable HTTP per account, served next to Django by ASGI.

Read in this order: ``endpoint`` (HTTP, token, policy) → ``server`` (the SDK
server) → ``tools/<tool>.py`` → the reporting selector it calls.
"""
