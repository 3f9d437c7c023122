"""Client ID Metadata Documents: DOT's CIMD, held to Maestra's rules.

django-oauth-toolkit 3.4 does the CIMD work (``oauth2_provider.cimd``): when a
``client_id`` is an https URL it fetches the document there, requires its
``client_id`` to be exactly that URL and its ``token_endpoint_auth_method`` to be
``none``, stores a public ``Application`` for it, re-fetches it when the document's
HTTP caching lifetime ends, and backs off and caps concurrent fetches. It is
switched on and tuned in ``settings.OAUTH2_PROVIDER`` (``CIMD_*``); this module is
its ``CIMD_METADATA_FETCHER``, the hook DOT offers for site policy, adding what
its ``SafeMetadataFetcher`` lacks:

* **the registration policy**: the document must pass exactly the checks a
  dynamic registration passes (``maestra_mcp.oauth.registration``); DOT's own
  check lets a document register plain ``http`` redirect URIs to any host;
* **one deadline for the whole fetch**: DOT bounds the connection and each socket
  read, so a server sending a byte every few seconds kept a worker busy long past
  ``CIMD_FETCH_TIMEOUT_SECONDS`` (tried: still reading after 60 s with a 1 s
  timeout). Here the socket is shut when the deadline passes, whatever phase
  (TLS handshake, headers, body) the fetch is in;
* **printable ASCII URLs only**, so the host the consent page shows is the host
  that was fetched (an internationalised host must come in its ``xn--`` form, not
  as Unicode look-alike letters);
* **the test suite's local server**: ``settings.OAUTH_CIMD_TEST_SERVER`` lets the
  fetcher reach the listed loopback addresses and trust the test run's CA. It is
  not read from the environment, and system check ``maestra_mcp.E001`` refuses
  every ``manage.py`` command while it is set.

The fetch itself follows DOT's: https only, every resolved address must be
public (DOT's ``_ip_is_public``: no private, loopback, link-local — the cloud
metadata address —, CGNAT or reserved ranges, IPv4 embedded in IPv6 included),
the connection goes to the address that was checked (no second lookup to
rebind), the certificate is checked against the URL's host, redirects are never
followed (a 3xx is a failure), and DOT's reader caps the size and parses the
JSON and ``Cache-Control``.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import ssl
import threading
import time
from http.client import HTTPException
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from oauth2_provider.cimd import (
    CIMDError,
    SafeMetadataFetcher,
    _ip_is_public,  # DOT's judgement of an address; its IPv6 cases are subtle, so not copied
    _validate_client_id_url,  # the CIMD draft's URL rules (https, host, path, no dot segments)
)
from oauth2_provider.settings import oauth2_settings
from urllib3.connection import HTTPSConnection
from urllib3.exceptions import HTTPError

from maestra_mcp.oauth.registration import registration_problem

logger = logging.getLogger(__name__)

_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")
MESSAGE_TIMED_OUT = "client_id document fetch timed out"

# DOT never says why a document was refused (its log does): a refusal reaches the
# client as an unknown client_id. Ours says what a usable document is instead.
MESSAGE_DOCUMENT_UNUSABLE = (
    "This client_id is a URL, so it must be a Client ID Metadata Document, and Maestra "
    "could not use it. The URL must be https with a path, on a public host that answers "
    "within {timeout:g} seconds without redirecting, with at most {kib} KiB of JSON whose "
    'client_id is exactly that URL, token_endpoint_auth_method "none", and the redirect '
    "URIs and grant types a client registration may have."
)


def looks_like_metadata_document(client_id: str) -> bool:
    """True for a URL client_id (http too: it gets the explanation, not a fetch)."""
    return client_id[:8].lower().startswith(("https://", "http://"))


def document_unusable_message() -> str:
    return MESSAGE_DOCUMENT_UNUSABLE.format(
        timeout=oauth2_settings.CIMD_FETCH_TIMEOUT_SECONDS,
        kib=oauth2_settings.CIMD_MAX_DOCUMENT_SIZE // 1024,
    )


def _test_server() -> dict:
    return settings.OAUTH_CIMD_TEST_SERVER or {}


def _checked_addresses(hostname: str, port: int) -> list[str]:
    """The host's addresses, all public, or CIMDError (as DOT's ``_resolve_and_validate``).

    One non-public address refuses the host, so a name answering with a public and
    a private address cannot steer the connection inside. The test server's own
    addresses are the one exception, and only while ``OAUTH_CIMD_TEST_SERVER`` is set.
    """
    allowed = set(_test_server().get("addresses", ()))
    try:
        infos = socket.getaddrinfo(hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise CIMDError(f"could not resolve client_id host: {exc}") from exc
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        if address in allowed:
            logger.warning("CIMD fetch from %s allowed by OAUTH_CIMD_TEST_SERVER", address)
        elif not _ip_is_public(address):
            raise CIMDError(f"client_id host resolves to a non-public address ({address})")
    if not addresses:
        raise CIMDError("client_id host did not resolve to any address")
    return addresses


def _tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_file := _test_server().get("ca_file"):
        context.load_verify_locations(cafile=ca_file)
    return context


class _Deadline:
    """Shuts the connection's socket down when the time is up, unblocking any read.

    A socket timeout bounds each read, not their sum. The socket is remembered
    once connected: http.client lets go of it (``connection.sock`` becomes None)
    as soon as a response says the connection will close, while the response
    still reads from it.
    """

    def __init__(self, connection: HTTPSConnection, seconds: float) -> None:
        self._connection = connection
        self._connected: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._shut)
        self._timer.daemon = True
        self._timer.start()

    def connected(self) -> None:
        self._connected = self._connection.sock

    def cancel(self) -> None:
        self._timer.cancel()

    def _shut(self) -> None:
        # Before connected(): the plain socket of the TLS handshake, if any.
        for sock in (self._connection.sock, self._connected):
            if sock is not None:
                with contextlib.suppress(OSError):  # already closed
                    sock.shutdown(socket.SHUT_RDWR)


class MetadataFetcher(SafeMetadataFetcher):
    """``CIMD_METADATA_FETCHER``: returns ``(document, max_age)`` or raises ``CIMDError``."""

    def fetch(self, client_id):
        if not _PRINTABLE_ASCII.fullmatch(client_id):
            raise CIMDError("client_id URL must be printable ASCII (a Unicode host in xn-- form)")
        document, max_age = self._download(client_id)
        if problem := registration_problem(document):
            error, description = problem
            raise CIMDError(f"client metadata refused ({error}): {description}")
        return document, max_age

    def _download(self, client_id: str) -> tuple[dict, int]:
        deadline = time.monotonic() + oauth2_settings.CIMD_FETCH_TIMEOUT_SECONDS
        try:
            _validate_client_id_url(client_id)
            url = urlsplit(client_id)
        except ValueError as exc:  # e.g. an unclosed IPv6 bracket
            raise CIMDError("client_id is not a valid URL") from exc
        port = url.port or 443
        context = _tls_context()
        last_error: Exception | None = None
        # Every address gets only what is left of the one deadline, so a host with many
        # addresses cannot multiply it.
        for address in _checked_addresses(url.hostname, port):
            if time.monotonic() >= deadline:
                break
            try:
                return self._download_from(address, port, url, context, deadline)
            except (HTTPError, HTTPException, OSError) as exc:
                if time.monotonic() >= deadline:  # most likely the deadline's own doing
                    raise CIMDError(MESSAGE_TIMED_OUT) from exc
                last_error = exc
        raise CIMDError(f"could not fetch client_id document: {last_error or MESSAGE_TIMED_OUT}")

    def _download_from(
        self, address: str, port: int, url: SplitResult, context, deadline: float
    ) -> tuple[dict, int]:
        remaining = deadline - time.monotonic()
        # Connected to the checked address; SNI, the certificate check and Host use the
        # URL's host. A bare connection, not a pool: nothing here could follow a redirect.
        connection = HTTPSConnection(
            address, port, timeout=remaining, ssl_context=context, server_hostname=url.hostname
        )
        cut_off = _Deadline(connection, remaining)
        try:
            connection.connect()
            cut_off.connected()
            if time.monotonic() >= deadline:  # the timer fired before there was a socket to shut
                raise CIMDError(MESSAGE_TIMED_OUT)
            connection.request(
                "GET",
                url.path + (f"?{url.query}" if url.query else ""),
                headers={"Host": url.netloc, "Accept": "application/json, application/*+json"},
                preload_content=False,  # DOT's reader takes at most the size cap
            )
            with connection.getresponse() as response:
                document_and_max_age = self._read_document(response)
            if time.monotonic() >= deadline:  # whatever arrived, it came too late
                raise CIMDError(MESSAGE_TIMED_OUT)
            return document_and_max_age
        finally:
            cut_off.cancel()
            connection.close()
