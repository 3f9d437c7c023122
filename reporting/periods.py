"""Calendar periods, defined once: days, ISO weeks (from Monday), months and years.

Report windows (presets resolved against the account's local "today"), timeline
buckets, the rows a report reads (:func:`cover`) and the rollups the import
keeps all use these functions, so a week or a month means the same thing
everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from reporting.errors import ReportError
from reporting.models import Grain

Span = tuple[str, date, date]  # (grain, first period start, last period start): those rows


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def shift_years(day: date, years: int) -> date:
    """The same day ``years`` later (earlier when negative); 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def period_start(grain: str, day: date) -> date:
    """The first day of the ``grain`` period holding ``day``."""
    if grain == Grain.WEEK:
        return week_start(day)
    if grain == Grain.MONTH:
        return month_start(day)
    if grain == Grain.YEAR:
        return date(day.year, 1, 1)
    return day


def period_end(grain: str, start: date) -> date:
    """The last day of the ``grain`` period starting on ``start``."""
    if grain == Grain.WEEK:
        return start + timedelta(days=6)
    if grain == Grain.MONTH:
        return next_month(start) - timedelta(days=1)
    if grain == Grain.YEAR:
        return date(start.year, 12, 31)
    return start


_FINER = {Grain.YEAR: Grain.MONTH, Grain.MONTH: Grain.WEEK, Grain.WEEK: Grain.DAY}


def cover(first: date, last: date, coarsest: str) -> list[Span]:
    """The statistics rows that together cover the days ``first``..``last`` exactly once.

    ``coarsest`` is the coarsest grain the caller can use: a report without a
    timeline uses year rows for the whole calendar years inside the window and, at
    its edges, what a month timeline uses: month rows for the whole months, week
    rows for the whole ISO weeks of the partial months and day rows for the rest; a
    week timeline uses weeks and days; a day timeline, days.
    """
    if coarsest == Grain.DAY:
        return [(Grain.DAY, first, last)]
    finer = _FINER[coarsest]
    one_day = timedelta(days=1)
    # The whole periods inside the window start on whole_from and end before whole_end.
    first_start = period_start(coarsest, first)
    whole_from = first if first_start == first else period_end(coarsest, first_start) + one_day
    whole_end = period_start(coarsest, last + one_day)
    # With no whole period inside, finer rows throughout, except across a month's first
    # day: only a week can straddle a coarser period, so a month cover splits the window
    # there and a month bucket never receives a week that straddles it.
    if whole_from > whole_end or (whole_from == whole_end and coarsest != Grain.MONTH):
        return cover(first, last, finer)
    spans: list[Span] = []
    if whole_from < whole_end:
        spans.append((coarsest, whole_from, whole_end - one_day))
    if first < whole_from:
        spans += cover(first, whole_from - one_day, finer)
    if whole_end <= last:
        spans += cover(whole_end, last, finer)
    return spans


def buckets(first: date, last: date, granularity: str) -> list[tuple[date, date]]:
    """Every timeline bucket (start, end) of the days ``first``..``last``, clipped to them.

    A bucket is keyed by its unclipped start: the ``period_start`` of its rows.
    """
    result = []
    start = period_start(granularity, first)
    while start <= last:
        end = period_end(granularity, start)
        result.append((start, min(end, last)))
        start = end + timedelta(days=1)
    return result


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
