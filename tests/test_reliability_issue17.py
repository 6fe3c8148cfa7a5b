"""Issue 17 (reliability II), the findings of restore, the clock, a full disk, shared evidence
and bounded XLSX reading: each test failed on the code before its fix."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import tracemalloc
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import OperationalError

from fundtracker import backup
from fundtracker.checks import run_checks
from fundtracker.errors import LockedError, NoSpaceError
from fundtracker.ledger import reading
from fundtracker.ledger.reading import Table, UnreadableFileError, examine
from fundtracker.models import Allocation, Plan, SpendLine
from fundtracker.operations import run_operation
from fundtracker.operations.allocations import SetProfile
from fundtracker.operations.plans import RetitlePriority
from fundtracker.periods import Period
from fundtracker.returns import evidence
from fundtracker.returns.submission import export_return
from fundtracker.services.grants import grant_spec, import_grant, load_grant
from fundtracker.services.plans import import_plan, plan_spec
from fundtracker.storage import Database, open_database
from tests.helpers import CliResult, run_cli
from tests.ledger_support import import_json, ledger

GRANT = "CRG-2025-26"  # the demo year: A01's profile is £2,000.00 a quarter, P1 60% P2 40%
Q1 = Period.parse("2025/26-Q1")


class FakeClock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo SQLite file for the backup tests (SQLite files only, whatever the suite runs on)."""
    from fundtracker.demo import load_demo

    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    database = open_database(str(path))
    load_demo(database)
    database.dispose()
    return path


@pytest.fixture
def demo_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    # The suite's own demo year when it is a SQLite file (loaded once per run), else ours.
    shared: str = request.getfixturevalue("demo_year_template")
    template = Path(shared) if "://" not in shared else request.getfixturevalue("demo_template")
    path = tmp_path / "work" / "fundtracker.sqlite3"
    path.parent.mkdir()
    shutil.copyfile(template, path)
    return path


# --- Backup retention and a clock that ran fast ------------------------------------------


def _daily_days(database: Path) -> set[date]:
    return {b.taken_at.date() for b in backup.list_backups(database) if b.kind == "daily"}


def test_retention_survives_a_clock_that_ran_fast_and_was_corrected(
    demo_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(datetime(2025, 4, 1, 9, 0, tzinfo=UTC))
    monkeypatch.setattr(backup, "now_utc", clock)
    monkeypatch.setattr("fundtracker.dates.now_utc", clock)
    # 1-15 April the clock says 60 days later: 31 May to 14 June.
    for day in range(15):
        clock.now = datetime(2025, 5, 31, 9, tzinfo=UTC) + timedelta(days=day)
        assert backup.daily_backup(demo_file) is not None
    # Corrected: 16, 17 and 18 April, one backup a day. Before the fix, each day's backup
    # was deleted the next day (April's newest was the only one the rule kept: the 14 most
    # recent days were all future-dated).
    for day in (16, 17, 18):
        clock.now = datetime(2025, 4, day, 9, tzinfo=UTC)
        assert backup.daily_backup(demo_file) is not None
    days = _daily_days(demo_file)
    assert {date(2025, 4, 16), date(2025, 4, 17), date(2025, 4, 18)} <= days
    # The future-dated ones are kept too (they are real backups of 1-15 April): 15 + 3.
    assert len(days) == 18


def test_retention_never_deletes_the_newest_backups_for_a_future_dated_one() -> None:
    now = datetime(2025, 4, 20, 12, tzinfo=UTC)

    def daily(taken: datetime) -> backup.Backup:
        return backup.Backup(Path(f"x-daily-{taken:%Y%m%dT%H%M%S}.000Z.sqlite3"), "daily", taken)

    past = [daily(now - timedelta(days=n)) for n in range(20)]  # 1-20 April
    future = [daily(now + timedelta(days=400))]  # a clock a year fast, once
    kept = backup.daily_backups_to_keep(past + future, now)
    # The future one counts for nothing and stays; the 14 newest real days are kept (April's
    # newest, for the month rule, is one of them): 15 kept in all. Before the fix the future
    # one took a day's place and a month's, and 7-8 April's backups were not kept.
    assert kept == {b.path for b in past[:14]} | {future[0].path}


# --- The submitted-period lock covers profiles, weights and priorities in use ---------------


def _submit_q1(db: Database, tmp_path: Path) -> None:
    export_return(db, GRANT, Q1, tmp_path / "q1.xlsx", submit=True)


def _profile(db: Database, code: str) -> list[str]:
    with db.read() as session:
        project = session.scalars(select(Allocation).where(Allocation.code == code)).one()
        return [str(p.amount) for p in project.profile]


def test_a_submitted_periods_profile_cannot_be_changed_in_the_window_or_a_grant_file(
    demo_db: Database, tmp_path: Path
) -> None:
    _submit_q1(demo_db, tmp_path)
    moved = ["1000.00", "3000.00", "2000.00", "2000.00"]  # still totals A01's £8,000.00
    with pytest.raises(
        LockedError,
        match=r"A01: cannot change its quarterly profile: the return "
        r"for 2025/26-Q1 \(version 1\) has been submitted",
    ):
        run_operation(demo_db, SetProfile(GRANT, "A01", moved))
    with pytest.raises(LockedError, match="A01: cannot change its quarterly profile"):
        run_operation(demo_db, SetProfile(GRANT, "A01", None))  # reset to even is a change too
    spec = grant_spec(load_grant(demo_db, GRANT))
    (a01,) = [a for a in spec.allocations if a.code == "A01"]
    a01.profile = [Decimal(v) for v in moved]
    with pytest.raises(LockedError, match="A01: cannot change its quarterly profile"):
        import_grant(demo_db, spec)
    assert _profile(demo_db, "A01") == ["2000.00"] * 4


def test_a_priority_projects_weigh_on_under_a_submitted_return_keeps_its_title(
    demo_db: Database, tmp_path: Path
) -> None:
    _submit_q1(demo_db, tmp_path)
    with demo_db.read() as session:
        plan = session.scalars(select(Plan).where(Plan.key == "kent-pcc-2025")).one()
        spec = plan_spec(plan)
        title = plan.priorities[0].title
    message = (
        r"priority P1 of plan kent-pcc-2025: cannot change its title: projects of grant "
        r"CRG-2025-26 weigh on it and the return for 2025/26-Q1 \(version 1\) has been "
        r"submitted; reopen it first"
    )
    with pytest.raises(LockedError, match=message):
        run_operation(demo_db, RetitlePriority("kent-pcc-2025", "P1", "Something else", title))
    spec.priorities[0].title = "Something else"
    with pytest.raises(LockedError, match=message):
        import_plan(demo_db, spec)
    with demo_db.read() as session:
        plan = session.scalars(select(Plan).where(Plan.key == "kent-pcc-2025")).one()
        assert plan.priorities[0].title == title


def test_submitted_changed_notices_a_profile_weights_or_title_changed_under_it(
    demo_db: Database, tmp_path: Path
) -> None:
    _submit_q1(demo_db, tmp_path)
    # As an older copy of the app (or a hand edit) might: straight into the database.
    with demo_db.engine.begin() as connection:
        a01 = connection.execute(text("SELECT id FROM allocations WHERE code = 'A01'")).scalar()
        connection.execute(
            text(
                "UPDATE profile_amounts SET amount = :amount WHERE allocation_id = :id "
                "AND quarter_index = :quarter"
            ),
            [
                {"amount": 100000, "id": a01, "quarter": 0},
                {"amount": 300000, "id": a01, "quarter": 1},
            ],
        )
        connection.execute(
            text(
                "UPDATE weights SET basis_points = 10000 - basis_points WHERE allocation_id = :id"
            ),
            {"id": a01},
        )
        connection.execute(text("UPDATE priorities SET title = 'Renamed' WHERE code = 'P2'"))
    (finding,) = [f for f in run_checks(demo_db, GRANT, Q1) if f.code == "SUBMITTED_CHANGED"]
    # Q1's profile to date was A01's first quarter, £2,000.00; it is £1,000.00 now, and the
    # rest £6,000.00 -> £7,000.00. A01's weights were P1 60% P2 40%, now 40% and 60%.
    assert "(and 10 more)" in finding.message  # 3 shown, sorted, then the count of the rest
    everything = _all_differences(demo_db)
    assert "project A01 profile_to_date was £2,000.00, is now £1,000.00" in everything
    assert "project A01 profile_remaining was £6,000.00, is now £7,000.00" in everything
    assert "project A01 weight kent-pcc-2025 P1 was 60%, is now 40%" in everything
    assert "project A01 weight kent-pcc-2025 P2 was 40%, is now 60%" in everything
    assert "priority kent-pcc-2025 P2 title was 'Protecting Places', is now 'Renamed'" in everything


def _all_differences(db: Database) -> list[str]:
    import json

    from fundtracker.figures import report_for
    from fundtracker.models import Submission
    from fundtracker.returns.checks import differences, figures_of

    with db.read() as session:
        submission = session.scalars(select(Submission)).one()
        submitted = figures_of(json.loads(submission.snapshot)["report"])
    now = figures_of(report_for(db, load_grant(db, GRANT), Q1).to_json())
    return differences(submitted, now)


# --- Restoring an older backup is audited and names the submissions it takes away ---------


def _audit_of(path: Path, action: str) -> list[dict[str, object]]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            "SELECT entity, label, grant_id, changes FROM audit_events WHERE action = ? "
            "ORDER BY id",
            (action,),
        ).fetchall()
    finally:
        connection.close()
    return [
        {"entity": e, "label": label, "grant_id": g, "changes": json.loads(c)}
        for e, label, g, c in rows
    ]


def _standing_submissions(path: Path) -> list[tuple[str, int]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(
            "SELECT period, version_number FROM submissions WHERE reopened_at IS NULL"
        ).fetchall()
    finally:
        connection.close()


def test_restoring_an_older_backup_names_the_submissions_it_takes_away_and_is_audited(
    demo_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    older = backup.backup_now(demo_file, tmp_path / "older.sqlite3")  # before Q1 was submitted
    url = str(demo_file)
    submitted = run_cli(
        capsys,
        url,
        "export-return",
        "--grant",
        GRANT,
        "--period",
        "2025/26-Q1",
        "--out",
        str(tmp_path / "q1.xlsx"),
        "--submit",
    )
    assert submitted.code == 0, submitted.err

    refused = run_cli(capsys, url, "restore", str(older))
    assert refused.code == 1
    assert "would take away the submitted return CRG-2025-26 2025/26-Q1 version 1" in refused.err
    assert "--yes" in refused.err and "nothing was restored" in refused.err
    assert _standing_submissions(demo_file) == [("2025/26-Q1", 1)]
    assert [b for b in backup.list_backups(demo_file) if b.kind == "before-restore"] == []

    restored = run_cli(capsys, url, "restore", str(older), "--yes")
    assert restored.code == 0, restored.err
    assert "took away the submitted return CRG-2025-26 2025/26-Q1 version 1" in restored.out
    assert _standing_submissions(demo_file) == []
    (kept,) = [b.path for b in backup.list_backups(demo_file) if b.kind == "before-restore"]
    assert _standing_submissions(kept) == [("2025/26-Q1", 1)]  # the replaced one, whole
    # The restored database's own audit says so, so the record survives the restore: one
    # event for the restore, one per submission it took away (on the grant's own log).
    events = _audit_of(demo_file, "restore")
    assert [e["entity"] for e in events] == ["database", "submission"]
    database_event, lost = events
    assert database_event["changes"]["restored_from"] == [None, str(older)]
    assert database_event["changes"]["replaced_database_kept_in"] == [None, str(kept)]
    assert lost["label"] == "CRG-2025-26 2025/26-Q1 v1 not in the restored database"
    assert lost["grant_id"] is not None
    assert lost["changes"]["checksum"][0] == _checksum_in(kept)
    listed = run_cli(capsys, url, "audit", "--grant", GRANT, "--format", "json")
    assert any(e["action"] == "restore" for e in listed.json())


def _checksum_in(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return str(connection.execute("SELECT checksum FROM submissions").fetchone()[0])
    finally:
        connection.close()


def test_restoring_a_backup_that_has_every_submission_needs_no_confirmation(
    demo_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    same = backup.backup_now(demo_file, tmp_path / "same.sqlite3")
    restored = run_cli(capsys, str(demo_file), "restore", str(same))
    assert restored.code == 0, restored.err
    assert "took away" not in restored.out
    (event,) = _audit_of(demo_file, "restore")
    assert event["changes"]["submissions_not_in_restored"] == [None, []]


# --- An XLSX ledger's shared strings are bounded -------------------------------------------


_XLSX_PARTS = {
    "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
    'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    'worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    "_rels/.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>",
    "xl/workbook.xml": '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
    'main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Ledger" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>',
}
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _workbook(path: Path, suppliers: list[str]) -> Path:
    """Sheet Ledger as Excel writes it, every text in the shared strings part: a header (Date,
    Reference, Supplier, Net: shared strings 0-3, 24 characters), then one line per supplier
    from row 2 (string 4 onwards); only the supplier is text."""
    texts = ["Date", "Reference", "Supplier", "Net", *suppliers]
    shared = "".join(f"<si><t>{t}</t></si>" for t in texts)
    rows = [
        '<row r="1">'
        + "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABCD"))
        + "</row>"
    ]
    for number in range(2, len(suppliers) + 2):
        rows.append(
            f'<row r="{number}"><c r="A{number}"><v>45839</v></c><c r="B{number}"><v>{number}'
            f'</v></c><c r="C{number}" t="s"><v>{number + 2}</v></c><c r="D{number}"><v>3</v>'
            "</c></row>"
        )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in _XLSX_PARTS.items():
            archive.writestr(name, xml)
        archive.writestr(
            "xl/sharedStrings.xml", f'<sst xmlns="{_MAIN}" count="{len(texts)}">{shared}</sst>'
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{_MAIN}"><sheetData>{"".join(rows)}</sheetData></worksheet>',
        )
    return path


def test_a_cell_longer_than_excel_allows_is_refused_naming_it_before_it_is_held(
    demo_db: Database, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Row 3's supplier: 10 million characters (hex, so it compresses no more than a real
    # workbook does), 300 times Excel's 32,767 a cell.
    huge = os.urandom(5_000_000).hex()
    ledger = _workbook(tmp_path / "ledger.xlsx", ["Acme", huge, "Acme"])
    del huge
    tracemalloc.start()
    try:
        with pytest.raises(UnreadableFileError) as refused:
            Table(examine(ledger))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(refused.value)
    assert message.startswith(
        "ledger.xlsx, sheet Ledger, cell C3 (row 3): its text is over 32,767 characters long"
    )
    # openpyxl would have held the 10 MB text whole (as it did before the check).
    assert peak < 4 * 1024**2, f"peak {peak:,} bytes"
    before = _spend_lines(demo_db)
    result = run_cli(capsys, database_url, "import-ledger", str(ledger), "--grant", GRANT)
    assert result.code == 2 and "cell C3 (row 3)" in result.err  # a file that cannot be read
    assert "Traceback" not in result.err
    assert _spend_lines(demo_db) == before


def _spend_lines(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(SpendLine)) or 0)


def test_a_workbook_whose_text_passes_the_limit_is_refused_at_the_cell_that_passes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "MAX_SHARED_TEXT_CHARS", 2_000)
    # Supplier k (row k + 1) is 'Supplier 0000k', 13 characters: the text comes to 24 + 13 k,
    # over 2,000 first at k = 153, row 154.
    ledger = _workbook(tmp_path / "big.xlsx", [f"Supplier {k:04d}" for k in range(1, 301)])
    with pytest.raises(UnreadableFileError) as refused:
        Table(examine(ledger))
    assert str(refused.value).startswith(
        "big.xlsx, sheet Ledger, cell C154 (row 154): the workbook's text passes 2,000 characters"
    )
    # Under the limit the same workbook reads whole.
    monkeypatch.setattr(reading, "MAX_SHARED_TEXT_CHARS", 24 + 13 * 300)
    with Table(examine(ledger)) as table:
        assert sum(1 for _ in table.rows()) == 301


# --- A full disk: a clear message, nothing half-written, exit 1 ----------------------------


def _no_space(*_args: object, **_kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def full_database(demo_db: Database) -> Iterator[None]:
    """The database's disk is full, really: every new connection may not grow the file
    (SQLite then answers SQLITE_FULL, 'database or disk is full', as on a full disk)."""
    if demo_db.sqlite_path is None:
        pytest.skip("SQLite's own full-disk answer; PostgreSQL's (53100) is the server's")

    def no_growth(connection: Any, _record: object) -> None:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")
        assert free < 5, "the demo database has free pages a write could use"

    demo_db.dispose()
    event.listen(Engine, "connect", no_growth)
    yield
    event.remove(Engine, "connect", no_growth)


def _refused_for_space(result: CliResult, what: str) -> None:
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    assert what in result.err and "could not be written: the disk is full" in result.err
    assert "Nothing was saved" in result.err


def test_spend_add_on_a_full_disk_says_so_and_saves_nothing(
    demo_db: Database, database_url: str, full_database: None, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _spend_lines(demo_db)
    result = run_cli(
        capsys, database_url, "spend", "add", "--grant", GRANT, "--date", "2025-07-01",
        "--net", "10.00", "--description", "d" * 2000, "--supplier", "s" * 200,
    )  # fmt: skip
    _refused_for_space(result, "(the database) could not be written")
    assert _spend_lines(demo_db) == before


def test_an_import_on_a_full_disk_says_so_and_imports_nothing(
    demo_db: Database,
    database_url: str,
    full_database: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = [("01/07/2025", "Acme", f"Line {n}", f"INV{n}", "1.00", "0") for n in range(500)]
    before = _spend_lines(demo_db)
    result, _ = import_json(capsys, database_url, ledger(tmp_path / "ledger.csv", *rows))
    _refused_for_space(result, "(the database) could not be written")
    assert _spend_lines(demo_db) == before


def test_an_import_whose_working_copy_meets_a_full_temporary_folder_says_so(
    demo_db: Database,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("fundtracker.ledger.importer.pickle.dump", _no_space)
    before = _spend_lines(demo_db)
    rows = [("01/07/2025", "Acme", "Rent", "INV1", "1.00", "0")]
    result, _ = import_json(capsys, database_url, ledger(tmp_path / "ledger.csv", *rows))
    _refused_for_space(result, "the import's working copy in ")
    assert _spend_lines(demo_db) == before


def _files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_attach_on_a_full_disk_says_how_much_is_needed_and_leaves_nothing(
    demo_db: Database,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if evidence.in_database(demo_db):
        pytest.skip("a shared database keeps evidence in itself: its full disk is the server's")
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(b"%PDF-1.4 " + b"x" * 300_000)  # 300,009 bytes: 292 KB

    def copy_half_then_fill_the_disk(source: Path, target: Path) -> None:
        Path(target).write_bytes(Path(source).read_bytes()[:1000])
        _no_space()

    monkeypatch.setattr(
        "fundtracker.returns.evidence.shutil.copyfile", copy_half_then_fill_the_disk
    )
    store = evidence.evidence_folder(demo_db)
    before = _files_under(store) if store.exists() else []
    result = run_cli(capsys, database_url, "attach", "4", str(invoice))
    _refused_for_space(result, "invoice.pdf, into the evidence folder")
    assert "(it needs about 292 KB)" in result.err
    assert evidence.list_attachments(demo_db, [4]) == []
    assert _files_under(store) == before  # the half-copied file went with its scratch folder


def test_grant_export_on_a_full_disk_leaves_no_file_and_says_so(
    demo_db: Database,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if demo_db.sqlite_path is not None:
        backup.daily_backup(demo_db.sqlite_path)  # taken: the command's open has none to take
    monkeypatch.setattr("fundtracker.files.os.fsync", _no_space)  # the disk fills as it writes
    out = tmp_path / "exports" / "crg.toml"
    result = run_cli(capsys, database_url, "grant", "export", GRANT, "-o", str(out))
    _refused_for_space(result, f"{out} could not be written")
    assert "(it needs about " in result.err
    assert _files_under(out.parent) == []  # neither the file nor its temporary


def test_the_daily_backup_on_a_full_disk_does_not_stop_the_database_opening(
    demo_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("fundtracker.backup.os.fsync", _no_space)  # the copy cannot be saved
    database = open_database(str(demo_file))  # before: OSError, a traceback
    try:
        assert database.auto_backup is None
        assert _spend_lines(database) > 0
    finally:
        database.dispose()
    assert backup.list_backups(demo_file) == []
    assert list(backup.backups_folder(demo_file).glob("*.partial")) == []


# --- Evidence on a shared database is reachable by every colleague -------------------------


def test_a_colleagues_evidence_pack_has_the_evidence_another_officer_attached(
    demo_db: Database,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(b"%PDF-1.4 the street pastors' invoice")
    monkeypatch.setenv("FUNDTRACKER_DATA_DIR", str(tmp_path / "alis-pc"))
    attached = run_cli(capsys, database_url, "attach", "4", str(invoice))
    assert attached.code == 0, attached.err
    invoice.unlink()  # Ali tidies up the downloads folder

    # Sam, at another PC with a data folder of their own, writes Q2's pack.
    monkeypatch.setenv("FUNDTRACKER_DATA_DIR", str(tmp_path / "sams-pc"))
    pack = tmp_path / "pack.zip"
    packed = run_cli(
        capsys, database_url, "evidence-pack", "--grant", GRANT, "--period", "2025/26-Q2",
        "--out", str(pack),
    )  # fmt: skip
    assert packed.code == 0, packed.err  # before: 'missing from …/sams-pc/evidence'
    with zipfile.ZipFile(pack) as archive:
        (name,) = [n for n in archive.namelist() if n.startswith("evidence/line-4/")]
        assert archive.read(name) == b"%PDF-1.4 the street pastors' invoice"
    if demo_db.sqlite_path is None:  # shared: kept in the database, not on Ali's PC
        assert not (tmp_path / "alis-pc" / "evidence").exists()


def test_a_full_disk_on_the_database_server_is_said_so_too(db: Database) -> None:
    class DiskFull(Exception):  # as psycopg raises it: SQLSTATE 53100, disk_full
        sqlstate = "53100"

    refused = pytest.raises(NoSpaceError, match=r"\(the database\) could not be written: the disk")
    with refused, db.unit_of_work():
        raise OperationalError("INSERT …", {}, DiskFull("could not extend file"))
