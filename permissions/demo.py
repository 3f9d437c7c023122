"""The demo cast: two accounts and a user for every role, for newcomers and tests.

``seed_demo`` calls :func:`seed_demo_accounts`; it is idempotent, so running it
again only fills in what is missing. It lives in ``permissions/`` because members
are added through ``permissions.services.membership_create``, which gives the
default roles their MCP Access.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction

from accounts.models import Account, Membership, Role
from permissions.groups import csm_group_ensure
from permissions.services import membership_create

DEMO_PASSWORD = "maestra-demo"  # noqa: S105 - documented, public demo password


@dataclass(frozen=True)
class DemoLogin:
    username: str
    description: str


_ACCOUNTS = [
    # system_name, name, timezone, currency, mcp_enabled
    ("acme", "Acme Retail", "Europe/Berlin", "EUR", True),
    ("globex", "Globex Fashion", "America/New_York", "USD", False),
]

_MEMBERS = [
    # username, account, role
    ("owner@acme.test", "acme", Role.OWNER),
    ("administrator@acme.test", "acme", Role.ADMINISTRATOR),
    ("analyst@acme.test", "acme", Role.ANALYST),
    ("marketer@acme.test", "acme", Role.MARKETER),
    ("editor@acme.test", "acme", Role.CONTENT_EDITOR),
    ("support@acme.test", "acme", Role.SUPPORT),
    ("owner@globex.test", "globex", Role.OWNER),
    ("marketer@globex.test", "globex", Role.MARKETER),
    ("agency@partner.test", "acme", Role.MARKETER),
    ("agency@partner.test", "globex", Role.ANALYST),
]


def _user(username: str, **flags):
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"email": username, **flags}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def seed_demo_accounts() -> list[DemoLogin]:
    accounts = {}
    for system_name, name, timezone, currency, mcp_enabled in _ACCOUNTS:
        accounts[system_name], _ = Account.objects.get_or_create(
            system_name=system_name,
            defaults={
                "name": name,
                "timezone": timezone,
                "currency": currency,
                "mcp_enabled": mcp_enabled,
            },
        )

    logins = [
        DemoLogin("admin@maestra.test", "platform superuser (/admin/)"),
        DemoLogin("csm@maestra.test", "Customer Success Manager: may switch MCP (/admin/)"),
        DemoLogin("staff@maestra.test", "other staff: sees accounts, cannot switch MCP (/admin/)"),
    ]
    _user("admin@maestra.test", is_staff=True, is_superuser=True)
    _user("csm@maestra.test", is_staff=True).groups.add(csm_group_ensure())
    staff = _user("staff@maestra.test", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="accounts", codename__in=["view_account", "view_membership"]
        )
    )

    roles: dict[str, list[str]] = {}
    for username, system_name, role in _MEMBERS:
        user = _user(username)
        account = accounts[system_name]
        if not Membership.objects.filter(user=user, account=account).exists():
            membership_create(account=account, user=user, role=role)
        roles.setdefault(username, []).append(f"{role.label} of {system_name}")
    logins += [DemoLogin(username, ", ".join(r)) for username, r in roles.items()]
    return logins
