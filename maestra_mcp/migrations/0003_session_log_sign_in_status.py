"""A status of its own for the unauthenticated 401 that starts every sign-in.

Rows written before it were "refused": those with no token and no user answered
with the sign-in challenge's message are re-labelled, so the admin's error rate
stops counting past sign-ins too. The message is copied here, not imported, as
a migration must not change when the code does.
"""

from django.db import migrations, models

# maestra_mcp.mcp_server.endpoint.MESSAGE_UNAUTHENTICATED when this migration was written.
CHALLENGE_MESSAGE = (
    "Authentication required: connect this MCP server from your assistant to sign in to Maestra."
)


def relabel_challenges(apps, schema_editor):
    log = apps.get_model("maestra_mcp", "McpSessionLog")
    # Historical models get a plain manager, not the account-scoped one.
    log.objects.filter(
        status="refused",
        http_status=401,
        user__isnull=True,
        token_id__isnull=True,
        error=CHALLENGE_MESSAGE,
    ).update(status="sign_in")


def restore_refused(apps, schema_editor):
    apps.get_model("maestra_mcp", "McpSessionLog").objects.filter(status="sign_in").update(
        status="refused"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("maestra_mcp", "0002_exchanged_code"),
    ]

    operations = [
        migrations.AlterField(
            model_name="mcpsessionlog",
            name="status",
            field=models.CharField(
                choices=[
                    ("success", "Success"),
                    ("error", "Error"),
                    ("refused", "Refused"),
                    ("sign_in", "Sign-in requested"),
                ],
                max_length=16,
            ),
        ),
        migrations.RunPython(relabel_challenges, restore_refused),
    ]
