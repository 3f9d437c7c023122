"""Brands, goals, folders, campaigns and flows, created or updated by an import."""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import Account
from reporting.models import Brand, Campaign, CampaignFolder, Flow, Goal

# A campaign's or flow's attributes that rollup tables are keyed by (reporting.models.ROLLUPS).
_ROLLUP_KEYS = {"brand_id", "folder_id"}


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
    created: dict[str, int] = {}
    moved: dict[str, set[int]] = {}
    for model, kind, fields in (
        (Campaign, "campaign", ["name", "folder_id", "brand_id", "goal_id", "activation_type"]),
        (Flow, "flow", ["name", "brand_id", "goal_id"]),
    ):
        scoped = model.objects.for_account(account)
        existing = {obj.external_id: obj for obj in scoped.only("external_id", *fields)}
        new, changed, moved[kind] = [], [], set()
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
            obj = existing.get(source_id)
            if obj is None:
                new.append(model(external_id=source_id, **{f: values[f] for f in fields}))
                continue
            differing = [field for field in fields if getattr(obj, field) != values[field]]
            if differing:
                if _ROLLUP_KEYS.intersection(differing):
                    moved[kind].add(obj.pk)
                for field in differing:
                    setattr(obj, field, values[field])
                changed.append(obj)
        scoped.bulk_create(new, batch_size=500)
        scoped.bulk_update(changed, fields, batch_size=500)
        created[kind] = len(new)
    return created["campaign"], created["flow"], moved
