"""Campaign and flow performance data: the dimensions and the daily statistics.

Every model belongs to one account and is reached through
``Model.objects.for_account(account)`` (see :mod:`reporting.scoping`).

Statistics are one row per (account, account-local day, campaign or flow,
channel), written only by :mod:`reporting.services.stats_import`. Campaign and
flow statistics live in two tables so each report scans only its own rows and
both keep a non-null foreign key inside their unique key.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from reporting.scoping import AccountScopedManager


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


def _fact_key(model) -> models.ForeignKey:
    """A fact-table key: no database constraint, no index of its own (see CampaignDailyStat)."""
    return models.ForeignKey(
        model, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )


class DailyStatBase(AccountScopedModel):
    """Counts for one account-local day and channel.

    ``opens`` and ``clicks`` are NULL when the channel does not track them (SMS has
    no opens): "not tracked" is not zero, and the rates in :mod:`reporting.metrics`
    only divide by the ``delivered`` of rows that track the event.
    Counts are 32-bit: PostgreSQL sums int4 into bigint, faster than int8 into numeric.
    """

    date = models.DateField()
    channel = models.CharField(max_length=16, choices=Channel.choices)
    sends = models.PositiveIntegerField()
    delivered = models.PositiveIntegerField()
    bounces = models.PositiveIntegerField()
    opens = models.PositiveIntegerField(null=True, blank=True)
    clicks = models.PositiveIntegerField(null=True, blank=True)
    unsubscribes = models.PositiveIntegerField()
    spam_complaints = models.PositiveIntegerField()
    orders = models.PositiveIntegerField()
    revenue = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        abstract = True


class CampaignDailyStat(DailyStatBase):
    # Fact-table foreign keys carry no database constraint and no single-column
    # index: PostgreSQL checks a constraint with one trigger query per inserted row,
    # which made a 1M-row import several times slower. Integrity holds by
    # construction (the import inserts only rows joined to an existing campaign of
    # the account) and Django still cascades deletes. The composite unique index below
    # lead with the account.
    account = _fact_key("accounts.Account")
    campaign = _fact_key(Campaign)

    class Meta:
        constraints = [
            # One index serves both the import's upsert key and every report's scan
            # (one account, a date range); a second index would slow the import. On
            # PostgreSQL it also INCLUDEs the counts (migration 0003), so reports are
            # index-only scans.
            models.UniqueConstraint(
                fields=["account", "date", "campaign", "channel"],
                name="reporting_cstat_unique_day",
            ),
        ]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} {self.channel} {self.date}"


class FlowDailyStat(DailyStatBase):
    # See CampaignDailyStat for why these keys have no database constraint.
    account = _fact_key("accounts.Account")
    flow = _fact_key(Flow)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "date", "flow", "channel"], name="reporting_fstat_unique_day"
            ),
        ]

    def __str__(self) -> str:
        return f"flow {self.flow_id} {self.channel} {self.date}"


class RollupStatBase(AccountScopedModel):
    """Sums of daily statistics rows, kept by the import in the same transaction.

    Besides the sums of the daily columns (``opens``/``clicks`` null when no summed
    row tracks them) a rollup keeps the partial sums the conditional rates need,
    so a rate over rollup rows equals the rate over the daily rows they sum:
    ``opens_delivered``/``clicks_delivered`` (delivered of rows tracking opens /
    clicks) and ``both_opens``/``both_clicks`` (of rows tracking both).
    64-bit: a month of 32-bit days can exceed 32 bits.
    """

    date = models.DateField()
    channel = models.CharField(max_length=16, choices=Channel.choices)
    sends = models.BigIntegerField()
    delivered = models.BigIntegerField()
    bounces = models.BigIntegerField()
    opens = models.BigIntegerField(null=True)
    clicks = models.BigIntegerField(null=True)
    unsubscribes = models.BigIntegerField()
    spam_complaints = models.BigIntegerField()
    orders = models.BigIntegerField()
    revenue = models.DecimalField(max_digits=20, decimal_places=2)
    opens_delivered = models.BigIntegerField(null=True)
    clicks_delivered = models.BigIntegerField(null=True)
    both_opens = models.BigIntegerField(null=True)
    both_clicks = models.BigIntegerField(null=True)

    class Meta:
        abstract = True


class CampaignMonthlyStat(RollupStatBase):
    """One month (``date`` = its first day) of a campaign on a channel."""

    # Same reasoning as CampaignDailyStat: no FK constraints, one composite index.
    account = _fact_key("accounts.Account")
    campaign = _fact_key(Campaign)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "date", "campaign", "channel"],
                name="reporting_cmonth_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} {self.channel} month {self.date}"


class FlowMonthlyStat(RollupStatBase):
    """One month (``date`` = its first day) of a flow on a channel."""

    account = _fact_key("accounts.Account")
    flow = _fact_key(Flow)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "date", "flow", "channel"], name="reporting_fmonth_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"flow {self.flow_id} {self.channel} month {self.date}"


class CampaignWeeklyStat(RollupStatBase):
    """One ISO week (``date`` = its Monday) of a campaign on a channel."""

    account = _fact_key("accounts.Account")
    campaign = _fact_key(Campaign)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "date", "campaign", "channel"],
                name="reporting_cweek_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} {self.channel} week {self.date}"


class FlowWeeklyStat(RollupStatBase):
    """One ISO week (``date`` = its Monday) of a flow on a channel."""

    account = _fact_key("accounts.Account")
    flow = _fact_key(Flow)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "date", "flow", "channel"], name="reporting_fweek_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"flow {self.flow_id} {self.channel} week {self.date}"


class CampaignChannelDailyStat(RollupStatBase):
    """One day of all the account's campaigns on a channel (reports without dimension filters)."""

    account = _fact_key("accounts.Account")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "date", "channel"], name="reporting_cchannel_unique_day"
            ),
        ]

    def __str__(self) -> str:
        return f"campaigns {self.channel} {self.date}"


class FlowChannelDailyStat(RollupStatBase):
    """One day of all the account's flows on a channel (reports without dimension filters)."""

    account = _fact_key("accounts.Account")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "date", "channel"], name="reporting_fchannel_unique_day"
            ),
        ]

    def __str__(self) -> str:
        return f"flows {self.channel} {self.date}"


class Grain(models.TextChoices):
    """Which table a report row comes from (see ``CampaignStatRow``)."""

    DAY = "d", "Daily row of one campaign or flow"
    WEEK = "w", "Weekly rollup of one campaign or flow"
    MONTH = "m", "Monthly rollup of one campaign or flow"
    CHANNEL_DAY = "a", "Daily rollup of all campaigns or flows on a channel"


class StatRowBase(RollupStatBase):
    """A read-only view: the daily rows and both rollups in one relation.

    Reports pick, by ``grain``, the cheapest rows that cover exactly their window
    (see ``reporting.selectors.reports``); the database view is created by
    migration 0004. Daily rows carry the same partial-sum columns as rollups
    (computed in the view), so every metric has one expression for all grains.
    """

    grain = models.CharField(max_length=1, choices=Grain.choices)

    class Meta:
        abstract = True
        managed = False


class CampaignStatRow(StatRowBase):
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    # Null on channel-day rollup rows, which reports use only without dimension filters.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False
    )

    class Meta(StatRowBase.Meta):
        db_table = "reporting_campaignstat_rows"

    def __str__(self) -> str:
        return f"{self.grain} campaign {self.campaign_id} {self.channel} {self.date}"


class FlowStatRow(StatRowBase):
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    flow = models.ForeignKey(
        Flow, on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False
    )

    class Meta(StatRowBase.Meta):
        db_table = "reporting_flowstat_rows"

    def __str__(self) -> str:
        return f"{self.grain} flow {self.flow_id} {self.channel} {self.date}"
