"""Django's login, throttled against password guessing (``oauth/login_throttle.py``).

The throttle itself is enforced by the authentication backend for every login
path; this view answers a throttled attempt with a 429 page saying how long to
wait, without binding the form (a bound one would check the password).
"""

from __future__ import annotations

from django.contrib.auth.views import LoginView
from django.utils.decorators import method_decorator

from maestra_mcp.oauth.login_throttle import login_throttled, throttled_message
from maestra_mcp.oauth.views.headers import deny_framing


@method_decorator(deny_framing, name="dispatch")
class ThrottledLoginView(LoginView):
    def post(self, request, *args, **kwargs):
        if login_throttled(request, request.POST.get("username")):
            form = self.get_form_class()(self.request)
            context = self.get_context_data(form=form, throttled=throttled_message())
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)
