"""Other funds' lines at import: excluded by rule or by row, remembered for the grant so a
re-import excludes them again and imports nothing twice; income signs flagged; the money
totals of what is imported, excluded, duplicate and skipped, tied to the file's totals row.
Every figure is worked out by hand below."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fundtracker.models import AuditEvent, Grant, ImportExclusion, SpendLine
from fundtracker.storage import Database, utcnow
from tests.ledger_support import GRANT, count, import_json, lines, set_up_grant, write_csv

HEADER = [
    "Transaction Date",
    "Supplier Name",
    "Narrative",
    "Invoice No",
    "Net Amount",
    "VAT",
    "Cost Centre",
    "Account",
]
ROWS = [
    # row 2: this grant's line: imported
    ["03/07/2025", "Acme Ltd", "Posters", "INV-1", "1000.00", "200.00", "CS101", "4000"],
    # rows 3 and 4: Safer Streets, cost centre SS900: excluded by --exclude cost_centre=SS900
    ["04/07/2025", "Safer Streets Co", "CCTV", "SS-1", "3000.00", "600.00", "SS900", "4000"],
    ["05/07/2025", "Safer Streets Co", "Lighting", "SS-2", "500.00", "100.00", "ss900 ", "4100"],
    # row 5: the PCC's own payment, income on account 9000: excluded by account_code=9000
    ["06/07/2025", "Kent PCC", "Grant payment", "PCC-Q2", "-25000.00", "0", "CS101", "9000"],
    # row 6: excluded one by one (--exclude-row 6)
    ["07/07/2025", "Café", "Refreshments", "INV-2", "40.00", "8.00", "CS101", "4000"],
    # row 7: a credit note: imported as a credit, flagged as an income sign
    ["08/07/2025", "Acme Ltd", "Refund", "CN-1", "-100.00", "-20.00", "CS101", "4000"],
    # row 8: row 2 again: a duplicate
    ["03/07/2025", "Acme Ltd", "Posters", "INV-1", "1000.00", "200.00", "CS101", "4000"],
]
# The file's totals row, row 9. Net of rows 2–8: 1,000 + 3,000 + 500 − 25,000 + 40 − 100
# + 1,000 = −19,560.00; VAT: 200 + 600 + 100 + 0 + 8 − 20 + 200 = 1,088.00.
AGREEING_TOTAL = ["", "", "Total", "", "-19560.00", "1088.00", "", ""]
EXCLUDE = ("--exclude", "cost_centre=SS900", "--exclude", "account_code=9000", "--exclude-row", "6")


@pytest.fixture
def url(db: Database, database_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    set_up_grant(capsys, database_url)
    return database_url


def _file(tmp_path: Path, total: Sequence[str] = AGREEING_TOTAL) -> Path:
    return write_csv(tmp_path / "ledger.csv", [HEADER, *ROWS, list(total)])


def _money(report: dict[str, Any]) -> dict[str, tuple[int, str, str, str]]:
    return {
        kind: (m["rows"], m["net"], m["vat"], m["gross"]) for kind, m in report["money"].items()
    }


def test_exclusions_money_totals_and_income_in_the_check(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result, report = import_json(capsys, url, _file(tmp_path), "--dry-run", *EXCLUDE)
    assert result.code == 0, result.err
    assert (report["imported"], report["excluded"], report["duplicates"]) == (2, 4, 1)
    assert report["excluded_rows"] == [
        {"row": 3, "reason": "cost_centre=SS900"},
        {"row": 4, "reason": "cost_centre=SS900"},  # "ss900 " matches: case and spaces
        {"row": 5, "reason": "account_code=9000"},
        {"row": 6, "reason": "row 6"},
    ]
    assert _money(report) == {
        # Rows 2 and 7: net 1,000 − 100 = 900.00; VAT 200 − 20 = 180.00; gross 1,080.00.
        "imported": (2, "900.00", "180.00", "1080.00"),
        # Rows 3–6: net 3,000 + 500 − 25,000 + 40 = −21,460.00; VAT 600 + 100 + 0 + 8 = 708.00;
        # gross −21,460 + 708 = −20,752.00.
        "excluded": (4, "-21460.00", "708.00", "-20752.00"),
        # Row 8: 1,000.00 + 200.00 = 1,200.00.
        "duplicate": (1, "1000.00", "200.00", "1200.00"),
        # The totals row: −19,560.00 + 1,088.00 = −18,472.00.
        "skipped": (1, "-19560.00", "1088.00", "-18472.00"),
    }
    # 900 − 21,460 + 1,000 = −19,560 and 180 + 708 + 200 = 1,088: the totals row agrees.
    assert report["totals_row"]["agrees"] is True and report["totals_row"]["row"] == 9
    # Row 7's credit is imported as a credit, but never silently.
    assert report["income_rows"] == [{"row": 7, "message": "Acme Ltd -100.00 (income sign)"}]
    assert len(report["warnings"]) == 1 and "row(s) 7" in report["warnings"][0]
    # A dry run remembers nothing.
    assert count(db, ImportExclusion) == 0 and count(db, SpendLine) == 0


def test_remembered_exclusions_on_reimport_and_nothing_twice(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _file(tmp_path)
    result, report = import_json(capsys, url, file, *EXCLUDE)
    assert result.code == 0, result.err
    assert (report["imported"], report["excluded"]) == (2, 4)
    assert [(line.source_row, line.net) for line in lines(db)] == [
        (2, Decimal("1000.00")),
        (7, Decimal("-100.00")),
    ]
    with db.read() as session:
        remembered = session.scalars(select(ImportExclusion).order_by(ImportExclusion.id)).all()
        assert [(e.supplier, e.net, e.reason) for e in remembered] == [
            ("Safer Streets Co", Decimal("3000.00"), "cost_centre=SS900"),
            ("Safer Streets Co", Decimal("500.00"), "cost_centre=SS900"),
            ("Kent PCC", Decimal("-25000.00"), "account_code=9000"),
            ("Café", Decimal("40.00"), "row 6"),
        ]
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "exclude")).one()
        assert event.label == "4 line(s) of ledger.csv"

    # The same file again, with no --exclude: the four are excluded from memory, the
    # three others are already in the grant; nothing is imported twice.
    again, second = import_json(capsys, url, file)
    assert again.code == 0, again.err
    assert (second["imported"], second["excluded"], second["duplicates"]) == (0, 4, 3)
    assert {e["reason"] for e in second["excluded_rows"]} == {"excluded before as not this grant"}
    assert count(db, SpendLine) == 2 and count(db, ImportExclusion) == 4


def test_a_totals_row_that_disagrees_is_reported(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The file says net −19,500.00: its lines add to −19,560.00, a difference of 60.00.
    total = ["", "", "Total", "", "-19500.00", "1088.00", "", ""]
    result, report = import_json(capsys, url, _file(tmp_path, total), "--dry-run")
    assert result.code == 0, result.err
    assert report["totals_row"]["agrees"] is False
    message = report["totals_row"]["message"]
    assert "says net -£19,500.00, VAT £1,088.00" in message
    assert "a difference of £60.00 gross" in message
    assert message in report["warnings"]


def test_text_output_shows_the_money_table(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.helpers import run_cli

    result = run_cli(
        capsys, url, "import-ledger", str(_file(tmp_path)), "--grant", GRANT, "--dry-run", *EXCLUDE
    )
    assert result.code == 0, result.err
    table = {line.split()[0]: line.split()[1:] for line in result.out.splitlines() if line}
    assert table["will"] == ["import", "2", "900.00", "180.00", "1080.00"]
    assert table["excluded"][:4] == ["4", "-21460.00", "708.00", "-20752.00"]
    assert "Excluded (not this grant):" in result.out
    assert "row 5: account_code=9000" in result.out


def test_bad_exclude_options_and_a_refused_file_change_nothing(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _file(tmp_path)
    bad, _ = import_json(capsys, url, file, "--exclude", "colour=red")
    assert bad.code == 2 and "'colour' is not one of cost_centre" in bad.err
    empty, _ = import_json(capsys, url, file, "--exclude", "supplier=")
    assert empty.code == 2 and "is not FIELD=VALUE" in empty.err

    broken = write_csv(
        tmp_path / "broken.csv",
        [HEADER, ROWS[1], ["31/02/2025", "Acme", "x", "Z-1", "1.00", "0", "CS101", "4000"]],
    )
    refused, report = import_json(capsys, url, broken, "--exclude", "cost_centre=SS900")
    assert refused.code == 1 and report["refused"] is True
    assert count(db, ImportExclusion) == 0 and count(db, SpendLine) == 0


def test_a_closed_grant_refuses_imports(
    db: Database, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with db.unit_of_work() as session:
        grant = session.scalars(select(Grant).where(Grant.reference == GRANT)).one()
        grant.closed_at = utcnow()
    result, _ = import_json(capsys, url, _file(tmp_path))
    assert result.code == 1 and "closed for the year" in result.err
    assert count(db, SpendLine) == 0


def test_the_windows_exclusions_box_is_read_like_the_options() -> None:
    from fundtracker.errors import ValidationError
    from fundtracker.ledger.exclusions import ExcludeRule, parse_exclusions_text

    rules, rows = parse_exclusions_text("cost_centre=SS900; row 14\naccount code=9000, row 3")
    assert rules == (ExcludeRule("cost_centre", "SS900"), ExcludeRule("account_code", "9000"))
    assert rows == frozenset({3, 14})
    assert parse_exclusions_text("  ") == ((), frozenset())
    with pytest.raises(ValidationError) as refused:
        parse_exclusions_text("row x, colour=red")
    assert "'row x' is not 'row' and a row number" in str(refused.value)
    assert "'colour' is not one of" in str(refused.value)
