"""WSGI entry point (admin pages only; the MCP endpoint needs ASGI, see asgi.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maestra_mcp.settings")

application = get_wsgi_application()

from maestra_mcp.startup import log_startup_notices  # noqa: E402  (needs Django set up)

log_startup_notices()
