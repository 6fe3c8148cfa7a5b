"""Shared set-up for the monitoring return tests: the demo year plus lines and narratives
whose text a spreadsheet would run as a formula if it were written carelessly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fundtracker.periods import Period
from fundtracker.returns import narratives
from fundtracker.services import spend
from fundtracker.storage import Database

GRANT = "CRG-2025-26"
Q2 = Period.parse("2025/26-Q2")
HOSTILE = [
    '=HYPERLINK("http://example.invalid/steal","Click")',
    "+1",
    "-x",
    "@SUM(A1:A2)",
    "\tTabbed",
    "\rCarriage",
]


def add_hostile_lines(db: Database) -> list[int]:
    """One Q2 line per hostile text (in supplier, description and reference), plus one
    unassigned Q2 line and one unassigned commitment, so the Unassigned row appears."""
    ids = []
    for n, text in enumerate(HOSTILE):
        line = spend.add_spend(
            db,
            GRANT,
            {
                "date": date(2025, 8, 1 + n),
                "allocation": "A01",
                "supplier": text,
                "description": text,
                "reference": text[:100],
                "net": Decimal("10.00"),
            },
        )
        ids.append(line.id)
    # Leading tab and CR are kept by the spend service only when not stripped; store them
    # exactly through the narrative instead (see set_hostile_narrative).
    unassigned = spend.add_spend(
        db, GRANT, {"date": date(2025, 9, 10), "net": Decimal("123.45"), "supplier": "Nobody"}
    )
    committed = spend.add_spend(
        db,
        GRANT,
        {"date": date(2025, 9, 11), "net": Decimal("50.00"), "status": "committed"},
    )
    return [*ids, unassigned.id, committed.id]


def set_hostile_narrative(db: Database) -> None:
    narratives.set_narrative(
        db,
        GRANT,
        Q2,
        "A01",
        {"rag": "A", "outputs": HOSTILE[0], "variance_explanation": "\rCarriage\tand tab"},
    )
    narratives.set_narrative(db, GRANT, Q2, "A02", {"outputs": "\tTabbed", "forecast": "4400"})


def money(value: Any) -> Decimal:
    """A numeric cell read back by openpyxl, as an exact amount."""
    return Decimal(str(value)).quantize(Decimal("0.01"))
