"""Typed parameters and results of the reports (pydantic v2).

The parameter models are the MCP tools' argument models: strict (unknown fields
are refused), every field described, fixed vocabularies as enums in the JSON
Schema (matched case-insensitively). Results are JSON-serialisable; money values
(revenue, average_order_value, revenue_per_delivered) are **decimal strings** in
the account's currency, rates are floats in [0, 1] or null.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from reporting.metrics import METRICS
from reporting.models import ActivationType, Channel
from reporting.periods import PERIODS, shift_years


def _lower(value):
    if isinstance(value, str):
        return value.strip().lower()
    return value


def vocabulary(*values: str):
    """A fixed vocabulary: an enum in the JSON Schema, matched case-insensitively."""
    return Annotated[Literal[values], BeforeValidator(_lower)]  # type: ignore[valid-type]


PeriodName = vocabulary(*PERIODS)
ChannelName = vocabulary(*Channel.values)
ActivationTypeName = vocabulary(*ActivationType.values)
MetricName = vocabulary(*METRICS)
Granularity = vocabulary("day", "week", "month")
Order = vocabulary("desc", "asc")
CompareTo = vocabulary("previous_period", "previous_year")
CampaignBreakdown = vocabulary("campaign", "folder", "channel", "brand", "none")
FlowBreakdown = vocabulary("flow", "channel", "brand", "none")

# Report dates any account could have data for: nothing is imported before 2000,
# and a year ahead covers any time zone's "today" plus planned campaigns. Outside
# these, date arithmetic (previous year, week starts) would run off the calendar.
EARLIEST_REPORT_DATE = date(2000, 1, 1)
MESSAGE_DATE_RANGE = "must be between {earliest} and {latest} (YYYY-MM-DD)"


def latest_report_date(today: date | None = None) -> date:
    """The same day next year (28 February for the 29th)."""
    return shift_years(today or date.today(), 1)


def _bounded(value: date) -> date:
    latest = latest_report_date()
    if not EARLIEST_REPORT_DATE <= value <= latest:
        raise ValueError(MESSAGE_DATE_RANGE.format(earliest=EARLIEST_REPORT_DATE, latest=latest))
    return value


ReportDate = Annotated[date, AfterValidator(_bounded)]

MESSAGE_NUL = "must not contain NUL characters"


def _without_nul(value: str) -> str:
    # No name holds one (PostgreSQL text cannot), and the database refuses to compare.
    if "\x00" in value:
        raise ValueError(MESSAGE_NUL)
    return value


NO_FOLDER = "(no folder)"  # name of unfiled campaigns' group; also a valid `folders` value


class _ReportParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: PeriodName | None = Field(
        None,
        description=(
            "Preset window in the account's time zone. last_N_days end yesterday; this_* end "
            "today. Default (no period and no dates): last_30_days."
        ),
    )
    date_from: ReportDate | None = Field(
        None,
        description="First day, inclusive (YYYY-MM-DD, account-local; 2000-01-01 to a year "
        "from today). Needs date_to.",
    )
    date_to: ReportDate | None = Field(
        None, description="Last day, inclusive (YYYY-MM-DD). At most 3 years after date_from."
    )
    channels: list[ChannelName] | None = Field(None, description="Only these channels.")
    brands: list[str] | None = Field(
        None, description="Only these brands (names, case-insensitive)."
    )
    goals: list[str] | None = Field(None, description="Only these goals (names, case-insensitive).")
    timeline: Granularity | None = Field(
        None,
        description=(
            "Add a continuous timeline by day, ISO week (Monday) or month; buckets without "
            "activity have zero counts and null rates."
        ),
    )
    sort_by: MetricName = Field("revenue", description="Metric the breakdown is sorted by.")
    order: Order = Field("desc", description="Sort order; ties are broken by name.")
    # strict: `true` is not 1, nor is 5.0 five rows.
    limit: int = Field(50, ge=1, le=500, strict=True, description="Maximum breakdown rows (1-500).")
    compare_to: CompareTo | None = Field(
        None,
        description=(
            "Also compute the previous period (same length, just before) or the same window a "
            "year earlier, with the absolute and relative change of every metric."
        ),
    )
    cursor: str | None = Field(
        None,
        description=(
            "A previous answer's breakdown.next_cursor: the next page of the same breakdown. "
            "Pass the same window, filters, breakdown and sort (limit may change)."
        ),
    )


class CampaignReportParams(_ReportParams):
    activation_types: list[ActivationTypeName] | None = Field(
        None, description="Only campaigns of these activation types."
    )
    folders: list[str] | None = Field(
        None,
        description=f"Only campaigns in these folders (names, case-insensitive; {NO_FOLDER!r} "
        "= unfiled).",
    )
    breakdown: CampaignBreakdown = Field("campaign", description="Group rows by this dimension.")


class FlowReportParams(_ReportParams):
    flows: list[str] | None = Field(
        None, description="Only these flows (external ids, or names case-insensitive)."
    )
    breakdown: FlowBreakdown = Field("flow", description="Group rows by this dimension.")


def _metric_field(name: str):
    return Field(description=METRICS[name].definition)


# Built from metrics.from_sums, which rounds the money values to their decimal places.
class Metrics(BaseModel):
    sends: int = _metric_field("sends")
    delivered: int = _metric_field("delivered")
    bounces: int = _metric_field("bounces")
    opens: int | None = _metric_field("opens")
    clicks: int | None = _metric_field("clicks")
    unsubscribes: int = _metric_field("unsubscribes")
    spam_complaints: int = _metric_field("spam_complaints")
    orders: int = _metric_field("orders")
    revenue: Decimal = _metric_field("revenue")
    delivery_rate: float | None = _metric_field("delivery_rate")
    bounce_rate: float | None = _metric_field("bounce_rate")
    open_rate: float | None = _metric_field("open_rate")
    click_rate: float | None = _metric_field("click_rate")
    click_to_open_rate: float | None = _metric_field("click_to_open_rate")
    conversion_rate: float | None = _metric_field("conversion_rate")
    unsubscribe_rate: float | None = _metric_field("unsubscribe_rate")
    spam_rate: float | None = _metric_field("spam_rate")
    average_order_value: Decimal | None = _metric_field("average_order_value")
    revenue_per_delivered: Decimal | None = _metric_field("revenue_per_delivered")


class Window(BaseModel):
    date_from: date
    date_to: date
    days: int
    period: str = Field(description="The preset used, 'custom', or the comparison kind.")


class TimelineBucket(BaseModel):
    period_start: date = Field(description="First day of the bucket (clipped to the window).")
    period_end: date = Field(description="Last day of the bucket (clipped to the window).")
    metrics: Metrics


class Timeline(BaseModel):
    granularity: Literal["day", "week", "month"]
    buckets: list[TimelineBucket]


class BreakdownRow(BaseModel):
    key: str | None = Field(
        description="Campaign/flow external id, channel, or null for unfiled campaigns; "
        "brand and folder rows use their name."
    )
    name: str
    metrics: Metrics


class BreakdownOthers(BaseModel):
    groups: int = Field(description="How many groups are not on this page.")
    metrics: Metrics = Field(
        description="Those groups together: the page's rows plus this add up to the summary."
    )


class Breakdown(BaseModel):
    by: str
    sort_by: str
    order: Literal["desc", "asc"]
    limit: int
    total_groups: int = Field(description="Groups with activity in the window.")
    truncated: bool = Field(description="True when groups come after this page (see next_cursor).")
    rows: list[BreakdownRow]
    next_cursor: str | None = Field(
        None,
        description="Pass as cursor (all other arguments unchanged) for the next rows; "
        "null on the last page.",
    )
    others: BreakdownOthers | None = Field(
        None, description="Every group not on this page, aggregated; null when all are shown."
    )


class Provenance(BaseModel):
    """Where the numbers come from and how complete the window is."""

    data_through: date | None = Field(
        description="Last day with imported statistics (account-local); null before any import."
    )
    imported_at: datetime | None = Field(description="When the last import completed (UTC).")
    timezone: str = Field(description="IANA time zone every date is local to.")
    currency: str = Field(description="ISO 4217 currency of every money value.")
    partial: bool = Field(
        description="True when the window includes today or days after data_through: "
        "its numbers are incomplete and will still grow."
    )
    partial_reason: str | None = Field(None, description="Why the window is partial.")


class Change(BaseModel):
    absolute: float | Decimal | None = Field(
        description="current - previous (a decimal string for money metrics)."
    )
    relative: float | None = Field(
        description="(current - previous) / previous; null when previous is 0 or null."
    )


class Comparison(BaseModel):
    compare_to: Literal["previous_period", "previous_year"]
    window: Window
    summary: Metrics
    change: dict[str, Change]


class _Report(BaseModel):
    account: str = Field(description="The account's system name.")
    currency: str = Field(description="ISO 4217 currency of every money value.")
    timezone: str = Field(description="IANA time zone the dates are local to.")
    window: Window
    brand_restricted: bool = Field(
        description="True when the user only sees some brands: totals cover those brands only."
    )
    summary: Metrics
    timeline: Timeline | None = None
    breakdown: Breakdown | None = None
    comparison: Comparison | None = None
    provenance: Provenance


class CampaignReport(_Report):
    pass


class FlowReport(_Report):
    pass


class FlowRef(BaseModel):
    id: str = Field(description="The flow's (or campaign's) external id.")
    name: str


class ReportFiltersParams(BaseModel):
    """Search and paging of the campaign and flow lists of ``list_report_filters``."""

    model_config = ConfigDict(extra="forbid")

    query: Annotated[str, Field(max_length=100), AfterValidator(_without_nul)] | None = Field(
        None,
        description="Only campaigns and flows whose name (case- and accent-insensitive) or "
        "external id contains this.",
    )
    limit: int = Field(100, ge=1, le=500, description="Campaigns and flows listed per page.")
    campaigns_cursor: str | None = Field(None, description="campaigns_next_cursor of a page.")
    flows_cursor: str | None = Field(None, description="flows_next_cursor of a page.")


class ReportFilters(BaseModel):
    """The values the report filters accept for this user, for ``list_report_filters``."""

    brands: list[str]
    goals: list[str]
    campaign_folders: list[str]
    channels: list[str] = Field(description="Channels with statistics.")
    activation_types: list[str] = Field(description="Activation types of existing campaigns.")
    flows: list[FlowRef] = Field(description="A page of flows by name (see flows_next_cursor).")
    flows_total: int = Field(description="Flows matching query.")
    flows_next_cursor: str | None = Field(description="Pass as flows_cursor for more flows.")
    campaigns: list[FlowRef] = Field(description="A page of campaigns by name.")
    campaigns_total: int = Field(description="Campaigns matching query.")
    campaigns_next_cursor: str | None = Field(
        description="Pass as campaigns_cursor for more campaigns."
    )
    query: str | None = Field(description="The search applied to campaigns and flows.")
    periods: list[str]
    metrics: list[str]
    metric_definitions: str
