"""BrandRestrictionChange moves from reporting to permissions, rows and all.

The model is taken over in the migration state as it stands on its old table
(no database change), then its table and index are renamed in place, so every
audit row survives. reporting 0005 drops the model from reporting's state only.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_account_offboarding_purge"),
        ("permissions", "0001_initial"),
        # The migration that created the table this one takes over.
        ("reporting", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="BrandRestrictionChange",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("brand_names", models.JSONField(default=list, help_text="The brands the member is limited to; empty = every brand.")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("account", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.account")),
                        ("acting_user", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "ordering": ["-created_at", "-id"],
                        "db_table": "reporting_brandrestrictionchange",
                        "indexes": [
                            models.Index(fields=["account", "user", "-created_at"], name="reporting_b_account_67ced9_idx"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="brandrestrictionchange", table=None),
        migrations.RenameIndex(
            model_name="brandrestrictionchange",
            new_name="perm_brandchange_recent",
            old_name="reporting_b_account_67ced9_idx",
        ),
    ]
