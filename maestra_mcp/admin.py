"""Admin registrations of the project app (Django's autodiscovery imports this module)."""

from django.contrib import admin

from maestra_mcp.account_pages import admin as account_pages_admin  # noqa: F401  (registers)
from maestra_mcp.session_logs import admin as session_logs_admin  # noqa: F401  (registers)

admin.site.site_header = "Maestra administration"
admin.site.site_title = "Maestra administration"
admin.site.index_title = "Accounts, members and MCP"
