"""A client's metadata-document host for the CIMD tests: a real HTTPS server on loopback,
with a certificate from a CA made for the test run.

The server answers each path from a table the test fills (status, headers, body,
a delay before answering) and counts the requests per path, so a test can prove
a document was fetched, not fetched again (caching), or never fetched at all
(refusals before any connection). Nothing here touches the fetcher: the
application fetches over TCP and TLS exactly as in production, and is told to
trust this CA and this address through ``OAUTH_CIMD_TEST_SERVER``.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, issuer, public_key, signing_key, *, ca: bool, san=None):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if san is not None:
        builder = builder.add_extension(san, critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _pem(path: Path, *blobs: bytes) -> Path:
    path.write_bytes(b"".join(blobs))
    return path


@dataclass(frozen=True)
class CertificateAuthority:
    """A CA made for this run, and a server certificate it signed for 127.0.0.1."""

    ca_file: Path  # the CA certificate, for the fetcher's trust
    cert_file: Path  # the server's certificate chain and key, for the server
    other_ca_file: Path  # a second, unrelated CA: a server the fetcher must not trust

    @classmethod
    def create(cls, folder: Path) -> CertificateAuthority:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _certificate(
            _name("Maestra test CA"), _name("Maestra test CA"), ca_key.public_key(), ca_key, ca=True
        )
        server_key = ec.generate_private_key(ec.SECP256R1())
        san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))])
        server_cert = _certificate(
            _name(LOOPBACK), ca_cert.subject, server_key.public_key(), ca_key, ca=False, san=san
        )
        other_key = ec.generate_private_key(ec.SECP256R1())
        other_cert = _certificate(
            _name("Unrelated CA"), _name("Unrelated CA"), other_key.public_key(), other_key, ca=True
        )
        pem = serialization.Encoding.PEM
        key_pem = server_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return cls(
            ca_file=_pem(folder / "ca.pem", ca_cert.public_bytes(pem)),
            cert_file=_pem(folder / "server.pem", server_cert.public_bytes(pem), key_pem),
            other_ca_file=_pem(folder / "other-ca.pem", other_cert.public_bytes(pem)),
        )


@dataclass
class Answer:
    """What the server sends for one path."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (released early when the server stops)
    drip: float = 0.0  # seconds between the body's bytes: a server that is slow on purpose
    drip_head: bool = False  # drip the status line and headers too


class DocumentServer:
    """``ThreadingHTTPServer`` over TLS on 127.0.0.1, answering from ``answers``."""

    def __init__(self, ca: CertificateAuthority) -> None:
        self.answers: dict[str, Answer] = {}
        self.hits: Counter[str] = Counter()  # requests per path
        self.sent: Counter[str] = Counter()  # body bytes the client took, per path
        self._stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits[self.path] += 1
                answer = server.answers.get(self.path, Answer(b"not found", status=404))
                if answer.delay:
                    server._stopping.wait(answer.delay)
                head = [f"{self.protocol_version} {answer.status} Status"]
                headers = {**answer.headers, "Content-Length": str(len(answer.body))}
                head += [f"{name}: {value}" for name, value in headers.items()]
                head = ("\r\n".join(head) + "\r\n\r\n").encode()
                if answer.drip_head:
                    raw = head + answer.body
                else:
                    self.wfile.write(head)
                    raw = answer.body
                chunks = [raw[i : i + 1] for i in range(len(raw))] if answer.drip else [raw]
                for chunk in chunks:
                    if answer.drip and server._stopping.wait(answer.drip):
                        return
                    try:
                        self.wfile.write(chunk)
                    except OSError:  # the client hung up
                        return
                    server.sent[self.path] += len(chunk)

            def log_message(self, *args):  # quiet test output
                pass

        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(ca.cert_file)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.origin = f"https://{LOOPBACK}:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> DocumentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def url(self, path: str) -> str:
        return self.origin + path

    def serve_document(self, path: str, document: dict, cache_control: str | None = None) -> str:
        """Serve ``document`` as JSON at ``path``; returns its URL."""
        headers = {"Content-Type": "application/json"}
        if cache_control is not None:
            headers["Cache-Control"] = cache_control
        self.answers[path] = Answer(json.dumps(document).encode(), headers=headers)
        return self.url(path)

    def client_document(self, path: str, redirect_uris: list[str], **fields) -> dict:
        """A valid document for the URL at ``path``, as a public client publishes it."""
        return {
            "client_id": self.url(path),
            "client_name": "Test assistant",
            "redirect_uris": redirect_uris,
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            **fields,
        }
