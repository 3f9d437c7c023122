"""``python manage.py ensure_csm_group``: the Customer Success Managers group (idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from permissions.groups import CSM_PERMISSIONS, MissingPermissionsError, csm_group_ensure


class Command(BaseCommand):
    help = (
        "Create or complete the 'Customer Success Managers' group and its permissions "
        "(run after migrate; safe to rerun). Then add CSM staff users to it in the admin."
    )

    def handle(self, *args, **options) -> None:
        try:
            group = csm_group_ensure()
        except MissingPermissionsError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Group '{group.name}' has its {len(CSM_PERMISSIONS)} permissions; "
                f"{group.user_set.count()} member(s)."
            )
        )
