"""The Returns page's list of return periods: each period's status and latest version, and the
period to open on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from fundtracker.figures import default_period
from fundtracker.models import Grant
from fundtracker.periods import Period, reporting_periods
from fundtracker.returns.submission import SubmissionInfo


@dataclass(frozen=True)
class ReturnPeriod:
    period: Period
    latest: SubmissionInfo | None  # the latest version submitted, reopened or not

    @property
    def submitted(self) -> bool:
        """Submitted and not reopened: the period is locked."""
        return self.latest is not None and self.latest.reopened_at is None

    @property
    def status(self) -> str:
        if self.latest is None:
            return "Draft"
        if self.latest.reopened_at:
            return f"Reopened (v{self.latest.version})"
        return f"Submitted v{self.latest.version}"

    @property
    def label(self) -> str:
        return f"{self.period}   {self.status}"


def return_periods(grant: Grant, submissions: Sequence[SubmissionInfo]) -> list[ReturnPeriod]:
    """The grant's return periods in order, each with its latest submission."""
    latest: dict[str, SubmissionInfo] = {}
    for submission in sorted(submissions, key=lambda s: s.version):
        latest[submission.period] = submission
    return [
        ReturnPeriod(period, latest.get(str(period)))
        for period in reporting_periods(grant.start_date, grant.end_date, grant.return_frequency)
    ]


def opening_period(grant: Grant, today: date) -> Period:
    """The return period to show first: the one holding the quarter the figures default to."""
    quarter = default_period(grant, today)
    for period in reporting_periods(grant.start_date, grant.end_date, grant.return_frequency):
        if period.start <= quarter.start <= period.end:
            return period
    return quarter
