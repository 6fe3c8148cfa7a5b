"""Writers of one grant take turns on PostgreSQL too (issue 17), and a long import never makes
a short writer wait.

On SQLite every writer holds the write lock from its first statement; on PostgreSQL each
writer of a grant takes the grant's lock (services/locks.hold_grant) before it reads what it
checks. The races are made certain, not left to luck: one writer is held at its worst moment
(a submission between reading its figures and reading its lines), or the grant's lock is
held by the test, while the other writer starts; the test sees it wait (PostgreSQL's own
pg_stat_activity says so), then lets the first go on.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, text

from fundtracker import storage
from fundtracker.errors import DatabaseBusyError
from fundtracker.models import ImportBatch, SpendLine, Submission
from fundtracker.services.ledger_view import LedgerFilter, count_lines
from fundtracker.services.spend import add_spend, get_spend
from fundtracker.setup_files import load_toml, read_grant, read_plan
from fundtracker.storage import Database, open_database
from tests.conftest import POSTGRES_ENV, ROOT
from tests.helpers import run_cli
from tests.ledger_support import HEADER, write_csv

DATA = Path(__file__).parent / "data"
GRANT = "CRG-2025-26"  # 2025-04-01..2026-03-31; projects A01 and A02
Q1 = "2025/26-Q1"  # ends 30/06/2025

on_postgres = pytest.mark.skipif(
    not os.environ.get(POSTGRES_ENV), reason="PostgreSQL only: SQLite's writers never overlap"
)
on_sqlite = pytest.mark.skipif(
    bool(os.environ.get(POSTGRES_ENV)), reason="SQLite's write lock and busy timeout"
)


@pytest.fixture
def grant_db(db: Database) -> Database:
    from fundtracker.services import grants, plans

    plans.import_plan(db, read_plan(load_toml(DATA / "plan.toml")))
    grants.import_grant(db, read_grant(load_toml(DATA / "grant.toml")))
    return db


def _python(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _cli(url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "fundtracker", "--database", url, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll until ``condition`` holds (a state the other process reaches), failing after
    ``timeout`` seconds: synchronisation on what happened, not on how long it took."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def _waiting_on_a_lock(engine: Engine) -> int:
    """How many sessions of this database PostgreSQL has waiting for a lock."""
    with engine.connect() as connection:
        query = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(connection.execute(query).scalar_one())


def _waiting_or_done(engine: Engine, processes: list[subprocess.Popen[str]]) -> Callable[[], bool]:
    """Every process is either blocked on a lock or has ended (as it does when nothing stops
    it: the code before issue 17's fix)."""

    def check() -> bool:
        running = sum(p.poll() is None for p in processes)
        return running == 0 or _waiting_on_a_lock(engine) >= running

    return check


@pytest.fixture
def pg(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


# A submission of Q1 held between reading its figures and checks and reading its lines: the
# moment an edit committed by anyone else would make the return disagree with itself.
PAUSED_SUBMISSION = """
    import sys, time
    from pathlib import Path
    from fundtracker.periods import Period
    from fundtracker.returns import snapshot, submission
    from fundtracker.storage import open_database

    url, out, folder = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    read_lines = snapshot.transactions

    def hold_then_read_lines(*args):
        (folder / "submitting").touch()
        deadline = time.monotonic() + 90
        while not (folder / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return read_lines(*args)

    snapshot.transactions = hold_then_read_lines
    db = open_database(url)
    result = submission.export_return(db, "CRG-2025-26", Period.parse("2025/26-Q1"), out,
                                      submit=True)
    print("submitted", result.version)
    db.dispose()
"""


@contextmanager
def _submission_held(url: str, folder: Path) -> Iterator[subprocess.Popen[str]]:
    """A submission of Q1 that waits, holding whatever it holds, until the block ends."""
    submitter = _python(PAUSED_SUBMISSION, url, str(folder / "q1.xlsx"), str(folder))
    _wait_for(lambda: (folder / "submitting").exists() or submitter.poll() is not None,
              "the submission to read its figures")  # fmt: skip
    try:
        yield submitter
    finally:
        (folder / "go").touch()


def _snapshot(db: Database) -> Any:
    with db.read() as session:
        snapshots = list(session.scalars(select(Submission.snapshot)))
    assert len(snapshots) == 1
    return json.loads(snapshots[0])


@on_postgres
def test_writers_that_start_during_a_submission_wait_for_it_then_see_its_lock(
    grant_db: Database, database_url: str, pg: Engine, tmp_path: Path
) -> None:
    """While Q1 is being submitted (held between reading its figures and its lines), an edit
    of a Q1 line, a second submission of Q1, an import and a `spend add` of Q1-dated lines all
    start. Each waits for the grant; once the submission is committed: the return agrees with
    itself, the edit is refused as locked, the second submission is told Q1 is submitted, and
    the new lines are late lines counted in Q2 (from 01/07/2025), never inside the return."""
    line = add_spend(grant_db, GRANT, {"date": "2025-05-01", "net": "100.00", "allocation": "A01"})
    file = _ledger(tmp_path / "may.csv", 5)
    with _submission_held(database_url, tmp_path) as submitter:
        editor = _cli(database_url, "spend", "update", str(line.id), "--net", "103.00")
        second = _cli(database_url, "export-return", "--grant", GRANT, "--period", Q1,
                      "--out", str(tmp_path / "second.xlsx"), "--submit")  # fmt: skip
        importer = _cli(database_url, "import-ledger", str(file), "--grant", GRANT)
        adder = _cli(database_url, "spend", "add", "--grant", GRANT, "--date", "2025-06-10",
                     "--net", "40.00", "--supplier", "Added meanwhile")  # fmt: skip
        writers = [editor, second, importer, adder]
        _wait_for(_waiting_or_done(pg, writers), "the other writers to wait for the grant")
    code, out, err = _finish(submitter)
    assert code == 0 and out.split() == ["submitted", "1"], err
    outcomes = [_finish(writer) for writer in writers]
    assert all("Traceback" not in err for _code, _out, err in outcomes)

    # The return agrees with itself: A01's spend to date is the sum of its own lines, 100.00,
    # as the edit to 103.00 could not be saved between reading the one and the other.
    document = _snapshot(grant_db)
    a01 = next(a for a in document["report"]["allocations"] if a["code"] == "A01")
    assert Decimal(a01["spend_to_date"]) == Decimal("100.00")
    assert [(t["project"], t["net"]) for t in document["transactions"]] == [("A01", "100.00")]

    (edit_code, _, edit_err), (second_code, _, second_err) = outcomes[0], outcomes[1]
    assert edit_code == 1 and "locked" in edit_err
    assert get_spend(grant_db, line.id).net == Decimal("100.00")
    assert second_code == 1 and "already submitted" in second_err
    assert not (tmp_path / "second.xlsx").exists()
    with grant_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 1

    assert [code for code, _out, _err in outcomes[2:]] == [0, 0], outcomes
    counted = {ln.supplier: (ln.date, ln.counted_on) for ln in _lines(grant_db)
               if ln.id != line.id}  # fmt: skip
    assert len(counted) == 6  # the 5 imported and the one added
    assert all(on == date(2025, 7, 1) for _day, on in counted.values()), counted
    assert counted["Added meanwhile"] == (date(2025, 6, 10), date(2025, 7, 1))


def _ledger(path: Path, rows: int, day: str = "15/05/2025") -> Path:
    lines = [[day, f"Supplier {n}", "", f"INV-{n}", f"{n}.25", ""] for n in range(1, rows + 1)]
    return write_csv(path, [HEADER, *lines])


def _lines(db: Database) -> list[SpendLine]:
    with db.read() as session:
        return list(session.scalars(select(SpendLine).order_by(SpendLine.id)))


# An import that, once it has read and checked its file, waits for the other one to have
# done the same: both have read the grant's lines before either writes.
IMPORT_TOGETHER = """
    import json, sys, time
    from pathlib import Path
    from fundtracker.ledger import ImportOptions, commit_import
    from fundtracker.storage import open_database

    url, file, folder, name = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]

    def progress(_step):
        (folder / f"read-{name}").touch()
        deadline = time.monotonic() + 90
        while len(list(folder.glob("read-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)

    db = open_database(url)
    result = commit_import(db, "CRG-2025-26", file, ImportOptions(), progress)
    print(json.dumps(result.counts()))
    db.dispose()
"""


@on_postgres
def test_two_imports_of_one_file_at_once_import_it_once(
    grant_db: Database, database_url: str, tmp_path: Path
) -> None:
    """Both imports have read the grant and checked the file before either writes; one then
    imports its 60 lines and the other finds all 60 already in the grant."""
    file = _ledger(tmp_path / "june.csv", 60)
    importers = [
        _python(IMPORT_TOGETHER, database_url, str(file), str(tmp_path), name)
        for name in ("ann", "ben")
    ]
    reports = []
    for importer in importers:
        code, out, err = _finish(importer)
        assert code == 0, err
        reports.append(json.loads(out))
    assert sorted((r["imported"], r["duplicates"]) for r in reports) == [(0, 60), (60, 0)]
    # 1.25 + 2.25 + ... + 60.25 = 60 × 61 / 2 + 60 × 0.25 = 1,830 + 15 = £1,845.00, once.
    assert sum(line.net for line in _lines(grant_db)) == Decimal("1845.00")
    with grant_db.read() as session:
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 1


@on_postgres
def test_a_long_description_and_notes_are_saved_and_found(grant_db: Database) -> None:
    """2,000 characters of description and 1,000 of notes are inside the app's limits; no
    index may carry them whole (PostgreSQL's btree rows stop at 2,704 bytes). Random letters,
    as PostgreSQL would compress a repeated one."""
    rng = random.Random(17)
    description = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(2000))
    notes = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(1000))
    line = add_spend(grant_db, GRANT, {"date": "2025-05-01", "net": "5.00",
                                       "description": description, "notes": notes})  # fmt: skip
    saved = get_spend(grant_db, line.id)
    assert (saved.description, saved.notes) == (description, notes)
    last_word = description.split()[-1].upper()  # found by any case, from the end of the text
    assert count_lines(grant_db, GRANT, LedgerFilter(text=last_word)) == 1


# An import whose reading is held half-way (its progress callback waits for the test).
IMPORT_HELD_WHILE_READING = """
    import sys, time
    from pathlib import Path
    from fundtracker.ledger import ImportOptions, commit_import
    from fundtracker.storage import open_database

    url, file, folder = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])

    def progress(_step):
        (folder / "reading").touch()
        deadline = time.monotonic() + 90
        while not (folder / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.01)

    db = open_database(url)
    result = commit_import(db, "CRG-2025-26", file, ImportOptions(), progress)
    print(result.imported)
    db.dispose()
"""


def test_a_long_import_lets_a_short_writer_through_while_it_reads(
    grant_db: Database, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While an import reads and checks its file, a `spend add` is saved at once (here the
    busy timeout is cut to 0.5 s: before, the import held SQLite's write lock throughout)."""
    file = _ledger(tmp_path / "big.csv", 2500)  # the first progress report comes at row 2,000
    importer = _python(IMPORT_HELD_WHILE_READING, database_url, str(file), str(tmp_path))
    try:
        _wait_for(lambda: (tmp_path / "reading").exists() or importer.poll() is not None,
                  "the import to start reading")  # fmt: skip
        monkeypatch.setattr(storage, "SQLITE_BUSY_TIMEOUT_MS", 500)
        impatient = open_database(database_url)
        try:
            line = add_spend(impatient, GRANT, {"date": "2025-08-01", "net": "7.00"})
        finally:
            impatient.dispose()
    finally:
        (tmp_path / "go").touch()
    code, out, err = _finish(importer)
    assert (code, out.strip()) == (0, "2500"), err
    assert get_spend(grant_db, line.id).net == Decimal("7.00")
    assert len(_lines(grant_db)) == 2501


@on_sqlite
def test_a_writer_that_cannot_get_in_is_told_so_not_shown_a_traceback(
    grant_db: Database,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Someone holds SQLite's write lock past the busy timeout (cut to 0.2 s here): the
    service refuses with DatabaseBusyError, the CLI exits 1 saying so, nothing is added."""
    import sqlite3

    monkeypatch.setattr(storage, "SQLITE_BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(database_url, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        impatient = open_database(database_url)
        with pytest.raises(DatabaseBusyError, match="busy"):
            add_spend(impatient, GRANT, {"date": "2025-08-01", "net": "7.00"})
        impatient.dispose()
        result = run_cli(capsys, database_url, "spend", "add", "--grant", GRANT,
                         "--date", "2025-08-01", "--net", "7.00")  # fmt: skip
    finally:
        holder.rollback()
        holder.close()
    assert result.code == 1
    assert "busy" in result.err and "nothing was changed" in result.err
    assert "Traceback" not in result.err and "database is locked" not in result.err
    assert _lines(grant_db) == []
