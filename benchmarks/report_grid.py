"""Time one checkout's reports, one grid cell at a time, on request.

Run from the root of the checkout whose code is measured (its reporting core is
imported from the current directory, so a worktree of an older commit can be
measured with this file), against a database holding the ``megastore`` account:

    cd <checkout> && DATABASE_URL=… python <this repo>/benchmarks/report_grid.py

It prints ``{"last_day": …}``, then answers each line ``<shape> | <window><TAB><runs>``
on standard input with one JSON line: for 0 runs the cell is warmed (3 calls) and
``{"check": …}`` says what the answer was, otherwise ``{"samples": [ms, …]}``.
``benchmarks/reports.py`` runs it on the current and the previous implementation
at once and alternates between them, so both see the same load.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import sys
import time
from datetime import timedelta

WINDOWS = {"7 days": 7, "90 days": 90, "1 year": 365, "3 years": 1095}
# shape -> (tool, params)
SHAPES = {
    "summary": ("campaign", {"breakdown": "none"}),
    "day timeline": ("campaign", {"breakdown": "none", "timeline": "day"}),
    "month timeline": ("campaign", {"breakdown": "none", "timeline": "month"}),
    "by channel": ("campaign", {"breakdown": "channel"}),
    "by brand": ("campaign", {"breakdown": "brand"}),
    "by folder": ("campaign", {"breakdown": "folder"}),
    "top-50 campaigns": ("campaign", {"breakdown": "campaign", "limit": 50}),
    "top-50 flows": ("flow", {"breakdown": "flow", "limit": 50}),
    "top-50 campaigns + compare": (
        "campaign",
        {"breakdown": "campaign", "limit": 50, "compare_to": "previous_period"},
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--account", default="megastore")
    args = parser.parse_args()
    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maestra_mcp.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 40)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    # The process as its server has it: the application built at import (for this
    # checkout, with the heap left after start-up frozen out of the garbage collector).
    importlib.import_module("maestra_mcp.asgi")
    from django.contrib.auth import get_user_model

    from accounts.models import Account, Membership, Role
    from reporting.schemas import CampaignReportParams, FlowReportParams
    from reporting.selectors import campaign_report, flow_report

    account = Account.objects.get(system_name=args.account)
    user, _ = get_user_model().objects.get_or_create(username="benchmark@maestra.test")
    Membership.objects.get_or_create(user=user, account=account, defaults={"role": Role.ANALYST})
    if "allowed_brands" in inspect.signature(campaign_report).parameters:
        # The caller decides the brand scope (as the MCP tools do, one query).
        from permissions.brand_scope import allowed_brand_ids

        def scope() -> dict:
            return {"allowed_brands": allowed_brand_ids(user=user, account=account)}
    else:

        def scope() -> dict:
            return {"user": user}

    last = _last_day(account)
    today = last + timedelta(days=1)
    calls = {}
    for window, days in WINDOWS.items():
        dates = {"date_from": today - timedelta(days=days), "date_to": last}
        for shape, (tool, params) in SHAPES.items():
            selector, model = {
                "campaign": (campaign_report, CampaignReportParams),
                "flow": (flow_report, FlowReportParams),
            }[tool]

            def call(selector=selector, model=model, params=params, dates=dates):
                return selector(
                    account=account, params=model(**dates, **params), today=today, **scope()
                )

            calls[f"{shape} | {window}"] = call
    print(json.dumps({"last_day": str(last)}), flush=True)
    for line in sys.stdin:
        key, runs = line.rstrip("\n").split("\t")
        if int(runs) == 0:
            for _ in range(3):  # warm caches and the connection
                report = calls[key]()
            # What both implementations must agree on, checked by the caller.
            check = [
                report.summary.sends,
                str(report.summary.revenue),
                [row.key for row in report.breakdown.rows] if report.breakdown else None,
                len(report.timeline.buckets) if report.timeline else None,
            ]
            print(json.dumps({"check": check}), flush=True)
            continue
        timings = []
        for _ in range(int(runs)):
            started = time.perf_counter()
            calls[key]()
            timings.append((time.perf_counter() - started) * 1000)
        print(json.dumps({"samples": timings}), flush=True)


def _last_day(account):
    """The account's last day with statistics, whatever the implementation's tables."""
    from django.db import connection

    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        table, column, day = (
            ("reporting_campaignstat", "period_start", " AND grain = 'day'")
            if "reporting_campaignstat" in tables
            else ("reporting_campaigndailystat", "date", "")
        )
        cursor.execute(
            f"SELECT MAX({column}) FROM {table} WHERE account_id = %s{day}",  # noqa: S608 - constants
            [account.pk],
        )
        return cursor.fetchone()[0]


if __name__ == "__main__":
    main()
