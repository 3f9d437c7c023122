"""``python manage.py offboard_account SYSTEM_NAME --acting-user USERNAME``."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from maestra_mcp.offboarding import account_offboard


class Command(BaseCommand):
    help = (
        "Offboard an account: switch MCP off, revoke its OAuth tokens and grants, and "
        "enqueue the purge of its MCP session logs. Running it again re-enqueues the purge."
    )

    def add_arguments(self, parser):
        parser.add_argument("system_name")
        parser.add_argument(
            "--acting-user",
            required=True,
            help="Username of the staff member doing this; recorded in the admin log.",
        )

    def handle(self, *args, system_name: str, acting_user: str, **options) -> None:
        account = Account.objects.filter(system_name=system_name).first()
        if account is None:
            raise CommandError(f"No account with system name {system_name!r}.")
        user = get_user_model().objects.filter(username=acting_user, is_staff=True).first()
        if user is None:
            raise CommandError(f"No staff user {acting_user!r}.")
        if account_offboard(account=account, acting_user=user):
            self.stdout.write(
                f"Offboarded {system_name}: MCP off, OAuth tokens and grants revoked, "
                "session-log purge enqueued."
            )
        else:
            self.stdout.write(f"{system_name} was already offboarded; purge enqueued again.")
