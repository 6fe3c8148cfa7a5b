"""Ledger import: find the layout, preview, plan (dry run) and commit, batches and undo.

A dry run and a real import read and check the file the same way, outside any write lock; only
the real one then writes the planned lines, in one transaction holding the grant's lock for the
insert alone (see ``run_import``). Rows stream from the file in chunks, are spooled to a
temporary file and written with bulk Core inserts, so memory does not grow with the file beyond
one small key per imported line (for duplicate detection).

Assignment order for each line: the ``allocation`` column's code; then the grant's rules in
priority order; then the cost centre when exactly one allocation has it; else unassigned.
A line already in the grant (same date, reference, supplier, net and VAT) or repeated within
the file is a duplicate: skipped and reported, never merged.
"""

from __future__ import annotations

import csv
import hashlib
import json
import pickle
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any, TextIO, cast

from sqlalchemy import BigInteger, CursorResult, column, delete, func, insert, select, table, update
from sqlalchemy import Table as SqlTable
from sqlalchemy.orm import Session

from fundtracker import audit
from fundtracker.errors import FundtrackerError, LockedError, NotFoundError, ValidationError
from fundtracker.files import atomic_path, space_for
from fundtracker.ledger.exclusions import (
    ExcludeRule,
    FileTotal,
    MoneyTotals,
    NewExclusion,
    TotalsCheck,
    new_money,
    remembered,
    save_exclusions,
    totals_check,
)
from fundtracker.ledger.mapping import (
    HEADER_SEARCH_ROWS,
    ColumnMapping,
    detect_mapping,
    find_header,
)
from fundtracker.ledger.profiles import ProfileSettings, load_profile, save_profile
from fundtracker.ledger.reading import FileFacts, Table, UnreadableFileError, examine
from fundtracker.ledger.rows import CellError, LineValues, RowParser, cell_text, is_blank
from fundtracker.ledger.rules import CompiledRule, first_match, grant_rules
from fundtracker.models import Grant, ImportBatch, SpendLine, search_text_of
from fundtracker.money import to_pence
from fundtracker.safe_text import csv_safe
from fundtracker.services.grants import get_grant
from fundtracker.services.locks import hold_grant, locked_until
from fundtracker.storage import Database, utcnow
from fundtracker.year_end import refuse_closed

CHUNK_ROWS = 2000
# Duplicate and skipped rows are counted in full but listed only this far, so re-importing a
# file of millions of lines does not hold a note for each one. Bad rows are always all listed.
NOTE_LIMIT = 10_000
SOURCE = "import"
# Bulk statements go to the tables themselves (Core), not through one ORM object per line.
SPEND_TABLE = cast(SqlTable, SpendLine.__table__)
BATCH_TABLE = cast(SqlTable, ImportBatch.__table__)
# The same table with money as plain integers: the importer already holds each amount in
# pence (for its duplicate key), so the rows skip a second conversion per value.
SPEND_ROWS = table(
    "spend_lines",
    *(
        column(c.name, BigInteger() if c.name in ("net", "vat") else c.type)
        for c in SPEND_TABLE.columns
        if c.name != "id" and c.computed is None  # the database fills generated columns
    ),
)


class ImportCancelled(FundtrackerError):
    """The officer cancelled the import; nothing was written."""


@dataclass(frozen=True)
class ImportOptions:
    """How to read a file. ``mapping`` is ``{field: column header}`` and wins over a profile,
    which wins over recognised header names; an empty column leaves a field unmapped."""

    mapping: Mapping[str, str] = field(default_factory=dict)
    profile: str | None = None
    save_profile: str | None = None
    date_format: str | None = None
    sheet: str | None = None
    skip_errors: bool = False
    errors_out: Path | None = None
    # Lines that are not this grant's (docs/LEDGER_IMPORT.md, Other funds' lines): by rule
    # and by the file's row number. Either kind is remembered for the grant.
    exclude: tuple[ExcludeRule, ...] = ()
    exclude_rows: frozenset[int] = frozenset()


@dataclass(frozen=True)
class FileLayout:
    """What the import wizard shows before any row is parsed."""

    file_name: str
    kind: str
    encoding: str | None
    delimiter: str | None
    sheets: list[str]
    sheet: str | None
    header_row: int
    mapping: ColumnMapping
    date_format: str | None
    sha256: str

    @property
    def headers(self) -> tuple[str, ...]:
        return self.mapping.headers


@dataclass(frozen=True)
class PreviewRow:
    """One row as it would be stored (``values``), or why it cannot be (``errors``).
    ``kind`` is ``line``, ``total`` (skipped) or ``error``."""

    row: int
    kind: str
    values: LineValues | None
    errors: list[CellError]


@dataclass(frozen=True)
class ImportProgress:
    """``done`` of ``total`` (bytes of a CSV, rows of a sheet) and the data rows read so far."""

    rows_read: int
    done: int
    total: int


@dataclass(frozen=True, slots=True)
class RowNote:
    row: int
    message: str


@dataclass
class ImportResult:
    """Everything an import did, or (dry run) would do. ``imported`` is what was (or would
    be) written: 0 when bad rows refused the file."""

    file_name: str
    sha256: str
    grant: str
    dry_run: bool
    mapping: dict[str, str]
    header_row: int
    rows_read: int = 0
    importable: int = 0
    unassigned: int = 0
    errors: list[CellError] = field(default_factory=list)
    bad_rows: int = 0
    duplicate_rows: list[RowNote] = field(default_factory=list)  # the first NOTE_LIMIT
    skipped_rows: list[RowNote] = field(default_factory=list)  # the first NOTE_LIMIT
    duplicates: int = 0
    skipped: int = 0
    batch: int | None = None
    refused: bool = False
    earlier_batches: list[int] = field(default_factory=list)
    excluded: int = 0
    excluded_rows: list[RowNote] = field(default_factory=list)  # the first NOTE_LIMIT
    # Negative lines of a spend-only layout (one amount column): imported as credits, and
    # always listed, so income such as a grant payment is never imported unnoticed.
    income_rows: list[RowNote] = field(default_factory=list)
    money: dict[str, MoneyTotals] = field(default_factory=new_money)
    totals_row: TotalsCheck | None = None

    @property
    def warnings(self) -> list[str]:
        """What the officer should look at before importing: income signs, totals."""
        found = []
        if self.income_rows:
            rows = ", ".join(str(note.row) for note in self.income_rows[:20])
            more = "…" if len(self.income_rows) > 20 else ""
            found.append(
                f"{len(self.income_rows)} line(s) have an income sign (a negative amount) and "
                f"will be imported as credits reducing spend: row(s) {rows}{more}. Income, "
                "such as a grant payment received, is not this grant's spend: exclude it"
            )
        message = self.totals_row.message() if self.totals_row else None
        if message:
            found.append(message)
        return found

    @property
    def imported(self) -> int:
        return 0 if self.refused else self.importable

    def counts(self) -> dict[str, int]:
        return {
            "rows_read": self.rows_read,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "unassigned": self.unassigned if not self.refused else 0,
            "errors": self.bad_rows,
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (keys are a contract)."""
        counts = self.counts()
        return {
            **counts,
            "errors": [
                {"row": e.row, "column": e.column, "message": e.message} for e in self.errors
            ],
            "bad_rows": self.bad_rows,
            "batch": self.batch,
            "dry_run": self.dry_run,
            "refused": self.refused,
            "importable": self.importable,
            "duplicate_rows": [{"row": d.row, "message": d.message} for d in self.duplicate_rows],
            "skipped_rows": [{"row": s.row, "reason": s.message} for s in self.skipped_rows],
            "file": self.file_name,
            "sha256": self.sha256,
            "grant": self.grant,
            "header_row": self.header_row,
            "mapping": self.mapping,
            "earlier_batches": self.earlier_batches,
            "excluded": self.excluded,
            "excluded_rows": [{"row": e.row, "reason": e.message} for e in self.excluded_rows],
            "income_rows": [{"row": i.row, "message": i.message} for i in self.income_rows],
            "money": {kind: totals.to_dict() for kind, totals in self.money.items()},
            "totals_row": self.totals_row.to_dict() if self.totals_row else None,
            "warnings": self.warnings,
        }


# --- Layout and preview (no grant needed) --------------------------------------------------


def resolve_options(db: Database | None, options: ImportOptions) -> ProfileSettings:
    """The mapping, date format and sheet to use: explicit options over the named profile."""
    saved = ProfileSettings()
    if options.profile:
        if db is None:
            raise ValidationError("a profile needs the database")
        with db.read() as session:
            saved = load_profile(session, options.profile)
    return ProfileSettings(
        {**saved.mapping, **options.mapping},
        options.date_format or saved.date_format,
        options.sheet or saved.sheet,
    )


@contextmanager
def open_layout(
    path: Path, settings: ProfileSettings
) -> Iterator[tuple[FileLayout, Table, Iterator[tuple[int, Sequence[object]]]]]:
    """Open the file, find its header row and mapping; yield them with the rows below."""
    facts = examine(Path(path))
    with Table(facts, settings.sheet) as table:
        rows = table.rows()
        head = list(islice(rows, HEADER_SEARCH_ROWS))
        header_row, mapping = _find_layout(facts, head, settings.mapping)
        layout = FileLayout(
            facts.name,
            facts.kind,
            facts.encoding,
            table.delimiter,
            table.sheets,
            table.sheet,
            header_row,
            mapping,
            settings.date_format,
            facts.sha256,
        )
        below = chain((r for r in head if r[0] > header_row), rows)
        yield layout, table, below


def _find_layout(
    facts: FileFacts, head: list[tuple[int, Sequence[object]]], explicit: Mapping[str, str]
) -> tuple[int, ColumnMapping]:
    if all(is_blank(cells) for _, cells in head):
        raise UnreadableFileError(f"{facts.name} has no rows")
    found = find_header(head, explicit)
    if found is None:
        first = next(cells for _, cells in head if not is_blank(cells))
        shown = ", ".join(f"'{cell_text(c)}'" for c in first if cell_text(c))[:300]
        raise ValidationError(
            f"cannot find the header row of {facts.name}: no row among the first "
            f"{HEADER_SEARCH_ROWS} names the date and amount columns (first row: {shown}). "
            "Name the columns with --map FIELD=COLUMN"
        )
    number, cells = found
    return number, detect_mapping(cells, explicit, number)


def inspect_file(path: Path, options: ImportOptions, db: Database | None = None) -> FileLayout:
    """Sheets, header row, headers and the mapping that would be used (for the wizard)."""
    with open_layout(path, resolve_options(db, options)) as (layout, _table, _rows):
        return layout


def preview_rows(
    path: Path,
    options: ImportOptions,
    limit: int = 20,
    db: Database | None = None,
    grant_reference: str | None = None,
) -> list[PreviewRow]:
    """The first ``limit`` data rows parsed as they would be stored, with per-cell errors.
    With the database and a grant, codes in the allocation column are checked too."""
    settings = resolve_options(db, options)
    check = _code_checker(db, grant_reference) if db and grant_reference else None
    preview: list[PreviewRow] = []
    with open_layout(path, settings) as (layout, _table, rows):
        parser = RowParser(layout.mapping, settings.date_format, check)
        for number, cells in rows:
            if len(preview) >= limit:
                break
            if is_blank(cells):
                continue
            if parser.is_total(cells):
                preview.append(PreviewRow(number, "total", None, []))
                continue
            values, errors = parser.parse(number, cells)
            preview.append(PreviewRow(number, "line" if values else "error", values, errors))
    return preview


def _code_checker(db: Database, grant_reference: str) -> Callable[[str], str | None]:
    with db.read() as session:
        grant = get_grant(session, grant_reference)
        codes = {a.code.casefold() for a in grant.allocations}
        message = _unknown_code_message(grant)

    def check(code: str) -> str | None:
        return None if code.casefold() in codes else message(code)

    return check


def _unknown_code_message(grant: Grant) -> Callable[[str], str]:
    listed = ", ".join(a.code for a in grant.allocations) or "none yet"
    reference = grant.reference
    return lambda code: f"'{code}' is not a project of grant {reference} (its projects: {listed})"


# --- Plan and commit -----------------------------------------------------------------------


def plan_import(
    db: Database,
    grant_reference: str,
    path: Path,
    options: ImportOptions,
    progress: Callable[[ImportProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> ImportResult:
    """Everything the import would do (counts, duplicates, errors, unassigned); changes
    nothing."""
    return run_import(db, grant_reference, path, options, True, progress, cancel)


def commit_import(
    db: Database,
    grant_reference: str,
    path: Path,
    options: ImportOptions,
    progress: Callable[[ImportProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    reason: str = "",
) -> ImportResult:
    """Import the file as one batch, all or nothing (or the good rows with skip_errors).
    ``cancel`` returning True stops it with nothing written (ImportCancelled)."""
    return run_import(db, grant_reference, path, options, False, progress, cancel, reason)


class _Discard(Exception):
    """Roll the unit of work back (a dry run or a refused file), keeping the result."""

    def __init__(self, result: ImportResult):
        self.result = result


def run_import(
    db: Database,
    grant_reference: str,
    path: Path,
    options: ImportOptions,
    dry_run: bool,
    progress: Callable[[ImportProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    reason: str = "",
) -> ImportResult:
    """Read and check the file as a reader, then write it in one transaction.

    Parsing, mapping and checking a long file take most of an import's time, so they hold no
    write lock: a colleague's edit goes ahead meanwhile. The writing transaction takes the
    grant's lock and reads again what the plan was made against (the grant's lines, projects,
    rules, exclusions and submitted-period lock): unchanged, it inserts the planned lines;
    changed, it reads the file again under the lock, so a batch is always checked against
    exactly what it is written beside (two imports of one file at once import it once).
    A dry run, or a file refused for bad rows, writes nothing.
    """
    settings = resolve_options(db, options)
    with ExitStack() as stack:
        layout, table, rows = stack.enter_context(open_layout(path, settings))
        report = _open_report(stack, options.errors_out, layout)
        spool = stack.enter_context(_Spool())
        with db.read() as session:
            grant = get_grant(session, grant_reference)
            refuse_closed(grant)
            scan = _Scan(session, grant, layout, settings, options, table)
            scan.report, scan.progress, scan.cancel = report, progress, cancel
            if not dry_run:  # a dry run keeps only the counts
                scan.write = spool.write
            result = scan.run(rows, dry_run)
        if dry_run or result.refused:
            return result
        try:
            with db.unit_of_work(reason or f"import {layout.file_name}") as session:
                grant = get_grant(session, grant_reference)
                hold_grant(session, grant.id)
                session.expire_all()  # nothing is written yet: read the grant again, locked
                refuse_closed(grant)
                now = _Scan(session, grant, layout, settings, options, table)
                now.progress, now.cancel = progress, cancel  # shown again if it reads again
                batch_id = _create_batch(session, grant, layout)
                if now.fingerprint == scan.fingerprint:
                    spool.replay(_inserter(session, batch_id), now.checkpoint)
                else:
                    result, layout = _read_again(stack, now, path, settings, batch_id)
                    if result.refused:
                        raise _Discard(result)
                    scan = now
                save_exclusions(session, grant.id, layout.file_name, scan.new_exclusions)
                _finish_batch(session, batch_id, layout, result, options, settings)
        except _Discard as discard:
            result = discard.result
        return result


def _read_again(
    stack: ExitStack, scan: _Scan, path: Path, settings: ProfileSettings, batch_id: int
) -> tuple[ImportResult, FileLayout]:
    """The grant changed while the file was read: read it again inside the writing
    transaction, under the grant's lock, inserting as it goes. (The errors report stays the
    first reading's.)"""
    layout, table, rows = stack.enter_context(open_layout(path, settings))
    scan.layout, scan.table = layout, table
    scan.write = _inserter(scan.session, batch_id)
    return scan.run(rows, False), layout


def _inserter(session: Session, batch_id: int) -> Callable[[list[dict[str, Any]]], None]:
    def insert_chunk(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            row["batch_id"] = batch_id
        session.execute(insert(SPEND_ROWS), rows)

    return insert_chunk


class _Spool:
    """The planned lines, chunk by chunk, in a temporary file until they are written."""

    def __enter__(self) -> _Spool:
        self.file: IO[bytes] = tempfile.TemporaryFile(prefix="fundtracker-import-")
        self.chunks = 0
        return self

    def __exit__(self, *_exc: object) -> None:
        self.file.close()

    def write(self, rows: list[dict[str, Any]]) -> None:
        with space_for(f"the import's working copy in {tempfile.gettempdir()}"):
            pickle.dump(rows, self.file, protocol=pickle.HIGHEST_PROTOCOL)
        self.chunks += 1

    def replay(
        self, write: Callable[[list[dict[str, Any]]], None], checkpoint: Callable[[], None]
    ) -> None:
        self.file.seek(0)
        for _ in range(self.chunks):
            write(pickle.load(self.file))  # our own file, written just now
            checkpoint()


def _open_report(stack: ExitStack, target: Path | None, layout: FileLayout) -> Any:
    if target is None:
        return None
    try:
        temporary = stack.enter_context(atomic_path(Path(target)))
        handle: TextIO = stack.enter_context(temporary.open("w", encoding="utf-8-sig", newline=""))
    except OSError as exc:
        raise ValidationError(f"cannot write the errors report {target}: {exc.strerror}") from None
    writer = csv.writer(handle)
    writer.writerow(["row", "problems", *layout.headers])
    return writer


class _Scan:
    """One pass over the rows: classify, assign, and hand the lines to ``write`` in chunks."""

    def __init__(
        self,
        session: Session,
        grant: Grant,
        layout: FileLayout,
        settings: ProfileSettings,
        options: ImportOptions,
        table: Table,
    ):
        self.session = session
        self.grant = grant
        self.layout = layout
        self.parser = RowParser(layout.mapping, settings.date_format, self._allocation_problem)
        self.report: Any = None
        self.table = table
        self.write: Callable[[list[dict[str, Any]]], None] = lambda _rows: None
        self.progress: Callable[[ImportProgress], None] | None = None
        self.cancel: Callable[[], bool] | None = None
        self.skip_errors = options.skip_errors
        self.codes = {a.code.casefold(): a.id for a in grant.allocations}
        self.unknown_code = _unknown_code_message(grant)
        self.cost_centres = _unique_cost_centres(grant)
        self.rules: list[CompiledRule] = grant_rules(session, grant.id)
        self.lock = locked_until(session, grant.id)
        self.seen = _existing_keys(session, grant.id)
        self.pending: list[dict[str, Any]] = []
        self.excluded_keys = remembered(session, grant.id)
        self.exclude_rules, self.exclude_rows = options.exclude, options.exclude_rows
        # Any rule or row given: the hot loop skips the test if not.
        self.excluding = bool(options.exclude or options.exclude_rows)
        self.new_exclusions: list[NewExclusion] = []
        self.spend_only = layout.mapping.amount_layout != "debit_credit"
        self.file_total: FileTotal | None = None
        self.fingerprint = self._fingerprint()

    def _fingerprint(self) -> bytes:
        """What the outcome depends on besides the file: equal fingerprints, equal plans."""
        lock = (self.lock.id, self.lock.period_end) if self.lock else None
        rules = [(r.field, r.operator, r.value, r.allocation_id) for r in self.rules]
        grant = (self.grant.end_date, self.grant.closed_at)
        state = (lock, sorted(self.codes.items()), sorted(self.cost_centres.items()), rules, grant)
        digest = hashlib.blake2b(repr(state).encode(), digest_size=16)
        for keys in (self.seen, self.excluded_keys):
            digest.update(b"".join(sorted(keys)))
            digest.update(b"|")
        return digest.digest()

    def run(self, rows: Iterator[tuple[int, Sequence[object]]], dry_run: bool) -> ImportResult:
        layout = self.layout
        result = ImportResult(
            layout.file_name,
            layout.sha256,
            self.grant.reference,
            dry_run,
            layout.mapping.names(),
            layout.header_row,
        )
        result.earlier_batches = _earlier_batches(self.session, self.grant.id, layout.sha256)
        for count, (number, cells) in enumerate(rows, 1):
            if not is_blank(cells):
                self._row(result, number, cells)
            if count % CHUNK_ROWS == 0:
                self._checkpoint(result)
        result.refused = result.bad_rows > 0 and not self.skip_errors
        if not result.refused:
            self._flush()
        result.totals_row = totals_check(self.file_total, result.money, result.bad_rows)
        self._checkpoint(result)
        return result

    def _row(self, result: ImportResult, number: int, cells: Sequence[object]) -> None:
        result.rows_read += 1
        if self.parser.is_total(cells):
            _note(result.skipped_rows, number, "totals row")
            result.skipped += 1
            self._total_row(result, number, cells)
            return
        values, errors = self.parser.parse(number, cells)
        if values is None:
            self._bad(result, number, cells, errors)
            return
        net, vat = to_pence(values.net), to_pence(values.vat)
        key = _key(values.date, values.reference, values.supplier, net, vat)
        if key in self.excluded_keys:
            self._exclude(result, number, net, vat, "excluded before as not this grant")
            return
        first = self.seen.get(key)
        if first is not None:
            message = f"repeats row {first}" if first else "already in the grant"
            _note(result.duplicate_rows, number, message)
            result.duplicates += 1
            result.money["duplicate"].add(net, vat)
            return
        rule = self._exclusion(number, values) if self.excluding else None
        if rule is not None:
            self._exclude(result, number, net, vat, rule)
            self.excluded_keys.add(key)
            self.new_exclusions.append(
                NewExclusion(key, values.date, values.supplier, values.reference, net, vat, rule)
            )
            return
        allocation_id, errors = self._check(number, values)
        if errors:
            self._bad(result, number, cells, errors)
            return
        self.seen[key] = number
        result.importable += 1
        result.unassigned += allocation_id is None
        result.money["imported"].add(net, vat)
        if net < 0 and self.spend_only:
            shown = f"{values.supplier} " if values.supplier else ""
            _note(result.income_rows, number, f"{shown}{values.net} (income sign)")
        if result.bad_rows and not self.skip_errors:
            return  # the file is refused anyway: stop writing
        self.pending.append(self._line(number, values, net, vat, allocation_id))
        if len(self.pending) >= CHUNK_ROWS:
            self._flush()

    def _exclusion(self, number: int, values: LineValues) -> str | None:
        """Why the officer excludes this line now (its row, or the first rule it matches)."""
        if number in self.exclude_rows:
            return f"row {number}"
        for rule in self.exclude_rules:
            if rule.matches(values):
                return str(rule)
        return None

    def _exclude(self, result: ImportResult, number: int, net: int, vat: int, why: str) -> None:
        _note(result.excluded_rows, number, why)
        result.excluded += 1
        result.money["excluded"].add(net, vat)

    def _total_row(self, result: ImportResult, number: int, cells: Sequence[object]) -> None:
        """Add up a totals row and keep the last one, which the lines are checked against."""
        amounts = self.parser.total_amounts(cells)
        if amounts is None:
            return
        net, vat = to_pence(amounts[0]), to_pence(amounts[1])
        result.money["skipped"].add(net, vat)
        self.file_total = FileTotal(number, net, vat)

    def _check(self, number: int, values: LineValues) -> tuple[int | None, list[CellError]]:
        errors = []
        allocation_id = self.codes.get(values.allocation.casefold()) if values.allocation else None
        # A line dated inside a submitted period is a late line, counted in the first open
        # period (issue 13), unless the grant has no open period left.
        lock = self.lock
        if lock and values.date <= lock.period_end and lock.period_end >= self.grant.end_date:
            errors.append(
                CellError(
                    number,
                    self.parser.mapping.label("date"),
                    f"{values.date:%d/%m/%Y} cannot be counted in any open period: the return "
                    f"for {lock.period}, the grant's last, has been submitted; reopen it "
                    "first",
                )
            )
        if allocation_id is None and not errors:
            allocation_id = self._assign(values)
        return allocation_id, errors

    def _counted_on(self, day: date) -> date:
        """The day a line dated ``day`` counts from (see services/locks.counted_on_for)."""
        if self.lock is None or day > self.lock.period_end:
            return day
        return self.lock.period_end + timedelta(days=1)

    def _allocation_problem(self, code: str) -> str | None:
        """Why a code in the allocation column is refused: a typo must not become unassigned."""
        return None if code.casefold() in self.codes else self.unknown_code(code)

    def _assign(self, values: LineValues) -> int | None:
        fields = {
            "supplier": values.supplier,
            "description": values.description,
            "reference": values.reference,
            "cost_centre": values.cost_centre,
            "account_code": values.account_code,
        }
        by_rule = first_match(self.rules, fields)
        if by_rule is not None:
            return by_rule
        return self.cost_centres.get(values.cost_centre.strip().casefold())

    def _bad(
        self, result: ImportResult, number: int, cells: Sequence[object], errors: list[CellError]
    ) -> None:
        result.bad_rows += 1
        result.errors.extend(errors)
        if self.report is not None:
            problems = "; ".join(f"{e.column}: {e.message}" for e in errors)
            self.report.writerow([number, csv_safe(problems), *(_report_cell(c) for c in cells)])

    def _line(
        self, number: int, values: LineValues, net: int, vat: int, allocation_id: int | None
    ) -> dict[str, Any]:
        """A row for the bulk insert, money in pence."""
        row = {
            "grant_id": self.grant.id,
            "allocation_id": allocation_id,
            "date": values.date,
            "counted_on": self._counted_on(values.date),
            "supplier": values.supplier,
            "description": values.description,
            "reference": values.reference,
            "cost_centre": values.cost_centre,
            "account_code": values.account_code,
            "net": net,
            "vat": vat,
            "vat_recoverable": True,
            "status": values.status,
            "notes": "",
            "source": SOURCE,
            "batch_id": None,  # the batch is made when the lines are written
            "source_row": number,
            "version": 1,
        }
        row["search_text"] = search_text_of(row)  # what the find box searches (see models)
        return row

    def _flush(self) -> None:
        if self.pending:
            self.write(self.pending)
            self.pending = []

    def _checkpoint(self, result: ImportResult) -> None:
        if self.progress is not None:
            done, total = self.table.progress
            self.progress(ImportProgress(result.rows_read, done, total))
        self.checkpoint()

    def checkpoint(self) -> None:
        if self.cancel is not None and self.cancel():
            raise ImportCancelled("import cancelled; nothing was imported")


def _note(notes: list[RowNote], row: int, message: str) -> None:
    if len(notes) < NOTE_LIMIT:
        notes.append(RowNote(row, message))


def _report_cell(value: object) -> object:
    return csv_safe(cell_text(value)) if value is not None else ""


def natural_key(values: LineValues) -> bytes:
    """A compact fingerprint of (date, reference, supplier, net, VAT) for duplicate checks."""
    return _key(
        values.date, values.reference, values.supplier, to_pence(values.net), to_pence(values.vat)
    )


def _key(day: date, reference: str, supplier: str, net: int, vat: int) -> bytes:
    text = f"{day.isoformat()}\x1f{reference.strip()}\x1f{supplier.strip()}\x1f{net}\x1f{vat}"
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def _existing_keys(session: Session, grant_id: int) -> dict[bytes, int]:
    """The natural keys of the grant's lines (row 0 = already in the grant).

    An imported line the officer has since split across projects also keeps its original key
    (its parts share the batch and source row, and add back to the original net and VAT), so
    re-importing the export does not bring the whole line back.
    """
    keys: dict[bytes, int] = {}
    lines = select(
        SpendLine.date, SpendLine.reference, SpendLine.supplier, SpendLine.net, SpendLine.vat
    ).where(SpendLine.grant_id == grant_id)
    split_lines = (
        select(
            SpendLine.date,
            SpendLine.reference,
            SpendLine.supplier,
            func.sum(SpendLine.net),
            func.sum(SpendLine.vat),
        )
        .where(SpendLine.grant_id == grant_id, SpendLine.batch_id.is_not(None))
        .group_by(
            SpendLine.batch_id,
            SpendLine.source_row,
            SpendLine.date,
            SpendLine.reference,
            SpendLine.supplier,
        )
        .having(func.count() > 1)
    )
    for query in (lines, split_lines):
        rows = session.execute(query.execution_options(yield_per=5000))
        for day, reference, supplier, net, vat in rows:
            keys[_key(day, reference, supplier, to_pence(net), to_pence(vat))] = 0
    return keys


def _unique_cost_centres(grant: Grant) -> dict[str, int]:
    """Cost centre → allocation, for cost centres exactly one allocation has."""
    owners: dict[str, list[int]] = {}
    for allocation in grant.allocations:
        if allocation.cost_centre and allocation.cost_centre.strip():
            owners.setdefault(allocation.cost_centre.strip().casefold(), []).append(allocation.id)
    return {cc: ids[0] for cc, ids in owners.items() if len(ids) == 1}


def _earlier_batches(session: Session, grant_id: int, sha256: str) -> list[int]:
    return list(
        session.scalars(
            select(ImportBatch.id).where(
                ImportBatch.grant_id == grant_id,
                ImportBatch.sha256 == sha256,
                ImportBatch.undone_at.is_(None),
            )
        )
    )


def _create_batch(session: Session, grant: Grant, layout: FileLayout) -> int:
    values = {
        "grant_id": grant.id,
        "file_name": layout.file_name[:500],
        "sha256": layout.sha256,
        "mapping": json.dumps(layout.mapping.names(), sort_keys=True),
        "imported_at": utcnow(),
        "imported_by": session.info.get("db_user") or session.info.get("os_user", ""),
    }
    inserted = cast(CursorResult[Any], session.execute(insert(BATCH_TABLE).values(values)))
    assert inserted.inserted_primary_key is not None
    return int(inserted.inserted_primary_key[0])


def _finish_batch(
    session: Session,
    batch_id: int,
    layout: FileLayout,
    result: ImportResult,
    options: ImportOptions,
    settings: ProfileSettings,
) -> None:
    """Record the batch's counts, audit it as one event, and save the profile if asked.
    A file that brought no new line (all duplicates, say) leaves no batch behind."""
    _save_profile(session, layout, options, settings)
    if result.imported == 0:
        session.execute(delete(BATCH_TABLE).where(ImportBatch.id == batch_id))
        return
    counts = result.counts()
    session.execute(update(BATCH_TABLE).where(ImportBatch.id == batch_id).values(counts))
    result.batch = batch_id
    # Audit changes are {field: [old, new]}, as for every other event.
    changes: dict[str, list[Any]] = {name: [None, value] for name, value in counts.items()}
    changes["file"] = [None, layout.file_name]
    changes["sha256"] = [None, layout.sha256]
    changes["mapping"] = [None, json.dumps(layout.mapping.names(), sort_keys=True)]
    grant_id = session.scalar(select(ImportBatch.grant_id).where(ImportBatch.id == batch_id))
    audit.record(session, "import", "import batch", batch_id, layout.file_name, grant_id, changes)


def _save_profile(
    session: Session, layout: FileLayout, options: ImportOptions, settings: ProfileSettings
) -> None:
    if options.save_profile:
        saved = ProfileSettings(layout.mapping.names(), settings.date_format, layout.sheet)
        save_profile(session, options.save_profile, saved)


# --- Batches -------------------------------------------------------------------------------


def list_batches(db: Database, grant_reference: str) -> list[ImportBatch]:
    with db.read() as session:
        grant = get_grant(session, grant_reference)
        return list(
            session.scalars(
                select(ImportBatch).where(ImportBatch.grant_id == grant.id).order_by(ImportBatch.id)
            )
        )


def undo_batch(db: Database, batch_id: int, reason: str = "") -> int:
    """Delete exactly the batch's lines and mark it undone, in one audited unit of work.
    Refused when any of its lines is locked by a submitted return. Returns lines removed."""
    with db.unit_of_work(reason or f"undo import batch {batch_id}") as session:
        batch = session.get(ImportBatch, batch_id)
        if batch is None:
            raise NotFoundError(f"no import batch with id {batch_id}")
        if batch.undone_at is not None:
            raise ValidationError(
                f"batch {batch_id} ({batch.file_name}) was already undone on "
                f"{batch.undone_at:%d/%m/%Y %H:%M}"
            )
        refuse_closed(session.get_one(Grant, batch.grant_id))
        _refuse_locked_batch(session, batch)
        undone_at = utcnow()
        deleted = session.execute(delete(SPEND_TABLE).where(SpendLine.batch_id == batch_id))
        removed = cast(CursorResult[Any], deleted).rowcount
        session.execute(
            update(BATCH_TABLE).where(ImportBatch.id == batch_id).values(undone_at=utcnow())
        )
        audit.record(
            session,
            "undo",
            "import batch",
            batch_id,
            batch.file_name,
            batch.grant_id,
            {"lines": [removed, 0], "undone_at": [None, undone_at.isoformat()]},
        )
        return int(removed)


def _refuse_locked_batch(session: Session, batch: ImportBatch) -> None:
    submission = locked_until(session, batch.grant_id)
    if submission is None:
        return
    locked = session.scalar(
        select(func.count())
        .select_from(SpendLine)
        .where(SpendLine.batch_id == batch.id, SpendLine.counted_on <= submission.period_end)
    )
    if locked:
        raise LockedError(
            f"batch {batch.id} ({batch.file_name}) cannot be undone: {locked} of its lines are "
            f"counted on or before {submission.period_end:%d/%m/%Y}, the end of "
            f"{submission.period}, whose return has been submitted; reopen it first"
        )


def batch_to_dict(batch: ImportBatch) -> dict[str, Any]:
    return {
        "batch": batch.id,
        "file": batch.file_name,
        "sha256": batch.sha256,
        "imported_at": batch.imported_at.isoformat(),
        "imported_by": batch.imported_by,
        "rows_read": batch.rows_read,
        "imported": batch.imported,
        "duplicates": batch.duplicates,
        "skipped": batch.skipped,
        "unassigned": batch.unassigned,
        "errors": batch.errors,
        "mapping": json.loads(batch.mapping or "{}"),
        "undone_at": batch.undone_at.isoformat() if batch.undone_at else None,
    }


__all__ = [
    "FileLayout",
    "ImportCancelled",
    "ImportOptions",
    "ImportProgress",
    "ImportResult",
    "PreviewRow",
    "commit_import",
    "inspect_file",
    "list_batches",
    "plan_import",
    "preview_rows",
    "undo_batch",
]
