"""A report's filters, resolved to the ids of what the member may see.

Names are matched case-insensitively among the brands, goals, folders and
flows the member may see (:mod:`reporting.selectors.visibility`); a name that
does not exist and one the member may not see get the same answer, the list of
valid names.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from django.db.models import Model, Q, QuerySet

from accounts.models import Account
from reporting import schemas
from reporting.errors import ReportError
from reporting.models import Brand, CampaignFolder, Flow, Goal, StatBase
from reporting.selectors.visibility import visible

_MAX_LISTED = 40  # valid values listed in an error message before "… and N more"


def _listing(values: Iterable[str]) -> str:
    values = sorted(values, key=str.lower)
    if not values:
        return "(none)"
    shown = ", ".join(values[:_MAX_LISTED])
    if len(values) > _MAX_LISTED:
        shown += f", … and {len(values) - _MAX_LISTED} more (see list_report_filters)"
    return shown


def closest(value: str, names: Iterable[str], n: int = 3) -> list[str]:
    """The valid names nearest to a mistyped ``value`` (case-insensitive), best first."""
    by_lower = {name.lower(): name for name in names}
    matches = difflib.get_close_matches(value.strip().lower(), list(by_lower), n=n, cutoff=0.6)
    return [by_lower[match] for match in matches]


def _unknown(
    label: str, unknown: list[str], valid: Iterable[str], names: Iterable[str] | None = None
) -> ReportError:
    """``valid``: the values as listed; ``names``: what a typo is matched against (default
    the listed values). Only names the member may see are ever suggested."""
    valid = list(valid)
    names = valid if names is None else list(names)
    shown = []
    for value in unknown:
        near = closest(value, names)
        hint = f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""
        shown.append(f"{value!r}{hint}")
    return ReportError(f"Unknown {label}: {', '.join(shown)}. Valid {label}: {_listing(valid)}.")


def _resolve_names(
    model: type[Model], account: Account, allowed: set[int] | None, requested: list[str], label: str
) -> set[int]:
    """Ids of the named rows the member may see (case-insensitive); other names raise
    with the list of those they may use, whether the name exists or is hidden."""
    rows = list(visible(model, account, allowed).values_list("pk", "name"))
    by_name = {name.lower(): pk for pk, name in rows}
    unknown = [name for name in requested if name.strip().lower() not in by_name]
    if unknown:
        raise _unknown(label, unknown, (name for _, name in rows))
    return {by_name[name.strip().lower()] for name in requested}


def _resolve_flows(account: Account, allowed: set[int] | None, requested: list[str]) -> set[int]:
    """Ids of the flows named by external id or name among those the member may see."""
    rows = list(visible(Flow, account, allowed).values_list("pk", "external_id", "name"))
    by_id = {external_id: pk for pk, external_id, _ in rows}
    by_name: dict[str, set[int]] = {}
    for pk, _, name in rows:
        by_name.setdefault(name.lower(), set()).add(pk)
    found: set[int] = set()
    unknown = []
    for value in requested:
        value = value.strip()
        matches = {by_id[value]} if value in by_id else by_name.get(value.lower())
        if matches:
            found |= matches
        else:
            unknown.append(value)
    if unknown:
        raise _unknown(
            "flows",
            unknown,
            (f"{name} (id {external_id})" for _, external_id, name in rows),
            names=[name for _, _, name in rows] + list(by_id),
        )
    return found


@dataclass(frozen=True)
class Criteria:
    """A report's filters, names resolved to the ids the member may see.

    ``brands``: the brand scope (None = every brand; the member's restriction
    and the ``brands`` filter combined). ``kept``: for each attribute filtered
    on (brand, channel, goal, folder, activation_type, flow), the values a row
    must have; ``unfiled``: the folder filter also keeps unfiled campaigns.
    """

    brands: set[int] | None
    kept: dict[str, Collection]
    unfiled: bool = False

    def rows(self, stats: type[StatBase], db: str, account: Account) -> QuerySet:
        """The rows of ``stats`` (which reaches every filtered attribute) these filters keep."""
        rows = stats.objects.for_account(account).using(db)
        for name, values in self.kept.items():
            path = stats.reach(name)
            condition = Q(**{f"{path}__in": values})
            if name == "folder" and self.unfiled:
                condition |= Q(**{f"{path}__isnull": True})
            rows = rows.filter(condition)
        return rows


def report_criteria(*, account: Account, allowed: set[int] | None, params) -> Criteria:
    """The report's filters (``params``) resolved to what the member may see; unknown or
    hidden names raise :class:`ReportError` listing the valid ones."""
    brands = allowed
    if params.brands:
        brands = _resolve_names(Brand, account, allowed, params.brands, "brands")
    kept: dict[str, Collection] = {} if brands is None else {"brand": brands}
    if params.channels:
        kept["channel"] = sorted(set(params.channels))
    if params.goals:
        kept["goal"] = _resolve_names(Goal, account, allowed, params.goals, "goals")
    if getattr(params, "activation_types", None):
        kept["activation_type"] = params.activation_types
    folders = getattr(params, "folders", None) or []
    named = [f for f in folders if f.strip().lower() != schemas.NO_FOLDER]
    if folders:
        kept["folder"] = _resolve_names(CampaignFolder, account, allowed, named, "folders")
    if getattr(params, "flows", None):
        kept["flow"] = _resolve_flows(account, allowed, params.flows)
    return Criteria(brands=brands, kept=kept, unfiled=len(named) < len(folders))
