"""``python manage.py offboard_account SYSTEM_NAME --acting-user USERNAME [--no-input]``."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from maestra_mcp.oauth.selectors import oauth_connections
from maestra_mcp.offboarding import account_offboard
from maestra_mcp.session_logs.selectors import session_logs_of_account

CANCELLED = "Offboarding cancelled; nothing changed."


class Command(BaseCommand):
    help = (
        "Offboard an account: switch MCP off, revoke its OAuth tokens and grants, and "
        "enqueue the purge of its MCP session logs. Shows what it will do and asks for "
        "confirmation (--no-input for scripts). Running it again re-enqueues the purge."
    )

    def add_arguments(self, parser):
        parser.add_argument("system_name")
        parser.add_argument(
            "--acting-user",
            required=True,
            help="Username of the staff member doing this; recorded in the admin log.",
        )
        # Django's own spelling (flush, migrate): --noinput and --no-input.
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation (for scripts).",
        )

    def handle(
        self, *args, system_name: str, acting_user: str, interactive: bool, **options
    ) -> None:
        account = Account.objects.filter(system_name=system_name).first()
        if account is None:
            raise CommandError(f"No account with system name {system_name!r}.")
        user = get_user_model().objects.filter(username=acting_user, is_staff=True).first()
        if user is None:
            raise CommandError(f"No staff user {acting_user!r}.")
        if interactive and not self._confirmed(account):
            raise CommandError(CANCELLED)
        if account_offboard(account=account, acting_user=user):
            self.stdout.write(
                f"Offboarded {system_name}: MCP off, OAuth tokens and grants revoked, "
                "session-log purge enqueued."
            )
        else:
            self.stdout.write(f"{system_name} was already offboarded; purge enqueued again.")

    def _confirmed(self, account: Account) -> bool:
        """Show what offboarding ``account`` does now and ask; anything but "yes" is no."""
        logs = session_logs_of_account(account=account).count()
        if account.offboarded_at is not None:
            plan = [
                f"{account.system_name} was offboarded on {account.offboarded_at:%Y-%m-%d}.",
                f"This enqueues the purge of its {logs} remaining session log(s) again.",
            ]
        else:
            connections = len(oauth_connections(account=account))
            plan = [
                f"Offboard {account.system_name} ({account.name}):",
                f"  - switch MCP off (now {'on' if account.mcp_enabled else 'off'});",
                f"  - revoke the OAuth tokens and grants of {connections} live connection(s);",
                f"  - purge its {logs} MCP session log(s) (in the background).",
            ]
        self.stdout.write("\n".join(plan))
        try:
            answer = input("Type 'yes' to continue, anything else to cancel: ")
        except EOFError:  # stdin closed (a script that forgot --no-input)
            answer = ""
        return answer.strip().lower() == "yes"
