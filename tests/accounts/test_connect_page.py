"""The connect page (/accounts/<system_name>/mcp/) says what the published help page says."""

# The published text uses typographic apostrophes; verbatim means keeping them.
# ruff: noqa: RUF001

from __future__ import annotations

import base64
import json
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from maestra_mcp.account_pages.help import (
    CLAUDE_TEAM,
    MCP_OFF,
    NEW_TOOL,
    NO_MCP_ACCESS,
    OPENAI_DOCS_URL,
    TROUBLESHOOTING,
)
from tests.support.clients import logged_in

pytestmark = pytest.mark.django_db

# Sentences of the help page (shared/reference/seed-help-page.md) the page repeats as published.
VERBATIM = [
    "MCP is off by default. Contact your Maestra Customer Success Manager to request access.",
    "You need the MCP Access permission in Maestra Platform. It’s granted by default to "
    "Owners, Analysts, and Marketers.",
    "Claude (claude.ai, desktop, and mobile apps) supports custom MCP connectors. How you add "
    "it depends on your Claude plan:",
    "Pro or Max plan",
    "Team or Enterprise plan",
    "Free plan",
    "See Anthropic’s guide →",
    "ChatGPT supports MCP connectors in a similar way. Use the same URL above.",
    "The MCP spec is open, and other clients (Cursor, Cline, and custom agents) should work with "
    "the same URL and OAuth flow. That said, Maestra Platform has only been tested end-to-end "
    "with Claude and ChatGPT. Treat other clients as exploratory — not yet a supported "
    "integration.",
    "The MCP endpoint uses your existing Maestra staff login.",
    "No personal data belonging to your customers is transmitted.",
    "The data that passes through your MCP session (request parameters and results) is stored "
    "temporarily for debugging and quality improvement, and is purged when your account is "
    "offboarded.",
    "How your AI assistant (Claude, ChatGPT, etc.) handles the data it receives is governed by "
    "your agreement with that provider — manage this through your Anthropic or OpenAI account "
    "settings.",
    "New tools are added over time. You don’t need to reconnect or reinstall the connector — "
    "your AI assistant picks up new tools automatically (an app restart may be needed to "
    "refresh the list).",
]


def _text(username: str, system_name: str = "acme") -> str:
    response = logged_in(username).get(f"/accounts/{system_name}/mcp/")
    assert response.status_code == 200
    return unescape(response.content.decode())


def _questions_in_order(page: str) -> list[str]:
    troubleshooting = page.split('id="troubleshooting"')[1]
    return [
        entry.question
        for _, entry in sorted(
            (troubleshooting.index(f"<summary>{e.question}</summary>"), e) for e in TROUBLESHOOTING
        )
    ]


def test_the_four_troubleshooting_entries_verbatim(cast):
    page = _text("analyst@acme.test")
    for entry in TROUBLESHOOTING:
        assert f"<summary>{entry.question}</summary>" in page
        assert f"<p>{entry.answer}</p>" in page
    assert _questions_in_order(page) == [e.question for e in TROUBLESHOOTING]
    assert "data-answers-your-state" not in page  # all is well: nothing singled out


def test_the_help_pages_sentences_verbatim(cast):
    page = _text("analyst@acme.test")
    for sentence in VERBATIM:
        assert sentence in page, sentence
    assert f'href="{OPENAI_DOCS_URL}"' in page
    assert ">OpenAI’s documentation</a>" in page


def test_mcp_off_puts_its_entry_first_and_open(cast):
    page = _text("marketer@globex.test", "globex")
    assert _questions_in_order(page) == [
        MCP_OFF.question,
        NO_MCP_ACCESS.question,
        NEW_TOOL.question,
        CLAUDE_TEAM.question,
    ]
    assert 'id="trouble-mcp-off" open data-answers-your-state' in page


def test_no_mcp_access_puts_its_entry_first_and_open(cast):
    page = _text("editor@acme.test")  # Content editor: no MCP Access by default
    assert _questions_in_order(page)[0] == NO_MCP_ACCESS.question
    assert 'id="trouble-no-permission" open data-answers-your-state' in page


def test_claude_code_and_cursor_name_the_server_after_the_account(cast):
    page = _text("agency@partner.test", "globex")
    url = cast.globex.mcp_url
    assert f"claude mcp add --transport http maestra-globex {url}" in page
    snippet = page.split('<pre id="cursor-config">')[1].split("</pre>")[0]
    assert json.loads(snippet) == {"mcpServers": {"maestra-globex": {"url": url}}}
    deeplink = page.split('id="add-to-cursor" href="')[1].split('"')[0]
    parts = urlsplit(deeplink)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "cursor",
        "anysphere.cursor-deeplink",
        "/mcp/install",
    )
    query = parse_qs(parts.query)
    assert query["name"] == ["maestra-globex"]
    assert json.loads(base64.b64decode(query["config"][0])) == {"url": url}


def test_another_account_is_not_reachable(cast):
    assert logged_in("owner@globex.test").get("/accounts/acme/mcp/").status_code == 404
