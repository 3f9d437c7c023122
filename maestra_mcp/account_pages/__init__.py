"""Member, Owner and admin pages that show account data beside MCP and OAuth data."""
