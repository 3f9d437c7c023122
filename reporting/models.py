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


class _Source(AccountScopedModel):
    """A campaign or a flow, known by its external id; created and renamed by the import."""

    # RESTRICT, not PROTECT: a brand, goal or folder in use cannot be deleted on its
    # own, but deleting the whole account (offboarding, purge) cascades through all.
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=255)
    brand = models.ForeignKey(Brand, on_delete=models.RESTRICT, related_name="+")
    goal = models.ForeignKey(Goal, on_delete=models.RESTRICT, related_name="+")

    class Meta:
        abstract = True
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "external_id"],
                name="%(app_label)s_%(class)s_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Campaign(_Source):
    folder = models.ForeignKey(
        CampaignFolder, on_delete=models.RESTRICT, null=True, blank=True, related_name="+"
    )
    activation_type = models.CharField(max_length=16, choices=ActivationType.choices)


class Flow(_Source):
    pass


class Grain(models.TextChoices):
    """The period a statistics row covers; ``period_start`` is its first day."""

    DAY = "day", "Day"
    WEEK = "week", "ISO week (from Monday)"
    MONTH = "month", "Calendar month"
    YEAR = "year", "Calendar year"


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
    """Counts over one day, ISO week, month or year (``grain``) from ``period_start``, per
    ``key``.

    Day rows of :class:`CampaignStat` and :class:`FlowStat` are the imported
    statistics; every other row (of a coarser grain or table, :data:`ROLLUPS`) is a
    sum of them, recomputed by the import (:mod:`reporting.services.rollups`) in the
    same transaction: a report reads about (buckets x groups) rows
    (:func:`reporting.periods.cover`).

    ``opens`` and ``clicks`` are NULL where the channel does not track them (SMS
    has no opens): "not tracked" is not zero. The partial sums make the
    conditional rates exact over any set of rows: ``opens_delivered`` /
    ``clicks_delivered`` are the delivered of rows tracking opens / clicks,
    ``both_opens`` / ``both_clicks`` the opens and clicks of rows tracking both.
    """

    key: tuple[str, ...] = ()  # what a row counts, besides account, grain and period

    account = _fact_key("accounts.Account")
    grain = models.CharField(max_length=5, choices=Grain.choices)
    period_start = models.DateField()
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
        return f"{self.grain} {self.period_start}"

    @classmethod
    def reach(cls, name: str) -> str | None:
        """The lookup from a row to ``name``: one of its key columns, or an attribute of
        its campaign or flow (brand, folder, goal, activation type); None if neither."""
        if name in cls.key:
            return name
        per_source = cls.key[0] in SOURCES
        return f"{cls.key[0]}__{name}" if per_source and name in SOURCE_ATTRIBUTES else None


SOURCES = ("campaign", "flow")  # a table per campaign or flow has it first in its key
SOURCE_ATTRIBUTES = ("brand", "folder", "goal", "activation_type")


class ChannelStatBase(StatBase):
    channel = models.CharField(max_length=16, choices=Channel.choices)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{super().__str__()} {self.channel}"


def _rollup_meta(table: str, key: tuple[str, ...]) -> type:
    """A statistics table's one unique key, leading with the account and the period (every
    report reads it); a table per campaign or flow also has an index by that, for the
    sums of a breakdown's page."""

    class Meta:
        # INCLUDE the counts: a report of one range of periods reads one account's slice
        # of the index, never the heap (an index-only scan).
        constraints = [
            models.UniqueConstraint(
                fields=["account", "grain", "period_start", *key],
                include=SUMMED_COLUMNS,
                # The unfiled campaigns (folder NULL) are one row, not one per import.
                nulls_distinct=False if "folder" in key else None,
                name=f"{table}_unique",
            )
        ]
        indexes = []
        if key[0] in SOURCES:
            indexes.append(
                models.Index(
                    fields=["account", key[0], "grain", "period_start"],
                    name=f"{table.removeprefix('reporting_')}_source",  # at most 30 characters
                )
            )

    return Meta


class CampaignStat(ChannelStatBase):
    """One campaign on one channel over a day (the imported rows), week, month or year."""

    key = ("campaign", "channel")
    campaign = _fact_key(Campaign)
    Meta = _rollup_meta("reporting_campaignstat", key)


class FlowStat(ChannelStatBase):
    """One flow on one channel over a day (the imported rows), week, month or year."""

    key = ("flow", "channel")
    flow = _fact_key(Flow)
    Meta = _rollup_meta("reporting_flowstat", key)


class CampaignTotalStat(StatBase):
    """One campaign over all its channels: half the rows of a top-campaigns report."""

    key = ("campaign",)
    campaign = _fact_key(Campaign)
    Meta = _rollup_meta("reporting_campaigntotalstat", key)


class FlowTotalStat(StatBase):
    """One flow over all its channels."""

    key = ("flow",)
    flow = _fact_key(Flow)
    Meta = _rollup_meta("reporting_flowtotalstat", key)


class CampaignFolderStat(ChannelStatBase):
    """All of one brand's campaigns in one folder (or unfiled) on one channel."""

    key = ("brand", "folder", "channel")
    brand = _fact_key(Brand)
    folder = models.ForeignKey(
        CampaignFolder,
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    Meta = _rollup_meta("reporting_campaignfolderstat", key)


class CampaignBrandTotalStat(StatBase):
    """All of one brand's campaigns over all channels: a summary or a timeline without a
    channel filter, with or without a brand restriction, reads a row per brand."""

    key = ("brand",)
    brand = _fact_key(Brand)
    Meta = _rollup_meta("reporting_campaignbrandtotalstat", key)


class FlowBrandTotalStat(StatBase):
    """All of one brand's flows over all channels."""

    key = ("brand",)
    brand = _fact_key(Brand)
    Meta = _rollup_meta("reporting_flowbrandtotalstat", key)


class CampaignBrandStat(ChannelStatBase):
    """All of one brand's campaigns on one channel: what a channel or brand breakdown, or
    any report filtered on channels, reads."""

    key = ("brand", "channel")
    brand = _fact_key(Brand)
    Meta = _rollup_meta("reporting_campaignbrandstat", key)


class FlowBrandStat(ChannelStatBase):
    """All of one brand's flows on one channel."""

    key = ("brand", "channel")
    brand = _fact_key(Brand)
    Meta = _rollup_meta("reporting_flowbrandstat", key)


# Each kind's tables, coarsest first, the imported rows last. A report reads the first
# that reaches every column it filters on or groups by (StatBase.reach); the import
# sums each table's day rows from the first later one that reaches its key.
ROLLUPS = {
    "campaign": (
        CampaignBrandTotalStat,
        CampaignBrandStat,
        CampaignFolderStat,
        CampaignTotalStat,
        CampaignStat,
    ),
    "flow": (FlowBrandTotalStat, FlowBrandStat, FlowTotalStat, FlowStat),
}


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
