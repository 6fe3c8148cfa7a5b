"""The submission lock: once a return is submitted, the data under it cannot quietly change.

A line dated inside a submitted period is not refused: it is a *late line*, counted in the
first period not yet submitted (its ``counted_on`` is the first day after the latest submitted
period), so the submitted figures stay as they were. A line is locked when it is counted in a
submitted period; a late line can therefore be edited until its counted-in period is submitted.

Writers of one grant take turns (``hold_grant``): on SQLite every writer already holds the
database's write lock from its first statement (BEGIN IMMEDIATE); on PostgreSQL nothing would
stop two of them reading the same lock, duplicates or versions and both acting on them, so each
takes the grant's advisory lock first, held until its transaction ends.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from fundtracker.errors import LockedError
from fundtracker.models import Allocation, Grant, Submission, Weight

# The first key of PostgreSQL's two-key advisory locks ("FT" and 1): the second is the grant id.
GRANT_LOCK_SPACE = 0x46540001


def hold_grant(session: Session, grant_id: int) -> None:
    """Wait for the grant's other writers to finish, then keep them waiting until this
    transaction ends; what this transaction reads next (the submitted-period lock, the lines
    it checks for duplicates) is therefore what it writes against. Readers never wait: a
    session outside a unit of work takes nothing."""
    held: set[int] | None = session.info.get("grants_held")
    if held is None or grant_id in held:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :grant_id)"),
            {"space": GRANT_LOCK_SPACE, "grant_id": grant_id},
        )
    held.add(grant_id)


def open_submissions(session: Session, grant_id: int) -> list[Submission]:
    """Submitted returns of a grant that have not been reopened, latest period end first.
    A writer reads them under the grant's lock (``hold_grant``)."""
    hold_grant(session, grant_id)
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


def counted_on_for(session: Session, grant: Grant, day: date) -> date:
    """The day a line dated ``day`` counts from: its own date, or for a late line the first
    day after the latest submitted period. Refused when no period of the grant is left open
    (its last return is submitted): the line would count in no return at all."""
    submission = locked_until(session, grant.id)
    if submission is None or day > submission.period_end:
        return day
    counted_on = submission.period_end + timedelta(days=1)
    if counted_on > grant.end_date:
        raise LockedError(
            f"a line dated {day:%d/%m/%Y} cannot be counted in any open period: the return "
            f"for {submission.period}, the grant's last, was submitted on "
            f"{submission.submitted_at:%d/%m/%Y}; reopen it first"
        )
    return counted_on


def refuse_locked_line(session: Session, grant: Grant, counted_on: date, what: str) -> None:
    """Refuse a change to a line counted in a submitted period (a late line counted in an
    open period may change)."""
    submission = locked_until(session, grant.id)
    if submission is not None and counted_on <= submission.period_end:
        raise LockedError(
            f"{what} is locked: it is counted in {submission.period} or earlier, and the "
            f"return for {submission.period} (version {submission.version_number}) was "
            f"submitted on {submission.submitted_at:%d/%m/%Y}; reopen it first"
        )


def refuse_locked_allocation(session: Session, grant: Grant, code: str, what: str) -> None:
    """Refuse a change to a project while a return stands. Its budget never changes once any
    return has been submitted (even if reopened since): budget moves after that are virements,
    recorded with the funder's approval so every return's figures stay explainable."""
    submission = locked_until(session, grant.id)
    if what == "budget":
        submission = submission or first_submission(session, grant.id)
        if submission is not None:
            raise LockedError(
                f"allocation {code}: cannot change its budget: the return for "
                f"{submission.period} has been submitted. To move budget between projects "
                "with the OPCC's approval, record a virement: the Projects page's Record a "
                "virement… button, or fundtracker-cli virement add --grant REF --from CODE "
                "--to CODE --amount A --approval TEXT --approved-on DATE --effective DATE."
            )
    if submission is not None:
        raise LockedError(
            f"allocation {code}: cannot change its {what}: the return for {submission.period} "
            f"(version {submission.version_number}) has been submitted; reopen it first"
        )


def first_submission(session: Session, grant_id: int) -> Submission | None:
    """The grant's first submitted return, reopened or not."""
    hold_grant(session, grant_id)
    return session.scalar(
        select(Submission)
        .where(Submission.grant_id == grant_id)
        .order_by(Submission.submitted_at, Submission.id)
        .limit(1)
    )


def submitted_for_period(session: Session, grant_id: int, period: str) -> Submission | None:
    """The period's submitted return (its latest version) unless it has been reopened."""
    hold_grant(session, grant_id)
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


def refuse_locked_priority(session: Session, priority_id: int, name: str, what: str) -> None:
    """Refuse a change to a priority (``name``: 'priority P1 of plan KEY') that projects weigh
    on while a return of their grant stands: the return shows it as it was submitted."""
    found = session.execute(
        select(Grant.reference, Submission)
        .join(Submission, Submission.grant_id == Grant.id)
        .join(Allocation, Allocation.grant_id == Grant.id)
        .join(Weight, Weight.allocation_id == Allocation.id)
        .where(Weight.priority_id == priority_id, Submission.reopened_at.is_(None))
        .order_by(Submission.period_end.desc(), Grant.reference)
        .limit(1)
    ).first()
    if found is not None:
        reference, submission = found
        raise LockedError(
            f"{name}: cannot change its {what}: projects of grant {reference} weigh on it and "
            f"the return for {submission.period} (version {submission.version_number}) has "
            "been submitted; reopen it first"
        )
