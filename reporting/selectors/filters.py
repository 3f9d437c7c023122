"""report_filters: the values the report filters accept, for this user."""

from __future__ import annotations

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
from reporting.schemas import NO_FOLDER, FlowRef, ReportFilters
from reporting.selectors.visibility import reporting_db, visible
from reporting.windows import PERIODS


def report_filters(*, account: Account, allowed_brands: set[int] | None) -> ReportFilters:
    """What the user may filter on (see :mod:`reporting.selectors.visibility`): their
    brands, the goals and folders those use, channels with statistics and activation
    types of existing campaigns (of their brands), and their flows.

    ``allowed_brands`` is the member's brand scope (None = every brand).
    """
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
    flows = visible(Flow, account, allowed).values_list("external_id", "name")
    return ReportFilters(
        brands=names(Brand),
        goals=names(Goal),
        campaign_folders=[*names(CampaignFolder), NO_FOLDER],
        # In the enums' order, which is the order the tools' schemas list them.
        channels=[c for c in Channel.values if c in channels],
        activation_types=[a for a in ActivationType.values if a in activation_types],
        flows=[FlowRef(id=external_id, name=name) for external_id, name in flows],
        periods=list(PERIODS),
        metrics=list(METRIC_NAMES),
        metric_definitions=METRIC_DEFINITIONS,
    )
