"""Typed parameters and result of ``explain_change``: why a metric moved between two windows.

Like :mod:`reporting.schemas`: strict arguments (unknown fields refused, vocabularies
matched case-insensitively), JSON-serialisable results. Counts are integers and
revenue a decimal string; rates **and money ratios** (average_order_value,
revenue_per_delivered) are unrounded floats here, so their effects add up to the
change exactly.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reporting.schemas import (
    ActivationTypeName,
    ChannelName,
    CompareTo,
    MetricName,
    PeriodName,
    Provenance,
    ReportDate,
    Window,
    vocabulary,
)

ExplainKind = vocabulary("campaigns", "flows")
ExplainBy = vocabulary("campaign", "flow", "folder", "channel", "brand")
# What explain_change may group by, per kind.
EXPLAIN_BY = {
    "campaigns": ("campaign", "folder", "channel", "brand"),
    "flows": ("flow", "channel", "brand"),
}

METHOD = (
    "Sums (counts, revenue): a group's contribution is its own change, current - previous. "
    "Rates and ratios R = N / D (open_rate = opens / delivered, average_order_value = "
    "revenue / orders, …) are split by shift-share: with w_g = D_g / D a group's share of the "
    "denominator and r_g = N_g / D_g its rate, R = sum of w_g * r_g, and each group's "
    "contribution N_g1 / D_1 - N_g0 / D_0 = rate effect + mix effect, where mix effect = "
    "r_avg * (w_g1 - w_g0) (its share moved) and rate effect = w_avg * (r_g1 - r_g0) (its own "
    "rate moved), r_avg and w_avg the averages of both windows' values. A group with no "
    "denominator in one window (new, gone, or e.g. no orders for AOV) takes its rate from the "
    "other window, so its whole contribution is mix; a numerator without denominator (revenue "
    "without orders) counts as rate effect. Contributions add up to the total change."
)


class ExplainChangeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ExplainKind = Field(description="campaigns or flows.")
    metric: MetricName = Field(description="The metric whose change to explain.")
    period: PeriodName | None = Field(
        None,
        description="Current window as a preset (account time zone). Default: last_30_days.",
    )
    date_from: ReportDate | None = Field(
        None, description="Current window's first day (YYYY-MM-DD)."
    )
    date_to: ReportDate | None = Field(None, description="Current window's last day, inclusive.")
    compare_to: CompareTo | None = Field(
        None,
        description="Window to compare with: previous_period (default: same length, just "
        "before) or previous_year. Or give compare_date_from/compare_date_to instead.",
    )
    compare_date_from: ReportDate | None = Field(
        None, description="Explicit comparison window start."
    )
    compare_date_to: ReportDate | None = Field(None, description="Explicit comparison window end.")
    by: ExplainBy | None = Field(
        None,
        description="Group the drivers by campaign, folder, channel or brand (campaigns) or "
        "flow, channel or brand (flows). Default: campaign / flow.",
    )
    channels: list[ChannelName] | None = Field(None, description="Only these channels.")
    brands: list[str] | None = Field(None, description="Only these brands (names).")
    goals: list[str] | None = Field(None, description="Only these goals (names).")
    activation_types: list[ActivationTypeName] | None = Field(
        None, description="campaigns only: these activation types."
    )
    folders: list[str] | None = Field(None, description="campaigns only: these folders (names).")
    flows: list[str] | None = Field(None, description="flows only: these flows (ids or names).")
    limit: int = Field(
        10, ge=1, le=50, strict=True, description="Drivers listed per direction (1-50)."
    )


Value = int | Decimal | float | None


class Driver(BaseModel):
    key: str | None = Field(description="Campaign/flow external id, channel, brand or folder.")
    name: str
    status: Literal["new", "gone", "continuing"] = Field(
        description="new: no data in the comparison window; gone: none in the current one."
    )
    current: Value = Field(description="The group's metric in the current window.")
    previous: Value = Field(description="The group's metric in the comparison window.")
    contribution: int | Decimal | float = Field(
        description="The group's part of the total change (contributions add up to it)."
    )
    rate_effect: float | None = Field(None, description="Rates only: own rate moved.")
    mix_effect: float | None = Field(None, description="Rates only: denominator share moved.")
    share_current: float | None = Field(None, description="Rates only: w_g in the current window.")
    share_previous: float | None = Field(None, description="Rates only: w_g before.")


class OtherGroups(BaseModel):
    groups: int = Field(description="Groups not listed as drivers (incl. those that did not move).")
    current: Value
    previous: Value
    contribution: int | Decimal | float
    rate_effect: float | None = None
    mix_effect: float | None = None


class ExplainChange(BaseModel):
    absolute: Value = Field(description="current - previous; null when either is null.")
    relative: float | None = Field(description="absolute / previous; null when previous is 0.")


class Explanation(BaseModel):
    account: str
    kind: Literal["campaigns", "flows"]
    metric: str
    definition: str = Field(description="The metric's definition.")
    method: Literal["difference", "shift_share"]
    window: Window
    comparison_window: Window
    current: Value
    previous: Value
    change: ExplainChange
    explained: bool = Field(
        description="False when the change is null (the metric is null in a window): no drivers."
    )
    note: str | None = None
    by: str
    limit: int
    total_groups: int = Field(description="Groups with data in either window.")
    new_groups: int
    gone_groups: int
    drivers_up: list[Driver] = Field(description="Largest positive contributions first.")
    drivers_down: list[Driver] = Field(description="Largest negative contributions first.")
    others: OtherGroups | None = Field(
        description="Every other group together; drivers + others = the change exactly."
    )
    brand_restricted: bool
    provenance: Provenance
