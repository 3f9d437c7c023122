"""Report windows: presets resolved against the account's local "today"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from reporting import periods
from reporting.errors import ReportError
from reporting.periods import quarter_start, shift_years

MAX_WINDOW_YEARS = 3
DEFAULT_PERIOD = "last_30_days"
PERIODS = (
    "today",
    "yesterday",
    "last_7_days",
    "last_30_days",
    "last_90_days",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_year",
)


@dataclass(frozen=True)
class DateWindow:
    date_from: date
    date_to: date
    period: str  # a preset name or "custom"

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1


def account_today(timezone: str) -> date:
    """The current day in the account's time zone (report dates are local days)."""
    return datetime.now(ZoneInfo(timezone)).date()


def preset_window(period: str, today: date) -> DateWindow:
    yesterday = today - timedelta(days=1)
    if period == "today":
        start, end = today, today
    elif period == "yesterday":
        start, end = yesterday, yesterday
    elif period in ("last_7_days", "last_30_days", "last_90_days"):
        # Complete days only: the window ends yesterday, like the default.
        days = int(period.split("_")[1])
        start, end = today - timedelta(days=days), yesterday
    elif period == "this_month":
        start, end = today.replace(day=1), today
    elif period == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        start = end.replace(day=1)
    elif period == "this_quarter":
        start, end = quarter_start(today), today
    elif period == "last_quarter":
        end = quarter_start(today) - timedelta(days=1)
        start = quarter_start(end)
    elif period == "this_year":
        start, end = date(today.year, 1, 1), today
    elif period == "last_year":
        start, end = date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    else:
        raise ReportError(f"Unknown period {period!r}. Valid periods: {', '.join(PERIODS)}.")
    return DateWindow(start, end, period)


def resolve_window(
    *, period: str | None, date_from: date | None, date_to: date | None, today: date
) -> DateWindow:
    """The inclusive local-date window a report covers."""
    if period is not None and (date_from is not None or date_to is not None):
        raise ReportError("Give either a period or date_from/date_to, not both.")
    if (date_from is None) != (date_to is None):
        raise ReportError("Give both date_from and date_to (inclusive), or neither.")
    if date_from is None or date_to is None:
        return preset_window(period or DEFAULT_PERIOD, today)
    if date_from > date_to:
        raise ReportError(f"date_from ({date_from}) is after date_to ({date_to}).")
    if date_from <= shift_years(date_to, -MAX_WINDOW_YEARS):
        raise ReportError(
            f"The window {date_from} to {date_to} is longer than {MAX_WINDOW_YEARS} years; "
            "narrow it."
        )
    return DateWindow(date_from, date_to, "custom")


def comparison_window(window: DateWindow, compare_to: str) -> DateWindow:
    """previous_period: the same number of days just before; previous_year: a year earlier."""
    if compare_to == "previous_period":
        end = window.date_from - timedelta(days=1)
        return DateWindow(end - timedelta(days=window.days - 1), end, compare_to)
    if compare_to == "previous_year":
        return DateWindow(
            shift_years(window.date_from, -1), shift_years(window.date_to, -1), compare_to
        )
    raise ReportError(f"Unknown compare_to {compare_to!r}: use previous_period or previous_year.")


def buckets(window: DateWindow, granularity: str) -> list[tuple[date, date]]:
    """Every timeline bucket (start, end) of the window; see :func:`reporting.periods.buckets`."""
    return periods.buckets(window.date_from, window.date_to, granularity)
