"""The one OAuth validator (``OAUTH2_VALIDATOR_CLASS``): DOT's, plus Maestra's rules.

Issuance and validation both run through this class, so the rules hold on every
path (authorization endpoint, token endpoint, refresh, the MCP endpoint's bearer
check):

* only the authorization-code grant (with PKCE, enforced by DOT settings) and
  refresh; nothing else, whatever a dynamically registered client asked for;
  ``offline_access`` is accepted and ignored (refresh tokens are always issued);
* every grant and token is bound to exactly one account's MCP URL (RFC 8707);
  the URL must belong to an existing, non-offboarded account;
* a bearer token is accepted only at exactly that URL — DOT treats tokens
  without a resource as unrestricted and matches by URL prefix; we do neither;
* refresh-token rotation keeps a short grace period for clients that lost a
  refresh response, without storing tokens in clear text (see
  ``_save_bearer_token``);
* a refresh re-asks the access policy for the token's account and user: when
  access has ended (MCP off, MCP Access revoked, membership or user
  deactivated) it is ``invalid_grant``, so a connection does not silently come
  back when access is granted again;
* a replayed authorization code revokes every token issued from it (RFC 6749
  §4.1.2; ``models.ExchangedCode``).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_refresh_token_model,
    revoke_access_token,
)
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from maestra_mcp.oauth.models import ExchangedCode
from maestra_mcp.oauth.resources import account_for_resource, is_server_resource
from permissions.policy import mcp_access_decision

logger = logging.getLogger(__name__)

OFFLINE_ACCESS = "offline_access"

# Grant types any client may use, whatever it registered with.
ALLOWED_GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})

# "Last used" on the connections page is the access token's ``updated`` time,
# bumped at most once per this interval so busy assistants cost one UPDATE a minute.
LAST_USED_RESOLUTION = timedelta(seconds=60)

MESSAGE_UNKNOWN_RESOURCE = (
    "The resource is not the MCP URL of a Maestra account served here "
    "(expected {public_url}/mcp/<account>)."
)
MESSAGE_ONE_RESOURCE = "A token is bound to exactly one account: send one resource (an MCP URL)."
MESSAGE_WRONG_AUDIENCE = "The access token is not valid for this resource."


# What the bearer check, the policy and the session log read of a token, its user
# and its client; the endpoint's query-count test catches a field read beyond these.
_TOKEN_FIELDS = (
    "user__is_active",
    "application__client_id",
    "application__name",
    "expires",
    "scope",
    "resource",
    "updated",
)


def _checksum(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _invalid_target(description: str, request) -> errors.CustomOAuth2Error:
    return errors.CustomOAuth2Error(
        error="invalid_target", description=description, request=request
    )


class MaestraOAuth2Validator(OAuth2Validator):
    # --- what may be issued --------------------------------------------------

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        if grant_type not in ALLOWED_GRANT_TYPES:
            return False
        return super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        """Accept ``offline_access`` and drop it: refresh tokens are always issued.

        Claude has been seen asking for it; refusing the whole request with
        ``invalid_scope`` would fail the connection for a scope that changes nothing.
        ``scopes`` is the request's own list, edited in place so the grant and the
        token carry only real scopes (the default one if nothing else is left).
        """
        if OFFLINE_ACCESS in scopes:
            kept = [scope for scope in scopes if scope != OFFLINE_ACCESS]
            scopes[:] = kept or self.get_default_scopes(client_id, request)
        return super().validate_scopes(client_id, scopes, client, request, *args, **kwargs)

    def _validate_resource_uris(self, request, resources):
        """DOT checks the URI shape; we also require one of our accounts (the allow-list)."""
        super()._validate_resource_uris(request, resources)
        for resource in resources:
            if account_for_resource(resource) is None:
                raise _invalid_target(
                    MESSAGE_UNKNOWN_RESOURCE.format(public_url=settings.MAESTRA_PUBLIC_URL), request
                )

    def _check_and_set_request_resource(self, request):
        """Token endpoint: the resource is the grant's (or refresh token's) one account.

        A client that discovered us through the root metadata sends the bare
        origin as ``resource``; it means "this server", so it is dropped and the
        account bound at consent is inherited, as if the client had sent none.
        """
        resource = getattr(request, "resource", None)
        if isinstance(resource, str) and is_server_resource(resource):
            request.resource = None
        elif isinstance(resource, list):
            request.resource = [r for r in resource if not is_server_resource(r)] or None
        super()._check_and_set_request_resource(request)
        if len(request.resource) != 1:
            raise _invalid_target(MESSAGE_ONE_RESOURCE, request)

    def _create_authorization_code(self, request, code, expires=None):
        # The consent view always binds one account; refuse any other path to a grant
        # (e.g. an application flagged skip_authorization) that would not.
        resources = getattr(request, "resource", None) or []
        if len(resources) != 1:
            raise _invalid_target(MESSAGE_ONE_RESOURCE, request)
        self._validate_resource_uris(request, resources)
        return super()._create_authorization_code(request, code, expires)

    def _save_bearer_token(self, token, request, *args, **kwargs):
        """Rotation grace period that works with hashed token storage.

        DOT's grace period answers a retried refresh with the tokens it issued the
        first time, read back from the database, which is impossible once tokens
        are stored only as checksums (its check E001). Instead, a retry inside the
        grace period (DOT has already verified it is inside it and that the old
        token was superseded by rotation, not revoked) revokes the successor pair
        the client never received and mints a fresh pair in the same family. If the
        successor *was* received and is presented later, it is a revoked token that
        nothing superseded, so DOT's reuse protection revokes the whole family.
        """
        previous = getattr(request, "refresh_token_instance", None)
        if (
            request.grant_type == "refresh_token"
            and isinstance(previous, get_refresh_token_model())
            and previous.revoked is not None
        ):
            successor = (
                get_access_token_model()
                .objects.select_for_update()
                .filter(source_refresh_token=previous)
                .first()
            )
            if successor is not None:
                revoke_access_token(successor)
        return super()._save_bearer_token(token, request, *args, **kwargs)

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous):
        """Also remember which family an exchanged code started (for replay revocation)."""
        refresh_token = super()._create_refresh_token(
            request, refresh_token_code, access_token, previous
        )
        if request.grant_type == "authorization_code":
            ExchangedCode.objects.create(
                code_checksum=_checksum(request.code),
                application=request.client,
                token_family=refresh_token.token_family,
            )
        return refresh_token

    def _load_application(self, client_id, request):
        """DOT's client lookup, for client ids that can exist."""
        if "\x00" in (client_id or ""):
            # No client id holds NUL (PostgreSQL text cannot). DOT answers such an id
            # with "no such client" only when the driver raises ValueError (psycopg2);
            # psycopg 3 raises DataError, which was a 500.
            return None
        return super()._load_application(client_id, request)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        """DOT's check; a code that was exchanged already revokes what it issued."""
        if "\x00" in (code or ""):  # as for client ids above: no code holds one
            return False
        if super().validate_code(client_id, code, client, request, *args, **kwargs):
            return True
        exchanged = ExchangedCode.objects.filter(
            code_checksum=_checksum(code), application=client
        ).first()
        if exchanged is not None:
            logger.warning(
                "Authorization code replayed for client %s: revoking the tokens it issued",
                client.client_id,
            )
            get_refresh_token_model().revoke_family(exchanged.token_family)
        return False

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        """DOT's checks, then the access policy for the token's account and user."""
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        resources = request.refresh_token_instance.resource or []
        account = account_for_resource(resources[0]) if len(resources) == 1 else None
        if account is None:  # offboarded (or never bound): nothing to refresh into
            return False
        decision = mcp_access_decision(user=request.user, account=account)
        if not decision.allowed:
            logger.info(
                "Refresh refused for user %s on %s: %s",
                request.user.pk,
                account.system_name,
                decision.reason.value,
            )
            return False
        return True

    # --- what is accepted ----------------------------------------------------

    def _load_access_token(self, token):
        """DOT's lookup by checksum, with the token's user and client, in one query.

        It runs on every MCP request, so only what the bearer check, the policy
        and the session log read is loaded (``_TOKEN_FIELDS``); the rest of the
        user and client rows (some 40 columns) stays in the database.
        """
        model = get_access_token_model()
        tokens = model.objects.select_related("user", "application").only(*_TOKEN_FIELDS)
        try:
            # get(), not first(): the checksum is unique, and first()'s ORDER BY
            # costs a fifth more ORM work.
            return tokens.get(token_checksum=_checksum(token))
        except model.DoesNotExist:
            return None

    def validate_bearer_token(self, token, scopes, request):
        """Accept a token only at exactly the MCP URL it is bound to.

        ``request.uri`` must be the canonical public MCP URL of the account being
        called (``account.mcp_url``), never a URL rebuilt from the incoming
        request (a proxy may have changed its scheme or host).
        """
        if not super().validate_bearer_token(token, scopes, request):
            return False
        request_uri = (getattr(request, "uri", None) or "").split("?")[0]
        access_token = request.access_token
        if request_uri not in (access_token.resource or []):
            request.oauth2_error = {
                "error": "invalid_token",
                "error_description": MESSAGE_WRONG_AUDIENCE,
            }
            return False
        now = timezone.now()
        # Compared here first so the common case (used within the last minute)
        # issues no write at all: no round trip, no write lock on SQLite.
        if access_token.updated < now - LAST_USED_RESOLUTION:
            type(access_token).objects.filter(
                pk=access_token.pk, updated__lt=now - LAST_USED_RESOLUTION
            ).update(updated=now)
        return True
