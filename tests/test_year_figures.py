"""Issue 13's figure rules over a year, worked out by hand: honest forecasts (front-loaded,
behind, overspent, carried forward), overspend never hidden, late lines, commitments released
and invoiced, and virements before and after a submission.

Grant Y-1: award £12,000.00, 01/04/2025–31/03/2026, aligned plan pcc.

  F  front-loaded  budget 4,000.00  profile 1,000 / 1,000 / 1,000 / 1,000
  B  behind        budget 4,000.00  profile 1,000 / 1,000 / 1,000 / 1,000
  O  overspent     budget 2,000.00  profile   500 /   500 /   500 /   500
  S  spare         budget 2,000.00  no profile: 500.00 a quarter

Lines in Q1 (all through the services):
  F 10/04/2025 paid 2,500.00          F 20/05/2025 committed 500.00 (a purchase order)
  B 15/05/2025 paid   300.00          O 01/06/2025 paid 2,100.00

Forecast, with A = spent + committed, P_t = profile to date, P = whole profile:
A >= P_t gives max(A, P); A < P_t gives A + P - P_t.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from fundtracker.checks import INFO, WARNING, run_checks
from fundtracker.errors import LockedError, ValidationError
from fundtracker.figures import Report, build_report
from fundtracker.periods import Period
from fundtracker.returns import narratives, submission
from fundtracker.returns.snapshot import build_return
from fundtracker.services import spend, virements
from fundtracker.settings import COMMITMENT_STALE_DAYS, set_setting
from fundtracker.storage import Database
from tests.figure_scenarios import load_grant_toml, load_plans
from tests.helpers import run_cli

D = Decimal
Q1, Q2, Q3 = (Period.parse(f"2025/26-Q{n}") for n in (1, 2, 3))

GRANT = """
[grant]
reference = "Y-1"
name = "Year grant"
award = "12000.00"
start = 2025-04-01
end = 2026-03-31
aligned_plan = "pcc"

[[allocations]]
code = "F"
name = "Front-loaded"
budget = "4000.00"
profile = ["1000.00", "1000.00", "1000.00", "1000.00"]
[allocations.priorities]
pcc = { P1 = 100 }

[[allocations]]
code = "B"
name = "Behind"
budget = "4000.00"
profile = ["1000.00", "1000.00", "1000.00", "1000.00"]
[allocations.priorities]
pcc = { P1 = 100 }

[[allocations]]
code = "O"
name = "Overspent"
budget = "2000.00"
profile = ["500.00", "500.00", "500.00", "500.00"]
[allocations.priorities]
pcc = { P2 = 100 }

[[allocations]]
code = "S"
name = "Spare"
budget = "2000.00"
[allocations.priorities]
pcc = { P3 = 100 }
"""


def _line(db: Database, day: str, net: str, code: str, status: str = "paid") -> int:
    values = {"date": day, "net": net, "allocation": code, "status": status}
    return spend.add_spend(db, "Y-1", values).id


@pytest.fixture
def year(db: Database) -> Database:
    load_plans(db)
    load_grant_toml(db, GRANT)
    _line(db, "2025-04-10", "2500.00", "F")
    _line(db, "2025-05-20", "500.00", "F", status="committed")
    _line(db, "2025-05-15", "300.00", "B")
    _line(db, "2025-06-01", "2100.00", "O")
    return db


def _report(db: Database, period: Period) -> Report:
    return build_report(db, "Y-1", period)


def _submit(db: Database, period: Period, folder: Path) -> None:
    submission.export_return(db, "Y-1", period, folder / f"{period.index}.xlsx", submit=True)


def _po_id(db: Database) -> int:
    return next(ln.id for ln in spend.list_spend(db, "Y-1") if ln.status == "committed")


# --- Forecasts ----------------------------------------------------------------------------


def test_front_loaded_behind_and_overspent_forecasts_at_q1(year: Database) -> None:
    report = _report(year, Q1)
    f, b, o, s = (report.allocation(code) for code in "FBOS")
    # F: A = 2,500 + 500 = 3,000.00, ahead of P_t = 1,000.00: max(3,000, 4,000) = 4,000.00.
    # Spending early is not overspending: variance 0.00 (the old rule said 3,000 + 3,000 =
    # 6,000.00, a 2,000.00 overspend).
    assert (f.forecast_outturn, f.variance, f.projected_overspend) == (
        D("4000.00"),
        D("0.00"),
        D("0.00"),
    )
    # B: A = 300.00, behind P_t = 1,000.00: 300 + 4,000 - 1,000 = 3,300.00; variance 700.00.
    assert (b.forecast_outturn, b.variance, b.projected_underspend) == (
        D("3300.00"),
        D("700.00"),
        D("700.00"),
    )
    # O: A = 2,100.00, ahead of P_t = 500.00: max(2,100, 2,000) = 2,100.00; variance -100.00.
    assert (o.forecast_outturn, o.variance, o.projected_overspend, o.overspent) == (
        D("2100.00"),
        D("-100.00"),
        D("100.00"),
        True,
    )
    # S: nothing spent, behind its even P_t = 500.00: 0 + 2,000 - 500 = 1,500.00.
    assert (s.forecast_outturn, s.variance) == (D("1500.00"), D("500.00"))
    # Summary: 4,000 + 3,300 + 2,100 + 1,500 = 10,900.00 of 12,000.00: 1,100.00 under.
    summary = report.summary
    assert (summary.forecast_outturn, summary.projected_underspend) == (
        D("10900.00"),
        D("1100.00"),
    )
    project = report.to_json()["allocations"][2]
    assert (project["projected_overspend"], project["overspent"]) == ("100.00", True)


def test_overspent_project_is_red_whatever_its_override(year: Database) -> None:
    narratives.set_narrative(year, "Y-1", Q1, "O", {"rag": "G"})
    narratives.set_narrative(year, "Y-1", Q1, "F", {"rag": "A"})
    with year.read() as session:
        document = build_return(year, session, "Y-1", Q1, "Officer", date(2025, 7, 10))
    rags = {p["code"]: (p["rag"], p["rag_computed"]) for p in document["projects"]}
    # O has spent 2,100.00 of 2,000.00: R, the G override notwithstanding. F's override
    # (A, redder than its computed G) stands. B's variance 700 of 4,000 = 17.5% > 15%: R.
    # S's 500 of 2,000 = 25%: R.
    assert rags == {"F": ("A", False), "B": ("R", True), "O": ("R", True), "S": ("R", True)}
    o = next(p for p in document["projects"] if p["code"] == "O")
    assert (o["rag_override"], o["overspent"]) == ("G", True)


def test_a_forecast_below_spent_and_committed_is_refused(year: Database) -> None:
    with pytest.raises(ValidationError) as refused:
        narratives.set_narrative(year, "Y-1", Q1, "O", {"forecast": "2000.00"})
    assert "£2,000.00 is less than the £2,100.00 already spent and committed" in str(refused.value)
    assert not _report(year, Q1).allocation("O").forecast_entered  # nothing was stored


def test_an_entered_forecast_carries_forward_until_a_later_one(year: Database) -> None:
    narratives.set_narrative(year, "Y-1", Q1, "B", {"forecast": "3500.00"})
    # Q1: 3,500.00 entered (>= A = 300.00): variance 4,000 - 3,500 = 500.00.
    q1 = _report(year, Q1).allocation("B")
    assert (q1.forecast_outturn, q1.variance, q1.forecast_entered_in) == (
        D("3500.00"),
        D("500.00"),
        "2025/26-Q1",
    )
    # Q2 (nothing entered for Q2): still 3,500.00, entered in Q1.
    q2 = _report(year, Q2).allocation("B")
    assert (q2.forecast_outturn, q2.forecast_entered_in) == (D("3500.00"), "2025/26-Q1")
    assert _report(year, Q2).to_json()["allocations"][1]["forecast_entered_in"] == "2025/26-Q1"
    narratives.set_narrative(year, "Y-1", Q2, "B", {"forecast": "3900.00"})
    assert _report(year, Q2).allocation("B").forecast_outturn == D("3900.00")
    assert _report(year, Q1).allocation("B").forecast_outturn == D("3500.00")


# --- Late lines and commitments ------------------------------------------------------------


def test_late_line_released_and_invoiced_commitments_over_two_returns(
    year: Database, tmp_path: Path
) -> None:
    _submit(year, Q1, tmp_path)
    # A June invoice for B arrives in July: a late line, counted in Q2 (from 01/07/2025).
    late = spend.add_spend(year, "Y-1", {"date": "2025-06-20", "net": "200.00", "allocation": "B"})
    assert (str(late.date), str(late.counted_on)) == ("2025-06-20", "2025-07-01")
    # F's purchase order (raised in Q1, submitted) is invoiced on 15/08/2025 for 480.00.
    po = _po_id(year)
    commitment, invoice = spend.invoice_commitment(
        year, po, {"date": "2025-08-15", "net": "480.00", "reference": "INV-77"}
    )
    assert (str(commitment.released_on), commitment.invoiced_by_id) == ("2025-08-15", invoice.id)
    assert (invoice.status, invoice.allocation_id, invoice.reference) == (
        "paid",
        commitment.allocation_id,
        "INV-77",
    )
    # S raises a commitment of 300.00 on 01/07/2025, released on 05/10/2025 (in Q3).
    s_po = _line(year, "2025-07-01", "300.00", "S", status="committed")

    # Q1 keeps its submitted figures: B 300.00 spent, F's 500.00 still committed at 30/06.
    q1 = _report(year, Q1)
    assert q1.allocation("B").spend_to_date == D("300.00")
    assert q1.allocation("F").committed == D("500.00")
    assert not [f for f in run_checks(year, "Y-1", Q1) if f.code == "SUBMITTED_CHANGED"]

    q2 = _report(year, Q2)
    f, b, o, s = (q2.allocation(code) for code in "FBOS")
    # F: Q1 2,500.00, Q2 the invoice 480.00; the commitment released 15/08 is gone.
    # A = 2,980.00 ahead of P_t 2,000.00: max(2,980, 4,000) = 4,000.00.
    assert (f.quarters["Q1"], f.quarters["Q2"], f.committed) == (
        D("2500.00"),
        D("480.00"),
        D("0.00"),
    )
    assert f.forecast_outturn == D("4000.00")
    # B: the late line counts in Q2, not Q1: 300.00 + 200.00 = 500.00, behind P_t 2,000:
    # 500 + 4,000 - 2,000 = 2,500.00.
    assert (b.quarters["Q1"], b.quarters["Q2"], b.forecast_outturn) == (
        D("300.00"),
        D("200.00"),
        D("2500.00"),
    )
    # S: its commitment is released only on 05/10, so at 30/09 it is still committed:
    # A = 300.00, behind P_t 1,000: 300 + 2,000 - 1,000 = 1,300.00.
    assert (s.committed, s.forecast_outturn) == (D("300.00"), D("1300.00"))
    # Summary: spent 2,980 + 500 + 2,100 = 5,580.00; committed 300.00; nothing twice.
    assert (q2.summary.spend_to_date, q2.summary.committed) == (D("5580.00"), D("300.00"))
    assert o.overspent
    # LATE_LINES (info) names the late line in Q2's return.
    late_findings = [f for f in run_checks(year, "Y-1", Q2) if f.code == "LATE_LINES"]
    assert [(f.severity, f.subject) for f in late_findings] == [(INFO, str(late.id))]
    assert "counted in 2025/26-Q2" in late_findings[0].message
    with year.read() as session:
        document = build_return(year, session, "Y-1", Q2, "Officer", date(2025, 10, 10))
    counted = {t["id"]: (t["quarter"], t["counted_in"]) for t in document["transactions"]}
    assert counted[late.id] == ("2025/26-Q1", "2025/26-Q2")
    assert po not in counted  # released by 30/09: counted nowhere
    _submit(year, Q2, tmp_path)

    # Q3: release S's commitment on 05/10/2025.
    released = spend.release_commitment(year, s_po, date(2025, 10, 5), reason="not needed")
    assert str(released.released_on) == "2025-10-05"
    assert _report(year, Q3).allocation("S").committed == D("0.00")
    assert _report(year, Q2).allocation("S").committed == D("300.00")  # Q2 kept as submitted
    assert not [f for f in run_checks(year, "Y-1", Q3) if f.code == "SUBMITTED_CHANGED"]
    # The late line may no longer change: Q2, where it is counted, is now submitted.
    with pytest.raises(LockedError, match="2025/26-Q2"):
        spend.update_spend(year, late.id, {"net": "210.00"})


def test_release_rules(year: Database, tmp_path: Path) -> None:
    po = _po_id(year)
    _submit(year, Q1, tmp_path)
    with pytest.raises(LockedError, match="submitted period"):
        spend.release_commitment(year, po, date(2025, 6, 30))  # inside submitted Q1
    with pytest.raises(ValidationError, match="not a commitment"):
        spend.release_commitment(year, po - 1, date(2025, 7, 1))  # F's paid line
    spend.release_commitment(year, po, date(2025, 7, 1))
    with pytest.raises(ValidationError, match="already released on 01/07/2025"):
        spend.release_commitment(year, po, date(2025, 7, 2))
    # Undoing the release is allowed while it is counted in an open period.
    assert spend.unrelease_commitment(year, po).released_on is None


def test_match_pairs_a_commitment_with_an_imported_actual_line(
    year: Database, tmp_path: Path
) -> None:
    _submit(year, Q1, tmp_path)
    actual = _line(year, "2025-06-28", "500.00", "F")  # late: counted from 01/07/2025
    commitment, matched = spend.match_commitment(year, _po_id(year), actual)
    # Released on the day the actual line counts from, never inside submitted Q1.
    assert (str(commitment.released_on), matched.id) == ("2025-07-01", actual)
    q2 = _report(year, Q2).allocation("F")
    # 2,500.00 + 500.00 actual, nothing committed: the 500.00 is counted once.
    assert (q2.spend_to_date, q2.committed) == (D("3000.00"), D("0.00"))
    with pytest.raises(ValidationError, match="already released"):
        spend.match_commitment(year, commitment.id, actual)


def test_commitment_stale_warning_uses_its_setting(year: Database) -> None:
    # F's purchase order of 20/05/2025 is 41 days old on 30/06/2025: not stale at 90 days.
    assert not [f for f in run_checks(year, "Y-1", Q1) if f.code == "COMMITMENT_STALE"]
    set_setting(year, COMMITMENT_STALE_DAYS, "30")
    [stale] = [f for f in run_checks(year, "Y-1", Q1) if f.code == "COMMITMENT_STALE"]
    assert (stale.severity, stale.subject) == (WARNING, str(_po_id(year)))
    assert "committed for 41 days (more than 30)" in stale.message
    spend.release_commitment(year, _po_id(year), date(2025, 6, 30))
    assert not [f for f in run_checks(year, "Y-1", Q1) if f.code == "COMMITMENT_STALE"]


# --- Virements ------------------------------------------------------------------------------

VIREMENT = {
    "from": "S",
    "to": "O",
    "amount": "500.00",
    "approval": "OPCC-2025-017",
    "approved_on": "2025-09-20",
    "effective": "2025-10-01",
    "note": "O's extra sessions",
}


def test_virement_before_and_after_a_submission(year: Database, tmp_path: Path) -> None:
    _submit(year, Q1, tmp_path)
    with pytest.raises(LockedError, match="after 30/06/2025"):
        virements.add_virement(year, "Y-1", {**VIREMENT, "effective": "2025-06-15"})
    _submit(year, Q2, tmp_path)
    with pytest.raises(LockedError, match="after 30/09/2025"):
        virements.add_virement(year, "Y-1", {**VIREMENT, "effective": "2025-09-30"})
    virements.add_virement(year, "Y-1", VIREMENT)

    # Q2 (ending before 01/10/2025) keeps the old budgets; no submitted return changes.
    q2 = _report(year, Q2)
    assert (q2.allocation("O").budget, q2.allocation("S").budget) == (D("2000.00"), D("2000.00"))
    assert not [f for f in run_checks(year, "Y-1", Q3) if f.code == "SUBMITTED_CHANGED"]

    q3 = _report(year, Q3)
    o, s = q3.allocation("O"), q3.allocation("S")
    # O: 2,000 + 500 = 2,500.00; its profile gains 500.00 over Q3 and Q4, 250.00 each:
    # 500 / 500 / 750 / 750. P_t = 1,750.00; A = 2,100.00 >= P_t: max(2,100, 2,500) =
    # 2,500.00, variance 0.00, and no longer overspent (2,100 <= 2,500).
    assert (o.budget, o.original_budget, o.virements) == (
        D("2500.00"),
        D("2000.00"),
        D("500.00"),
    )
    assert (o.profile_to_date, o.forecast_outturn, o.variance, o.overspent) == (
        D("1750.00"),
        D("2500.00"),
        D("0.00"),
        False,
    )
    # S: 2,000 - 500 = 1,500.00; its even profile 500 a quarter loses 250.00 in Q3 and Q4:
    # 500 / 500 / 250 / 250. P_t = 1,250.00; A = 0: 0 + 1,500 - 1,250 = 250.00.
    assert (s.budget, s.profile_to_date, s.forecast_outturn) == (
        D("1500.00"),
        D("1250.00"),
        D("250.00"),
    )
    summary = q3.summary
    assert (summary.original_allocated, summary.virements, summary.allocated) == (
        D("12000.00"),
        D("500.00"),
        D("12000.00"),
    )
    assert q3.to_json()["virements"] == [
        {
            "from": "S",
            "to": "O",
            "amount": "500.00",
            "approval": "OPCC-2025-017",
            "approved_on": "2025-09-20",
            "effective": "2025-10-01",
            "note": "O's extra sessions",
        }
    ]


def test_virement_refusals_name_the_field(year: Database) -> None:
    bad = [
        ({"to": "S"}, "to"),  # the same project
        ({"amount": "0"}, "amount"),
        ({"approval": " "}, "approval"),
        ({"from": "ZZ"}, "from"),
        ({"amount": "2000.01"}, "amount"),  # more than S's 2,000.00
        ({"effective": "2026-04-01"}, "effective"),  # after the grant
    ]
    for change, field in bad:
        with pytest.raises(ValidationError) as refused:
            virements.add_virement(year, "Y-1", {**VIREMENT, **change})
        assert field in str(refused.value), change
    assert virements.list_virements(year, "Y-1") == []


def test_a_budget_change_after_the_first_submission_names_the_virement_command(
    year: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    _submit(year, Q1, tmp_path)
    run_cli(capsys, database_url, "return", "reopen", "--grant", "Y-1", "--period", "2025/26-Q1",
            "--reason", "check")  # fmt: skip
    exported = tmp_path / "grant.toml"
    assert run_cli(capsys, database_url, "grant", "export", "Y-1", "-o", str(exported)).code == 0
    text = exported.read_text()
    changed = tmp_path / "changed.toml"
    changed.write_text(text.replace('budget = "2000.00"', 'budget = "2100.00"', 1))
    result = run_cli(capsys, database_url, "grant", "import", str(changed))
    assert result.code == 1 and "fundtracker-cli virement add" in result.err


# --- The CLI contracts ----------------------------------------------------------------------


def test_cli_release_invoice_and_virement_json(
    year: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    url = database_url
    po = _po_id(year)
    invoiced = run_cli(capsys, url, "spend", "invoice", str(po), "--date", "2025-06-25",
                       "--net", "450.00", "--vat", "90.00", "--format", "json")  # fmt: skip
    assert invoiced.code == 0, invoiced.err
    body = invoiced.json()
    assert body["commitment"]["released_on"] == "2025-06-25"
    assert body["commitment"]["invoiced_by"] == body["actual"]["id"]
    assert (body["actual"]["net"], body["actual"]["vat"], body["actual"]["status"]) == (
        "450.00",
        "90.00",
        "paid",
    )
    s_po = _line(year, "2025-07-01", "300.00", "S", status="committed")
    released = run_cli(capsys, url, "spend", "release", str(s_po), "--on", "2025-07-02")
    assert released.code == 0 and "released commitment" in released.out
    listing = run_cli(capsys, url, "spend", "list", "--grant", "Y-1", "--format", "json").json()
    assert all("counted_in" in row for row in listing)

    args = ["virement", "add", "--grant", "Y-1", "--from", "S", "--to", "O", "--amount",
            "500.00", "--approval", "OPCC-2025-017", "--approved-on", "20/09/2025",
            "--effective", "2025-10-01", "--note", "extra sessions"]  # fmt: skip
    assert run_cli(capsys, url, *args).code == 0
    rows = run_cli(capsys, url, "virement", "list", "--grant", "Y-1", "--format", "json").json()
    assert [{k: row[k] for k in row if k != "id"} for row in rows] == [
        {
            "from": "S",
            "to": "O",
            "amount": "500.00",
            "approval": "OPCC-2025-017",
            "approved_on": "2025-09-20",
            "effective": "2025-10-01",
            "note": "extra sessions",
        }
    ]
    refused = run_cli(capsys, url, *args[:-6], "--approved-on", "x", "--effective", "2025-10-01")
    assert refused.code == 1 and "approved_on" in refused.err


def test_workbook_shows_virements_overspend_and_counted_in(year: Database, tmp_path: Path) -> None:
    _submit(year, Q1, tmp_path)
    late = _line(year, "2025-06-20", "200.00", "B")
    virements.add_virement(year, "Y-1", VIREMENT)
    out = tmp_path / "q3.xlsx"
    submission.export_return(year, "Y-1", Q3, out)
    book = openpyxl.load_workbook(out)
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row[0]}
    assert (summary["Original allocation"], summary["Virements"]) == (12000, 500)
    assert summary["Projected overspend"] == 0
    virement_rows = list(book["Virements"].iter_rows(min_row=4, values_only=True))
    assert [row[1:5] for row in virement_rows] == [("OPCC-2025-017", "S", "O", 500)]
    header = [c for c in next(book["Transactions"].iter_rows(min_row=3, values_only=True))]
    rows = {row[header.index("Line id")]: row for row in book["Transactions"].iter_rows(
        min_row=4, values_only=True)}  # fmt: skip
    assert (rows[late][header.index("Quarter")], rows[late][header.index("Counted in")]) == (
        "2025/26-Q1",
        "2025/26-Q2",
    )
    # The Q1 return as submitted: O's Variance cell is the overspend, -100.00.
    q1 = openpyxl.load_workbook(tmp_path / "1.xlsx")["Projects"]
    o_row = next(r for r in q1.iter_rows(min_row=4, values_only=True) if r[0] == "O")
    assert (o_row[13], o_row[14]) == (-100, "R")


# --- Operations (undo and redo) -------------------------------------------------------------


def test_release_invoice_and_virement_operations_undo_and_redo(year: Database) -> None:
    from fundtracker.operations import run_operation, undo
    from fundtracker.operations.commitments import InvoiceCommitment, ReleaseCommitment
    from fundtracker.operations.virements import RecordVirement

    po = _po_id(year)
    version = spend.get_spend(year, po).version
    released = run_operation(year, ReleaseCommitment(po, version, date(2025, 6, 30)))
    assert _report(year, Q1).allocation("F").committed == D("0.00")
    redo = undo(year, released)
    assert _report(year, Q1).allocation("F").committed == D("500.00")
    again = undo(year, redo, "redo")
    assert str(spend.get_spend(year, po).released_on) == "2025-06-30"
    undo(year, again)  # open again
    assert spend.get_spend(year, po).released_on is None

    version = spend.get_spend(year, po).version
    values = {"date": "2025-06-29", "net": "480.00"}
    invoiced = run_operation(year, InvoiceCommitment(po, version, values))
    # As at 30/06: 2,500 + 480 spent, nothing committed; undone: 2,500 spent, 500 committed.
    f = _report(year, Q1).allocation("F")
    assert (f.spend_to_date, f.committed) == (D("2980.00"), D("0.00"))
    undo(year, invoiced)
    f = _report(year, Q1).allocation("F")
    assert (f.spend_to_date, f.committed) == (D("2500.00"), D("500.00"))
    assert len(spend.list_spend(year, "Y-1")) == 4  # the invoice line is gone

    recorded = run_operation(year, RecordVirement("Y-1", VIREMENT))
    assert _report(year, Q3).allocation("O").budget == D("2500.00")
    undo(year, recorded)
    assert virements.list_virements(year, "Y-1") == []
    assert _report(year, Q3).allocation("O").budget == D("2000.00")
