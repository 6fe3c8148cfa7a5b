"""Receiving a return filled into the funder's own template (issue 16 with issue 15's map):
the demo year's Q2 return submitted through the example template carries our hidden Snapshot
sheet, and the OPCC verifies it as it verifies our own workbook."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import load_workbook
from sqlalchemy import select

from fundtracker.models import ReceivedReturn
from fundtracker.opcc.operations import ReceiveReturns
from fundtracker.opcc.receiving import list_received
from fundtracker.operations import run_operation, undo
from fundtracker.returns import submission
from fundtracker.returns.snapshot import checksum
from fundtracker.returns.snapshot_sheet import read_snapshot_sheet, read_template_stamp
from fundtracker.returns.template import ReturnTemplate
from fundtracker.returns.template_package import Package
from fundtracker.storage import Database, open_database
from tests.helpers import run_cli
from tests.returns_support import GRANT, Q2

EXAMPLES = Path(str(files("resources") / "examples"))
EXAMPLE = EXAMPLES / "grant-return-template.xlsx"
EXAMPLE_MAP = EXAMPLES / "grant-return-template.toml"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@dataclass(frozen=True)
class Exported:
    template: Path  # Q2 submitted, through the funder's template
    ours: Path  # the same return in our own workbook
    draft: Path  # Q2 through the template before it was submitted
    checksum: str
    snapshot: str  # the text the checksum covers, as the partnership stored it


@pytest.fixture(scope="module")
def exported(
    tmp_path_factory: pytest.TempPathFactory, demo_year_template: str
) -> Iterator[Exported]:
    folder = tmp_path_factory.mktemp("partnership")
    target = folder / "csp.sqlite3"
    if Path(demo_year_template).is_file():
        shutil.copyfile(demo_year_template, target)
        partnership = open_database(str(target))
    else:  # the demo year is on the PostgreSQL server: load a copy here
        from fundtracker.demo import load_demo

        partnership = open_database(str(target))
        load_demo(partnership)
    funders = ReturnTemplate.load(EXAMPLE, EXAMPLE_MAP)
    draft = folder / "draft.xlsx"
    submission.export_return(partnership, GRANT, Q2, draft, writer=funders.write)
    result = submission.export_return(
        partnership, GRANT, Q2, folder / "q2.xlsx", submit=True, writer=funders.write
    )
    submission.export_return(partnership, GRANT, Q2, folder / "ours.xlsx")
    snapshot = submission.snapshot_text(partnership, GRANT, Q2)
    partnership.dispose()
    yield Exported(folder / "q2.xlsx", folder / "ours.xlsx", draft, result.checksum, snapshot)


def receive_templates(*paths: Path) -> ReceiveReturns:
    return ReceiveReturns(tuple(str(p) for p in paths), template=str(EXAMPLE), map=str(EXAMPLE_MAP))


def test_the_filled_template_carries_the_snapshot_hidden(exported: Exported) -> None:
    workbook = load_workbook(exported.template, read_only=True)
    try:
        assert workbook.sheetnames[-1] == "Snapshot"
        assert workbook["Snapshot"].sheet_state == "hidden"
        document = read_snapshot_sheet(workbook)
        stamp = read_template_stamp(workbook)
    finally:
        workbook.close()
    assert document is not None and checksum(document) == exported.checksum
    assert stamp == {"Version": "1", "Checksum": exported.checksum}
    # the draft carries none: there is no checksum to verify it against
    assert "Snapshot" not in load_workbook(exported.draft, read_only=True).sheetnames


def stored_snapshots(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(ReceivedReturn.snapshot).order_by(ReceivedReturn.id)))


def test_a_template_return_is_received_with_our_workbooks_figures(
    db: Database, exported: Exported
) -> None:
    done = run_operation(db, receive_templates(exported.template))
    [outcome] = [o.to_json() for o in done.result]
    assert outcome["status"] == "added", outcome["reason"]
    assert (outcome["file"], outcome["grant_reference"], outcome["period"]) == (
        "q2.xlsx",
        GRANT,
        str(Q2),
    )
    assert outcome["version"] == 1 and outcome["recipient"]
    [from_template] = list_received(db)
    assert from_template["checksum"] == exported.checksum
    # stored: exactly the text the partnership's checksum covers, every figure of the return
    assert stored_snapshots(db) == [exported.snapshot]
    # our own workbook of the same return is the same return: received already ...
    [again] = run_operation(db, ReceiveReturns((str(exported.ours),))).result
    assert again.status == "already"
    # ... and received instead, it stores the same return with the same figures
    undo(db, done)
    run_operation(db, ReceiveReturns((str(exported.ours),)))
    [from_ours] = list_received(db)
    assert stored_snapshots(db) == [exported.snapshot]
    per_file = {"id", "file", "file_sha256", "received_at"}
    assert {k: v for k, v in from_ours.items() if k not in per_file} == {
        k: v for k, v in from_template.items() if k not in per_file
    }


def alter_cell(source: Path, target: Path, sheet: str, ref: str, value: str) -> None:
    """A copy of ``source`` with one number changed straight in the sheet XML, as an officer
    editing the cell in Excel would leave it (the Snapshot sheet untouched)."""
    part = Package(source).sheet_parts[sheet]
    with zipfile.ZipFile(source) as before, zipfile.ZipFile(target, "w") as after:
        for name in before.namelist():
            data = before.read(name)
            if name == part:
                root = etree.fromstring(data)
                [cell] = [c for c in root.iter(f"{MAIN}c") if c.get("r") == ref]
                for child in list(cell):
                    cell.remove(child)
                cell.attrib.pop("t", None)
                etree.SubElement(cell, f"{MAIN}v").text = value
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
            after.writestr(name, data)


def test_an_altered_template_is_refused_naming_the_figure_and_the_rest_added(
    db: Database, exported: Exported, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    received = load_workbook(exported.template, read_only=True)["Return"]["C10"].value
    altered = tmp_path / "altered.xlsx"
    alter_cell(exported.template, altered, "Return", "C10", "99999")  # Received: £99,999.00
    budget = tmp_path / "budget.xlsx"
    alter_cell(exported.template, budget, "Return", "D13", "1")  # the first project's budget
    result = run_cli(
        capsys,
        db.url,
        "received",
        "add",
        str(altered),
        str(budget),
        str(exported.draft),
        str(exported.template),
        "--template",
        str(EXAMPLE),
        "--map",
        str(EXAMPLE_MAP),
        "--format",
        "json",
    )
    assert result.code == 1  # some were refused; the good one was added all the same
    entries = {e["file"]: e for e in result.json()}
    assert [entries[name]["status"] for name in entries] == ["refused"] * 3 + ["added"]
    assert entries["altered.xlsx"]["reason"] == (
        "altered.xlsx was altered after export: Return!C10 (summary.received) reads "
        f"£99,999.00 but the return as exported says £{received:,.2f}"
    )
    reason = entries["budget.xlsx"]["reason"]
    assert "altered after export: Return's project table row 13 (budget) reads £1.00" in reason
    assert entries["draft.xlsx"]["reason"] == (
        "draft.xlsx carries no snapshot to verify its checksum against: a funder's template "
        "exported before Fundtracker added its snapshot, or not from a submitted return: ask "
        "for a new export"
    )
    [row] = list_received(db)
    assert row["file"] == "q2.xlsx" and row["checksum"] == exported.checksum


def test_read_return_verifies_a_filled_template(
    db: Database, exported: Exported, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template_args = ("--template", str(EXAMPLE), "--map", str(EXAMPLE_MAP))
    good = run_cli(capsys, db.url, "read-return", str(exported.template), *template_args)
    assert good.code == 0 and f"checksum verified: {exported.checksum}" in good.out
    altered = tmp_path / "altered.xlsx"
    alter_cell(exported.template, altered, "Return", "C10", "99999")
    bad = run_cli(capsys, db.url, "read-return", str(altered), *template_args)
    assert bad.code == 1
    assert "Return!C10 (summary.received) reads £99,999.00" in bad.out
