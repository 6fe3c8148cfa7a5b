"""A project's narrative for a return period (RAG, outputs, variance explanation, forecast) as
an operation whose inverse puts the old values back at the version it left."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from fundtracker.errors import ConflictError
from fundtracker.models import Allocation, Grant, Narrative
from fundtracker.operations import Changes, Expected, Kind, Operation, changes, row_state
from fundtracker.periods import Period
from fundtracker.returns.narratives import set_narrative
from fundtracker.storage import Database

EMPTY: dict[str, object] = {"rag": "", "outputs": "", "variance_explanation": "", "forecast": ""}


@dataclass(frozen=True)
class SetNarrative(Operation):
    grant: str
    period: Period
    allocation: str
    values: Mapping[str, object]
    version: Expected | None = None  # the narrative as it was seen (None: not checked)

    @property
    def description(self) -> str:
        names = ", ".join(name.replace("_", " ") for name in self.values)
        return f"Change {names} of {self.allocation} for {self.period}"

    def run(self, db: Database) -> Changes:
        current = _narrative(db, self.grant, self.period, self.allocation)
        seen = (
            None
            if current is None
            else (current.version if isinstance(self.version, int) else row_state(current))
        )
        if self.version is not None and seen != self.version:
            raise ConflictError(
                f"the narrative of {self.allocation} for {self.period} was changed by someone "
                "else since you saw it; nothing was changed: look at it again"
            )
        before = {name: _shown(current, name) for name in self.values}
        narrative = set_narrative(db, self.grant, self.period, self.allocation, self.values)
        inverse = SetNarrative(self.grant, self.period, self.allocation, before, narrative.version)
        return changes(self.description, self.grant, (Kind.RETURNS,), inverse, narrative)


def _shown(narrative: Narrative | None, name: str) -> object:
    """A field as set_narrative takes it back ("" clears a RAG or forecast)."""
    value = getattr(narrative, name) if narrative is not None else None
    return EMPTY[name] if value is None else value


def _narrative(db: Database, grant: str, period: Period, code: str) -> Narrative | None:
    with db.read() as session:
        return session.scalar(
            select(Narrative)
            .join(Allocation, Narrative.allocation_id == Allocation.id)
            .join(Grant, Allocation.grant_id == Grant.id)
            .where(
                Grant.reference == grant, Allocation.code == code, Narrative.period == str(period)
            )
        )
