"""Accounts (the tenants) and the memberships that tie staff users to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.validators import validate_currency, validate_system_name, validate_timezone


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMINISTRATOR = "administrator", "Administrator"
    ANALYST = "analyst", "Analyst"
    MARKETER = "marketer", "Marketer"
    CONTENT_EDITOR = "content_editor", "Content editor"
    SUPPORT = "support", "Support"


# Roles whose members receive MCP Access automatically when they join or are
# moved to the role (an Owner can still revoke it; see permissions.services).
MCP_DEFAULT_ROLES = frozenset({Role.OWNER, Role.ANALYST, Role.MARKETER})


class Account(models.Model):
    system_name = models.CharField(
        max_length=63,
        unique=True,
        validators=[validate_system_name],
        help_text="Used in URLs, e.g. the MCP connector URL /mcp/<system name>.",
    )
    name = models.CharField("display name", max_length=200)
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text="IANA time zone; report dates are days in this zone.",
    )
    currency = models.CharField(
        max_length=3, default="USD", validators=[validate_currency], help_text="ISO 4217 code."
    )
    mcp_enabled = models.BooleanField(
        "MCP enabled",
        default=False,
        help_text="The per-account MCP feature flag, switched by Customer Success Managers.",
    )
    offboarded_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Completion of the offboarding purge of MCP session logs, for the data-
    # protection record: when it last finished and how many rows it deleted in all.
    session_logs_purged_at = models.DateTimeField(
        "session logs purged at", null=True, blank=True, editable=False
    )
    session_logs_purged_count = models.PositiveBigIntegerField(
        "session logs purged", null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["system_name"]
        permissions = [
            ("use_mcp", "MCP Access: may use the account's data through MCP"),
            ("change_mcp_feature", "Can switch the MCP feature of accounts on or off (CSM)"),
            ("offboard_account", "Can offboard accounts: revoke access, purge MCP data (CSM)"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.system_name})"

    @property
    def is_offboarded(self) -> bool:
        return self.offboarded_at is not None

    @property
    def mcp_url(self) -> str:
        """The connector URL users paste into their assistant."""
        return f"{settings.MAESTRA_PUBLIC_URL}/mcp/{self.system_name}"


class Membership(models.Model):
    """A staff user's place in one account; a user may hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account__system_name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="unique_membership"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.account.system_name}"
