"""Receiving the returns submitted in the OPCC's own database (issue 16): partnerships on one
shared server need not send workbooks. What is received is each standing submission's snapshot
(the document its checksum covers, as a workbook's Snapshot sheet carries it), so the county
figures are those of the same returns received as workbooks, to the penny.

Four partnerships' grants live in the test's database (SQLite or PostgreSQL), built from
tests/test_opcc_county.py's templates: grant i (CRG-01 … CRG-04, recipient "CSP 0i") has an
award of £(10,000 + 1,000 × i) — £11,000, £12,000, £13,000, £14,000 —, one project A
budgeted at the award, weighted P1 60% / P2 40% on pcc-2025, and one paid August line on A:
- CRG-01: £1,000.00; its Q2 v1 is reopened, £250.00 more spent, and v2 submitted: £1,250.00;
- CRG-02: £2,000.00 and an unassigned £123.45 (spend £2,123.45); its Q1 is submitted too;
- CRG-03: £3,000.00, aligned to the older plan pcc-2024 (P1 100%);
- CRG-04: £15,000.00, overspent against its £14,000.00.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from fundtracker.models import AuditEvent, ReceivedReturn, Submission
from fundtracker.opcc.county import county_figures
from fundtracker.opcc.operations import ReceiveReturns, ReceiveSubmitted
from fundtracker.opcc.receiving import IN_THIS_DATABASE
from fundtracker.operations import run_operation, undo
from fundtracker.periods import Period
from fundtracker.returns import submission
from fundtracker.services import plans
from fundtracker.setup_files import read_plan
from fundtracker.storage import Database, open_database
from tests.figure_scenarios import add_line, load_grant_toml
from tests.helpers import run_cli
from tests.test_opcc_county import GRANT, ON_TIME, PLAN, Q2, award_of

Q1 = Period.parse("2025/26-Q1")
SPEND = {1: "1000.00", 2: "2000.00", 3: "3000.00", 4: "15000.00"}


@dataclass(frozen=True)
class Partnerships:
    files: list[Path]  # every Q2 workbook the partnerships submitted, CRG-01's v1 and v2 first


def submit(db: Database, reference: str, period: Period, out: Path) -> Path:
    submission.export_return(db, reference, period, out, prepared_by="Jo", submit=True)
    return out


@pytest.fixture
def partnerships(db: Database, tmp_path: Path) -> Partnerships:
    for key, year in (("pcc-2024", 2024), ("pcc-2025", 2025)):
        plans.import_plan(db, read_plan(tomllib.loads(PLAN.format(key=key, year=year))))
    for i, amount in SPEND.items():
        older = i == 3
        weights = "pcc-2024 = { P1 = 100 }" if older else "pcc-2025 = { P1 = 60, P2 = 40 }"
        plan = "pcc-2024" if older else "pcc-2025"
        load_grant_toml(db, GRANT.format(i=i, award=award_of(i), plan=plan, weights=weights))
        add_line(db, f"CRG-{i:02d}", date(2025, 8, 15), amount, "A")
    add_line(db, "CRG-02", date(2025, 9, 1), "123.45")  # unassigned
    submit(db, "CRG-02", Q1, tmp_path / "CRG-02 Q1.xlsx")
    v1 = submit(db, "CRG-01", Q2, tmp_path / "CRG-01 Q2.xlsx")
    submission.reopen_return(db, "CRG-01", Q2, "an invoice was missed")
    add_line(db, "CRG-01", date(2025, 9, 20), "250.00", "A")
    files = [v1, *(submit(db, f"CRG-{i:02d}", Q2, tmp_path / f"CRG-{i:02d} v.xlsx") for i in SPEND)]
    return Partnerships(files)


def without_files(figures: dict[str, Any]) -> dict[str, Any]:
    """The county figures but the file each return came in (a workbook, or this database)."""
    partnerships = [
        {k: v for k, v in p.items() if k not in ("file", "file_sha256")}
        for p in figures["partnerships"]
    ]
    return {**figures, "partnerships": partnerships}


def test_county_figures_from_the_database_equal_those_from_the_workbooks(
    db: Database, partnerships: Partnerships, tmp_path: Path
) -> None:
    done = run_operation(db, ReceiveSubmitted(str(Q2), ON_TIME)).result
    # CRG-01's v1 was reopened: only its standing v2 is taken; CRG-02's Q1 is another period.
    assert [(o.file, o.status, o.grant_reference, o.version) for o in done] == [
        (IN_THIS_DATABASE, "added", "CRG-01", 2),
        (IN_THIS_DATABASE, "added", "CRG-02", 1),
        (IN_THIS_DATABASE, "added", "CRG-03", 1),
        (IN_THIS_DATABASE, "added", "CRG-04", 1),
    ]
    opcc = open_database(str(tmp_path / "opcc.sqlite3"))  # an OPCC sent the workbooks
    sent = run_operation(opcc, ReceiveReturns(tuple(map(str, partnerships.files)), ON_TIME))
    assert [o.status for o in sent.result] == ["added", "superseded", "added", "added", "added"]
    from_database = county_figures(db, Q2)
    from_workbooks = county_figures(opcc, Q2)
    opcc.dispose()
    assert without_files(from_database) == without_files(from_workbooks)
    # Spend 1,250.00 + 2,123.45 + 3,000.00 + 15,000.00 = 21,373.45 of awards 50,000.00.
    # Forecasts (spend + award / 2 while under half the award, else max(spend, award)):
    #   6,750.00 + 8,123.45 + 9,500.00 + 15,000.00 = 39,373.45. Underspends 4,250.00
    #   + 3,876.55 + 3,500.00 = 11,626.55; CRG-04's overspend 15,000 − 14,000 = 1,000.00.
    totals = from_database["totals"]
    assert (totals["award"], totals["spend_to_date"], totals["unassigned"]) == (
        "50000.00",
        "21373.45",
        "123.45",
    )
    assert (totals["forecast_outturn"], totals["projected_underspend"]) == (
        "39373.45",
        "11626.55",
    )
    assert totals["projected_overspend"] == "1000.00"
    # pcc-2025 (CRG-01, 02, 04): A's spend 1,250 + 2,000 + 15,000 = 18,250.00, P1 60% =
    # 10,950.00, P2 40% = 7,300.00; budgets 37,000.00: 22,200.00 and 14,800.00. Unaligned:
    # the unassigned 123.45 + CRG-03's 3,000.00 (another plan), budget CRG-03's 13,000.00.
    assert [(p["code"], p["budget"], p["spend_to_date"]) for p in from_database["priorities"]] == [
        ("P1", "22200.00", "10950.00"),
        ("P2", "14800.00", "7300.00"),
        (None, "13000.00", "3123.45"),
    ]
    # Traceable: a return from this database is known by its checksum, its "file" SHA-256.
    [crg01] = [p for p in from_database["partnerships"] if p["grant_reference"] == "CRG-01"]
    assert crg01["file"] == IN_THIS_DATABASE and crg01["file_sha256"] == crg01["checksum"]
    # Their workbooks, sent as well, are the same returns: already received. CRG-01's v1,
    # never received from the database (it was reopened), is kept behind v2.
    also_sent = run_operation(db, ReceiveReturns(tuple(map(str, partnerships.files)))).result
    assert [(o.status, o.reason.rsplit(" on ", 1)[0]) for o in also_sent] == [
        ("added", "kept as superseded: version 2 was received before"),
        *[("already", "already received from this database")] * 4,
    ]


def received(db: Database) -> list[tuple[str, str, int, str]]:
    with db.read() as session:
        rows = session.scalars(select(ReceivedReturn).order_by(ReceivedReturn.id))
        return [(r.grant_reference, r.period, r.version_number, r.status) for r in rows]


def crg04_checksum(db: Database) -> str:
    [q2] = [s for s in submission.list_returns(db, "CRG-04") if s.period == str(Q2)]
    return q2.checksum


def test_received_as_a_workbook_would_be_superseding_audited_and_undone_as_one_batch(
    db: Database, partnerships: Partnerships
) -> None:
    run_operation(db, ReceiveReturns((str(partnerships.files[0]),)))  # CRG-01 v1, a workbook
    batch = run_operation(db, ReceiveSubmitted(str(Q2)))
    assert [(o.grant_reference, o.status, o.reason) for o in batch.result] == [
        ("CRG-01", "superseded", "supersedes version 1"),
        ("CRG-02", "added", ""),
        ("CRG-03", "added", ""),
        ("CRG-04", "added", ""),
    ]
    with db.read() as session:
        submitted_at = session.scalar(
            select(Submission.submitted_at).where(Submission.checksum == crg04_checksum(db))
        )
        received_at = session.scalar(
            select(ReceivedReturn.received_at).where(ReceivedReturn.grant_reference == "CRG-04")
        )
        labels = session.scalars(
            select(AuditEvent.label).where(AuditEvent.entity == "received return")
        ).all()
    # Received when it was submitted: the OPCC could see it from then (for RETURN_LATE).
    assert received_at == submitted_at
    assert "received CRG-04 2025/26-Q2 v1" in labels
    again = run_operation(db, ReceiveSubmitted(str(Q2)))
    assert {o.status for o in again.result} == {"already"} and again.inverse is None
    undo(db, batch)  # CRG-01's v1 is current again, the batch's four are gone
    assert received(db) == [("CRG-01", "2025/26-Q2", 1, "current")]
    everything = run_operation(db, ReceiveSubmitted()).result  # every period: Q1 too
    assert [(o.grant_reference, o.period) for o in everything][:2] == [
        ("CRG-01", "2025/26-Q2"),
        ("CRG-02", "2025/26-Q1"),
    ]
    assert len(everything) == 5


def test_received_add_from_database_on_the_command_line(
    db: Database, partnerships: Partnerships, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(db.url)
    # A figure changed in the database behind Fundtracker's back: CRG-03's spend to date.
    with db.unit_of_work() as session:
        changed = session.execute(
            update(Submission)
            .where(Submission.snapshot.contains('"grant":"CRG-03"'))
            .values(
                snapshot=func.replace(
                    Submission.snapshot, '"spend_to_date":"3000.00"', '"spend_to_date":"2500.00"'
                )
            )
        )
        assert changed.rowcount == 1
    result = run_cli(capsys, url, "received", "add", "--from-database", "--period", str(Q2))
    assert result.code == 1  # the others are received
    lines = result.out.splitlines()
    assert lines[0] == "submitted in this database: added (CSP 01 CRG-01 2025/26-Q2 v2)"
    assert lines[2].startswith(
        "submitted in this database: refused (CSP 03 CRG-03 2025/26-Q2 v1): CRG-03 2025/26-Q2 "
        "v1 was altered after submission: its snapshot no longer matches its checksum "
    )
    assert [r[:3] for r in received(db)] == [
        ("CRG-01", "2025/26-Q2", 2),
        ("CRG-02", "2025/26-Q2", 1),
        ("CRG-04", "2025/26-Q2", 1),
    ]
    json_result = run_cli(capsys, url, "received", "add", "--from-database", "--format", "json")
    assert [(e["grant_reference"], e["period"], e["status"]) for e in json_result.json()] == [
        ("CRG-01", "2025/26-Q2", "already"),
        ("CRG-02", "2025/26-Q1", "added"),
        ("CRG-02", "2025/26-Q2", "already"),
        ("CRG-03", "2025/26-Q2", "refused"),
        ("CRG-04", "2025/26-Q2", "already"),
    ]
    none = run_cli(capsys, url, "received", "add", "--from-database", "--period", "2025/26-Q4")
    assert (none.code, none.out) == (
        0,
        "no 2025/26-Q4 returns stand submitted in this database: nothing received\n",
    )
    for wrong in (["x.xlsx", "--from-database"], [], ["x.xlsx", "--period", str(Q2)]):
        assert run_cli(capsys, url, "received", "add", *wrong).code == 2
