"""Session logs: one row per MCP request, kept for support, purged on retention and offboarding."""
