"""BrandRestrictionChange now belongs to permissions (see permissions 0002).

State only: the table, with its rows, was taken over and renamed there.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0004_rollups"),
        ("permissions", "0002_brandrestrictionchange_from_reporting"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="BrandRestrictionChange")],
            database_operations=[],
        ),
    ]
