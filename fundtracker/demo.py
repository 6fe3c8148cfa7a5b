"""An illustrative year: Kent PCC's plan, Tonbridge and Malling CSP's priorities, and an
invented Crime Reduction Grant 2025/26 with about 150 spend lines across Q1–Q3.

The plans' names and priorities are real (see docs/DOMAIN.md); the award, projects, suppliers
and amounts are invented and say so in the grant's conditions text.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources

from sqlalchemy import select

from fundtracker.models import Grant
from fundtracker.operations import run_operation
from fundtracker.operations.outcomes import SetOutcomeActual
from fundtracker.periods import Period
from fundtracker.services import grants, plans, spend
from fundtracker.setup_files import read_grant, read_plan
from fundtracker.storage import Database

GRANT_REFERENCE = "CRG-2025-26"
REASON = "demo data (illustrative)"

# Per project: suppliers, typical net amount in pounds, lines to generate, VAT rate applied.
SUPPLIERS = {
    "A01": (["Kent Youth Trust", "Tonbridge Boxing Club", "Sports Kit Direct Ltd"], 140, 24, 0),
    "A02": (["RadioLink Security Ltd", "Tonbridge Town Team"], 320, 16, 20),
    "A03": (
        ["West Kent DA Forum", "Safe Spaces Catering", "Interpreting Services Kent"],
        160,
        28,
        0,
    ),
    "A04": (["Kent Police Overtime Recharge", "Hi-Vis Supplies Ltd"], 190, 20, 0),
    "A05": (["Printworks Maidstone", "Social Ads Agency Ltd"], 120, 14, 20),
    "A06": (["Community Hall Hire", "Scams Awareness Trainers"], 95, 12, 0),
    "A07": (["CCTV Solutions South East Ltd", "UK Power Networks"], 420, 12, 20),
    "A08": (["TMBC Payroll Recharge"], 330, 9, 0),
}
DESCRIPTIONS = {
    "A01": "Youth session",
    "A02": "Radio airtime and handsets",
    "A03": "One-stop shop session",
    "A04": "Hotspot patrol hours",
    "A05": "Campaign materials",
    "A06": "Workshop",
    "A07": "Camera works",
    "A08": "Analyst time",
}
Q1_TO_Q3 = (date(2025, 4, 1), date(2025, 12, 31))
# Outcome actuals for the quarters gone (project, outcome, quarter, actual, out of, note).
OUTCOME_ACTUALS: tuple[tuple[str, str, int, int, int | None, str], ...] = (
    ("A01", "YP", 1, 28, None, ""),
    ("A01", "YP", 2, 34, None, "Summer holiday sessions added"),
    ("A01", "YP", 3, 31, None, ""),
    ("A01", "CONF", 1, 22, 28, "End-of-block survey"),
    ("A01", "CONF", 2, 27, 34, ""),
    ("A01", "CONF", 3, 25, 31, ""),
    ("A03", "VS", 1, 41, None, ""),
    ("A03", "VS", 2, 47, None, ""),
    ("A03", "VS", 3, 44, None, ""),
    ("A03", "SAFE", 1, 35, 41, "Exit questionnaire"),
    ("A03", "SAFE", 2, 40, 47, ""),
    ("A03", "SAFE", 3, 38, 44, ""),
    ("A06", "OLD", 1, 52, None, ""),
    ("A06", "OLD", 2, 38, None, "Two workshops moved to October"),
    ("A06", "OLD", 3, 61, None, ""),
)


def _demo_file(name: str) -> str:
    return resources.files("fundtracker.demo_data").joinpath(name).read_text(encoding="utf-8")


def load_demo(db: Database) -> str:
    """Load the demo year into ``db`` (once: a database that has it already is left alone)."""
    import tomllib

    with db.read() as session:
        if session.scalar(select(Grant.id).where(Grant.reference == GRANT_REFERENCE)):
            return "already present"
    for name in ("kent-pcc-2025.toml", "tmbc-csp-2025-26.toml"):
        plans.import_plan(db, read_plan(tomllib.loads(_demo_file(name))), reason=REASON)
    grants.import_grant(
        db, read_grant(tomllib.loads(_demo_file("crg-2025-26.toml"))), reason=REASON
    )
    lines = demo_lines()
    for values in lines:
        spend.add_spend(db, GRANT_REFERENCE, values, reason=REASON)
    for project, outcome, quarter, actual, out_of, note in OUTCOME_ACTUALS:
        period = Period(2025, "Q", quarter)
        operation = SetOutcomeActual(
            GRANT_REFERENCE, period, project, outcome, actual, out_of, note
        )
        run_operation(db, operation, REASON)
    return f"2 plans, grant {GRANT_REFERENCE}, {len(lines)} spend lines"


def demo_lines() -> list[dict[str, object]]:
    """The demo's spend lines, the same every time."""
    rng = random.Random(2025)
    lines: list[dict[str, object]] = []
    for code, (suppliers, typical, count, vat_rate) in SUPPLIERS.items():
        for n in range(count):
            day = _spread_date(rng, n, count)
            net = Decimal(rng.randint(typical * 60, typical * 140)) / 100
            vat = (net * vat_rate / 100).quantize(Decimal("0.01"))
            lines.append(
                {
                    "date": day,
                    "allocation": code,
                    "supplier": rng.choice(suppliers),
                    "description": f"{DESCRIPTIONS[code]} {day:%b %Y}",
                    "reference": f"INV{rng.randint(100000, 999999)}",
                    "cost_centre": f"CS1{code[1:]}",
                    "account_code": rng.choice(["4100", "4200", "4310"]),
                    "net": net,
                    "vat": vat,
                    "status": "accrued" if day.month == 12 and n % 3 == 0 else "paid",
                }
            )
    lines.extend(_special_lines())
    lines.sort(key=lambda v: (v["date"], str(v["reference"])))
    return lines


def _spread_date(rng: random.Random, n: int, count: int) -> date:
    start, end = Q1_TO_Q3
    span = (end - start).days
    return start + timedelta(days=min(span, n * span // count + rng.randint(0, span // count)))


def _special_lines() -> list[dict[str, object]]:
    """Committed orders, credit notes, irrecoverable VAT and one line not yet assigned."""
    return [
        {
            "date": date(2025, 11, 20),
            "allocation": "A07",
            "supplier": "CCTV Solutions South East Ltd",
            "description": "Order: two replacement cameras",
            "reference": "PO40071",
            "net": "2350.00",
            "vat": "470.00",
            "status": "committed",
        },
        {
            "date": date(2025, 12, 2),
            "allocation": "A01",
            "supplier": "Kent Youth Trust",
            "description": "Order: spring holiday sessions",
            "reference": "PO40102",
            "net": "1200.00",
            "status": "committed",
        },
        {
            "date": date(2025, 12, 5),
            "allocation": "A03",
            "supplier": "West Kent DA Forum",
            "description": "Order: Q4 one-stop shop sessions",
            "reference": "PO40110",
            "net": "1800.00",
            "status": "committed",
        },
        {
            "date": date(2025, 12, 9),
            "allocation": "A05",
            "supplier": "Printworks Maidstone",
            "description": "Order: leaflet reprint",
            "reference": "PO40123",
            "net": "450.00",
            "vat": "90.00",
            "status": "committed",
        },
        {
            "date": date(2025, 12, 15),
            "allocation": "A06",
            "supplier": "Scams Awareness Trainers",
            "description": "Order: January workshops",
            "reference": "PO40131",
            "net": "600.00",
            "status": "committed",
        },
        {
            "date": date(2025, 6, 18),
            "allocation": "A02",
            "supplier": "RadioLink Security Ltd",
            "description": "Credit note: faulty handset returned",
            "reference": "CN2291",
            "net": "-180.00",
            "vat": "-36.00",
        },
        {
            "date": date(2025, 9, 3),
            "allocation": "A04",
            "supplier": "Hi-Vis Supplies Ltd",
            "description": "Credit note: overcharge",
            "reference": "CN3340",
            "net": "-42.50",
        },
        {
            "date": date(2025, 10, 28),
            "allocation": "A07",
            "supplier": "UK Power Networks",
            "description": "Journal: reverse miscoded connection charge",
            "reference": "JNL7781",
            "net": "-215.00",
        },
        {
            "date": date(2025, 11, 14),
            "allocation": "A06",
            "supplier": "Community Hall Hire",
            "description": "Hall hire (charity, VAT not recoverable)",
            "reference": "INV88012",
            "net": "120.00",
            "vat": "24.00",
            "vat_recoverable": False,
        },
        {
            "date": date(2025, 12, 18),
            "allocation": None,
            "supplier": "Tonbridge Print Shop",
            "description": "Posters — project to be confirmed",
            "reference": "INV88120",
            "net": "86.40",
            "vat": "17.28",
        },
    ]
