"""report_filters: the values the report filters accept, for this user."""

from __future__ import annotations

from accounts.models import Account
from permissions.brand_scope import allowed_brand_ids
from reporting.metrics import METRIC_DEFINITIONS, METRIC_NAMES
from reporting.models import (
    ActivationType,
    Brand,
    Campaign,
    CampaignDailyStat,
    CampaignFolder,
    Channel,
    Flow,
    FlowDailyStat,
    Goal,
)
from reporting.schemas import NO_FOLDER, FlowRef, ReportFilters
from reporting.selectors.reports import reporting_db
from reporting.windows import PERIODS


def report_filters(*, account: Account, user) -> ReportFilters:
    """Brands (only those the user may see), goals, folders, channels with statistics,
    activation types of existing campaigns and flows (of the visible brands)."""
    db = reporting_db()
    allowed = allowed_brand_ids(user=user, account=account)

    def visible(queryset, brand_field: str = "brand_id"):
        queryset = queryset.using(db)
        return queryset if allowed is None else queryset.filter(**{f"{brand_field}__in": allowed})

    brands = visible(Brand.objects.for_account(account), "pk").values_list("name", flat=True)
    goals = Goal.objects.for_account(account).using(db).values_list("name", flat=True)
    folders = CampaignFolder.objects.for_account(account).using(db).values_list("name", flat=True)
    activation_types = set(
        visible(Campaign.objects.for_account(account))
        .values_list("activation_type", flat=True)
        .distinct()
    )
    channels = set()
    for stats, brand_field in (
        (CampaignDailyStat, "campaign__brand_id"),
        (FlowDailyStat, "flow__brand_id"),
    ):
        channels |= set(
            visible(stats.objects.for_account(account), brand_field)
            .values_list("channel", flat=True)
            .distinct()
            .order_by()
        )
    flows = visible(Flow.objects.for_account(account)).values_list("external_id", "name")
    return ReportFilters(
        brands=list(brands),
        goals=list(goals),
        campaign_folders=[*folders, NO_FOLDER],
        # In the enums' order, which is the order the tools' schemas list them.
        channels=[c for c in Channel.values if c in channels],
        activation_types=[a for a in ActivationType.values if a in activation_types],
        flows=[FlowRef(id=external_id, name=name) for external_id, name in flows],
        periods=list(PERIODS),
        metrics=list(METRIC_NAMES),
        metric_definitions=METRIC_DEFINITIONS,
    )
