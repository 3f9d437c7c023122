"""What a report reads: the statistics rows its filters keep, grouped for a breakdown, a
page at a time.

Filter names are matched case-insensitively among the brands, goals, folders and
flows the member may see (:func:`visible`); a name that does not exist and one
the member may not see get the same answer, the list of valid names. Rows are
read from the coarsest table that has every attribute filtered on or grouped by
(:meth:`Kind.table`), and paged by keyset cursors (:func:`read_page`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.db.models import Count, F, Model, OuterRef, Q, QuerySet, Subquery, Value, Window
from django.db.models.functions import Coalesce

from accounts.models import Account
from reporting import schemas
from reporting.errors import ReportError
from reporting.models import ROLLUPS, Brand, Campaign, CampaignFolder, Flow, Goal, Grain, StatBase
from reporting.periods import DateWindow, cover


def reporting_db() -> str:
    """The database alias reports read from (a read replica in production)."""
    return settings.REPORTING_DATABASE_ALIAS


# The member's brands, and what those brands use


def visible(model: type, account: Account, allowed: set[int] | None) -> QuerySet:
    """``model``'s rows of ``account`` the member may see: brands, goals, folders, or rows
    of a brand (campaigns, flows, per-brand statistics).

    ``allowed`` is what ``permissions.brand_scope.allowed_brand_ids`` returns (None =
    every brand). A brand-restricted member sees only their brands, and of the other
    dimensions only what those brands use: the goals of their campaigns and flows, the
    folders holding their campaigns, their campaigns and flows. Filters,
    ``list_report_filters`` and the valid values an error names all come from here, so a
    restricted member never learns the names of another brand's goals, folders or flows.
    """
    rows = model.objects.for_account(account).using(reporting_db())
    if allowed is None:
        return rows
    if model is Brand:
        return rows.filter(pk__in=allowed)
    if model not in (CampaignFolder, Goal):
        return rows.filter(brand_id__in=allowed)
    campaigns = Campaign.objects.for_account(account).filter(brand_id__in=allowed)
    if model is CampaignFolder:
        return rows.filter(pk__in=campaigns.values("folder_id"))
    flows = Flow.objects.for_account(account).filter(brand_id__in=allowed)
    return rows.filter(Q(pk__in=campaigns.values("goal_id")) | Q(pk__in=flows.values("goal_id")))


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


# The rows a report's filters keep


@dataclass(frozen=True)
class Kind:
    """What differs between the campaign and the flow report."""

    source: str  # "campaign" or "flow": the rows' link, and the breakdown by it
    sources: type[Model]  # Campaign or Flow
    tables: tuple[type[StatBase], ...]  # its statistics tables, coarsest first

    def table(self, needs: Collection[str]) -> type[StatBase]:
        """The coarsest table that reaches every attribute a report filters on or groups by."""
        return next(table for table in self.tables if all(map(table.reach, needs)))


CAMPAIGNS = Kind(source="campaign", sources=Campaign, tables=ROLLUPS["campaign"])
FLOWS = Kind(source="flow", sources=Flow, tables=ROLLUPS["flow"])


@dataclass(frozen=True)
class Criteria:
    """A report's filters, names resolved to the ids the member may see.

    ``brands``: the brand scope (None = every brand; the member's restriction
    and the ``brands`` filter combined). ``kept``: for each attribute filtered
    on (brand, channel, goal, folder, activation_type, flow), the values a row
    must have; ``unfiled``: the folder filter also keeps unfiled campaigns.
    """

    account: Account
    brands: set[int] | None
    kept: dict[str, Collection]
    unfiled: bool = False

    def rows(self, kind: Kind, *grouped_by: str) -> QuerySet:
        """The rows these filters keep, of the coarsest of ``kind``'s tables that reaches
        every attribute they filter on and ``grouped_by``."""
        stats = kind.table([*self.kept, *grouped_by])
        rows = stats.objects.for_account(self.account).using(reporting_db())
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
    return Criteria(account, brands, kept, unfiled=len(named) < len(folders))


def in_window(window: DateWindow, coarsest: str = Grain.YEAR) -> Q:
    """The rows that cover ``window`` exactly once, none coarser than ``coarsest``
    (:func:`reporting.periods.cover`): each (grain, first, last) selects that grain's
    rows starting between first and last."""
    condition = Q()
    for grain, first, last in cover(window.date_from, window.date_to, coarsest):
        condition |= Q(grain=grain, period_start__range=(first, last))
    return condition


@dataclass(frozen=True)
class Groups:
    """Rows grouped for a breakdown by ``by``: ``values`` annotated with ``names`` (after
    the aggregates) has ``key`` and ``name``; ``tie`` is the unique column that ends the
    ordering (the source's id, or ``key``) and ``path`` the row field a group is
    identified by (to exclude groups)."""

    values: QuerySet
    names: dict
    tie: str
    path: str


def groups(kind: Kind, account: Account, rows: QuerySet, by: str) -> Groups:
    """``rows`` grouped by ``by``: the campaign or flow, or a brand, folder or channel."""
    if by == kind.source:
        # Grouped by the campaign's or flow's id, its external id and name looked up per
        # group: joined to every row before grouping, they made a 3-year breakdown
        # hash ~100,000 rows on two text columns. Same-name ties go by that id.
        source = kind.sources.objects.for_account(account).filter(pk=OuterRef(kind.source))
        names = {
            "key": Subquery(source.values("external_id").order_by()),
            "name": Subquery(source.values("name").order_by()),
        }
        return Groups(rows.values(kind.source), names, tie=kind.source, path=kind.source)
    path = rows.model.reach(by)
    key = path if by == "channel" else f"{path}__name"
    name = Coalesce(F(key), Value(schemas.NO_FOLDER)) if by == "folder" else F(key)
    return Groups(rows.values(key=F(key), name=name), {}, tie="key", path=key)


# Pages: keyset cursors
#
# A cursor is the position reached and the last row's sort values, signed with the
# site's secret (``django.core.signing``) together with a fingerprint of the query
# it came from: a cursor edited by hand fails the signature, and one replayed with
# other arguments (another window, filter, sort or account) fails the fingerprint;
# both get a ReportError telling the assistant what to do. The next page is the
# rows strictly after those sort values in the same total ordering, so it neither
# repeats nor skips a row, whatever ties the sort has.

_SALT = "reporting.paging"

BAD_CURSOR = (
    "The cursor is not valid (it must be passed back exactly as a previous answer's "
    "next_cursor). Repeat the call without cursor to start from the first page."
)
OTHER_QUERY = (
    "The cursor belongs to a different query: pass it with exactly the arguments of the call "
    "that returned it (only cursor changes), or drop cursor to start from the first page."
)


@dataclass(frozen=True)
class SortKey:
    """One column of a total ordering: its alias, direction and where nulls go."""

    alias: str
    descending: bool = False
    nulls_last: bool = True

    def order_by(self):
        nulls = {"nulls_last": True} if self.nulls_last else {"nulls_first": True}
        column = F(self.alias)
        return column.desc(**nulls) if self.descending else column.asc(**nulls)


def fingerprint(**query) -> str:
    """A short digest of everything that defines a listing (not the cursor itself)."""
    text = json.dumps(query, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _cursor_dumps(*, query: str, position: int, last: list) -> str:
    plain = [{"d": str(v)} if isinstance(v, Decimal) else v for v in last]
    return signing.dumps({"q": query, "n": position, "v": plain}, salt=_SALT, compress=True)


def _cursor_loads(cursor: str, *, query: str) -> tuple[int, list]:
    """(rows already shown, the last one's sort values); raises ReportError if invalid."""
    try:
        payload = signing.loads(cursor, salt=_SALT)
    except signing.BadSignature:
        raise ReportError(BAD_CURSOR) from None
    if payload.get("q") != query:
        raise ReportError(OTHER_QUERY)
    return payload["n"], [Decimal(v["d"]) if isinstance(v, dict) else v for v in payload["v"]]


def _equal(key: SortKey, value) -> Q:
    return Q(**{f"{key.alias}__isnull": True}) if value is None else Q(**{key.alias: value})


def _strictly_after(key: SortKey, value) -> Q | None:
    if value is None:  # only the non-null values follow a null placed first
        return None if key.nulls_last else Q(**{f"{key.alias}__isnull": False})
    after = Q(**{f"{key.alias}__{'lt' if key.descending else 'gt'}": value})
    return after | Q(**{f"{key.alias}__isnull": True}) if key.nulls_last else after


def _after(keys: list[SortKey], last: list) -> Q | None:
    """The rows strictly after ``last`` in the ordering ``keys``; None when none can be."""
    condition = None
    for index, key in enumerate(keys):
        step = _strictly_after(key, last[index])
        if step is None:
            continue
        for previous, value in zip(keys[:index], last[:index], strict=True):
            step &= _equal(previous, value)
        condition = step if condition is None else condition | step
    return condition


def read_page(
    rows: QuerySet, keys: list[SortKey], *, query: str, cursor: str | None, limit: int
) -> tuple[int, list[dict], int]:
    """(rows shown before ``cursor``, the next ``limit`` of ``rows`` in the order ``keys``,
    how many there are in all); ``query`` is the fingerprint the cursor must carry."""
    shown = 0
    if cursor:
        shown, last = _cursor_loads(cursor, query=query)
        condition = _after(keys, last)
        rows = rows.filter(condition) if condition is not None else rows.none()
    # Counted over the rows after the cursor, before the limit cuts them.
    rows = rows.annotate(remaining=Window(Count("*")))
    found = list(rows.order_by(*(key.order_by() for key in keys))[:limit])
    return shown, found, shown + (found[0]["remaining"] if found else 0)


def next_cursor(keys: list[SortKey], *, query: str, shown: int, found: list[dict], total: int):
    """The cursor continuing after ``found`` (shown after ``shown`` others), or None at the end."""
    if total <= shown + len(found):
        return None
    last = [found[-1][key.alias] for key in keys]
    return _cursor_dumps(query=query, position=shown + len(found), last=last)
