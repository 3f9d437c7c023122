"""Typed readers for environment variables.

Settings are the only place that reads the environment. Every helper raises
``ImproperlyConfigured`` on a value it cannot parse, so a typo in production
stops the process at start-up instead of silently falling back to a default.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false/1/0), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_memory(name: str, default: str) -> str:
    """A PostgreSQL memory size such as ``32MB`` (units kB, MB, GB).

    Checked here because it is passed to the server as a startup option, where
    a typo would only surface as a failed connection.
    """
    raw = os.environ.get(name, default).strip()
    if not re.fullmatch(r"[1-9][0-9]*(kB|MB|GB)", raw):
        raise ImproperlyConfigured(
            f"{name} must be a size such as 32MB (kB, MB or GB), got {raw!r}"
        )
    return raw


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = os.environ.get(name, default).strip().lower()
    if raw not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_origin(name: str, default: str) -> str:
    """An absolute http(s) origin without a path, e.g. ``https://mcp.example.com``.

    The OAuth issuer and every MCP connector URL are built from it, and OAuth
    clients compare them byte for byte, so anything but a bare origin is refused.
    """
    raw = os.environ.get(name, default).strip()
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(f"{name} must be an http(s) URL, got {raw!r}")
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"{name} must be a bare origin without a path, got {raw!r}")
    return f"{parts.scheme}://{parts.netloc}"
