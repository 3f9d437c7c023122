"""Report latency on the ``seed_demo --scale large`` dataset, against hand-written SQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/maestra_bench \\
        .venv/bin/python manage.py seed_demo --scale large
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/maestra_bench \\
        .venv/bin/python benchmarks/reports.py [--runs 30]

For each scenario: p50/p95 of the whole report call (brand scope, filters,
summary, timeline, breakdown, pydantic result) and of the same aggregates as
hand SQL executed on the same connection, and their ratio. Writes
benchmarks/results/reports.md.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from datetime import date, timedelta

from _setup import django_setup, machine, percentile, publish

django_setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max  # noqa: E402

from accounts.models import Account, Membership, Role  # noqa: E402
from permissions.brand_scope import allowed_brand_ids  # noqa: E402
from reporting.demo import LARGE_ACCOUNT  # noqa: E402
from reporting.models import CampaignDailyStat, FlowDailyStat  # noqa: E402
from reporting.schemas import CampaignReportParams, FlowReportParams  # noqa: E402
from reporting.selectors import campaign_report, flow_report  # noqa: E402

# The metrics exactly as reporting/metrics.py defines them, written by hand over the
# report rows (daily rows and rollups alike, see reporting.models.StatRowBase).
_METRICS_SQL = """
    COALESCE(SUM(s.sends), 0), COALESCE(SUM(s.delivered), 0), COALESCE(SUM(s.bounces), 0),
    SUM(s.opens), SUM(s.clicks), COALESCE(SUM(s.unsubscribes), 0),
    COALESCE(SUM(s.spam_complaints), 0), COALESCE(SUM(s.orders), 0), COALESCE(SUM(s.revenue), 0),
    SUM(s.delivered)::float8 / NULLIF(SUM(s.sends)::float8, 0),
    SUM(s.bounces)::float8 / NULLIF(SUM(s.sends)::float8, 0),
    SUM(s.opens)::float8 / NULLIF(SUM(s.opens_delivered)::float8, 0),
    SUM(s.clicks)::float8 / NULLIF(SUM(s.clicks_delivered)::float8, 0),
    SUM(s.both_clicks)::float8 / NULLIF(SUM(s.both_opens)::float8, 0),
    SUM(s.orders)::float8 / NULLIF(SUM(s.delivered)::float8, 0),
    SUM(s.unsubscribes)::float8 / NULLIF(SUM(s.delivered)::float8, 0),
    SUM(s.spam_complaints)::float8 / NULLIF(SUM(s.delivered)::float8, 0),
    ROUND(SUM(s.revenue) / NULLIF(SUM(s.orders), 0), 2),
    ROUND(SUM(s.revenue) / NULLIF(SUM(s.delivered), 0), 4)
"""


def _cover(first: date, last: date) -> str:
    """Rows covering [first, last] once: whole months ('m'), whole ISO weeks of the
    partial edge months ('w'), the remaining days ('d'), as the report reads them."""

    def days_and_weeks(a: date, b: date) -> list[tuple[str, date, date]]:
        monday = a + timedelta(days=-a.weekday() % 7)
        end = b + timedelta(days=1)
        end -= timedelta(days=end.weekday())
        if monday >= end:
            return [("d", a, b)]
        parts = [("w", monday, end - timedelta(days=1))]
        parts += [("d", a, monday - timedelta(days=1))] if a < monday else []
        return parts + ([("d", end, b)] if end <= b else [])

    month = first if first.day == 1 else (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    month_end = (last + timedelta(days=1)).replace(day=1)
    if month > month_end:
        parts = days_and_weeks(first, last)
    else:
        parts = [("m", month, month_end - timedelta(days=1))] if month < month_end else []
        parts += days_and_weeks(first, month - timedelta(days=1)) if first < month else []
        parts += days_and_weeks(month_end, last) if month_end <= last else []
    return " OR ".join(
        f"(s.grain = '{grain}' AND s.date BETWEEN '{a}' AND '{b}')" for grain, a, b in parts
    )


def _hand_sql(kind: str, timeline: str | None, breakdown: bool, first: date, last: date):
    """The report's queries by hand: summary and timeline from the per-channel daily
    rollup (no dimension filter), the top 50 from the per-source rollups and days."""
    rows, source, fk = {
        "campaign": ("reporting_campaignstat_rows", "reporting_campaign", "campaign_id"),
        "flow": ("reporting_flowstat_rows", "reporting_flow", "flow_id"),
    }[kind]
    where = "s.account_id = %(account)s AND s.grain = 'a' AND s.date BETWEEN %(start)s AND %(end)s"
    queries = [f"SELECT {_METRICS_SQL} FROM {rows} s WHERE {where}"]  # noqa: S608
    if timeline:
        bucket = "s.date" if timeline == "day" else f"date_trunc('{timeline}', s.date)::date"
        queries.append(
            f"SELECT {bucket} AS bucket, {_METRICS_SQL} FROM {rows} s WHERE {where} "  # noqa: S608
            "GROUP BY 1 ORDER BY 1"
        )
    if breakdown:
        # Grouped by campaign or flow, then joined to the names of the groups only
        # (joining the rows first costs a probe per row on a large campaign table).
        queries.append(
            f"SELECT x.external_id, x.name, g.*, COUNT(*) OVER () FROM ("  # noqa: S608
            f"SELECT {_METRICS_SQL}, COALESCE(SUM(s.revenue), 0) AS sort_key, s.{fk} AS source "
            f"FROM {rows} s WHERE s.account_id = %(account)s AND ({_cover(first, last)}) "
            f"GROUP BY s.{fk}) g JOIN {source} x ON x.id = g.source "
            "ORDER BY g.sort_key DESC NULLS LAST, x.name, g.source LIMIT 50"
        )
    return queries


def _python_calls(call) -> int:
    """Python and builtin function calls made by ``call()``: the Python cost, not timed,
    so independent of the machine's load."""
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        calls += event in ("call", "c_call")

    sys.setprofile(count)
    try:
        call()
    finally:
        sys.setprofile(None)
    return calls


class _QueryClock:
    """Wall time spent inside the database driver's execute, per measured call.

    Splits a call's time into its queries (round trip, planning, execution) and
    the Python around them, so the ORM's SQL and its Python are judged apart.
    """

    def __init__(self):
        self.spent = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.spent += time.perf_counter() - started

    def time(self, call) -> tuple[float, float]:
        """(whole call, its queries) in ms."""
        self.spent = 0.0
        started = time.perf_counter()
        call()
        return (time.perf_counter() - started) * 1000, self.spent * 1000


def _run_sql(queries, params) -> list:
    results = []
    with connection.cursor() as cursor:
        for sql in queries:
            cursor.execute(sql, params)
            results.append(cursor.fetchall())
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    account = Account.objects.get(system_name=LARGE_ACCOUNT)
    user, _ = get_user_model().objects.get_or_create(username="benchmark@maestra.test")
    # Reports show a non-member nothing; an unrestricted analyst sees every brand.
    Membership.objects.get_or_create(user=user, account=account, defaults={"role": Role.ANALYST})
    last = CampaignDailyStat.objects.for_account(account).aggregate(m=Max("date"))["m"]
    today = last + timedelta(days=1)
    rows = {
        model.__name__: model.objects.for_account(account).count()
        for model in (CampaignDailyStat, FlowDailyStat)
    }

    def window(days: int) -> dict:
        return {"date_from": today - timedelta(days=days), "date_to": last}

    def span(days: int) -> tuple[date, date]:
        return today - timedelta(days=days), last

    scenarios = [
        (
            "campaigns, 90 days, day timeline, top-50 campaigns",
            100,
            lambda: campaign_report(
                account=account,
                allowed_brands=allowed_brand_ids(user=user, account=account),
                params=CampaignReportParams(**window(90), timeline="day", limit=50),
                today=today,
            ),
            _hand_sql("campaign", "day", True, *span(90)),
            90,
        ),
        (
            "campaigns, 1 year, month timeline, top-50 campaigns",
            300,
            lambda: campaign_report(
                account=account,
                allowed_brands=allowed_brand_ids(user=user, account=account),
                params=CampaignReportParams(**window(365), timeline="month", limit=50),
                today=today,
            ),
            _hand_sql("campaign", "month", True, *span(365)),
            365,
        ),
        (
            "flows, 90 days, top-50 flows by revenue",
            100,
            lambda: flow_report(
                account=account,
                allowed_brands=allowed_brand_ids(user=user, account=account),
                params=FlowReportParams(**window(90), sort_by="revenue", limit=50),
                today=today,
            ),
            _hand_sql("flow", None, True, *span(90)),
            90,
        ),
    ]

    results = []
    for name, target, orm_call, queries, days in scenarios:
        params = {"account": account.pk, "start": today - timedelta(days=days), "end": last}
        for _ in range(3):  # warm caches and connections
            report = orm_call()
            summary, *_, top = _run_sql(queries, params)
        # Same numbers both ways, or the comparison means nothing.
        assert summary[0][0] == report.summary.sends, name
        assert summary[0][8] == report.summary.revenue, name
        assert [row[0] for row in top] == [row.key for row in report.breakdown.rows], name
        assert [row[2] for row in top] == [row.metrics.sends for row in report.breakdown.rows]
        orm, sql, orm_queries, sql_queries = [], [], [], []
        clock = _QueryClock()
        hand_call = functools.partial(_run_sql, queries, params)
        with connection.execute_wrapper(clock):
            for _ in range(args.runs):  # interleaved, so background load hits both alike
                whole, in_queries = clock.time(orm_call)
                orm.append(whole)
                orm_queries.append(in_queries)
                whole, in_queries = clock.time(hand_call)
                sql.append(whole)
                sql_queries.append(in_queries)
        o50, o95 = percentile(orm, 0.5), percentile(orm, 0.95)
        s50, s95 = percentile(sql, 0.5), percentile(sql, 0.95)
        in_queries = (percentile(orm_queries, 0.5), percentile(sql_queries, 0.5))
        calls = (_python_calls(orm_call), _python_calls(hand_call))
        results.append((name, o50, o95, s50, s95, o50 / s50, target, in_queries, calls))

    all_rows = CampaignDailyStat.objects.unscoped().count()
    all_rows += FlowDailyStat.objects.unscoped().count()
    header = (
        "| scenario | ORM p50 ms | ORM p95 ms | hand SQL p50 ms | hand SQL p95 ms "
        "| ORM/SQL (p50) | target p95 | met | in queries p50 ms (ORM / hand SQL) "
        "| Python calls (ORM / hand SQL) |"
    )
    lines = [
        f"# Report benchmark ({date.today().isoformat()})",
        "",
        f"{machine()}; account `{LARGE_ACCOUNT}`: {rows['CampaignDailyStat']:,} campaign rows, "
        f"{rows['FlowDailyStat']:,} flow rows (all accounts: "
        f"{all_rows:,}"
        f"); {args.runs} runs each, interleaved, after 3 warm-up runs.",
        "",
        header,
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for name, o50, o95, s50, s95, ratio, target, queries, calls in results:
        met = "yes" if o95 <= target and ratio <= 1.2 else "NO"
        lines.append(
            f"| {name} | {o50:.1f} | {o95:.1f} | {s50:.1f} | {s95:.1f} | {ratio:.2f} "
            f"| ≤ {target} ms, ratio ≤ 1.2 | {met} | {queries[0]:.1f} / {queries[1]:.1f} "
            f"| {calls[0]:,} / {calls[1]:,} |"
        )
    lines += [
        "",
        "ORM timings are the whole `campaign_report`/`flow_report` call (brand-scope query, "
        "summary, timeline and breakdown queries, result models); hand SQL runs only the "
        "equivalent aggregate queries, written by hand over the same rows: summary and timeline"
        " from the per-channel daily rollup, the top 50 grouped by campaign or flow over the "
        "monthly and weekly rollups plus the daily rows of the remaining edge days (the view "
        "`reporting_*stat_rows`), then joined to the groups' names. The hand SQL skips the "
        "user's brand-scope lookup (one more round trip, well under 1 ms of SQL, that any real "
        "caller needs), so the ORM path runs one query more than it. Python calls: every Python"
        " and builtin function call of one run (sys.setprofile), the part of the cost that does"
        " not depend on the machine's load. In queries: the part of the call spent inside the "
        "driver's execute (round trip, planning, execution; `connection.execute_wrapper`); the "
        "rest is Python. The warm-up runs also compile each report query's template "
        "(`reporting/prepared.py`): a process's first report of a structure builds its SQL "
        "twice, later ones only bind their values.",
    ]
    publish(lines, "reports.md")


if __name__ == "__main__":
    main()
