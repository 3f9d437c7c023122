"""``python manage.py seed_demo``: the demo accounts, users and data (idempotent)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import Account
from maestra_mcp.demo_stats import seed_demo_stats, seed_large_stats
from permissions.demo import DEMO_PASSWORD, seed_demo_accounts


class Command(BaseCommand):
    help = "Create the demo accounts (acme: MCP on, globex: MCP off) and a user for every role."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--scale",
            choices=["demo", "large"],
            default="demo",
            help="large: also build the benchmark dataset (one account with ~3,000 campaigns "
            "and ~300 flows over 3 years, plus 50 small accounts); use PostgreSQL.",
        )

    def handle(self, *args, **options) -> None:
        logins = seed_demo_accounts()
        # Two years of campaign/flow statistics through the real import; reruns add only
        # the days missing up to yesterday.
        seed_demo_stats()
        if options["scale"] == "large":
            self.stdout.write("Building the benchmark dataset (a few minutes)…")
            seed_large_stats(log=self.stdout.write)
        base = settings.MAESTRA_PUBLIC_URL
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Admin:          {base}/admin/")
        self.stdout.write(f"  Member login:   {base}/login/")
        for account in Account.objects.filter(system_name__in=["acme", "globex"]):
            state = "on" if account.mcp_enabled else "off"
            self.stdout.write(f"  MCP URL ({account.system_name}, MCP {state}): {account.mcp_url}")
        self.stdout.write(f"  Demo logins (password for all: {DEMO_PASSWORD}):")
        width = max(len(login.username) for login in logins)
        for login in logins:
            self.stdout.write(f"    {login.username:<{width}}  {login.description}")
