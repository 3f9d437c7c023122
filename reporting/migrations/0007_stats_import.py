"""How far each account's statistics reach (``StatsImport``), and accent-insensitive search.

Accounts that already have statistics get their row from the day rows present:
the last day with data, ``imported_at`` = when this migration ran (the true
import time was never recorded). ``unaccent`` serves ``list_report_filters``'
search; it ships with PostgreSQL's contrib (the server's and the embedded wheel's).
"""

import django.db.models.deletion
from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations, models

_BACKFILL = """
INSERT INTO reporting_statsimport (account_id, data_through, imported_at)
SELECT account_id, MAX(period_start), now() FROM (
    SELECT account_id, period_start FROM reporting_campaignstat WHERE grain = 'day'
    UNION ALL
    SELECT account_id, period_start FROM reporting_flowstat WHERE grain = 'day'
) AS days GROUP BY account_id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_account_offboarding_purge"),
        ("reporting", "0006_read_model"),
    ]

    operations = [
        UnaccentExtension(),
        migrations.CreateModel(
            name="StatsImport",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("data_through", models.DateField(blank=True, null=True)),
                ("imported_at", models.DateTimeField()),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.account"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("account",), name="reporting_statsimport_one_per_account")
                ],
            },
        ),
        migrations.RunSQL(_BACKFILL, migrations.RunSQL.noop),
    ]
