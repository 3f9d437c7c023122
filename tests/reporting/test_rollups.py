"""Rollups (week and month rows, per-brand rows) against the imported day rows they sum.

Every expectation is computed in plain Python from the CSV rows the test imported
(the latest row of a key wins, the latest file names a campaign's or flow's
brand), with the calendar's weeks and months: never from the reporting code.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting.models import (
    ROLLUPS,
    Campaign,
    CampaignBrandStat,
    CampaignFolderStat,
    CampaignStat,
    Flow,
    FlowBrandStat,
    FlowStat,
)
from reporting.schemas import CampaignReportParams, FlowReportParams
from tests.support.report_properties import (
    ANALYST,
    PROPERTY_SETTINGS,
    SOURCES,
    assert_metrics_match,
    csv_row,
    fresh_account,
    stat_row,
)
from tests.support.reports import (
    BASE_ROW,
    campaign_report_as,
    flow_report_as,
    flow_row,
    import_rows,
)

COUNTS = (
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
PARTIALS = ("opens_delivered", "clicks_delivered", "both_opens", "both_clicks")
STAT_MODELS = (CampaignStat, FlowStat, CampaignBrandStat, FlowBrandStat)


def _monday(day: date) -> date:
    return day - timedelta(days=day.isoweekday() - 1)


def _first_of_month(day: date) -> date:
    return date(day.year, day.month, 1)


# --- The tables, expected and stored -------------------------------------------------------


def _day_values(counts: dict) -> dict:
    """A day row's counts and partial sums, from the definitions in reporting.models."""
    opens, clicks, delivered = counts["opens"], counts["clicks"], counts["delivered"]
    return {key: counts[key] for key in COUNTS} | {
        "opens_delivered": delivered if opens is not None else None,
        "clicks_delivered": delivered if clicks is not None else None,
        "both_opens": opens if clicks is not None else None,
        "both_clicks": clicks if opens is not None else None,
    }


def _added(total: dict | None, values: dict) -> dict:
    """SQL's SUM: NULLs are skipped, and a sum of only NULLs is NULL."""
    if total is None:
        return dict(values)
    return {
        key: value if total[key] is None else total[key] if value is None else total[key] + value
        for key, value in values.items()
    }


def _periods_of(day: date) -> tuple[tuple[str, date], ...]:
    """(grain, period start) of every row that counts ``day``: its day, ISO week, month
    and year, from the calendar alone."""
    return (
        ("day", day),
        ("week", _monday(day)),
        ("month", _first_of_month(day)),
        ("year", date(day.year, 1, 1)),
    )


def _expected_tables(days: dict, brand_of: dict) -> dict:
    """Every row the four statistics tables should hold, from the day rows alone.

    ``days``: (kind, source_id, day, channel) -> counts; ``brand_of``: (kind,
    source_id) -> brand name. Keys: (kind, "source" or "brand", grain, period
    start, source id or brand name, channel).
    """
    tables: dict = {}
    for (kind, source, day, channel), counts in days.items():
        values = _day_values(counts)
        for grain, start in _periods_of(day):
            for level, name in (("source", source), ("brand", brand_of[(kind, source)])):
                key = (kind, level, grain, start, name, channel)
                tables[key] = _added(tables.get(key), values)
    return tables


def _stored_tables(account) -> dict:
    tables = {}
    for kind, per_source, per_brand in (
        ("campaign", CampaignStat, CampaignBrandStat),
        ("flow", FlowStat, FlowBrandStat),
    ):
        for model, level, name in (
            (per_source, "source", f"{kind}__external_id"),
            (per_brand, "brand", "brand__name"),
        ):
            for row in model.objects.for_account(account).values(
                "grain", "period_start", name, "channel", *COUNTS, *PARTIALS
            ):
                key = (kind, level, row["grain"], row["period_start"], row[name], row["channel"])
                assert key not in tables, key
                tables[key] = {field: row[field] for field in (*COUNTS, *PARTIALS)}
    return tables


def _versions(account, models=STAT_MODELS) -> dict:
    """(table, id) -> xmin: the transaction that last wrote each row of the account."""
    versions = {}
    with connection.cursor() as cursor:
        for model in (*models, Campaign, Flow):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT id, xmin::text FROM {table} WHERE account_id = %s",  # noqa: S608
                [account.pk],
            )
            versions |= {(table, pk): xmin for pk, xmin in cursor.fetchall()}
    return versions


# --- Any sequence of imports ---------------------------------------------------------------

SEQUENCE_START = date(2023, 12, 18)  # a Monday; the span crosses a year and a straddled month
SEQUENCE_DAYS = 60
SEQUENCE_SOURCES = [("campaign", "c0"), ("campaign", "c1"), ("campaign", "c2"), ("flow", "f0")]
SEQUENCE_SOURCES.append(("flow", "f1"))
BRANDS = ["Alpha", "Beta", "Gamma"]
CHANNELS = ["email", "sms", "web_push"]


def _counts(row: dict) -> dict:
    return {key: row[key] for key in COUNTS}


def _csv(key: tuple, counts: dict, brand: str) -> dict:
    kind, source, day, channel = key
    campaign = kind == "campaign"
    return {
        **counts,
        "date": day.isoformat(),
        "kind": kind,
        "source_id": source,
        "source_name": f"{kind} {source}",
        "folder": "Promos" if campaign else "",
        "brand": brand,
        "goal": "Sales",
        "activation_type": "one_time" if campaign else "",
        "channel": channel,
        "opens": "" if counts["opens"] is None else counts["opens"],
        "clicks": "" if counts["clicks"] is None else counts["clicks"],
    }


@st.composite
def import_sequences(draw):
    """One to four files. Each names every source it holds with a brand drawn afresh (so
    brands move), re-imports some stored keys (unchanged, or with new counts, tracking
    opens/clicks or not) and adds new keys anywhere in the span."""
    stored: dict = {}
    files = []
    for _ in range(draw(st.integers(1, 4))):
        again = []
        if stored:
            again = draw(st.lists(st.sampled_from(sorted(stored)), unique=True, max_size=8))
        new = draw(
            st.lists(
                st.tuples(
                    st.sampled_from(SEQUENCE_SOURCES),
                    st.integers(0, SEQUENCE_DAYS - 1),
                    st.sampled_from(CHANNELS),
                ).map(lambda t: (*t[0], SEQUENCE_START + timedelta(days=t[1]), t[2])),
                unique=True,
                min_size=1,
                max_size=12,
            )
        )
        rows = {}
        for key in again:
            keep = draw(st.booleans())
            rows[key] = stored[key] if keep else _counts(draw(stat_row()))
        for key in new:
            rows.setdefault(key, _counts(draw(stat_row())))
        brands = {source: draw(st.sampled_from(BRANDS)) for source in SEQUENCE_SOURCES}
        files.append((rows, brands))
        stored |= rows
    return files


@settings(PROPERTY_SETTINGS, max_examples=30)
@given(files=import_sequences())
def test_rollups_equal_their_day_rows_after_any_sequence_of_imports(db, files):
    """After every file: each week and month row is the sum of its day rows, each per-brand
    row (day, week, month) the sum of its brand's per-source rows, and no row exists that
    no day row accounts for. Re-importing everything as it stands then writes nothing."""
    account = fresh_account([])
    days: dict = {}
    brand_of: dict = {}
    for rows, brands in files:
        import_rows(account, [_csv(key, counts, brands[key[:2]]) for key, counts in rows.items()])
        days |= rows
        brand_of |= {key[:2]: brands[key[:2]] for key in rows}
        assert _stored_tables(account) == _expected_tables(days, brand_of)

    before = _versions(account)
    again = import_rows(
        account, [_csv(key, counts, brand_of[key[:2]]) for key, counts in days.items()]
    )
    assert (again.rows, again.written) == (len(days), 0)
    assert _versions(account) == before  # not one row rewritten, rollups included


# Each brand's campaigns file into one folder (or none), so a brand move is a folder move.
FOLDER_OF = {"Alpha": "Promos", "Beta": "", "Gamma": "News"}
ALL_TABLES = tuple(model for tables in ROLLUPS.values() for model in tables)


def _named(name: str) -> str:
    """The lookup naming a key column's value: an external id, a name, or the channel."""
    if name in ("campaign", "flow"):
        return f"{name}__external_id"
    return f"{name}__name" if name in ("brand", "folder") else name


def _expected_every_table(days: dict, brand_of: dict) -> dict:
    """Every row of every statistics table (reporting.models.ROLLUPS), from the day rows:
    (table, grain, period start, *key values) -> sums."""
    tables: dict = {}
    for (kind, source, day, channel), counts in days.items():
        values = _day_values(counts)
        brand = brand_of[(kind, source)]
        folder = (FOLDER_OF[brand] or None) if kind == "campaign" else None
        value_of = {kind: source, "channel": channel, "brand": brand, "folder": folder}
        for grain, start in _periods_of(day):
            for model in ROLLUPS[kind]:
                key = (model.__name__, grain, start, *(value_of[name] for name in model.key))
                tables[key] = _added(tables.get(key), values)
    return tables


def _stored_every_table(account) -> dict:
    tables = {}
    for model in ALL_TABLES:
        names = [_named(name) for name in model.key]
        for row in model.objects.for_account(account).values(
            "grain", "period_start", *names, *COUNTS, *PARTIALS
        ):
            key = (model.__name__, row["grain"], row["period_start"], *(row[n] for n in names))
            assert key not in tables, key
            tables[key] = {field: row[field] for field in (*COUNTS, *PARTIALS)}
    return tables


@settings(PROPERTY_SETTINGS, max_examples=20)
@given(files=import_sequences())
def test_every_table_sums_the_imported_rows_after_any_sequence_of_imports(db, files):
    """Per-campaign and per-flow rows over all channels, per-folder rows (folders move with
    the brands here) and the rest: after every file each row of every table is the sum of
    the imported day rows it covers, and no other row exists. Re-importing everything as it
    stands then rewrites no row of any table."""
    account = fresh_account([])
    days: dict = {}
    brand_of: dict = {}

    def csv_rows(rows: dict, brands: dict) -> list[dict]:
        found = []
        for key, counts in rows.items():
            row = _csv(key, counts, brands[key[:2]])
            found.append(row | ({"folder": FOLDER_OF[row["brand"]]} if row["folder"] else {}))
        return found

    for rows, brands in files:
        import_rows(account, csv_rows(rows, brands))
        days |= rows
        brand_of |= {key[:2]: brands[key[:2]] for key in rows}
        assert _stored_every_table(account) == _expected_every_table(days, brand_of)

    before = _versions(account, ALL_TABLES)
    assert import_rows(account, csv_rows(days, brand_of)).written == 0
    assert _versions(account, ALL_TABLES) == before


def _row(source_id: str, day: date, channel: str, **counts) -> dict:
    values = {
        "sends": 100,
        "delivered": 90,
        "bounces": 10,
        "opens": 30,
        "clicks": 6,
        "unsubscribes": 1,
        "spam_complaints": 0,
        "orders": 2,
        "revenue": Decimal("80.50"),
    }
    return {"source_id": source_id, "date": day, "channel": channel, **values, **counts}


def _month_row(model, account, **key):
    return model.objects.for_account(account).get(grain="month", **key)


@pytest.mark.django_db
def test_a_group_whose_only_tracked_row_stops_tracking_becomes_untracked():
    tracked = _row("c0", date(2024, 1, 31), "email", opens=30, clicks=6)
    untracked = _row("c0", date(2024, 1, 30), "email", opens=None, clicks=None)
    account = fresh_account([tracked, untracked])
    month = _month_row(CampaignStat, account)
    assert (month.opens, month.opens_delivered, month.both_opens) == (30, 90, 30)

    import_rows(account, [csv_row({**tracked, "opens": None})])
    for model in (CampaignStat, CampaignBrandStat):
        month = _month_row(model, account)
        assert (month.opens, month.opens_delivered, month.both_opens) == (None, None, None)
        assert (month.clicks, month.clicks_delivered, month.both_clicks) == (6, 90, None)


@pytest.mark.django_db
def test_a_flow_moving_brand_takes_its_per_brand_rows_with_it(acme):
    rows = [
        flow_row(date="2024-01-30", source_id="f1", brand="Alpha"),
        flow_row(
            date="2024-02-02", source_id="f2", brand="Beta", sends="7", delivered="7", bounces="0"
        ),
    ]
    import_rows(acme, rows)
    # f1 moves to Beta in a file holding only a later day of it.
    import_rows(acme, [flow_row(date="2024-03-01", source_id="f1", brand="Beta")])
    brand_rows = FlowBrandStat.objects.for_account(acme)
    assert not brand_rows.filter(brand__name="Alpha").exists()
    # The week of Jan 29 holds both flows' days, now both Beta's.
    week = brand_rows.get(grain="week", period_start=date(2024, 1, 29))
    assert (week.brand.name, week.sends) == ("Beta", 107)
    assert sorted(brand_rows.filter(grain="month").values_list("period_start", "sends")) == [
        (date(2024, 1, 1), 100),
        (date(2024, 2, 1), 7),
        (date(2024, 3, 1), 100),
    ]


@pytest.mark.django_db
def test_a_campaign_moving_folder_takes_its_per_folder_rows_with_it(acme):
    def row(day: str, folder: str) -> dict:
        return {**BASE_ROW, "date": day, "folder": folder}

    import_rows(acme, [row("2024-01-30", "Promotions"), row("2024-02-02", "Promotions")])
    # Unfiled, then in a new folder, each time in a file holding only a later day of it.
    import_rows(acme, [row("2024-03-01", "")])
    folder_rows = CampaignFolderStat.objects.for_account(acme)
    assert set(folder_rows.values_list("folder", flat=True)) == {None}
    import_rows(acme, [row("2024-03-02", "Archive")])
    assert set(folder_rows.values_list("folder__name", flat=True)) == {"Archive"}
    assert sorted(folder_rows.filter(grain="month").values_list("period_start", "sends")) == [
        (date(2024, 1, 1), 100),
        (date(2024, 2, 1), 100),
        (date(2024, 3, 1), 200),
    ]


@pytest.mark.django_db
def test_an_import_rewrites_only_the_rollups_of_its_periods():
    """Rows of periods holding none of the file's changed days keep their version."""
    days = [date(2024, 1, 22) + timedelta(days=n) for n in range(21)]  # 3 weeks, 2 months
    account = fresh_account([_row(s, d, "email") for s in ("c0", "c1") for d in days])
    before = _versions(account)
    changed = _row("c1", date(2024, 2, 8), "email", sends=300, delivered=250)  # a Thursday
    assert import_rows(account, [csv_row(changed)]).written == 1
    after = _versions(account)
    rewritten = {key for key, xmin in after.items() if before.get(key) != xmin}
    touched = {
        ("day", date(2024, 2, 8)),
        ("week", date(2024, 2, 5)),
        ("month", date(2024, 2, 1)),
        ("year", date(2024, 1, 1)),
    }
    ids = {}
    for model in STAT_MODELS:
        for pk, grain, start in model.objects.for_account(account).values_list(
            "pk", "grain", "period_start"
        ):
            ids[(model._meta.db_table, pk)] = (grain, start)
    assert rewritten <= set(ids)  # no campaign or flow rewritten either
    assert {ids[key] for key in rewritten} <= touched
    assert ("day", date(2024, 2, 8)) in {ids[key] for key in rewritten}


@pytest.mark.django_db
def test_import_queries_do_not_grow_with_the_rows():
    def queries_for(count: int) -> tuple[int, int]:
        rows = [
            _row(f"c{n % 4}", date(2024, 1, 1) + timedelta(days=n // 4), "email")
            for n in range(count)
        ]
        account = fresh_account([])
        with CaptureQueriesContext(connection) as queries:
            import_rows(account, [csv_row(r) for r in rows] + [flow_row()])
        changed = [csv_row({**r, "sends": 999}) for r in rows]
        moved = [{**row, "brand": "Moved"} for row in changed]
        with CaptureQueriesContext(connection) as again:
            import_rows(account, moved)
        return len(queries), len(again)

    assert queries_for(8) == queries_for(160)


# --- Reports over the rollups equal the raw rows ----------------------------------------------

SPAN_START = date(2023, 11, 20)  # a Monday; the span crosses the new year
SPAN_DAYS = 100


# Over two new years: windows that hold the whole of 2024 read its year rows.
LONG_SPAN_START, LONG_SPAN_DAYS = date(2023, 11, 20), 470
WHOLE_YEAR = (date(2024, 1, 1), date(2024, 12, 31))


@st.composite
def spread_row(draw, start: date = SPAN_START, days: int = SPAN_DAYS):
    return {**draw(stat_row()), "date": start + timedelta(draw(st.integers(0, days - 1)))}


def _spread_rows(start: date = SPAN_START, days: int = SPAN_DAYS, max_size: int = 40):
    return st.lists(
        spread_row(start, days),
        max_size=max_size,
        unique_by=lambda r: (r["source_id"], r["date"], r["channel"]),
    )


spread_rows = _spread_rows()


@st.composite
def windows(draw, start: date = SPAN_START, days: int = SPAN_DAYS):
    first = start + timedelta(draw(st.integers(0, days - 1)))
    end = start + timedelta(days=days - 1)
    return first, first + timedelta(draw(st.integers(0, (end - first).days)))


@st.composite
def dimension_filters(draw):
    """Filters on the per-brand rows' dimensions (brands, channels) or on the campaigns'
    own (activation types: per-source rows only), or none; with the rows they keep."""
    chosen = {}
    if draw(st.booleans()):
        chosen["brands"] = draw(st.lists(st.sampled_from(["Alpha", "Beta"]), min_size=1))
    if draw(st.booleans()):
        chosen["channels"] = draw(
            st.lists(st.sampled_from(["email", "sms", "web_push"]), min_size=1)
        )
    if draw(st.booleans()):
        types = ["one_time", "trigger", "recurring", "api"]
        chosen["activation_types"] = draw(st.lists(st.sampled_from(types), min_size=1))
    return chosen


def _kept(row: dict, filters: dict) -> bool:
    brand, _, activation_type = SOURCES[row["source_id"]]
    return (
        brand in filters.get("brands", [brand])
        and row["channel"] in filters.get("channels", [row["channel"]])
        and activation_type in filters.get("activation_types", [activation_type])
    )


GROUP_OF = {
    "campaign": lambda r: r["source_id"],
    "folder": lambda r: SOURCES[r["source_id"]][1] or None,
    "brand": lambda r: SOURCES[r["source_id"]][0],
    "channel": lambda r: r["channel"],
}


@settings(PROPERTY_SETTINGS, max_examples=30)
@given(
    rows=spread_rows,
    window=windows(),
    filters=dimension_filters(),
    timeline=st.sampled_from(["day", "week", "month"]),
    breakdown=st.sampled_from(sorted(GROUP_OF)),
)
def test_reports_over_rollups_equal_the_raw_rows(cast, rows, window, filters, timeline, breakdown):
    """Summary, comparison, timeline and breakdown for any window: whichever rows the
    report reads (per brand or per campaign; day, week or month), each number equals the
    arithmetic over the raw rows of its days."""
    _assert_report_equals_the_raw_rows(cast, rows, window, filters, timeline, breakdown)


@st.composite
def windows_holding_a_year(draw):
    """From the span's start to 2024's first day, until 2024's last day to the span's end."""
    last_day = LONG_SPAN_START + timedelta(days=LONG_SPAN_DAYS - 1)
    first = draw(st.integers(0, (WHOLE_YEAR[0] - LONG_SPAN_START).days))
    after = draw(st.integers(0, (last_day - WHOLE_YEAR[1]).days))
    return LONG_SPAN_START + timedelta(first), WHOLE_YEAR[1] + timedelta(after)


@settings(PROPERTY_SETTINGS, max_examples=10)
@given(
    rows=_spread_rows(LONG_SPAN_START, LONG_SPAN_DAYS, max_size=60),
    window=windows_holding_a_year(),
    filters=dimension_filters(),
    breakdown=st.sampled_from(sorted(GROUP_OF)),
)
def test_reports_over_year_rows_equal_the_raw_rows(cast, rows, window, filters, breakdown):
    """The same over windows holding the whole of 2024: a summary or a breakdown reads
    2024's year rows (a month timeline, its months)."""
    _assert_report_equals_the_raw_rows(cast, rows, window, filters, "month", breakdown)


def _assert_report_equals_the_raw_rows(cast, rows, window, filters, timeline, breakdown):
    account = fresh_account(rows)
    first, last = window
    imported = {SOURCES[r["source_id"]][0] for r in rows}
    brands = [b for b in filters.pop("brands", []) if b in imported]
    if brands:  # only brands the import created exist
        filters["brands"] = brands
    report = campaign_report_as(
        account=account,
        user=cast.user(ANALYST),
        params=CampaignReportParams(
            date_from=first,
            date_to=last,
            timeline=timeline,
            breakdown=breakdown,
            compare_to="previous_period",
            limit=500,
            **filters,
        ),
    )
    kept = [r for r in rows if _kept(r, filters)]

    def between(start: date, end: date) -> list[dict]:
        return [r for r in kept if start <= r["date"] <= end]

    inside = between(first, last)
    assert_metrics_match(report.summary, inside)
    before = report.comparison.window
    assert (before.date_to, before.days) == (first - timedelta(days=1), (last - first).days + 1)
    assert_metrics_match(report.comparison.summary, between(before.date_from, before.date_to))
    buckets = report.timeline.buckets
    assert (buckets[0].period_start, buckets[-1].period_end) == (first, last)
    for bucket in buckets:
        assert_metrics_match(bucket.metrics, between(bucket.period_start, bucket.period_end))
    groups = {
        key: list(group)
        for key, group in itertools.groupby(
            sorted(inside, key=lambda r: str(GROUP_OF[breakdown](r))), key=GROUP_OF[breakdown]
        )
    }
    assert {row.key for row in report.breakdown.rows} == set(groups)
    for row in report.breakdown.rows:
        assert_metrics_match(row.metrics, groups[row.key])


@pytest.mark.django_db
def test_flow_report_over_rollups_after_an_upsert(cast, acme):
    days = [date(2023, 12, 28) + timedelta(days=n) for n in range(40)]
    import_rows(
        acme,
        [flow_row(date=d.isoformat(), sends="10", delivered="10", bounces="0") for d in days],
    )
    import_rows(acme, [flow_row(date="2024-01-10", sends="1000", delivered="900", bounces="0")])
    assert _month_row(FlowStat, acme, period_start=date(2024, 1, 1)).sends == 30 * 10 + 1000
    report = flow_report_as(
        account=acme,
        user=cast.user(ANALYST),
        params=FlowReportParams(date_from=date(2023, 12, 30), date_to=date(2024, 2, 3)),
    )
    # 36 days of 10, one of them raised to 1000.
    assert report.summary.sends == 35 * 10 + 1000
    assert report.summary.delivered == 35 * 10 + 900
    assert report.breakdown.rows[0].metrics.sends == 35 * 10 + 1000
