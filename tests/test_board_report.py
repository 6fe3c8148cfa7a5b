"""The board report's figures (issue 18): taken from the return document, so they are the
return's; the submitted snapshot while the return stands; checks grouped; long narratives
shortened; the command's refusals. The PDF itself is tested in tests/ui/test_board_report.py."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from fundtracker.dates import local_date
from fundtracker.demo import GRANT_REFERENCE
from fundtracker.figures import build_report
from fundtracker.money import format_money
from fundtracker.periods import Period
from fundtracker.returns.board_report import (
    NARRATIVE_LIMIT,
    attention,
    build_board_report,
    outcome_rows,
)
from fundtracker.returns.narratives import set_narrative
from fundtracker.returns.snapshot import build_return, checksum
from fundtracker.returns.submission import export_return
from fundtracker.storage import Database
from tests.helpers import run_cli

Q3 = Period.parse("2025/26-Q3")
TODAY = date(2026, 1, 9)


def test_headlines_and_charts_are_the_returns_figures(demo_db: Database) -> None:
    board = build_board_report(demo_db, GRANT_REFERENCE, Q3, today=TODAY)
    summary = build_report(demo_db, GRANT_REFERENCE, Q3).to_json()["summary"]
    shown = {h.label: h.value for h in board.headlines}
    # The demo year at 31/12/2025 (as `fundtracker-cli report` prints it).
    assert shown == {
        "Award": "£42,000.00",
        "Received": "£28,000.00",
        "Spend to date": "£27,744.59",
        "Committed": "£6,400.00",
        "Forecast outturn": "£41,155.56",
        "Projected underspend": "£844.44",  # £42,000.00 − £41,155.56; no overspend
        "Days left": "90",  # 31/12/2025 to 31/03/2026: 31 + 28 + 31
        "Spend this period": "£9,229.44",  # Q3 (October to December)
    }
    for label, key in (("Spend to date", "spend_to_date"), ("Award", "award")):
        assert shown[label] == format_money(Decimal(summary[key]))
    # £27,744.59 / £42,000.00 = 66.06%
    assert [h.note for h in board.headlines if h.label == "Spend to date"] == ["66% of the award"]

    bars = {bar.label.split()[0]: bar for bar in board.projects.bars}
    # A02: £5,034.34 spent on a £4,500.00 budget: over by £534.34, Red.
    assert bars["A02"].over_budget and bars["A02"].rag == "R"
    assert bars["A02"].text == "£5,034.34 of £4,500.00 (112%); £534.34 over"
    # A07: £5,582.77 + £2,350.00 committed = £7,932.77 on £6,000.00: £1,932.77 over.
    assert bars["A07"].text.endswith("+ £2,350.00 committed; £1,932.77 over")
    assert not bars["A03"].over_budget and bars["A03"].rag == "G"
    # The unassigned line (£86.40) has no budget to be over: not drawn as an overspend.
    assert not bars["Unassigned"].over_budget
    assert bars["Unassigned"].text == "£86.40 spent, no budget of its own"

    pcc, local = board.priorities
    assert pcc.title == "Spend by PCC priority: Cut Crime, Support Victims, Build Trust"
    p3 = next(b for b in pcc.bars if b.label.startswith("P3"))
    assert p3.over_budget  # £5,459.55 against its £5,333.25 share
    assert local.title.startswith("Spend by local priority: Tonbridge and Malling")

    # A draft: its checksum is the return document's as it would be exported today.
    with demo_db.read() as session:
        document = build_return(demo_db, session, GRANT_REFERENCE, Q3, demo_db.os_user, TODAY)
    assert board.status == "Draft" and board.version is None
    assert board.checksum == checksum(document)
    assert board.footer == "CRG-2025-26 · 2025/26-Q3 · Draft return, not yet submitted"


def test_a_submitted_return_is_reported_from_its_snapshot(
    demo_db: Database, tmp_path: Path
) -> None:
    set_narrative(demo_db, GRANT_REFERENCE, Q3, "A01", {"outputs": "41 young people"})
    result = export_return(
        demo_db, GRANT_REFERENCE, Q3, tmp_path / "q3.xlsx", prepared_by="J Smith", submit=True
    )
    board = build_board_report(demo_db, GRANT_REFERENCE, Q3)
    assert (board.status, board.version, board.checksum) == ("Submitted", 1, result.checksum)
    assert board.prepared == f"Prepared by J Smith on {local_date():%d/%m/%Y}"  # the officer's day
    assert board.return_status == "Return submitted, version 1"
    # A01's forecast is £6,546.94 on £8,000.00: 18% under, so the return computed Red.
    assert [n.heading for n in board.narratives] == ["A01 Youth diversion programme — RAG R (Red)"]
    assert board.narratives[0].outputs == "41 young people"


def test_long_narratives_are_shortened_saying_where_the_rest_is(demo_db: Database) -> None:
    text = "word " * 400  # 2,000 characters
    set_narrative(demo_db, GRANT_REFERENCE, Q3, "A02", {"variance_explanation": text})
    (narrative,) = build_board_report(demo_db, GRANT_REFERENCE, Q3, today=TODAY).narratives
    shown = narrative.variance_explanation
    assert shown.endswith("word … (the whole text is in the return)")
    assert len(shown) <= NARRATIVE_LIMIT + len(" … (the whole text is in the return)")
    assert narrative.outputs == ""


def _finding(code: str, severity: str, subject: str, kind: str = "allocation") -> dict[str, str]:
    return {
        "code": code,
        "severity": severity,
        "message": f"{code} {subject}",
        "subject": subject,
        "subject_kind": kind,
    }


def test_checks_errors_first_notes_left_out_many_of_a_kind_counted() -> None:
    checks = [
        _finding("BEHIND_PROFILE", "warning", "A01"),
        _finding("BEHIND_PROFILE", "warning", "A05"),
        _finding("BEHIND_PROFILE", "warning", "A06"),
        *(_finding("NO_EVIDENCE", "warning", str(n), "spend_line") for n in (4, 15, 61, 90)),
        _finding("LATE_LINES", "info", "CRG-2025-26", "grant"),
        _finding("SPEND_UNASSIGNED", "error", "142", "spend_line"),
    ]
    shown = [(a.severity, a.subject, a.message) for a in attention(checks)]
    assert shown == [
        ("Error", "line 142", "SPEND_UNASSIGNED 142"),
        # Three of a kind are all shown (a "1 more" line would save nothing) ...
        ("Warning", "A01", "BEHIND_PROFILE A01"),
        ("Warning", "A05", "BEHIND_PROFILE A05"),
        ("Warning", "A06", "BEHIND_PROFILE A06"),
        # ... four are two and a count.
        ("Warning", "line 4", "NO_EVIDENCE 4"),
        ("Warning", "line 15", "NO_EVIDENCE 15"),
        ("Warning", "", "… and 2 more like the above."),
    ]


def test_outcome_rows_from_the_reports_outcomes() -> None:
    report = {
        "allocations": [
            {"code": "A01", "outcomes": []},
            {
                "code": "A03",
                "outcomes": [
                    {
                        "code": "O1",
                        "title": "Victims supported",
                        "unit": "count",
                        "priority": "P1",
                        "target": 80,
                        "target_to_date": 60,
                        "actual_to_date": 45,
                        "percent_of_target": "75.0",
                    },
                    {
                        "code": "O2",
                        "title": "Feel safer",
                        "unit": "percent",
                        "priority": None,
                        "target": "80.0",
                        "target_to_date": "80.0",
                        "actual_to_date": None,  # no denominators yet
                        "percent_of_target": None,
                    },
                ],
            },
            {"code": "A04"},  # a report from before outcomes existed
        ]
    }
    rows = [
        (
            r.project,
            r.outcome,
            r.unit,
            r.annual_target,
            r.target_to_date,
            r.actual_to_date,
            r.percent_of_target,
        )
        for r in outcome_rows(report)
    ]
    assert rows == [
        ("A03", "O1 Victims supported", "count", "80", "60", "45", "75.0%"),
        ("A03", "O2 Feel safer", "percent", "80.0%", "80.0%", "—", "—"),
    ]


@pytest.mark.parametrize(
    ("grant", "period", "message"),
    [
        ("NOPE", "2025/26-Q3", "no grant with reference 'NOPE'"),
        (GRANT_REFERENCE, "2027/28-Q3", "period 2027/28-Q3 is outside grant CRG-2025-26"),
        (GRANT_REFERENCE, "2025/26-Q5", "'2025/26-Q5' is not a period"),
    ],
)
def test_board_report_refuses_an_unknown_grant_or_period(
    capsys: pytest.CaptureFixture[str],
    demo_db: Database,
    database_url: str,
    tmp_path: Path,
    grant: str,
    period: str,
    message: str,
) -> None:
    out = tmp_path / "board.pdf"
    result = run_cli(
        capsys, database_url, "board-report", "--grant", grant, "--period", period,
        "--out", str(out),
    )  # fmt: skip
    assert result.code == 1
    assert message in result.err
    assert not out.exists()


def test_board_report_needs_its_arguments(
    capsys: pytest.CaptureFixture[str], database_url: str, tmp_path: Path
) -> None:
    result = run_cli(capsys, database_url, "board-report", "--grant", GRANT_REFERENCE)
    assert result.code == 2
    assert "--period" in result.err and "--out" in result.err
    folder = run_cli(
        capsys, database_url, "board-report", "--grant", GRANT_REFERENCE, "--period",
        "2025/26-Q3", "--out", str(tmp_path),
    )  # fmt: skip
    assert folder.code == 2 and "is a folder" in folder.err


def test_the_command_line_loads_no_qt_until_a_board_report_is_drawn() -> None:
    probe = (
        "import sys, fundtracker.cli, fundtracker.cli.board_commands;"
        "fundtracker.cli.build_parser();"
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'ui'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
