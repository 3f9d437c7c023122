"""Provenance of an answer: how far the imported data reaches and whether the window is whole."""

from __future__ import annotations

from datetime import date, timedelta

from accounts.models import Account
from reporting import schemas
from reporting.models import StatsImport
from reporting.selectors.visibility import reporting_db
from reporting.windows import DateWindow


def _partial_reason(window: DateWindow, today: date, data_through: date | None) -> str | None:
    reasons = []
    if window.date_to >= today:
        reasons.append(f"the window includes today ({today}), which is not over")
    if data_through is None:
        reasons.append("no statistics have been imported yet")
    elif window.date_to > data_through:
        missing = (window.date_to - max(data_through, window.date_from - timedelta(days=1))).days
        reasons.append(
            f"statistics are imported through {data_through}; the window's last {missing} "
            f"day(s) have none yet"
        )
    if not reasons:
        return None
    text = "; ".join(reasons)
    return text[0].upper() + text[1:] + "."


def provenance(*, account: Account, window: DateWindow, today: date) -> schemas.Provenance:
    """The account's import state (one query) and whether ``window`` is partial."""
    record = StatsImport.objects.for_account(account).using(reporting_db()).first()
    data_through = record.data_through if record else None
    reason = _partial_reason(window, today, data_through)
    return schemas.Provenance(
        data_through=data_through,
        imported_at=record.imported_at if record else None,
        timezone=account.timezone,
        currency=account.currency,
        partial=reason is not None,
        partial_reason=reason,
    )
