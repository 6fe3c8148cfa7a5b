"""What the Spending page offers for a committed line (issue 13): the actual lines its invoice
may be matched to, and the later grants it may be carried into. Plain Python over the
database; the window only shows the choices."""

from __future__ import annotations

from sqlalchemy import select

from fundtracker.errors import NotFoundError
from fundtracker.models import Grant, SpendLine
from fundtracker.money import format_money
from fundtracker.services.grants import get_grant
from fundtracker.storage import Database

# A commitment is matched to a recent line of its own project; a long list helps nobody.
CANDIDATE_LIMIT = 200


def match_candidates(db: Database, commitment_id: int) -> list[tuple[int, str]]:
    """(id, label) of the actual lines of the commitment's grant and project, newest first:
    the lines its invoice may already be among (imported from the ledger)."""
    with db.read() as session:
        commitment = session.get(SpendLine, commitment_id)
        if commitment is None:
            raise NotFoundError(f"spend line {commitment_id} no longer exists")
        rows = session.scalars(
            select(SpendLine)
            .where(
                SpendLine.grant_id == commitment.grant_id,
                SpendLine.allocation_id == commitment.allocation_id,
                SpendLine.status != "committed",
            )
            .order_by(SpendLine.date.desc(), SpendLine.id.desc())
            .limit(CANDIDATE_LIMIT)
        )
        return [(line.id, candidate_label(line)) for line in rows]


def candidate_label(line: SpendLine) -> str:
    parts = [f"{line.id}:", f"{line.date:%d/%m/%Y}", line.supplier, line.reference]
    return " ".join(p for p in parts if p) + f"  {format_money(line.net)}"


def later_grants(db: Database, grant_reference: str) -> list[tuple[str, str]]:
    """(reference, name) of the open grants starting after ``grant_reference`` ends, soonest
    first: where one of its commitments may be carried forward."""
    with db.read() as session:
        grant = get_grant(session, grant_reference)
        rows = session.scalars(
            select(Grant)
            .where(Grant.start_date > grant.end_date, Grant.closed_at.is_(None))
            .order_by(Grant.start_date, Grant.reference)
        )
        return [(later.reference, later.name) for later in rows]
