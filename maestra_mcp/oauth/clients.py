"""Who an OAuth client is, as the consent and connections pages tell the member.

Anyone can register a client under any name (dynamic client registration), so
the name proves nothing. What a client cannot fake is where Maestra sends its
authorization codes: the redirect URIs it registered. Hence three kinds:

* **verified**: every registered redirect URI belongs to one assistant in
  ``settings.MCP_KNOWN_CLIENTS`` (Claude, ChatGPT, Cursor), so codes reach only
  that vendor, and the page shows the vendor's name, not the one the client gave;
  a client registered by Maestra staff in the admin is verified under its name;
* **local**: every redirect URI is a loopback address, so the code stays on
  the member's computer (Claude Code, the MCP Inspector, a script): any program
  there could have registered it, so it is labelled "app on your computer" with
  the name it gave, neither verified nor alarming;
* **unverified**: anything else, including a client named "Claude" whose
  redirect URIs are not Claude's.

A client identified by a Client ID Metadata Document (CIMD: its ``client_id`` is
the https URL of its metadata, ``oauth/cimd.py``) is who serves that document: it
was fetched over https from that host and had to name that exact URL. So its
host is its identity, whatever name or redirect URIs it claims:

* **verified** as a known assistant when the host is one of the assistant's
  ``client_id_hosts`` (Claude's ``claude.ai``) and no redirect URI is loopback;
* **published** by its host otherwise: shown as the host, with a verified badge
  for the host only;
* **local** when every redirect URI is loopback: any program on the member's
  computer can use a public client_id and receive the code there, so the host
  vouches for the document, not for the program asking (the CIMD draft's
  localhost warning); the host is still shown.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from oauth2_provider.models import AbstractApplication

from maestra_mcp.oauth.registration import LOOPBACK_HOSTS

LOCAL_APP_LABEL = "App on your computer"


class ClientKind(enum.Enum):
    VERIFIED = "verified"
    PUBLISHED = "published"
    LOCAL = "local"
    UNVERIFIED = "unverified"


@dataclass(frozen=True)
class ClientIdentity:
    """How to present one OAuth client: ``label`` is the name to show."""

    kind: ClientKind
    label: str
    given_name: str  # the name the client registered itself with
    host: str = ""  # a CIMD client's document host, as in its URL (with a port if it has one)

    @property
    def name(self) -> str:
        """The name to show: the vendor's when verified, else the one it gave."""
        return self.given_name if self.local else self.label

    @property
    def verified(self) -> bool:
        return self.kind is ClientKind.VERIFIED

    @property
    def published(self) -> bool:
        return self.kind is ClientKind.PUBLISHED

    @property
    def local(self) -> bool:
        return self.kind is ClientKind.LOCAL

    @property
    def unverified(self) -> bool:
        return self.kind is ClientKind.UNVERIFIED


def known_client_name(redirect_uris: list[str]) -> str | None:
    """The known assistant all of ``redirect_uris`` belong to, or None."""
    if not redirect_uris:
        return None
    for known in settings.MCP_KNOWN_CLIENTS:
        exact = set(known.get("redirect_uris", ()))
        prefixes = tuple(known.get("redirect_uri_prefixes", ()))
        if all(uri in exact or (prefixes and uri.startswith(prefixes)) for uri in redirect_uris):
            return known["name"]
    return None


def known_client_for_host(hostname: str | None) -> str | None:
    """The known assistant whose CIMD documents are served from ``hostname``, or None."""
    for known in settings.MCP_KNOWN_CLIENTS:
        if hostname in known.get("client_id_hosts", ()):
            return known["name"]
    return None


def _is_loopback(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


def client_identity(application: AbstractApplication) -> ClientIdentity:
    """Verified, published, local or unverified: from the host of a CIMD client's
    document, else from the application's registered redirect URIs."""
    given = application.name or application.client_id
    uris = application.redirect_uris.split()
    if application.registration_source == application.RegistrationSource.CIMD:
        return _metadata_document_identity(application.client_id, given, uris)
    if (known := known_client_name(uris)) is not None:
        return ClientIdentity(ClientKind.VERIFIED, known, given)
    if application.registration_source == application.RegistrationSource.MANUAL:
        # Registered by Maestra staff in the admin: someone checked who runs it.
        return ClientIdentity(ClientKind.VERIFIED, given, given)
    if uris and all(_is_loopback(uri) for uri in uris):
        return ClientIdentity(ClientKind.LOCAL, LOCAL_APP_LABEL, given)
    return ClientIdentity(ClientKind.UNVERIFIED, given, given)


def _metadata_document_identity(client_id: str, given: str, uris: list[str]) -> ClientIdentity:
    url = urlsplit(client_id)
    host = url.netloc  # DOT refuses a userinfo part: this is host[:port]
    loopback = [uri for uri in uris if _is_loopback(uri)]
    if uris and len(loopback) == len(uris):
        return ClientIdentity(ClientKind.LOCAL, LOCAL_APP_LABEL, given, host)
    if not loopback and (known := known_client_for_host(url.hostname)) is not None:
        return ClientIdentity(ClientKind.VERIFIED, known, given, host)
    return ClientIdentity(ClientKind.PUBLISHED, host, given, host)
