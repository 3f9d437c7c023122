"""BrandRestrictionChange moved from reporting to permissions with every audit row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from permissions.models import BrandRestrictionChange

BEFORE = [("permissions", "0001_initial"), ("reporting", "0004_rollups")]
AFTER = [
    ("permissions", "0002_brandrestrictionchange_from_reporting"),
    ("reporting", "0005_brandrestrictionchange_to_permissions"),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()  # what the previous run applied or unapplied
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


# PostgreSQL runs the schema changes inside the test's transaction, so they are
# rolled back with it.
@pytest.mark.django_db
def test_audit_rows_survive_the_move(cast):
    acme, owner = cast.acme, cast.user("owner@acme.test")
    old_apps = migrate(BEFORE)
    old_model = old_apps.get_model("reporting", "BrandRestrictionChange")
    old_model.objects.create(account_id=acme.pk, user_id=owner.pk, brand_names=["Home"])

    migrate(AFTER)

    moved = BrandRestrictionChange.objects.for_account(acme).get()
    assert (moved.user_id, moved.brand_names) == (owner.pk, ["Home"])
    # The id sequence came along: a new row follows the moved one.
    added = BrandRestrictionChange.objects.for_account(acme).create(user=owner, brand_names=[])
    assert added.pk > moved.pk
