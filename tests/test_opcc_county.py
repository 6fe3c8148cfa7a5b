"""Issue 16's done-when: thirteen partnerships' Q2 returns, exported by the real export code,
received by the OPCC (one altered by hand, one withheld, one sent twice as v1 and v2), and
the county figures and the Panel's workbook equal the hand-summed figures to the penny.

The thirteen grants live in one partnership database (each exported on its own). Grant i
(CRG-01 … CRG-13, recipient "CSP 01" …) has award £(10,000 + 1,000 × i), one project A
budgeted at the whole award, weighted P1 60% / P2 40% on the PCC plan ``pcc-2025``, and one
paid Q2 line of £1,000.00 × i on A. No commitments, and no profile entered, so A's budget
is profiled evenly over the four quarters: at Q2 the profile to date P_t is half the award and
P the whole award; the forecast outturn (CONTRACTS) is A + P − P_t = spend + award / 2 while
spend is under half the award, else max(spend, award). Projected underspend = award −
forecast, overspend = forecast − award, where positive.
Exceptions, each worked below:
- CRG-02 sends v1 (£2,000.00), then, reopened, v2 with another £250.00 on A: £2,250.00.
- CRG-03 has an unassigned £123.45 besides: spend £3,123.45 (in the Unaligned row).
- CRG-04's line is £4,000.01: split 60/40 by largest remainder, 400,001p × 60% = 240,000.6p
  and × 40% = 160,000.4p; the spare penny goes to the larger remainder, P1: £2,400.01 and
  P2 £1,600.00.
- CRG-05 is overspent: £16,000.00 against its £15,000.00 award (overspend £1,000.00).
- CRG-07's workbook is altered by hand after export: refused.
- CRG-12 is aligned to the older plan version ``pcc-2024`` (P1 100%).
- CRG-13 is withheld: missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from fundtracker.models import ReceivedReturn
from fundtracker.opcc.county import _checks_and_report, county_figures
from fundtracker.opcc.operations import AddFunded, ReceiveReturns
from fundtracker.opcc.panel_workbook import (
    PARTNERSHIP_HEADERS,
    SHEETS,
    SUMMARY_MONEY,
    write_panel_workbook,
)
from fundtracker.operations import run_operation
from fundtracker.periods import Period
from fundtracker.returns import submission
from fundtracker.services import plans
from fundtracker.setup_files import read_plan
from fundtracker.storage import Database, open_database
from tests.figure_scenarios import add_line, load_grant_toml
from tests.helpers import run_cli

Q2 = Period.parse("2025/26-Q2")
ON_TIME = datetime(2025, 10, 20, 9, 0, tzinfo=UTC)  # Q2 returns are due 30/10/2025
LATE = datetime(2025, 11, 5, 9, 0, tzinfo=UTC)  # 6 days after 30/10/2025

PLAN = """
[plan]
key = "{key}"
name = "Police and Crime Plan {year}"
kind = "pcc"
effective_from = {year}-04-01

[[priorities]]
code = "P1"
title = "Protecting People"

[[priorities]]
code = "P2"
title = "Protecting Places"
"""

GRANT = """
[grant]
reference = "CRG-{i:02d}"
name = "Crime Reduction Grant {i:02d}"
funder = "Kent PCC"
recipient = "CSP {i:02d}"
award = "{award}"
start = 2025-04-01
end = 2026-03-31
aligned_plan = "{plan}"

[[allocations]]
code = "A"
name = "Community safety"
budget = "{award}"
[allocations.priorities]
{weights}
"""


def award_of(i: int) -> Decimal:
    return Decimal(10_000 + 1_000 * i).quantize(Decimal("0.01"))


def build_grants(db: Database) -> None:
    for key, year in (("pcc-2024", 2024), ("pcc-2025", 2025)):
        plans.import_plan(db, read_plan(tomllib.loads(PLAN.format(key=key, year=year))))
    for i in range(1, 14):
        older = i == 12
        weights = "pcc-2024 = { P1 = 100 }" if older else "pcc-2025 = { P1 = 60, P2 = 40 }"
        plan = "pcc-2024" if older else "pcc-2025"
        load_grant_toml(db, GRANT.format(i=i, award=award_of(i), plan=plan, weights=weights))
        amount = {4: "4000.01", 5: "16000.00"}.get(i, f"{1000 * i}.00")
        add_line(db, f"CRG-{i:02d}", date(2025, 8, 15), amount, "A")
    add_line(db, "CRG-03", date(2025, 9, 1), "123.45")  # unassigned


@dataclass(frozen=True)
class County:
    db: Database  # the OPCC's
    outcomes: list[dict[str, Any]]
    v2_outcome: dict[str, Any]
    folder: Path


@dataclass(frozen=True)
class Exported:
    files: dict[int, Path]  # grant i's Q2 return (CRG-07's altered by hand)
    v2: Path  # CRG-02's version 2
    folder: Path


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exported]:
    """The partnerships' side, made once: thirteen grants and their submitted Q2 returns."""
    folder = tmp_path_factory.mktemp("partnerships")
    partnership = open_database(str(folder / "partnerships.sqlite3"))
    build_grants(partnership)
    files = {}
    for i in range(1, 14):
        out = folder / f"CRG-{i:02d} Q2.xlsx"
        submission.export_return(
            partnership, f"CRG-{i:02d}", Q2, out, prepared_by=f"Officer {i}", submit=True
        )
        files[i] = out
    submission.reopen_return(partnership, "CRG-02", Q2, "an invoice was missed")
    add_line(partnership, "CRG-02", date(2025, 9, 20), "250.00", "A")
    v2 = folder / "CRG-02 Q2 v2.xlsx"
    submission.export_return(partnership, "CRG-02", Q2, v2, prepared_by="Officer 2", submit=True)
    partnership.dispose()
    alter_projects_spend(files[7], Decimal("-500.00"))  # hides £500.00 of CRG-07's spend
    yield Exported(files, v2, folder)


@pytest.fixture
def county(db: Database, exported: Exported, tmp_path: Path) -> County:
    """The OPCC's side: all thirteen funded; twelve returns sent (13 withheld), CRG-11's late,
    then CRG-02's v2."""
    files = exported.files
    for i in range(1, 14):
        run_operation(db, AddFunded(funded_values(i)))
    sent = [files[i] for i in range(1, 13) if i != 11]
    outcomes = run_operation(db, ReceiveReturns(tuple(map(str, sent)), ON_TIME)).result
    late = run_operation(db, ReceiveReturns((str(files[11]),), LATE)).result
    [v2_outcome] = run_operation(db, ReceiveReturns((str(exported.v2),), ON_TIME)).result
    return County(db, [o.to_json() for o in [*outcomes, *late]], v2_outcome.to_json(), tmp_path)


def funded_values(i: int) -> tuple[tuple[str, Any], ...]:
    return (
        ("recipient", f"CSP {i:02d}"),
        ("grant_reference", f"CRG-{i:02d}"),
        ("award", award_of(i)),
        ("start_date", date(2025, 4, 1)),
        ("end_date", date(2026, 3, 31)),
        ("return_frequency", "quarterly"),
    )


def alter_projects_spend(path: Path, by: Decimal) -> None:
    """Change project A's Spend to date in the Projects sheet, as a hand in Excel would."""
    book = load_workbook(path)
    sheet = book["Projects"]
    column = [c.value for c in sheet[3]].index("Spend to date") + 1
    cell = sheet.cell(4, column)
    cell.value = float(Decimal(str(cell.value)) + by)
    book.save(path)


def test_the_altered_workbook_is_refused_naming_the_figure(county: County) -> None:
    statuses = {o["file"]: o["status"] for o in county.outcomes}
    assert statuses.pop("CRG-07 Q2.xlsx") == "refused"
    assert set(statuses.values()) == {"added"}
    assert len(statuses) == 11  # 1–12 but 7, and 11 late
    [refused] = [o for o in county.outcomes if o["status"] == "refused"]
    # CRG-07 spent £7,000.00 on A; the workbook was made to say £6,500.00.
    assert refused["reason"] == (
        "CRG-07 Q2.xlsx was altered after export: Projects A Spend to date reads £6,500.00 but "
        "the return as exported says £7,000.00"
    )


def test_v2_supersedes_v1(county: County) -> None:
    assert county.v2_outcome["status"] == "superseded"
    assert county.v2_outcome["reason"] == "supersedes version 1"
    figures = county_figures(county.db, Q2)
    [crg02] = [p for p in figures["partnerships"] if p["grant_reference"] == "CRG-02"]
    assert (crg02["version"], crg02["spend_to_date"]) == (2, "2250.00")


def test_county_totals_and_priorities_equal_the_hand_summed_figures(county: County) -> None:
    figures = county_figures(county.db, Q2)
    assert figures["plan"] == {"key": "pcc-2025", "name": "Police and Crime Plan 2025"}
    received = [p["grant_reference"] for p in figures["partnerships"]]
    assert received == [f"CRG-{i:02d}" for i in (1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12)]
    # Spend: 1,000.00 + 2,250.00 + 3,123.45 + 4,000.01 + 16,000.00 + 6,000.00 + 8,000.00
    #   + 9,000.00 + 10,000.00 + 11,000.00 + 12,000.00 = 82,373.46
    # Awards: 11 + 12 + 13 + 14 + 15 + 16 + 18 + 19 + 20 + 21 + 22 thousand = 181,000.00,
    # all allocated (each project's budget is its award).
    # Forecasts, spend + award / 2: 01 1,000 + 5,500 = 6,500.00; 02 2,250 + 6,000 = 8,250.00;
    #   03 3,123.45 + 6,500 = 9,623.45; 04 4,000.01 + 7,000 = 11,000.01; 06 14,000.00;
    #   08 17,000.00; 09 18,500.00; 10 (spend = half) 20,000.00; max(spend, award) for
    #   05 16,000.00, 11 21,000.00 and 12 22,000.00. Sum 163,873.46.
    # Underspends (award − forecast): 4,500.00 + 3,750.00 + 3,376.55 + 2,999.99 + 2,000.00
    #   + 1,000.00 + 500.00 = 18,126.54 (10, 11 and 12 forecast their awards exactly);
    #   overspend: CRG-05's 16,000.00 − 15,000.00 = 1,000.00.
    totals = figures["totals"]
    assert {k: totals[k] for k in totals if k not in ("errors", "partnerships")} == {
        "award": "181000.00",
        "received": "0.00",
        "allocated": "181000.00",
        "spend_to_date": "82373.46",
        "committed": "0.00",
        "forecast_outturn": "163873.46",
        "projected_underspend": "18126.54",
        "projected_overspend": "1000.00",
        "unassigned": "123.45",
    }
    assert totals["partnerships"] == 11
    assert totals["errors"] == sum(p["errors"] for p in figures["partnerships"])
    # Priorities of pcc-2025, from the ten aligned returns (all but CRG-12):
    #   round spend 1,000 + 2,250 + 3,000 + 16,000 + 6,000 + 8,000 + 9,000 + 10,000 + 11,000
    #   = 66,250.00: P1 60% = 39,750.00 (+ CRG-04's 2,400.01 = 42,150.01),
    #   P2 40% = 26,500.00 (+ 1,600.00 = 28,100.00).
    #   Budgets: 181,000.00 − CRG-12's 22,000.00 = 159,000.00: P1 95,400.00, P2 63,600.00.
    #   Unaligned: CRG-03's unassigned 123.45 + CRG-12 (another plan) 12,000.00 = 12,123.45,
    #   budget CRG-12's 22,000.00. Sums: 42,150.01 + 28,100.00 + 12,123.45 = 82,373.46 and
    #   95,400 + 63,600 + 22,000 = 181,000.00: the totals.
    assert figures["priorities"] == [
        {
            "code": "P1",
            "title": "Protecting People",
            "budget": "95400.00",
            "spend_to_date": "42150.01",
        },
        {
            "code": "P2",
            "title": "Protecting Places",
            "budget": "63600.00",
            "spend_to_date": "28100.00",
        },
        {"code": None, "title": "Unaligned", "budget": "22000.00", "spend_to_date": "12123.45"},
    ]
    assert figures["other_plans"] == [
        {
            "recipient": "CSP 12",
            "grant_reference": "CRG-12",
            "plan": {"key": "pcc-2024", "name": "Police and Crime Plan 2024"},
            "allocated": "22000.00",
            "spend_to_date": "12000.00",
        }
    ]


def test_missing_late_and_what_needs_attention(county: County) -> None:
    figures = county_figures(county.db, Q2)
    # CRG-07 (refused) and CRG-13 (withheld) have sent nothing that counts; due 30/10/2025.
    assert [(m["grant_reference"], m["due"]) for m in figures["missing"]] == [
        ("CRG-07", "2025-10-30"),
        ("CRG-13", "2025-10-30"),
    ]
    assert [(m["grant_reference"], m["days_late"]) for m in figures["late"]] == [("CRG-11", 6)]
    attention = figures["attention"]
    # The overspend first: £1,000.00 of £15,000.00 = 6.67% → 6.7%; then the seven
    # underspends (see the totals' test), largest first.
    assert attention[0] == {
        "recipient": "CSP 05",
        "grant_reference": "CRG-05",
        "kind": "overspend",
        "amount": "1000.00",
        "percent_of_award": "6.7",
    }
    assert [(a["grant_reference"], a["kind"], a["amount"]) for a in attention[1:]] == [
        ("CRG-01", "underspend", "4500.00"),
        ("CRG-02", "underspend", "3750.00"),
        ("CRG-03", "underspend", "3376.55"),
        ("CRG-04", "underspend", "2999.99"),
        ("CRG-06", "underspend", "2000.00"),
        ("CRG-08", "underspend", "1000.00"),
        ("CRG-09", "underspend", "500.00"),
    ]


def test_county_json_and_the_panel_workbook_read_back(
    county: County, capsys: pytest.CaptureFixture[str]
) -> None:
    out = county.folder / "panel.xlsx"
    result = run_cli(
        capsys,
        str(county.db.url),
        "county",
        "--period",
        "2025/26-Q2",
        "--format",
        "json",
        "--out",
        str(out),
    )
    assert result.code == 0
    figures = result.json()
    for key in (
        "period",
        "plan",
        "partnerships",
        "totals",
        "priorities",
        "missing",
        "late",
        "other_plans",
    ):
        assert key in figures
    issue_keys = {
        "recipient",
        "grant_reference",
        "version",
        "award",
        "received",
        "spend_to_date",
        "committed",
        "forecast_outturn",
        "projected_underspend",
        "projected_overspend",
        "unassigned",
        "errors",
    }
    assert all(issue_keys <= set(p) for p in figures["partnerships"])

    book = load_workbook(out)
    assert book.sheetnames == list(SHEETS)
    sheet = book["Partnerships"]
    assert [c.value for c in sheet[3]] == list(PARTNERSHIP_HEADERS)
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    data, total = rows[:-1], rows[-1]
    column = PARTNERSHIP_HEADERS.index
    # Every row traceable to its return: version, file SHA-256 and checksum.
    by_reference = {p["grant_reference"]: p for p in figures["partnerships"]}
    for row in data:
        source = by_reference[row[column("Grant reference")]]
        assert row[column("Version")] == source["version"]
        assert row[column("File SHA-256")] == source["file_sha256"]
        assert row[column("Checksum")] == source["checksum"]
    spend = column("Spend to date")
    assert sum(Decimal(str(r[spend])) for r in data) == Decimal("82373.46")
    assert total[0] == "Total"
    assert total[spend] == "=SUM(I4:I14)"  # Spend to date is column I; 11 rows from row 4
    assert sheet.cell(4, spend + 1).number_format == "£#,##0.00;[Red]-£#,##0.00"

    priorities = [[c.value for c in row] for row in book["Priorities"].iter_rows(min_row=4)]
    assert priorities[:3] == [
        ["P1", "Protecting People", 95400, 42150.01],
        ["P2", "Protecting Places", 63600, 28100],
        [None, "Unaligned", 22000, 12123.45],
    ]
    assert priorities[3] == ["Total", None, "=SUM(C4:C6)", "=SUM(D4:D6)"]
    assert len(book["Priorities"]._charts) == 1

    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(min_row=3, values_only=True) if r}
    assert summary["Spend to date"] == 82373.46
    assert summary["Returns missing"] == 2
    missing = [[c.value for c in row] for row in book["Missing and late"].iter_rows(min_row=4)]
    assert [(r[0], r[2]) for r in missing] == [
        ("Missing", "CRG-07"),
        ("Missing", "CRG-13"),
        ("Late", "CRG-11"),
    ]


def test_an_unknown_plan_is_refused_naming_the_known_ones(
    county: County, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(
        capsys, str(county.db.url), "county", "--period", "2025/26-Q2", "--plan", "pcc"
    )
    assert result.code == 1
    assert "--plan: no received return is aligned to pcc (pcc-2024, pcc-2025)" in result.err


def test_the_older_plan_chosen_takes_its_own_returns(county: County) -> None:
    figures = county_figures(county.db, Q2, "pcc-2024")
    # Only CRG-12 follows pcc-2024: P1 100% of its 12,000.00 (budget 22,000.00); P2 none.
    # Unaligned: the ten other returns, 82,373.46 − 12,000.00 = 70,373.46 of spend and
    # 181,000.00 − 22,000.00 = 159,000.00 of budget.
    assert figures["priorities"] == [
        {
            "code": "P1",
            "title": "Protecting People",
            "budget": "22000.00",
            "spend_to_date": "12000.00",
        },
        {"code": "P2", "title": "Protecting Places", "budget": "0.00", "spend_to_date": "0.00"},
        {"code": None, "title": "Unaligned", "budget": "159000.00", "spend_to_date": "70373.46"},
    ]
    assert len(figures["other_plans"]) == 10


def test_county_text_puts_what_needs_attention_first(
    county: County, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, str(county.db.url), "county", "--period", "2025/26-Q2")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "County figures 2025/26-Q2, plan Police and Crime Plan 2025"
    assert lines[1] == (
        "Needs attention: CSP 05 projects an overspend of £1,000.00 (6.7% of the award)"
    )
    total = next(line for line in lines if line.startswith("Total"))
    assert "£181,000.00" in total and "£82,373.46" in total and "£163,873.46" in total
    assert "Missing: CSP 07 2025/26-Q2 (due 2025-10-30)" in lines
    assert "Missing: CSP 13 2025/26-Q2 (due 2025-10-30)" in lines
    assert "Late: CSP 11 2025/26-Q2 (6 days)" in lines
    assert "Follows another plan: CSP 12 (Police and Crime Plan 2024)" in lines


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.libreoffice
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_the_panel_workbook_recalculated_in_libreoffice_equals_the_json(
    county: County, tmp_path: Path
) -> None:
    assert SOFFICE is not None
    figures = county_figures(county.db, Q2)
    source = tmp_path / "panel.xlsx"
    write_panel_workbook(source, figures)
    out = tmp_path / "out"
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    book = load_workbook(out / "panel.xlsx", data_only=True)
    rows = list(book["Partnerships"].iter_rows(min_row=4, values_only=True))
    total = rows[-1]
    assert total[0] == "Total"
    first = PARTNERSHIP_HEADERS.index("Award")
    for offset, (_, key) in enumerate(SUMMARY_MONEY):
        recalculated = Decimal(str(total[first + offset])).quantize(Decimal("0.01"))
        assert recalculated == Decimal(figures["totals"][key]), key
    priorities = list(book["Priorities"].iter_rows(min_row=4, values_only=True))
    assert priorities[-1][0] == "Total"
    # Budgets 95,400 + 63,600 + 22,000; spend 42,150.01 + 28,100.00 + 12,123.45.
    assert Decimal(str(priorities[-1][2])).quantize(Decimal("0.01")) == Decimal("181000.00")
    assert Decimal(str(priorities[-1][3])).quantize(Decimal("0.01")) == Decimal("82373.46")


def test_the_quick_read_of_a_stored_snapshot_equals_parsing_it_whole(county: County) -> None:
    with county.db.read() as session:
        snapshots = session.scalars(select(ReceivedReturn.snapshot)).all()
    assert len(snapshots) == 12  # eleven partnerships, CRG-02 twice
    for text in snapshots:
        document = json.loads(text)
        assert _checks_and_report(text) == (document["checks"], document["report"])
    # Another layout (pretty-printed, keys unsorted) is left to be parsed whole.
    assert _checks_and_report('{\n  "report": {"summary": {}},\n  "checks": []\n}') is None
