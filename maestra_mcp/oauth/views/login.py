"""Django's login, throttled against password guessing.

Failed attempts are counted per (username, client address) in the cache; after
``OAUTH_LOGIN_FAILURE_LIMIT`` failures within ``OAUTH_LOGIN_FAILURE_WINDOW_SECONDS``
further attempts for that pair are refused without checking the password until
the window ends. A successful login clears the count. Keying on the pair, not
the username alone, stops a stranger from locking a colleague out.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.utils.decorators import method_decorator

from maestra_mcp.oauth.throttle import RateLimit, client_address
from maestra_mcp.oauth.views.headers import deny_framing

MESSAGE_LOGIN_THROTTLED = "Too many failed attempts. Wait {minutes} minutes, then try again."


def login_limit() -> RateLimit:
    return RateLimit(
        "login", settings.OAUTH_LOGIN_FAILURE_LIMIT, settings.OAUTH_LOGIN_FAILURE_WINDOW_SECONDS
    )


@method_decorator(deny_framing, name="dispatch")
class ThrottledLoginView(LoginView):
    def _identity(self) -> str:
        username = self.request.POST.get("username", "").strip().lower()
        return f"{username}|{client_address(self.request)}"

    def post(self, request, *args, **kwargs):
        limit = login_limit()
        if limit.exceeded(self._identity()):
            message = MESSAGE_LOGIN_THROTTLED.format(minutes=-(-limit.window_seconds // 60))
            # An unbound form: a bound one would check the password when rendered.
            form = self.get_form_class()(self.request)
            context = self.get_context_data(form=form, throttled=message)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        login_limit().hit(self._identity())
        return super().form_invalid(form)

    def form_valid(self, form):
        login_limit().reset(self._identity())
        return super().form_valid(form)
