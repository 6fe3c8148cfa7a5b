"""Exporting a return, submitting it (which locks the period), reopening and listing.

A submission records the period, when, who, the return document (snapshot) and its
checksum, in one unit of work with its audit event; the workbook is written to a temporary
file first and put in place only once the submission is committed. While a period's
submission stands (not reopened), exporting it again renders the snapshot, so the OPCC gets
the same figures even after later changes; the SUBMITTED_CHANGED check says when the data no
longer gives them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundtracker import audit
from fundtracker.dates import local_date
from fundtracker.errors import LockedError, NotFoundError, ValidationError
from fundtracker.files import atomic_path
from fundtracker.models import Grant, Submission
from fundtracker.periods import Period
from fundtracker.returns.snapshot import build_return, canonical_json, checksum
from fundtracker.returns.workbook import write_return
from fundtracker.services.grants import get_grant
from fundtracker.services.locks import hold_grant, submitted_for_period
from fundtracker.storage import Database

DRAFT = "Draft"
SUBMITTED = "Submitted"
# Renders a return document to a file: (target, document, status, checksum, version). Our own
# workbook (workbook.write_return) or the funder's template filled in (template.py).
ReturnWriter = Callable[[Path, dict[str, Any], str, str, "int | None"], None]


@dataclass(frozen=True)
class ExportResult:
    status: str  # Draft or Submitted
    version: int | None  # the submission's version; None for a draft
    checksum: str  # empty for a draft
    document: dict[str, Any]  # the return as plain data (figures, narratives, lines, checks)
    newly_submitted: bool  # True when this export recorded the submission

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [c for c in self.document["checks"] if c["severity"] == "error"]


@dataclass(frozen=True)
class SubmissionInfo:
    grant: str
    period: str
    period_end: date
    version: int
    submitted_at: datetime
    submitted_by: str
    checksum: str
    reopened_at: datetime | None
    reopened_by: str | None
    reopen_reason: str | None

    @property
    def status(self) -> str:
        return "reopened" if self.reopened_at else "submitted"

    def to_json(self) -> dict[str, Any]:
        return {
            "grant": self.grant,
            "period": self.period,
            "period_end": self.period_end.isoformat(),
            "version": self.version,
            "status": self.status,
            "submitted_at": self.submitted_at.isoformat(),
            "submitted_by": self.submitted_by,
            "checksum": self.checksum,
            "reopened_at": self.reopened_at.isoformat() if self.reopened_at else None,
            "reopened_by": self.reopened_by,
            "reopen_reason": self.reopen_reason,
        }


def export_return(
    db: Database,
    grant_reference: str,
    period: Period,
    out: Path,
    *,
    prepared_by: str | None = None,
    submit: bool = False,
    today: date | None = None,
    writer: ReturnWriter = write_return,
) -> ExportResult:
    """Write the period's return workbook to ``out``; with ``submit``, record it as submitted.

    ``writer`` renders it (the funder's template filled in, for one); a writer that refuses
    the document raises before anything is written, and the submission is not recorded.

    A period already submitted (and not reopened) is re-exported from its snapshot; submitting
    it again is refused until it is reopened. Check errors do not stop a submission: callers
    show ``result.errors`` (the desktop app asks first, using ``preview``).
    """
    who = prepared_by or db.os_user
    on = today or local_date()  # the officer's date: "Prepared on" is read by people
    if submit:
        return _submit(db, grant_reference, period, out, who, on, writer)
    with db.read() as session:
        grant = get_grant(session, grant_reference)
        standing = submitted_for_period(session, grant.id, str(period))
        if standing is not None:
            document = json.loads(standing.snapshot)
            result = ExportResult(
                SUBMITTED, standing.version_number, standing.checksum, document, False
            )
        else:
            document = build_return(db, session, grant_reference, period, who, on)
            result = ExportResult(DRAFT, None, "", document, False)
    writer(out, result.document, result.status, result.checksum, result.version)
    return result


def preview(db: Database, grant_reference: str, period: Period) -> dict[str, Any]:
    """The return document as the data stands now (for a screen, or to list check errors
    before submitting)."""
    with db.read() as session:
        return build_return(
            db, session, grant_reference, period, db.os_user, local_date()
        )


def _submit(
    db: Database,
    grant_reference: str,
    period: Period,
    out: Path,
    who: str,
    on: date,
    writer: ReturnWriter,
) -> ExportResult:
    with atomic_path(out) as temporary, db.unit_of_work(f"return {period} submitted") as session:
        grant = get_grant(session, grant_reference)  # first statement: takes the write lock
        # The grant's other writers wait until this submission is committed: the return is
        # read at one moment (its figures, checks and lines agree), and a second submission
        # of the period, made at the same time, finds this one and is refused.
        hold_grant(session, grant.id)
        session.expire_all()  # nothing is changed yet: read the grant again, under the lock
        standing = submitted_for_period(session, grant.id, str(period))
        if standing is not None:
            raise LockedError(
                f"the return for {period} was already submitted (version "
                f"{standing.version_number}, {standing.submitted_at:%d/%m/%Y}); reopen it "
                "first to submit a new version"
            )
        document = build_return(db, session, grant_reference, period, who, on)
        digest = checksum(document)
        version = _next_version(session, grant, period)
        writer(temporary, document, SUBMITTED, digest, version)
        submission = Submission(
            grant_id=grant.id,
            period=str(period),
            period_end=period.end,
            version_number=version,
            submitted_at=datetime.now(UTC),
            submitted_by=who,
            snapshot=canonical_json(document).decode("utf-8"),
            checksum=digest,
        )
        session.add(submission)
        session.flush()
        audit.record(
            session,
            "submit",
            "return",
            submission.id,
            f"{grant.reference} {period} v{version}",
            grant.id,
            {"checksum": [None, digest], "version": [None, version]},
        )
    return ExportResult(SUBMITTED, version, digest, document, True)


def _next_version(session: Session, grant: Grant, period: Period) -> int:
    latest = session.scalar(
        select(func.max(Submission.version_number)).where(
            Submission.grant_id == grant.id, Submission.period == str(period)
        )
    )
    return (latest or 0) + 1


def reopen_return(
    db: Database, grant_reference: str, period: Period, reason: str, who: str | None = None
) -> SubmissionInfo:
    """Lift the lock of a submitted return (audited with the reason); its snapshot is kept."""
    if not reason.strip():
        raise ValidationError("a reason is required to reopen a submitted return")
    with db.unit_of_work(reason) as session:
        grant = get_grant(session, grant_reference)
        submission = submitted_for_period(session, grant.id, str(period))
        if submission is None:
            raise NotFoundError(
                f"grant {grant.reference} has no submitted return for {period} to reopen"
            )
        submission.reopened_at = datetime.now(UTC)
        submission.reopened_by = who or db.os_user
        submission.reopen_reason = reason.strip()
        session.flush()
        audit.record(
            session,
            "reopen",
            "return",
            submission.id,
            f"{grant.reference} {period} v{submission.version_number}",
            grant.id,
            {"reason": [None, reason.strip()]},
        )
        return _info(grant, submission)


def list_returns(db: Database, grant_reference: str) -> list[SubmissionInfo]:
    """Every submission of the grant, every version, by period then version."""
    with db.read() as session:
        grant = get_grant(session, grant_reference)
        rows = session.scalars(
            select(Submission)
            .where(Submission.grant_id == grant.id)
            .order_by(Submission.period_end, Submission.period, Submission.version_number)
        )
        return [_info(grant, row) for row in rows]


def snapshot_text(
    db: Database, grant_reference: str, period: Period, version: int | None = None
) -> str:
    """The stored snapshot: the exact canonical JSON text whose SHA-256 is the checksum.
    Default: the latest version of the period."""
    with db.read() as session:
        grant = get_grant(session, grant_reference)
        query = select(Submission).where(
            Submission.grant_id == grant.id, Submission.period == str(period)
        )
        if version is not None:
            query = query.where(Submission.version_number == version)
        row = session.scalar(query.order_by(Submission.version_number.desc()).limit(1))
        if row is None:
            raise NotFoundError(f"grant {grant.reference} has no submitted return for {period}")
        return row.snapshot


def _info(grant: Grant, row: Submission) -> SubmissionInfo:
    return SubmissionInfo(
        grant=grant.reference,
        period=row.period,
        period_end=row.period_end,
        version=row.version_number,
        submitted_at=row.submitted_at,
        submitted_by=row.submitted_by,
        checksum=row.checksum,
        reopened_at=row.reopened_at,
        reopened_by=row.reopened_by,
        reopen_reason=row.reopen_reason,
    )
