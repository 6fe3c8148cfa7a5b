"""Year end: the statement of what the funder and the partnership owe each other, closing a
grant's year (read-only until reopened with a reason) and the check other services call.

The statement (docs/FIGURES.md, *Year end*), all in pence:

- underspend = award − spend, when positive (budget the year did not use);
- to return = received − spend, when positive (money paid over and not spent);
- due from the funder = min(award, spend) − received, when positive (spend the funder has
  not yet paid for, up to the award).

``spend`` is the claimable spend to date at the end of the grant's last period, exactly the
report's ``spend_to_date``; ``received`` is every payment marked received.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundtracker.errors import LockedError, ValidationError
from fundtracker.models import Grant, SpendLine
from fundtracker.money import format_money, money_str
from fundtracker.periods import Period, reporting_periods
from fundtracker.services.grants import get_grant
from fundtracker.services.locks import submitted_for_period
from fundtracker.storage import Database, utcnow

if TYPE_CHECKING:
    from fundtracker.figures import Report

ZERO = Decimal("0.00")
# How the statement's amounts are named to the officer (CLI, window), in order.
STATEMENT_LABELS = (
    ("award", "Award"),
    ("received", "Received"),
    ("spend", "Claimable spend"),
    ("underspend", "Underspend"),
    ("to_return", "To return to the funder"),
    ("due_from_funder", "Still due from the funder"),
)
# Open commitments named in a refusal: enough to find them, not a page of ids.
NAMED_LIMIT = 10


@dataclass(frozen=True)
class YearEndStatement:
    award: Decimal
    received: Decimal
    spend: Decimal
    underspend: Decimal
    to_return: Decimal
    due_from_funder: Decimal

    def to_json(self) -> dict[str, str]:
        """The ``year_end`` block of the report JSON (a contract: two-decimal strings)."""
        return {name: money_str(getattr(self, name)) for name in self.__dataclass_fields__}


def statement_from(award: Decimal, received: Decimal, spend: Decimal) -> YearEndStatement:
    """The three year-end amounts from award, received and claimable spend."""
    return YearEndStatement(
        award=award,
        received=received,
        spend=spend,
        underspend=max(ZERO, award - spend),
        to_return=max(ZERO, received - spend),
        due_from_funder=max(ZERO, min(award, spend) - received),
    )


def last_period(grant: Grant) -> Period:
    """The grant's final return period (its last quarter, half or year)."""
    return reporting_periods(grant.start_date, grant.end_date, grant.return_frequency)[-1]


def received_total(grant: Grant) -> Decimal:
    return sum((p.amount for p in grant.payments if p.received), ZERO)


def year_end_statement(db: Database, grant_reference: str) -> YearEndStatement:
    """The statement as the figures stand now (closed or not)."""
    from fundtracker.figures import report_for  # figures is large; only this needs it
    from fundtracker.services.grants import load_grant

    grant = load_grant(db, grant_reference)
    report = report_for(db, grant, last_period(grant))
    return statement_from(grant.award, received_total(grant), report.summary.spend_to_date)


def year_end_block(db: Database, report: Report) -> dict[str, dict[str, str]]:
    """``{"year_end": …}`` for the report JSON of the grant's last period, else nothing."""
    from fundtracker.services.grants import load_grant

    return year_end_of(load_grant(db, report.grant.reference), report)


def year_end_of(grant: Grant, report: Report) -> dict[str, dict[str, str]]:
    """``year_end_block`` for a grant already loaded (the return document uses it)."""
    if report.period != last_period(grant):
        return {}
    spend = report.summary.spend_to_date
    return {"year_end": statement_from(grant.award, received_total(grant), spend).to_json()}


# --- Read-only when closed -------------------------------------------------------------------


def refuse_closed(grant: Grant, what: str = "spend") -> None:
    """Refuse any change to a closed grant's data: every writing service calls this."""
    if grant.closed_at is not None:
        raise LockedError(
            f"grant {grant.reference} was closed for the year on {grant.closed_at:%d/%m/%Y}: "
            f"its {what} cannot change until it is reopened "
            f"(fundtracker-cli grant reopen {grant.reference} --reason TEXT)"
        )


# --- Close and reopen ------------------------------------------------------------------------


def open_commitments(session: Session, grant_id: int) -> list[SpendLine]:
    """Committed lines not yet released or invoiced (an invoiced one is released too)."""
    return list(
        session.scalars(
            select(SpendLine)
            .where(
                SpendLine.grant_id == grant_id,
                SpendLine.status == "committed",
                SpendLine.released_on.is_(None),
            )
            .order_by(SpendLine.date, SpendLine.id)
        )
    )


def close_blockers(session: Session, grant: Grant) -> list[str]:
    """Why the year cannot be closed yet, in the officer's words (empty when it can)."""
    problems = []
    final = last_period(grant)
    submitted = submitted_for_period(session, grant.id, str(final)) is not None
    if not submitted:
        problems.append(
            f"the return for the last period, {final}, has not been submitted "
            f"(fundtracker-cli export-return --grant {grant.reference} --period {final} "
            "--out FILE.xlsx --submit)"
        )
    commitments = open_commitments(session, grant.id)
    if commitments:
        named = ", ".join(_commitment_label(line) for line in commitments[:NAMED_LIMIT])
        more = (
            f" and {len(commitments) - NAMED_LIMIT} more" if len(commitments) > NAMED_LIMIT else ""
        )
        problems.append(
            f"{len(commitments)} commitment(s) are still open: {named}{more}; carry each "
            "into next year's grant (Carry forward… on the Spending page; fundtracker-cli "
            "spend carry-forward ID --to NEXT-REF), or release or invoice it (spend release "
            "ID, spend invoice ID)"
            + (
                f" — with the return for {final} submitted, a release or an invoice needs it "
                "reopened first; carrying forward does not"
                if submitted
                else ""
            )
        )
    return problems


def _commitment_label(line: SpendLine) -> str:
    who = f" {line.supplier}" if line.supplier else ""
    return f"line {line.id} ({line.date:%d/%m/%Y}{who} {format_money(line.claimable)})"


def close_grant(db: Database, grant_reference: str, reason: str = "") -> YearEndStatement:
    """Close the year: refused, naming every reason, unless the last return is submitted and
    no commitment is open. Audited (the grant's ``closed_at`` changes) with ``reason``."""
    with db.unit_of_work(reason or f"close the year of {grant_reference}") as session:
        grant = get_grant(session, grant_reference)
        if grant.closed_at is not None:
            raise ValidationError(
                f"grant {grant.reference} was already closed on {grant.closed_at:%d/%m/%Y}"
            )
        problems = close_blockers(session, grant)
        if problems:
            raise ValidationError(
                f"cannot close the year of {grant.reference}: " + "; ".join(problems)
            )
        grant.closed_at = utcnow()
    return year_end_statement(db, grant_reference)


def reopen_grant(db: Database, grant_reference: str, reason: str) -> Grant:
    """Make a closed grant writable again; the reason is required and audited."""
    if not reason.strip():
        raise ValidationError("reason: say why the year is being reopened")
    with db.unit_of_work(reason.strip()) as session:
        grant = get_grant(session, grant_reference)
        if grant.closed_at is None:
            raise ValidationError(f"grant {grant.reference} is not closed")
        grant.closed_at = None
        return grant
