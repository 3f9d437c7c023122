"""OAuth from the client's side: a client and a browser played over Django's test client,
and the pieces the official SDK client's OAuth provider needs."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from django.test import Client
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from tests.support.clients import logged_in

CLAUDE_CALLBACK = "https://claude.ai/api/mcp/auth_callback"


@dataclass
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(64)
        digest = hashlib.sha256(verifier.encode()).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode())


def register(client: Client, redirect_uris, **metadata) -> tuple[int, dict]:
    body = {
        "client_name": "Claude",
        "redirect_uris": redirect_uris,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **metadata,
    }
    response = client.post("/o/register/", json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def authorize_query(client_id, redirect_uri, pkce: Pkce, *, resource=None, **extra) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": "st-123",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    if resource is not None:
        params["resource"] = resource
    return "/o/authorize/?" + urlencode({k: v for k, v in params.items() if v is not None})


def consent(browser: Client, url: str, *, allow=True, account=None):
    """GET the consent page, then POST its form back like a browser; returns (page, answer)."""
    page = browser.get(url)
    assert page.status_code == 200, page.content[:500]
    form = page.context["form"]
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    if allow:
        data["allow"] = "Authorize"
    if account is not None:
        data["account"] = account
    return page, browser.post(url, data)


def redirect_params(response) -> dict[str, str]:
    assert response.status_code == 302, (response.status_code, response.content[:500])
    query = parse_qs(urlsplit(response["Location"]).query)
    return {k: v[0] for k, v in query.items()}


def token_request(client: Client, **data):
    response = client.post("/o/token/", data)
    assert response["Content-Type"] == "application/json"  # RFC 6749 §5.1, §5.2
    return response.status_code, response.json()


@dataclass
class Connected:
    client_id: str
    redirect_uri: str
    access_token: str
    refresh_token: str
    body: dict


def connect(
    username: str,
    resource: str | None,
    *,
    redirect_uri=CLAUDE_CALLBACK,
    account=None,
    client_id: str | None = None,
):
    """The whole dance: DCR (unless ``client_id`` is given, e.g. a CIMD URL), consent as
    ``username``, code exchange. Returns the tokens."""
    if client_id is None:
        status, registered = register(Client(), [redirect_uri])
        assert status == 201, registered
        client_id = registered["client_id"]
    pkce = Pkce.new()
    browser = logged_in(username)
    url = authorize_query(client_id, redirect_uri, pkce, resource=resource)
    _, answer = consent(browser, url, account=account)
    params = redirect_params(answer)
    assert "code" in params, params
    status, body = token_request(
        Client(),
        grant_type="authorization_code",
        code=params["code"],
        redirect_uri=redirect_uri,
        client_id=client_id,
        code_verifier=pkce.verifier,
        **({"resource": resource} if resource else {}),
    )
    assert status == 200, body
    return Connected(client_id, redirect_uri, body["access_token"], body["refresh_token"], body)


# --- The SDK client's OAuth provider ------------------------------------------------------
class MemoryStorage(TokenStorage):
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


def sdk_oauth_provider(mcp_url: str, redirect_uris: list[str], browser, storage):
    """The SDK's provider registering as Claude; ``browser`` (``HeadlessBrowser`` or a
    real one) supplies the redirect and callback handlers."""
    return OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name="Claude",
            redirect_uris=redirect_uris,
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=browser.authorize,
        callback_handler=browser.callback,
    )


def serve_at(settings, origin: str) -> None:
    """Issuer, resource URLs and trusted origins follow the server's real address."""
    settings.MAESTRA_PUBLIC_URL = origin
    settings.CSRF_TRUSTED_ORIGINS = [origin]
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": origin}
