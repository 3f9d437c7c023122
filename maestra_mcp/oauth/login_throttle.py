"""The login throttle, for every password login: ``/login/`` and ``/admin/login/`` alike.

Failed attempts are counted per (username, client address) in the cache; after
``OAUTH_LOGIN_FAILURE_LIMIT`` failures within ``OAUTH_LOGIN_FAILURE_WINDOW_SECONDS``
further attempts for that pair are refused without checking the password until
the window ends. A successful login clears the count. Keying on the pair, not
the username alone, stops a stranger from locking a colleague out.

It sits where every login goes through, not in one view: Django's
``authenticate()`` sends ``user_login_failed`` / ``user_logged_in`` (counted
here), and :class:`ThrottledModelBackend`, the password backend,
refuses a throttled pair before any backend checks the password. The views add
only the 429 page with the message (``views/login.py``, ``views/admin_login.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest

from maestra_mcp.oauth.throttle import RateLimit, client_address

MESSAGE_LOGIN_THROTTLED = "Too many failed attempts. Wait {minutes} minutes, then try again."


def login_limit() -> RateLimit:
    return RateLimit(
        "login", settings.OAUTH_LOGIN_FAILURE_LIMIT, settings.OAUTH_LOGIN_FAILURE_WINDOW_SECONDS
    )


def throttled_message() -> str:
    return MESSAGE_LOGIN_THROTTLED.format(minutes=-(-login_limit().window_seconds // 60))


def _identity(request: HttpRequest, username: str | None) -> str:
    return f"{(username or '').strip().lower()}|{client_address(request)}"


def _username(credentials: dict) -> str | None:
    return credentials.get(get_user_model().USERNAME_FIELD, credentials.get("username"))


def login_throttled(request: HttpRequest, username: str | None) -> bool:
    """True when this (username, address) pair has used up its failures."""
    return login_limit().exceeded(_identity(request, username))


class ThrottledModelBackend(ModelBackend):
    """Django's password backend, refusing a throttled pair before the password check.

    ``PermissionDenied`` stops ``authenticate()`` at once (no later backend runs),
    so a guesser learns nothing from the right password once throttled. It
    replaces ``ModelBackend`` (rather than sitting in front of it) so sessions and
    ``force_login`` keep a backend that loads users.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        name = username if username is not None else kwargs.get(get_user_model().USERNAME_FIELD)
        if request is not None and login_throttled(request, name):
            raise PermissionDenied("login throttled")
        return super().authenticate(request, username, password, **kwargs)


@receiver(user_login_failed, dispatch_uid="maestra-login-throttle-failed")
def _count_failure(sender, credentials, request=None, **kwargs) -> None:
    if request is not None:  # authenticate() called outside a request (scripts, tests)
        login_limit().hit(_identity(request, _username(credentials)))


@receiver(user_logged_in, dispatch_uid="maestra-login-throttle-success")
def _clear_failures(sender, request, user, **kwargs) -> None:
    if request is not None:
        # The name as typed (case-folded) is what failures were counted under.
        typed = request.POST.get("username") if request.method == "POST" else None
        login_limit().reset(_identity(request, typed or user.get_username()))
