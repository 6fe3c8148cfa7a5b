"""The submission lock: once a return is submitted, the data under it cannot quietly change."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundtracker.errors import LockedError
from fundtracker.models import Grant, Submission


def open_submissions(session: Session, grant_id: int) -> list[Submission]:
    """Submitted returns of a grant that have not been reopened, latest period end first."""
    return list(
        session.scalars(
            select(Submission)
            .where(Submission.grant_id == grant_id, Submission.reopened_at.is_(None))
            .order_by(Submission.period_end.desc())
        )
    )


def locked_until(session: Session, grant_id: int) -> Submission | None:
    """The submitted return with the latest period end, if any: lines dated up to its end
    are locked."""
    submissions = open_submissions(session, grant_id)
    return submissions[0] if submissions else None


def refuse_locked_date(session: Session, grant: Grant, day: date, what: str) -> None:
    submission = locked_until(session, grant.id)
    if submission is not None and day <= submission.period_end:
        raise LockedError(
            f"{what} dated {day:%d/%m/%Y} is locked: the return for {submission.period} "
            f"(version {submission.version_number}) was submitted on "
            f"{submission.submitted_at:%d/%m/%Y}; reopen it first"
        )


def refuse_locked_allocation(session: Session, grant: Grant, code: str, what: str) -> None:
    submission = locked_until(session, grant.id)
    if submission is not None:
        raise LockedError(
            f"allocation {code}: cannot change its {what}: the return for {submission.period} "
            f"(version {submission.version_number}) has been submitted; reopen it first"
        )


def submitted_for_period(session: Session, grant_id: int, period: str) -> Submission | None:
    """The period's submitted return (its latest version) unless it has been reopened."""
    return session.scalar(
        select(Submission)
        .where(
            Submission.grant_id == grant_id,
            Submission.period == period,
            Submission.reopened_at.is_(None),
        )
        .order_by(Submission.version_number.desc())
        .limit(1)
    )


def refuse_submitted_period(session: Session, grant: Grant, period: object, what: str) -> None:
    """Refuse a change to what a submitted return of ``period`` holds (e.g. its narratives)."""
    submission = submitted_for_period(session, grant.id, str(period))
    if submission is not None:
        raise LockedError(
            f"cannot change {what}: the return for {submission.period} "
            f"(version {submission.version_number}) was submitted on "
            f"{submission.submitted_at:%d/%m/%Y}; reopen it first"
        )
