"""The ledger as a table: filtered counts and pages of spend lines, for views that show a very
large ledger a page at a time.

Filters run in SQL. Pages are keyed by (sort value, id) rather than OFFSET, so fetching the
next page costs the same at line 1,000,000 as at line 100.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from fundtracker.errors import ValidationError
from fundtracker.models import SPEND_STATUSES, Allocation, Attachment, SpendLine
from fundtracker.money import ZERO
from fundtracker.periods import Period
from fundtracker.services.grants import get_grant
from fundtracker.storage import Database

# The columns a ledger view may sort by, and the SQL expression each sorts on.
SORT_COLUMNS: dict[str, Any] = {
    "id": SpendLine.id,
    "date": SpendLine.date,
    "allocation": func.coalesce(Allocation.code, ""),
    "supplier": SpendLine.supplier,
    "description": SpendLine.description,
    "reference": SpendLine.reference,
    "cost_centre": SpendLine.cost_centre,
    "account_code": SpendLine.account_code,
    "net": SpendLine.net,
    "vat": SpendLine.vat,
    "status": SpendLine.status,
    "counted_on": SpendLine.counted_on,
}
_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class LedgerFilter:
    """What the officer narrowed the ledger to; every part is optional."""

    text: str = ""
    period: Period | None = None
    allocation: str | None = None  # an allocation code
    status: str | None = None
    unassigned_only: bool = False


@dataclass(frozen=True)
class LedgerRow:
    """One spend line as a table shows it (a plain value, safe to keep after the session)."""

    id: int
    version: int
    date: date
    allocation: str | None
    supplier: str
    description: str
    reference: str
    cost_centre: str
    account_code: str
    net: Decimal
    vat: Decimal
    vat_recoverable: bool
    status: str
    notes: str
    attachments: int
    counted_on: datetime.date | None = None  # differs from ``date`` for a late line (issue 13)

    @property
    def claimable(self) -> Decimal:
        return self.net if self.vat_recoverable else self.net + self.vat

    def sort_value(self, column: str) -> Any:
        return (self.allocation or "") if column == "allocation" else getattr(self, column)


@dataclass(frozen=True)
class LedgerSummary:
    lines: int
    net: Decimal
    vat: Decimal


def _filtered(query: _Query, grant_id: int, flt: LedgerFilter) -> _Query:
    query = query.where(SpendLine.grant_id == grant_id)
    if flt.status is not None:
        if flt.status not in SPEND_STATUSES:
            raise ValidationError(f"status must be one of {', '.join(SPEND_STATUSES)}")
        query = query.where(SpendLine.status == flt.status)
    elif flt.unassigned_only or flt.allocation:
        # Every status, stated, so the (grant, allocation, status, date) index serves a
        # project filter with all its columns instead of scanning the grant by date.
        query = query.where(SpendLine.status.in_(SPEND_STATUSES))
    if flt.period is not None:
        query = query.where(SpendLine.date.between(flt.period.start, flt.period.end))
    elif flt.text:
        # A date range (here: every date) steers the planner to the date index, so a page
        # of a search reads the grant's lines in date order.
        query = query.where(SpendLine.date >= date.min)
    if flt.unassigned_only:
        query = query.where(SpendLine.allocation_id.is_(None))
    elif flt.allocation:
        # By id, not by joining on the code, so the (grant, allocation, ...) index serves it.
        allocation_id = (
            select(Allocation.id)
            .where(Allocation.grant_id == grant_id, Allocation.code == flt.allocation)
            .scalar_subquery()
        )
        query = query.where(SpendLine.allocation_id == allocation_id)
    for word in flt.text.casefold().split():
        # One column holds every text field case-folded (see SpendLine.search_text).
        query = query.where(SpendLine.search_text.contains(word, autoescape=True))
    return query


def _grant_id(session: Session, grant_reference: str) -> int:
    return get_grant(session, grant_reference).id


def summarise_lines(
    db: Database, grant_reference: str, flt: LedgerFilter | None = None
) -> LedgerSummary:
    """How many lines match, with their net and VAT totals."""
    flt = flt or LedgerFilter()
    with db.read() as session:
        query = select(func.count(SpendLine.id), func.sum(SpendLine.net), func.sum(SpendLine.vat))
        query = _filtered(query, _grant_id(session, grant_reference), flt)
        count, net, vat = session.execute(query).one()
    return LedgerSummary(int(count), net or ZERO, vat or ZERO)


def count_lines(db: Database, grant_reference: str, flt: LedgerFilter | None = None) -> int:
    return summarise_lines(db, grant_reference, flt).lines


def page_lines(
    db: Database,
    grant_reference: str,
    flt: LedgerFilter | None = None,
    *,
    sort: str = "date",
    descending: bool = False,
    after: LedgerRow | None = None,
    limit: int = 200,
) -> list[LedgerRow]:
    """Up to ``limit`` matching lines ordered by ``sort`` then id, starting after ``after``."""
    if sort not in SORT_COLUMNS:
        raise ValidationError(f"cannot sort by '{sort}' (choose from {', '.join(SORT_COLUMNS)})")
    flt = flt or LedgerFilter()
    key = SORT_COLUMNS[sort]
    attachments = (
        select(func.count(Attachment.id))
        .where(Attachment.spend_line_id == SpendLine.id)
        .scalar_subquery()
    )
    with db.read() as session:
        query = select(SpendLine, Allocation.code, attachments).outerjoin(
            Allocation, SpendLine.allocation_id == Allocation.id
        )
        query = _filtered(query, _grant_id(session, grant_reference), flt)
        if after is not None:
            query = query.where(_after(key, after.sort_value(sort), after.id, descending))
        order = (key.desc(), SpendLine.id.desc()) if descending else (key, SpendLine.id)
        query = query.order_by(*order).limit(limit)
        return [_row(line, code, count) for line, code, count in session.execute(query)]


def _after(key: Any, value: Any, line_id: int, descending: bool) -> ColumnElement[bool]:
    if descending:
        return or_(key < value, and_(key == value, SpendLine.id < line_id))
    return or_(key > value, and_(key == value, SpendLine.id > line_id))


def _row(line: SpendLine, code: str | None, attachments: int) -> LedgerRow:
    return LedgerRow(
        id=line.id,
        version=line.version,
        date=line.date,
        allocation=code,
        supplier=line.supplier,
        description=line.description,
        reference=line.reference,
        cost_centre=line.cost_centre,
        account_code=line.account_code,
        net=line.net,
        vat=line.vat,
        vat_recoverable=line.vat_recoverable,
        status=line.status,
        notes=line.notes,
        attachments=int(attachments or 0),
        counted_on=line.counted_on,
    )


def get_row(db: Database, line_id: int) -> LedgerRow | None:
    """One line as a table row (None when it no longer exists)."""
    with db.read() as session:
        found = session.execute(
            select(SpendLine, Allocation.code)
            .outerjoin(Allocation, SpendLine.allocation_id == Allocation.id)
            .where(SpendLine.id == line_id)
        ).first()
        if found is None:
            return None
        count = session.scalar(
            select(func.count(Attachment.id)).where(Attachment.spend_line_id == line_id)
        )
        return _row(found[0], found[1], int(count or 0))
