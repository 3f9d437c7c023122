"""ASGI entry point: serve with ``uvicorn maestra_mcp.asgi:application``."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maestra_mcp.settings")

application = get_asgi_application()
