"""A member sees and ends their own assistant connections on the account's MCP page."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from oauth2_provider.models import AccessToken

from permissions.demo import DEMO_PASSWORD
from tests.support.clients import logged_in
from tests.support.mcp import mint_token
from tests.support.time_zones import LATE_EVENING_UTC, NEXT_MORNING_IN_TOKYO, TOKYO, set_time_zone

ANALYST, AGENCY = "analyst@acme.test", "agency@partner.test"


@pytest.fixture
def tokens(cast):
    """The analyst's and the agency user's tokens for acme; the agency's for globex."""
    mint = {
        "analyst-acme": (ANALYST, cast.acme),
        "agency-acme": (AGENCY, cast.acme),
        "agency-globex": (AGENCY, cast.globex),
    }
    tokens = {}
    for name, (username, account) in mint.items():
        mint_token(cast.user(username), resource=[account.mcp_url])
        tokens[name] = AccessToken.objects.latest("pk")
    return tokens


def _revoke_url(token) -> str:
    return f"/accounts/acme/mcp/connections/{token.application_id}/revoke/"


def test_member_sees_only_their_own_connections_of_this_account(cast, tokens):
    page = logged_in(AGENCY).get("/accounts/acme/mcp/").content.decode()
    section = page.split('id="connections"')[1].split('id="tools"')[0]
    assert section.count('data-client="Test assistant"') == 1
    assert f"/connections/{tokens['agency-acme'].application_id}/revoke/" in section
    assert f"/connections/{tokens['analyst-acme'].application_id}/revoke/" not in section
    assert f"/connections/{tokens['agency-globex'].application_id}/revoke/" not in section


def test_member_without_connections_is_told_so(cast):
    page = logged_in("marketer@acme.test").get("/accounts/acme/mcp/").content.decode()
    assert "No assistant is connected to Acme Retail with your login." in page


def test_member_disconnects_an_assistant(cast, tokens):
    response = logged_in(AGENCY).post(_revoke_url(tokens["agency-acme"]))
    assert response.status_code == 302 and response.url == "/accounts/acme/mcp/"
    remaining = set(AccessToken.objects.values_list("pk", flat=True))
    assert remaining == {tokens["analyst-acme"].pk, tokens["agency-globex"].pk}
    entry = LogEntry.objects.get(object_id=str(cast.acme.pk))
    assert entry.user.username == AGENCY and "Test assistant" in entry.change_message


def test_someone_elses_connection_cannot_be_ended_through_the_page(cast, tokens):
    # The analyst names the agency user's client: only the analyst's own tokens are in scope.
    logged_in(ANALYST).post(_revoke_url(tokens["agency-acme"]))
    assert AccessToken.objects.filter(pk=tokens["agency-acme"].pk).exists()


@pytest.mark.parametrize(
    "username", ["owner@globex.test", "outsider@example.test", "staff@maestra.test"]
)
def test_strangers_get_404_and_nothing_changes(cast, tokens, username):
    response = logged_in(username).post(_revoke_url(tokens["analyst-acme"]))
    assert response.status_code == 404
    assert AccessToken.objects.count() == 3


def test_anonymous_get_and_missing_csrf_change_nothing(cast, tokens):
    url = _revoke_url(tokens["analyst-acme"])
    assert Client().post(url).status_code == 302
    assert logged_in(ANALYST).get(url).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.login(username=ANALYST, password=DEMO_PASSWORD)
    assert strict.post(url).status_code == 403
    assert AccessToken.objects.count() == 3


def test_last_use_is_shown_in_the_accounts_time_zone(cast, tokens):
    set_time_zone(cast.acme, TOKYO)
    AccessToken.objects.filter(pk=tokens["agency-acme"].pk).update(
        created=LATE_EVENING_UTC, updated=LATE_EVENING_UTC
    )
    page = logged_in(AGENCY).get("/accounts/acme/mcp/").content.decode()
    section = page.split('id="connections"')[1].split('id="tools"')[0]
    assert f"Connected {NEXT_MORNING_IN_TOKYO[:10]}" in section
    assert f"last used {NEXT_MORNING_IN_TOKYO} {TOKYO}" in section
