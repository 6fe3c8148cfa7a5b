"""Small grants and spend lines for the figures and checks tests, set up through the services
(plans and grants from TOML text, as an officer would) with spend lines written directly."""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal

from fundtracker.models import Grant, Narrative, SpendLine
from fundtracker.services import grants, plans
from fundtracker.setup_files import read_grant, read_plan
from fundtracker.storage import Database

PCC_PLAN = """
[plan]
key = "pcc"
name = "Police and Crime Plan"
kind = "pcc"
effective_from = 2025-04-01
effective_to = 2029-03-31

[[priorities]]
code = "P1"
title = "Protecting People"

[[priorities]]
code = "P2"
title = "Protecting Places"

[[priorities]]
code = "P3"
title = "Protecting Property"
"""

CSP_PLAN = """
[plan]
key = "csp"
name = "CSP Plan"
kind = "csp"
effective_from = 2025-04-01

[[priorities]]
code = "C1"
title = "Acquisitive Crime"

[[priorities]]
code = "C2"
title = "Anti-Social Behaviour"
"""


def load_plans(db: Database) -> None:
    for text in (PCC_PLAN, CSP_PLAN):
        plans.import_plan(db, read_plan(tomllib.loads(text)))


def load_grant_toml(db: Database, text: str) -> None:
    grants.import_grant(db, read_grant(tomllib.loads(text)))


def add_line(
    db: Database,
    grant_reference: str,
    day: date,
    net: str,
    allocation: str | None = None,
    vat: str = "0.00",
    vat_recoverable: bool = True,
    status: str = "paid",
    supplier: str = "Supplier Ltd",
    reference: str = "",
) -> int:
    """A spend line written straight to the database (no lock or validation: tests only)."""
    with db.unit_of_work() as session:
        grant = grants.get_grant(session, grant_reference)
        allocation_id = (
            next(a.id for a in grant.allocations if a.code == allocation) if allocation else None
        )
        line = SpendLine(
            grant_id=grant.id,
            allocation_id=allocation_id,
            date=day,
            net=Decimal(net),
            vat=Decimal(vat),
            vat_recoverable=vat_recoverable,
            status=status,
            supplier=supplier,
            reference=reference,
        )
        session.add(line)
        session.flush()
        return line.id


def set_forecast(db: Database, grant_reference: str, code: str, period: str, amount: str) -> None:
    with db.unit_of_work() as session:
        grant: Grant = grants.get_grant(session, grant_reference)
        allocation = next(a for a in grant.allocations if a.code == code)
        session.add(
            Narrative(
                grant_id=grant.id,
                allocation_id=allocation.id,
                period=period,
                forecast=Decimal(amount),
            )
        )


# The main hand-worked grant: three projects, two plans, lines of every kind (see
# tests/test_figures.py for the figures worked out from them).
MAIN_GRANT = """
[grant]
reference = "T-1"
name = "Test grant"
funder = "PCC"
recipient = "CSP"
award = "10000.00"
start = 2025-04-01
end = 2026-03-31
aligned_plan = "pcc"
local_plan = "csp"

[[grant.payments]]
date = 2025-05-01
amount = "6000.00"
received = true

[[grant.payments]]
date = 2025-10-01
amount = "3000.00"
received = true

[[grant.payments]]
date = 2026-01-15
amount = "1000.00"
received = false

[[allocations]]
code = "A"
name = "Youth work"
lead = "Council"
budget = "6000.00"
profile = ["1000.00", "2000.00", "2000.00", "1000.00"]
[allocations.priorities]
pcc = { P1 = 60, P2 = 40 }
csp = { C2 = 50, C1 = 50 }

[[allocations]]
code = "B"
name = "Scams workshops"
lead = "Charity"
budget = "1000.00"
[allocations.priorities]
pcc = { P1 = 33.33, P2 = 33.33, P3 = 33.34 }

[[allocations]]
code = "C"
name = "Small grants"
lead = "Council"
budget = "100.03"
"""


def main_grant(db: Database) -> None:
    """The main grant and its lines (ids 1..11 in this order on a fresh database)."""
    load_plans(db)
    load_grant_toml(db, MAIN_GRANT)
    t = "T-1"
    add_line(db, t, date(2025, 4, 10), "500.00", "A", vat="100.00")  # Q1, VAT recoverable
    add_line(
        db,
        t,
        date(2025, 7, 15),
        "300.00",
        "A",
        vat="60.00",
        vat_recoverable=False,
        status="accrued",
    )  # Q2, claimable 360.00
    add_line(db, t, date(2025, 8, 1), "-50.01", "A")  # Q2 credit note
    add_line(db, t, date(2025, 9, 30), "200.00", "A", status="committed")  # on the period end
    add_line(db, t, date(2025, 10, 1), "999.00", "A")  # after the Q2 period end
    add_line(db, t, date(2025, 6, 30), "100.00", "B")  # Q1
    add_line(db, t, date(2025, 7, 1), "0.01", "B")  # Q2
    add_line(db, t, date(2025, 8, 20), "40.00", vat="8.00", vat_recoverable=False)  # unassigned
    add_line(db, t, date(2025, 9, 1), "10.00", status="committed")  # unassigned, committed
    add_line(db, t, date(2025, 3, 31), "700.00", "A")  # before the grant starts
    add_line(db, t, date(2026, 4, 1), "80.00", "C")  # after the grant ends
