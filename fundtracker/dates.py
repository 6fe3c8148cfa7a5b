"""Dates as officers and ledgers write them: UK day-first unless told otherwise."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from fundtracker.errors import FundtrackerError

# Day-first forms seen in council exports; ISO is always accepted.
UK_FORMATS = (
    "%d/%m/%Y",
    "%d/%m/%y",
    "%d-%m-%Y",
    "%d-%m-%y",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%d-%b-%y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d %b %y",
    "%d %B %Y",
    "%d-%B-%Y",
    "%d/%b/%Y",
    "%d/%b/%y",
)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
EXCEL_EPOCH = date(1899, 12, 30)


class DateError(FundtrackerError, ValueError):
    """Text that is not a date."""


def parse_date(text: str, fmt: str | None = None) -> date:
    """Parse ``03/07/2025``, ``3/7/25``, ``03-Jul-25``, ``03 Jul 2025``, ``2025-07-03``.

    With ``fmt`` (a strftime pattern such as ``%m/%d/%Y``) only that form is accepted.
    """
    value = text.strip()
    if not value:
        raise DateError("a date is required")
    if fmt:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            raise DateError(f"'{value}' is not a date in the form {fmt}") from None
    iso = _ISO_DATETIME.match(value)
    if _ISO.match(value) or iso:
        try:
            return date.fromisoformat(iso.group(1) if iso else value)
        except ValueError:
            raise DateError(f"'{value}' is not a real date") from None
    for form in UK_FORMATS:
        try:
            return datetime.strptime(value, form).date()
        except ValueError:
            continue
    raise DateError(f"'{value}' is not a date (expected e.g. 03/07/2025, 03-Jul-25 or 2025-07-03)")


def from_excel_serial(serial: float | int) -> date:
    """An Excel serial day number (1900 date system) as a date."""
    whole = int(serial)
    if not 1 <= whole <= 2_958_465:
        raise DateError(f"{serial} is not an Excel date")
    return EXCEL_EPOCH + timedelta(days=whole)
