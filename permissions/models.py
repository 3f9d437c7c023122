"""The audit trails of MCP Access and of brand restrictions.

Both permissions are django-guardian object permissions (``accounts.use_mcp`` on
an Account, ``reporting.view_brand_reports`` on a Brand). These tables record who
changed them, when and why. Rows are account data, reached through
``Model.objects.for_account(account)`` (see :mod:`accounts.scoping`).
"""

from django.conf import settings
from django.db import models

from accounts.scoping import AccountScopedManager


class McpAccessChange(models.Model):
    """One grant or revoke of MCP Access; the latest *manual* entry for a member is
    also what makes an Owner's decision stick when the member's role is saved again."""

    class Source(models.TextChoices):
        ROLE_DEFAULT = "role_default", "Granted by role default"
        MANUAL = "manual", "Changed by a person"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="mcp_access_changes"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mcp_access_changes"
    )
    granted = models.BooleanField()
    source = models.CharField(max_length=16, choices=Source.choices)
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who made the change; empty for automatic grants.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AccountScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "MCP Access change"
        indexes = [models.Index(fields=["account", "user", "-created_at"])]

    def __str__(self) -> str:
        verb = "granted" if self.granted else "revoked"
        return f"MCP Access {verb} for {self.user} on {self.account.system_name}"


class BrandRestrictionChange(models.Model):
    """One change of the brands a member is limited to (see ``permissions.brand_scope``)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    brand_names = models.JSONField(
        default=list, help_text="The brands the member is limited to; empty = every brand."
    )
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AccountScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "user", "-created_at"], name="perm_brandchange_recent")
        ]

    def __str__(self) -> str:
        return f"brands of {self.user_id}: {', '.join(self.brand_names) or 'all'}"
