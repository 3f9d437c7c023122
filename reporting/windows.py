"""Report windows: presets resolved against the account's local "today"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from reporting.errors import ReportError

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


def _shift_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a non-leap year
        return day.replace(year=day.year + years, day=28)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


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
        start, end = _quarter_start(today), today
    elif period == "last_quarter":
        end = _quarter_start(today) - timedelta(days=1)
        start = _quarter_start(end)
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
    if date_from <= _shift_years(date_to, -MAX_WINDOW_YEARS):
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
            _shift_years(window.date_from, -1), _shift_years(window.date_to, -1), compare_to
        )
    raise ReportError(f"Unknown compare_to {compare_to!r}: use previous_period or previous_year.")


def buckets(window: DateWindow, granularity: str) -> list[tuple[date, date]]:
    """Every timeline bucket (start, end) of the window, clipped to it.

    Weeks are ISO weeks starting on Monday; a bucket is keyed by its unclipped start
    (what the database's week/month truncation returns).
    """
    result = []
    if granularity == "day":
        step = window.date_from
        while step <= window.date_to:
            result.append((step, step))
            step += timedelta(days=1)
        return result
    if granularity == "week":
        start = window.date_from - timedelta(days=window.date_from.weekday())
    else:
        start = window.date_from.replace(day=1)
    while start <= window.date_to:
        if granularity == "week":
            following = start + timedelta(days=7)
        else:
            following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        result.append((start, min(following - timedelta(days=1), window.date_to)))
        start = following
    return result
