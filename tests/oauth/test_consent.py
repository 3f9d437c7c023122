"""Login and the consent page: what it states, what it binds, and what it refuses."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils.html import escape
from oauth2_provider.models import Application, Grant

from maestra_mcp.oauth.views.consent import MESSAGE_PKCE_CHALLENGE, MESSAGE_PKCE_S256
from permissions.policy import MESSAGE_MCP_DISABLED, MESSAGE_NO_PERMISSION
from permissions.services import mcp_access_revoke
from tests.support.clients import logged_in
from tests.support.oauth import (
    CLAUDE_CALLBACK,
    Pkce,
    authorize_query,
    consent,
    redirect_params,
    register,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def claude(db) -> str:
    status, body = register(Client(), [CLAUDE_CALLBACK])
    assert status == 201
    return body["client_id"]


def test_anonymous_visitor_is_sent_to_log_in(cast, claude):
    url = authorize_query(claude, CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url)
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_page_states_client_host_account_and_grant(cast, claude):
    url = authorize_query(claude, CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url)
    page = logged_in("analyst@acme.test").get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="client-name">Claude<' in html
    # It registered itself, but only with Claude's own callback: recognised.
    assert 'id="client-verified"' in html and 'id="unverified"' not in html
    assert "<strong>claude.ai</strong>" in html
    assert "Acme Retail" in html
    assert "read-only" in html and "never receives customer personal data" in html
    assert 'id="allow"' in html
    assert page["X-Frame-Options"] == "DENY"
    assert page["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert "no-store" in page["Cache-Control"]
    assert not Grant.objects.exists()


def test_manually_registered_client_is_not_flagged(cast):
    app = Application.objects.create(
        name="Maestra internal",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=CLAUDE_CALLBACK,
    )
    url = authorize_query(app.client_id, CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url)
    html = logged_in("analyst@acme.test").get(url).content.decode()
    assert 'id="unverified"' not in html


def test_approval_binds_the_named_account(cast, claude):
    url = authorize_query(claude, CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url)
    _, answer = consent(logged_in("analyst@acme.test"), url)
    params = redirect_params(answer)
    assert answer["Location"].startswith(CLAUDE_CALLBACK + "?")
    assert params["state"] == "st-123"
    assert params["iss"] == "http://127.0.0.1:8000" or params["iss"]  # RFC 9207
    grant = Grant.objects.get(code=params["code"])
    assert grant.resource == [cast.acme.mcp_url]
    assert grant.scope == "reports:read"  # the default scope when the client sent none
    assert grant.user.username == "analyst@acme.test"


@pytest.mark.parametrize("resource", [None, "server"], ids=["omitted", "server-origin"])
def test_without_a_named_account_the_user_picks_one(cast, claude, settings, resource):
    cast.globex.mcp_enabled = True
    cast.globex.save()
    if resource == "server":
        resource = settings.MAESTRA_PUBLIC_URL
    url = authorize_query(claude, CLAUDE_CALLBACK, Pkce.new(), resource=resource)
    browser = logged_in("agency@partner.test")  # member of both accounts
    page, answer = consent(browser, url, account="globex")
    html = page.content.decode()
    assert 'value="acme"' in html and 'value="globex"' in html
    grant = Grant.objects.get(code=redirect_params(answer)["code"])
    assert grant.resource == [cast.globex.mcp_url]  # the one chosen, never both


def test_picking_an_account_is_required_and_must_be_ones_own(cast, claude):
    url = authorize_query(claude, CLAUDE_CALLBACK, Pkce.new())
    browser = logged_in("analyst@acme.test")
    _, answer = consent(browser, url, account="")
    assert answer.status_code == 400
    _, answer = consent(browser, url, account="globex")  # not a member
    assert answer.status_code == 400
    assert not Grant.objects.exists()


def test_account_with_mcp_off_shows_the_policy_message_and_issues_nothing(cast, claude):
    url = authorize_query(claude, CLAUDE_CALLBACK, Pkce.new(), resource=cast.globex.mcp_url)
    browser = logged_in("owner@globex.test")
    page, answer = consent(browser, url)
    assert escape(MESSAGE_MCP_DISABLED) in page.content.decode()
    assert 'id="allow"' not in page.content.decode()
    # a forged approval is refused as well
    assert answer.status_code == 403
    assert escape(MESSAGE_MCP_DISABLED) in answer.content.decode()
    assert not Grant.objects.exists()


def test_member_without_mcp_access_is_refused(cast, claude):
    owner = cast.user("owner@acme.test")
    analyst = cast.user("analyst@acme.test")
    mcp_access_revoke(account=cast.acme, user=analyst, acting_user=owner)
    url = authorize_query(claude, CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url)
    page, answer = consent(logged_in("analyst@acme.test"), url)
    assert escape(MESSAGE_NO_PERMISSION) in page.content.decode()
    assert answer.status_code == 403
    assert not Grant.objects.exists()


def test_outsider_is_refused(cast, claude):
    url = authorize_query(claude, CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url)
    _, answer = consent(logged_in("outsider@example.test"), url)
    assert answer.status_code == 403
    assert not Grant.objects.exists()


def test_tampered_resource_on_approval_is_refused(cast, claude):
    cast.globex.mcp_enabled = True
    cast.globex.save()
    url = authorize_query(claude, CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url)
    browser = logged_in("analyst@acme.test")
    page = browser.get(url)
    data = {k: v or "" for k, v in page.context["form"].initial.items()}
    data.update(allow="Authorize", resource=cast.globex.mcp_url)  # not a member of globex
    assert browser.post(url, data).status_code == 403
    data["resource"] = f"{cast.acme.mcp_url} {cast.globex.mcp_url}"
    assert redirect_params(browser.post(url, data))["error"] == "invalid_target"
    assert not Grant.objects.exists()


def test_cancel_returns_access_denied(cast, claude):
    url = authorize_query(claude, CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url)
    _, answer = consent(logged_in("analyst@acme.test"), url, allow=False)
    params = redirect_params(answer)
    assert params["error"] == "access_denied"
    assert params["state"] == "st-123"
    assert not Grant.objects.exists()


@pytest.mark.parametrize(
    "resource",
    ["https://evil.example/mcp/acme", "{origin}/mcp/nope", "{origin}/mcp/acme/", "{origin}/other"],
)
def test_resource_that_is_not_one_of_our_accounts_is_refused(cast, claude, settings, resource):
    resource = resource.format(origin=settings.MAESTRA_PUBLIC_URL)
    url = authorize_query(claude, CLAUDE_CALLBACK, Pkce.new(), resource=resource)
    params = redirect_params(logged_in("analyst@acme.test").get(url))
    assert params["error"] == "invalid_target"
    assert params["state"] == "st-123"


@pytest.mark.parametrize("resource", ["\x00", "http://127.0.0.1:8000/mcp/ac\x00me"])
def test_a_resource_with_nul_is_refused_like_any_unknown_one(cast, claude, resource):
    url = authorize_query(claude, CLAUDE_CALLBACK, Pkce.new(), resource=resource)
    assert redirect_params(logged_in("analyst@acme.test").get(url))["error"] == "invalid_target"


def test_a_client_id_with_nul_gets_the_error_page(cast):
    url = authorize_query("\x00", CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url)
    response = logged_in("analyst@acme.test").get(url)
    assert response.status_code == 400
    assert 'id="oauth-error"' in response.content.decode()


def test_two_resources_are_refused(cast, claude):
    url = authorize_query(claude, CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url)
    url += "&resource=" + cast.globex.mcp_url
    assert redirect_params(logged_in("analyst@acme.test").get(url))["error"] == "invalid_target"


def test_offboarded_account_is_refused(cast, claude):
    from django.utils import timezone

    cast.acme.offboarded_at = timezone.now()
    cast.acme.save()
    url = authorize_query(claude, CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url)
    assert redirect_params(logged_in("analyst@acme.test").get(url))["error"] == "invalid_target"


@pytest.mark.parametrize(
    "change",
    [
        {"code_challenge": None, "code_challenge_method": None},
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},
    ],
    ids=["no-pkce", "plain", "method-omitted"],
)
def test_pkce_s256_is_required(cast, claude, change):
    url = authorize_query(claude, CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url, **change)
    params = redirect_params(logged_in("analyst@acme.test").get(url))
    assert params["error"] == "invalid_request"
    assert not Grant.objects.exists()


def test_unregistered_redirect_uri_is_never_redirected_to(cast, claude):
    url = authorize_query(claude, "https://evil.example/cb", Pkce.new(), resource=cast.acme.mcp_url)
    response = logged_in("analyst@acme.test").get(url)
    assert response.status_code == 400
    assert "evil.example" not in response.get("Location", "")
    assert 'id="oauth-error"' in response.content.decode()


def test_loopback_redirect_accepts_any_port(cast):
    status, body = register(Client(), ["http://127.0.0.1/callback", "http://localhost/callback"])
    assert status == 201
    for redirect_uri in ("http://127.0.0.1:53682/callback", "http://localhost:41234/callback"):
        url = authorize_query(
            body["client_id"], redirect_uri, Pkce.new(), resource=cast.acme.mcp_url
        )
        _, answer = consent(logged_in("analyst@acme.test"), url)
        assert answer["Location"].startswith(redirect_uri + "?code=")


def test_consent_post_needs_csrf(cast, claude):
    url = authorize_query(claude, CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cast.user("analyst@acme.test"))
    page = browser.get(url)
    data = {k: v or "" for k, v in page.context["form"].initial.items()}
    data["allow"] = "Authorize"
    assert browser.post(url, data).status_code == 403
    assert not Grant.objects.exists()
    data["csrfmiddlewaretoken"] = page.context["csrf_token"]
    assert "code" in redirect_params(browser.post(url, data))


@pytest.mark.parametrize(
    "scope", ["reports:read offline_access", "offline_access", None], ids=["both", "only", "none"]
)
def test_offline_access_is_accepted_and_only_reports_read_is_granted(cast, claude, scope):
    url = authorize_query(
        claude, CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url, scope=scope
    )
    _, answer = consent(logged_in("analyst@acme.test"), url)
    grant = Grant.objects.get(code=redirect_params(answer)["code"])
    assert grant.scope == "reports:read"


def test_unknown_scope_is_refused(cast, claude):
    url = authorize_query(
        claude, CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url, scope="reports:write"
    )
    assert redirect_params(logged_in("analyst@acme.test").get(url))["error"] == "invalid_scope"


@pytest.mark.parametrize(
    "challenge",
    ["a", "x" * 42, "x" * 129, "a" * 42 + "!", "a" * 42 + " ", "a" * 42 + "+", "a" * 42 + "="],
    ids=["one-char", "42", "129", "bang", "space", "plus", "pad"],
)
def test_pkce_challenge_must_be_rfc7636_shaped(cast, claude, challenge):
    url = authorize_query(
        claude, CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url, code_challenge=challenge
    )
    params = redirect_params(logged_in("analyst@acme.test").get(url))
    assert params["error"] == "invalid_request"
    assert params["error_description"] == MESSAGE_PKCE_CHALLENGE
    assert params["state"] == "st-123"
    assert not Grant.objects.exists()


@pytest.mark.parametrize(
    ("challenge", "method", "message"),
    [
        ("a", "S256", MESSAGE_PKCE_CHALLENGE),
        ("x" * 129, "S256", MESSAGE_PKCE_CHALLENGE),
        ("a" * 42 + "!", "S256", MESSAGE_PKCE_CHALLENGE),
        ("A" * 43, "plain", MESSAGE_PKCE_S256),
        ("", "S256", MESSAGE_PKCE_S256),
    ],
    ids=["one-char", "129", "bang", "plain", "none"],
)
def test_pkce_is_checked_again_on_approval(cast, claude, challenge, method, message):
    """The consent form's hidden fields come back from the browser: a challenge edited
    there after the page was shown is refused like one sent to the page."""
    url = authorize_query(claude, CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url)
    browser = logged_in("analyst@acme.test")
    page = browser.get(url)
    data = {k: v or "" for k, v in page.context["form"].initial.items()}
    data.update(allow="Authorize", code_challenge=challenge, code_challenge_method=method)
    params = redirect_params(browser.post(url, data))
    assert params["error"] == "invalid_request"
    assert params["error_description"] == message
    assert params["state"] == "st-123"
    assert not Grant.objects.exists()


@pytest.mark.parametrize("challenge", ["A" * 43, "a-._~" * 25 + "abc"])
def test_rfc7636_challenges_of_43_to_128_characters_are_shown_the_page(cast, claude, challenge):
    url = authorize_query(
        claude, CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url, code_challenge=challenge
    )
    assert logged_in("analyst@acme.test").get(url).status_code == 200
