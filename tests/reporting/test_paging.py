"""Every row within reach: breakdown cursors, the others row, and the answers' provenance."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reporting.errors import ReportError
from reporting.metrics import ADDITIVE_METRICS, METRICS
from reporting.models import CampaignStat, StatsImport
from reporting.periods import DateWindow
from reporting.schemas import CampaignReportParams, Metrics
from reporting.selectors import campaign_report
from reporting.selectors.rows import BAD_CURSOR, OTHER_QUERY, in_window
from tests.support.report_properties import (
    DAYS,
    PROPERTY_SETTINGS,
    START,
    fresh_account,
    stat_row,
)
from tests.support.reports import BASE_ROW, import_rows

WINDOW = {"date_from": START, "date_to": START + timedelta(days=DAYS - 1)}
rows_strategy = st.lists(
    stat_row(), max_size=25, unique_by=lambda r: (r["source_id"], r["date"], r["channel"])
)


def _page(account, **params):
    return campaign_report(
        account=account, allowed_brands=None, params=CampaignReportParams(**WINDOW, **params)
    )


# The field of a campaign statistics row that tells its group, by breakdown.
_GROUP_OF = {
    "campaign": "campaign__external_id",
    "folder": "campaign__folder__name",
    "brand": "campaign__brand__name",
    "channel": "channel",
}


def _others_in_database(account, by: str, shown) -> dict:
    rows = CampaignStat.objects.for_account(account).filter(
        in_window(DateWindow(WINDOW["date_from"], WINDOW["date_to"], "custom"))
    )
    keys = [row.key for row in shown]
    rest = rows.exclude(**{f"{_GROUP_OF[by]}__in": [k for k in keys if k is not None]})
    if None in keys:
        rest = rest.filter(**{f"{_GROUP_OF[by]}__isnull": False})
    # Each metric's own expression over the rows: not the sums the report derives them from.
    found = rest.aggregate(**{f"m_{name}": metric.expression() for name, metric in METRICS.items()})
    return {name: found[f"m_{name}"] for name in METRICS}


def _add(a, b):
    if a is None or b is None:
        return b if a is None else a
    return a + b


@PROPERTY_SETTINGS
@given(
    rows=rows_strategy,
    by=st.sampled_from(["campaign", "folder", "brand", "channel"]),
    sort_by=st.sampled_from(["revenue", "open_rate", "sends", "average_order_value"]),
    order=st.sampled_from(["desc", "asc"]),
    limit=st.integers(1, 3),
)
def test_cursor_pages_give_every_group_once_in_order_and_add_up(
    db, rows, by, sort_by, order, limit
):
    account = fresh_account(rows)
    params = {"breakdown": by, "sort_by": sort_by, "order": order}
    everything = _page(account, limit=500, **params)
    seen, cursor = [], None
    while True:
        report = _page(account, limit=limit, cursor=cursor, **params)
        page = report.breakdown
        assert page.total_groups == everything.breakdown.total_groups
        seen += page.rows
        # The page and the others row add up to the summary, whatever the page.
        if page.others is None:
            assert len(page.rows) == page.total_groups
        if not page.rows:  # no data in the window at all
            assert page.total_groups == 0 and page.others is None and report.summary.sends == 0
            break
        for metric in ADDITIVE_METRICS:
            total = getattr(page.others.metrics, metric) if page.others else None
            for shown in page.rows:
                total = _add(total, getattr(shown.metrics, metric))
            assert total == getattr(report.summary, metric), metric
        if page.others is not None:
            # Every metric of the others row (rates included) as the database computes it
            # over the rows of the groups not shown.
            assert page.others.metrics == Metrics(**_others_in_database(account, by, page.rows))
        cursor = page.next_cursor
        assert page.truncated == (cursor is not None)
        if cursor is None:
            break
    assert [(r.key, r.name) for r in seen] == [(r.key, r.name) for r in everything.breakdown.rows]


@PROPERTY_SETTINGS
@given(
    rows=rows_strategy,
    by=st.sampled_from(["campaign", "folder", "brand", "channel"]),
    dropped=st.integers(0, 4),
    second_page=st.booleans(),
)
def test_a_page_cut_to_a_size_is_the_page_asked_with_that_limit(db, rows, by, dropped, second_page):
    """max_chars cuts the page from the rows read; the result is exactly the page a
    shorter limit asks for: the same rows, cursor and others (first or a later page)."""
    account = fresh_account(rows)
    cursor = _page(account, breakdown=by, limit=1).breakdown.next_cursor if second_page else None
    full = _page(account, breakdown=by, limit=5, cursor=cursor)
    # Room for about `dropped` rows fewer (a row's JSON is some 450-550 characters).
    budget = len(full.model_dump_json()) - 450 * dropped
    fitted = campaign_report(
        account=account,
        allowed_brands=None,
        params=CampaignReportParams(**WINDOW, breakdown=by, limit=5, cursor=cursor),
        max_chars=budget,
    )
    kept = len(fitted.breakdown.rows)
    asked = (
        full
        if kept == len(full.breakdown.rows)
        else _page(account, breakdown=by, limit=kept, cursor=cursor)
    )
    assert _without_cursor(fitted) == _without_cursor(asked)
    # The cursors differ only in when they were signed: both continue at the same row.
    if asked.breakdown.next_cursor is None:
        assert fitted.breakdown.next_cursor is None
    else:
        after_fitted = _page(account, breakdown=by, limit=5, cursor=fitted.breakdown.next_cursor)
        after_asked = _page(account, breakdown=by, limit=5, cursor=asked.breakdown.next_cursor)
        assert after_fitted.breakdown.rows == after_asked.breakdown.rows
    assert len(fitted.model_dump_json()) <= budget or kept <= 1


def _without_cursor(report):
    breakdown = report.breakdown.model_copy(update={"next_cursor": None})
    return report.model_copy(update={"breakdown": breakdown})


@pytest.fixture
def three_campaigns(acme):
    import_rows(
        acme,
        [
            {**BASE_ROW, "source_id": f"c{n}", "source_name": "Same name", "revenue": "10.00"}
            for n in range(3)
        ],
    )
    return acme


def test_ties_are_broken_by_the_source_so_pages_never_repeat(three_campaigns):
    window = {"date_from": date(2024, 3, 4), "date_to": date(2024, 3, 4)}
    params = CampaignReportParams(**window, limit=1)
    keys, cursor = [], None
    for _ in range(3):
        page = campaign_report(
            account=three_campaigns,
            allowed_brands=None,
            params=params.model_copy(update={"cursor": cursor}),
        ).breakdown
        keys += [r.key for r in page.rows]
        cursor = page.next_cursor
    assert keys == ["c0", "c1", "c2"] and cursor is None


def test_a_cursor_is_refused_with_other_arguments_or_when_edited(three_campaigns):
    window = {"date_from": date(2024, 3, 4), "date_to": date(2024, 3, 4)}
    first = campaign_report(
        account=three_campaigns,
        allowed_brands=None,
        params=CampaignReportParams(**window, limit=1),
    )
    cursor = first.breakdown.next_cursor
    with pytest.raises(ReportError, match="different query") as error:
        campaign_report(
            account=three_campaigns,
            allowed_brands=None,
            params=CampaignReportParams(**window, limit=1, sort_by="sends", cursor=cursor),
        )
    assert error.value.message == OTHER_QUERY
    with pytest.raises(ReportError) as error:
        campaign_report(
            account=three_campaigns,
            allowed_brands=None,
            params=CampaignReportParams(**window, limit=1, cursor=cursor[:-2] + "xx"),
        )
    assert error.value.message == BAD_CURSOR
    # limit and the timeline may change between pages.
    second = campaign_report(
        account=three_campaigns,
        allowed_brands=None,
        params=CampaignReportParams(**window, limit=5, timeline="day", cursor=cursor),
    )
    assert [r.key for r in second.breakdown.rows] == ["c1", "c2"]


def test_provenance_follows_the_imports(acme):
    import_rows(acme, [{**BASE_ROW, "date": "2024-03-10"}])
    record = StatsImport.objects.for_account(acme).get()
    first_import = record.imported_at
    # An import of older days corrects history; it does not move data_through back.
    import_rows(acme, [{**BASE_ROW, "date": "2024-03-01"}])
    record.refresh_from_db()
    assert record.data_through == date(2024, 3, 10) and record.imported_at > first_import

    def provenance(date_from, date_to, today):
        return campaign_report(
            account=acme,
            allowed_brands=None,
            params=CampaignReportParams(date_from=date_from, date_to=date_to),
            today=today,
        ).provenance

    whole = provenance("2024-03-01", "2024-03-10", date(2024, 3, 20))
    assert whole.data_through == date(2024, 3, 10) and whole.imported_at == record.imported_at
    assert (whole.partial, whole.timezone, whole.currency) == (False, acme.timezone, acme.currency)
    beyond = provenance("2024-03-01", "2024-03-12", date(2024, 3, 20))
    assert beyond.partial and "last 2 day(s)" in beyond.partial_reason
    running = provenance("2024-03-01", "2024-03-10", date(2024, 3, 10))
    assert running.partial and "includes today (2024-03-10)" in running.partial_reason
    # A file's latest day moves it forward, wherever that day's rows are in the file.
    import_rows(acme, [{**BASE_ROW, "date": "2024-03-14"}, {**BASE_ROW, "date": "2024-03-12"}])
    record.refresh_from_db()
    assert record.data_through == date(2024, 3, 14)


def test_provenance_before_any_import(globex):
    report = campaign_report(
        account=globex, allowed_brands=None, params=CampaignReportParams(period="last_7_days")
    )
    assert report.provenance.data_through is None and report.provenance.imported_at is None
    assert report.provenance.partial and "No statistics" in report.provenance.partial_reason


def test_a_timeline_that_cannot_fit_the_budget_is_refused_before_any_query(
    acme, django_assert_num_queries
):
    """An assistant asking for a day timeline over a year gets the refusal at once: its
    buckets alone would exceed the budget, whatever their numbers."""
    year = CampaignReportParams(date_from="2024-01-01", date_to="2024-12-30", timeline="day")
    with django_assert_num_queries(0), pytest.raises(ReportError) as refused:
        campaign_report(account=acme, allowed_brands=None, params=year, max_chars=60_000)
    assert refused.value.message.startswith(
        "This answer is too large: a day timeline of 365 days has 365 buckets, at least "
    )
    assert refused.value.message.endswith(
        "characters (the limit is 60,000). Use a week or month timeline or a shorter window."
    )
    weeks = year.model_copy(update={"date_from": date(2022, 1, 1), "timeline": "week"})
    with pytest.raises(ReportError, match="Use a month timeline or a shorter window"):
        campaign_report(account=acme, allowed_brands=None, params=weeks, max_chars=60_000)
    # Without a budget (the platform API) the same report is computed.
    served = campaign_report(account=acme, allowed_brands=None, params=year)
    assert len(served.timeline.buckets) == 365


@PROPERTY_SETTINGS
@given(rows=rows_strategy, granularity=st.sampled_from(["day", "week"]))
def test_a_timeline_that_fits_is_never_refused_early(db, rows, granularity):
    """The early refusal's bound lies below any real timeline: a budget of exactly the
    buckets' own characters (less than the whole report's) does not refuse it."""
    account = fresh_account(rows)
    params = CampaignReportParams(**WINDOW, breakdown="none", timeline=granularity)
    full = campaign_report(account=account, allowed_brands=None, params=params)
    bucket_chars = sum(len(bucket.model_dump_json()) + 1 for bucket in full.timeline.buckets)
    fitted = campaign_report(
        account=account, allowed_brands=None, params=params, max_chars=bucket_chars
    )
    assert fitted == full
