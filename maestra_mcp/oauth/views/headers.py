"""Response headers for pages that must never be framed (login, consent)."""

from __future__ import annotations

import functools

# X-Frame-Options: DENY comes from XFrameOptionsMiddleware for every response;
# this adds the CSP equivalent, which modern browsers prefer (Django 5.2 has no
# CSP support of its own).
FRAME_ANCESTORS_NONE = "frame-ancestors 'none'"


def deny_framing(view):
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = FRAME_ANCESTORS_NONE
        return response

    return wrapped
