"""The MCP session log: what an assistant asked and what it got back, per request.

Rows are account data (a customer's report numbers), so the default manager
fails closed (:mod:`accounts.scoping`): ``McpSessionLog.objects.for_account(account)``
is the normal entry, and the one unscoped escape hatch is spelled ``unscoped()`` —
used only by the admin (which applies its own scoping), retention and the
offboarding purge.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.scoping import AccountScopedManager

VIEW_PERMISSION_CODENAME = "view_mcp_session_logs"
VIEW_PERMISSION = f"maestra_mcp.{VIEW_PERMISSION_CODENAME}"


class McpSessionLog(models.Model):
    """One MCP request: who, through which client, what was asked, what came back.

    Never stored: the bearer token (only its row id), authorization headers,
    cookies, IP addresses. See ``services.session_log_record``.
    """

    class Status(models.TextChoices):
        SUCCESS = "success", "Success"
        ERROR = "error", "Error"  # the tool or protocol answered with an error
        REFUSED = "refused", "Refused"  # token, account, flag or permission said no
        # The unauthenticated 401 every connection starts with: the client learns
        # where to sign in. Not an error, so no error rate or "last request" counts it.
        SIGN_IN = "sign_in", "Sign-in requested"

    # The composite (account, created_at) index below serves the per-account
    # admin list and the offboarding purge, so the FK needs no index of its own.
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # covered by the (user, created_at) index
        help_text="Empty when the request carried no valid token.",
    )
    oauth_client_id = models.CharField("OAuth client id", max_length=255, blank=True)
    oauth_client_name = models.CharField("OAuth client name", max_length=255, blank=True)
    # The AccessToken row id — enough to correlate with a revocation, useless to
    # an attacker. The token text itself is never stored.
    token_id = models.BigIntegerField("token id", null=True, blank=True)
    protocol_version = models.CharField(max_length=32, blank=True)
    method = models.CharField(
        max_length=100, blank=True, help_text="JSON-RPC method, e.g. tools/call."
    )
    tool_name = models.CharField(max_length=100, blank=True)
    params = models.JSONField(null=True, blank=True, help_text="The request parameters.")
    result = models.JSONField(
        null=True, blank=True, help_text="The structured result, or the error payload."
    )
    error = models.TextField(blank=True, help_text="The error message shown to the client.")
    status = models.CharField(max_length=16, choices=Status.choices)
    http_status = models.PositiveSmallIntegerField("HTTP status", null=True, blank=True)
    duration_ms = models.PositiveIntegerField("duration (ms)", default=0)
    user_agent = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AccountScopedManager()

    class Meta:
        app_label = "maestra_mcp"
        verbose_name = "MCP session log"
        verbose_name_plural = "MCP session logs"
        ordering = ["-created_at", "-id"]
        # Read-only data: no add/change/delete permissions to hand out by mistake.
        default_permissions = ()
        permissions = [
            (VIEW_PERMISSION_CODENAME, "Can view MCP session logs of every account (support)"),
        ]
        indexes = [
            # Admin list per account, newest first; the offboarding purge.
            models.Index(fields=["account", "created_at"], name="mcp_log_account_created"),
            # Retention purge (created_at < cut-off) and the time filter.
            models.Index(fields=["created_at"], name="mcp_log_created"),
            models.Index(fields=["user", "created_at"], name="mcp_log_user_created"),
            models.Index(fields=["tool_name", "created_at"], name="mcp_log_tool_created"),
            models.Index(fields=["status", "created_at"], name="mcp_log_status_created"),
        ]

    def __str__(self) -> str:
        what = self.tool_name or self.method or "request"
        return f"{what} · {self.get_status_display()} · {self.created_at:%Y-%m-%d %H:%M:%S}"
