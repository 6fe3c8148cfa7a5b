"""Evidence: attaching files to spend lines, the NO_EVIDENCE check and the evidence pack."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from fundtracker.checks import run_checks
from fundtracker.models import Attachment, AuditEvent, EvidenceFile
from fundtracker.returns import evidence, submission
from fundtracker.returns.evidence import EvidenceError, evidence_folder, stored_path
from fundtracker.services import spend
from fundtracker.settings import EVIDENCE_THRESHOLD, set_setting
from fundtracker.storage import Database
from tests.helpers import run_cli
from tests.returns_support import GRANT, Q2, add_hostile_lines

Capsys = pytest.CaptureFixture[str]


def _stored(db: Database) -> dict[str, bytes]:
    """Every stored evidence file by SHA-256: in the database when it is shared (PostgreSQL),
    else in the evidence folder beside it."""
    if evidence.in_database(db):
        with db.read() as session:
            return dict(session.execute(select(EvidenceFile.sha256, EvidenceFile.content)).all())
    files = [p for p in evidence_folder(db).rglob("*") if p.is_file()]
    assert all(p == stored_path(db, p.name) for p in files)
    return {p.name: p.read_bytes() for p in files}


def _replace_stored(db: Database, sha: str, content: bytes | None) -> None:
    """Tamper with (or, with None, lose) a stored evidence file, as a failing disk might."""
    if evidence.in_database(db):
        with db.engine.begin() as connection:
            table = EvidenceFile.__table__
            if content is None:
                connection.execute(table.delete().where(table.c.sha256 == sha))
            else:
                connection.execute(
                    table.update().where(table.c.sha256 == sha).values(content=content)
                )
    elif content is None:
        stored_path(db, sha).unlink()
    else:
        stored_path(db, sha).write_bytes(content)


def _attachments(db: Database) -> list[Attachment]:
    with db.read() as session:
        return list(session.scalars(select(Attachment).order_by(Attachment.id)))


def test_attach_copies_the_file_under_its_hash_and_survives_the_original_moving(
    demo_db: Database, database_url: str, tmp_path: Path, capsys: Capsys
) -> None:
    original = tmp_path / "Invoice 123.pdf"
    original.write_bytes(b"%PDF-1.4 invoice 123")
    digest = hashlib.sha256(original.read_bytes()).hexdigest()
    result = run_cli(capsys, database_url, "attach", "4", str(original), "--format", "json")
    assert result.code == 0, result.err
    assert result.json()["sha256"] == digest
    original.unlink()  # the officer tidies up their downloads folder
    (row,) = _attachments(demo_db)
    assert (row.spend_line_id, row.sha256, row.original_name, row.size) == (
        4,
        digest,
        "Invoice 123.pdf",
        20,
    )
    assert _stored(demo_db) == {digest: b"%PDF-1.4 invoice 123"}
    if not evidence.in_database(demo_db):
        assert stored_path(demo_db, digest) == demo_db.folder / "evidence" / digest[:2] / digest
    with demo_db.read() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.entity == "attachment"))
    assert event is not None and event.grant_id is not None


def test_attaching_twice_stores_once_and_names_never_make_paths(
    demo_db: Database, tmp_path: Path
) -> None:
    hostile = tmp_path / "..%2F..%2Fescape.txt"
    hostile.write_bytes(b"receipt")
    first = evidence.attach(demo_db, 4, hostile)
    second = evidence.attach(demo_db, 4, hostile)
    other_line = evidence.attach(demo_db, 15, hostile)
    assert second.already_attached and second.id == first.id
    assert other_line.id != first.id and other_line.sha256 == first.sha256
    assert len(_attachments(demo_db)) == 2
    assert _stored(demo_db) == {first.sha256: b"receipt"}
    assert evidence.display_name("../../etc/passwd") == "passwd"
    assert evidence.display_name("C:\\Users\\jo\\inv.pdf") == "inv.pdf"
    with pytest.raises(EvidenceError):
        stored_path(demo_db, "../../etc/passwd")


def test_attach_refuses_what_it_cannot_use(
    demo_db: Database, database_url: str, tmp_path: Path, capsys: Capsys
) -> None:
    present = tmp_path / "inv.pdf"
    present.write_bytes(b"x")
    missing = run_cli(capsys, database_url, "attach", "4", str(tmp_path / "nope.pdf"))
    folder = run_cli(capsys, database_url, "attach", "4", str(tmp_path))
    no_line = run_cli(capsys, database_url, "attach", "99999", str(present))
    assert (missing.code, folder.code, no_line.code) == (2, 2, 1)
    assert "no spend line with id 99999" in no_line.err
    assert _attachments(demo_db) == []


def test_no_evidence_names_actual_lines_at_or_above_the_threshold(
    demo_db: Database, tmp_path: Path
) -> None:
    def flagged() -> set[str]:
        return {f.subject for f in run_checks(demo_db, GRANT, Q2) if f.code == "NO_EVIDENCE"}

    exactly = spend.add_spend(demo_db, GRANT, {"date": "2025-08-01", "net": "500.00"})
    below = spend.add_spend(demo_db, GRANT, {"date": "2025-08-01", "net": "499.99"})
    committed = spend.add_spend(
        demo_db, GRANT, {"date": "2025-08-01", "net": "900", "status": "committed"}
    )
    after = spend.add_spend(demo_db, GRANT, {"date": "2025-10-01", "net": "900"})
    found = flagged()
    assert str(exactly.id) in found
    assert not {str(below.id), str(committed.id), str(after.id)} & found
    receipt = tmp_path / "r.jpg"
    receipt.write_bytes(b"jpeg")
    evidence.attach(demo_db, exactly.id, receipt)
    assert str(exactly.id) not in flagged()
    set_setting(demo_db, EVIDENCE_THRESHOLD, "400")
    assert str(below.id) in flagged()
    finding = next(
        f
        for f in run_checks(demo_db, GRANT, Q2)
        if f.subject == str(below.id) and f.code == "NO_EVIDENCE"
    )
    assert finding.severity == "warning" and "£400.00" in finding.message


def test_evidence_pack_holds_the_return_lines_attachments_index_and_snapshot(
    demo_db: Database, database_url: str, tmp_path: Path, capsys: Capsys
) -> None:
    add_hostile_lines(demo_db)
    invoice, photo = tmp_path / "invoice.pdf", tmp_path / "photo.jpg"
    invoice.write_bytes(b"%PDF invoice")
    photo.write_bytes(b"jpeg photo")
    evidence.attach(demo_db, 4, invoice)
    evidence.attach(demo_db, 4, photo)
    evidence.attach(demo_db, 15, invoice)
    late = spend.add_spend(demo_db, GRANT, {"date": "2025-12-01", "net": "1", "allocation": "A01"})
    evidence.attach(demo_db, late.id, photo)  # after the period: not in the pack
    submitted = submission.export_return(demo_db, GRANT, Q2, tmp_path / "q2.xlsx", submit=True)

    out = tmp_path / "pack.zip"
    result = run_cli(
        capsys,
        database_url,
        "evidence-pack",
        "--grant",
        GRANT,
        "--period",
        "2025/26-Q2",
        "--out",
        str(out),
    )
    assert result.code == 0, result.err
    with zipfile.ZipFile(out) as pack:
        names = pack.namelist()
        index = list(csv.DictReader(io.StringIO(pack.read("index.csv").decode("utf-8-sig"))))
        lines = list(csv.DictReader(io.StringIO(pack.read("transactions.csv").decode("utf-8-sig"))))
        snapshot = pack.read("snapshot.json")
        workbook = pack.read("return-CRG-2025-26-2025-26-Q2.xlsx")
        stored = {name: pack.read(name) for name in names if name.startswith("evidence/")}
    assert len(stored) == 3 and set(stored.values()) == {b"%PDF invoice", b"jpeg photo"}
    assert [(r["line_id"], r["original_name"]) for r in index] == [
        ("4", "invoice.pdf"),
        ("4", "photo.jpg"),
        ("15", "invoice.pdf"),
    ]
    for row in index:
        assert hashlib.sha256(stored[row["file_in_pack"]]).hexdigest() == row["sha256"]
    assert len(lines) == len(submitted.document["transactions"])
    assert "+1" in {r["supplier"] for r in lines}  # a plain signed number is data (safe_text)
    hostile = [r for r in lines if r["supplier"].startswith("'")]
    assert {r["supplier"] for r in hostile} >= {
        '\'=HYPERLINK("http://example.invalid/steal","Click")',
        "'-x",
        "'@SUM(A1:A2)",
    }
    # the auditor's recipe: sha256(snapshot.json) is the Checksum in the workbook
    assert hashlib.sha256(snapshot).hexdigest() == submitted.checksum
    assert (
        json.loads(snapshot)["report"]["summary"]["spend_to_date"]
        == (submitted.document["report"]["summary"]["spend_to_date"])
    )
    assert workbook[:2] == b"PK"


def test_a_damaged_evidence_file_stops_the_pack(demo_db: Database, tmp_path: Path) -> None:
    receipt = tmp_path / "r.pdf"
    receipt.write_bytes(b"original")
    info = evidence.attach(demo_db, 4, receipt)
    _replace_stored(demo_db, info.sha256, b"tampered")
    out = tmp_path / "pack.zip"
    with pytest.raises(EvidenceError, match="has changed since it was attached"):
        evidence.write_evidence_pack(demo_db, GRANT, Q2, out)
    _replace_stored(demo_db, info.sha256, None)
    with pytest.raises(EvidenceError, match="missing"):
        evidence.write_evidence_pack(demo_db, GRANT, Q2, out)
    assert not out.exists()  # nothing half-written
