"""Crash safety, tested by killing: processes editing, importing and submitting are SIGKILLed
at random moments, many times. Afterwards the database passes the integrity check, every
change the process reported as done is there, and no change is there by halves (each import
batch whole or absent; each change with its audit event). Runs on SQLite, and on PostgreSQL
when FUNDTRACKER_TEST_POSTGRES is set."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from fundtracker.models import AuditEvent, ImportBatch, SpendLine, Submission
from fundtracker.services.spend import add_spend
from fundtracker.setup_files import load_toml, read_grant, read_plan
from fundtracker.storage import Database
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
DATA = Path(__file__).parent / "data"
GRANT = "CRG-2025-26"
KILLS = 8


@pytest.fixture
def grant_db(db: Database) -> Database:
    from fundtracker.services import grants, plans

    plans.import_plan(db, read_plan(load_toml(DATA / "plan.toml")))
    grants.import_grant(db, read_grant(load_toml(DATA / "grant.toml")))
    return db


@pytest.fixture
def rng() -> random.Random:
    return random.Random(20251126)


class Worker:
    """A Python process that prints one line per committed step, killed when we say."""

    def __init__(self, script: str, *args: str):
        self.process = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script), *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline().strip()
        assert ready == "ready", self.process.stderr.read() if self.process.stderr else ""

    def kill_after(self, seconds: float) -> list[str]:
        """SIGKILL after ``seconds`` (or let it finish first); the steps it reported done."""
        try:
            self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGKILL)
        out, err = self.process.communicate(timeout=60)
        assert "Traceback" not in err, err
        return out.split("\n")[:-1]  # a line cut short by the kill has no newline: not done


def _assert_sound(db: Database) -> None:
    """SQLite's integrity check passes (PostgreSQL recovers by itself), and every spend line
    has the audit event written in the same transaction, and vice versa."""
    if db.sqlite_path is not None:
        connection = sqlite3.connect(db.sqlite_path)
        try:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            connection.close()
    seen: dict[tuple[str, str], set[int | None]] = {}
    with db.read() as session:
        lines = set(session.scalars(select(SpendLine.id).where(SpendLine.batch_id.is_(None))))
        batches = set(session.scalars(select(ImportBatch.id)))
        events = select(AuditEvent.entity, AuditEvent.entity_id, AuditEvent.action)
        for entity, entity_id, action in session.execute(events):
            seen.setdefault((entity, action), set()).add(entity_id)
    created = seen.get(("spend line", "create"), set())
    deleted = seen.get(("spend line", "delete"), set())
    assert lines <= created
    assert created - deleted <= lines
    assert batches == seen.get(("import batch", "import"), set())  # imported lines: per batch


# --- A burst of edits ------------------------------------------------------------------------

BURST_OPS = """
def burst_ops(count):
    # Step n adds line r<n>; every third step also edits the line before; every fifth
    # deletes the line two back. Each operation is its own transaction.
    ops = []
    for n in range(count):
        ops.append(("add", f"r{n}", "0"))
        if n % 3 == 2:
            ops.append(("update", f"r{n - 1}", str(n)))
        if n % 5 == 4:
            ops.append(("delete", f"r{n - 2}", ""))
    return ops
"""

BURST = (
    BURST_OPS
    + """
import sys
from fundtracker.services.spend import add_spend, delete_spend, update_spend
from fundtracker.storage import open_database

db = open_database(sys.argv[1])
ids = {}
print("ready", flush=True)
for n, (kind, ref, value) in enumerate(burst_ops(10_000)):
    if kind == "add":
        line = add_spend(db, "CRG-2025-26", {"date": "2025-07-01", "net": "1.00",
                         "supplier": "burst", "reference": ref, "notes": value})
        ids[ref] = line.id
    elif kind == "update":
        update_spend(db, ids[ref], {"notes": value})
    else:
        delete_spend(db, ids[ref])
    print(n, flush=True)
"""
)

namespace: dict[str, object] = {}
exec(BURST_OPS, namespace)
burst_ops = namespace["burst_ops"]


def _expected(ops: list[tuple[str, str, str]]) -> dict[str, str]:
    state: dict[str, str] = {}
    for kind, ref, value in ops:
        if kind == "delete":
            del state[ref]
        else:
            state[ref] = value
    return state


def test_killing_a_burst_of_edits_loses_nothing_committed(
    grant_db: Database, database_url: str, rng: random.Random
) -> None:
    done_before = 0
    for _ in range(KILLS):
        with grant_db.unit_of_work() as session:  # each round starts from a clean slate
            for line in session.scalars(select(SpendLine)):
                session.delete(line)
        done = Worker(BURST, database_url).kill_after(rng.uniform(0.05, 0.6))
        ops = burst_ops(10_000)  # type: ignore[operator]
        with grant_db.read() as session:
            rows = session.execute(
                select(SpendLine.reference, SpendLine.notes).where(SpendLine.supplier == "burst")
            ).all()
        actual = dict(rows)  # type: ignore[arg-type]
        reported = len(done)
        # Everything reported done is there; at most the one step in flight is also there.
        assert actual in (_expected(ops[:reported]), _expected(ops[: reported + 1]))
        _assert_sound(grant_db)
        done_before += reported
    assert done_before > KILLS  # the kills landed mid-burst, not before it began


# --- An export with submission -----------------------------------------------------------

SUBMIT_AGAIN_AND_AGAIN = """
import sys
from pathlib import Path
from fundtracker.errors import NotFoundError
from fundtracker.periods import Period
from fundtracker.returns.submission import export_return, reopen_return
from fundtracker.storage import open_database

db = open_database(sys.argv[1])
folder = Path(sys.argv[2])
period = Period.parse("2025/26-Q1")
try:  # a previous round may have been killed between submitting and reopening
    reopen_return(db, "CRG-2025-26", period, reason="resume")
except NotFoundError:
    pass
print("ready", flush=True)
for n in range(1000):
    result = export_return(db, "CRG-2025-26", period, folder / f"return-{n}.xlsx", submit=True)
    print(json.dumps([n, result.version, result.checksum]), flush=True)
    reopen_return(db, "CRG-2025-26", period, reason=f"round {n}")
""".replace("import sys", "import json, sys")


def _checksum_in(workbook: Path) -> str:
    book = load_workbook(workbook, read_only=True)
    try:
        for row in book["Summary"].iter_rows(values_only=True):
            if row and row[0] == "Checksum":
                return str(row[1])
    finally:
        book.close()
    raise AssertionError(f"no Checksum row in {workbook}")


def test_killing_an_export_with_submission_leaves_whole_returns_or_none(
    grant_db: Database, database_url: str, tmp_path: Path, rng: random.Random
) -> None:
    for n in range(6):
        add_spend(grant_db, GRANT, {"date": f"2025-0{4 + n % 3}-1{n}", "net": f"{n + 1}00.00"})
    reported: list[list[object]] = []
    for round_ in range(KILLS // 2):
        folder = tmp_path / f"round-{round_}"
        folder.mkdir()
        done = Worker(SUBMIT_AGAIN_AND_AGAIN, database_url, str(folder)).kill_after(
            rng.uniform(0.3, 2.5)
        )
        reported += [json.loads(line) for line in done]
        with grant_db.read() as session:
            submissions = {
                s.version_number: s.checksum for s in session.scalars(select(Submission))
            }
        for _n, version, digest in reported:
            assert submissions[version] == digest  # nothing reported done is missing
        assert sorted(submissions) == list(range(1, len(submissions) + 1))
        for workbook in folder.glob("return-*.xlsx"):  # whole files only, each recorded
            assert _checksum_in(workbook) in submissions.values()
        _assert_sound(grant_db)
    assert reported, "some submissions completed before a kill"


# --- A large ledger import ---------------------------------------------------------------


def _ledger_csv(path: Path, prefix: str, rows: int) -> Path:
    lines = ["Date,Reference,Supplier,Description,Net,VAT"]
    lines += [
        f"{1 + n % 28:02d}/07/2025,{prefix}-{n},Supplier {n % 97},Item {n},{n % 500}.25,0.00"
        for n in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


IMPORT = """
import sys
from pathlib import Path
from fundtracker.ledger.importer import ImportOptions, commit_import
from fundtracker.storage import open_database

db = open_database(sys.argv[1])
print("ready", flush=True)
result = commit_import(db, "CRG-2025-26", Path(sys.argv[2]), ImportOptions())
print(result.imported, flush=True)
"""


@pytest.fixture
def ledger_import() -> Iterator[None]:
    pytest.importorskip("fundtracker.ledger.importer")
    yield


def test_killing_a_large_import_leaves_each_batch_whole_or_absent(
    ledger_import: None, grant_db: Database, database_url: str, tmp_path: Path, rng: random.Random
) -> None:
    rows = 4000
    started = time.monotonic()
    first = Worker(IMPORT, database_url, str(_ledger_csv(tmp_path / "f0.csv", "f0", rows)))
    assert first.kill_after(120) == [str(rows)]
    duration = time.monotonic() - started
    finished = {"f0"}
    for n in range(1, KILLS + 1):
        path = _ledger_csv(tmp_path / f"f{n}.csv", f"f{n}", rows)
        if Worker(IMPORT, database_url, str(path)).kill_after(rng.uniform(0.2, 1.1) * duration):
            finished.add(f"f{n}")
        with grant_db.read() as session:
            batches = list(session.scalars(select(ImportBatch)))
            per_batch = dict(
                session.execute(
                    select(SpendLine.batch_id, func.count()).group_by(SpendLine.batch_id)
                ).all()
            )
            prefixes = {ref.split("-")[0] for ref in session.scalars(select(SpendLine.reference))}
        for batch in batches:  # entirely present
            assert per_batch.get(batch.id, 0) == batch.imported == rows
        assert None not in per_batch  # no line outside a batch: entirely absent otherwise
        assert finished <= prefixes  # every import reported done is there
        assert len(batches) == len(prefixes)
        _assert_sound(grant_db)


# --- A restore -----------------------------------------------------------------------------

RESTORE_AGAIN_AND_AGAIN = """
import sys
from pathlib import Path
from fundtracker.backup import restore

database, first, second = (Path(a) for a in sys.argv[1:4])
print("ready", flush=True)
for n in range(10_000):
    restore(database, first if n % 2 == 0 else second)
    print(n, flush=True)
"""


def _rows(path: Path) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(
            "SELECT id, supplier, net FROM spend_lines ORDER BY id"
        ).fetchall()
    finally:
        connection.close()


def test_killing_a_restore_leaves_the_old_database_or_the_backup(
    grant_db: Database, database_url: str, tmp_path: Path, rng: random.Random
) -> None:
    if grant_db.sqlite_path is None:
        pytest.skip("restore replaces a SQLite file; PostgreSQL uses pg_restore")
    from fundtracker import backup

    for n in range(300):
        add_spend(grant_db, GRANT, {"date": "2025-07-01", "net": f"{n}.00", "supplier": "x" * 200})
    grant_db.dispose()
    database = grant_db.sqlite_path
    first = backup.backup_now(database, tmp_path / "first.sqlite3")
    connection = sqlite3.connect(first)  # a second, different sound database
    with connection:
        connection.execute("DELETE FROM spend_lines WHERE id % 2 = 0")
    connection.close()
    second = backup.backup_now(first, tmp_path / "second.sqlite3")
    first = backup.backup_now(database, tmp_path / "first.sqlite3")
    allowed = [_rows(database), _rows(first), _rows(second)]
    assert allowed[1] != allowed[2]
    restored = 0
    for _ in range(KILLS):
        worker = Worker(RESTORE_AGAIN_AND_AGAIN, str(database), str(first), str(second))
        restored += len(worker.kill_after(rng.uniform(0.05, 0.5)))
        assert backup.integrity_ok(database)
        assert _rows(database) in allowed
        grant_db.dispose()
    assert restored > KILLS  # the kills landed among restores, not before the first
