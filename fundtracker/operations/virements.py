"""Recording a virement as an operation; its inverse removes it (refused once a submitted
return includes it) and re-records it on redo."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fundtracker.operations import Changes, Kind, Operation, changes
from fundtracker.services.virements import add_virement, delete_virement
from fundtracker.storage import Database

KINDS = (Kind.ALLOCATIONS,)


@dataclass(frozen=True)
class RecordVirement(Operation):
    """``values``: from, to, amount, approval, approved_on, effective, note."""

    grant: str
    values: Mapping[str, object]

    @property
    def description(self) -> str:
        return f"Record virement {self.values.get('approval', '')}".rstrip()

    def run(self, db: Database) -> Changes:
        virement = add_virement(db, self.grant, self.values)
        inverse = RemoveVirement(self.grant, virement.id, self.values)
        return changes(self.description, self.grant, KINDS, inverse, virement)


@dataclass(frozen=True)
class RemoveVirement(Operation):
    grant: str
    virement_id: int
    values: Mapping[str, object]  # what it recorded, for the redo

    @property
    def description(self) -> str:
        return f"Remove virement {self.values.get('approval', '')}".rstrip()

    def run(self, db: Database) -> Changes:
        delete_virement(db, self.virement_id)
        inverse = RecordVirement(self.grant, self.values)
        return changes(self.description, self.grant, KINDS, inverse)
