"""County outcomes (issue 16): outcome measures summed across the partnerships' returns where
they share a code and a unit, worked by hand below; and the Panel workbook's Outcomes sheet.

CRG-01 and CRG-02 each measure young people reached (YP, a count) and improved wellbeing
(WB, a percent); CRG-02's project B also has a YP that is a percent, which is another measure.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from fundtracker.opcc.county import county_figures
from fundtracker.opcc.operations import ReceiveReturns
from fundtracker.opcc.panel_workbook import write_panel_workbook
from fundtracker.operations import run_operation
from fundtracker.operations.outcomes import SetOutcomeActual
from fundtracker.periods import Period
from fundtracker.presenters.opcc import county_view
from fundtracker.returns import submission
from fundtracker.services import plans
from fundtracker.setup_files import read_plan
from fundtracker.storage import Database, open_database
from tests.figure_scenarios import load_grant_toml
from tests.test_opcc_county import PLAN

Q1, Q2 = Period.parse("2025/26-Q1"), Period.parse("2025/26-Q2")

GRANT = """
[grant]
reference = "CRG-{i:02d}"
name = "Crime Reduction Grant {i:02d}"
funder = "Kent PCC"
recipient = "CSP {i:02d}"
award = "10000.00"
start = 2025-04-01
end = 2026-03-31
aligned_plan = "pcc-2025"

[[allocations]]
code = "A"
name = "Youth outreach"
budget = "6000.00"
[allocations.priorities]
pcc-2025 = {{ P1 = 100 }}
[[allocations.outcomes]]
code = "YP"
title = "Young people reached"
unit = "count"
target = {young_people}
[[allocations.outcomes]]
code = "WB"
title = "Report improved wellbeing"
unit = "percent"
target = "{wellbeing}%"
{project_b}
"""

PROJECT_B = """
[[allocations]]
code = "B"
name = "Mentoring"
budget = "4000.00"
[allocations.priorities]
pcc-2025 = { P2 = 100 }
[[allocations.outcomes]]
code = "YP"
title = "Young people mentored to a goal"
unit = "percent"
target = "50%"
"""

# (grant, quarter, project, measure, actual, out of)
ACTUALS = [
    ("CRG-01", Q1, "A", "YP", 8, None),
    ("CRG-01", Q2, "A", "YP", 12, None),
    ("CRG-01", Q1, "A", "WB", 41, 50),
    ("CRG-01", Q2, "A", "WB", 30, 40),
    ("CRG-02", Q1, "A", "YP", 4, None),
    ("CRG-02", Q2, "A", "YP", 3, None),
    ("CRG-02", Q1, "A", "WB", 9, 10),  # Q2 not entered
    ("CRG-02", Q1, "B", "YP", 1, 2),
    ("CRG-02", Q2, "B", "YP", 1, 2),
]


@pytest.fixture(scope="module")
def returns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Path]]:
    folder = tmp_path_factory.mktemp("partnerships")
    partnership = open_database(str(folder / "partnerships.sqlite3"))
    plan = PLAN.format(key="pcc-2025", year=2025)
    plans.import_plan(partnership, read_plan(tomllib.loads(plan)))
    load_grant_toml(partnership, GRANT.format(i=1, young_people=40, wellbeing=80, project_b=""))
    load_grant_toml(
        partnership, GRANT.format(i=2, young_people=20, wellbeing=75, project_b=PROJECT_B)
    )
    for grant, quarter, project, code, actual, out_of in ACTUALS:
        run_operation(partnership, SetOutcomeActual(grant, quarter, project, code, actual, out_of))
    files = []
    for grant in ("CRG-01", "CRG-02"):
        out = folder / f"{grant} Q2.xlsx"
        submission.export_return(partnership, grant, Q2, out, prepared_by="Jo", submit=True)
        files.append(out)
    partnership.dispose()
    yield files


def test_outcomes_are_summed_where_measures_share_a_code_and_a_unit(
    db: Database, returns: list[Path], tmp_path: Path
) -> None:
    outcomes = run_operation(db, ReceiveReturns(tuple(map(str, returns)))).result
    assert [o.status for o in outcomes] == ["added", "added"], [o.reason for o in outcomes]
    figures = county_figures(db, Q2)
    assert figures["outcomes"] == [
        # WB: targets differ (80% and 75%), so none is shown; actual 100 × (41 + 30 + 9) ÷
        # (50 + 40 + 10) = 8,000 ÷ 100 = 80.0%.
        {
            "code": "WB",
            "title": "Report improved wellbeing",
            "unit": "percent",
            "partnerships": 2,
            "grant_references": ["CRG-01", "CRG-02"],
            "target": None,
            "target_to_date": None,
            "actual_to_date": "80.0",
            "percent_of_target": None,
        },
        # YP count: targets 40 + 20 = 60; to date Q1 + Q2 = (10 + 10) + (5 + 5) = 30; actual
        # (8 + 12) + (4 + 3) = 27; 27 ÷ 30 = 90.0%.
        {
            "code": "YP",
            "title": "Young people reached",
            "unit": "count",
            "partnerships": 2,
            "grant_references": ["CRG-01", "CRG-02"],
            "target": 60,
            "target_to_date": 30,
            "actual_to_date": 27,
            "percent_of_target": "90.0",
        },
        # YP percent (CRG-02's B only): 100 × (1 + 1) ÷ (2 + 2) = 50.0% of a 50% target.
        {
            "code": "YP",
            "title": "Young people mentored to a goal",
            "unit": "percent",
            "partnerships": 1,
            "grant_references": ["CRG-02"],
            "target": "50.0",
            "target_to_date": "50.0",
            "actual_to_date": "50.0",
            "percent_of_target": "100.0",
        },
    ]
    # The County page shows them so: a count whole, a percent with its sign, "—" for none.
    assert county_view(db, Q2).outcomes == [
        ("WB", "Report improved wellbeing", "2", "—", "—", "80.0%", "—"),
        ("YP", "Young people reached", "2", "60", "30", "27", "90.0%"),
        ("YP", "Young people mentored to a goal", "1", "50.0%", "50.0%", "50.0%", "100.0%"),
    ]
    out = tmp_path / "panel.xlsx"
    write_panel_workbook(out, figures)
    sheet = load_workbook(out)["Outcomes"]
    rows: list[Any] = [list(r) for r in sheet.iter_rows(min_row=3, values_only=True)]
    assert rows[0] == [
        "Code",
        "Measure",
        "Unit",
        "Partnerships",
        "Grant references",
        "Target",
        "Target to date",
        "Actual to date",
        "% of target",
    ]
    # Counts as numbers; percents as percentages (80.0% is 0.8 formatted 0.0%).
    assert rows[1:] == [
        ["WB", "Report improved wellbeing", "percent", 2, "CRG-01, CRG-02", None, None, 0.8, None],
        ["YP", "Young people reached", "count", 2, "CRG-01, CRG-02", 60, 30, 27, 0.9],
        ["YP", "Young people mentored to a goal", "percent", 1, "CRG-02", 0.5, 0.5, 0.5, 1],
    ]
    assert sheet.cell(4, 8).number_format == "0.0%"
