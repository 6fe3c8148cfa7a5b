"""What cells show and what editors start with: plain Python, no window needed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fundtracker.services.ledger_view import LedgerRow


def _row(**changes: object) -> LedgerRow:
    values: dict[str, object] = {
        "id": 7,
        "version": 1,
        "date": date(2025, 7, 3),
        "allocation": None,
        "supplier": "Acme",
        "description": "",
        "reference": "R1",
        "cost_centre": "",
        "account_code": "",
        "net": Decimal("-1234.50"),
        "vat": Decimal("0.00"),
        "vat_recoverable": True,
        "status": "paid",
        "notes": "",
        "attachments": 2,
    }
    return LedgerRow(**{**values, **changes})  # type: ignore[arg-type]


def test_ledger_cells_show_money_and_dates_as_the_officer_reads_them() -> None:
    from ui.models.spend_model import display_text, edit_text

    row = _row()
    assert display_text(row, "net") == "-£1,234.50"
    assert edit_text(row, "net") == "-1234.50"  # what the core parses back exactly
    assert display_text(row, "date") == "03/07/2025"
    assert display_text(row, "allocation") == "—" and edit_text(row, "allocation") == ""
    assert display_text(row, "attachments") == "2 files"  # the Evidence column
    assert display_text(_row(attachments=0), "attachments") == ""
    assert display_text(row, "id") == "7"  # the Line column: the number messages cite


def test_audit_names_records_without_repeating_words() -> None:
    from ui.pages.audit import what

    assert what("spend line", "line 145") == "spend line 145"
    assert what("allocation", "A01") == "allocation A01"
    assert what("import batch", "") == "import batch"


def test_narrative_values_for_editing() -> None:
    from fundtracker.models import Narrative
    from ui.pages.returns import narrative_values

    assert narrative_values(None) == {
        "rag": "",
        "outputs": "",
        "variance_explanation": "",
        "forecast": "",
    }
    narrative = Narrative(rag="A", outputs="x", variance_explanation="y", forecast=Decimal("5"))
    assert narrative_values(narrative)["forecast"] == "5.00"
