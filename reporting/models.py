"""Campaign and flow performance data: the dimensions and the daily statistics.

Every model belongs to one account and is reached through
``Model.objects.for_account(account)`` (see :mod:`accounts.scoping`).

Statistics are rows of counts per (account, grain, period, campaign or flow or
brand, channel), written only by the import (:mod:`reporting.services`). Campaign
and flow statistics live in separate tables so each report scans only its own
rows, and every table keeps a non-null key inside its unique key.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from accounts.scoping import AccountScopedManager


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    MOBILE_PUSH = "mobile_push", "Mobile push"
    WEB_PUSH = "web_push", "Web push"
    VIBER = "viber", "Viber"
    WHATSAPP = "whatsapp", "WhatsApp"


class ActivationType(models.TextChoices):
    ONE_TIME = "one_time", "One-time"
    SCHEDULED = "scheduled", "Scheduled"
    RECURRING = "recurring", "Recurring"
    TRIGGER = "trigger", "Trigger"
    API = "api", "API"


class AccountScopedModel(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")

    objects = AccountScopedManager()

    class Meta:
        abstract = True


class _NamedDimension(AccountScopedModel):
    """A name created on first sight by the import; unique per account, ignoring case."""

    name = models.CharField(max_length=100)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Brand(_NamedDimension):
    class Meta(_NamedDimension.Meta):
        constraints = [
            models.UniqueConstraint("account", Lower("name"), name="reporting_brand_unique_name"),
        ]
        permissions = [
            (
                "view_brand_reports",
                "Limited to this brand's reports (a member with none of these sees every brand)",
            ),
        ]


class CampaignFolder(_NamedDimension):
    class Meta(_NamedDimension.Meta):
        constraints = [
            models.UniqueConstraint("account", Lower("name"), name="reporting_folder_unique_name"),
        ]


class Goal(_NamedDimension):
    class Meta(_NamedDimension.Meta):
        constraints = [
            models.UniqueConstraint("account", Lower("name"), name="reporting_goal_unique_name"),
        ]


class Campaign(AccountScopedModel):
    # RESTRICT, not PROTECT: a brand, goal or folder in use cannot be deleted on its
    # own, but deleting the whole account (offboarding, purge) cascades through all.
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=255)
    folder = models.ForeignKey(
        CampaignFolder, on_delete=models.RESTRICT, null=True, blank=True, related_name="+"
    )
    brand = models.ForeignKey(Brand, on_delete=models.RESTRICT, related_name="+")
    goal = models.ForeignKey(Goal, on_delete=models.RESTRICT, related_name="+")
    activation_type = models.CharField(max_length=16, choices=ActivationType.choices)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "external_id"], name="reporting_campaign_unique_external_id"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Flow(AccountScopedModel):
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=255)
    brand = models.ForeignKey(Brand, on_delete=models.RESTRICT, related_name="+")
    goal = models.ForeignKey(Goal, on_delete=models.RESTRICT, related_name="+")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "external_id"], name="reporting_flow_unique_external_id"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Grain(models.TextChoices):
    """The period a statistics row covers; ``period_start`` is its first day."""

    DAY = "day", "Day"
    WEEK = "week", "ISO week (from Monday)"
    MONTH = "month", "Calendar month"


def _fact_key(model) -> models.ForeignKey:
    """A statistics row's key: no database constraint, no index of its own.

    PostgreSQL checks a constraint with one trigger query per inserted row, which
    made a 1M-row import several times slower. Integrity holds by construction
    (the import writes only rows joined to an existing campaign, flow or brand of
    the account) and Django still cascades deletes. The composite unique key of
    each table leads with the account and serves every read.
    """
    return models.ForeignKey(
        model, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )


# The counts a statistics file gives for each day (opens and clicks may be empty:
# not tracked), then the partial sums every row also keeps (see StatBase): together,
# the columns every statistics row sums.
IMPORTED_COUNTS = (
    "sends",
    "delivered",
    "bounces",
    "opens",
    "clicks",
    "unsubscribes",
    "spam_complaints",
    "orders",
    "revenue",
)
PARTIAL_SUMS = ("opens_delivered", "clicks_delivered", "both_opens", "both_clicks")
SUMMED_COLUMNS = (*IMPORTED_COUNTS, *PARTIAL_SUMS)


class StatBase(AccountScopedModel):
    """Counts of one channel over one day, ISO week or month (``grain``).

    Day rows are the imported statistics; week and month rows are their sums,
    recomputed by the import (:mod:`reporting.services.rollups`) in the same
    transaction. A report reads, for each part of its window, the coarsest rows
    that fit (:func:`reporting.periods.cover`): about (buckets x groups) rows,
    however long the window.

    ``opens`` and ``clicks`` are NULL where the channel does not track them (SMS
    has no opens): "not tracked" is not zero. The partial sums make the
    conditional rates exact over any set of rows: ``opens_delivered`` /
    ``clicks_delivered`` are the delivered of rows tracking opens / clicks,
    ``both_opens`` / ``both_clicks`` the opens and clicks of rows tracking both.
    """

    grain = models.CharField(max_length=5, choices=Grain.choices)
    period_start = models.DateField()
    channel = models.CharField(max_length=16, choices=Channel.choices)
    sends = models.BigIntegerField()
    delivered = models.BigIntegerField()
    bounces = models.BigIntegerField()
    opens = models.BigIntegerField(null=True, blank=True)
    clicks = models.BigIntegerField(null=True, blank=True)
    unsubscribes = models.BigIntegerField()
    spam_complaints = models.BigIntegerField()
    orders = models.BigIntegerField()
    revenue = models.DecimalField(max_digits=20, decimal_places=2)
    opens_delivered = models.BigIntegerField(null=True, blank=True)
    clicks_delivered = models.BigIntegerField(null=True, blank=True)
    both_opens = models.BigIntegerField(null=True, blank=True)
    both_clicks = models.BigIntegerField(null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.grain} {self.period_start} {self.channel}"


def _unique_key(key: str, name: str) -> models.UniqueConstraint:
    # INCLUDE the counts: a report reads one account's slice of the index, never the
    # heap (an index-only scan), whichever accounts share the table.
    return models.UniqueConstraint(
        fields=["account", "grain", "period_start", key, "channel"],
        include=SUMMED_COLUMNS,
        name=name,
    )


class CampaignStat(StatBase):
    """One campaign on one channel over a day, week or month."""

    account = _fact_key("accounts.Account")
    campaign = _fact_key(Campaign)

    class Meta:
        constraints = [_unique_key("campaign", "reporting_campaignstat_unique")]


class FlowStat(StatBase):
    """One flow on one channel over a day, week or month."""

    account = _fact_key("accounts.Account")
    flow = _fact_key(Flow)

    class Meta:
        constraints = [_unique_key("flow", "reporting_flowstat_unique")]


class CampaignBrandStat(StatBase):
    """All of one brand's campaigns on one channel over a day, week or month.

    Answers every campaign report that neither filters on nor breaks down by a
    campaign's own attributes (goal, folder, activation type, the campaign):
    a brand-restricted member's summary and timeline included.
    """

    account = _fact_key("accounts.Account")
    brand = _fact_key(Brand)

    class Meta:
        constraints = [_unique_key("brand", "reporting_campaignbrandstat_unique")]


class FlowBrandStat(StatBase):
    """All of one brand's flows on one channel over a day, week or month."""

    account = _fact_key("accounts.Account")
    brand = _fact_key(Brand)

    class Meta:
        constraints = [_unique_key("brand", "reporting_flowbrandstat_unique")]


class StatsImport(AccountScopedModel):
    """How far an account's statistics reach: one row per account, kept by the import.

    ``data_through`` is the last day any import brought statistics for (re-importing
    older days never moves it back); ``imported_at`` is when the last import
    committed. Reports show both so an assistant can say "data through 5 Dec".
    """

    data_through = models.DateField(null=True, blank=True)
    imported_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account"], name="reporting_statsimport_one_per_account"
            ),
        ]

    def __str__(self) -> str:
        return f"data through {self.data_through} (imported {self.imported_at:%Y-%m-%d %H:%M})"
