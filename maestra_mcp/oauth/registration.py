"""What a dynamically registered client may ask for (RFC 7591 metadata policy).

DOT validates the shape of a registration; this adds Maestra's policy, checked
before DOT stores anything:

* redirect URIs are https, loopback http (127.0.0.1, [::1] or localhost, any
  port at authorization time, RFC 8252 §7.3) or a private-use scheme from
  ``OAUTH_PRIVATE_USE_REDIRECT_SCHEMES`` (Cursor's ``cursor://``); plain http to
  any other host is refused, as it would send codes over the network in clear;
* only the authorization-code grant (refresh implied) and the ``code`` response
  type, so an anonymous registration can never obtain a client-credentials or
  implicit client.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
ALLOWED_GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})
ALLOWED_RESPONSE_TYPES = frozenset({"code"})


def redirect_uri_problem(uri: str) -> str | None:
    """Why ``uri`` may not be registered, or None when it may."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return f"{uri!r} is not a valid URI."
    scheme = parts.scheme.lower()
    if parts.fragment or "#" in uri:
        return f"{uri!r} has a fragment, which redirect URIs may not have."
    if scheme == "https":
        if not parts.hostname:
            return f"{uri!r} has no host."
        return None
    if scheme == "http":
        if parts.hostname in LOOPBACK_HOSTS:
            return None
        return (
            f"{uri!r} uses plain http to a non-loopback host; use https, or http only "
            "with 127.0.0.1, [::1] or localhost."
        )
    if scheme in settings.OAUTH_PRIVATE_USE_REDIRECT_SCHEMES:
        return None
    allowed = ", ".join(["https", "loopback http", *settings.OAUTH_PRIVATE_USE_REDIRECT_SCHEMES])
    return f"{uri!r} uses a scheme that is not allowed (allowed: {allowed})."


def registration_problem(metadata: dict) -> tuple[str, str] | None:
    """``(error, description)`` for a registration Maestra refuses, else None.

    Shape errors (not a list, not strings) are left to DOT, which words them in
    RFC 7591 terms.
    """
    redirect_uris = metadata.get("redirect_uris")
    if isinstance(redirect_uris, list):
        for uri in redirect_uris:
            if isinstance(uri, str) and (problem := redirect_uri_problem(uri)):
                return "invalid_redirect_uri", problem
    grant_types = metadata.get("grant_types", ["authorization_code"])
    if isinstance(grant_types, list) and not set(grant_types) <= ALLOWED_GRANT_TYPES:
        return (
            "invalid_client_metadata",
            "Only the authorization_code grant (with refresh_token) is supported.",
        )
    response_types = metadata.get("response_types", ["code"])
    if isinstance(response_types, list) and not set(response_types) <= ALLOWED_RESPONSE_TYPES:
        return "invalid_client_metadata", "Only the code response type is supported."
    return None
