"""What a dynamically registered client may ask for (RFC 7591 metadata policy).

DOT validates the shape of a registration; this adds Maestra's policy, checked
before DOT stores anything:

* redirect URIs are https, loopback http (127.0.0.1, [::1] or localhost, any
  port at authorization time, RFC 8252 §7.3) or a private-use scheme from
  ``OAUTH_PRIVATE_USE_REDIRECT_SCHEMES`` (Cursor's ``cursor://``); plain http to
  any other host is refused, as it would send codes over the network in clear;
* only the authorization-code grant (refresh implied) and the ``code`` response
  type, so an anonymous registration can never obtain a client-credentials or
  implicit client;
* every field Maestra or DOT stores is the right type and storable text (no
  NUL or other control characters, no lone surrogates, which JSON escapes can
  carry and psycopg cannot encode), so a bad field is a 400
  ``invalid_client_metadata``, never a database error.

The same policy applies to a registration (RFC 7591) and to its update
(RFC 7592 ``PUT``, a full replacement of the metadata).
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from django.conf import settings

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
# Application.name's length.
MAX_CLIENT_NAME = 255
_STRING_FIELDS = ("client_name", "token_endpoint_auth_method", "scope", "client_uri", "logo_uri")
_LIST_FIELDS = ("redirect_uris", "grant_types", "response_types")
ALLOWED_GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})
ALLOWED_RESPONSE_TYPES = frozenset({"code"})


def _has_unstorable_characters(text: str) -> bool:
    """Control characters, lone surrogates (``"\\ud800"`` in JSON), or invisible
    format characters: a right-to-left override or a zero-width space would let a
    name or URI the consent page shows read as something else (``\\u202eedualC``)."""
    return any(
        ord(char) < 0x20
        or ord(char) == 0x7F
        or 0xD800 <= ord(char) <= 0xDFFF
        or unicodedata.category(char) == "Cf"
        for char in text
    )


def redirect_uri_problem(uri: str) -> str | None:
    """Why ``uri`` may not be registered, or None when it may."""
    if _has_unstorable_characters(uri) or any(char.isspace() for char in uri):
        return f"{uri!r} contains whitespace, control, format characters or lone surrogates."
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


def _shape_problem(metadata: dict) -> str | None:
    """Why a field has the wrong type or unstorable text, or None."""
    for name in _STRING_FIELDS:
        value = metadata.get(name)
        if name in metadata and not isinstance(value, str):
            return f"{name} must be a string."
        if isinstance(value, str) and _has_unstorable_characters(value):
            return f"{name} contains control or invisible format characters, or lone surrogates."
    name = metadata.get("client_name", "")
    if len(name) > MAX_CLIENT_NAME:
        return f"client_name is longer than {MAX_CLIENT_NAME} characters."
    for name in _LIST_FIELDS:
        value = metadata.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return f"{name} must be an array of strings."
    return None


def registration_problem(metadata: object) -> tuple[str, str] | None:
    """``(error, description)`` for a registration (or update) Maestra refuses, else None."""
    if not isinstance(metadata, dict):
        return "invalid_client_metadata", "The body must be a JSON object."
    if problem := _shape_problem(metadata):
        return "invalid_client_metadata", problem
    for uri in metadata.get("redirect_uris", []):
        if problem := redirect_uri_problem(uri):
            return "invalid_redirect_uri", problem
    if not set(metadata.get("grant_types", ["authorization_code"])) <= ALLOWED_GRANT_TYPES:
        return (
            "invalid_client_metadata",
            "Only the authorization_code grant (with refresh_token) is supported.",
        )
    if not set(metadata.get("response_types", ["code"])) <= ALLOWED_RESPONSE_TYPES:
        return "invalid_client_metadata", "Only the code response type is supported."
    return None
