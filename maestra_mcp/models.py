"""Models of the project app, registered under the app label ``maestra_mcp``."""

from maestra_mcp.oauth.models import ExchangedCode
from maestra_mcp.session_logs.models import McpSessionLog

__all__ = ["ExchangedCode", "McpSessionLog"]
