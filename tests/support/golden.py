"""A fixed generated dataset and a broad set of report queries over it, for the golden test.

The answers of the reporting core to :func:`cases` over :func:`dataset_rows` are
recorded in ``tests/reporting/golden/reports.json`` (by the implementation the
reporting rebuild replaced); ``tests/reporting/test_golden.py`` holds every later
implementation to them, field by field. The data and the cases are pure
functions of fixed seeds: regenerating them gives the same file.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

TODAY = date(2025, 3, 20)  # a Thursday; the account-local "today" of every case
FIRST_DAY = date(2023, 12, 18)
LAST_DAY = date(2025, 3, 20)  # includes "today": this_* windows see a partial day

# source_id -> (name, brand, folder, goal, activation_type)
CAMPAIGNS = {
    "c01": ("Spring sale", "Alpha", "Promos", "Sales", "one_time"),
    "c02": ("Welcome series", "Alpha", "", "Engagement", "trigger"),
    "c03": ("Weekly news", "Beta", "News", "Engagement", "recurring"),
    "c04": ("Flash SMS", "Beta", "Promos", "Sales", "scheduled"),
    "c05": ("App push", "Gamma", "News", "Sales", "api"),
    "c06": ("Black Friday", "Alpha", "Promos", "Sales", "one_time"),
    "c07": ("Loyalty", "Gamma", "", "Retention", "recurring"),
    "c08": ("Same name", "Beta", "News", "Sales", "one_time"),
    "c09": ("Same name", "Gamma", "Promos", "Sales", "one_time"),
    "c10": ("Winter outlet", "Alpha", "Seasonal", "Sales", "scheduled"),
}
FLOWS = {
    "f1": ("Welcome", "Alpha", "Engagement"),
    "f2": ("Abandoned cart", "Beta", "Sales"),
    "f3": ("Win-back", "Gamma", "Retention"),
    "f4": ("Birthday", "Alpha", "Sales"),
}
CHANNELS = ["email", "sms", "mobile_push", "web_push", "viber"]
# Which channels leave opens / clicks untracked (an empty cell).
NO_OPENS = {"sms", "web_push"}
NO_CLICKS = {"mobile_push"}


def _counts(rng: random.Random, channel: str, scale: int) -> dict:
    sends = rng.randint(0, scale)
    delivered = rng.randint(0, sends)
    opens = rng.randint(0, delivered)
    orders = rng.randint(0, max(0, delivered // 20))
    return {
        "channel": channel,
        "sends": sends,
        "delivered": delivered,
        "bounces": sends - delivered,
        "opens": "" if channel in NO_OPENS else opens,
        "clicks": "" if channel in NO_CLICKS else rng.randint(0, opens),
        "unsubscribes": rng.randint(0, 5),
        "spam_complaints": rng.randint(0, 2),
        "orders": orders,
        "revenue": f"{rng.randint(0, orders * 9000) / 100:.2f}",
    }


def dataset_rows() -> list[dict]:
    """CSV rows (dicts of the import's columns) of the golden account, ~9,000 of them."""
    rng = random.Random(20251206)  # noqa: S311 - reproducible test data, not a secret
    rows = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        for source_id, (name, brand, folder, goal, activation) in CAMPAIGNS.items():
            if rng.random() < 0.35:  # campaigns send on some days only
                for channel in rng.sample(CHANNELS, rng.randint(1, 2)):
                    rows.append(
                        {
                            "date": day.isoformat(),
                            "kind": "campaign",
                            "source_id": source_id,
                            "source_name": name,
                            "folder": folder,
                            "brand": brand,
                            "goal": goal,
                            "activation_type": activation,
                            **_counts(rng, channel, 5000),
                        }
                    )
        for source_id, (name, brand, goal) in FLOWS.items():
            if rng.random() < 0.8:
                for channel in rng.sample(CHANNELS, rng.randint(1, 2)):
                    rows.append(
                        {
                            "date": day.isoformat(),
                            "kind": "flow",
                            "source_id": source_id,
                            "source_name": name,
                            "folder": "",
                            "brand": brand,
                            "goal": goal,
                            "activation_type": "",
                            **_counts(rng, channel, 800),
                        }
                    )
        day += timedelta(days=1)
    return rows


_PRESETS = [
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
]
_WINDOWS = [
    {"date_from": "2024-01-01", "date_to": "2025-03-19"},  # long: months, edges
    {"date_from": "2024-02-27", "date_to": "2024-04-03"},  # partial months both ends
    {"date_from": "2024-06-15", "date_to": "2024-06-15"},  # one day
    {"date_from": "2024-12-30", "date_to": "2025-01-05"},  # one ISO week across a year
    {"date_from": "2024-03-01", "date_to": "2024-05-31"},  # whole months
    {"date_from": "2023-12-01", "date_to": "2023-12-31"},  # partly before the data
    {"date_from": "2026-01-01", "date_to": "2026-01-31"},  # no data at all
]
_CAMPAIGN_FILTERS = [
    {},
    {"brands": ["alpha"]},
    {"brands": ["Beta", "Gamma"], "channels": ["email", "sms"]},
    {"goals": ["Sales"]},
    {"folders": ["Promos", "(no folder)"]},
    {"folders": ["(no folder)"]},
    {"activation_types": ["one_time", "scheduled"]},
    {"channels": ["sms"]},
    {"brands": ["Alpha"], "goals": ["Engagement"], "activation_types": ["trigger"]},
]
_FLOW_FILTERS = [
    {},
    {"flows": ["f2", "Welcome"]},
    {"brands": ["Gamma"]},
    {"goals": ["Sales"], "channels": ["email", "viber"]},
]
_SORTS = [
    {"sort_by": "revenue"},
    {"sort_by": "open_rate", "order": "asc"},
    {"sort_by": "click_to_open_rate"},
    {"sort_by": "sends", "order": "asc", "limit": 3},
    {"sort_by": "average_order_value", "limit": 2},
    {"sort_by": "unsubscribe_rate"},
]


def cases() -> list[dict]:
    """Every golden query: ``{"id", "tool", "user", "params"}``.

    ``user`` is ``"all"`` (sees every brand) or ``"alpha"`` (restricted to Alpha).
    """
    found: list[dict] = []

    def add(tool: str, params: dict, user: str = "all") -> None:
        found.append({"id": f"{len(found):03d}", "tool": tool, "user": user, "params": params})

    for period in _PRESETS:
        add("campaign", {"period": period, "breakdown": "channel", "compare_to": "previous_period"})
        add("flow", {"period": period, "breakdown": "none", "compare_to": "previous_year"})
    for window in _WINDOWS:
        for breakdown in ("campaign", "folder", "channel", "brand"):
            add("campaign", {**window, "breakdown": breakdown})
        for breakdown in ("flow", "channel", "brand"):
            add("flow", {**window, "breakdown": breakdown})
        for timeline in ("week", "month"):
            add("campaign", {**window, "timeline": timeline, "breakdown": "none"})
            add("flow", {**window, "timeline": timeline, "breakdown": "none"})
    for window in _WINDOWS[1:5]:
        add("campaign", {**window, "timeline": "day", "breakdown": "none"})
        add("flow", {**window, "timeline": "day", "breakdown": "none", "brands": ["beta"]})
    for index, filters in enumerate(_CAMPAIGN_FILTERS):
        window = _WINDOWS[index % 5]
        for breakdown in ("campaign", "folder", "channel", "brand"):
            add("campaign", {**window, **filters, "breakdown": breakdown})
        add("campaign", {**window, **filters, "timeline": "month", "breakdown": "none"})
        add("campaign", {**window, **filters, "compare_to": "previous_year", "breakdown": "none"})
    for index, filters in enumerate(_FLOW_FILTERS):
        window = _WINDOWS[index % 5]
        for breakdown in ("flow", "channel", "brand"):
            add("flow", {**window, **filters, "breakdown": breakdown})
        add("flow", {**window, **filters, "timeline": "week", "compare_to": "previous_period"})
    for sort in _SORTS:
        add("campaign", {**_WINDOWS[0], **sort, "breakdown": "campaign"})
        add("campaign", {**_WINDOWS[1], **sort, "breakdown": "folder"})
        add("flow", {**_WINDOWS[0], **sort, "breakdown": "flow"})
    for tool, params in [
        ("campaign", {"period": "last_90_days", "breakdown": "campaign", "timeline": "week"}),
        ("campaign", {**_WINDOWS[0], "breakdown": "brand", "compare_to": "previous_year"}),
        ("campaign", {**_WINDOWS[1], "breakdown": "folder", "goals": ["sales"]}),
        ("flow", {"period": "last_year", "breakdown": "flow", "timeline": "month"}),
        ("flow", {**_WINDOWS[3], "breakdown": "channel", "compare_to": "previous_period"}),
    ]:
        add(tool, params, user="alpha")
    return found
