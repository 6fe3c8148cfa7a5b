"""Two processes at once on one database (a SQLite file, or PostgreSQL when
FUNDTRACKER_TEST_POSTGRES is set): writers queue instead of failing, and two edits of the same
line give the second a clear conflict, never a silent overwrite."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fundtracker.errors import ConflictError
from fundtracker.models import SpendLine
from fundtracker.services.spend import add_spend, get_spend, update_spend
from fundtracker.setup_files import load_toml, read_grant, read_plan
from fundtracker.storage import Database
from tests.conftest import ROOT

DATA = Path(__file__).parent / "data"
GRANT = "CRG-2025-26"


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


def _finish(process: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def _count(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(SpendLine)) or 0)


ADD_MANY = """
    import sys
    from fundtracker.services.spend import add_spend
    from fundtracker.storage import open_database

    url, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    db = open_database(url)
    for n in range(count):
        line = add_spend(db, "CRG-2025-26", {"date": "2025-07-01", "net": f"{n}.01",
                                             "supplier": name, "reference": f"{name}-{n}"})
        print(line.id, flush=True)
    db.dispose()
"""


def test_two_processes_adding_at_once_all_succeed(grant_db: Database, database_url: str) -> None:
    workers = [_python(ADD_MANY, database_url, name, "40") for name in ("alice", "bob")]
    results = [_finish(w) for w in workers]
    for code, _out, err in results:
        assert code == 0, err
        assert "locked" not in err
    ids = [int(i) for _code, out, _err in results for i in out.split()]
    assert len(ids) == len(set(ids)) == 80
    assert _count(grant_db) == 80


HOLD_THE_WRITE_LOCK = """
    import sys, time
    from fundtracker.services.spend import add_spend
    from fundtracker.storage import open_database

    db = open_database(sys.argv[1])
    with db.unit_of_work("a long import") as session:
        add_spend(db, "CRG-2025-26", {"date": "2025-07-02", "net": "1.00"})  # own transaction
        session.execute(__import__("sqlalchemy").text(
            "UPDATE spend_lines SET notes = 'held' WHERE id = 1"))
        print("holding", flush=True)
        time.sleep(2)
    db.dispose()
"""


def test_a_writer_waits_for_a_long_transaction_instead_of_failing(
    grant_db: Database, database_url: str, tmp_path: Path
) -> None:
    add_spend(grant_db, GRANT, {"date": "2025-07-01", "net": "5.00"})
    holder = _python(HOLD_THE_WRITE_LOCK, database_url)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "holding"
    cli = subprocess.run(
        [sys.executable, "-m", "fundtracker", "--database", database_url, "spend", "update",
         "1", "--notes", "after the import"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert "locked" not in cli.stderr
    code, _out, err = _finish(holder)
    assert code == 0, err
    assert get_spend(grant_db, 1).notes == "after the import"  # queued behind, applied after


def test_a_stale_edit_is_refused_in_process(grant_db: Database) -> None:
    line = add_spend(grant_db, GRANT, {"date": "2025-07-01", "net": "5.00"})
    seen = line.version
    update_spend(grant_db, line.id, {"notes": "first"}, expected_version=seen)
    with pytest.raises(ConflictError, match="changed by someone else"):
        update_spend(grant_db, line.id, {"notes": "second"}, expected_version=seen)
    assert get_spend(grant_db, line.id).notes == "first"


EDIT_AT_THE_SAME_TIME = """
    import sys, time
    from pathlib import Path
    from fundtracker.errors import FundtrackerError
    from fundtracker.services import spend
    from fundtracker.storage import open_database

    url, line_id, version, name, folder = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \\
        sys.argv[4], Path(sys.argv[5])
    load = spend._load_line

    def load_then_wait_for_the_other(session, wanted, expected):
        # Both editors hold the same version before either saves (on SQLite the second
        # cannot read until the first commits: its wait times out and it goes on).
        line = load(session, wanted, expected)
        (folder / f"ready-{name}").touch()
        deadline = time.monotonic() + 3
        while len(list(folder.glob("ready-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        return line

    spend._load_line = load_then_wait_for_the_other
    db = open_database(url)
    try:
        spend.update_spend(db, line_id, {"notes": name}, expected_version=version)
        print("saved")
    except FundtrackerError as exc:
        print(type(exc).__name__, exc)
    db.dispose()
"""


def test_two_processes_editing_the_same_line_one_wins_the_other_is_told(
    grant_db: Database, database_url: str, tmp_path: Path
) -> None:
    line = add_spend(grant_db, GRANT, {"date": "2025-07-01", "net": "5.00"})
    args = (database_url, str(line.id), str(line.version))
    editors = {
        name: _python(EDIT_AT_THE_SAME_TIME, *args, name, str(tmp_path)) for name in ("ann", "ben")
    }
    outcomes = {name: _finish(process) for name, process in editors.items()}
    for code, _out, err in outcomes.values():
        assert code == 0, err
    said = {name: out.strip() for name, (_code, out, _err) in outcomes.items()}
    winners = [name for name, out in said.items() if out == "saved"]
    losers = [name for name, out in said.items() if out.startswith("ConflictError")]
    assert len(winners) == 1 and len(losers) == 1, said
    assert "someone else" in said[losers[0]] and "reload" in said[losers[0]]
    saved = get_spend(grant_db, line.id)
    assert saved.notes == winners[0]
    assert saved.version == line.version + 1


EDIT_PROJECT_AND_LINE = """
    import sys
    from fundtracker.operations import run_operation
    from fundtracker.operations.allocations import UpdateProject, current_version
    from fundtracker.services.spend import update_spend
    from fundtracker.storage import open_database

    url, line_id = sys.argv[1], int(sys.argv[2])
    db = open_database(url)
    version = current_version(db, "CRG-2025-26", "A02")
    run_operation(db, UpdateProject("CRG-2025-26", "A02", {"budget": "4750.00"}, version))
    update_spend(db, line_id, {"supplier": "Changed by the other process"})
    print("done")
"""


def test_undo_in_one_process_never_overwrites_the_other_process(grant_db: Database) -> None:
    """Issue 11's cases across two processes: my undo of a project edit leaves their budget
    of another project alone; my undo of a line they changed since is refused whole, and
    every undo that ran is in the audit log."""
    from fundtracker.models import AuditEvent
    from fundtracker.operations import run_operation, undo
    from fundtracker.operations.allocations import UpdateProject, current_version
    from fundtracker.operations.spend import AddLine, EditLine
    from fundtracker.services.grants import load_grant

    line = run_operation(grant_db, AddLine(GRANT, {"date": "2025-05-01", "net": "10.00"})).result
    edited = run_operation(grant_db, EditLine(line.id, {"supplier": "Mine"}, line.version))
    version = current_version(grant_db, GRANT, "A01")
    lead = run_operation(grant_db, UpdateProject(GRANT, "A01", {"lead": "Me"}, version))

    code, out, err = _finish(_python(EDIT_PROJECT_AND_LINE, grant_db.url, str(line.id)))
    assert (code, out.strip()) == (0, "done"), err

    undo(grant_db, lead)  # A01 back; their A02 budget stands
    budgets = {a.code: a.budget for a in load_grant(grant_db, GRANT).allocations}
    assert str(budgets["A02"]) == "4750.00"
    with pytest.raises(ConflictError):
        undo(grant_db, edited)
    assert get_spend(grant_db, line.id).supplier == "Changed by the other process"
    with grant_db.read() as session:
        reasons = set(session.scalars(select(AuditEvent.reason)))
    assert "undo: Change lead of project A01" in reasons
    assert "undo: Change supplier of line" not in " ".join(reasons)  # the refused one left none
