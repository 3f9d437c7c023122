"""ASGI entry point: serve with ``uvicorn maestra_mcp.asgi:application``.

One process serves Django and the MCP endpoint. Django's ASGI handler refuses
``lifespan`` and would put MCP paths through middleware meant for pages
(sessions, CSRF, APPEND_SLASH redirects), so a small dispatcher routes:

* ``lifespan`` → the MCP endpoint (starts the SDK's session manager);
* ``/mcp/…`` and ``/.well-known/oauth-protected-resource/mcp/…`` → the MCP
  endpoint, in a thread-sensitive context (a thread of its own, lent by
  ``RequestThreads``) so concurrent requests run their ORM work in parallel
  instead of queueing on one thread. The endpoint sends Django's
  request_started/request_finished signals from that thread, in its first and
  last hops to it, so database connections are closed (``close_old_connections``)
  after each request as CONN_MAX_AGE says;
* everything else → Django.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maestra_mcp.settings")


def build_application():
    """A fresh ASGI application (the SDK's session manager runs once per instance)."""
    django_application = get_asgi_application()  # first: sets Django up before model imports

    from maestra_mcp.startup import log_startup_notices

    log_startup_notices()

    from maestra_mcp.mcp_server.endpoint import McpEndpoint
    from maestra_mcp.mcp_server.server import build_server

    mcp_endpoint = McpEndpoint(build_server())

    async def application(scope, receive, send):
        if scope["type"] == "lifespan":
            await mcp_endpoint.handle_lifespan(scope, receive, send)
        elif scope["type"] == "http" and McpEndpoint.handles(scope["path"]):
            async with mcp_endpoint.threads.request():
                await mcp_endpoint(scope, receive, send)
        else:
            await django_application(scope, receive, send)

    application.mcp_endpoint = mcp_endpoint
    return application


application = build_application()
