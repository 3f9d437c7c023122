"""ASGI entry point: serve with ``python -m maestra_mcp.serve`` (uvicorn, see serve.py).

One process serves Django and the MCP endpoint. Django's ASGI handler refuses
``lifespan`` and would put MCP paths through middleware meant for pages
(sessions, CSRF, APPEND_SLASH redirects), so a small dispatcher routes:

* ``lifespan`` → the SDK's session manager (``McpEndpoint.lifespan``);
* ``/mcp/…`` → ``mcp_server/endpoint.py``, wrapped as Django's handler wraps a
  request: a thread of its own (``ThreadSensitiveContext``, so concurrent requests
  run their ORM work in parallel instead of queueing on one thread) and Django's
  ``request_started``/``request_finished`` signals, whose receivers run on that
  thread: ``request_finished`` hands its database connection back to the pool.
  Unlike Django's handler, the thread is kept for a later request instead of
  started and joined for each one (that was 14 % of a ``tools/list``'s CPU);
* everything else → Django.

Request path: asgi.py → mcp_server/endpoint.py → mcp_server/server.py (+ the
session log's middleware, mcp_server/session_log.py) → mcp_catalog/tools/<tool>.py.
"""

import gc
import os
from concurrent.futures import ThreadPoolExecutor
from queue import Empty, SimpleQueue

from asgiref.sync import ThreadSensitiveContext
from django.core import signals
from django.core.asgi import get_asgi_application
from starlette.routing import Router

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maestra_mcp.settings")

# Request threads kept idle for the next requests; more are started while more
# requests run at once, and those beyond this are let go when their request ends.
MAX_IDLE_REQUEST_THREADS = 32


def build_application():
    """A fresh ASGI application (the SDK's session manager runs once per instance)."""
    django_application = get_asgi_application()  # first: sets Django up before model imports

    from maestra_mcp.startup import log_startup_notices

    log_startup_notices()

    from maestra_mcp.mcp_server.endpoint import McpEndpoint
    from maestra_mcp.mcp_server.server import build_server

    mcp_endpoint = McpEndpoint(build_server())
    lifespan = Router(lifespan=lambda _app: mcp_endpoint.lifespan())
    idle_threads: SimpleQueue[ThreadPoolExecutor] = SimpleQueue()

    async def application(scope, receive, send):
        if scope["type"] == "lifespan":
            await lifespan(scope, receive, send)
        elif scope["type"] == "http" and McpEndpoint.handles(scope["path"]):
            try:
                thread = idle_threads.get_nowait()
            except Empty:
                thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mcp-request")
            try:
                async with ThreadSensitiveContext(executor=thread):
                    await signals.request_started.asend(sender=McpEndpoint, scope=scope)
                    try:
                        await mcp_endpoint(scope, receive, send)
                    finally:
                        await signals.request_finished.asend(sender=McpEndpoint)
            finally:
                if idle_threads.qsize() < MAX_IDLE_REQUEST_THREADS:
                    idle_threads.put(thread)
                else:
                    thread.shutdown(wait=False)
        else:
            await django_application(scope, receive, send)

    application.mcp_endpoint = mcp_endpoint
    return application


application = build_application()
# What is loaded by now (Django, the SDK, the apps: ~100,000 objects) lives as long as
# the process: moved out of reach of the cyclic garbage collector, whose full
# collections otherwise walk all of it on a request's time. Measured: a 3-year day
# timeline's p95 102 -> 51 ms (README, Benchmarks).
gc.freeze()
