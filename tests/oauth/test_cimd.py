"""Client ID Metadata Documents: a client_id that is the https URL of its metadata.

Every document is served by a real HTTPS server on 127.0.0.1 (tests/support/cimd.py)
with a certificate from a CA made for the run; the application fetches it over TCP
and TLS as in production. ``OAUTH_CIMD_TEST_SERVER`` is the one allowance: it lets
the fetcher reach 127.0.0.1 and trust that CA, and the tests without it show the
loopback server refused before any connection.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import anyio
import httpx2
import pytest
from django.test import Client
from django.utils import timezone
from mcp import Client as McpClient
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata
from oauth2_provider.cimd import CIMDError
from oauth2_provider.models import AccessToken, Application, RefreshToken

from maestra_mcp.asgi import build_application
from maestra_mcp.checks import check_cimd_test_server_is_unset
from maestra_mcp.oauth.cimd import MetadataFetcher, document_unusable_message
from maestra_mcp.oauth.tasks import oauth_clear_expired_tokens
from permissions.services import mcp_access_revoke
from tests.oauth.headless import HeadlessBrowser
from tests.support.cimd import LOOPBACK, Answer, CertificateAuthority, DocumentServer
from tests.support.clients import logged_in
from tests.support.mcp import exchange
from tests.support.oauth import (
    CLAUDE_CALLBACK,
    MemoryStorage,
    Pkce,
    authorize_query,
    connect,
    consent,
    redirect_params,
    token_request,
)

pytestmark = pytest.mark.django_db

CALLBACK = "https://assistant.example/oauth/callback"
DOC = "/oauth/client.json"
CIMD_LOG = "oauth2_provider.cimd"  # DOT logs why a document was refused, and only there


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path_factory.mktemp("cimd-ca"))


@pytest.fixture
def documents(test_ca):
    with DocumentServer(test_ca) as server:
        yield server


@pytest.fixture
def allowance(settings, test_ca):
    """The test-only seam: reach 127.0.0.1, trust the run's CA."""
    settings.OAUTH_CIMD_TEST_SERVER = {"addresses": [LOOPBACK], "ca_file": str(test_ca.ca_file)}


@pytest.fixture
def short_timeout(settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "CIMD_FETCH_TIMEOUT_SECONDS": 0.5}


def _client(documents: DocumentServer, path=DOC, cache_control=None, **fields) -> str:
    """Serve a valid document at ``path``; its URL is the client_id."""
    document = documents.client_document(path, [CALLBACK], **fields)
    return documents.serve_document(path, document, cache_control)


def _authorize(client_id: str, resource: str, username="analyst@acme.test", browser=None):
    url = authorize_query(client_id, CALLBACK, Pkce.new(), resource=resource)
    return (browser or logged_in(username)).get(url)


def _code_exchange(client_id: str, code="not-a-code", verifier="v" * 43):
    return token_request(
        Client(),
        grant_type="authorization_code",
        code=code,
        redirect_uri=CALLBACK,
        client_id=client_id,
        code_verifier=verifier,
    )


# --- Discovery ----------------------------------------------------------------------------


def test_metadata_advertises_cimd_and_public_clients():
    doc = Client().get("/.well-known/oauth-authorization-server").json()
    # Claude uses CIMD only with both (the protocol notes, §4.1).
    assert doc["client_id_metadata_document_supported"] is True
    assert "none" in doc["token_endpoint_auth_methods_supported"]


def test_cimd_can_be_switched_off(cast, settings, documents, allowance):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "CIMD_ENABLED": False}
    doc = Client().get("/.well-known/oauth-authorization-server").json()
    assert doc["client_id_metadata_document_supported"] is False
    page = _authorize(_client(documents), cast.acme.mcp_url)
    assert page.status_code == 400
    assert documents.hits[DOC] == 0
    assert not Application.objects.exists()


# --- The whole flow -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the MCP endpoint reads from its own thread
def test_full_flow_consent_code_refresh_and_mcp(cast, documents, allowance):
    client_id = _client(documents, client_name="Report Helper")
    connected = connect(
        "analyst@acme.test", cast.acme.mcp_url, redirect_uri=CALLBACK, client_id=client_id
    )

    application = Application.objects.get(client_id=client_id)
    assert application.registration_source == Application.RegistrationSource.CIMD
    assert application.client_type == Application.CLIENT_PUBLIC
    assert (application.name, application.redirect_uris) == ("Report Helper", CALLBACK)
    assert application.user is None

    # The token opens acme's MCP URL only, exactly like a DCR client's.
    assert exchange("POST", "/mcp/acme", token=connected.access_token).status_code == 200
    assert exchange("POST", "/mcp/globex", token=connected.access_token).status_code == 401
    token = AccessToken.objects.get(application=application)
    assert token.resource == [cast.acme.mcp_url]

    status, refreshed = token_request(
        Client(),
        grant_type="refresh_token",
        refresh_token=connected.refresh_token,
        client_id=client_id,
    )
    assert status == 200, refreshed
    assert refreshed["access_token"] != connected.access_token
    assert exchange("POST", "/mcp/acme", token=refreshed["access_token"]).status_code == 200
    assert exchange("POST", "/mcp/acme", token=connected.access_token).status_code == 401


@pytest.mark.django_db(transaction=True)  # the MCP endpoint reads from its own thread
def test_access_policy_holds_for_cimd_clients(cast, documents, allowance):
    client_id = _client(documents)
    connected = connect(
        "analyst@acme.test", cast.acme.mcp_url, redirect_uri=CALLBACK, client_id=client_id
    )
    mcp_access_revoke(account=cast.acme, user=cast.user("analyst@acme.test"), acting_user=None)
    assert exchange("POST", "/mcp/acme", token=connected.access_token).status_code == 403
    status, body = token_request(
        Client(),
        grant_type="refresh_token",
        refresh_token=connected.refresh_token,
        client_id=client_id,
    )
    assert (status, body["error"]) == (400, "invalid_grant")


def test_a_code_is_bound_to_its_cimd_client(cast, documents, allowance):
    """A code issued to one document URL cannot be exchanged under another one."""
    first, second = _client(documents, "/a.json"), _client(documents, "/b.json")
    pkce = Pkce.new()
    url = authorize_query(first, CALLBACK, pkce, resource=cast.acme.mcp_url)
    _, answer = consent(logged_in("analyst@acme.test"), url)
    code = redirect_params(answer)["code"]
    status, body = _code_exchange(second, code, pkce.verifier)
    assert (status, body["error"]) == (400, "invalid_grant")
    assert not AccessToken.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_sdk_client_connects_with_its_metadata_url(cast, documents, allowance):
    """The official SDK client, given a client_metadata_url, uses CIMD (no DCR) end to end."""
    client_id = _client(documents)
    origin = "http://127.0.0.1:8000"
    mcp_url = f"{origin}/mcp/acme"
    app = build_application()
    transport = httpx2.ASGITransport(app=app)
    storage = MemoryStorage()

    async def go():
        async with (
            app.mcp_endpoint.lifespan(),
            httpx2.AsyncClient(transport=transport, base_url=origin) as browser_http,
        ):
            browser = HeadlessBrowser(browser_http, "analyst@acme.test")
            oauth = OAuthClientProvider(
                server_url=mcp_url,
                client_metadata=OAuthClientMetadata(
                    client_name="ignored: the document speaks for the client",
                    redirect_uris=[CALLBACK],
                    token_endpoint_auth_method="none",
                ),
                storage=storage,
                redirect_handler=browser.authorize,
                callback_handler=browser.callback,
                client_metadata_url=client_id,
            )
            async with httpx2.AsyncClient(transport=transport, auth=oauth, timeout=30) as http:
                for _ in range(2):  # the second session starts with a refresh
                    async with McpClient(
                        streamable_http_client(mcp_url, http_client=http), mode="legacy"
                    ) as client:
                        result = await client.call_tool("list_report_filters", {})
                        assert not result.is_error
                    oauth.context.token_expiry_time = 0
            return browser

    browser = anyio.run(go)
    assert storage.client_info.client_id == client_id
    application = Application.objects.get()  # the only client: nothing was registered
    assert application.registration_source == Application.RegistrationSource.CIMD
    assert documents.hits[DOC] == 1  # cached for a day (no Cache-Control)
    assert f"<strong>{LOOPBACK}:" in browser.pages[0].text  # the publisher on the consent page
    assert RefreshToken.objects.filter(application=application, revoked__isnull=True).count() == 1


# --- Refusals: a clear error, no fetch where none is due, nothing stored --------------------


def _assert_refused(cast, client_id: str):
    """Refused at both endpoints with the explanation; no client stored."""
    page = _authorize(client_id, cast.acme.mcp_url)
    assert page.status_code == 400
    assert page.context["error"].error == "invalid_request"
    assert page.context["error"].description == document_unusable_message()
    assert 'id="oauth-error"' in page.content.decode()
    status, body = _code_exchange(client_id)
    assert status == 401
    assert body == {"error": "invalid_client", "error_description": document_unusable_message()}
    assert not Application.objects.exists()


def _padded(documents: DocumentServer, size: int) -> bytes:
    """A valid document of exactly ``size`` bytes."""
    document = documents.client_document(DOC, [CALLBACK], padding="")
    bare = len(json.dumps(document).encode())
    document["padding"] = "x" * (size - bare)
    body = json.dumps(document).encode()
    assert len(body) == size
    return body


def _json(document) -> Answer:
    return Answer(json.dumps(document).encode(), headers={"Content-Type": "application/json"})


REFUSED_DOCUMENTS = {
    # name: (answer at DOC, given the server, what DOT logs)
    "redirect": (
        lambda s: Answer(status=302, headers={"Location": s.url("/elsewhere.json")}),
        "HTTP 302",
    ),
    "not found": (lambda s: Answer(b"{}", status=404), "HTTP 404"),
    "over 64 KiB": (
        lambda s: Answer(_padded(s, 64 * 1024 + 1), headers={"Content-Type": "application/json"}),
        "exceeds the maximum allowed size",
    ),
    "not JSON": (
        lambda s: Answer(b"<html></html>", headers={"Content-Type": "text/html"}),
        "is not JSON",
    ),
    "not an object": (lambda s: _json([s.url(DOC)]), "must be a JSON object"),
    "client_id of another URL": (
        lambda s: _json(s.client_document("/other.json", [CALLBACK])),
        "does not match the client_id URL",
    ),
    "no client_id": (
        lambda s: _json({**s.client_document(DOC, [CALLBACK]), "client_id": None}),
        "does not match the client_id URL",
    ),
    "plain http redirect URI": (
        lambda s: _json(s.client_document(DOC, ["http://evil.example.com/cb"])),
        "invalid_redirect_uri",
    ),
    "javascript redirect URI": (
        lambda s: _json(s.client_document(DOC, ["javascript:alert(1)"])),
        "invalid_redirect_uri",
    ),
    "redirect URI with a fragment": (
        lambda s: _json(s.client_document(DOC, [CALLBACK + "#x"])),
        "invalid_redirect_uri",
    ),
    "no redirect URIs": (
        lambda s: _json(s.client_document(DOC, [])),
        "redirect_uris must be a non-empty array",
    ),
    "client credentials grant": (
        lambda s: _json(s.client_document(DOC, [CALLBACK], grant_types=["client_credentials"])),
        "invalid_client_metadata",
    ),
    "implicit grant": (
        lambda s: _json(s.client_document(DOC, [CALLBACK], grant_types=["implicit"])),
        "invalid_client_metadata",
    ),
    "confidential client": (
        lambda s: _json(
            s.client_document(DOC, [CALLBACK], token_endpoint_auth_method="client_secret_basic")
        ),
        "must be public",
    ),
    "private_key_jwt": (
        lambda s: _json(
            s.client_document(DOC, [CALLBACK], token_endpoint_auth_method="private_key_jwt")
        ),
        "must be public",
    ),
    "a client secret": (
        lambda s: _json(s.client_document(DOC, [CALLBACK], client_secret="s3cret")),
        "must not include client_secret",
    ),
    "NUL in the name": (
        lambda s: _json(s.client_document(DOC, [CALLBACK], client_name="Claude\u0000")),
        "client_name contains control",
    ),
    "name not a string": (
        lambda s: _json(s.client_document(DOC, [CALLBACK], client_name=None)),
        "client_name must be a string",
    ),
}


@pytest.mark.parametrize("case", REFUSED_DOCUMENTS)
def test_refused_documents(cast, documents, allowance, caplog, case):
    answer, reason = REFUSED_DOCUMENTS[case]
    documents.answers[DOC] = answer(documents)
    documents.serve_document("/elsewhere.json", documents.client_document(DOC, [CALLBACK]))
    caplog.set_level(logging.INFO, logger=CIMD_LOG)
    _assert_refused(cast, documents.url(DOC))
    assert documents.hits[DOC] == 1  # then DOT's failure backoff: no second fetch
    assert documents.hits["/elsewhere.json"] == 0  # a redirect is never followed
    assert reason in caplog.text


def test_a_document_of_exactly_64_kib_is_accepted(cast, documents, allowance):
    documents.answers[DOC] = Answer(
        _padded(documents, 64 * 1024), headers={"Content-Type": "application/json"}
    )
    assert _authorize(documents.url(DOC), cast.acme.mcp_url).status_code == 200
    assert Application.objects.filter(client_id=documents.url(DOC)).exists()


def test_a_client_id_too_long_to_store_is_refused(cast, documents, allowance):
    """Application.client_id holds 255 characters: a longer URL is fetched, then refused."""
    path = "/" + "x" * 255 + ".json"
    _assert_refused(cast, _client(documents, path))
    assert documents.hits[path] == 1


def test_http_client_id_is_refused_without_a_fetch(cast, documents, allowance):
    client_id = _client(documents).replace("https://", "http://")
    _assert_refused(cast, client_id)
    assert documents.hits[DOC] == 0


def test_unknown_documents_at_the_token_endpoint_count_as_registrations(
    cast, settings, documents, allowance
):
    """/o/token is anonymous: each new client_id URL would make the server fetch a
    document, so new ones count against the caller's address like registrations."""
    settings.OAUTH_DCR_RATE_LIMIT = 2
    first = _client(documents, "/one.json")
    second = _client(documents, "/two.json")
    third = _client(documents, "/three.json")
    assert _code_exchange(first)[1]["error"] == "invalid_grant"  # fetched, then a bad code
    assert _code_exchange(second)[1]["error"] == "invalid_grant"
    status, body = token_request(
        Client(), grant_type="authorization_code", code="x", client_id=third
    )
    assert (status, body["error"]) == (429, "too_many_requests")
    assert documents.hits["/three.json"] == 0
    assert not Application.objects.filter(client_id=third).exists()
    # a document already known is no new registration: its code exchange is not throttled
    assert _code_exchange(first)[1]["error"] == "invalid_grant"
    # nor does another address share the count
    assert (
        Client(REMOTE_ADDR="203.0.113.9")
        .post("/o/token/", {"grant_type": "authorization_code", "code": "x", "client_id": third})
        .status_code
        == 400
    )


@pytest.mark.parametrize(
    "client_id",
    [
        "https://127.0.0.1",  # no path
        "https://user@127.0.0.1/doc.json",  # userinfo
        "https://127.0.0.1/a/../doc.json",  # dot segment
        "https://127.0.0.1/doc.json#frag",  # fragment
        "https://[::1/doc.json",  # not a URL
        "https://127.0.0.1:99999/doc.json",  # no such port
        "https://xn--clude-8ve.ai\u0430/doc.json",  # a Unicode look-alike letter
    ],
)
def test_malformed_client_id_urls_are_refused(cast, allowance, client_id):
    _assert_refused(cast, client_id)


def test_slow_server_times_out(cast, documents, allowance, short_timeout, caplog):
    documents.answers[DOC] = _json(documents.client_document(DOC, [CALLBACK]))
    documents.answers[DOC].delay = 5
    caplog.set_level(logging.INFO, logger=CIMD_LOG)
    _assert_refused(cast, documents.url(DOC))
    assert "timed out" in caplog.text


@pytest.mark.parametrize("drip_head", [False, True], ids=["body", "headers"])
def test_a_dripping_server_is_cut_off_at_the_deadline(
    cast, documents, allowance, short_timeout, drip_head
):
    """DOT's fetcher times each socket read, not the fetch: a byte every 20 ms would keep
    it reading the whole answer (8 s here). Ours shuts the socket when the time is up."""
    body = _padded(documents, 400)
    documents.answers[DOC] = Answer(
        body, headers={"Content-Type": "application/json"}, drip=0.02, drip_head=drip_head
    )
    _assert_refused(cast, documents.url(DOC))
    assert 0 < documents.sent[DOC] < len(body)


def test_loopback_is_refused_without_the_allowance(cast, documents, settings, test_ca, caplog):
    """Without OAUTH_CIMD_TEST_SERVER the same server is refused before any connection."""
    settings.OAUTH_CIMD_TEST_SERVER = None
    caplog.set_level(logging.INFO, logger=CIMD_LOG)
    _assert_refused(cast, _client(documents))
    assert documents.hits[DOC] == 0
    assert f"non-public address ({LOOPBACK})" in caplog.text


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.1.2.3", "[::1]"])
def test_loopback_names_are_refused_without_the_allowance(settings, host):
    settings.OAUTH_CIMD_TEST_SERVER = None
    with pytest.raises(CIMDError, match="non-public address"):
        MetadataFetcher().fetch(f"https://{host}/oauth/client.json")


def test_the_allowance_without_the_address_still_refuses_loopback(
    cast, documents, settings, test_ca
):
    settings.OAUTH_CIMD_TEST_SERVER = {"ca_file": str(test_ca.ca_file)}
    _assert_refused(cast, _client(documents))
    assert documents.hits[DOC] == 0


def test_a_certificate_from_another_ca_is_refused(cast, documents, settings, test_ca, caplog):
    untrusted = str(test_ca.other_ca_file)
    settings.OAUTH_CIMD_TEST_SERVER = {"addresses": [LOOPBACK], "ca_file": untrusted}
    caplog.set_level(logging.INFO, logger=CIMD_LOG)
    _assert_refused(cast, _client(documents))
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text


@pytest.mark.parametrize(
    "host",
    [
        "10.0.0.8",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # the cloud metadata address
        "100.100.100.200",  # Alibaba's metadata address (CGNAT range)
        "0.0.0.0",  # noqa: S104 - an address refused, not one bound to
        "[::1]",
        "[fd00:ec2::254]",  # AWS's IPv6 metadata address
        "[::ffff:169.254.169.254]",  # IPv4-mapped
        "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
    ],
)
def test_non_public_addresses_are_refused_even_with_the_allowance(allowance, host):
    """The allowance names 127.0.0.1 only; every other internal address stays refused."""
    with pytest.raises(CIMDError, match="non-public address"):
        MetadataFetcher().fetch(f"https://{host}/oauth/client.json")


# --- Caching --------------------------------------------------------------------------------


def test_max_age_is_honoured(cast, documents, allowance):
    client_id = _client(documents, cache_control="public, max-age=300")
    browser = logged_in("analyst@acme.test")
    for _ in range(3):
        assert _authorize(client_id, cast.acme.mcp_url, browser=browser).status_code == 200
    assert documents.hits[DOC] == 1
    expires_in = Application.objects.get().cimd_expires_at - timezone.now()
    assert timedelta(seconds=290) < expires_in <= timedelta(seconds=300)


def test_no_store_is_fetched_again_on_the_next_use(cast, documents, allowance):
    client_id = _client(documents, cache_control="no-store", client_name="First name")
    browser = logged_in("analyst@acme.test")
    first = _authorize(client_id, cast.acme.mcp_url, browser=browser)
    assert "First name" in first.content.decode()
    _client(documents, cache_control="no-store", client_name="Second name")
    second = _authorize(client_id, cast.acme.mcp_url, browser=browser)
    assert documents.hits[DOC] == 2
    assert "Second name" in second.content.decode()
    assert Application.objects.get().name == "Second name"


@pytest.mark.parametrize("cache_control", [None, "max-age=999999999"])
def test_cache_lifetime_defaults_to_and_is_capped_at_a_day(
    cast, documents, allowance, cache_control
):
    _authorize(_client(documents, cache_control=cache_control), cast.acme.mcp_url)
    expires_in = Application.objects.get().cimd_expires_at - timezone.now()
    assert timedelta(hours=23) < expires_in <= timedelta(days=1)


def test_a_failed_refetch_keeps_the_last_good_document(cast, documents, allowance):
    client_id = _client(documents, cache_control="no-store", client_name="Good")
    browser = logged_in("analyst@acme.test")
    assert _authorize(client_id, cast.acme.mcp_url, browser=browser).status_code == 200
    documents.answers[DOC] = Answer(status=500)
    again = _authorize(client_id, cast.acme.mcp_url, browser=browser)
    assert documents.hits[DOC] == 2
    assert again.status_code == 200 and "Good" in again.content.decode()


# --- Who the consent page says it is --------------------------------------------------------


def test_consent_page_shows_the_document_host(cast, documents, allowance):
    client_id = _client(documents, client_name="Report Helper")
    html = _authorize(client_id, cast.acme.mcp_url).content.decode()
    host = client_id.split("/")[2]
    assert f'id="client-name">{host}<' in html
    assert 'id="client-published"' in html
    assert f"<strong>{host}</strong>" in html
    assert "registered as “Report Helper”" in html


def test_a_document_calling_itself_claude_from_another_host_is_not_claude(
    cast, documents, allowance
):
    """Claude's name and Claude's own callbacks, served from elsewhere: shown as that host."""
    documents.serve_document(
        DOC,
        documents.client_document(
            DOC,
            ["https://claude.ai/api/mcp/auth_callback"],
            client_name="Claude",
        ),
    )
    url = authorize_query(
        documents.url(DOC), CLAUDE_CALLBACK, Pkce.new(), resource=cast.acme.mcp_url
    )
    html = logged_in("analyst@acme.test").get(url).content.decode()
    assert 'id="client-verified"' not in html
    assert 'id="client-name">Claude<' not in html
    assert f'id="client-name">{documents.origin.split("/")[2]}<' in html
    assert "registered as “Claude”" in html


def test_connections_page_badges_a_cimd_client(cast, documents, allowance):
    client_id = _client(documents, client_name="Report Helper")
    connect("analyst@acme.test", cast.acme.mcp_url, redirect_uri=CALLBACK, client_id=client_id)
    html = logged_in("owner@acme.test").get("/accounts/acme/connections/").content.decode()
    assert "client-published" in html
    assert f">{client_id.split('/')[2]}<" in html


# --- The test-only allowance cannot reach production -----------------------------------------


def test_the_allowance_is_an_error_for_every_command(settings, test_ca):
    assert check_cimd_test_server_is_unset(None) == []
    settings.OAUTH_CIMD_TEST_SERVER = {"addresses": [LOOPBACK], "ca_file": str(test_ca.ca_file)}
    (error,) = check_cimd_test_server_is_unset(None)
    assert (error.id, error.level) == ("maestra_mcp.E001", logging.ERROR)


# --- Housekeeping ---------------------------------------------------------------------------


def test_expired_unused_cimd_clients_are_cleared_hourly(cast, documents, allowance):
    used = _client(documents, "/used.json", cache_control="no-store")
    unused = _client(documents, "/unused.json", cache_control="no-store")
    connect("analyst@acme.test", cast.acme.mcp_url, redirect_uri=CALLBACK, client_id=used)
    _authorize(unused, cast.acme.mcp_url)
    assert Application.objects.count() == 2
    oauth_clear_expired_tokens.apply().get()
    assert list(Application.objects.values_list("client_id", flat=True)) == [used]
