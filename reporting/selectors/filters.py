"""report_filters: the values the report filters accept, for this user."""

from __future__ import annotations

import unicodedata

from django.db.models import Q, QuerySet

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
from reporting.periods import PERIODS
from reporting.schemas import NO_FOLDER, FlowRef, ReportFilters, ReportFiltersParams
from reporting.selectors.rows import (
    SortKey,
    fingerprint,
    next_cursor,
    read_page,
    visible,
)


def _plain_text(text: str) -> str:
    """``text`` without accents (NFKD, combining marks dropped), as unaccent() compares."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _page(rows: QuerySet, search: str | None, limit: int, cursor: str | None, scope: dict):
    """(refs, total, next cursor) of ``rows`` by name then external id, ``search`` applied."""
    if search:
        # unaccent() on the column (the lookup) and in Python on the search: both sides
        # compared without accents, ignoring case.
        text = _plain_text(search.strip())
        rows = rows.filter(Q(name__unaccent__icontains=text) | Q(external_id__icontains=text))
    keys = [SortKey("name"), SortKey("external_id")]
    query = fingerprint(query=search, **scope)
    shown, found, total = read_page(
        rows.values("external_id", "name"), keys, query=query, cursor=cursor, limit=limit
    )
    cursor = next_cursor(keys, query=query, shown=shown, found=found, total=total)
    refs = [FlowRef(id=row["external_id"], name=row["name"]) for row in found]
    return refs, total, cursor


def report_filters(
    *,
    account: Account,
    allowed_brands: set[int] | None,
    params: ReportFiltersParams | None = None,
) -> ReportFilters:
    """What the user may filter on (see :func:`reporting.selectors.rows.visible`): their
    brands, the goals and folders those use, channels with statistics and activation
    types of existing campaigns (of their brands), and a page of their flows and of
    their campaigns (searched with ``params.query``).

    ``allowed_brands`` is the member's brand scope (None = every brand).
    """
    params = params or ReportFiltersParams()
    # A cursor continues one list of one account, as this member sees it.
    brands = None if allowed_brands is None else sorted(allowed_brands)
    scope = {"account": account.pk, "brands": brands}

    def names(model) -> list[str]:
        return list(visible(model, account, allowed_brands).values_list("name", flat=True))

    campaigns = visible(Campaign, account, allowed_brands)
    activation_types = set(campaigns.values_list("activation_type", flat=True).distinct())
    channels = set()
    for stats in (CampaignBrandStat, FlowBrandStat):
        channels |= set(
            visible(stats, account, allowed_brands)
            .values_list("channel", flat=True)
            .distinct()
            .order_by()
        )
    flows, flows_total, flows_next = _page(
        visible(Flow, account, allowed_brands),
        params.query,
        params.limit,
        params.flows_cursor,
        scope | {"list": "flows"},
    )
    campaigns, campaigns_total, campaigns_next = _page(
        campaigns,
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
