"""Import behaviour: duplicates, all-or-nothing, --skip-errors, dry runs, batches and undo,
the submission lock, assignment rules, profiles, and cancelling."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from fundtracker.ledger import ImportCancelled, ImportOptions, commit_import, plan_import
from fundtracker.models import AuditEvent, ImportBatch, MappingProfile, Submission
from fundtracker.services import spend
from fundtracker.services.grants import get_grant
from fundtracker.storage import Database
from tests.helpers import run_cli
from tests.ledger_support import GRANT, import_json, ledger, lines, set_up_grant, table_counts

JSON_KEYS = {
    "rows_read",
    "imported",
    "duplicates",
    "skipped",
    "unassigned",
    "errors",
    "batch",
    "dry_run",
}


@pytest.fixture
def url(db: Database, database_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    set_up_grant(capsys, database_url)
    return database_url


def _row(day: str, supplier: str, reference: str, net: str, vat: str = "") -> list[str]:
    return [day, supplier, "", reference, net, vat]


def _submit(db: Database, period: str, period_end: date) -> None:
    """Stand in for a submitted return (issue 5) by writing its row directly."""
    with db.unit_of_work() as session:
        grant = get_grant(session, GRANT)
        session.add(
            Submission(
                grant_id=grant.id,
                period=period,
                period_end=period_end,
                submitted_at=datetime(2025, 7, 20, tzinfo=UTC),
                submitted_by="officer",
                snapshot="{}",
                checksum="0" * 64,
            )
        )


def test_json_has_the_contract_keys_and_a_batch(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = ledger(tmp_path / "a.csv", _row("03/07/2025", "Acme", "R1", "10.00"))
    result, report = import_json(capsys, url, file)
    assert result.code == 0
    assert report.keys() >= JSON_KEYS
    assert (report["imported"], report["dry_run"]) == (1, False)
    assert report["batch"] == lines(db)[0].batch_id


def test_duplicates_within_the_file_and_against_the_grant(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spend.add_spend(
        db, GRANT, {"date": "2025-07-01", "supplier": "Acme", "reference": "R0", "net": "50.00"}
    )
    file = ledger(
        tmp_path / "d.csv",
        _row("01/07/2025", "Acme", "R0", "50.00"),  # row 2: already in the grant
        _row("02/07/2025", "Acme", "R1", "10.00"),  # row 3
        _row("02/07/2025", "Acme", "R1", "10.00"),  # row 4: repeats row 3
        _row("02/07/2025", "Acme", "R1", "10.00", "2.00"),  # row 5: VAT differs, not a duplicate
        _row("02/07/2025", "Acme Ltd", "R1", "10.00"),  # row 6: supplier differs
    )
    result, report = import_json(capsys, url, file)
    assert result.code == 0
    assert (report["rows_read"], report["imported"], report["duplicates"]) == (5, 3, 2)
    assert report["duplicate_rows"] == [
        {"row": 2, "message": "already in the grant"},
        {"row": 4, "message": "repeats row 3"},
    ]
    assert [line.source_row for line in lines(db)] == [None, 3, 5, 6]


def test_importing_the_same_file_twice_imports_nothing_the_second_time(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = ledger(
        tmp_path / "q2.csv",
        _row("01/07/2025", "Acme", "R1", "10.00"),
        _row("02/07/2025", "Bee", "R2", "20.00"),
    )
    _, first = import_json(capsys, url, file)
    result, second = import_json(capsys, url, file)
    assert result.code == 0 and first["imported"] == 2
    assert (second["imported"], second["duplicates"]) == (0, 2)
    assert second["earlier_batches"] == [first["batch"]]
    assert len(lines(db)) == 2
    # Nothing new, so no second batch.
    assert second["batch"] is None
    assert table_counts(db)[1] == 1


def test_a_line_split_after_import_is_still_a_duplicate(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = ledger(tmp_path / "ytd.csv", _row("01/07/2025", "Acme", "R1", "100.00", "20.00"))
    import_json(capsys, url, file)
    (line,) = lines(db)
    spend.split_spend(db, line.id, [("A01", Decimal("60.00")), ("A02", Decimal("40.00"))])
    # The parts: 60.00 + 12.00 VAT and 40.00 + 8.00 VAT, adding back to the original line.
    _, again = import_json(capsys, url, file)
    assert (again["imported"], again["duplicates"]) == (0, 1)
    assert sorted(ln.net for ln in lines(db)) == [Decimal("40.00"), Decimal("60.00")]


def test_one_bad_row_imports_nothing_and_every_bad_row_is_listed(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = ledger(
        tmp_path / "bad.csv",
        _row("01/07/2025", "Acme", "R1", "10.00"),
        _row("31/06/2025", "Acme", "R2", "ten pounds"),
        _row("", "Acme", "R3", ""),
        _row("04/07/2025", "Acme", "R4", "1.005"),
    )
    before = table_counts(db)
    result, report = import_json(capsys, url, file)
    assert result.code == 1 and "nothing imported: 3 bad row(s)" in result.err
    assert table_counts(db) == before
    assert (report["imported"], report["batch"], report["errors"][0]["row"]) == (0, None, 3)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [
        (3, "Transaction Date"),
        (3, "Net Amount"),
        (4, "Transaction Date"),
        (4, "Net Amount"),
        (5, "Net Amount"),
    ]
    assert report["errors"][2]["message"] == "a date is required"


def test_skip_errors_imports_the_good_rows_and_writes_the_bad_ones(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = ledger(
        tmp_path / "mixed.csv",
        _row("01/07/2025", "Acme", "R1", "10.00"),
        _row("02/07/2025", '=HYPERLINK("x")', "R2", "oops"),
        _row("03/07/2025", "Bee", "R3", "30.00"),
    )
    report_file = tmp_path / "out" / "errors.csv"
    result, report = import_json(
        capsys, url, file, "--skip-errors", "--errors-out", str(report_file)
    )
    assert result.code == 1  # bad rows were skipped: still an exit 1
    assert (report["imported"], report["rows_read"]) == (2, 3)
    assert [line.reference for line in lines(db)] == ["R1", "R3"]
    with report_file.open(encoding="utf-8-sig", newline="") as handle:
        written = list(csv.reader(handle))
    assert written[0][:3] == ["row", "problems", "Transaction Date"]
    assert written[1][:2] == [
        "3",
        "Net Amount: 'oops' is not an amount (expected e.g. 1234.50 or £1,234.50)",
    ]
    assert written[1][3] == '\'=HYPERLINK("x")'  # user text never becomes a formula
    with db.read() as session:
        batch = session.scalars(select(ImportBatch)).one()
    assert (batch.imported, batch.errors, batch.rows_read) == (2, 1, 3)


def test_an_unwritable_errors_report_is_refused_before_anything_is_written(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = ledger(tmp_path / "a.csv", _row("01/07/2025", "Acme", "R1", "10.00"))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder is expected")
    before = table_counts(db)
    result = run_cli(
        capsys,
        url,
        "import-ledger",
        str(file),
        "--grant",
        GRANT,
        "--errors-out",
        str(blocker / "errors.csv"),
    )
    assert result.code == 1 and "cannot write the errors report" in result.err
    assert table_counts(db) == before


def test_dry_run_changes_nothing_and_predicts_the_import(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = ledger(
        tmp_path / "q.csv",
        _row("01/07/2025", "Acme", "R1", "10.00"),
        _row("01/07/2025", "Acme", "R1", "10.00"),
        ["", "", "Total", "", "20.00", ""],
    )
    before = table_counts(db)
    result, preview = import_json(capsys, url, file, "--dry-run", "--save-profile", "never")
    assert result.code == 0
    assert table_counts(db) == before
    with db.read() as session:
        assert session.scalars(select(MappingProfile)).all() == []
    assert (preview["dry_run"], preview["batch"]) == (True, None)
    _, real = import_json(capsys, url, file)
    for key in ("rows_read", "imported", "duplicates", "skipped", "unassigned"):
        assert preview[key] == real[key], key
    assert (real["imported"], real["duplicates"], real["skipped"]) == (1, 1, 1)


def test_undo_removes_exactly_its_batch_and_is_audited(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = ledger(tmp_path / "q1.csv", _row("01/07/2025", "Acme", "R1", "10.00"))
    second = ledger(
        tmp_path / "q2.csv",
        _row("01/10/2025", "Acme", "R2", "20.00"),
        _row("02/10/2025", "Acme", "R3", "30.00"),
    )
    _, one = import_json(capsys, url, first)
    _, two = import_json(capsys, url, second)
    manual = spend.add_spend(db, GRANT, {"date": "2025-10-05", "net": "5.00"})
    undo = run_cli(capsys, url, "import", "undo", str(two["batch"]))
    assert undo.code == 0 and "removed 2 line(s)" in undo.out
    assert [(ln.batch_id, ln.reference) for ln in lines(db)] == [(one["batch"], "R1"), (None, "")]
    assert lines(db)[1].id == manual.id
    with db.read() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        batch = session.get(ImportBatch, two["batch"])
    assert event is not None and batch is not None and batch.undone_at is not None
    assert (event.action, event.entity, event.entity_id) == ("undo", "import batch", two["batch"])
    assert json.loads(event.changes)["lines"] == [2, 0]
    again = run_cli(capsys, url, "import", "undo", str(two["batch"]))
    assert again.code == 1 and "already undone" in again.err
    listing = run_cli(capsys, url, "import", "list", "--grant", GRANT, "--format", "json").json()
    assert [(b["batch"], b["imported"], b["undone_at"] is None) for b in listing] == [
        (one["batch"], 1, True),
        (two["batch"], 2, False),
    ]
    assert listing[0]["sha256"] and listing[0]["file"] == "q1.csv"
    assert listing[0]["mapping"]["date"] == "Transaction Date"
    # Undone lines may be imported again.
    _, again_in = import_json(capsys, url, second)
    assert again_in["imported"] == 2


def test_the_import_itself_is_one_audit_event(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = table_counts(db)[2]
    file = ledger(
        tmp_path / "a.csv", *[_row("01/07/2025", "S", f"R{i}", "1.00") for i in range(50)]
    )
    _, report = import_json(capsys, url, file)
    with db.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.id > before)).all()
    assert [(e.action, e.entity, e.entity_id) for e in events] == [
        ("import", "import batch", report["batch"])
    ]
    assert json.loads(events[0].changes)["imported"] == [None, 50]


def test_lines_in_a_submitted_period_are_late_lines_and_duplicates_stay_duplicates(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 13: a line dated inside a submitted period is no longer a bad row; it keeps its
    date and is counted in the first period not yet submitted (here Q2, from 01/07/2025)."""
    q1 = ledger(tmp_path / "q1.csv", _row("30/06/2025", "Acme", "R1", "10.00"))
    _, first = import_json(capsys, url, q1)
    _submit(db, "2025/26-Q1", date(2025, 6, 30))
    ytd = ledger(
        tmp_path / "ytd.csv",
        _row("30/06/2025", "Acme", "R1", "10.00"),  # already in: a duplicate, not an error
        _row("15/06/2025", "Bee", "R2", "5.00"),  # new and dated in Q1: a late line
        _row("01/07/2025", "Cee", "R3", "7.00"),  # after the lock
    )
    result, report = import_json(capsys, url, ytd)
    assert result.code == 0, result.out
    assert (report["imported"], report["duplicates"], report["errors"]) == (2, 1, [])
    counted = {ln.reference: (str(ln.date), str(ln.counted_on)) for ln in lines(db)}
    assert counted == {
        "R1": ("2025-06-30", "2025-06-30"),
        "R2": ("2025-06-15", "2025-07-01"),
        "R3": ("2025-07-01", "2025-07-01"),
    }
    undo = run_cli(capsys, url, "import", "undo", str(first["batch"]))
    assert undo.code == 1 and "cannot be undone" in undo.err
    assert len(lines(db)) == 3


def test_assignment_order_column_then_rules_then_cost_centre(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ("rule", "add", "--grant", GRANT)
    assert (
        run_cli(
            capsys,
            url,
            *add,
            "--field",
            "supplier",
            "--op",
            "contains",
            "--value",
            "age uk",
            "--allocation",
            "A02",
        ).code
        == 0
    )
    assert (
        run_cli(
            capsys,
            url,
            *add,
            "--field",
            "description",
            "--op",
            "regex",
            "--value",
            r"^youth\b",
            "--allocation",
            "A01",
        ).code
        == 0
    )
    assert (
        run_cli(
            capsys,
            url,
            *add,
            "--field",
            "supplier",
            "--op",
            "equals",
            "--value",
            "Age UK",
            "--allocation",
            "A01",
        ).code
        == 0
    )  # never reached: the first rule wins
    rules = run_cli(capsys, url, "rule", "list", "--grant", GRANT, "--format", "json").json()
    assert [(r["priority"], r["op"], r["allocation"]) for r in rules] == [
        (1, "contains", "A02"),
        (2, "regex", "A01"),
        (3, "equals", "A01"),
    ]
    header = ["Date", "Supplier", "Description", "Ref", "Net", "Cost Centre", "Project"]
    file = ledger(
        tmp_path / "assign.csv",
        ["01/07/2025", "Age UK Kent", "", "R1", "1.00", "", "A01"],  # column wins
        ["01/07/2025", "Age UK Kent", "", "R2", "1.00", "CS101", ""],  # rule 1
        ["01/07/2025", "Other", "Youth club", "R3", "1.00", "", ""],  # rule 2
        ["01/07/2025", "Other", "", "R4", "1.00", "cs101", ""],  # cost centre of A01
        ["01/07/2025", "Other", "", "R5", "1.00", "ZZ9", ""],  # unassigned
        header=header,
    )
    result, report = import_json(capsys, url, file)
    assert result.code == 0 and report["unassigned"] == 1
    got = [(ln.reference, ln.allocation.code if ln.allocation else None) for ln in lines(db)]
    assert got == [("R1", "A01"), ("R2", "A02"), ("R3", "A01"), ("R4", "A01"), ("R5", None)]
    assert run_cli(capsys, url, "rule", "delete", str(rules[0]["id"])).code == 0
    remaining = run_cli(capsys, url, "rule", "list", "--grant", GRANT, "--format", "json").json()
    assert [r["id"] for r in remaining] == [rules[1]["id"], rules[2]["id"]]


def test_rules_refuse_bad_input(db: Database, url: str, capsys: pytest.CaptureFixture[str]) -> None:
    base = ("rule", "add", "--grant", GRANT, "--field", "supplier")
    bad_regex = run_cli(capsys, url, *base, "--op", "regex", "--value", "(", "--allocation", "A01")
    assert bad_regex.code == 1 and "not a regular expression" in bad_regex.err
    bad_code = run_cli(capsys, url, *base, "--op", "equals", "--value", "x", "--allocation", "ZZ")
    assert bad_code.code == 1 and "its projects: A01, A02" in bad_code.err
    assert run_cli(capsys, url, "rule", "delete", "999").code == 1


def test_an_unknown_code_in_the_allocation_column_is_a_bad_row(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = ledger(
        tmp_path / "typo.csv",
        ["01/07/2025", "Acme", "R1", "1.00", "A1O"],
        header=["Date", "Supplier", "Ref", "Net", "Project"],
    )
    result, report = import_json(capsys, url, file)
    assert result.code == 1 and lines(db) == []
    assert report["errors"] == [
        {
            "row": 2,
            "column": "Project",
            "message": "'A1O' is not a project of grant CRG-2025-26 (its projects: A01, A02)",
        }
    ]


def test_profiles_are_saved_and_reused(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = ["Posted", "Who", "Doc", "Value (GBP)"]
    first = ledger(tmp_path / "jul.csv", ["01/07/2025", "Acme", "D1", "1.00"], header=header)
    result, _ = import_json(
        capsys,
        url,
        first,
        "--map",
        "date=Posted",
        "supplier=Who",
        "reference=Doc",
        "net=Value (GBP)",
        "--save-profile",
        "civica",
    )
    assert result.code == 0, result.err
    second = ledger(tmp_path / "aug.csv", ["01/08/2025", "Bee", "D2", "2.00"], header=header)
    result, report = import_json(capsys, url, second, "--profile", "civica")
    assert result.code == 0, result.err
    assert report["mapping"] == {
        "date": "Posted",
        "supplier": "Who",
        "reference": "Doc",
        "net": "Value (GBP)",
    }
    assert [(ln.supplier, ln.net) for ln in lines(db)] == [
        ("Acme", Decimal("1.00")),
        ("Bee", Decimal("2.00")),
    ]
    missing = run_cli(
        capsys, url, "import-ledger", str(second), "--grant", GRANT, "--profile", "nope"
    )
    assert missing.code == 1 and "saved: civica" in missing.err


def test_cancel_leaves_nothing_written(db: Database, url: str, tmp_path: Path) -> None:
    file = ledger(
        tmp_path / "big.csv", *[_row("01/07/2025", "S", f"R{i}", "1.00") for i in range(5000)]
    )
    before = table_counts(db)
    with pytest.raises(ImportCancelled):
        commit_import(db, GRANT, file, ImportOptions(), cancel=lambda: True)
    assert table_counts(db) == before
    plan = plan_import(db, GRANT, file, ImportOptions())
    assert (plan.imported, plan.batch, table_counts(db)) == (5000, None, before)
