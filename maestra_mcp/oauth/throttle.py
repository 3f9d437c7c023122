"""Fixed-window counters in Django's cache, for login guessing and client registration.

Each limiter counts hits per identity (a client address, or a username and an
address) within a window that starts at the first hit. The counters live in the
``default`` cache: with the embedded local-memory cache they are per process, so
production points ``CACHE_URL`` at Redis to share them between workers.
Identities are hashed before they become cache keys, so no username or address
is stored in the cache in clear text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest


@dataclass(frozen=True)
class RateLimit:
    scope: str
    limit: int
    window_seconds: int

    def _key(self, identity: str) -> str:
        digest = hashlib.sha256(identity.encode()).hexdigest()
        return f"maestra:ratelimit:{self.scope}:{digest}"

    def exceeded(self, identity: str) -> bool:
        """True when ``identity`` has used up its hits in the current window."""
        return cache.get(self._key(identity), 0) >= self.limit

    def hit(self, identity: str) -> int:
        """Count one hit and return the count in the current window."""
        key = self._key(identity)
        cache.add(key, 0, self.window_seconds)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.set(key, 1, self.window_seconds)
            return 1

    def reset(self, identity: str) -> None:
        cache.delete(self._key(identity))


def client_address(request: HttpRequest) -> str:
    """The caller's address as the server sees it.

    Behind a reverse proxy, run uvicorn with ``--proxy-headers`` and
    ``--forwarded-allow-ips`` so REMOTE_ADDR is the real client; a raw
    X-Forwarded-For header is never trusted here, as any client can send one.
    """
    return request.META.get("REMOTE_ADDR", "") or "unknown"
