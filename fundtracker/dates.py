"""Dates as officers and ledgers write them: UK day-first unless told otherwise."""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fundtracker.errors import FundtrackerError

# Day-first forms seen in council exports; ISO is always accepted. Month names (03-Jul-25,
# 3 July 2025) are read by _named_month, never strptime's %b, which reads them in the
# process's locale (Qt sets it from the system: "Jul" is refused under German or Turkish).
UK_FORMATS = (
    "%d/%m/%Y",
    "%d/%m/%y",
    "%d-%m-%Y",
    "%d-%m-%y",
    "%d.%m.%Y",
    "%d.%m.%y",
)
MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_MONTH_NUMBERS = {name: n for n, full in enumerate(MONTHS, 1) for name in (full, full[:3])}
_MONTH_NUMBERS["sept"] = 9
_NAMED_MONTH = re.compile(r"^(\d{1,2})([-/ ])([A-Za-z]+)\2(\d{4}|\d{2})$")
_MONTH_WORD = re.compile(r"[A-Za-z]+")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
EXCEL_EPOCH = date(1899, 12, 30)
# Where a person reads a date ("Prepared on", the daily backup's day) it is the officer's own:
# Europe/London unless FUNDTRACKER_TIME_ZONE names another zone. A return prepared at 00:30
# BST on 1 October is dated 01/10, not the UTC date 30/09.
TIME_ZONE_ENV = "FUNDTRACKER_TIME_ZONE"
OFFICER_TIME_ZONE = "Europe/London"


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
            return datetime.strptime(*_english_months(value, fmt)).date()
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
    named = _named_month(value)
    if named is not None:
        return named
    raise DateError(f"'{value}' is not a date (expected e.g. 03/07/2025, 03-Jul-25 or 2025-07-03)")


def _named_month(value: str) -> date | None:
    """``03-Jul-25``, ``3 July 2025``, ``03/Sep/2025``: an English month name, in any case."""
    match = _NAMED_MONTH.match(value)
    if not match:
        return None
    day, _separator, name, year = match.groups()
    month = _MONTH_NUMBERS.get(name.casefold())
    if month is None:
        return None
    try:
        return date(_full_year(year), month, int(day))
    except ValueError:
        raise DateError(f"'{value}' is not a real date") from None


def _full_year(year: str) -> int:
    """Two-digit years as strptime's %y reads them: 69-99 are 1969-1999, 00-68 2000-2068."""
    if len(year) == 4:
        return int(year)
    return int(year) + (1900 if int(year) >= 69 else 2000)


def _english_months(value: str, fmt: str) -> tuple[str, str]:
    """A pattern with %b or %B, made locale-proof: the month's English name in ``value``
    becomes its number and the pattern's %b/%B becomes %m."""
    if "%b" not in fmt and "%B" not in fmt:
        return value, fmt

    def number(match: re.Match[str]) -> str:
        month = _MONTH_NUMBERS.get(match.group().casefold())
        return f"{month:02d}" if month else match.group()

    return _MONTH_WORD.sub(number, value), fmt.replace("%b", "%m").replace("%B", "%m")


def from_excel_serial(serial: float | int) -> date:
    """An Excel serial day number (1900 date system) as a date."""
    whole = int(serial)
    if not 1 <= whole <= 2_958_465:
        raise DateError(f"{serial} is not an Excel date")
    return EXCEL_EPOCH + timedelta(days=whole)


def officer_time_zone() -> tzinfo:
    """The officer's time zone; the machine's own when the zone database is missing."""
    try:
        return ZoneInfo(os.environ.get(TIME_ZONE_ENV) or OFFICER_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return datetime.now().astimezone().tzinfo or UTC


def now_utc() -> datetime:
    """The clock for people's dates (tests replace it)."""
    return datetime.now(UTC)


def local_date(moment: datetime | None = None) -> date:
    """The officer's date at ``moment`` (an aware time; now when left out)."""
    return (moment or now_utc()).astimezone(officer_time_zone()).date()
