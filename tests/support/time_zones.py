"""A known instant and how the account pages must show it in a non-UTC account."""

from __future__ import annotations

from datetime import UTC, datetime

from accounts.models import Account

# 23:30 UTC is 08:30 the next day in Tokyo (UTC+9 all year, no daylight saving),
# so a page that forgets to convert gets both the hour and the date wrong.
TOKYO = "Asia/Tokyo"
LATE_EVENING_UTC = datetime(2024, 3, 4, 23, 30, tzinfo=UTC)
NEXT_MORNING_IN_TOKYO = "2024-03-05 08:30"


def set_time_zone(account: Account, zone: str) -> None:
    Account.objects.filter(pk=account.pk).update(timezone=zone)
