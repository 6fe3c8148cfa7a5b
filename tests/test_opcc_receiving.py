"""Receiving partnerships' returns at the OPCC (issue 16): verified, stored, superseded, refused.

The partnership's returns are made once per module by the real export code, in a partnership
database of their own (the main grant of tests/figure_scenarios.py); each test receives them
into a fresh OPCC database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from fundtracker.models import AuditEvent, ReceivedReturn
from fundtracker.opcc.operations import ReceiveReturns
from fundtracker.operations import run_operation, undo
from fundtracker.periods import Period
from fundtracker.returns import submission
from fundtracker.returns.snapshot import checksum
from fundtracker.storage import Database, open_database
from tests.figure_scenarios import add_line, main_grant
from tests.helpers import run_cli

Q2 = Period.parse("2025/26-Q2")


@dataclass(frozen=True)
class Returns:
    v1: Path
    v2: Path
    draft: Path
    v1_checksum: str
    v2_checksum: str


@pytest.fixture(scope="module")
def returns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Returns]:
    folder = tmp_path_factory.mktemp("partnership")
    partnership = open_database(str(folder / "csp.sqlite3"))
    main_grant(partnership)
    draft = folder / "draft.xlsx"
    submission.export_return(partnership, "T-1", Q2, draft, prepared_by="Jo")
    v1 = submission.export_return(
        partnership, "T-1", Q2, folder / "v1.xlsx", prepared_by="Jo", submit=True
    )
    submission.reopen_return(partnership, "T-1", Q2, "a late invoice")
    add_line(partnership, "T-1", date(2025, 9, 15), "25.00", "B")  # v2 spends £25.00 more
    v2 = submission.export_return(
        partnership, "T-1", Q2, folder / "v2.xlsx", prepared_by="Jo", submit=True
    )
    partnership.dispose()
    yield Returns(folder / "v1.xlsx", folder / "v2.xlsx", draft, v1.checksum, v2.checksum)


def received(db: Database) -> list[ReceivedReturn]:
    with db.read() as session:
        return list(session.scalars(select(ReceivedReturn).order_by(ReceivedReturn.id)))


def receive(db: Database, *paths: Path) -> list[dict[str, object]]:
    outcomes = run_operation(db, ReceiveReturns(tuple(str(p) for p in paths))).result
    return [o.to_json() for o in outcomes]


def test_a_submitted_return_is_verified_and_stored_with_its_snapshot(
    db: Database, returns: Returns
) -> None:
    [outcome] = receive(db, returns.v1)
    assert outcome == {
        "file": "v1.xlsx",
        "status": "added",
        "recipient": "CSP",
        "grant_reference": "T-1",
        "period": "2025/26-Q2",
        "version": 1,
        "reason": "",
    }
    [row] = received(db)
    assert (row.grant_reference, row.period, row.version_number, row.status) == (
        "T-1",
        "2025/26-Q2",
        1,
        "current",
    )
    assert row.prepared_by == "Jo"
    assert row.file_sha256 == hashlib.sha256(returns.v1.read_bytes()).hexdigest()
    # The stored snapshot is exactly the text the partnership's checksum covers.
    assert row.checksum == returns.v1_checksum
    assert hashlib.sha256(row.snapshot.encode("utf-8")).hexdigest() == returns.v1_checksum
    with db.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "received return")
        ).all()
    assert [(e.action, e.label) for e in events] == [("create", "received T-1 2025/26-Q2 v1")]


def test_the_same_file_or_the_same_return_saved_again_adds_nothing(
    db: Database, returns: Returns, tmp_path: Path
) -> None:
    receive(db, returns.v1)
    resaved = tmp_path / "v1 saved again.xlsx"  # opened and saved: other bytes, same return
    book = load_workbook(returns.v1)
    book.save(resaved)
    outcomes = receive(db, returns.v1, resaved)
    assert [o["status"] for o in outcomes] == ["already", "already"]
    assert "already received from v1.xlsx" in str(outcomes[0]["reason"])
    assert len(received(db)) == 1


def test_a_newer_version_supersedes_the_older_and_both_are_kept(
    db: Database, returns: Returns
) -> None:
    receive(db, returns.v1)
    [outcome] = receive(db, returns.v2)
    assert (outcome["status"], outcome["version"], outcome["reason"]) == (
        "superseded",
        2,
        "supersedes version 1",
    )
    v1, v2 = received(db)
    assert (v1.version_number, v1.status, v1.superseded_by_id) == (1, "superseded", v2.id)
    assert (v2.version_number, v2.status, v2.superseded_by_id) == (2, "current", None)
    assert v2.checksum == returns.v2_checksum != returns.v1_checksum


def test_an_older_version_arriving_late_is_kept_superseded(db: Database, returns: Returns) -> None:
    receive(db, returns.v2)
    [outcome] = receive(db, returns.v1)
    assert outcome["status"] == "added"
    assert outcome["reason"] == "kept as superseded: version 2 was received before"
    v2, v1 = received(db)
    assert (v1.status, v1.superseded_by_id, v2.status) == ("superseded", v2.id, "current")


def alter_summary(source: Path, target: Path, label: str, by: Decimal) -> None:
    """Change one Summary figure by hand, as someone editing the workbook in Excel would."""
    book = load_workbook(source)
    for label_cell, value_cell in book["Summary"].iter_rows(min_col=1, max_col=2):
        if label_cell.value == label:
            value_cell.value = float(Decimal(str(value_cell.value)) + by)
    book.save(target)


def test_an_altered_workbook_is_refused_naming_the_figure_and_the_rest_added(
    db: Database, returns: Returns, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    altered = tmp_path / "altered.xlsx"
    # v1's spend to date is £958.00 (tests/test_figures.py works it out by hand); +£10.00.
    alter_summary(returns.v1, altered, "Spend to date", Decimal("10.00"))
    result = run_cli(
        capsys, str(db.url), "received", "add", str(altered), str(returns.v2), "--format", "json"
    )
    assert result.code == 1
    refused, added = result.json()
    assert refused["status"] == "refused"
    assert refused["reason"] == (
        "altered.xlsx was altered after export: Summary Spend to date reads £968.00 but the "
        "return as exported says £958.00"
    )
    assert added["status"] == "added" and added["version"] == 2
    assert [r.version_number for r in received(db)] == [2]


def test_a_project_figure_altered_is_named_by_its_project(
    db: Database, returns: Returns, tmp_path: Path
) -> None:
    book = load_workbook(returns.v1)
    sheet = book["Projects"]
    header = [c.value for c in sheet[3]]
    column = header.index("Committed") + 1
    assert sheet.cell(4, 1).value == "A"
    sheet.cell(4, column).value = 0  # project A's £200.00 commitment hidden
    book.save(tmp_path / "hidden.xlsx")
    [outcome] = receive(db, tmp_path / "hidden.xlsx")
    assert outcome["status"] == "refused"
    assert str(outcome["reason"]).endswith(
        "Projects A Committed reads £0.00 but the return as exported says £200.00"
    )
    assert received(db) == []


def test_a_snapshot_edited_to_match_is_refused_by_its_checksum(
    db: Database, returns: Returns, tmp_path: Path
) -> None:
    book = load_workbook(returns.v1)
    sheet = book["Snapshot"]
    sheet["A1"].value = str(sheet["A1"].value).replace('"format"', '"formats"', 1)
    book.save(tmp_path / "forged.xlsx")
    [outcome] = receive(db, tmp_path / "forged.xlsx")
    assert outcome["status"] == "refused"
    assert "its snapshot no longer matches the checksum" in str(outcome["reason"])


def test_files_that_are_not_returns_are_refused_plainly(
    db: Database, returns: Returns, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.xlsx").write_text("not a workbook at all")
    book = Workbook()
    book.active.title = "Budget"
    book.save(tmp_path / "budget.xlsx")
    result = run_cli(
        capsys,
        str(db.url),
        "received",
        "add",
        str(tmp_path / "notes.xlsx"),
        str(tmp_path / "budget.xlsx"),
        str(returns.draft),
    )
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].startswith("notes.xlsx: refused: not a monitoring return: notes.xlsx cannot")
    assert lines[1].startswith("budget.xlsx: refused: not a monitoring return: budget.xlsx is not")
    assert "draft.xlsx is a draft (Draft), not a submitted return" in lines[2]
    assert received(db) == []


def test_receiving_is_one_step_undone_and_redone(db: Database, returns: Returns) -> None:
    done = run_operation(db, ReceiveReturns((str(returns.v1), str(returns.v2))))
    assert [o.status for o in done.result] == ["added", "superseded"]
    undone = undo(db, done)
    assert received(db) == []
    undo(db, undone, "redo")
    v1, v2 = received(db)
    assert (v1.status, v1.superseded_by_id, v2.status) == ("superseded", v2.id, "current")
    assert checksum_of(v2) == returns.v2_checksum


def checksum_of(row: ReceivedReturn) -> str:
    return checksum(json.loads(row.snapshot))


def test_undo_puts_back_the_version_a_return_superseded(db: Database, returns: Returns) -> None:
    receive(db, returns.v1)
    done = run_operation(db, ReceiveReturns((str(returns.v2),)))
    undo(db, done)
    [v1] = received(db)
    assert (v1.status, v1.superseded_by_id) == ("current", None)


def test_received_list(db: Database, returns: Returns, capsys: pytest.CaptureFixture[str]) -> None:
    receive(db, returns.v1, returns.v2)
    result = run_cli(capsys, str(db.url), "received", "list", "--format", "json")
    assert [(r["version"], r["status"]) for r in result.json()] == [
        (2, "current"),
        (1, "superseded"),
    ]
    assert result.json()[0]["checksum"] == returns.v2_checksum
    table = run_cli(capsys, str(db.url), "received", "list")
    assert "T-1" in table.out and "superseded" in table.out


def test_a_transaction_altered_is_named_by_its_line(
    db: Database, returns: Returns, tmp_path: Path
) -> None:
    book = load_workbook(returns.v1)
    sheet = book["Transactions"]
    header = [c.value for c in sheet[3]]
    net, line_id = header.index("Net") + 1, header.index("Line id") + 1
    # The first line counted (by date) is line 1, £500.00 on A dated 10/04/2025
    # (tests/figure_scenarios.py): made to read £5,000.00, the figures left alone.
    assert (sheet.cell(4, line_id).value, sheet.cell(4, net).value) == (1, 500)
    sheet.cell(4, net).value = 5000
    book.save(tmp_path / "line.xlsx")
    [outcome] = receive(db, tmp_path / "line.xlsx")
    assert outcome["status"] == "refused"
    assert outcome["reason"] == (
        "line.xlsx was altered after export: Transactions line 1 Net reads £5,000.00 but the "
        "return as exported says £500.00"
    )
    # A line removed from the sheet is counted. v1 lists 8 lines: 1, 2, 3, 4, 6, 7, 8 and 9
    # (5 is dated after Q2; 10 and 11 fall outside the grant).
    book = load_workbook(returns.v1)
    book["Transactions"].delete_rows(5)
    book.save(tmp_path / "fewer.xlsx")
    [fewer] = receive(db, tmp_path / "fewer.xlsx")
    assert str(fewer["reason"]).endswith(
        "the Transactions sheet lists 7 lines but the return as exported has 8"
    )
    assert received(db) == []
