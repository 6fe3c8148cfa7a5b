"""Other funds' lines: exclusions at import, and the money totals of an import check.

A line is excluded as *not this grant* by its row number (one by one), or by a rule
``FIELD=VALUE`` (all lines of a cost centre, an account, a supplier or a reference; the value
is matched whole, ignoring case and surrounding spaces). Every excluded line is remembered for
the grant by the importer's fingerprint (date, reference, supplier, net, VAT), so importing the
same file again excludes it again and reports it as ``excluded``.

The check sums rows, net, VAT and gross of what is imported, excluded, duplicate and skipped
(the totals rows themselves), and compares the file's own totals row with its lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from fundtracker import audit
from fundtracker.errors import FieldError, ValidationError
from fundtracker.ledger.rows import LineValues
from fundtracker.models import ImportExclusion
from fundtracker.money import format_money, from_pence, money_str
from fundtracker.storage import utcnow

EXCLUDE_FIELDS = ("cost_centre", "account_code", "supplier", "reference")
MONEY_KINDS = ("imported", "excluded", "duplicate", "skipped")
EXCLUSION_TABLE = cast(Table, ImportExclusion.__table__)


@dataclass(frozen=True)
class ExcludeRule:
    """Exclude every line whose ``field`` reads ``value`` (whole, any case)."""

    field: str
    value: str

    def matches(self, values: LineValues) -> bool:
        found: str = getattr(values, self.field)  # already trimmed by the row parser
        return found.casefold() == self._wanted

    @property
    def _wanted(self) -> str:
        return self.value.strip().casefold()

    def __str__(self) -> str:
        return f"{self.field}={self.value}"


def parse_exclude_options(items: Iterable[str]) -> tuple[ExcludeRule, ...]:
    """``--exclude FIELD=VALUE`` options; every bad one is named."""
    rules: list[ExcludeRule] = []
    errors: list[FieldError] = []
    for item in items:
        name, equals, value = item.partition("=")
        name = name.strip().lower().replace(" ", "_")
        if not equals or not value.strip():
            errors.append(FieldError("--exclude", f"'{item}' is not FIELD=VALUE"))
        elif name not in EXCLUDE_FIELDS:
            errors.append(
                FieldError("--exclude", f"'{name}' is not one of {', '.join(EXCLUDE_FIELDS)}")
            )
        else:
            rules.append(ExcludeRule(name, value.strip()))
    if errors:
        raise ValidationError(errors)
    return tuple(rules)


# --- Money totals ------------------------------------------------------------------------------


@dataclass(slots=True)
class MoneyTotals:
    """Rows and their net and VAT in pence; gross is net + VAT."""

    rows: int = 0
    net: int = 0
    vat: int = 0

    def add(self, net: int, vat: int) -> None:
        self.rows += 1
        self.net += net
        self.vat += vat

    @property
    def gross(self) -> int:
        return self.net + self.vat

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "net": money_str(from_pence(self.net)),
            "vat": money_str(from_pence(self.vat)),
            "gross": money_str(from_pence(self.gross)),
        }


def new_money() -> dict[str, MoneyTotals]:
    return {kind: MoneyTotals() for kind in MONEY_KINDS}


@dataclass(frozen=True)
class FileTotal:
    """The file's own totals row (the last one, the grand total), in pence."""

    row: int
    net: int
    vat: int


@dataclass
class TotalsCheck:
    """The file's totals row against the sum of its lines (imported, excluded, duplicate)."""

    row: int
    file_net: int
    file_vat: int
    lines_net: int
    lines_vat: int
    unread_rows: int = 0  # bad rows, which cannot be added up
    notes: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return (self.file_net, self.file_vat) == (self.lines_net, self.lines_vat)

    def message(self) -> str | None:
        """What the officer is told when the totals row disagrees (None when it agrees)."""
        if self.agrees:
            return None
        text = (
            f"the file's totals row (row {self.row}) says net {_m(self.file_net)}, VAT "
            f"{_m(self.file_vat)}, gross {_m(self.file_net + self.file_vat)}; its lines add up "
            f"to net {_m(self.lines_net)}, VAT {_m(self.lines_vat)}, gross "
            f"{_m(self.lines_net + self.lines_vat)} (a difference of "
            f"{_m(self.file_net + self.file_vat - self.lines_net - self.lines_vat)} gross)"
        )
        if self.unread_rows:
            text += f"; {self.unread_rows} bad row(s) could not be added up"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "file": {"net": _s(self.file_net), "vat": _s(self.file_vat)},
            "lines": {"net": _s(self.lines_net), "vat": _s(self.lines_vat)},
            "agrees": self.agrees,
            "message": self.message(),
        }


def totals_check(
    total: FileTotal | None, money: Mapping[str, MoneyTotals], bad_rows: int
) -> TotalsCheck | None:
    if total is None:
        return None
    lines = [money[kind] for kind in ("imported", "excluded", "duplicate")]
    return TotalsCheck(
        total.row,
        total.net,
        total.vat,
        sum(m.net for m in lines),
        sum(m.vat for m in lines),
        bad_rows,
    )


def _m(pence: int) -> str:
    return format_money(from_pence(pence))


def _s(pence: int) -> str:
    return money_str(from_pence(pence))


# --- Remembered exclusions -----------------------------------------------------------------------


def remembered(session: Session, grant_id: int) -> set[bytes]:
    """The fingerprints of every line excluded from the grant before."""
    rows = session.scalars(
        select(ImportExclusion.fingerprint).where(ImportExclusion.grant_id == grant_id)
    )
    return {bytes.fromhex(fingerprint) for fingerprint in rows}


@dataclass(frozen=True, slots=True)
class NewExclusion:
    key: bytes
    day: date
    supplier: str
    reference: str
    net: int
    vat: int
    reason: str


def save_exclusions(
    session: Session, grant_id: int, file_name: str, exclusions: Sequence[NewExclusion]
) -> None:
    """Remember new exclusions (one bulk insert) and audit them as one event."""
    if not exclusions:
        return
    now = utcnow()
    session.execute(
        insert(EXCLUSION_TABLE),
        [
            {
                "grant_id": grant_id,
                "fingerprint": e.key.hex(),
                "date": e.day,
                "supplier": e.supplier[:300],
                "reference": e.reference[:100],
                "net": from_pence(e.net),  # the column type stores Decimals as pence
                "vat": from_pence(e.vat),
                "reason": e.reason,
                "excluded_at": now,
            }
            for e in exclusions
        ],
    )
    reasons = sorted({e.reason for e in exclusions})
    audit.record(
        session,
        "exclude",
        "import exclusion",
        None,
        f"{len(exclusions)} line(s) of {file_name}",
        grant_id,
        {"lines": [None, len(exclusions)], "rules": [None, ", ".join(reasons)[:2000]]},
    )


def parse_exclusions_text(text: str) -> tuple[tuple[ExcludeRule, ...], frozenset[int]]:
    """What the window's exclusions box says: ``cost_centre=SS900, row 14; account_code=9000``
    (commas, semicolons or new lines between items). Every bad item is named."""
    items = [item.strip() for item in text.replace(";", ",").replace("\n", ",").split(",")]
    rows: set[int] = set()
    rule_items: list[str] = []
    errors: list[FieldError] = []
    for item in filter(None, items):
        word, _, number = item.partition(" ")
        if word.lower() == "row":
            if number.strip().isdigit():
                rows.add(int(number))
            else:
                errors.append(FieldError("exclude", f"'{item}' is not 'row' and a row number"))
        else:
            rule_items.append(item)
    try:
        rules = parse_exclude_options(rule_items)
    except ValidationError as exc:
        errors.extend(exc.errors)
    if errors:
        raise ValidationError(errors)
    return rules, frozenset(rows)
