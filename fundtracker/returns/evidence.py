"""Evidence: files (invoices, receipts, photos) attached to spend lines, and the evidence pack.

An attached file is copied in and named by its SHA-256 alone, so it survives the original
moving, a file attached twice is stored once, and no name a person chose ever becomes part of
a path (the original name is kept in the database for display). Where it is copied depends on
who shares the database:

- a SQLite database keeps evidence in ``evidence/`` beside its file (its backups carry the
  folder, and a colleague given a copy gets the files with it);
- a shared PostgreSQL database keeps each file's bytes in the database itself
  (``evidence_files``), in the same transaction as the attachment, because the attaching
  officer's own data folder is on their PC, where no colleague reaches it. The server's
  backups (``pg_dump``) carry them. Evidence attached before schema 0009 is still read from
  the attaching officer's folder when the database does not have it.

The evidence pack is one zip: the return workbook, the transactions as CSV, every attachment
of those lines, an index linking each attachment to its line and, for a submitted return, the
snapshot whose SHA-256 is the workbook's checksum.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from fundtracker.errors import FundtrackerError, NotFoundError, ValidationError
from fundtracker.files import EVIDENCE_FOLDER, space_for, write_with
from fundtracker.models import Attachment, EvidenceFile, SpendLine
from fundtracker.periods import Period
from fundtracker.safe_text import csv_safe
from fundtracker.storage import Database

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20
MAX_SHARED_EVIDENCE_BYTES = 100 * 1024**2  # a scan or photo of an invoice is far less
TRANSACTION_COLUMNS = (
    "id",
    "date",
    "reference",
    "supplier",
    "description",
    "project",
    "net",
    "vat",
    "claimable",
    "status",
    "quarter",
)
INDEX_COLUMNS = (
    "line_id",
    "date",
    "supplier",
    "reference",
    "claimable",
    "file_in_pack",
    "original_name",
    "sha256",
    "size",
    "added_at",
)


class EvidenceError(FundtrackerError):
    """An evidence file is missing or no longer matches its checksum."""


def evidence_folder(db: Database) -> Path:
    return db.folder / EVIDENCE_FOLDER


def stored_path(db: Database, sha256: str) -> Path:
    """Where the file with this SHA-256 is kept; only a SHA-256 ever names a file there."""
    if not _HEX64.match(sha256):
        raise EvidenceError(f"'{sha256}' is not a SHA-256 checksum")
    return evidence_folder(db) / sha256[:2] / sha256


def _sha256_of(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def display_name(name: str) -> str:
    """The file's own name without any folder part, as a person would recognise it."""
    base = re.split(r"[\\/]", name)[-1].strip()
    cleaned = "".join(ch for ch in base if ch.isprintable())
    return cleaned[:200] or "attachment"


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    spend_line_id: int
    sha256: str
    original_name: str
    size: int
    added_at: datetime
    already_attached: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "spend_line": self.spend_line_id,
            "sha256": self.sha256,
            "original_name": self.original_name,
            "size": self.size,
            "added_at": self.added_at.isoformat(),
        }


def attach(db: Database, spend_line_id: int, source: Path, reason: str = "") -> AttachmentInfo:
    """Copy ``source`` into the evidence store and link it to the spend line (audited).

    Attaching the same content to the same line again changes nothing. Evidence may be added
    to a line of a submitted period: it does not change any figure.
    """
    source = Path(source)
    if not source.is_file():
        raise NotFoundError(f"{source} is not a file that can be attached")
    shared = in_database(db)
    content, digest, size = _read_in(source) if shared else (None, *_store(db, source))
    with db.unit_of_work(reason) as session:
        line = session.get(SpendLine, spend_line_id)
        if line is None:
            raise NotFoundError(f"no spend line with id {spend_line_id}")
        if content is not None:
            _keep_in_database(session, digest, content)
        existing = session.scalar(
            select(Attachment).where(
                Attachment.spend_line_id == line.id, Attachment.sha256 == digest
            )
        )
        if existing is not None:
            return _info(existing, already=True)
        attachment = Attachment(
            spend_line=line,
            sha256=digest,
            original_name=display_name(source.name),
            size=size,
            added_at=datetime.now(UTC),
        )
        session.add(attachment)
        session.flush()
        return _info(attachment)


def in_database(db: Database) -> bool:
    """Whether evidence lives in the database (a shared PostgreSQL one) or beside it."""
    return db.sqlite_path is None


def _read_in(source: Path) -> tuple[bytes, str, int]:
    """The file's bytes (read once: what is hashed is what is stored), refused over the most
    a shared database keeps for one file."""
    size = source.stat().st_size
    if size > MAX_SHARED_EVIDENCE_BYTES:
        raise ValidationError(
            f"{display_name(source.name)} is {size / 1024**2:,.1f} MB; evidence on a shared "
            f"database is at most {MAX_SHARED_EVIDENCE_BYTES // 1024**2} MB a file (make a "
            "smaller scan or photo); nothing was attached"
        )
    content = source.read_bytes()
    return content, hashlib.sha256(content).hexdigest(), len(content)


def _keep_in_database(session: Session, digest: str, content: bytes) -> None:
    # A colleague attaching the same bytes at the same moment stores them once.
    session.execute(
        pg_insert(EvidenceFile)
        .values(sha256=digest, size=len(content), content=content)
        .on_conflict_do_nothing(index_elements=["sha256"])
    )


def _store(db: Database, source: Path) -> tuple[str, int]:
    """Copy the file in under its SHA-256 (atomically; a stored copy is kept as it is)."""
    what = f"{display_name(source.name)}, into the evidence folder {evidence_folder(db)},"
    with (
        space_for(what, source.stat().st_size),
        tempfile.TemporaryDirectory(dir=_ready(evidence_folder(db))) as scratch,
    ):
        copy = Path(scratch) / "incoming"
        shutil.copyfile(source, copy)  # hash the copy: the original may change meanwhile
        digest, size = _sha256_of(copy)
        target = stored_path(db, digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            copy.replace(target)
    return digest, size


def _ready(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _info(row: Attachment, already: bool = False) -> AttachmentInfo:
    return AttachmentInfo(
        row.id, row.spend_line_id, row.sha256, row.original_name, row.size, row.added_at, already
    )


def list_attachments(db: Database, spend_line_ids: list[int] | None = None) -> list[AttachmentInfo]:
    with db.read() as session:
        query = select(Attachment).order_by(Attachment.spend_line_id, Attachment.id)
        if spend_line_ids is not None:
            query = query.where(Attachment.spend_line_id.in_(spend_line_ids))
        return [_info(row) for row in session.scalars(query)]


def verified_path(db: Database, attachment: AttachmentInfo, scratch: Path | None = None) -> Path:
    """The stored file, checked against its SHA-256 (read in chunks: photos can be large).
    Evidence kept in the database is written out to ``scratch`` (a new temporary folder when
    left out) and checked there."""
    if in_database(db):
        content = _from_database(db, attachment.sha256)
        if content is not None:
            folder = scratch or Path(tempfile.mkdtemp(prefix="fundtracker-evidence-"))
            path = folder / attachment.sha256
            path.write_bytes(content)
            return _checked(attachment, path, "in the database")
    path = stored_path(db, attachment.sha256)
    if not path.is_file():
        where = "the database" if in_database(db) else str(evidence_folder(db))
        raise EvidenceError(
            f"the evidence file '{attachment.original_name}' of spend line "
            f"{attachment.spend_line_id} is missing from {where}"
        )
    return _checked(attachment, path, str(path))


def _from_database(db: Database, digest: str) -> bytes | None:
    with db.read() as session:
        return session.scalar(select(EvidenceFile.content).where(EvidenceFile.sha256 == digest))


def _checked(attachment: AttachmentInfo, path: Path, where: str) -> Path:
    if _sha256_of(path)[0] != attachment.sha256:
        raise EvidenceError(
            f"the evidence file '{attachment.original_name}' of spend line "
            f"{attachment.spend_line_id} has changed since it was attached ({where})"
        )
    return path


# --- The evidence pack -----------------------------------------------------------------------


def write_evidence_pack(
    db: Database, grant_reference: str, period: Period, out: Path, prepared_by: str | None = None
) -> dict[str, Any]:
    """Write the pack to ``out`` (atomically); returns what went in it."""
    from fundtracker.returns.submission import export_return, snapshot_text

    with tempfile.TemporaryDirectory() as scratch:
        workbook_path = Path(scratch) / "return.xlsx"
        result = export_return(db, grant_reference, period, workbook_path, prepared_by=prepared_by)
        lines = result.document["transactions"]
        attachments = list_attachments(db, [line["id"] for line in lines])
        files = {a.id: verified_path(db, a, Path(scratch)) for a in attachments}
        snapshot = (
            snapshot_text(db, grant_reference, period, result.version)
            if result.version is not None
            else None
        )
        stem = _pack_stem(grant_reference, period)
        write_with(
            out,
            lambda path: _write_zip(path, stem, workbook_path, lines, attachments, files, snapshot),
        )
    return {
        "status": result.status,
        "version": result.version,
        "lines": len(lines),
        "attachments": len(attachments),
        "checksum": result.checksum,
    }


def _pack_stem(grant_reference: str, period: Period) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", f"return-{grant_reference}-{period}")


def _pack_name(attachment: AttachmentInfo) -> str:
    return f"evidence/line-{attachment.spend_line_id}/{attachment.id}-{attachment.original_name}"


def _write_zip(
    path: Path,
    stem: str,
    workbook_path: Path,
    lines: list[dict[str, Any]],
    attachments: list[AttachmentInfo],
    files: dict[int, Path],
    snapshot: str | None,
) -> None:
    by_id = {line["id"]: line for line in lines}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as pack:
        pack.write(workbook_path, f"{stem}.xlsx")
        pack.writestr("transactions.csv", _csv(lines, TRANSACTION_COLUMNS))
        index = []
        for attachment in attachments:
            name = _pack_name(attachment)
            pack.write(files[attachment.id], name)
            line = by_id[attachment.spend_line_id]
            index.append(
                {
                    "line_id": line["id"],
                    "date": line["date"],
                    "supplier": line["supplier"],
                    "reference": line["reference"],
                    "claimable": line["claimable"],
                    "file_in_pack": name,
                    "original_name": attachment.original_name,
                    "sha256": attachment.sha256,
                    "size": attachment.size,
                    "added_at": attachment.added_at.isoformat(),
                }
            )
        pack.writestr("index.csv", _csv(index, INDEX_COLUMNS))
        if snapshot is not None:
            pack.writestr("snapshot.json", snapshot.encode("utf-8"))


def _csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: csv_safe(row[key]) for key in columns})
    return "\ufeff" + buffer.getvalue()  # the BOM makes Excel read UTF-8 (£, accents) right
