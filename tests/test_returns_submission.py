"""Submitting a return: what is recorded, the lock on every path that changes data, reopening,
new versions, re-export from the snapshot and the SUBMITTED_CHANGED check."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from fundtracker.checks import run_checks
from fundtracker.errors import LockedError
from fundtracker.figures import build_report
from fundtracker.models import AuditEvent, Narrative, SpendLine, Submission
from fundtracker.periods import Period
from fundtracker.returns import narratives, submission
from fundtracker.returns.reader import read_return
from fundtracker.returns.snapshot import canonical_json
from fundtracker.services import spend
from fundtracker.storage import Database
from tests.helpers import CliResult, run_cli
from tests.ledger_support import import_json, ledger
from tests.returns_support import GRANT, Q2, add_hostile_lines

Capsys = pytest.CaptureFixture[str]
PERIOD = ("--grant", GRANT, "--period", "2025/26-Q2")


def _submit(capsys: Capsys, url: str, out: Path) -> CliResult:
    result = run_cli(
        capsys,
        url,
        "export-return",
        *PERIOD,
        "--out",
        str(out),
        "--submit",
        "--prepared-by",
        "Jo Bloggs",
    )
    assert result.code == 0, result.err
    return result


def _submissions(db: Database) -> list[Submission]:
    with db.read() as session:
        return list(session.scalars(select(Submission).order_by(Submission.id)))


def _line_count(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(SpendLine)) or 0


def _summary(path: Path) -> dict[str, object]:
    book = load_workbook(path, read_only=True)
    try:
        rows = book["Summary"].iter_rows(values_only=True)
        return {r[0]: r[1] for r in rows if len(r) > 1 and r[0]}
    finally:
        book.close()


@pytest.fixture
def url(demo_db: Database, database_url: str) -> str:
    add_hostile_lines(demo_db)  # an unassigned Q2 line: SPEND_UNASSIGNED is an error
    return database_url


def test_submit_lists_errors_first_then_records_everything(
    demo_db: Database, url: str, tmp_path: Path, capsys: Capsys
) -> None:
    out = tmp_path / "q2.xlsx"
    result = _submit(capsys, url, out)
    lines = result.out.splitlines()
    error_line = next(i for i, line in enumerate(lines) if "error SPEND_UNASSIGNED" in line)
    submitted_line = next(i for i, line in enumerate(lines) if line.startswith("submitted"))
    assert error_line < submitted_line

    (row,) = _submissions(demo_db)
    assert (row.period, row.period_end, row.version_number) == ("2025/26-Q2", date(2025, 9, 30), 1)
    assert row.submitted_by == "Jo Bloggs" and row.reopened_at is None
    # the checksum is SHA-256 over the stored canonical JSON, and it is in the workbook
    assert hashlib.sha256(row.snapshot.encode("utf-8")).hexdigest() == row.checksum
    assert canonical_json(json.loads(row.snapshot)).decode("utf-8") == row.snapshot
    summary = _summary(out)
    assert summary["Status"] == "Submitted" and summary["Checksum"] == row.checksum
    assert summary["Version"] == "1"
    snapshot = json.loads(row.snapshot)
    assert snapshot["report"] == build_report(demo_db, GRANT, Q2).to_json()
    assert {c["code"] for c in snapshot["checks"]} >= {"SPEND_UNASSIGNED"}

    with demo_db.read() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.entity == "return")))
        created = session.scalar(select(AuditEvent).where(AuditEvent.entity == "submission"))
    assert [(e.action, e.label) for e in events] == [("submit", f"{GRANT} 2025/26-Q2 v1")]
    assert created is not None and "snapshot" not in json.loads(created.changes)


def test_submitting_again_without_reopening_is_refused(
    demo_db: Database, url: str, tmp_path: Path, capsys: Capsys
) -> None:
    _submit(capsys, url, tmp_path / "q2.xlsx")
    again = run_cli(
        capsys, url, "export-return", *PERIOD, "--out", str(tmp_path / "again.xlsx"), "--submit"
    )
    assert again.code == 1 and "already submitted" in again.err
    assert "submitting anyway" not in again.out
    assert len(_submissions(demo_db)) == 1 and not (tmp_path / "again.xlsx").exists()


def test_a_failed_write_records_no_submission(
    demo_db: Database, url: str, tmp_path: Path, capsys: Capsys
) -> None:
    result = run_cli(capsys, url, "export-return", *PERIOD, "--out", str(tmp_path), "--submit")
    assert result.code == 2 and "folder" in result.err
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    result = run_cli(
        capsys, url, "export-return", *PERIOD, "--out", str(blocked / "q2.xlsx"), "--submit"
    )
    assert result.code == 2 and "cannot write" in result.err
    assert _submissions(demo_db) == []


def test_the_lock_holds_on_every_cli_path(
    demo_db: Database, url: str, tmp_path: Path, capsys: Capsys
) -> None:
    _submit(capsys, url, tmp_path / "q2.xlsx")
    before = _line_count(demo_db)
    refused = [
        run_cli(capsys, url, "spend", "update", "1", "--net", "1.00"),
        run_cli(capsys, url, "spend", "delete", "1"),
        run_cli(capsys, url, "narrative", "set", *PERIOD, "--allocation", "A01", "--rag", "G"),
    ]
    for result in refused:
        assert result.code == 1, result.out
        assert "2025/26-Q2" in result.err and "reopen" in result.err
    assert _line_count(demo_db) == before
    # Issue 13: a line dated inside the submitted period is no longer refused: it is a late
    # line, counted in the first open period, Q3, and the submitted figures stay as they were.
    late = run_cli(
        capsys, url, "spend", "add", "--grant", GRANT, "--date", "2025-09-30", "--net", "5",
        "--allocation", "A01",
    )  # fmt: skip
    assert late.code == 0 and "counted in 2025/26-Q3" in late.err
    moved_id = _q3_line(demo_db)
    moved = run_cli(capsys, url, "spend", "update", str(moved_id), "--date", "2025-09-01")
    assert moved.code == 0, moved.err
    assert str(spend.get_spend(demo_db, moved_id).counted_on) == "2025-10-01"
    assert _line_count(demo_db) == before + 1
    assert spend.get_spend(demo_db, 1).net != Decimal("1.00")
    # after the period end, work goes on
    later = run_cli(
        capsys,
        url,
        "spend",
        "add",
        "--grant",
        GRANT,
        "--date",
        "2025-10-01",
        "--net",
        "5",
        "--allocation",
        "A01",
    )
    assert later.code == 0
    ok = run_cli(
        capsys,
        url,
        "narrative",
        "set",
        "--grant",
        GRANT,
        "--period",
        "2025/26-Q3",
        "--allocation",
        "A01",
        "--rag",
        "G",
    )
    assert ok.code == 0


def _q3_line(db: Database) -> int:
    return next(line.id for line in spend.list_spend(db, GRANT, Period.parse("2025/26-Q3")))


def test_the_lock_holds_in_the_services(demo_db: Database, tmp_path: Path) -> None:
    submission.export_return(demo_db, GRANT, Q2, tmp_path / "q2.xlsx", submit=True)
    q3 = _q3_line(demo_db)
    attempts = [
        lambda: spend.update_spend(demo_db, 1, {"supplier": "Changed"}),
        lambda: spend.delete_spend(demo_db, 1),
        lambda: spend.split_spend(demo_db, 1, [("A01", Decimal("0.01")), (None, Decimal("0"))]),
        lambda: spend.assign_spend(demo_db, [1, q3], "A02"),
        lambda: narratives.set_narrative(demo_db, GRANT, Q2, "A01", {"outputs": "x"}),
    ]
    for attempt in attempts:
        with pytest.raises(LockedError, match="2025/26-Q2"):
            attempt()
    assert spend.get_spend(demo_db, 1).supplier != "Changed"
    assert spend.get_spend(demo_db, q3).allocation is not None
    # Issue 13: dating a line inside the submitted period makes it a late line, counted in
    # the first open period (Q3 starts 01/10/2025); it stays editable until Q3 is submitted.
    late = spend.add_spend(demo_db, GRANT, {"date": "01/04/2025", "net": "1"})
    assert (str(late.date), str(late.counted_on)) == ("2025-04-01", "2025-10-01")
    assert spend.late_note(late) == (
        f"line {late.id} is dated 01/04/2025, in 2025/26-Q1, whose return has been "
        "submitted: it is a late line, counted in 2025/26-Q3"
    )
    moved = spend.update_spend(demo_db, q3, {"date": "2025-09-30"})
    assert str(moved.counted_on) == "2025-10-01"
    assert spend.update_spend(demo_db, late.id, {"net": "2"}).net == Decimal("2.00")


def test_the_lock_holds_for_grant_imports(
    demo_db: Database, url: str, tmp_path: Path, capsys: Capsys
) -> None:
    _submit(capsys, url, tmp_path / "q2.xlsx")
    original = tmp_path / "grant.toml"
    assert run_cli(capsys, url, "grant", "export", GRANT, "-o", str(original)).code == 0
    text = original.read_text()
    assert run_cli(capsys, url, "grant", "import", str(original)).code == 0  # unchanged: fine
    budget = tmp_path / "budget.toml"
    budget.write_text(text.replace('budget = "8000.00"', 'budget = "8100.00"', 1))
    weights = tmp_path / "weights.toml"
    weights.write_text(text.replace("P1 = 60\nP2 = 40", "P1 = 50\nP2 = 50", 1))
    assert budget.read_text() != text and weights.read_text() != text
    for changed, what in ((budget, "budget"), (weights, "weights")):
        result = run_cli(capsys, url, "grant", "import", str(changed))
        assert result.code == 1 and what in result.err and "2025/26-Q2" in result.err
    assert build_report(demo_db, GRANT, Q2).allocation("A01").budget == Decimal("8000.00")


def test_the_lock_holds_for_the_ledger_importer_and_its_undo(
    demo_db: Database, url: str, tmp_path: Path, capsys: Capsys
) -> None:
    early = ledger(tmp_path / "early.csv", ["14/09/2025", "Early Ltd", "Invoice", "E1", "20", "0"])
    late = ledger(tmp_path / "late.csv", ["15/09/2025", "Late Ltd", "Invoice", "LATE1", "75", "0"])
    batch = import_json(capsys, url, early)[1]["batch"]
    _submit(capsys, url, tmp_path / "q2.xlsx")
    before = _line_count(demo_db)
    # Issue 13: a line dated inside the submitted Q2 is imported as a late line, counted in
    # Q3; the batch holding it can be undone (it is counted in an open period)...
    late_batch = import_json(capsys, url, late)[1]["batch"]
    assert _line_count(demo_db) == before + 1
    [line] = [ln for ln in spend.list_spend(demo_db, GRANT) if ln.reference == "LATE1"]
    assert (str(line.date), str(line.counted_on)) == ("2025-09-15", "2025-10-01")
    assert run_cli(capsys, url, "import", "undo", str(late_batch)).code == 0
    # ...but the batch counted in Q2 cannot, until Q2 is reopened.
    undo = run_cli(capsys, url, "import", "undo", str(batch))
    assert undo.code == 1 and "2025/26-Q2" in undo.err
    assert _line_count(demo_db) == before
    run_cli(capsys, url, "return", "reopen", *PERIOD, "--reason", "late invoice")
    assert run_cli(capsys, url, "import", "undo", str(batch)).code == 0
    assert _line_count(demo_db) == before - 1


def test_reopen_lifts_the_lock_and_resubmitting_makes_version_2(
    demo_db: Database, url: str, tmp_path: Path, capsys: Capsys
) -> None:
    _submit(capsys, url, tmp_path / "v1.xlsx")
    no_reason = run_cli(capsys, url, "return", "reopen", *PERIOD, "--reason", "  ")
    assert no_reason.code == 1 and "reason" in no_reason.err
    reopened = run_cli(capsys, url, "return", "reopen", *PERIOD, "--reason", "late invoice")
    assert reopened.code == 0, reopened.err
    again = run_cli(capsys, url, "return", "reopen", *PERIOD, "--reason", "twice")
    assert again.code == 1 and "no submitted return" in again.err
    added = run_cli(
        capsys,
        url,
        "spend",
        "add",
        "--grant",
        GRANT,
        "--date",
        "2025-09-30",
        "--net",
        "250.00",
        "--allocation",
        "A01",
    )
    assert added.code == 0, added.err
    _submit(capsys, url, tmp_path / "v2.xlsx")

    v1, v2 = _submissions(demo_db)
    assert (v1.version_number, v2.version_number) == (1, 2)
    assert v1.reopen_reason == "late invoice" and v1.reopened_at is not None
    assert v2.reopened_at is None and v1.checksum != v2.checksum
    spent = [
        Decimal(json.loads(s.snapshot)["report"]["summary"]["spend_to_date"]) for s in (v1, v2)
    ]
    assert spent[1] - spent[0] == Decimal("250.00")  # version 1 kept as it was
    listing = run_cli(capsys, url, "return", "list", "--grant", GRANT, "--format", "json").json()
    assert [(r["version"], r["status"], r["reopen_reason"]) for r in listing] == [
        (1, "reopened", "late invoice"),
        (2, "submitted", None),
    ]
    with demo_db.read() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.entity == "return")))
    assert [(e.action, e.reason) for e in events] == [
        ("submit", "return 2025/26-Q2 submitted"),
        ("reopen", "late invoice"),
        ("submit", "return 2025/26-Q2 submitted"),
    ]


def test_re_export_reproduces_the_snapshot_and_submitted_changed_fires(
    demo_db: Database, url: str, tmp_path: Path, capsys: Capsys
) -> None:
    _submit(capsys, url, tmp_path / "submitted.xlsx")
    (row,) = _submissions(demo_db)
    submitted = json.loads(row.snapshot)["report"]
    clean = run_cli(capsys, url, "check", *PERIOD, "--format", "json")
    assert "SUBMITTED_CHANGED" not in {f["code"] for f in clean.json()}

    # The award is not locked; changing it changes the submitted figures.
    exported = tmp_path / "grant.toml"
    run_cli(capsys, url, "grant", "export", GRANT, "-o", str(exported))
    exported.write_text(exported.read_text().replace('award = "42000.00"', 'award = "45000.00"'))
    assert run_cli(capsys, url, "grant", "import", str(exported)).code == 0
    assert build_report(demo_db, GRANT, Q2).summary.award == Decimal("45000.00")

    again = tmp_path / "again.xlsx"
    result = run_cli(capsys, url, "export-return", *PERIOD, "--out", str(again))
    assert result.code == 0 and "submitted figures" in result.out
    summary = _summary(again)
    assert Decimal(str(summary["Award"])) == Decimal("42000.00")
    assert summary["Status"] == "Submitted" and summary["Checksum"] == row.checksum
    read_back = read_return(again)
    for key in ("summary", "unassigned", "priorities"):
        expected = submitted[key]
        if key == "unassigned":
            expected = {k: expected[k] for k in ("spend_to_date", "committed")}
        assert read_back[key] == expected, key

    checked = run_cli(capsys, url, "check", *PERIOD, "--format", "json")
    assert checked.code == 1
    (finding,) = [f for f in checked.json() if f["code"] == "SUBMITTED_CHANGED"]
    assert finding["severity"] == "error" and finding["subject"] == GRANT
    assert "2025/26-Q2 (version 1" in finding["message"]
    assert "summary award was £42,000.00, is now £45,000.00" in finding["message"]
    # it fires whatever period is being checked, and stops once the return is reopened
    q3 = run_checks(demo_db, GRANT, Period.parse("2025/26-Q3"))
    assert "SUBMITTED_CHANGED" in {f.code for f in q3}
    submission.reopen_return(demo_db, GRANT, Q2, "award raised")
    assert "SUBMITTED_CHANGED" not in {f.code for f in run_checks(demo_db, GRANT, Q2)}


def test_narratives_set_rag_outputs_forecast_and_are_audited(
    demo_db: Database, url: str, capsys: Capsys
) -> None:
    result = run_cli(
        capsys,
        url,
        "narrative",
        "set",
        *PERIOD,
        "--allocation",
        "A03",
        "--rag",
        "r",
        "--outputs=-40 sessions",
        "--variance-explanation",
        "Venue closed",
        "--forecast",
        "7000",
    )
    assert result.code == 0, result.err
    report = build_report(demo_db, GRANT, Q2)
    assert report.allocation("A03").forecast_outturn == Decimal("7000.00")
    cleared = run_cli(
        capsys,
        url,
        "narrative",
        "set",
        *PERIOD,
        "--allocation",
        "A03",
        "--forecast",
        "",
        "--rag",
        "",
    )
    assert cleared.code == 0
    (row,) = narratives.get_narratives(demo_db, GRANT, Q2).values()
    assert (row.rag, row.forecast, row.outputs) == (None, None, "-40 sessions")
    for bad in (("--rag", "X"), ("--forecast", "12.345")):
        refused = run_cli(capsys, url, "narrative", "set", *PERIOD, "--allocation", "A03", *bad)
        assert refused.code == 1
    unknown = run_cli(capsys, url, "narrative", "set", *PERIOD, "--allocation", "ZZ", "--rag", "G")
    assert unknown.code == 1 and "ZZ" in unknown.err
    with demo_db.read() as session:
        audited = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "narrative")
        )
        assert session.scalar(select(func.count()).select_from(Narrative)) == 1
    assert audited == 2


def test_computed_rag_thresholds() -> None:
    from fundtracker.returns.narratives import computed_rag

    budget = Decimal("1000.00")
    assert computed_rag(budget, Decimal("50.00")) == "G"
    assert computed_rag(budget, Decimal("-50.01")) == "A"
    assert computed_rag(budget, Decimal("150.00")) == "A"
    assert computed_rag(budget, Decimal("-150.01")) == "R"
    assert computed_rag(Decimal("0.00"), Decimal("0.00")) == "G"


def test_submitted_changed_when_the_period_is_no_longer_in_the_grant(
    demo_db: Database, tmp_path: Path
) -> None:
    submission.export_return(demo_db, GRANT, Q2, tmp_path / "q2.xlsx", submit=True)
    with demo_db.engine.begin() as connection:  # as a later edit of the grant's dates would
        connection.execute(text("UPDATE grants SET start_date = '2025-10-01'"))
    found = [
        f
        for f in run_checks(demo_db, GRANT, Period.parse("2025/26-Q3"))
        if f.code == "SUBMITTED_CHANGED"
    ]
    assert len(found) == 1 and "outside grant" in found[0].message
