"""Statistics for reports: CSV rows built from dicts, imported through the real import service,
and the report selectors called as a member (their brand scope computed as the tools do)."""

from __future__ import annotations

import io
from collections.abc import Iterable

from permissions.brand_scope import allowed_brand_ids
from reporting.selectors import campaign_report, explain_change, flow_report, report_filters
from reporting.services.stats_import import COLUMNS, stats_import

BASE_ROW = {
    "date": "2024-03-04",
    "kind": "campaign",
    "source_id": "c1",
    "source_name": "Spring sale",
    "folder": "Promotions",
    "brand": "Acme Home",
    "goal": "Sales",
    "activation_type": "one_time",
    "channel": "email",
    "sends": "100",
    "delivered": "90",
    "bounces": "10",
    "opens": "30",
    "clicks": "6",
    "unsubscribes": "1",
    "spam_complaints": "0",
    "orders": "2",
    "revenue": "80.50",
}


def flow_row(**changes) -> dict:
    return {
        **BASE_ROW,
        "kind": "flow",
        "source_id": "f1",
        "source_name": "Welcome",
        "folder": "",
        "activation_type": "",
        **changes,
    }


def csv_text(rows: Iterable[dict], columns: Iterable[str] = COLUMNS) -> str:
    """A CSV file's text; values are written as given (tests control quoting)."""
    columns = list(columns)
    lines = [",".join(columns)]
    lines += [",".join(str(row.get(column, "")) for column in columns) for row in rows]
    return "\n".join(lines) + "\n"


def import_rows(account, rows: Iterable[dict], columns: Iterable[str] = COLUMNS):
    return stats_import(account=account, lines=io.StringIO(csv_text(rows, columns)))


# --- The selectors as a member calls them -------------------------------------------------
# The selectors take the member's brand scope; these compute it the way the MCP tools do.


def campaign_report_as(*, account, user, params, **options):
    allowed = allowed_brand_ids(user=user, account=account)
    return campaign_report(account=account, allowed_brands=allowed, params=params, **options)


def flow_report_as(*, account, user, params, **options):
    allowed = allowed_brand_ids(user=user, account=account)
    return flow_report(account=account, allowed_brands=allowed, params=params, **options)


def report_filters_as(*, account, user, params=None):
    return report_filters(
        account=account, allowed_brands=allowed_brand_ids(user=user, account=account), params=params
    )


def explain_change_as(*, account, user, params, today=None):
    allowed = allowed_brand_ids(user=user, account=account)
    return explain_change(account=account, allowed_brands=allowed, params=params, today=today)


# --- A week of campaign and flow statistics (the MCP tool tests' report data) ------------
WINDOW = {"date_from": "2026-01-05", "date_to": "2026-01-11"}


def week_rows(days: int = 7) -> list[dict]:
    rows = []
    for day in range(days):
        date = f"2026-01-{5 + day:02d}"
        rows += [
            week_row(
                date, "campaign", "c1", "Spring sale", "Acme Home", "email", 1000 + day * 10, day
            ),
            week_row(date, "campaign", "c2", "SMS flash", "Acme Sport", "sms", 400 + day, day),
            week_row(date, "flow", "f1", "Welcome", "Acme Home", "email", 200 + day, day),
            week_row(date, "flow", "f2", "Abandoned cart", "Acme Sport", "mobile_push", 50, day),
        ]
    return rows


def week_row(date, kind, source_id, name, brand, channel, sends, day) -> dict:
    tracked = channel != "sms"
    return {
        "date": date,
        "kind": kind,
        "source_id": source_id,
        "source_name": name,
        "folder": "Promotions" if kind == "campaign" else "",
        "brand": brand,
        "goal": "Sales",
        "activation_type": "one_time" if kind == "campaign" else "",
        "channel": channel,
        "sends": sends,
        "delivered": sends - 5 - day,
        "bounces": 5 + day,
        "opens": sends // 3 if tracked else "",
        "clicks": sends // 20 if tracked else "",
        "unsubscribes": day % 3,
        "spam_complaints": day % 2,
        "orders": 2 + day,
        "revenue": f"{(2 + day) * 41.5:.2f}",
    }
