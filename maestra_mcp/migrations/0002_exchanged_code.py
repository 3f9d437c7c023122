# Written by hand: makemigrations would emit swappable_dependency(settings.
# OAUTH2_PROVIDER_APPLICATION_MODEL), a setting this project leaves to DOT's default.
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from oauth2_provider.settings import oauth2_settings


class Migration(migrations.Migration):
    dependencies = [
        ("maestra_mcp", "0001_initial"),
        ("oauth2_provider", "0022_refreshtoken_token_family_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="ExchangedCode",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code_checksum", models.CharField(max_length=64, unique=True)),
                ("token_family", models.UUIDField()),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=oauth2_settings.APPLICATION_MODEL,
                    ),
                ),
            ],
            options={"default_permissions": ()},
        ),
    ]
