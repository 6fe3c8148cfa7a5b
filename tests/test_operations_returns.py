"""Submitting, reopening and attaching evidence as operations: a submission has no undo (the
way back is Reopen, with a reason); attaching evidence is undone by removing the link and
redone by linking the same stored file again."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from fundtracker.models import Attachment, AuditEvent, Submission
from fundtracker.operations import run_operation, undo
from fundtracker.operations.returns import AttachEvidence, ReopenReturn, SubmitReturn
from fundtracker.periods import Period
from fundtracker.services.spend import list_spend
from fundtracker.storage import Database

GRANT = "CRG-2025-26"
Q1 = Period.parse("2025/26-Q1")


def _links(db: Database, line_id: int) -> list[str]:
    with db.read() as session:
        rows = session.scalars(select(Attachment).where(Attachment.spend_line_id == line_id))
        return [row.original_name for row in rows]


def test_attach_undo_and_redo(demo_db: Database, tmp_path: Path) -> None:
    line = list_spend(demo_db, GRANT, Q1)[0]
    invoice = tmp_path / "invoice 17.pdf"
    invoice.write_bytes(b"%PDF-1.4 an invoice")
    attached = run_operation(demo_db, AttachEvidence(line.id, invoice))
    assert _links(demo_db, line.id) == ["invoice 17.pdf"]
    undone = undo(demo_db, attached)
    assert _links(demo_db, line.id) == []
    invoice.unlink()  # the file is kept in the evidence store: redo does not need it
    undo(demo_db, undone, "redo")
    assert _links(demo_db, line.id) == ["invoice 17.pdf"]
    with demo_db.read() as session:
        reasons = set(session.scalars(select(AuditEvent.reason)))
    assert f"undo: Attach invoice 17.pdf to line {line.id}" in reasons


def test_a_submission_has_no_undo_and_reopening_needs_a_reason(
    demo_db: Database, tmp_path: Path
) -> None:
    out = tmp_path / "q1.xlsx"
    submitted = run_operation(demo_db, SubmitReturn(GRANT, Q1, out, "Officer"))
    assert submitted.inverse is None and out.exists()
    assert submitted.result.newly_submitted and submitted.result.version == 1
    reopened = run_operation(demo_db, ReopenReturn(GRANT, Q1, "a miscoded line"))
    assert reopened.inverse is None
    with demo_db.read() as session:
        row = session.scalars(select(Submission)).one()
    assert (row.reopen_reason, row.version_number) == ("a miscoded line", 1)
