"""The staff group of Customer Success Managers, created the same way everywhere.

``python manage.py ensure_csm_group`` (idempotent, run after ``migrate`` on a
deployment) and the demo seed both call :func:`csm_group_ensure`. A CSM is
staff in this group: it switches MCP per account, offboards, manages every
account's team pages (``accounts.access.CSM_PERMISSION``) and reads session logs.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

CSM_GROUP = "Customer Success Managers"

# (app label, codename): permissions are looked up by both, as codenames repeat across apps.
CSM_PERMISSIONS = [
    ("accounts", "change_mcp_feature"),
    ("accounts", "offboard_account"),
    ("accounts", "view_account"),
    ("accounts", "change_account"),
    ("accounts", "view_membership"),
    ("maestra_mcp", "view_mcp_session_logs"),
]


class MissingPermissionsError(RuntimeError):
    """The permissions are created by ``migrate``; run it first."""


def csm_group_ensure() -> Group:
    """Create the group if missing and give it exactly :data:`CSM_PERMISSIONS`.

    Idempotent: a rerun changes nothing; permissions added by hand beyond the
    list are kept (``add``, not ``set``), so a deployment may extend the role.
    """
    wanted = Q()
    for app_label, codename in CSM_PERMISSIONS:
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    permissions = list(Permission.objects.filter(wanted))
    if len(permissions) != len(CSM_PERMISSIONS):
        found = {(p.content_type.app_label, p.codename) for p in permissions}
        missing = ", ".join(f"{a}.{c}" for a, c in CSM_PERMISSIONS if (a, c) not in found)
        raise MissingPermissionsError(f"Permissions not found (run migrate first): {missing}")
    group, _ = Group.objects.get_or_create(name=CSM_GROUP)
    group.permissions.add(*permissions)
    return group
