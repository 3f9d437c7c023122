"""What of an account's brands, goals, folders and flows a member may see.

A brand-restricted member sees only the brands they are granted, and of the
other dimensions only what those brands use: the goals of their campaigns and
flows, the folders holding their campaigns, their flows. The report filters,
the values ``list_report_filters`` lists and the valid values an error message
names all come from here, so a restricted member never learns the names of
another brand's goals, folders or flows. ``allowed`` is what
``permissions.brand_scope.allowed_brand_ids`` returns: None = every brand.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet

from accounts.models import Account
from reporting.models import Brand, Campaign, CampaignFolder, Flow, Goal


def reporting_db() -> str:
    """The database alias reports read from (a read replica in production)."""
    return settings.REPORTING_DATABASE_ALIAS


def visible(model: type, account: Account, allowed: set[int] | None) -> QuerySet:
    """``model``'s rows of ``account`` (Brand, Goal, CampaignFolder or Flow) the member may see."""
    rows = model.objects.for_account(account).using(reporting_db())
    if allowed is None:
        return rows
    if model is Brand:
        return rows.filter(pk__in=allowed)
    if model is Flow:
        return rows.filter(brand_id__in=allowed)
    campaigns = Campaign.objects.for_account(account).filter(brand_id__in=allowed)
    if model is CampaignFolder:
        return rows.filter(pk__in=campaigns.values("folder_id"))
    if model is Goal:
        flows = Flow.objects.for_account(account).filter(brand_id__in=allowed)
        return rows.filter(
            Q(pk__in=campaigns.values("goal_id")) | Q(pk__in=flows.values("goal_id"))
        )
    raise TypeError(f"no visibility rule for {model.__name__}")
