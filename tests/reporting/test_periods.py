"""reporting.periods: the rows a report reads cover its window exactly, as coarsely as allowed.

The expectations are computed day by day from the calendar (``datetime``), never
from the module under test: for each day of the window, the coarsest period
holding it that lies wholly inside the window (and, for a month timeline, inside
the day's month).
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reporting.models import Grain
from reporting.periods import (
    buckets,
    cover,
    month_start,
    next_month,
    period_end,
    period_start,
    quarter_start,
    shift_years,
    week_start,
)

GRAINS = [Grain.DAY, Grain.WEEK, Grain.MONTH]  # a timeline's
COVER_GRAINS = [*GRAINS, Grain.YEAR]  # a report without a timeline reads years too
FIRST_DAY, LAST_DAY = date(2019, 1, 1), date(2029, 12, 31)


@st.composite
def windows(draw, max_days: int = 1096):
    """A window of 1 day to 3 years (1096 days when it holds two 29 Februaries' worth)."""
    first = draw(st.dates(FIRST_DAY, LAST_DAY))
    return first, first + timedelta(days=draw(st.integers(0, max_days - 1)))


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _monday(day: date) -> date:
    return day - timedelta(days=day.isoweekday() - 1)


def _calendar_period(grain: str, start: date) -> list[date]:
    """The days of the ``grain`` period starting on ``start``, from the calendar alone."""
    if grain == Grain.DAY:
        return [start]
    if grain == Grain.WEEK:
        return [start + timedelta(days=n) for n in range(7)]
    if grain == Grain.YEAR:
        return [d for d in _days(start, start + timedelta(days=366)) if d.year == start.year]
    return [d for d in _days(start, start + timedelta(days=31)) if d.month == start.month]


def _is_start(grain: str, day: date) -> bool:
    if grain == Grain.WEEK:
        return day.isoweekday() == 1
    if grain == Grain.MONTH:
        return day.day == 1
    if grain == Grain.YEAR:
        return (day.month, day.day) == (1, 1)
    return True


def _rows_read(spans) -> list[tuple[str, date]]:
    """The (grain, period_start) of every row a report selects for ``spans``: each span
    (grain, a, b) is ``grain=grain AND period_start BETWEEN a AND b``."""
    rows = []
    for grain, first, last in spans:
        assert first <= last, (grain, first, last)
        rows += [(grain, day) for day in _days(first, last) if _is_start(grain, day)]
    return rows


def _coarsest(day: date, first: date, last: date, coarsest: str) -> tuple[str, date]:
    """The row that should hold ``day``: its year if the whole year is in the window (years
    allowed), else its month if the whole month is (months allowed), else its ISO week if
    that is (and, with months, lies in one month), else the day itself."""

    def inside(period: list[date]) -> bool:
        return first <= period[0] and period[-1] <= last

    year = date(day.year, 1, 1)
    if coarsest == Grain.YEAR and inside(_calendar_period(Grain.YEAR, year)):
        return (Grain.YEAR, year)
    month = date(day.year, day.month, 1)
    months = (Grain.MONTH, Grain.YEAR)
    if coarsest in months and inside(_calendar_period(Grain.MONTH, month)):
        return (Grain.MONTH, month)
    week = _calendar_period(Grain.WEEK, _monday(day))
    in_one_month = {d.month for d in week} == {day.month}
    if coarsest != Grain.DAY and inside(week) and (coarsest == Grain.WEEK or in_one_month):
        return (Grain.WEEK, week[0])
    return (Grain.DAY, day)


@given(window=windows(), coarsest=st.sampled_from(COVER_GRAINS))
def test_cover_reads_each_day_exactly_once_through_the_coarsest_row_allowed(window, coarsest):
    first, last = window
    rows = _rows_read(cover(first, last, coarsest))
    assert len(rows) == len(set(rows))  # no row twice
    days = [day for grain, start in rows for day in _calendar_period(grain, start)]
    assert sorted(days) == _days(first, last)  # every day once, none outside
    assert sorted(rows) == sorted({_coarsest(d, first, last, coarsest) for d in days})


@given(window=windows(), granularity=st.sampled_from(GRAINS))
def test_every_row_of_a_timeline_lies_in_one_of_its_buckets(window, granularity):
    """The report truncates each row's start to its bucket: a week row straddling two
    months (or a month row in a week timeline) would land wholly in one of them."""
    first, last = window
    bucket_days = [
        set(_days(max(start, first), end)) for start, end in buckets(first, last, granularity)
    ]
    for grain, start in _rows_read(cover(first, last, granularity)):
        days = set(_calendar_period(grain, start))
        assert sum(days <= bucket for bucket in bucket_days) == 1, (grain, start)


@given(window=windows(), granularity=st.sampled_from(GRAINS))
def test_buckets_tile_the_window(window, granularity):
    first, last = window
    found = buckets(first, last, granularity)
    # Keyed by the unclipped period start; only the first may begin before the window.
    assert all(_is_start(granularity, start) for start, _ in found)
    assert found[0][0] <= first and found[0][0] == _coarse_start(granularity, first)
    assert found[-1][1] == last
    for (_, end), (start, _) in itertools.pairwise(found):
        assert start == end + timedelta(days=1)
    for start, end in found:
        full = _calendar_period(granularity, start)
        assert full[0] <= end <= full[-1]  # each bucket within its one period
        assert end == full[-1] or end == last


def _coarse_start(granularity: str, day: date) -> date:
    if granularity == Grain.WEEK:
        return _monday(day)
    if granularity == Grain.MONTH:
        return date(day.year, day.month, 1)
    return day


def test_cover_by_hand():
    # Jan 15 2024 is a Monday; February is whole; March 1 is a Friday.
    spans = cover(date(2024, 1, 15), date(2024, 3, 10), Grain.MONTH)
    assert sorted(spans) == sorted(
        [
            (Grain.MONTH, date(2024, 2, 1), date(2024, 2, 29)),
            (Grain.WEEK, date(2024, 1, 15), date(2024, 1, 28)),
            (Grain.DAY, date(2024, 1, 29), date(2024, 1, 31)),  # the week runs into February
            (Grain.WEEK, date(2024, 3, 4), date(2024, 3, 10)),
            (Grain.DAY, date(2024, 3, 1), date(2024, 3, 3)),
        ]
    )
    # A week timeline reads whole weeks, the one across the month change included
    # (March 10 is a Sunday: the window is whole weeks).
    assert cover(date(2024, 1, 15), date(2024, 3, 10), Grain.WEEK) == [
        (Grain.WEEK, date(2024, 1, 15), date(2024, 3, 10))
    ]
    assert cover(date(2024, 5, 14), date(2024, 5, 14), Grain.MONTH) == [
        (Grain.DAY, date(2024, 5, 14), date(2024, 5, 14))
    ]
    assert cover(date(2024, 1, 1), date(2024, 12, 31), Grain.DAY) == [
        (Grain.DAY, date(2024, 1, 1), date(2024, 12, 31))
    ]
    # Three years ending yesterday (a Sunday): two whole years, then months, a week, days.
    assert sorted(cover(date(2023, 12, 7), date(2026, 12, 6), Grain.YEAR)) == sorted(
        [
            (Grain.YEAR, date(2024, 1, 1), date(2025, 12, 31)),
            (Grain.WEEK, date(2023, 12, 11), date(2023, 12, 31)),  # Dec 31 is a Sunday
            (Grain.DAY, date(2023, 12, 7), date(2023, 12, 10)),
            (Grain.MONTH, date(2026, 1, 1), date(2026, 11, 30)),
            (Grain.DAY, date(2026, 12, 1), date(2026, 12, 6)),
        ]
    )
    # A rolling year holds no calendar year: the same rows as without years.
    one_year = (date(2025, 12, 7), date(2026, 12, 6))
    assert cover(*one_year, Grain.YEAR) == cover(*one_year, Grain.MONTH)


@pytest.mark.parametrize(
    ("day", "monday", "first", "following", "quarter"),
    [
        (date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 1), date(2024, 2, 1), date(2024, 1, 1)),
        (
            date(2023, 12, 31),
            date(2023, 12, 25),
            date(2023, 12, 1),
            date(2024, 1, 1),
            date(2023, 10, 1),
        ),
        (
            date(2024, 2, 29),
            date(2024, 2, 26),
            date(2024, 2, 1),
            date(2024, 3, 1),
            date(2024, 1, 1),
        ),
        (
            date(2024, 6, 30),
            date(2024, 6, 24),
            date(2024, 6, 1),
            date(2024, 7, 1),
            date(2024, 4, 1),
        ),
    ],
)
def test_week_month_and_quarter_starts(day, monday, first, following, quarter):
    assert (week_start(day), period_start(Grain.WEEK, day)) == (monday, monday)
    assert (month_start(day), period_start(Grain.MONTH, day)) == (first, first)
    assert next_month(day) == following
    assert period_end(Grain.MONTH, first) == following - timedelta(days=1)
    assert period_end(Grain.WEEK, monday) == monday + timedelta(days=6)
    assert period_start(Grain.DAY, day) == period_end(Grain.DAY, day) == day
    assert quarter_start(day) == quarter


def test_shift_years_keeps_the_day_and_folds_29_february():
    assert shift_years(date(2024, 2, 29), -1) == date(2023, 2, 28)
    assert shift_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert shift_years(date(2023, 3, 1), 1) == date(2024, 3, 1)
