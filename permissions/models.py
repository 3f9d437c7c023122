"""The audit trail of MCP Access grants and revokes.

The permission itself is a django-guardian object permission (``accounts.use_mcp``
on an Account). This table records who changed it, when and why; the latest
*manual* entry for a member is also what makes an Owner's decision stick when
the member's role is later saved again.
"""

from django.conf import settings
from django.db import models


class McpAccessChange(models.Model):
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

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "MCP Access change"
        indexes = [models.Index(fields=["account", "user", "-created_at"])]

    def __str__(self) -> str:
        verb = "granted" if self.granted else "revoked"
        return f"MCP Access {verb} for {self.user} on {self.account.system_name}"
