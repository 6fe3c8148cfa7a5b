"""A whole grant year run through the command line as the officer runs it (issue 13's "done
when"): four quarterly ledger exports imported (title rows, £, UK dates, a totals row, the
PCC's own payment and Safer Streets lines excluded), a purchase order raised in Q1 and matched
to its invoice in Q3, a late June invoice in Q2's file, a virement in Q3, four returns
submitted, the year closed and next year's grant started with the April line moved to it.
Every figure is worked out by hand below; nothing the rules allow is refused and nothing is
counted twice.

Grant WY-2025-26: award £20,000.00, 01/04/2025–31/03/2026, quarterly returns. Payments:
£10,000.00 received 15/04/2025, £8,000.00 received 15/10/2025, £2,000.00 due 15/01/2026 (not
received). Received at the year end: 10,000 + 8,000 = £18,000.00.

  A01 Youth diversion  cost centre CS101  budget 8,000.00  profile 2,000 a quarter
  A02 CCTV             cost centre CS102  budget 6,000.00  profile 1,500 a quarter
  A03 Scams workshops  cost centre CS103  budget 4,000.00  no profile (1,000 a quarter)
  allocated 18,000.00, unallocated 2,000.00

Lines (net; VAT is recoverable, so claimable = net):

  Q1 file   A01 10/04/2025 1,200.00   A02 20/05/2025 900.00   A03 02/06/2025 500.00
            + PO-1: A02 15/05/2025 committed 1,250.00 (entered by hand)
  Q2 file   A01 25/06/2025 400.00 (late: Q1 submitted, counted in Q2)
            A01 15/07/2025 1,800.00   A02 12/08/2025 1,000.00   A03 05/09/2025 900.00
  Q3 file   A01 10/10/2025 2,000.00   A02 14/11/2025 1,250.00 (PO-1's invoice, matched)
            A03 03/12/2025 700.00
            virement A03 -> A01 £600.00, effective 01/10/2025 (Q3)
  Q4 file   A01 15/01/2026 1,500.00   A02 20/02/2026 1,600.00   A03 10/03/2026 900.00
            A01 02/04/2026 300.00 (dated in the next year: moved to the next grant)

Every file also has the PCC's payment (income, account 9000) and a Safer Streets line (cost
centre SS900): excluded, remembered, never counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fundtracker.storage import Database
from tests.helpers import CliResult, run_cli
from tests.ledger_support import write_csv

GRANT = "WY-2025-26"
NEXT = "WY-2026-27"

PLAN = """
[plan]
key = "kent-pcc-2025"
name = "Cut Crime, Support Victims, Build Trust"
owner = "Kent PCC"
kind = "pcc"
effective_from = 2025-04-01
effective_to = 2029-03-31

[[priorities]]
code = "P1"
title = "Protecting People"

[[priorities]]
code = "P2"
title = "Protecting Places"
"""

GRANT_FILE = f"""
[grant]
reference = "{GRANT}"
name = "Community Safety Fund 2025/26"
funder = "Kent PCC"
recipient = "Tonbridge and Malling CSP"
award = "20000.00"
start = 2025-04-01
end = 2026-03-31
return_frequency = "quarterly"
aligned_plan = "kent-pcc-2025"

[[grant.payments]]
date = 2025-04-15
amount = "10000.00"
received = true

[[grant.payments]]
date = 2025-10-15
amount = "8000.00"
received = true

[[grant.payments]]
date = 2026-01-15
amount = "2000.00"
received = false

[[allocations]]
code = "A01"
name = "Youth diversion"
lead = "TMBC"
cost_centre = "CS101"
budget = "8000.00"
profile = ["2000.00", "2000.00", "2000.00", "2000.00"]
[allocations.priorities]
"kent-pcc-2025" = {{ P1 = 100 }}

[[allocations]]
code = "A02"
name = "CCTV"
lead = "TMBC"
cost_centre = "CS102"
budget = "6000.00"
profile = ["1500.00", "1500.00", "1500.00", "1500.00"]
[allocations.priorities]
"kent-pcc-2025" = {{ P2 = 100 }}

[[allocations]]
code = "A03"
name = "Scams workshops"
lead = "Age UK"
cost_centre = "CS103"
budget = 4000
[allocations.priorities]
"kent-pcc-2025" = {{ P1 = 50, P2 = 50 }}
"""

HEADER = ["Trans Date", "Supplier Name", "Description", "Invoice No", "Cost Centre", "Account"]
HEADER += ["Net Amount", "VAT"]
# The same two lines of other money in every quarter's export: the PCC's payment to the
# council (income, account 9000) and Safer Streets, a different fund (cost centre SS900).
PCC_PAYMENT = ["Kent PCC", "Grant instalment", "PCC-{q}", "CS101", "9000", "-£5,000.00", "£0.00"]
SAFER_STREETS = ["Safer Streets Ltd", "Lighting", "SS-{q}", "SS900", "4000", "£750.00", "£150.00"]
EXCLUDE = ("--exclude", "cost_centre=SS900", "--exclude", "account_code=9000")


def _ledger(folder: Path, quarter: str, lines: list[list[str]], other_day: str) -> Path:
    """A council ledger export: title rows, the header, the lines, the two lines of other
    money, and a totals row that agrees with every row above it."""
    others = [
        [other_day, *(cell.format(q=quarter) for cell in PCC_PAYMENT)],
        [other_day, *(cell.format(q=quarter) for cell in SAFER_STREETS)],
    ]
    rows = lines + others
    net = sum(_pence(row[6]) for row in rows)
    vat = sum(_pence(row[7]) for row in rows)
    return write_csv(
        folder / f"ledger-{quarter}.csv",
        [
            ["Tonbridge and Malling Borough Council"],
            [f"Ledger transactions report: community safety, {quarter}"],
            [],
            HEADER,
            *rows,
            ["", "", "Grand total", "", "", "", _pounds(net), _pounds(vat)],
        ],
    )


def _pence(text: str) -> int:
    negative = text.startswith("-")
    digits = text.lstrip("-").replace("£", "").replace(",", "").replace(".", "")
    return -int(digits) if negative else int(digits)


def _pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) // 100:,}.{abs(pence) % 100:02d}"


Q1_LINES = [
    ["10/04/2025", "Youth Zone CIC", "Summer sessions", "YZ-101", "CS101", "4000", "£1,200.00",
     "£240.00"],
    ["20/05/2025", "SecureView Ltd", "Camera survey", "SV-201", "CS102", "4000", "£900.00",
     "£180.00"],
    ["02/06/2025", "Age UK Kent", "Scams workshop", "AUK-301", "CS103", "4000", "£500.00",
     "£0.00"],
]  # fmt: skip
Q2_LINES = [
    # The June invoice posted in August: dated in Q1, which is submitted by then.
    ["25/06/2025", "Youth Zone CIC", "June sessions", "YZ-102", "CS101", "4000", "£400.00",
     "£80.00"],
    ["15/07/2025", "Youth Zone CIC", "Holiday club", "YZ-103", "CS101", "4000", "£1,800.00",
     "£360.00"],
    ["12/08/2025", "SecureView Ltd", "Camera install", "SV-202", "CS102", "4000", "£1,000.00",
     "£200.00"],
    ["05/09/2025", "Age UK Kent", "Scams workshops", "AUK-302", "CS103", "4000", "£900.00",
     "£0.00"],
]  # fmt: skip
Q3_LINES = [
    ["10/10/2025", "Youth Zone CIC", "Autumn sessions", "YZ-104", "CS101", "4000", "£2,000.00",
     "£400.00"],
    # PO-1's invoice, matched to the commitment once imported.
    ["14/11/2025", "SecureView Ltd", "Cameras (PO-1)", "SV-203", "CS102", "4000", "£1,250.00",
     "£250.00"],
    ["03/12/2025", "Age UK Kent", "Scams workshop", "AUK-303", "CS103", "4000", "£700.00",
     "£0.00"],
]  # fmt: skip
Q4_LINES = [
    ["15/01/2026", "Youth Zone CIC", "Winter sessions", "YZ-105", "CS101", "4000", "£1,500.00",
     "£300.00"],
    ["20/02/2026", "SecureView Ltd", "Monitoring", "SV-204", "CS102", "4000", "£1,600.00",
     "£320.00"],
    ["10/03/2026", "Age UK Kent", "Scams workshop", "AUK-304", "CS103", "4000", "£900.00",
     "£0.00"],
    # Posted in March's export but dated in the next financial year.
    ["02/04/2026", "Youth Zone CIC", "Easter sessions", "YZ-106", "CS101", "4000", "£300.00",
     "£60.00"],
]  # fmt: skip

# The hand-worked figures, each worked out beside its assertion in test_a_whole_year (the
# window's run of the same year, tests/ui/test_whole_year_window.py, checks the same ones).
# Per project: (budget, spend to date, committed, forecast outturn).
FIGURES = {
    "2025/26-Q1": {
        "A01": ("8000.00", "1200.00", "0.00", "7200.00"),
        "A02": ("6000.00", "900.00", "1250.00", "6000.00"),
        "A03": ("4000.00", "500.00", "0.00", "3500.00"),
    },
    "2025/26-Q2": {
        "A01": ("8000.00", "3400.00", "0.00", "7400.00"),
        "A02": ("6000.00", "1900.00", "1250.00", "6000.00"),
        "A03": ("4000.00", "1400.00", "0.00", "3400.00"),
    },
    "2025/26-Q3": {
        "A01": ("8600.00", "5400.00", "0.00", "7700.00"),
        "A02": ("6000.00", "3150.00", "0.00", "4650.00"),
        "A03": ("3400.00", "2100.00", "0.00", "2800.00"),
    },
    "2025/26-Q4": {
        "A01": ("8600.00", "6900.00", "0.00", "6900.00"),
        "A02": ("6000.00", "4750.00", "0.00", "4750.00"),
        "A03": ("3400.00", "3000.00", "0.00", "3000.00"),
    },
}
# The return's summary, by these keys, per quarter.
SUMMARY_KEYS = ("spend_this_period", "spend_to_date", "committed", "forecast_outturn")
SUMMARY_KEYS += ("projected_underspend",)
SUMMARIES = {
    "2025/26-Q1": ("2600.00", "2600.00", "1250.00", "16700.00", "3300.00"),
    "2025/26-Q2": ("4100.00", "6700.00", "1250.00", "16800.00", "3200.00"),
    "2025/26-Q3": ("3950.00", "10650.00", "0.00", "15150.00", "4850.00"),
    "2025/26-Q4": ("4000.00", "14650.00", "0.00", "14650.00", "5350.00"),
}
YEAR_END = {
    "award": "20000.00",
    "received": "18000.00",
    "spend": "14650.00",
    "underspend": "5350.00",
    "to_return": "3350.00",
    "due_from_funder": "0.00",
}
NEXT_AWARD = "15000.00"
NEXT_BUDGETS = {"A01": "6450.00", "A02": "4500.00", "A03": "2550.00"}


class Year:
    """The CLI on one database, failing loudly on any refusal the rules do not make."""

    def __init__(self, capsys: pytest.CaptureFixture[str], url: str, folder: Path) -> None:
        self.capsys, self.url, self.folder = capsys, url, folder

    def ok(self, *args: str) -> CliResult:
        result = run_cli(self.capsys, self.url, *args)
        assert result.code == 0, f"{args}: {result.out}{result.err}"
        return result

    def json(self, *args: str) -> Any:
        return self.ok(*args, "--format", "json").json()

    def import_quarter(self, quarter: str, lines: list[list[str]], other_day: str) -> Any:
        path = _ledger(self.folder, quarter, lines, other_day)
        return self.json("import-ledger", str(path), "--grant", GRANT, *EXCLUDE)

    def report(self, period: str, grant: str = GRANT) -> Any:
        return self.json("report", "--grant", grant, "--period", period)

    def submit(self, period: str) -> None:
        out = self.folder / f"return-{period.replace('/', '-')}.xlsx"
        self.ok("export-return", "--grant", GRANT, "--period", period, "--out", str(out),
                "--submit", "--prepared-by", "J Officer")  # fmt: skip

    def lines(self, grant: str = GRANT) -> list[dict[str, Any]]:
        return list(self.json("spend", "list", "--grant", grant))


def _figures(report: dict[str, Any]) -> dict[str, tuple[str, str, str, str]]:
    """Per project: (budget, spend to date, committed, forecast outturn)."""
    return {
        a["code"]: (a["budget"], a["spend_to_date"], a["committed"], a["forecast_outturn"])
        for a in report["allocations"]
    }


def _summary(report: dict[str, Any], *keys: str) -> tuple[str, ...]:
    return tuple(report["summary"][key] for key in keys)


@pytest.fixture
def year(
    db: Database, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Year:
    (tmp_path / "plan.toml").write_text(PLAN, encoding="utf-8")
    (tmp_path / "grant.toml").write_text(GRANT_FILE, encoding="utf-8")
    y = Year(capsys, database_url, tmp_path)
    y.ok("plan", "import", str(tmp_path / "plan.toml"))
    y.ok("grant", "import", str(tmp_path / "grant.toml"))
    return y


def test_a_whole_year(year: Year) -> None:
    # --- Q1: the ledger, the purchase order, the return -------------------------------------
    q1 = year.import_quarter("Q1", Q1_LINES, "30/06/2025")
    # Three lines imported, two excluded; the file's totals row: net 1,200 + 900 + 500
    # − 5,000 + 750 = −1,650.00, VAT 240 + 180 + 0 + 0 + 150 = 570.00, agrees with its rows.
    assert (q1["imported"], q1["excluded"], q1["duplicates"], q1["unassigned"]) == (3, 2, 0, 0)
    assert q1["totals_row"]["agrees"] is True
    assert q1["totals_row"]["file"] == {"net": "-1650.00", "vat": "570.00"}
    year.ok("spend", "add", "--grant", GRANT, "--date", "15/05/2025", "--net", "1250.00",
            "--allocation", "A02", "--supplier", "SecureView Ltd", "--reference", "PO-1",
            "--description", "Cameras", "--status", "committed")  # fmt: skip
    report = year.report("2025/26-Q1")
    # A = spend to date + committed; P_t = profile to date; P = whole profile.
    # A01: A 1,200 < P_t 2,000: behind, 1,200 + 8,000 − 2,000 = 7,200.00
    # A02: A 900 + 1,250 = 2,150 >= P_t 1,500: max(2,150, 6,000) = 6,000.00
    # A03: A 500 < P_t 1,000 (an even 1,000 a quarter): 500 + 4,000 − 1,000 = 3,500.00
    assert _figures(report) == FIGURES["2025/26-Q1"]
    assert _summary(report, *SUMMARY_KEYS) == SUMMARIES["2025/26-Q1"]
    # Spend 1,200 + 900 + 500 = 2,600; forecast 7,200 + 6,000 + 3,500 = 16,700; projected
    # underspend 20,000 − 16,700 = 3,300; none of the excluded money is anywhere.
    assert _summary(
        report, "spend_this_period", "spend_to_date", "committed", "received",
        "forecast_outturn", "projected_underspend", "projected_overspend",
    ) == ("2600.00", "2600.00", "1250.00", "10000.00", "16700.00", "3300.00", "0.00")  # fmt: skip
    assert report["unassigned"]["spend_to_date"] == "0.00"
    year.submit("2025/26-Q1")
    # After a submission a budget moves only by a virement: the refusal names both ways.
    refused = run_cli(year.capsys, year.url, "project", "update", "--grant", GRANT, "--code",
                      "A03", "--budget", "3400.00")  # fmt: skip
    assert refused.code == 1
    assert "Record a virement… button" in refused.err and "virement add" in refused.err

    # --- Q2: a late June invoice in the file; the Q1 file again is nothing new --------------
    q2 = year.import_quarter("Q2", Q2_LINES, "30/09/2025")
    assert (q2["imported"], q2["excluded"], q2["duplicates"]) == (4, 2, 0)
    late = next(line for line in year.lines() if line["reference"] == "YZ-102")
    assert (late["date"], late["counted_in"]) == ("2025-06-25", "2025/26-Q2")
    # The same Q1 export imported again by mistake: its three lines are duplicates, the other
    # funds' lines are excluded as remembered; nothing is imported twice, nothing refused.
    again = year.json("import-ledger", str(year.folder / "ledger-Q1.csv"), "--grant", GRANT)
    assert (again["imported"], again["excluded"], again["duplicates"]) == (0, 2, 3)
    report = year.report("2025/26-Q2")
    # This period: 400 (late) + 1,800 + 1,000 + 900 = 4,100; to date 2,600 + 4,100 = 6,700.
    # A01: A 1,200 + 400 + 1,800 = 3,400 < P_t 4,000: 3,400 + 8,000 − 4,000 = 7,400.00
    # A02: A 900 + 1,000 + 1,250 = 3,150 >= P_t 3,000: max(3,150, 6,000) = 6,000.00
    # A03: A 500 + 900 = 1,400 < P_t 2,000: 1,400 + 4,000 − 2,000 = 3,400.00
    assert _figures(report) == FIGURES["2025/26-Q2"]
    assert _summary(report, *SUMMARY_KEYS) == SUMMARIES["2025/26-Q2"]
    # Forecast 7,400 + 6,000 + 3,400 = 16,800; underspend 20,000 − 16,800 = 3,200.
    assert _summary(
        report, "spend_this_period", "spend_to_date", "committed", "projected_underspend"
    ) == ("4100.00", "6700.00", "1250.00", "3200.00")
    # Q1's figures are as submitted: the late line is not in them.
    assert year.report("2025/26-Q1")["summary"]["spend_to_date"] == "2600.00"
    year.submit("2025/26-Q2")

    # --- Q3: a virement, the purchase order invoiced ----------------------------------------
    year.ok("virement", "add", "--grant", GRANT, "--from", "A03", "--to", "A01",
            "--amount", "£600.00", "--approval", "OPCC/VIR/2025/07", "--approved-on",
            "26/09/2025", "--effective", "01/10/2025",
            "--note", "Workshops under-subscribed")  # fmt: skip
    q3 = year.import_quarter("Q3", Q3_LINES, "31/12/2025")
    assert (q3["imported"], q3["excluded"], q3["duplicates"]) == (3, 2, 0)
    by_reference = {line["reference"]: line for line in year.lines()}
    po, invoice = by_reference["PO-1"], by_reference["SV-203"]
    year.ok("spend", "invoice", str(po["id"]), "--match", str(invoice["id"]))
    report = year.report("2025/26-Q3")
    # PO-1 is released on 14/11/2025, the day its invoice counts: committed 0 by Q3's end,
    # and A02 counts the 1,250 once, as spend. Budgets after the virement: A01 8,600, A03
    # 3,400. Profiles from Q3 on: A01 + 300 a quarter (2,300, 2,300), A03 − 300 (700, 700).
    # A01: A 3,400 + 2,000 = 5,400 < P_t 2,000 + 2,000 + 2,300 = 6,300:
    #      5,400 + 8,600 − 6,300 = 7,700.00
    # A02: A 1,900 + 1,250 = 3,150 < P_t 4,500: 3,150 + 6,000 − 4,500 = 4,650.00
    # A03: A 1,400 + 700 = 2,100 < P_t 1,000 + 1,000 + 700 = 2,700:
    #      2,100 + 3,400 − 2,700 = 2,800.00
    assert _figures(report) == FIGURES["2025/26-Q3"]
    assert _summary(report, *SUMMARY_KEYS) == SUMMARIES["2025/26-Q3"]
    # This period 2,000 + 1,250 + 700 = 3,950; to date 6,700 + 3,950 = 10,650; forecast
    # 7,700 + 4,650 + 2,800 = 15,150; underspend 4,850; allocated 18,000 before and after,
    # 600 moved; received 10,000 + 8,000 = 18,000.
    assert _summary(
        report, "spend_this_period", "spend_to_date", "committed", "received",
        "forecast_outturn", "projected_underspend", "allocated", "original_allocated",
        "virements",
    ) == ("3950.00", "10650.00", "0.00", "18000.00", "15150.00", "4850.00", "18000.00",
          "18000.00", "600.00")  # fmt: skip
    assert [(v["from"], v["to"], v["amount"]) for v in report["virements"]] == [
        ("A03", "A01", "600.00")
    ]
    # Q2 as submitted: the old budgets, PO-1 still committed.
    assert _figures(year.report("2025/26-Q2"))["A02"] == ("6000.00", "1900.00", "1250.00",
                                                          "6000.00")  # fmt: skip
    year.submit("2025/26-Q3")

    # --- Q4: the last return, the year closed -----------------------------------------------
    q4 = year.import_quarter("Q4", Q4_LINES, "31/03/2026")
    assert (q4["imported"], q4["excluded"], q4["duplicates"]) == (4, 2, 0)
    report = year.report("2025/26-Q4")
    # At the year's end P_t = P, so each forecast is A: A01 5,400 + 1,500 = 6,900; A02
    # 3,150 + 1,600 = 4,750; A03 2,100 + 900 = 3,000. The 02/04/2026 line is outside the
    # grant and in no figure. Spend 1,500 + 1,600 + 900 = 4,000 this period; to date
    # 10,650 + 4,000 = 14,650 = 6,900 + 4,750 + 3,000.
    assert _figures(report) == FIGURES["2025/26-Q4"]
    assert _summary(report, *SUMMARY_KEYS) == SUMMARIES["2025/26-Q4"]
    assert _summary(report, "spend_this_period", "spend_to_date", "projected_underspend") == (
        "4000.00", "14650.00", "5350.00",
    )  # fmt: skip
    # Award 20,000, received 18,000, spend 14,650: underspend 20,000 − 14,650 = 5,350;
    # to return 18,000 − 14,650 = 3,350; due from the funder min(20,000, 14,650) − 18,000 < 0,
    # so 0.
    assert report["year_end"] == YEAR_END
    year.submit("2025/26-Q4")
    closed = year.json("grant", "close", GRANT, "--reason", "Year end 2025/26")
    assert closed["year_end"] == YEAR_END

    # --- The next year, with the April line moved to it -------------------------------------
    started = year.json("grant", "next", GRANT, "--reference", NEXT, "--award", NEXT_AWARD,
                        "--move-lines")  # fmt: skip
    # New total 18,000 × 15,000 ÷ 20,000 = 13,500.00, split as today's budgets 8,600 : 6,000
    # : 3,400 of 18,000: A01 13,500 × 8,600 ÷ 18,000 = 6,450.00; A02 13,500 × 6,000 ÷ 18,000
    # = 4,500.00; A03 13,500 × 3,400 ÷ 18,000 = 2,550.00 (6,450 + 4,500 + 2,550 = 13,500).
    assert (started["start"], started["end"], started["award"]) == (
        "2026-04-01", "2027-03-31", "15000.00",
    )  # fmt: skip
    assert started["budgets"] == NEXT_BUDGETS
    assert (started["moved_lines"], started["lines_to_move"]) == (1, 0)
    moved = year.lines(NEXT)
    assert [(m["reference"], m["allocation"], m["net"]) for m in moved] == [
        ("YZ-106", "A01", "300.00")
    ]
    # Left in the old grant: 3 + 1 (PO-1) + 4 + 3 + 3 = 14 lines, each once.
    references = [line["reference"] for line in year.lines()]
    assert len(references) == len(set(references)) == 14
    assert "YZ-106" not in references
    new_q1 = year.report("2026/27-Q1", NEXT)
    assert _summary(new_q1, "award", "allocated", "spend_to_date", "received") == (
        "15000.00", "13500.00", "300.00", "0.00",
    )  # fmt: skip
    # The closed year's figures are untouched by the move: 14,650.00 still.
    assert year.report("2025/26-Q4")["year_end"] == YEAR_END
