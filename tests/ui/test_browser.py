"""The three people's jobs, done in a real browser (headless Debian chromium).

Each test saves screenshots of the pages it visits (see the ``screenshot_dir``
path printed at the start of the run; not committed).
"""

from __future__ import annotations

import pytest
from mcp.shared.exceptions import MCPError

from accounts.models import Account
from permissions.models import McpAccessChange
from permissions.policy import MESSAGE_MCP_DISABLED, MESSAGE_NO_PERMISSION
from tests.support.browser import run_mcp
from tests.support.mcp import mint_token

ANALYST = "analyst@acme.test"


async def _connect(client) -> str:
    """Initialize and list the tools, as an assistant does when it connects."""
    await client.list_tools()
    return client.server_info.name


def _token(cast, username: str, account: Account) -> str:
    return mint_token(cast.user(username), resource=[account.mcp_url])


def test_owner_revokes_access_and_the_members_next_mcp_call_is_refused(
    cast, server, page_as, shoot
):
    token = _token(cast, ANALYST, cast.acme)
    assert run_mcp(server, "/mcp/acme", token, _connect) == "maestra"

    page = page_as("owner@acme.test")
    shoot(page, "home")
    page.click("text=Team access")
    page.wait_for_url(f"{server}/accounts/acme/team/")
    shoot(page, "team")
    page.click(f"[aria-label='Revoke MCP Access for {ANALYST}']")
    page.wait_for_selector("text=MCP Access revoked for analyst@acme.test")
    row = page.locator(f"tr[data-member='{ANALYST}']")
    assert row.locator(".badge").inner_text() == "Off"
    shoot(page, "team-after-revoke")

    change = McpAccessChange.objects.for_account(cast.acme).filter(user=cast.user(ANALYST)).first()
    assert (change.granted, change.acting_user.username) == (False, "owner@acme.test")
    with pytest.raises(MCPError) as refused:
        run_mcp(server, "/mcp/acme", token, _connect)
    assert MESSAGE_NO_PERMISSION in str(refused.value)

    # The member sees why on their own page.
    member = page_as(ANALYST)
    member.goto("/accounts/acme/mcp/")
    assert member.locator("#policy-message").inner_text() == MESSAGE_NO_PERMISSION
    shoot(member, "member-mcp-page-revoked")


def test_owner_confirms_before_revoking_their_own_last_access(cast, server, page_as, shoot):
    page = page_as("owner@acme.test")
    page.goto("/accounts/acme/team/")
    page.click("[aria-label='Revoke MCP Access for owner@acme.test']")
    page.wait_for_selector("text=Revoke the last Owner's MCP Access?")
    shoot(page, "confirm")
    page.click("text=Cancel")
    page.wait_for_url(f"{server}/accounts/acme/team/")
    assert page.locator("tr[data-member='owner@acme.test'] .badge").inner_text() == "On"


def test_csm_switches_mcp_on_for_globex_and_a_member_can_then_connect(cast, server, page_as, shoot):
    token = _token(cast, "marketer@globex.test", cast.globex)
    with pytest.raises(MCPError) as refused:
        run_mcp(server, "/mcp/globex", token, _connect)
    assert MESSAGE_MCP_DISABLED in str(refused.value)

    csm = page_as("csm@maestra.test")
    csm.goto("/admin/accounts/account/")
    shoot(csm, "admin-accounts")
    csm.click("text=globex")
    shoot(csm, "admin-globex")
    csm.click("button:has-text('Enable MCP')")
    csm.wait_for_selector("text=MCP enabled for globex.")
    shoot(csm, "admin-globex-enabled")

    cast.globex.refresh_from_db()
    assert cast.globex.mcp_enabled
    assert run_mcp(server, "/mcp/globex", token, _connect) == "maestra"

    member = page_as("marketer@globex.test")
    member.goto("/accounts/globex/mcp/")
    assert member.locator("#status .badge").first.inner_text() == "On"
    shoot(member, "member-globex-mcp-page")


def test_copy_button_puts_the_exact_connector_url_on_the_clipboard(cast, server, page_as, shoot):
    page = page_as(ANALYST, permissions=["clipboard-read", "clipboard-write"])
    page.click("text=Connect an assistant >> nth=0")
    page.wait_for_url(f"{server}/accounts/acme/mcp/")
    shoot(page, "mcp-page")
    page.click("#copy-url")
    page.wait_for_selector("#copy-url:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == "http://127.0.0.1:8000/mcp/acme"
    assert page.locator("#mcp-url").inner_text() == cast.acme.mcp_url


def test_owner_restricts_a_member_to_one_brand_and_their_campaign_report_follows(
    cast, server, page_as, shoot
):
    from tests.support.reports import BASE_ROW, import_rows

    import_rows(
        cast.acme,
        [BASE_ROW, {**BASE_ROW, "source_id": "c2", "brand": "Acme Sport", "sends": "400"}],
    )
    token = _token(cast, "marketer@acme.test", cast.acme)
    arguments = {"breakdown": "brand", "date_from": "2024-03-04", "date_to": "2024-03-04"}

    async def brand_sends(client) -> dict[str, int]:
        result = await client.call_tool("campaign_report", arguments)
        assert not result.is_error, result.content
        rows = result.structured_content["breakdown"]["rows"]
        return {row["name"]: row["metrics"]["sends"] for row in rows}

    assert run_mcp(server, "/mcp/acme", token, brand_sends) == {"Acme Home": 100, "Acme Sport": 400}

    page = page_as("owner@acme.test")
    page.goto("/accounts/acme/team/")
    page.select_option(
        "[aria-label='Brands marketer@acme.test may see (none selected: all brands)']",
        label="Acme Home",
    )
    page.click("[aria-label='Save brands for marketer@acme.test']")
    page.wait_for_selector("text=marketer@acme.test now sees Acme Home in reports")
    shoot(page, "team-brand-restricted")

    assert run_mcp(server, "/mcp/acme", token, brand_sends) == {"Acme Home": 100}
