"""The Returns page's period list: status and latest version of each period, and where it opens."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fundtracker.presenters.returns import opening_period, return_periods
from fundtracker.returns.submission import SubmissionInfo
from fundtracker.services.grants import load_grant
from fundtracker.storage import Database

GRANT = "CRG-2025-26"


def _submitted(period: str, version: int, reopened: bool = False) -> SubmissionInfo:
    when = datetime(2025, 7, 10, tzinfo=UTC)
    return SubmissionInfo(
        GRANT,
        period,
        date(2025, 6, 30),
        version,
        when,
        "officer",
        "0" * 64,
        when if reopened else None,
        "officer" if reopened else None,
        "typo" if reopened else None,
    )


def test_each_period_shows_its_latest_version(demo_db: Database) -> None:
    grant = load_grant(demo_db, GRANT)
    rows = return_periods(
        grant,
        [_submitted("2025/26-Q1", 1, reopened=True), _submitted("2025/26-Q1", 2)],
    )
    assert [r.label for r in rows] == [
        "2025/26-Q1   Submitted v2",
        "2025/26-Q2   Draft",
        "2025/26-Q3   Draft",
        "2025/26-Q4   Draft",
    ]
    assert rows[0].submitted and not rows[1].submitted
    reopened = return_periods(grant, [_submitted("2025/26-Q1", 1, reopened=True)])[0]
    assert (reopened.status, reopened.submitted) == ("Reopened (v1)", False)


def test_the_page_opens_on_the_period_of_today(demo_db: Database) -> None:
    grant = load_grant(demo_db, GRANT)
    assert str(opening_period(grant, date(2025, 8, 14))) == "2025/26-Q2"
    assert str(opening_period(grant, date(2027, 1, 1))) == "2025/26-Q4"  # after the grant
