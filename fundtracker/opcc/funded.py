"""The partnerships the OPCC funds and the returns it expects of them (issue 16).

Each funded partnership owes a return for every reporting period of its grant (its quarters,
halves or year, from its frequency), due ``opcc.return_due_days`` days (default 30) after the
period ends. ``RETURN_MISSING`` names a due return not received; ``RETURN_LATE`` one received
after its due date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundtracker.checks import Finding
from fundtracker.dates import parse_date
from fundtracker.errors import FundtrackerError, NotFoundError, ValidationError
from fundtracker.models import RETURN_FREQUENCIES, FundedPartnership, ReceivedReturn
from fundtracker.money import money_str, parse_money
from fundtracker.periods import Period, reporting_periods
from fundtracker.settings import RETURN_DUE_DAYS, read_setting
from fundtracker.storage import Database

# What the officer types for a funded partnership, by its flag's name (--grant-reference).
FIELDS = ("recipient", "grant_reference", "award", "start", "end", "returns")


def parse_funded(raw: dict[str, str]) -> dict[str, Any]:
    """The fields of a funded partnership from what the officer typed, each checked and
    refused by name: recipient, grant_reference, award, start, end, returns."""
    recipient = raw.get("recipient", "").strip()
    reference = raw.get("grant_reference", "").strip()
    if not recipient:
        raise ValidationError("--recipient: the partnership's name is required")
    if not reference:
        raise ValidationError("--grant-reference: the grant reference is required")
    values: dict[str, Any] = {"recipient": recipient[:300], "grant_reference": reference[:100]}
    for field, key in (("award", "award"), ("start", "start_date"), ("end", "end_date")):
        try:
            text = raw.get(field, "")
            values[key] = parse_money(text) if field == "award" else parse_date(text)
        except FundtrackerError as exc:
            raise ValidationError(f"--{field}: {exc}") from exc
    if values["award"] < 0:
        raise ValidationError(f"--award: {raw['award']} is negative; an award is at least £0.00")
    if values["end_date"] <= values["start_date"]:
        raise ValidationError("--end: the grant must end after it starts")
    frequency = raw.get("returns", "")
    if frequency not in RETURN_FREQUENCIES:
        raise ValidationError(
            f"--returns: '{frequency}' is not one of {', '.join(RETURN_FREQUENCIES)}"
        )
    values["return_frequency"] = frequency
    return values


def add_funded(session: Session, values: dict[str, Any]) -> FundedPartnership:
    """Record a funded partnership (inside a unit of work); one per grant reference."""
    refuse_taken_reference(session, values["grant_reference"])
    row = FundedPartnership(**values)
    session.add(row)
    session.flush()
    return row


def refuse_taken_reference(session: Session, reference: str, own_id: int | None = None) -> None:
    """One funded partnership per grant reference (its returns are matched by it)."""
    taken = session.scalar(
        select(FundedPartnership).where(
            FundedPartnership.grant_reference == reference, FundedPartnership.id != own_id
        )
    )
    if taken is not None:
        raise ValidationError(
            f"--grant-reference: {reference} is already recorded as funding {taken.recipient}"
        )


def funded_json(row: FundedPartnership) -> dict[str, Any]:
    """The fields as ``funded list --format json`` gives them, and as an edit starts from:
    the officer's own words (parse_funded reads them back)."""
    return {
        "recipient": row.recipient,
        "grant_reference": row.grant_reference,
        "award": money_str(row.award),
        "start": row.start_date.isoformat(),
        "end": row.end_date.isoformat(),
        "returns": row.return_frequency,
    }


def find_funded(db: Database, reference: str) -> FundedPartnership:
    with db.read() as session:
        row = session.scalar(
            select(FundedPartnership).where(FundedPartnership.grant_reference == reference)
        )
    if row is None:
        raise NotFoundError(f"no funded partnership has the grant reference {reference}")
    return row


def list_funded(db: Database) -> list[dict[str, Any]]:
    with db.read() as session:
        rows = session.scalars(select(FundedPartnership).order_by(FundedPartnership.recipient))
        return [funded_json(row) for row in rows]


@dataclass(frozen=True)
class ExpectedReturn:
    """One return a funded partnership owes, and when (if ever) it first arrived."""

    recipient: str
    grant_reference: str
    period: Period
    due: date
    received_on: date | None  # the day its first version arrived

    def to_json(self) -> dict[str, Any]:
        return {
            "recipient": self.recipient,
            "grant_reference": self.grant_reference,
            "period": str(self.period),
            "due": self.due.isoformat(),
            "received_on": self.received_on.isoformat() if self.received_on else None,
        }


def expected_returns(session: Session, up_to: date) -> list[ExpectedReturn]:
    """Every return owed for a reporting period ending on or before ``up_to``."""
    days = int(read_setting(session, RETURN_DUE_DAYS))
    first_received = {
        (reference, period): first
        for reference, period, first in session.execute(
            select(
                ReceivedReturn.grant_reference,
                ReceivedReturn.period,
                func.min(ReceivedReturn.received_at),
            ).group_by(ReceivedReturn.grant_reference, ReceivedReturn.period)
        )
    }
    expected = []
    funded = session.scalars(select(FundedPartnership).order_by(FundedPartnership.recipient))
    for row in funded:
        for period in reporting_periods(row.start_date, row.end_date, row.return_frequency):
            if period.end > up_to:
                continue
            arrived = first_received.get((row.grant_reference, str(period)))
            expected.append(
                ExpectedReturn(
                    row.recipient,
                    row.grant_reference,
                    period,
                    period.end + timedelta(days=days),
                    arrived.date() if arrived else None,
                )
            )
    return expected


def return_findings(db: Database, today: date) -> list[Finding]:
    """RETURN_MISSING (error) for each return past its due date and not received;
    RETURN_LATE (warning) for each received after its due date."""
    with db.read() as session:
        owed = expected_returns(session, today)
    findings = []
    for item in owed:
        name = f"{item.recipient}'s {item.period} return ({item.grant_reference})"
        if item.received_on is None and item.due < today:
            findings.append(
                Finding(
                    "RETURN_MISSING",
                    "error",
                    f"{name} was due on {item.due:%d/%m/%Y} and has not been received",
                    item.grant_reference,
                )
            )
        elif item.received_on is not None and item.received_on > item.due:
            late = (item.received_on - item.due).days
            findings.append(
                Finding(
                    "RETURN_LATE",
                    "warning",
                    f"{name} arrived on {item.received_on:%d/%m/%Y}, {late} days after it was "
                    f"due on {item.due:%d/%m/%Y}",
                    item.grant_reference,
                )
            )
    return findings
