"""Maestra MCP: the Django project package (settings, URLs, ASGI app, Celery app)."""

from maestra_mcp.celery import app as celery_app

__all__ = ["celery_app"]
__version__ = "0.1.0"
