"""Receiving partnerships' returns at the OPCC (issue 16): read, verify, store.

Each workbook is read with the return reader, and its hidden Snapshot sheet (the document its
checksum covers, returns/snapshot_sheet.py) is checked twice: its SHA-256 must be the
Summary's Checksum, and every figure the workbook shows must be the snapshot's. A workbook
failing either was *altered after export* and is refused, naming the first figure that
differs. The same file (or the same version of a return) twice adds nothing; a newer version
supersedes the older, and both are kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundtracker.errors import FundtrackerError
from fundtracker.models import Grant, ReceivedReturn, Submission
from fundtracker.money import format_money
from fundtracker.periods import Period
from fundtracker.returns import reader
from fundtracker.returns.reader import HEADER_SEARCH_ROWS, _money
from fundtracker.returns.snapshot import canonical_json, checksum
from fundtracker.returns.snapshot_sheet import read_snapshot_sheet
from fundtracker.storage import Database

ADDED = "added"
SUPERSEDED = "superseded"
ALREADY = "already"
REFUSED = "refused"
CURRENT = "current"  # a received return's status until a newer version supersedes it
READ_CHUNK = 1 << 20


class RefusedReturn(FundtrackerError):
    """A file the OPCC cannot take as a partnership's return; the message says why."""


@dataclass(frozen=True)
class VerifiedReturn:
    """A workbook whose figures are its snapshot's and whose snapshot is its checksum's."""

    file_name: str
    file_sha256: str
    document: dict[str, Any]  # the snapshot: the return as the partnership exported it
    checksum: str
    version: int
    submitted_at: datetime | None = None  # when it was submitted, if in this very database

    @property
    def report(self) -> dict[str, Any]:
        return dict(self.document["report"])

    @property
    def grant_reference(self) -> str:
        return str(self.report["grant"])

    @property
    def period(self) -> str:
        return str(self.report["period"])

    @property
    def recipient(self) -> str:
        return str(self.report.get("grant_details", {}).get("recipient", ""))


@dataclass(frozen=True)
class Outcome:
    """What became of one file: the entry ``received add`` prints for it."""

    file: str
    status: str  # added, superseded, already or refused
    recipient: str = ""
    grant_reference: str = ""
    period: str = ""
    version: int | None = None
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "status": self.status,
            "recipient": self.recipient,
            "grant_reference": self.grant_reference,
            "period": self.period,
            "version": self.version,
            "reason": self.reason,
        }


# --- Verifying one workbook ------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(READ_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def verify_workbook(path: Path) -> VerifiedReturn:
    """The return in ``path``, verified; refused with a RefusedReturn saying why."""
    path = Path(path)
    try:
        shown = reader.read_return(path)
    except FundtrackerError as exc:  # not a workbook, or not a return
        raise RefusedReturn(f"not a monitoring return: {exc}") from exc
    stated = shown["return"]
    if stated["status"] != "Submitted" or not stated["checksum"]:
        raise RefusedReturn(
            f"{path.name} is a draft ({stated['status'] or 'no status'}), not a submitted "
            "return: ask the partnership to submit it and send the submitted workbook"
        )
    verdict = check_checksum(path, shown)
    if verdict.matches is None:
        raise RefusedReturn(
            f"{path.name} carries no snapshot to verify its checksum against (it was exported "
            "before returns carried one): ask the partnership to export it again"
        )
    if not verdict.matches:
        raise RefusedReturn(f"{path.name} was altered after export: {verdict.difference}")
    try:
        version = int(stated["version"])
    except ValueError as exc:
        raise RefusedReturn(
            f"{path.name}: Summary Version {stated['version']!r} is not a number"
        ) from exc
    document = verdict.document
    assert document is not None  # it matches its checksum
    return VerifiedReturn(path.name, file_sha256(path), document, stated["checksum"], version)


@dataclass(frozen=True)
class ChecksumCheck:
    """A workbook's checksum recomputed from what it shows."""

    matches: bool | None  # None: it carries no snapshot, so nothing to recompute it from
    computed: str | None = None  # SHA-256 of the snapshot with the workbook's figures in it
    difference: str = ""  # how the workbook was changed after export, in words
    document: dict[str, Any] | None = None  # the snapshot, when it matches

    def to_json(self) -> dict[str, Any]:
        """read-return's keys beside the Summary's ``checksum``."""
        return {
            "checksum_matches": self.matches,
            "computed_checksum": self.computed,
            "checksum_difference": self.difference or None,
        }


def check_checksum(path: Path, shown: dict[str, Any]) -> ChecksumCheck:
    """Recompute the checksum of the return in ``path`` (``shown`` is what the reader read
    from it): the SHA-256 of its snapshot with the figures its sheets show in place of the
    snapshot's own. It is the Summary's checksum exactly when the snapshot is the checksum's
    and every figure shown is the snapshot's. A workbook without a snapshot (a draft, or one
    exported before returns carried one) cannot be checked: the checksum covers more than its
    sheets show (the checks, the computed RAGs)."""
    stated = shown["return"]["checksum"]
    try:
        document, rows = _snapshot_and_lines(path)
    except ValueError as exc:
        return ChecksumCheck(False, difference=f"its Snapshot sheet cannot be read ({exc})")
    if document is None or "report" not in document or not stated:
        return ChecksumCheck(None)
    if checksum(document) != stated:
        difference = f"its snapshot no longer matches the checksum {stated[:12]}… in its Summary"
    else:
        difference = (
            first_difference(shown, document["report"])
            or first_line_difference(rows, document["transactions"])
            or ""
        )
    if not difference:
        return ChecksumCheck(True, stated, document=document)
    as_shown = {
        **document,
        "report": _overlay(document["report"], {k: v for k, v in shown.items() if k != "return"}),
        "transactions": _overlay(document["transactions"], _lines_as_shown(rows)),
    }
    return ChecksumCheck(False, checksum(as_shown), difference)


def _overlay(truth: Any, shown: Any) -> Any:
    """``truth`` with every value ``shown`` holds for one of its keys or items in its place."""
    if isinstance(truth, dict) and isinstance(shown, dict):
        return {**truth, **{k: _overlay(truth[k], v) for k, v in shown.items() if k in truth}}
    if isinstance(truth, list) and isinstance(shown, list):
        return [_overlay(t, s) for t, s in zip(truth, shown, strict=False)] + shown[len(truth) :]
    return shown


def _snapshot_and_lines(path: Path) -> tuple[dict[str, Any] | None, list[tuple[Any, ...]]]:
    """The snapshot the workbook carries (None when it has none), and the rows of its
    Transactions sheet; ValueError when the Snapshot sheet cannot be read."""
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        document = read_snapshot_sheet(workbook)
        sheet = workbook["Transactions"] if "Transactions" in workbook.sheetnames else None
        lines = [tuple(row) for row in sheet.iter_rows(values_only=True)] if sheet else []
    finally:
        workbook.close()
    return document, lines


def first_difference(shown: dict[str, Any], exported: dict[str, Any]) -> str | None:
    """The first figure the workbook shows otherwise than its snapshot, in words."""
    for where, seen, truth in _figures(shown, exported):
        if seen != truth:
            return f"{where} reads {_show(seen)} but the return as exported says {_show(truth)}"
    return None


def _show(value: Any) -> str:
    if isinstance(value, str):
        try:
            return format_money(Decimal(value))
        except InvalidOperation:  # a code or a name, not an amount
            return repr(value)
    return repr(value)


def _figures(shown: dict[str, Any], exported: dict[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    """(where, in the workbook, in the snapshot) for every figure and name the workbook shows,
    in the order a person reads them."""
    yield "Summary Grant reference", shown["grant"], exported["grant"]
    yield "Summary Period", shown["period"], exported["period"]
    yield (
        "Summary Recipient",
        shown["grant_details"]["recipient"],
        exported["grant_details"]["recipient"],
    )
    labels = {**reader.SUMMARY_MONEY, **reader.SUMMARY_OPTIONAL_MONEY, "allocated": "Allocated"}
    for key, label in labels.items():
        if key in shown["summary"]:
            yield f"Summary {label}", shown["summary"][key], exported["summary"].get(key)
    yield from _project_figures(shown["allocations"], exported["allocations"])
    for key, label in (("spend_to_date", "Spend to date"), ("committed", "Committed")):
        yield f"Projects Unassigned {label}", shown["unassigned"][key], exported["unassigned"][key]
    yield from _priority_figures(shown["priorities"], exported["priorities"])


PROJECT_MONEY = {
    "budget": "Budget",
    "spend_to_date": "Spend to date",
    "committed": "Committed",
    "forecast_outturn": "Forecast outturn",
    "variance": "Variance",
}


def _project_figures(shown: Sequence[Any], exported: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
    yield "Projects: number of projects", len(shown), len(exported)
    for row, truth in zip(shown, exported, strict=False):
        yield "Projects Code", row["code"], truth["code"]
        for key, label in PROJECT_MONEY.items():
            yield f"Projects {truth['code']} {label}", row[key], truth[key]
        for quarter, amount in row["quarters"].items():
            yield f"Projects {truth['code']} {quarter}", amount, truth["quarters"].get(quarter)
        yield from _outcome_figures(truth["code"], row.get("outcomes"), truth.get("outcomes", []))


OUTCOME_FIGURES = {
    "target": "Annual target",
    "target_to_date": "Target to date",
    "actual_to_date": "Actual to date",
    "percent_of_target": "% of target to date",
}


def _outcome_figures(
    project: str, shown: Sequence[Any] | None, exported: Sequence[Any]
) -> Iterator[tuple[Any, ...]]:
    """A return exported before issue 15 has no Outcomes sheet and its snapshot no outcomes."""
    yield f"Outcomes: number of measures of {project}", len(shown or ()), len(exported)
    for row, truth in zip(shown or (), exported, strict=False):
        name = f"Outcomes {project} {truth['code']}"
        yield f"{name} Code", row["code"], truth["code"]
        for key, label in OUTCOME_FIGURES.items():
            yield f"{name} {label}", _percent_sign(row[key]), _percent_sign(truth[key])
        for quarter, actual in row["quarters"].items():
            expected = truth["quarters"].get(quarter)
            if expected is not None:
                expected = {"actual": expected["actual"], "of": expected["of"]}
            yield f"{name} {quarter}", actual, expected


def _percent_sign(value: Any) -> Any:
    """A percentage ("82.5") shown as one ("82.5%"), not as an amount of money."""
    return f"{value}%" if isinstance(value, str) else value


def _priority_figures(shown: Sequence[Any], exported: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
    yield "Priorities: number of rows", len(shown), len(exported)
    for row, truth in zip(shown, exported, strict=False):
        name = f"Priorities {truth['plan']} {truth['code'] or 'Unaligned'}"
        yield f"{name} Code", row["code"], truth["code"]
        yield f"{name} Budget", row["budget"], truth["budget"]
        yield f"{name} Spend to date", row["spend_to_date"], truth["spend_to_date"]


LINE_MONEY = {"net": "Net", "vat": "VAT", "claimable": "Claimable"}


def _transactions_table(
    rows: list[tuple[Any, ...]],
) -> tuple[int, dict[str, int], list[tuple[Any, ...]]] | None:
    """The Transactions sheet's lines: (the row number of the first, header text -> column,
    the non-blank rows below the header), the header row found by its texts; None if none."""
    header = next((n for n, row in enumerate(rows[:HEADER_SEARCH_ROWS]) if "Line id" in row), None)
    if header is None:
        return None
    columns = {_text(name): n for n, name in enumerate(rows[header])}
    shown = [row for row in rows[header + 1 :] if any(c not in (None, "") for c in row)]
    return header + 2, columns, shown


def first_line_difference(rows: list[tuple[Any, ...]], exported: list[Any]) -> str | None:
    """The first Transactions figure (a line's id, project or amounts) the workbook shows
    otherwise than its snapshot, in words."""
    table = _transactions_table(rows)
    if table is None:
        return "the Transactions sheet has no header row with Line id"
    first, columns, shown = table
    if len(shown) != len(exported):
        return (
            f"the Transactions sheet lists {len(shown)} lines but the return as exported "
            f"has {len(exported)}"
        )
    for number, (row, line) in enumerate(zip(shown, exported, strict=True), first):
        for where, seen, truth in _line_figures(row, line, columns, number):
            if seen != truth:
                return f"{where} reads {_show(seen)} but the return as exported says {_show(truth)}"
    return None


def _line_figures(
    row: tuple[Any, ...], line: dict[str, Any], columns: dict[str, int], number: int
) -> Iterator[tuple[str, Any, Any]]:
    name = f"Transactions line {line['id']}"
    seen = _line_as_shown(row, columns, name)
    yield f"Transactions row {number} Line id", seen["id"], line["id"]
    yield f"{name} Project", seen["project"], line["project"]
    for key, label in LINE_MONEY.items():
        yield f"{name} {label}", seen[key], line[key]


def _lines_as_shown(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    table = _transactions_table(rows)
    if table is None:
        return []
    first, columns, shown = table
    return [
        _line_as_shown(row, columns, f"Transactions row {number}")
        for number, row in enumerate(shown, first)
    ]


def _line_as_shown(row: tuple[Any, ...], columns: dict[str, int], name: str) -> dict[str, Any]:
    """A Transactions row's id, project and amounts (an amount it cannot read: the reason)."""

    def cell(header: str) -> Any:
        column = columns.get(header)
        return row[column] if column is not None and column < len(row) else None

    line = {"id": cell("Line id"), "project": _text(cell("Project"))}
    for key, label in LINE_MONEY.items():
        try:
            line[key] = _money(cell(label), f"{name} {label}")
        except FundtrackerError as exc:
            line[key] = str(exc)
    return line


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


# --- Returns submitted in this database --------------------------------------------------------


def standing_submissions(session: Session, period: Period | None) -> list[int]:
    """The ids of the returns submitted in this database and not reopened (for the periods
    ending when ``period`` does, or all), by grant reference and period."""
    query = select(Submission.id).join(Grant).where(Submission.reopened_at.is_(None))
    if period is not None:
        query = query.where(Submission.period_end == period.end)
    order = (Grant.reference, Submission.period_end, Submission.period, Submission.version_number)
    return list(session.scalars(query.order_by(*order)))


IN_THIS_DATABASE = "submitted in this database"  # the "file" a submission here came in


def submitted_return(session: Session, submission_id: int) -> VerifiedReturn | Outcome:
    """A submission of this database as a received return, or the outcome refusing it: its
    snapshot must still be its checksum's. Its "file" is the snapshot itself, so its file
    SHA-256 is the checksum."""
    row = session.get_one(Submission, submission_id)
    grant = session.get_one(Grant, row.grant_id)
    try:
        document = json.loads(row.snapshot)
    except ValueError:
        document = None
    if not isinstance(document, dict) or checksum(document) != row.checksum:
        return Outcome(
            IN_THIS_DATABASE,
            REFUSED,
            grant.recipient,
            grant.reference,
            row.period,
            row.version_number,
            f"{grant.reference} {row.period} v{row.version_number} was altered after "
            f"submission: its snapshot no longer matches its checksum {row.checksum[:12]}…",
        )
    return VerifiedReturn(
        IN_THIS_DATABASE,
        row.checksum,
        document,
        row.checksum,
        row.version_number,
        row.submitted_at,
    )


# --- Storing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """What storing one verified return did: its outcome and the rows it added or changed."""

    outcome: Outcome
    added_id: int | None = None
    superseded: tuple[tuple[int, str, int | None], ...] = ()  # (id, status, superseded_by) before


def store(session: Session, verified: VerifiedReturn, at: datetime | None = None) -> Stored:
    """Record ``verified`` (inside an open unit of work) as received ``at``: by default when
    it was submitted, for a return submitted in this database (the OPCC could see it from
    then), else now."""
    outcome = _outcome_for(verified)
    same_file = session.scalar(
        select(ReceivedReturn).where(ReceivedReturn.file_sha256 == verified.file_sha256)
    )
    if same_file is not None:
        return Stored(_already(outcome, same_file))
    versions = list(
        session.scalars(
            select(ReceivedReturn).where(
                ReceivedReturn.grant_reference == verified.grant_reference,
                ReceivedReturn.period == verified.period,
            )
        )
    )
    same_version = next((r for r in versions if r.version_number == verified.version), None)
    if same_version is not None:
        if same_version.checksum == verified.checksum:  # the same return, saved again
            return Stored(_already(outcome, same_version))
        return Stored(
            _refused(
                outcome,
                f"version {verified.version} of {verified.grant_reference} {verified.period} "
                f"was already received from {same_version.file_name} with other figures "
                "(another checksum): a changed return must come as a new version",
            )
        )
    row = _new_row(verified, at or verified.submitted_at or datetime.now(UTC))
    session.add(row)
    session.flush()
    return _supersede(session, outcome, row, versions)


def _supersede(
    session: Session, outcome: Outcome, row: ReceivedReturn, versions: list[ReceivedReturn]
) -> Stored:
    current = [r for r in versions if r.status == CURRENT]
    newer = [r for r in current if r.version_number > row.version_number]
    if newer:  # an older version arriving late is kept, superseded already
        row.status = SUPERSEDED
        row.superseded_by_id = newer[0].id
        reason = f"kept as superseded: version {newer[0].version_number} was received before"
        return Stored(_with(outcome, ADDED, reason), row.id)
    before = tuple((r.id, r.status, r.superseded_by_id) for r in current)
    for older in current:
        older.status = SUPERSEDED
        older.superseded_by_id = row.id
    session.flush()
    if not current:
        return Stored(outcome, row.id)
    names = ", ".join(f"version {r.version_number}" for r in current)
    return Stored(_with(outcome, SUPERSEDED, f"supersedes {names}"), row.id, before)


def _new_row(verified: VerifiedReturn, at: datetime) -> ReceivedReturn:
    return ReceivedReturn(
        recipient=verified.recipient,
        grant_reference=verified.grant_reference,
        period=verified.period,
        version_number=verified.version,
        prepared_by=str(verified.document.get("prepared_by", "")),
        received_at=at,
        file_name=verified.file_name[:300],
        file_sha256=verified.file_sha256,
        checksum=verified.checksum,
        snapshot=canonical_json(verified.document).decode("utf-8"),
        status=CURRENT,
    )


def _outcome_for(verified: VerifiedReturn) -> Outcome:
    return Outcome(
        verified.file_name,
        ADDED,
        verified.recipient,
        verified.grant_reference,
        verified.period,
        verified.version,
    )


def _with(outcome: Outcome, status: str, reason: str) -> Outcome:
    return Outcome(
        outcome.file,
        status,
        outcome.recipient,
        outcome.grant_reference,
        outcome.period,
        outcome.version,
        reason,
    )


def _already(outcome: Outcome, existing: ReceivedReturn) -> Outcome:
    when = existing.received_at.strftime("%d/%m/%Y %H:%M")
    source = "this database" if existing.file_name == IN_THIS_DATABASE else existing.file_name
    return _with(outcome, ALREADY, f"already received from {source} on {when} UTC")


def _refused(outcome: Outcome, reason: str) -> Outcome:
    return _with(outcome, REFUSED, reason)


def refused_file(path: Path, reason: str) -> Outcome:
    return Outcome(Path(path).name, REFUSED, reason=reason)


# --- Reading what was received ---------------------------------------------------------------


def list_received(db: Database) -> list[dict[str, Any]]:
    """Every received return, newest first within each grant and period."""
    with db.read() as session:
        rows = session.scalars(
            select(ReceivedReturn).order_by(
                ReceivedReturn.grant_reference,
                ReceivedReturn.period,
                ReceivedReturn.version_number.desc(),
            )
        )
        return [received_json(row) for row in rows]


def received_json(row: ReceivedReturn) -> dict[str, Any]:
    return {
        "id": row.id,
        "recipient": row.recipient,
        "grant_reference": row.grant_reference,
        "period": row.period,
        "version": row.version_number,
        "status": row.status,
        "prepared_by": row.prepared_by,
        "received_at": row.received_at.isoformat(),
        "file": row.file_name,
        "file_sha256": row.file_sha256,
        "checksum": row.checksum,
        "superseded_by": row.superseded_by_id,
    }
