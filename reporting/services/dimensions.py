"""Brands, goals, folders, campaigns and flows, created or updated by an import."""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import Account
from reporting.models import Brand, Campaign, CampaignFolder, Flow, Goal

# A campaign's or flow's attributes that rollup tables are keyed by (reporting.models.ROLLUPS).
_ROLLUP_KEYS = ("brand_id", "folder_id")


def _dimension_ids(model, account: Account, names: Iterable[str]) -> dict[str, int]:
    """Ids by lower-cased name, creating the missing ones (first spelling seen wins)."""
    wanted: dict[str, str] = {}
    for name in names:
        if name:
            wanted.setdefault(name.lower(), name)
    scoped = model.objects.for_account(account)
    existing = {name.lower(): pk for pk, name in scoped.values_list("pk", "name")}
    missing = [model(name=name) for key, name in wanted.items() if key not in existing]
    if missing:
        for obj in scoped.bulk_create(missing):
            existing[obj.name.lower()] = obj.pk
    return existing


def dimensions_upsert(
    *, account: Account, sources: dict[tuple[str, str], tuple[str, str, str, str, str]]
) -> tuple[int, int, dict[str, set[int]]]:
    """Create or update brands, goals, folders, campaigns and flows; latest row wins.

    Returns the campaigns and flows created, and per kind the ids of those whose
    brand or folder changed (their per-brand and per-folder rollups must move).
    """
    attrs = sources.values()
    brands = _dimension_ids(Brand, account, (a[2] for a in attrs))
    goals = _dimension_ids(Goal, account, (a[3] for a in attrs))
    folders = _dimension_ids(CampaignFolder, account, (a[1] for a in attrs))
    created = []
    moved: dict[str, set[int]] = {"campaign": set(), "flow": set()}
    for model, kind, fields in (
        (Campaign, "campaign", ["name", "folder_id", "brand_id", "goal_id", "activation_type"]),
        (Flow, "flow", ["name", "brand_id", "goal_id"]),
    ):
        wanted = {}
        for (row_kind, source_id), attributes in sources.items():
            if row_kind != kind:
                continue
            name, folder, brand, goal, activation_type = attributes
            values = {
                "name": name,
                "folder_id": folders[folder.lower()] if folder else None,
                "brand_id": brands[brand.lower()],
                "goal_id": goals[goal.lower()],
                "activation_type": activation_type,
            }
            wanted[source_id] = {field: values[field] for field in fields}
        scoped = model.objects.for_account(account)
        existing = {obj.external_id: obj for obj in scoped.only("external_id", *fields)}
        new = [
            model(external_id=source_id, **values)
            for source_id, values in wanted.items()
            if source_id not in existing
        ]
        changed = []
        for source_id, values in wanted.items():
            obj = existing.get(source_id)
            if obj is not None and any(getattr(obj, f) != v for f, v in values.items()):
                if any(getattr(obj, f) != values[f] for f in _ROLLUP_KEYS if f in fields):
                    moved[kind].add(obj.pk)
                for field, value in values.items():
                    setattr(obj, field, value)
                changed.append(obj)
        scoped.bulk_create(new, batch_size=500)
        model.objects.for_account(account).bulk_update(changed, fields, batch_size=500)
        created.append(len(new))
    return created[0], created[1], moved
