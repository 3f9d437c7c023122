"""The authorization endpoint: DOT's view with Maestra's consent page.

What it adds to DOT's ``AuthorizationView``:

* the page names the client — a known assistant (Claude, ChatGPT, Cursor),
  recognised by its registered redirect URIs or its metadata document's host,
  marked verified; a client ID metadata document's host as its publisher; a
  loopback one as an app on the member's computer; anything else flagged
  *unverified* (``oauth/clients.py``) — the host its answer goes to, the one
  account the connection is for, and what is granted;
* a client_id URL whose metadata document DOT could not use is refused with
  what a usable document is (DOT itself says only "invalid client_id");
* the account is the request's ``resource`` (one account's MCP URL) or, when
  the client sent none (or the server's origin), the one the user picks here —
  never "all accounts";
* the access policy is asked on display and again on approval; when it refuses,
  the page shows its message and nothing is issued;
* PKCE with S256 is refused up front when missing, ``plain`` (DOT would only
  notice ``plain`` after the user had approved) or not an RFC 7636 challenge
  (43-128 characters of the unreserved set; an S256 challenge is 43), and again
  on approval, since the form's hidden fields come back from the browser;
* no automatic approval: ``skip_authorization`` and ``approval_prompt=auto``
  are ignored, so every connection is a deliberate choice of the user.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.http import HttpResponseBadRequest
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.forms import AllowForm
from oauth2_provider.models import get_application_model
from oauth2_provider.views import AuthorizationView
from oauthlib.oauth2.rfc6749.errors import CustomOAuth2Error, InvalidClientIdError

from accounts.models import Account
from accounts.selectors import memberships_of_user
from maestra_mcp.oauth.cimd import document_unusable_message, looks_like_metadata_document
from maestra_mcp.oauth.clients import client_identity
from maestra_mcp.oauth.resources import account_for_resource, is_server_resource
from maestra_mcp.oauth.validators import MESSAGE_ONE_RESOURCE, MESSAGE_UNKNOWN_RESOURCE
from maestra_mcp.oauth.views.headers import deny_framing
from permissions.policy import mcp_access_decision

MESSAGE_PKCE_S256 = "PKCE with code_challenge_method=S256 is required."
MESSAGE_PKCE_CHALLENGE = (
    "code_challenge must be 43-128 characters of A-Z, a-z, 0-9, '-', '.', '_', '~' (RFC 7636)."
)
# RFC 7636 §4.2: code_challenge = 43*128unreserved.
_CODE_CHALLENGE = re.compile(r"[A-Za-z0-9._~-]{43,128}")
MESSAGE_CHOOSE_ACCOUNT = "Choose the account this assistant may read."


class ConsentForm(AllowForm):
    # The chosen account's system name, when the client did not name one.
    account = forms.CharField(required=False, widget=forms.HiddenInput())


def _bound_account(resources: list[str]) -> tuple[Account | None, str | None]:
    """The account the request names, or (None, None) when the user is to choose.

    Returns ``(None, message)`` when the request names something we refuse.
    """
    specific = [r for r in resources if not is_server_resource(r)]
    if not specific:
        return None, None
    if len(specific) > 1:
        return None, MESSAGE_ONE_RESOURCE
    account = account_for_resource(specific[0])
    if account is None:
        return None, MESSAGE_UNKNOWN_RESOURCE.format(public_url=settings.MAESTRA_PUBLIC_URL)
    return account, None


def pkce_problem(challenge: str | None, method: str | None) -> str | None:
    """Why a PKCE challenge is refused (S256 only, RFC 7636's shape), or None."""
    if method != "S256" or not challenge:
        return MESSAGE_PKCE_S256
    if not _CODE_CHALLENGE.fullmatch(challenge):
        return MESSAGE_PKCE_CHALLENGE
    return None


def redirect_target(redirect_uri: str) -> str:
    """Where the answer goes, as the user should read it: a host, or an app's scheme."""
    parts = urlsplit(redirect_uri)
    if parts.scheme in ("http", "https"):
        return parts.hostname or redirect_uri
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"


@method_decorator([never_cache, deny_framing], name="dispatch")
class ConsentView(AuthorizationView):
    template_name = "oauth/consent.html"
    form_class = ConsentForm

    def get(self, request, *args, **kwargs):
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            if isinstance(error.oauthlib_error, InvalidClientIdError) and (
                looks_like_metadata_document(request.GET.get("client_id", ""))
            ):
                error.oauthlib_error.description = document_unusable_message()
            return self.error_response(error, application=None)
        if "login" in request.GET.get("prompt", "").split():
            return self.handle_prompt_login()
        application = get_application_model().objects.get(client_id=credentials["client_id"])

        problem = pkce_problem(
            credentials.get("code_challenge"), credentials.get("code_challenge_method")
        )
        if problem:
            return self._refuse("invalid_request", problem, credentials, application)
        resources = request.GET.getlist("resource")
        account, problem = _bound_account(resources)
        if problem:
            return self._refuse("invalid_target", problem, credentials, application)

        self.oauth2_data = {
            "client_id": credentials["client_id"],
            "redirect_uri": credentials["redirect_uri"],
            "response_type": credentials["response_type"],
            "state": credentials["state"],
            "code_challenge": credentials["code_challenge"],
            "code_challenge_method": credentials["code_challenge_method"],
            "scopes": scopes,
            "resource": account.mcp_url if account else "",
        }
        form = self.get_form()
        return self.render_to_response(self._context(form, application, account))

    def form_valid(self, form):
        application = (
            get_application_model().objects.filter(client_id=form.cleaned_data["client_id"]).first()
        )
        if application is None:
            return HttpResponseBadRequest("Unknown client.")
        if not form.cleaned_data.get("allow"):
            return super().form_valid(form)  # DOT redirects with error=access_denied

        # The hidden fields came back from the browser: decide again from scratch
        # (oauthlib checks neither the challenge's shape nor its method here).
        credentials = {k: form.cleaned_data.get(k) for k in ("redirect_uri", "state")}
        problem = pkce_problem(
            form.cleaned_data.get("code_challenge"), form.cleaned_data.get("code_challenge_method")
        )
        if problem:
            return self._refuse("invalid_request", problem, credentials, application)
        account, problem = _bound_account(form.cleaned_data.get("resource", "").split())
        if problem:
            return self._refuse("invalid_target", problem, credentials, application)
        if account is None:
            account = self._chosen_account(form.cleaned_data.get("account", ""))
            if account is None:
                context = self._context(form, application, None, problem=MESSAGE_CHOOSE_ACCOUNT)
                return self.render_to_response(context, status=400)
        decision = mcp_access_decision(user=self.request.user, account=account)
        if not decision:
            return self.render_to_response(self._context(form, application, account), status=403)
        form.cleaned_data["resource"] = account.mcp_url
        return super().form_valid(form)

    def form_invalid(self, form):
        return HttpResponseBadRequest("Invalid authorization form.")

    # --- helpers ------------------------------------------------------------

    def _chosen_account(self, system_name: str) -> Account | None:
        if not system_name:
            return None
        membership = memberships_of_user(user=self.request.user).filter(
            account__system_name=system_name
        )
        return membership[0].account if membership else None

    def _refuse(self, error_code, description, credentials, application):
        """Send the refusal back to the client (RFC 6749 §4.1.2.1), echoing its state."""
        oauthlib_error = CustomOAuth2Error(
            error=error_code, description=description, state=credentials.get("state")
        )
        error = OAuthToolkitError(error=oauthlib_error, redirect_uri=credentials["redirect_uri"])
        return self.error_response(error, application)

    def _context(self, form, application, account, problem: str = "") -> dict:
        user = self.request.user
        data = form.initial if not form.is_bound else form.cleaned_data
        if account is not None:
            choices = []
            decision = mcp_access_decision(user=user, account=account)
        else:
            choices = [
                (m.account, mcp_access_decision(user=user, account=m.account))
                for m in memberships_of_user(user=user)
            ]
            decision = None
        client = client_identity(application)
        return {
            "form": form,
            "application": application,
            "client": client,
            "client_name": client.name or "An unnamed application",
            "redirect_target": redirect_target(data.get("redirect_uri") or ""),
            "loopback": urlsplit(data.get("redirect_uri") or "").hostname
            in ("127.0.0.1", "::1", "localhost"),
            "account": account,
            "decision": decision,
            "choices": choices,
            "any_allowed": any(d.allowed for _, d in choices),
            "problem": problem,
        }
