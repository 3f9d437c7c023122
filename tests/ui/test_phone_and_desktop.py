"""Every page, per role, at a desktop (1280 px) and a phone (390 px) width.

Each page must not scroll sideways (``scrollWidth <= innerWidth``) and its key
controls must be visible and inside the viewport (the connector URL and its
Copy button, "Log out", the table's buttons). Full-page screenshots of each go
to the ``screenshot_dir`` printed at the start of the run.
"""

from __future__ import annotations

import pytest
from oauth2_provider.models import Application

from maestra_mcp.session_logs.models import McpSessionLog
from permissions.demo import DEMO_PASSWORD
from tests.support.oauth import CLAUDE_CALLBACK, Pkce, authorize_query
from tests.support.session_logs import issue_tokens, record

WIDTHS = {"desktop": 1280, "phone": 390}
LOG_OUT = "header button:has-text('Log out')"

# role → [(name, path, key controls)]; the connect page's URL and Copy button first of all.
PAGES = {
    "member": [
        ("home", "/", ["text=Connect an assistant >> nth=0"]),
        (
            "connect",
            "/accounts/acme/mcp/",
            ["#mcp-url", "#copy-url", "#claude-code-command", "#troubleshooting summary >> nth=0"],
        ),
        ("forbidden", "/accounts/acme/team/", ["text=Go to your accounts"]),
        ("not-found", "/accounts/nope/mcp/", ["text=Go to your accounts"]),
    ],
    "owner": [
        ("home", "/", ["text=Team access >> nth=0"]),
        ("connect", "/accounts/acme/mcp/", ["#mcp-url", "#copy-url"]),
        (
            "team",
            "/accounts/acme/team/",
            ["[aria-label='Revoke MCP Access for analyst@acme.test']"],
        ),
        ("connections", "/accounts/acme/connections/", ["#connections button >> nth=0"]),
        ("session-logs", "/accounts/acme/session-logs/", ["#filters button", ".status-sign_in"]),
    ],
    "csm": [
        ("home", "/", ["#managed-accounts a:has-text('Team access') >> nth=0"]),
        ("connect-globex", "/accounts/globex/mcp/", ["#mcp-url", "#copy-url"]),
        ("team-globex", "/accounts/globex/team/", ["#team button >> nth=0"]),
        ("session-logs", "/accounts/acme/session-logs/", ["#filters button"]),
    ],
}
USERS = {"member": "analyst@acme.test", "owner": "owner@acme.test", "csm": "csm@maestra.test"}


def assert_fits(page, controls: list[str], *, logged_in: bool = True) -> None:
    """No sideways scroll; each control visible and within the viewport's width."""
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["inner"], (page.url, widths)
    for selector in [*controls, *([LOG_OUT] if logged_in else [])]:
        control = page.locator(selector)
        assert control.is_visible(), (page.url, selector)
        box = control.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= widths["inner"], (selector, box)
    # The header's pieces never sit on top of each other (the wrapped navigation).
    header = [page.locator("header .logo").bounding_box()]
    header += [link.bounding_box() for link in page.locator("header nav a").all()]
    if logged_in:
        header.append(page.locator("header form.logout").bounding_box())
    for i, a in enumerate(header):
        for b in header[i + 1 :]:
            assert not _overlap(a, b), (page.url, a, b)


def _overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def _client(name: str, redirect_uri: str) -> Application:
    # Through the ORM: Django's test client cannot run beside Playwright's event loop.
    return Application.objects.create(
        name=name,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uri,
        registration_source=Application.RegistrationSource.DCR,
    )


@pytest.fixture
def busy_account(cast):
    """Connections and session logs to fill the Owner's tables, with long JSON payloads."""
    clients = [
        _client("Claude", CLAUDE_CALLBACK),
        _client("Claude Code", "http://localhost/callback"),
        _client("Claude", "https://claude-connector.example.net/oauth/callback/long/path"),
    ]
    for username in ("analyst@acme.test", "agency@partner.test"):
        for application in clients:
            issue_tokens(account=cast.acme, user=cast.user(username), application=application)
    record(cast.acme, status=McpSessionLog.Status.SIGN_IN, error="Authentication required")
    record(
        cast.acme,
        user=cast.user("analyst@acme.test"),
        method="tools/call",
        tool_name="campaign_report",
        params={"name": "campaign_report", "arguments": {"date_from": "2024-03-01", "x": "y" * 80}},
        result={"summary": {"sends": 1200, "revenue": "1234.50"}, "rows": list(range(40))},
    )
    return cast


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", PAGES)
def test_pages_fit_and_keep_their_controls(busy_account, page_as, shoot, role, width):
    page = page_as(USERS[role], viewport={"width": WIDTHS[width], "height": 900})
    for name, path, controls in PAGES[role]:
        page.goto(path)
        if name == "session-logs":
            page.locator("#session-logs details >> nth=0").evaluate("d => d.open = true")
        if name == "connect":
            page.locator("#troubleshooting details >> nth=0").evaluate("d => d.open = true")
        shoot(page, f"{role}-{name}-{width}")
        assert_fits(page, controls)


@pytest.mark.parametrize("width", WIDTHS)
def test_login_browser_page_and_consent_fit(cast, browser, server, shoot, width):
    context = browser.new_context(base_url=server, viewport={"width": WIDTHS[width], "height": 900})
    try:
        page = context.new_page()
        page.goto("/mcp/acme")  # a person pasted the connector URL into the browser
        shoot(page, f"connector-url-{width}")
        assert_fits(page, ["#mcp-url", "#connect-page"], logged_in=False)

        page.goto("/login/?next=/")
        shoot(page, f"login-{width}")
        assert_fits(page, ["#id_username", "button[type=submit]"], logged_in=False)

        claude = _client("Claude", CLAUDE_CALLBACK)
        authorize = authorize_query(
            claude.client_id, CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url
        )
        page.goto(authorize)
        page.fill("#id_username", "analyst@acme.test")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#consent")
        shoot(page, f"consent-{width}")
        assert_fits(page, ["#allow", "#deny", "#client-verified"])
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_csm_admin_pages_fit(cast, page_as, shoot, width):
    page = page_as(USERS["csm"], viewport={"width": WIDTHS[width], "height": 900})
    page.goto(f"/admin/accounts/account/{cast.acme.pk}/change/")
    shoot(page, f"admin-account-{width}")
    assert page.locator("#site-name").inner_text() == "Maestra administration"
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["inner"], widths
    link = page.locator("a.account-page-link:has-text('Team access')")
    assert link.is_visible()
    link.click()
    page.wait_for_url("**/accounts/acme/team/")
    assert_fits(page, ["#team button >> nth=0"])
