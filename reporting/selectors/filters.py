"""report_filters: the values the report filters accept, for this user."""

from __future__ import annotations

import unicodedata

from django.db.models import Count, Q, QuerySet, Window

from accounts.models import Account
from reporting.metrics import METRIC_DEFINITIONS, METRIC_NAMES
from reporting.models import (
    ActivationType,
    Brand,
    Campaign,
    CampaignBrandStat,
    CampaignFolder,
    Channel,
    Flow,
    FlowBrandStat,
    Goal,
)
from reporting.schemas import NO_FOLDER, FlowRef, ReportFilters, ReportFiltersParams
from reporting.selectors import paging
from reporting.selectors.visibility import reporting_db, visible
from reporting.windows import PERIODS


def _plain_text(text: str) -> str:
    """``text`` without accents (NFKD, combining marks dropped), as unaccent() compares."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _page(rows: QuerySet, query: str | None, limit: int, cursor: str | None, scope: dict):
    """(refs, total, next cursor) of ``rows`` by name then external id, ``query`` applied."""
    if query:
        # unaccent() on the column (the lookup) and in Python on the search: both sides
        # compared without accents, ignoring case.
        text = _plain_text(query.strip())
        rows = rows.filter(Q(name__unaccent__icontains=text) | Q(external_id__icontains=text))
    keys = [paging.SortKey("name"), paging.SortKey("external_id")]
    fingerprint = paging.fingerprint(query=query, **scope)
    shown = 0
    if cursor:
        shown, last = paging.cursor_loads(cursor, query=fingerprint)
        rows = rows.filter(paging.after(keys, last))
    found = list(
        rows.values("external_id", "name")
        .annotate(remaining=Window(Count("*")))
        .order_by(*paging.order_by(keys))[:limit]
    )
    total = shown + (found[0]["remaining"] if found else 0)
    next_cursor = None
    if total > shown + len(found):
        last_row = found[-1]
        next_cursor = paging.cursor_dumps(
            query=fingerprint,
            position=shown + len(found),
            last=[last_row["name"], last_row["external_id"]],
        )
    refs = [FlowRef(id=row["external_id"], name=row["name"]) for row in found]
    return refs, total, next_cursor


def report_filters(
    *,
    account: Account,
    allowed_brands: set[int] | None,
    params: ReportFiltersParams | None = None,
) -> ReportFilters:
    """What the user may filter on (see :mod:`reporting.selectors.visibility`): their
    brands, the goals and folders those use, channels with statistics and activation
    types of existing campaigns (of their brands), and a page of their flows and of
    their campaigns (searched with ``params.query``).

    ``allowed_brands`` is the member's brand scope (None = every brand).
    """
    params = params or ReportFiltersParams()
    # A cursor continues one list of one account, as this member sees it.
    brands = None if allowed_brands is None else sorted(allowed_brands)
    scope = {"account": account.pk, "brands": brands}
    db = reporting_db()
    allowed = allowed_brands

    def of_visible_brands(queryset, brand_field: str):
        queryset = queryset.using(db)
        return queryset if allowed is None else queryset.filter(**{f"{brand_field}__in": allowed})

    def names(model) -> list[str]:
        return list(visible(model, account, allowed).values_list("name", flat=True))

    activation_types = set(
        of_visible_brands(Campaign.objects.for_account(account), "brand_id")
        .values_list("activation_type", flat=True)
        .distinct()
    )
    channels = set()
    for stats, brand_field in (
        (CampaignBrandStat, "brand_id"),
        (FlowBrandStat, "brand_id"),
    ):
        channels |= set(
            of_visible_brands(stats.objects.for_account(account), brand_field)
            .values_list("channel", flat=True)
            .distinct()
            .order_by()
        )
    flows, flows_total, flows_next = _page(
        visible(Flow, account, allowed),
        params.query,
        params.limit,
        params.flows_cursor,
        scope | {"list": "flows"},
    )
    campaigns, campaigns_total, campaigns_next = _page(
        of_visible_brands(Campaign.objects.for_account(account), "brand_id"),
        params.query,
        params.limit,
        params.campaigns_cursor,
        scope | {"list": "campaigns"},
    )
    return ReportFilters(
        brands=names(Brand),
        goals=names(Goal),
        campaign_folders=[*names(CampaignFolder), NO_FOLDER],
        # In the enums' order, which is the order the tools' schemas list them.
        channels=[c for c in Channel.values if c in channels],
        activation_types=[a for a in ActivationType.values if a in activation_types],
        flows=flows,
        flows_total=flows_total,
        flows_next_cursor=flows_next,
        campaigns=campaigns,
        campaigns_total=campaigns_total,
        campaigns_next_cursor=campaigns_next,
        query=params.query,
        periods=list(PERIODS),
        metrics=list(METRIC_NAMES),
        metric_definitions=METRIC_DEFINITIONS,
    )
