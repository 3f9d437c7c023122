"""The customer-facing help page's words the connect page repeats, verbatim.

The help page is published; the connect page must not paraphrase it, so its
entries live here once and the tests import them. Typography as published
(straight apostrophes in the questions, a typographic one in "organization’s").
"""

# The published text uses typographic apostrophes; verbatim means keeping them.
# ruff: noqa: RUF001, RUF002

from __future__ import annotations

from dataclasses import dataclass

from permissions.policy import Reason

ANTHROPIC_GUIDE_URL = (
    "https://support.claude.com/en/articles/"
    "11175166-getting-started-with-custom-connectors-using-remote-mcp"
)
OPENAI_DOCS_URL = "https://help.openai.com/en/articles/11487775-connectors-in-chatgpt"
CURSOR_DOCS_URL = "https://cursor.com/docs/context/mcp"


@dataclass(frozen=True)
class TroubleshootingEntry:
    key: str
    question: str
    answer: str


MCP_OFF = TroubleshootingEntry(
    "mcp-off",
    "The connector won't authenticate",
    "Make sure the Mcp feature is enabled for your account.",
)
NO_MCP_ACCESS = TroubleshootingEntry(
    "no-permission",
    "I don't see the MCP Access permission",
    "Contact your account Owner to grant you the MCP Access permission.",
)
NEW_TOOL = TroubleshootingEntry(
    "new-tool",
    "A new tool isn't showing up",
    "Restart your AI assistant app. Tool lists refresh on startup.",
)
CLAUDE_TEAM = TroubleshootingEntry(
    "claude-team",
    "I'm on a Team or Enterprise Claude plan and can't add the connector",
    "Only your Claude organization Owner can add connectors for Team/Enterprise plans. "
    "Reach out to whoever manages your organization’s Claude account.",
)
TROUBLESHOOTING = (MCP_OFF, NO_MCP_ACCESS, NEW_TOOL, CLAUDE_TEAM)

# The entry that answers the member's own state, shown first and open.
_ENTRY_FOR_REASON = {
    Reason.MCP_DISABLED: MCP_OFF,
    Reason.NO_PERMISSION: NO_MCP_ACCESS,
}


def troubleshooting_for(reason: Reason) -> tuple[TroubleshootingEntry | None, list]:
    """``(entry answering the member's state or None, every entry in order, that one first)``."""
    first = _ENTRY_FOR_REASON.get(reason)
    rest = [entry for entry in TROUBLESHOOTING if entry is not first]
    return first, [first, *rest] if first else rest


def claude_code_server_name(system_name: str) -> str:
    """One name per account, so a member of two accounts adds both without a clash."""
    return f"maestra-{system_name}"
