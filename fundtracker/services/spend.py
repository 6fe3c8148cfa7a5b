"""Spend lines: add, change, delete and list, validated and audited, obeying the submission lock.

Fields arrive as text (from the CLI or a table cell) or as typed values; each is parsed the
same way everywhere, and every problem is reported against its field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, selectinload

from fundtracker.dates import parse_date
from fundtracker.errors import (
    ConflictError,
    FieldError,
    FundtrackerError,
    LockedError,
    NotFoundError,
    ValidationError,
)
from fundtracker.models import SPEND_STATUSES, Allocation, Attachment, Grant, SpendLine
from fundtracker.money import (
    format_money,
    from_pence,
    money_str,
    parse_money,
    split_largest_remainder,
    to_pence,
)
from fundtracker.periods import Period
from fundtracker.services.grants import get_grant
from fundtracker.services.locks import counted_on_for, refuse_locked_line
from fundtracker.storage import Database
from fundtracker.year_end import refuse_closed

TEXT_LIMITS = {
    "supplier": 300,
    "description": 2000,
    "reference": 100,
    "cost_centre": 60,
    "account_code": 60,
    "notes": 4000,
}
EDITABLE_FIELDS = (
    "date",
    "allocation",
    "supplier",
    "description",
    "reference",
    "cost_centre",
    "account_code",
    "net",
    "vat",
    "vat_recoverable",
    "status",
    "notes",
)


def _parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"yes", "y", "true", "1"}:
        return True
    if text in {"no", "n", "false", "0"}:
        return False
    raise ValueError(f"'{value}' is not yes or no")


def parse_fields(values: Mapping[str, object]) -> dict[str, Any]:
    """Typed field values from text or typed input; every bad field is reported together.

    ``allocation`` stays a code (or None); the grant resolves it.
    """
    parsed: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, raw in values.items():
        if name not in EDITABLE_FIELDS:
            errors.append(FieldError(name, "is not a field of a spend line"))
            continue
        try:
            parsed[name] = _parse_field(name, raw)
        except (ValueError, FundtrackerError) as exc:
            errors.append(FieldError(name, str(exc)))
    if errors:
        raise ValidationError(errors)
    return parsed


def _parse_field(name: str, raw: object) -> Any:
    if name == "date":
        return raw if isinstance(raw, date) else parse_date(str(raw))
    if name in ("net", "vat"):
        return parse_money(raw)
    if name == "vat_recoverable":
        return _parse_bool(raw)
    if name == "status":
        status = str(raw).strip().lower()
        if status not in SPEND_STATUSES:
            raise ValueError(f"must be one of {', '.join(SPEND_STATUSES)} (got '{raw}')")
        return status
    if name == "allocation":
        code = "" if raw is None else str(raw).strip()
        return code or None
    text = "" if raw is None else str(raw).strip()
    if len(text) > TEXT_LIMITS[name]:
        raise ValueError(f"is {len(text)} characters long; at most {TEXT_LIMITS[name]} are kept")
    return text


def _allocation_id(session: Session, grant: Grant, code: str | None) -> int | None:
    if code is None:
        return None
    allocation_id = session.scalar(
        select(Allocation.id).where(Allocation.grant_id == grant.id, Allocation.code == code)
    )
    if allocation_id is None:
        codes = ", ".join(a.code for a in grant.allocations) or "none yet"
        raise ValidationError(
            FieldError(
                "allocation",
                f"'{code}' is not a project of grant {grant.reference} (its projects: {codes})",
            )
        )
    return allocation_id


def add_spend(
    db: Database, grant_reference: str, values: Mapping[str, object], reason: str = ""
) -> SpendLine:
    fields = parse_fields(values)
    missing = [FieldError(f, "is required") for f in ("date", "net") if f not in fields]
    if missing:
        raise ValidationError(missing)
    with db.unit_of_work(reason) as session:
        grant = get_grant(session, grant_reference)
        refuse_closed(grant)  # a closed year is read-only
        line = SpendLine(
            grant_id=grant.id, vat=Decimal("0.00"), vat_recoverable=True, status="paid"
        )
        _assign(session, grant, line, fields)
        session.add(line)
        session.flush()
        _ = line.allocation
        return line


def _assign(session: Session, grant: Grant, line: SpendLine, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name == "allocation":
            line.allocation_id = _allocation_id(session, grant, value)
        else:
            setattr(line, name, value)
    if "date" in fields:
        # A date inside a submitted period makes a late line, counted in the open period.
        line.counted_on = counted_on_for(session, grant, line.date)


def late_note(line: SpendLine) -> str | None:
    """What to tell the officer about a late line (None for a line counted on its date)."""
    if line.counted_on == line.date:
        return None
    dated_in, counted_in = Period.quarter_of(line.date), Period.quarter_of(line.counted_on)
    return (
        f"line {line.id} is dated {line.date:%d/%m/%Y}, in {dated_in}, whose return has been "
        f"submitted: it is a late line, counted in {counted_in}"
    )


def _load_line(session: Session, line_id: int, expected_version: int | None) -> SpendLine:
    line = session.get(SpendLine, line_id)
    if line is None:
        raise NotFoundError(f"no spend line with id {line_id}")
    if expected_version is not None and line.version != expected_version:
        raise ConflictError(
            f"spend line {line_id} was changed by someone else since you opened it; "
            "reload it and make your change again"
        )
    return line


def update_spend(
    db: Database,
    line_id: int,
    values: Mapping[str, object],
    reason: str = "",
    expected_version: int | None = None,
) -> SpendLine:
    fields = parse_fields(values)
    with db.unit_of_work(reason) as session:
        line = _load_line(session, line_id, expected_version)
        grant = session.get_one(Grant, line.grant_id)
        refuse_closed(grant)  # a closed year is read-only
        refuse_locked_line(session, grant, line.counted_on, f"spend line {line_id}")
        _assign(session, grant, line, fields)
        session.flush()
        session.refresh(line, ["allocation"])
        return line


@dataclass(frozen=True)
class DeletedSpend:
    """Everything a deleted line was, so an undo can put the very same line back: its id,
    its import batch and source row, and the links to its evidence files (which the
    content-addressed evidence store keeps)."""

    columns: dict[str, Any]
    attachments: list[dict[str, Any]]


# Kept by restore; the version starts again and the search text is the database's own.
_RESTORED_COLUMNS = tuple(
    c.key for c in inspect(SpendLine).column_attrs if c.key not in ("version", "search_text")
)
_ATTACHMENT_COLUMNS = ("sha256", "original_name", "size", "added_at")


def delete_spend(
    db: Database, line_id: int, reason: str = "", expected_version: int | None = None
) -> DeletedSpend:
    with db.unit_of_work(reason) as session:
        line = _load_line(session, line_id, expected_version)
        grant = session.get_one(Grant, line.grant_id)
        refuse_closed(grant)  # a closed year is read-only
        refuse_locked_line(session, grant, line.counted_on, f"spend line {line_id}")
        deleted = DeletedSpend(
            {name: getattr(line, name) for name in _RESTORED_COLUMNS},
            [{name: getattr(a, name) for name in _ATTACHMENT_COLUMNS} for a in line.attachments],
        )
        session.delete(line)
        return deleted


def restore_spend(db: Database, deleted: DeletedSpend, reason: str = "") -> SpendLine:
    """Put a deleted line back as it was (the undo of a delete), under the same lock."""
    with db.unit_of_work(reason) as session:
        grant = session.get_one(Grant, deleted.columns["grant_id"])
        refuse_closed(grant)  # a closed year is read-only
        line_id = deleted.columns["id"]
        refuse_locked_line(session, grant, deleted.columns["counted_on"], f"spend line {line_id}")
        if session.get(SpendLine, line_id) is not None:
            raise ConflictError(f"spend line {line_id} exists again; nothing was restored")
        line = SpendLine(**deleted.columns)
        line.attachments = [Attachment(**values) for values in deleted.attachments]
        session.add(line)
        session.flush()
        _ = line.allocation
        return line


def get_spend(db: Database, line_id: int) -> SpendLine:
    with db.read() as session:
        line = session.get(SpendLine, line_id)
        if line is None:
            raise NotFoundError(f"no spend line with id {line_id}")
        _ = line.allocation
        return line


def list_spend(db: Database, grant_reference: str, period: Period | None = None) -> list[SpendLine]:
    with db.read() as session:
        grant = get_grant(session, grant_reference)
        query = select(SpendLine).where(SpendLine.grant_id == grant.id)
        if period is not None:
            query = query.where(SpendLine.date.between(period.start, period.end))
        query = query.order_by(SpendLine.date, SpendLine.id).options(
            selectinload(SpendLine.allocation)
        )
        return list(session.scalars(query))


def spend_to_dict(line: SpendLine) -> dict[str, Any]:
    """The JSON form of a spend line (keys and formats are a contract); its allocation must
    be loaded."""
    return {
        "id": line.id,
        "date": line.date.isoformat(),
        "allocation": line.allocation.code if line.allocation else None,
        "supplier": line.supplier,
        "description": line.description,
        "reference": line.reference,
        "cost_centre": line.cost_centre,
        "account_code": line.account_code,
        "net": money_str(line.net),
        "vat": money_str(line.vat),
        "vat_recoverable": line.vat_recoverable,
        "claimable": money_str(line.claimable),
        "status": line.status,
        "notes": line.notes,
        "counted_in": str(Period.quarter_of(line.counted_on)),
        "released_on": line.released_on.isoformat() if line.released_on else None,
        "invoiced_by": line.invoiced_by_id,
    }


def split_spend(
    db: Database, line_id: int, parts: list[tuple[str | None, Decimal]], reason: str = ""
) -> list[SpendLine]:
    """Split a line across projects: ``parts`` are (allocation code or None, net) and must sum
    to the line's net exactly. The VAT is split in proportion, to the penny.

    The first part keeps the original line (its id, attachments and import batch); the other
    parts become new lines copying its date, supplier, reference and other fields. Refused as
    a whole on any problem; one unit of work; audited; obeys the submission lock.
    """
    with db.unit_of_work(reason) as session:
        line = _load_line(session, line_id, None)
        grant = session.get_one(Grant, line.grant_id)
        refuse_closed(grant)  # a closed year is read-only
        refuse_locked_line(session, grant, line.counted_on, f"spend line {line_id}")
        amounts = _split_amounts(line, parts)
        allocation_ids = [_allocation_id(session, grant, code) for code, _ in parts]
        vats = split_largest_remainder(to_pence(line.vat), [abs(to_pence(a)) for a in amounts])
        result = [line]
        for index, (net, vat_pence, allocation_id) in enumerate(
            zip(amounts, vats, allocation_ids, strict=True)
        ):
            part = line if index == 0 else _copy_line(line)
            part.net, part.vat, part.allocation_id = net, from_pence(vat_pence), allocation_id
            if index:
                session.add(part)
                result.append(part)
        session.flush()
        for part in result:
            session.refresh(part, ["allocation"])
        return result


def rejoin_spend(
    db: Database, line_id: int, part_ids: list[int], allocation: str | None, reason: str = ""
) -> SpendLine:
    """Undo a split in one unit of work: line ``line_id`` takes back the net and VAT of the
    parts split off it (which are deleted) and its project ``allocation`` (a code or None).
    Refused as a whole if any of the lines is locked."""
    with db.unit_of_work(reason) as session:
        line = _load_line(session, line_id, None)
        grant = session.get_one(Grant, line.grant_id)
        refuse_closed(grant)  # a closed year is read-only
        refuse_locked_line(session, grant, line.counted_on, f"spend line {line_id}")
        for part_id in part_ids:
            part = _load_line(session, part_id, None)
            refuse_locked_line(session, grant, part.counted_on, f"spend line {part_id}")
            line.net, line.vat = line.net + part.net, line.vat + part.vat
            session.delete(part)
        line.allocation_id = _allocation_id(session, grant, allocation)
        session.flush()
        session.refresh(line, ["allocation"])
        return line


def _split_amounts(line: SpendLine, parts: list[tuple[str | None, Decimal]]) -> list[Decimal]:
    if len(parts) < 2:
        raise ValidationError(FieldError("parts", "a split needs at least two parts"))
    errors: list[FieldError] = []
    amounts: list[Decimal] = []
    for number, (_, raw) in enumerate(parts, start=1):
        try:
            amount = parse_money(raw)
        except FundtrackerError as exc:
            errors.append(FieldError(f"part {number}", str(exc)))
            continue
        if amount == 0 or (amount < 0) != (line.net < 0):
            sign = "negative" if line.net < 0 else "positive"
            errors.append(FieldError(f"part {number}", f"must be {sign}, like the line's net"))
        amounts.append(amount)
    if not errors and sum(amounts) != line.net:
        errors.append(
            FieldError(
                "parts",
                f"total {format_money(sum(amounts, Decimal('0.00')))}; they must add up to the "
                f"line's net {format_money(line.net)}",
            )
        )
    if errors:
        raise ValidationError(errors)
    return amounts


def _copy_line(line: SpendLine) -> SpendLine:
    copied = [
        "grant_id",
        "date",
        "counted_on",
        "released_on",
        "supplier",
        "description",
        "reference",
        "cost_centre",
        "account_code",
        "vat_recoverable",
        "status",
        "notes",
        "source",
        "batch_id",
        "source_row",
    ]
    return SpendLine(**{name: getattr(line, name) for name in copied})


def assign_spend(
    db: Database, line_ids: list[int], allocation_code: str | None, reason: str = ""
) -> list[SpendLine]:
    """Assign many lines of one grant to one project (None or "" unassigns) in one unit of work.

    Refused as a whole when a line is missing, belongs to another grant or is locked.
    """
    if not line_ids:
        return []
    code = _parse_field("allocation", allocation_code)
    with db.unit_of_work(reason) as session:
        lines = [_load_line(session, line_id, None) for line_id in dict.fromkeys(line_ids)]
        grant_ids = {line.grant_id for line in lines}
        if len(grant_ids) > 1:
            raise ValidationError(FieldError("lines", "the lines belong to different grants"))
        grant = session.get_one(Grant, grant_ids.pop())
        refuse_closed(grant)  # a closed year is read-only
        allocation_id = _allocation_id(session, grant, code)
        for line in lines:
            refuse_locked_line(session, grant, line.counted_on, f"spend line {line.id}")
            line.allocation_id = allocation_id
        session.flush()
        for line in lines:
            session.refresh(line, ["allocation"])
        return lines


# --- Commitments that clear ------------------------------------------------------------------
#
# A commitment (a purchase order) is cleared by releasing it: cancelled, or replaced by the
# actual line of its invoice. The release is dated and counted in an open period, so a
# submitted return keeps its figures: the commitment stops counting as committed in periods
# ending on or after the release, and the invoice counts like any line (a late line when dated
# inside a submitted period).


def _commitment(session: Session, line_id: int, expected_version: int | None) -> SpendLine:
    line = _load_line(session, line_id, expected_version)
    if line.status != "committed":
        raise ValidationError(
            FieldError("line", f"spend line {line_id} is {line.status}, not a commitment")
        )
    if line.released_on is not None:
        invoiced = f" (invoiced by line {line.invoiced_by_id})" if line.invoiced_by_id else ""
        raise ValidationError(
            FieldError(
                "line",
                f"commitment {line_id} was already released on {line.released_on:%d/%m/%Y}"
                f"{invoiced}",
            )
        )
    return line


def _release_day(session: Session, grant: Grant, line: SpendLine, day: date) -> date:
    """The day a release counts from: ``day``, but within the grant (a release made after the
    grant ended counts in its last period) and not in a submitted period."""
    if day < line.date:
        raise ValidationError(
            FieldError(
                "on",
                f"{day:%d/%m/%Y} is before commitment {line.id} was raised ({line.date:%d/%m/%Y})",
            )
        )
    return counted_on_for(session, grant, min(day, grant.end_date))


def release_commitment(
    db: Database,
    line_id: int,
    on: date | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> SpendLine:
    """Release (cancel) a commitment on ``on`` (default today), which may not fall in a
    submitted period; it stops counting as committed in periods ending on or after it."""
    day = on or date.today()
    with db.unit_of_work(reason) as session:
        line = _commitment(session, line_id, expected_version)
        grant = session.get_one(Grant, line.grant_id)
        refuse_closed(grant)
        released_on = _release_day(session, grant, line, day)
        if on is not None and released_on > max(on, line.date) and on <= grant.end_date:
            raise LockedError(
                f"commitment {line_id} cannot be released on {on:%d/%m/%Y}: that day is in a "
                f"submitted period; release it on {released_on:%d/%m/%Y} or later"
            )
        line.released_on = released_on
        session.flush()
        _ = line.allocation
        return line


def invoice_commitment(
    db: Database,
    line_id: int,
    values: Mapping[str, object],
    reason: str = "",
    expected_version: int | None = None,
) -> tuple[SpendLine, SpendLine]:
    """Replace a commitment by the actual line of its invoice (``values``: date and net are
    required; vat and reference optional; the rest is copied from the commitment). The actual
    line counts like any line; the commitment is released on the day it counts from.
    Returns (commitment, actual line)."""
    fields = parse_fields(values)
    missing = [FieldError(f, "is required") for f in ("date", "net") if f not in fields]
    if missing:
        raise ValidationError(missing)
    with db.unit_of_work(reason) as session:
        commitment = _commitment(session, line_id, expected_version)
        grant = session.get_one(Grant, commitment.grant_id)
        refuse_closed(grant)
        day: date = fields["date"]
        if not grant.start_date <= day <= grant.end_date:
            raise ValidationError(
                FieldError(
                    "date",
                    f"{day:%d/%m/%Y} is outside grant {grant.reference} "
                    f"({grant.start_date:%d/%m/%Y} to {grant.end_date:%d/%m/%Y})",
                )
            )
        actual = _copy_line(commitment)
        actual.status, actual.source, actual.batch_id, actual.source_row = (
            "paid",
            "manual",
            None,
            None,
        )
        actual.released_on, actual.vat = None, Decimal("0.00")
        actual.notes = f"invoice for commitment {line_id}"
        _assign(session, grant, actual, {**fields, "allocation": _code(commitment)})
        session.add(actual)
        session.flush()
        _clear(session, grant, commitment, actual)
        _ = actual.allocation
        return commitment, actual


def match_commitment(
    db: Database,
    line_id: int,
    actual_id: int,
    reason: str = "",
    expected_version: int | None = None,
) -> tuple[SpendLine, SpendLine]:
    """Pair a commitment with an actual line already recorded (imported, say): the
    commitment is released on the day that line counts from (or the first open day)."""
    with db.unit_of_work(reason) as session:
        commitment = _commitment(session, line_id, expected_version)
        grant = session.get_one(Grant, commitment.grant_id)
        refuse_closed(grant)
        actual = _load_line(session, actual_id, None)
        if actual.grant_id != grant.id or actual.status == "committed":
            raise ValidationError(
                FieldError(
                    "match",
                    f"spend line {actual_id} is not an actual (paid or accrued) line of grant "
                    f"{grant.reference}",
                )
            )
        other = session.scalar(
            select(SpendLine.id).where(SpendLine.invoiced_by_id == actual_id).limit(1)
        )
        if other is not None:
            raise ValidationError(
                FieldError("match", f"spend line {actual_id} already invoices commitment {other}")
            )
        _clear(session, grant, commitment, actual)
        _ = actual.allocation
        return commitment, actual


def _clear(session: Session, grant: Grant, commitment: SpendLine, actual: SpendLine) -> None:
    commitment.released_on = _release_day(
        session, grant, commitment, max(actual.counted_on, commitment.date)
    )
    commitment.invoiced_by_id = actual.id
    session.flush()
    _ = commitment.allocation


def _code(line: SpendLine) -> str | None:
    return line.allocation.code if line.allocation else None


def unrelease_commitment(
    db: Database, line_id: int, reason: str = "", expected_version: int | None = None
) -> SpendLine:
    """Undo a release (the inverse of release, invoice and match): refused once the release
    counts in a submitted period."""
    with db.unit_of_work(reason) as session:
        line = _load_line(session, line_id, expected_version)
        grant = session.get_one(Grant, line.grant_id)
        refuse_closed(grant)
        if line.released_on is None:
            raise ValidationError(FieldError("line", f"commitment {line_id} is not released"))
        refuse_locked_line(session, grant, line.released_on, f"the release of commitment {line_id}")
        line.released_on, line.invoiced_by_id = None, None
        session.flush()
        _ = line.allocation
        return line


def carry_forward_commitment(
    db: Database,
    line_id: int,
    to_grant_reference: str,
    reason: str = "",
    expected_version: int | None = None,
) -> tuple[SpendLine, SpendLine]:
    """Carry an open commitment into next year's grant: the same order raised again there as a
    commitment dated on its first day (same project code, supplier, amounts, reference). The
    old line is released on the day after its grant ends, so every period of the old grant —
    the year-end return included — still counts it as committed, as it was at the year end,
    and the year can close. Returns (old commitment, new commitment)."""
    with db.unit_of_work(reason) as session:
        commitment = _commitment(session, line_id, expected_version)
        grant = session.get_one(Grant, commitment.grant_id)
        refuse_closed(grant)
        target = get_grant(session, to_grant_reference)
        refuse_closed(target)
        if target.start_date <= grant.end_date:
            raise ValidationError(
                FieldError(
                    "to",
                    f"grant {target.reference} starts on {target.start_date:%d/%m/%Y}, before "
                    f"grant {grant.reference} ends ({grant.end_date:%d/%m/%Y}): a commitment "
                    "is carried forward into a later year's grant",
                )
            )
        carried = _copy_line(commitment)
        carried.grant_id, carried.source, carried.batch_id, carried.source_row = (
            target.id,
            "manual",
            None,
            None,
        )
        carried.released_on, carried.net, carried.vat = None, commitment.net, commitment.vat
        carried.notes = _joined(
            commitment.notes,
            f"carried forward from grant {grant.reference} line {commitment.id} "
            f"(raised {commitment.date:%d/%m/%Y})",
        )
        _assign(
            session, target, carried, {"date": target.start_date, "allocation": _code(commitment)}
        )
        session.add(carried)
        session.flush()
        commitment.released_on = grant.end_date + timedelta(days=1)
        commitment.invoiced_by_id = carried.id
        session.flush()
        _ = commitment.allocation, carried.allocation
        return commitment, carried


def _joined(*notes: str | None) -> str:
    return "; ".join(note for note in notes if note)
