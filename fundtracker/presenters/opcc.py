"""What the OPCC's pages show (issue 16): the returns received and what became of each file,
the funded partnerships with the returns they owe, and the county figures for a period.

Plain Python over the core (fundtracker/opcc); the window only lays it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, select

from fundtracker.checks import Finding
from fundtracker.dates import officer_time_zone
from fundtracker.models import FundedPartnership, ReceivedReturn, Submission
from fundtracker.money import format_money
from fundtracker.opcc import funded, receiving
from fundtracker.opcc.county import county_figures
from fundtracker.periods import Period
from fundtracker.storage import Database

SHORT_SHA = 12  # characters of a SHA-256 shown in a table; the tooltip gives it whole


def opcc_in_use(db: Database) -> bool:
    """True once the database records a funded partnership or a received return: the OPCC's
    pages then show without being asked for."""
    with db.read() as session:
        return bool(
            session.scalar(select(exists().select_from(FundedPartnership)))
            or session.scalar(select(exists().select_from(ReceivedReturn)))
        )


def submissions_here(db: Database) -> bool:
    """True when partnerships submit their returns in this very database (a shared server):
    the OPCC can then receive them from it, without workbooks."""
    with db.read() as session:
        return bool(session.scalar(select(exists().select_from(Submission))))


def _money(text: str) -> str:
    return format_money(Decimal(text))


# --- Received returns ------------------------------------------------------------------------

STATUS_WORDS = {
    receiving.ADDED: "Added",
    receiving.SUPERSEDED: "Added: supersedes",
    receiving.ALREADY: "Already received",
    receiving.REFUSED: "Refused",
}


@dataclass(frozen=True)
class ReceivedRow:
    recipient: str
    grant_reference: str
    period: str
    version: int
    status: str  # Current or Superseded
    prepared_by: str
    received_on: str  # the officer's local date and time
    file: str
    file_sha256: str

    @property
    def sha_short(self) -> str:
        return self.file_sha256[:SHORT_SHA] + "…"


def received_on(moment: datetime) -> str:
    """A stored UTC time as the officer's local day and time."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(officer_time_zone()).strftime("%d/%m/%Y %H:%M")


def received_rows(db: Database) -> list[ReceivedRow]:
    """Every return received, every version, newest version first within each return."""
    rows = []
    for item in receiving.list_received(db):
        rows.append(
            ReceivedRow(
                item["recipient"],
                item["grant_reference"],
                item["period"],
                item["version"],
                str(item["status"]).capitalize(),
                item["prepared_by"],
                received_on(datetime.fromisoformat(item["received_at"])),
                item["file"],
                item["file_sha256"],
            )
        )
    return rows


@dataclass(frozen=True)
class OutcomeRow:
    file: str
    status: str  # the officer's words for added, superseded, already, refused
    what: str  # recipient, grant reference, period and version, when the file was a return
    reason: str
    refused: bool


def outcome_rows(outcomes: Sequence[receiving.Outcome]) -> list[OutcomeRow]:
    """One row a file, the refused first: they are what the officer must act on."""
    rows = []
    for o in outcomes:
        what = f"{o.recipient} {o.grant_reference} {o.period} v{o.version}" if o.period else ""
        rows.append(
            OutcomeRow(
                o.file,
                STATUS_WORDS[o.status],
                what.strip(),
                o.reason,
                o.status == receiving.REFUSED,
            )
        )
    return sorted(rows, key=lambda r: not r.refused)


def outcome_summary(outcomes: Sequence[receiving.Outcome], noun: str = "file") -> str:
    """One line for the whole batch: "3 files: 2 added, 1 refused" (or "3 returns: …")."""
    counts: dict[str, int] = {}
    for o in outcomes:
        word = "added" if o.status == receiving.SUPERSEDED else o.status
        counts[word] = counts.get(word, 0) + 1
    order = ("added", receiving.ALREADY, receiving.REFUSED)
    words = {"already": "already received"}
    parts = [f"{counts[k]} {words.get(k, k)}" for k in order if k in counts]
    files = f"1 {noun}" if len(outcomes) == 1 else f"{len(outcomes)} {noun}s"
    return f"{files}: {', '.join(parts)}" if parts else f"no {noun}s"


# --- Funded partnerships and the returns they owe --------------------------------------------

FIELD_LABELS = {
    "recipient": "Partnership",
    "grant_reference": "Grant reference",
    "award": "Award",
    "start": "Start",
    "end": "End",
    "returns": "Returns",
}


@dataclass(frozen=True)
class FundedRow:
    id: int
    version: int
    fields: dict[str, Any]  # as the officer types them (funded.funded_json)

    @property
    def award(self) -> str:
        return _money(self.fields["award"])

    @property
    def start(self) -> str:
        return f"{date.fromisoformat(self.fields['start']):%d/%m/%Y}"

    @property
    def end(self) -> str:
        return f"{date.fromisoformat(self.fields['end']):%d/%m/%Y}"

    @property
    def returns(self) -> str:
        return str(self.fields["returns"]).capitalize()


def funded_rows(db: Database) -> list[FundedRow]:
    with db.read() as session:
        rows = session.scalars(select(FundedPartnership).order_by(FundedPartnership.recipient))
        return [FundedRow(r.id, r.version, funded.funded_json(r)) for r in rows]


def funded_refusal(message: str) -> tuple[str, str]:
    """(field, message in the window's words) for a refusal that names a flag
    (``--award: ...``); the field is "" when it names none."""
    flag, _, rest = message.partition(": ")
    field = flag.removeprefix("--").replace("-", "_")
    if flag.startswith("--") and field in FIELD_LABELS:
        return field, f"{FIELD_LABELS[field]}: {rest}"
    return "", message


@dataclass(frozen=True)
class ExpectedRow:
    recipient: str
    grant_reference: str
    period: str
    due: str
    received_on: str
    state: str  # Received, Late (n days), Missing, Not yet due


def expected_rows(db: Database, today: date) -> list[ExpectedRow]:
    """Every return owed up to the end of the financial year holding ``today``, newest period
    first, saying whether it came, came late, is missing or is not yet due."""
    with db.read() as session:
        owed = funded.expected_returns(session, Period.year_of(today).end)
    rows = []
    for item in sorted(owed, key=lambda e: (-e.period.end.toordinal(), e.recipient)):
        rows.append(
            ExpectedRow(
                item.recipient,
                item.grant_reference,
                str(item.period),
                f"{item.due:%d/%m/%Y}",
                f"{item.received_on:%d/%m/%Y}" if item.received_on else "",
                _state(item, today),
            )
        )
    return rows


def _state(item: funded.ExpectedReturn, today: date) -> str:
    if item.received_on is not None:
        late = (item.received_on - item.due).days
        return f"Late ({late} days)" if late > 0 else "Received"
    return "Missing" if item.due < today else "Not yet due"


def return_findings(db: Database, today: date) -> list[Finding]:
    """RETURN_MISSING first, then RETURN_LATE (as ``funded check`` lists them)."""
    findings = funded.return_findings(db, today)
    return sorted(findings, key=lambda f: f.severity != "error")


# --- County ----------------------------------------------------------------------------------


def county_periods(db: Database) -> tuple[list[Period], Period | None]:
    """The quarters the county can be shown for, latest first — each ending when a received
    or expected return's period ends (an H1 return counts at Q2) — and the one to open on:
    the latest with a return received."""
    with db.read() as session:
        received = {Period.parse(p).end for p in session.scalars(select(ReceivedReturn.period))}
        owed = {e.period.end for e in funded.expected_returns(session, date.max)}
    periods = sorted((Period.quarter_of(end) for end in received | owed), key=lambda p: p.end)
    opening = Period.quarter_of(max(received)) if received else None
    return periods[::-1], opening or (periods[0] if periods else None)


def plans_of(figures: dict[str, Any]) -> list[dict[str, str]]:
    """Every plan version the period's returns are aligned to, by key (a chooser's items
    stay in one order whichever is chosen)."""
    found = {figures["plan"]["key"]: figures["plan"]} if figures["plan"] else {}
    for item in figures["other_plans"]:
        if item["plan"]:
            found[item["plan"]["key"]] = item["plan"]
    return [found[key] for key in sorted(found)]


PARTNERSHIP_MONEY = (
    ("Award", "award"),
    ("Received", "received"),
    ("Spend to date", "spend_to_date"),
    ("Committed", "committed"),
    ("Forecast outturn", "forecast_outturn"),
    ("Projected underspend", "projected_underspend"),
    ("Projected overspend", "projected_overspend"),
    ("Unassigned", "unassigned"),
)
PARTNERSHIP_HEADERS = (
    "Partnership",
    "Grant reference",
    "Version",
    *(label for label, _ in PARTNERSHIP_MONEY),
    "Checks with errors",
    "File SHA-256",
)
PRIORITY_HEADERS = ("Code", "Priority", "Budget", "Spend to date")
OUTCOME_HEADERS = (
    "Code",
    "Measure",
    "Partnerships",
    "Target",
    "Target to date",
    "Actual to date",
    "% of target",
)
MISSING_HEADERS = ("Status", "Partnership", "Grant reference", "Period", "Due", "Received on")


@dataclass(frozen=True)
class CountyView:
    """The county page's tables, as text, from ``county_figures``."""

    figures: dict[str, Any]
    partnerships: list[tuple[str, ...]]  # the last row is the Total
    priorities: list[tuple[str, ...]]  # the Unaligned row, then the Total
    outcomes: list[tuple[str, ...]]  # measures summed where they share a code and unit
    attention: list[str]  # overspends, then underspends, largest first
    missing_and_late: list[tuple[str, ...]]
    other_plans: list[str]
    plans: list[dict[str, str]]


def county_view(db: Database, period: Period, plan_key: str | None = None) -> CountyView:
    figures = county_figures(db, period, plan_key)
    return CountyView(
        figures,
        _partnership_rows(figures),
        _priority_rows(figures),
        [_outcome_row(item) for item in figures["outcomes"]],
        [_attention(item) for item in figures["attention"]],
        _missing_rows(figures),
        [_other_plan(item) for item in figures["other_plans"]],
        plans_of(figures),
    )


def _partnership_rows(figures: dict[str, Any]) -> list[tuple[str, ...]]:
    rows = [
        (
            p["recipient"],
            p["grant_reference"],
            str(p["version"]),
            *(_money(p[key]) for _, key in PARTNERSHIP_MONEY),
            str(p["errors"]),
            p["file_sha256"][:SHORT_SHA] + "…",
        )
        for p in figures["partnerships"]
    ]
    totals = figures["totals"]
    total = ("Total", f"{totals['partnerships']} returns", "")
    rows.append(
        (*total, *(_money(totals[k]) for _, k in PARTNERSHIP_MONEY), str(totals["errors"]), "")
    )
    return rows


def _priority_rows(figures: dict[str, Any]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [
        (p["code"] or "", p["title"], _money(p["budget"]), _money(p["spend_to_date"]))
        for p in figures["priorities"]
    ]
    budget = sum((Decimal(p["budget"]) for p in figures["priorities"]), Decimal("0.00"))
    spend = sum((Decimal(p["spend_to_date"]) for p in figures["priorities"]), Decimal("0.00"))
    rows.append(("", "Total", format_money(budget), format_money(spend)))
    return rows


def _outcome_row(item: dict[str, Any]) -> tuple[str, ...]:
    """A count as a whole number, a percent with its sign; "—" where there is none (a
    percent's target when the partnerships' targets differ)."""

    def shown(value: Any, percent: bool) -> str:
        if value is None:
            return "—"
        return f"{value}%" if percent else f"{value:,}"

    percent = item["unit"] != "count"
    return (
        item["code"],
        item["title"],
        str(item["partnerships"]),
        *(shown(item[key], percent) for key in ("target", "target_to_date", "actual_to_date")),
        shown(item["percent_of_target"], True),
    )


def _attention(item: dict[str, Any]) -> str:
    share = f" ({item['percent_of_award']}% of the award)" if item["percent_of_award"] else ""
    return (
        f"{item['recipient']} ({item['grant_reference']}) projects an {item['kind']} of "
        f"{_money(item['amount'])}{share}"
    )


def _missing_rows(figures: dict[str, Any]) -> list[tuple[str, ...]]:
    def day(text: str | None) -> str:
        return f"{date.fromisoformat(text):%d/%m/%Y}" if text else ""

    rows: list[tuple[str, ...]] = [
        ("Missing", m["recipient"], m["grant_reference"], m["period"], day(m["due"]), "")
        for m in figures["missing"]
    ]
    rows += [
        (
            f"Late ({m['days_late']} days)",
            m["recipient"],
            m["grant_reference"],
            m["period"],
            day(m["due"]),
            day(m["received_on"]),
        )
        for m in figures["late"]
    ]
    return rows


def _other_plan(item: dict[str, Any]) -> str:
    plan = item["plan"]["name"] if item["plan"] else "no plan"
    return (
        f"{item['recipient']} ({item['grant_reference']}) follows {plan}: its allocated "
        f"{_money(item['allocated'])} and spend {_money(item['spend_to_date'])} are in Unaligned"
    )
