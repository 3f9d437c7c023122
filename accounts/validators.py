"""Validators for account fields."""

import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from accounts.currencies import ISO_4217_CODES

# The system name appears in connector URLs (/mcp/{system_name}) that users paste
# into assistants, so it is kept to lowercase DNS-label characters.
validate_system_name = RegexValidator(
    regex=r"^[a-z][a-z0-9-]{0,61}[a-z0-9]$",
    message=(
        "Use 2 to 63 lowercase letters, digits and hyphens, starting with a letter "
        "and not ending with a hyphen."
    ),
)


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin).")


def validate_currency(value: str) -> None:
    if value not in ISO_4217_CODES:
        raise ValidationError(f"{value!r} is not an ISO 4217 currency code (e.g. EUR).")
