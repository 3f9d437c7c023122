"""Demo statistics, written as CSV through the real import (``stats_import``).

Every row is a pure function of (account seed, day): always-on campaigns
(trigger, API, recurring) and flows run on their days; one-time and scheduled
campaigns are the month's themed sends. So the data is deterministic, and
seeding again only adds the days missing up to yesterday (idempotent and quick
on every ``scripts/run``). Rates and volumes are plausible per channel, with
seasonality (November/December peaks, quieter weekends) and growth. It is
tooling for the demo and the benchmarks, not part of the reporting core, hence
here at the top layer (beside the ``seed_demo`` command).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Max

from accounts.models import Account
from reporting.models import CampaignStat, FlowStat, Grain
from reporting.periods import account_today, next_month
from reporting.services.rollups import stats_vacuum
from reporting.services.stats_import import COLUMNS, ImportResult, stats_import

HISTORY_DAYS = 1095  # three years: the longest report window
_GROWTH_EPOCH = date(2024, 1, 1)

# channel -> (delivery, open, click, unsubscribe, spam, conversion) rate ranges;
# None = the channel does not track that event (an empty cell in the CSV).
_CHANNEL_RATES = {
    "email": (
        (0.97, 0.995),
        (0.18, 0.45),
        (0.01, 0.05),
        (0.001, 0.004),
        (5e-5, 3e-4),
        (0.002, 0.01),
    ),
    "sms": ((0.95, 0.99), None, (0.02, 0.08), (0.002, 0.01), None, (0.004, 0.015)),
    "mobile_push": ((0.85, 0.95), (0.03, 0.08), None, (0.0, 0.001), None, (0.001, 0.005)),
    "web_push": ((0.80, 0.95), None, (0.01, 0.04), (0.0, 0.002), None, (0.0005, 0.003)),
    "viber": (
        (0.90, 0.98),
        (0.50, 0.80),
        (0.03, 0.08),
        (0.001, 0.005),
        (0.0, 1e-4),
        (0.003, 0.012),
    ),
    "whatsapp": (
        (0.93, 0.99),
        (0.60, 0.90),
        (0.04, 0.10),
        (0.001, 0.004),
        (0.0, 1e-4),
        (0.004, 0.015),
    ),
}
_CHANNEL_WEIGHTS = {
    "email": 10,
    "sms": 5,
    "mobile_push": 4,
    "web_push": 2,
    "viber": 2,
    "whatsapp": 2,
}
_SEASON = {
    1: 0.8,
    2: 0.85,
    3: 0.95,
    4: 1.0,
    5: 1.0,
    6: 0.95,
    7: 0.9,
    8: 0.9,
    9: 1.0,
    10: 1.1,
    11: 1.6,
    12: 1.45,
}
_WEEKDAY = (1.0, 1.05, 1.05, 1.0, 0.95, 0.75, 0.7)
_THEMES = {
    1: ["New Year sale", "Winter clearance"],
    2: ["Valentine's picks", "Winter clearance"],
    3: ["Spring collection", "Women's Day"],
    4: ["Easter offers", "Spring collection"],
    5: ["Mother's Day", "May long weekend"],
    6: ["Summer launch", "Father's Day"],
    7: ["Summer sale", "Mid-season sale"],
    8: ["Back to school", "Summer sale last call"],
    9: ["Autumn arrivals", "Back to school"],
    10: ["Halloween", "Autumn arrivals"],
    11: ["Black Friday", "Cyber Monday", "Singles' Day"],
    12: ["Christmas gift guide", "Last-minute gifts", "Boxing Day"],
}
_ALWAYS_ON_CAMPAIGNS = [
    ("Birthday greeting", "trigger", "Loyalty"),
    ("Price drop alert", "trigger", "Sales"),
    ("Back in stock", "trigger", "Sales"),
    ("Weekly digest", "recurring", "Retention"),
    ("Order follow-up", "api", "Retention"),
    ("Loyalty points reminder", "recurring", "Loyalty"),
    ("Abandoned browse", "api", "Sales"),
    ("App inactivity nudge", "trigger", "Reactivation"),
    ("Delivery update", "api", "Retention"),
    ("Wishlist on sale", "trigger", "Sales"),
    ("Monthly member perks", "recurring", "Loyalty"),
    ("Review reminder", "api", "Retention"),
]
_FLOWS = [
    ("Welcome series", "Onboarding"),
    ("Abandoned cart", "Sales"),
    ("Post-purchase", "Retention"),
    ("Win-back", "Reactivation"),
    ("Browse abandonment", "Sales"),
    ("Replenishment", "Sales"),
    ("VIP upgrade", "Loyalty"),
    ("Sunset unengaged", "Reactivation"),
    ("Birthday", "Loyalty"),
    ("Review request", "Retention"),
    ("Cross-sell", "Sales"),
    ("Re-engagement", "Reactivation"),
]
_FOLDERS = ["Newsletters", "Promotions", "Seasonal", "Product launches", "Win-back"]


@dataclass(frozen=True)
class _Source:
    kind: str
    source_id: str
    name: str
    folder: str
    brand: str
    goal: str
    activation_type: str
    channels: tuple[str, ...]
    volume: int  # typical daily audience (one-time: the send's audience)
    weekday: int | None = None  # recurring campaigns: the day of the week they go out
    salt: int = 0


@dataclass(frozen=True)
class DemoProfile:
    """One account's shape; all of its data follows from these numbers and the seed."""

    seed: int
    brands: tuple[str, ...]
    always_on_campaigns: int
    flows: int
    one_time_per_month: int
    volume: int
    aov: float

    def sources(self) -> tuple[list[_Source], list[_Source]]:
        rng = random.Random(self.seed)  # noqa: S311 - demo data, not security
        always_on = []
        for i in range(self.always_on_campaigns):
            name, activation_type, goal = _ALWAYS_ON_CAMPAIGNS[i % len(_ALWAYS_ON_CAMPAIGNS)]
            brand = self.brands[i % len(self.brands)]
            suffix = (
                "" if i < len(_ALWAYS_ON_CAMPAIGNS) else f" {i // len(_ALWAYS_ON_CAMPAIGNS) + 1}"
            )
            always_on.append(
                _Source(
                    kind="campaign",
                    source_id=f"cmp-{i + 1:05d}",
                    name=f"{name}{suffix} ({brand})",
                    folder=rng.choice(["", *_FOLDERS[:2], "Win-back"]),
                    brand=brand,
                    goal=goal,
                    activation_type=activation_type,
                    channels=_pick_channels(rng, 1, 3),
                    volume=int(self.volume * rng.uniform(0.05, 0.6)),
                    weekday=rng.randrange(7) if activation_type == "recurring" else None,
                    salt=rng.randrange(1 << 30),
                )
            )
        flows = []
        for i in range(self.flows):
            name, goal = _FLOWS[i % len(_FLOWS)]
            brand = self.brands[i % len(self.brands)]
            suffix = "" if i < len(_FLOWS) else f" {i // len(_FLOWS) + 1}"
            flows.append(
                _Source(
                    kind="flow",
                    source_id=f"flow-{i + 1:04d}",
                    name=f"{name}{suffix} ({brand})",
                    folder="",
                    brand=brand,
                    goal=goal,
                    activation_type="",
                    channels=_pick_channels(rng, 2, 4),
                    volume=int(self.volume * rng.uniform(0.02, 0.3)),
                    salt=rng.randrange(1 << 30),
                )
            )
        return always_on, flows

    def one_time(self, month: date) -> list[tuple[date, _Source]]:
        """The month's one-time and scheduled sends, each with its send day."""
        rng = random.Random(repr((self.seed, month.year, month.month)))  # noqa: S311 - demo data
        themes = _THEMES[month.month]
        days = next_month(month) - month
        sends = []
        for k in range(self.one_time_per_month):
            scheduled = k == 0  # the month's newsletter
            theme = (
                f"Newsletter {month:%B %Y}"
                if scheduled
                else f"{themes[k % len(themes)]} {month:%Y}"
            )
            brand = self.brands[(k + month.month) % len(self.brands)]
            if k >= len(themes) + 1:
                theme += f" #{k}"
            sends.append(
                (
                    month + timedelta(days=rng.randrange(days.days)),
                    _Source(
                        kind="campaign",
                        source_id=f"ot-{month:%Y%m}-{k + 1:03d}",
                        name=f"{theme} ({brand})",
                        folder="Newsletters" if scheduled else rng.choice(_FOLDERS[1:]),
                        brand=brand,
                        goal="Sales" if not scheduled else "Retention",
                        activation_type="scheduled" if scheduled else "one_time",
                        channels=_pick_channels(rng, 1, 2),
                        volume=int(self.volume * rng.uniform(5, 25)),
                        salt=rng.randrange(1 << 30),
                    ),
                )
            )
        return sends


def _pick_channels(rng: random.Random, low: int, high: int) -> tuple[str, ...]:
    count = rng.randint(low, high)
    chosen: list[str] = []
    while len(chosen) < count:
        channel = rng.choices(list(_CHANNEL_WEIGHTS), weights=list(_CHANNEL_WEIGHTS.values()))[0]
        if channel not in chosen:
            chosen.append(channel)
    return tuple(chosen)


def _rows(source: _Source, day: date, aov: float) -> Iterator[str]:
    rng = random.Random(source.salt * 100_003 + day.toordinal())  # noqa: S311 - demo data
    # Anchored on a fixed day, not on the seeding run, so top-ups continue the trend.
    growth = 1 + 0.15 * (day - _GROWTH_EPOCH).days / 365
    scale = _SEASON[day.month] * _WEEKDAY[day.weekday()] * growth * rng.uniform(0.75, 1.25)
    for channel in source.channels:
        delivery, opens, clicks, unsub, spam, conversion = _CHANNEL_RATES[channel]
        sends = int(source.volume * scale * rng.uniform(0.8, 1.2))
        if sends == 0:
            continue
        delivered = int(sends * rng.uniform(*delivery))
        open_count = int(delivered * rng.uniform(*opens)) if opens else None
        click_count = int(delivered * rng.uniform(*clicks)) if clicks else None
        if open_count is not None and click_count is not None:
            click_count = min(click_count, open_count)
        orders = int(delivered * rng.uniform(*conversion) * _SEASON[day.month] + rng.random())
        fields = (
            day.isoformat(),
            source.kind,
            source.source_id,
            source.name,
            source.folder,
            source.brand,
            source.goal,
            source.activation_type,
            channel,
            str(sends),
            str(delivered),
            str(int((sends - delivered) * rng.uniform(0.85, 1.0))),
            "" if open_count is None else str(open_count),
            "" if click_count is None else str(click_count),
            str(int(delivered * rng.uniform(*unsub) + rng.random())),
            str(int(delivered * rng.uniform(*spam) + rng.random()) if spam else 0),
            str(orders),
            f"{orders * aov * rng.uniform(0.7, 1.4):.2f}",
        )
        yield ",".join(fields)


def demo_csv_lines(profile: DemoProfile, *, first_day: date, last_day: date) -> Iterator[str]:
    """The account's statistics from ``first_day`` to ``last_day`` as CSV lines (with header)."""
    yield ",".join(COLUMNS)
    campaigns, flows = profile.sources()
    months: dict[date, list[tuple[date, _Source]]] = {}
    day = first_day
    while day <= last_day:
        for source in (*campaigns, *flows):
            if source.weekday is None or source.weekday == day.weekday():
                yield from _rows(source, day, profile.aov)
        month = day.replace(day=1)
        if month not in months:
            months = {month: profile.one_time(month)}
        for send_day, source in months[month]:
            if send_day == day:
                yield from _rows(source, day, profile.aov)
        day += timedelta(days=1)


def seed_account_stats(
    account: Account, profile: DemoProfile, *, today: date | None = None
) -> ImportResult | None:
    """Fill ``account`` with three years of demo statistics ending yesterday; on later runs add
    only the missing days. Returns None when there was nothing to add."""
    yesterday = (today or account_today(account.timezone)) - timedelta(days=1)
    first_day = yesterday - timedelta(days=HISTORY_DAYS - 1)
    latest = max(
        (
            model.objects.for_account(account)
            .filter(grain=Grain.DAY)
            .aggregate(latest=Max("period_start"))["latest"]
            for model in (CampaignStat, FlowStat)
        ),
        key=lambda d: d or date.min,
    )
    start = first_day if latest is None else max(first_day, latest + timedelta(days=1))
    if start > yesterday:
        return None
    lines = demo_csv_lines(profile, first_day=start, last_day=yesterday)
    return stats_import(account=account, lines=lines)


DEMO_PROFILES = {
    "acme": DemoProfile(
        seed=1,
        brands=("Acme Home", "Acme Outdoor", "Acme Kids"),
        always_on_campaigns=12,
        flows=10,
        one_time_per_month=4,
        volume=4000,
        aov=68.0,
    ),
    "globex": DemoProfile(
        seed=2,
        brands=("Globex Women", "Globex Men", "Globex Outlet"),
        always_on_campaigns=8,
        flows=8,
        one_time_per_month=3,
        volume=2500,
        aov=95.0,
    ),
}


def seed_demo_stats(*, today: date | None = None) -> dict[str, ImportResult | None]:
    """Demo statistics for the demo accounts (see permissions.demo)."""
    return {
        system_name: seed_account_stats(
            Account.objects.get(system_name=system_name), profile, today=today
        )
        for system_name, profile in DEMO_PROFILES.items()
    }


LARGE_ACCOUNT = "megastore"
LARGE_PROFILE = DemoProfile(
    seed=1000,
    brands=("Mega Home", "Mega Fashion", "Mega Electronics", "Mega Beauty", "Mega Sports"),
    always_on_campaigns=1200,  # + 75 one-time sends a month: ~3,900 campaigns, 2.1 M rows
    flows=300,
    one_time_per_month=75,
    volume=6000,
    aov=72.0,
)
SMALL_ACCOUNTS = 50
_SMALL_ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/London", "UTC")
_SMALL_CURRENCIES = ("EUR", "USD", "JPY", "GBP", "USD")


def seed_large_stats(*, today: date | None = None, log=print) -> int:
    """The benchmark dataset: one large account and many small ones (PostgreSQL advised)."""
    targets = [
        (
            LARGE_ACCOUNT,
            "Megastore (benchmark)",
            "Europe/Berlin",
            "EUR",
            LARGE_PROFILE,
        )
    ]
    for i in range(1, SMALL_ACCOUNTS + 1):
        targets.append(
            (
                f"shop-{i:02d}",
                f"Shop {i:02d} (benchmark)",
                _SMALL_ZONES[i % len(_SMALL_ZONES)],
                _SMALL_CURRENCIES[i % len(_SMALL_CURRENCIES)],
                DemoProfile(
                    seed=2000 + i,
                    brands=tuple(f"Shop {i:02d} brand {b}" for b in range(1, 1 + i % 3 + 1)),
                    always_on_campaigns=4 + i % 6,
                    flows=3 + i % 4,
                    one_time_per_month=2 + i % 3,
                    volume=200 + 97 * i,
                    aov=40.0 + i,
                ),
            )
        )
    total = 0
    for system_name, name, timezone, currency, profile in targets:
        account, _ = Account.objects.get_or_create(
            system_name=system_name,
            defaults={"name": name, "timezone": timezone, "currency": currency},
        )
        result = seed_account_stats(account, profile, today=today)
        rows = result.rows if result else 0
        total += rows
        if system_name == LARGE_ACCOUNT or rows:
            log(f"  {system_name}: {rows} rows imported")
    stats_vacuum()
    return total
