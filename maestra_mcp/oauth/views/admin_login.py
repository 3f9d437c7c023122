"""The admin's login page under the same throttle as ``/login/``.

The authentication backend already refuses a throttled (username, address) pair
without checking the password (``oauth/login_throttle.py``); this wrapper around
the admin site's own login view only says so: a 429 with the wait in the page's
messages, instead of the admin's generic "enter the correct username" error.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.views.decorators.cache import never_cache

from maestra_mcp.oauth.login_throttle import login_throttled, throttled_message
from maestra_mcp.oauth.views.headers import deny_framing


@never_cache
@deny_framing
def admin_login(request, extra_context=None):
    throttled = request.method == "POST" and login_throttled(request, request.POST.get("username"))
    if throttled:
        messages.error(request, throttled_message())
    response = admin.site.login(request, extra_context)
    if throttled:
        response.status_code = 429
    return response
