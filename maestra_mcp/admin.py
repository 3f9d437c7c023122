"""Admin registrations of the project app (Django's autodiscovery imports this module)."""

from maestra_mcp.session_logs import admin as session_logs_admin  # noqa: F401  (registers)
