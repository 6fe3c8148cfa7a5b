"""The board report as plain data: what the partnership's board and the Police and Crime Panel
read on two to four printed pages, taken from the return document itself (the submitted
snapshot while the period's return stands submitted, otherwise the return as it would be
exported now), so every figure is the return's. The drawing (ui/board_report_pdf.py) formats
nothing of its own: every text it prints is here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fundtracker.dates import local_date
from fundtracker.money import format_money
from fundtracker.periods import Period
from fundtracker.returns.snapshot import build_return, checksum
from fundtracker.returns.submission import DRAFT, SUBMITTED
from fundtracker.services.grants import get_grant
from fundtracker.services.locks import submitted_for_period
from fundtracker.storage import Database

# A board reads a summary: longer texts and lists stay whole in the return workbook.
NARRATIVE_LIMIT = 900  # characters of each narrative text
ATTENTION_LIMIT = 14  # check findings listed
SAME_KIND_SHOWN = 2  # findings of one kind listed before "… and N more like the above"
GOOD, BAD, NEUTRAL = "good", "bad", "neutral"  # the tone a figure is drawn in


@dataclass(frozen=True)
class Headline:
    label: str
    value: str  # as the return shows it: £29,310.09
    note: str  # the line under it: "66% of the award"
    tone: str = NEUTRAL  # BAD for an overspend: never drawn green


@dataclass(frozen=True)
class Bar:
    """One row of a chart: spend (and commitments) against a budget."""

    label: str
    budget: Decimal
    spent: Decimal
    committed: Decimal
    rag: str  # the return's RAG letter for a project; "" for a priority
    text: str  # the figures beside the bar, as printed
    budgeted: bool = True  # False for spend with no budget of its own (Unassigned, Unaligned)

    @property
    def over_budget(self) -> bool:
        return self.budgeted and self.spent + self.committed > self.budget


@dataclass(frozen=True)
class Chart:
    title: str
    bars: tuple[Bar, ...]
    legend: str  # what the bar's parts mean, in words


@dataclass(frozen=True)
class OutcomeRow:
    project: str
    outcome: str  # code and title
    unit: str
    annual_target: str
    target_to_date: str
    actual_to_date: str
    percent_of_target: str  # "82.5%", or "—" when nothing was due yet


@dataclass(frozen=True)
class Attention:
    severity: str  # "Error" or "Warning"
    subject: str  # "A02", "line 142"; empty for the grant as a whole
    message: str


@dataclass(frozen=True)
class ProjectNarrative:
    heading: str  # "A01 Youth diversion programme — RAG A (Amber)"
    outputs: str
    variance_explanation: str


@dataclass(frozen=True)
class BoardReport:
    grant: str
    title: str
    funder: str
    recipient: str
    period: str
    period_dates: str
    status: str  # Draft or Submitted
    version: int | None
    checksum: str
    prepared: str
    headlines: tuple[Headline, ...]
    projects: Chart
    priorities: tuple[Chart, ...]  # the PCC plan's, then the local plan's
    outcomes: tuple[OutcomeRow, ...]
    attention: tuple[Attention, ...]
    attention_more: int  # findings left out of the list (they are in the return)
    narratives: tuple[ProjectNarrative, ...]

    @property
    def document_title(self) -> str:
        return f"Board report: {self.title} ({self.grant}), {self.period}"

    @property
    def return_status(self) -> str:
        if self.status == SUBMITTED:
            return f"Return submitted, version {self.version}"
        return "Draft return, not yet submitted"

    @property
    def footer(self) -> str:
        return f"{self.grant} · {self.period} · {self.return_status}"

    @property
    def footer_checksum(self) -> str:
        return f"Return checksum (SHA-256): {self.checksum}"


def build_board_report(
    db: Database, grant_reference: str, period: Period, today: date | None = None
) -> BoardReport:
    """The board report of ``period``: from the submitted snapshot while the return stands
    submitted (the figures the OPCC has), otherwise from the return as it stands now."""
    with db.read() as session:
        grant = get_grant(session, grant_reference)
        standing = submitted_for_period(session, grant.id, str(period))
        if standing is not None:
            document = json.loads(standing.snapshot)
            return board_report_from(
                document, SUBMITTED, standing.version_number, standing.checksum
            )
        document = build_return(
            db, session, grant_reference, period, db.os_user, today or local_date()
        )
    return board_report_from(document, DRAFT, None, checksum(document))


def board_report_from(
    document: Mapping[str, Any], status: str, version: int | None, digest: str
) -> BoardReport:
    """The board report of a return document (as ``build_return`` makes or a snapshot keeps)."""
    report = document["report"]
    details = report["grant_details"]
    start, end = (
        date.fromisoformat(report["period_start"]),
        date.fromisoformat(report["period_end"]),
    )
    prepared_on = date.fromisoformat(document["prepared_on"])
    found = attention(document.get("checks", []))
    return BoardReport(
        grant=report["grant"],
        title=details["name"],
        funder=details["funder"],
        recipient=details["recipient"],
        period=report["period"],
        period_dates=f"{start:%d/%m/%Y} to {end:%d/%m/%Y}",
        status=status,
        version=version,
        checksum=digest,
        prepared=f"Prepared by {document['prepared_by']} on {prepared_on:%d/%m/%Y}",
        headlines=headlines(report),
        projects=project_chart(report, document.get("projects", [])),
        priorities=tuple(priority_charts(report)),
        outcomes=tuple(outcome_rows(report)),
        attention=tuple(found[:ATTENTION_LIMIT]),
        attention_more=max(0, len(found) - ATTENTION_LIMIT),
        narratives=tuple(_narratives(report, document.get("projects", []))),
    )


# --- Headline figures ----------------------------------------------------------------------


def _money(value: str) -> str:
    return format_money(Decimal(value))


def percent_of(part: Decimal, whole: Decimal) -> str:
    """``66%``: whole percent, half up; an empty string when there is no whole."""
    if whole == 0:
        return ""
    share = (part * 100 / whole).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return f"{share}%"


def headlines(report: Mapping[str, Any]) -> tuple[Headline, ...]:
    s = {key: Decimal(value) for key, value in report["summary"].items()}
    award = s["award"]

    def share(key: str) -> str:
        shown = percent_of(s[key], award)
        return f"{shown} of the award" if shown else ""

    if s["projected_overspend"] > 0:
        projection = Headline(
            "Projected overspend",
            _money(report["summary"]["projected_overspend"]),
            "forecast above the award",
            BAD,
        )
    else:
        projection = Headline(
            "Projected underspend",
            _money(report["summary"]["projected_underspend"]),
            "to be returned unless spent" if s["projected_underspend"] else "on budget",
            NEUTRAL,
        )
    end = date.fromisoformat(report["grant_details"]["end"])
    as_at = date.fromisoformat(report["period_end"])
    left = max((end - as_at).days, 0)
    return (
        Headline("Award", _money(report["summary"]["award"]), report["grant_details"]["funder"]),
        Headline("Received", _money(report["summary"]["received"]), share("received")),
        Headline(
            "Spend to date", _money(report["summary"]["spend_to_date"]), share("spend_to_date")
        ),
        Headline("Committed", _money(report["summary"]["committed"]), "orders not yet invoiced"),
        Headline(
            "Forecast outturn",
            _money(report["summary"]["forecast_outturn"]),
            share("forecast_outturn"),
        ),
        projection,
        Headline("Days left", str(left), f"the grant ends {end:%d/%m/%Y}"),
        Headline(
            "Spend this period", _money(report["summary"]["spend_this_period"]), report["period"]
        ),
    )


# --- Charts --------------------------------------------------------------------------------


def _bar_text(spent: Decimal, committed: Decimal, budget: Decimal | None) -> str:
    """The figures beside a bar; ``budget`` None for spend with no budget of its own."""
    if budget is None:
        text = f"{format_money(spent)} spent, no budget of its own"
        return text + (f" + {format_money(committed)} committed" if committed else "")
    text = f"{format_money(spent)} of {format_money(budget)}"
    shown = percent_of(spent, budget)
    if shown:
        text += f" ({shown})"
    if committed:
        text += f" + {format_money(committed)} committed"
    over = spent + committed - budget
    if over > 0:
        text += f"; {format_money(over)} over"
    return text


def project_chart(report: Mapping[str, Any], projects: Sequence[Mapping[str, Any]]) -> Chart:
    rags = {p["code"]: p.get("rag", "") for p in projects}
    bars = []
    for item in report["allocations"]:
        spent, committed = Decimal(item["spend_to_date"]), Decimal(item["committed"])
        budget = Decimal(item["budget"])
        bars.append(
            Bar(
                f"{item['code']} {item['name']}",
                budget,
                spent,
                committed,
                rags.get(item["code"], ""),
                _bar_text(spent, committed, budget),
            )
        )
    unassigned = report["unassigned"]
    spent, committed = Decimal(unassigned["spend_to_date"]), Decimal(unassigned["committed"])
    if spent or committed:
        bars.append(
            Bar(
                "Unassigned (no project yet)",
                Decimal("0.00"),
                spent,
                committed,
                "",
                _bar_text(spent, committed, None),
                budgeted=False,
            )
        )
    return Chart(
        "Spend by project against budget",
        tuple(bars),
        "Bar: the budget; dark: spent to date; light: committed; red: beyond the budget. "
        "RAG as in the return.",
    )


def priority_charts(report: Mapping[str, Any]) -> list[Chart]:
    details = report["grant_details"]
    plans = [("PCC priority", details["aligned_plan"]), ("local priority", details["local_plan"])]
    charts = []
    for kind, plan in plans:
        if not plan:
            continue
        bars = []
        for row in report["priorities"]:
            if row["plan"] != plan["key"]:
                continue
            spent, budget = Decimal(row["spend_to_date"]), Decimal(row["budget"])
            if row["code"] is None and not spent and not budget:
                continue  # an empty Unaligned row says nothing
            zero = Decimal("0.00")
            if row["code"] is None and not budget:  # spend serving none of the priorities
                bars.append(
                    Bar(row["title"], zero, spent, zero, "", _bar_text(spent, zero, None), False)
                )
                continue
            label = f"{row['code']} {row['title']}" if row["code"] else row["title"]
            bars.append(Bar(label, budget, spent, zero, "", _bar_text(spent, zero, budget)))
        charts.append(
            Chart(
                f"Spend by {kind}: {plan['name']}",
                tuple(bars),
                "Bar: the budget share; dark: spent to date; red: beyond it. Projects split "
                "over priorities by their weights; Unaligned is spend serving none.",
            )
        )
    return charts


# --- Outcomes, checks and narratives -------------------------------------------------------


def outcome_rows(report: Mapping[str, Any]) -> list[OutcomeRow]:
    """Each project's outcome measures (the report's ``outcomes``; none before they exist)."""
    rows = []
    for item in report["allocations"]:
        for outcome in item.get("outcomes") or []:
            percent = outcome.get("unit") == "percent"
            suffix = "%" if percent else ""
            reached = outcome.get("percent_of_target")
            rows.append(
                OutcomeRow(
                    project=item["code"],
                    outcome=f"{outcome['code']} {outcome['title']}",
                    unit="percent" if percent else "count",
                    annual_target=f"{outcome['target']}{suffix}",
                    target_to_date=f"{outcome['target_to_date']}{suffix}",
                    actual_to_date=(
                        "—"
                        if outcome.get("actual_to_date") is None
                        else f"{outcome['actual_to_date']}{suffix}"
                    ),
                    percent_of_target="—" if reached is None else f"{reached}%",
                )
            )
    return rows


def attention(checks: Sequence[Mapping[str, Any]]) -> list[Attention]:
    """Errors first, then warnings (notes are left to the return); of a kind found many times
    (a line without evidence each), the first ``SAME_KIND_SHOWN`` and how many more."""
    wanted = [c for c in checks if c["severity"] in ("error", "warning")]
    wanted.sort(key=lambda c: c["severity"] != "error")
    by_code: dict[str, list[Mapping[str, Any]]] = {}
    for check in wanted:
        by_code.setdefault(check["code"], []).append(check)
    items = []
    for found in by_code.values():
        shown = found if len(found) <= SAME_KIND_SHOWN + 1 else found[:SAME_KIND_SHOWN]
        for check in shown:
            items.append(
                Attention(check["severity"].capitalize(), _subject(check), check["message"])
            )
        more = len(found) - len(shown)
        if more:
            severity = found[0]["severity"].capitalize()
            items.append(Attention(severity, "", f"… and {more} more like the above."))
    return items


def _subject(check: Mapping[str, Any]) -> str:
    kind = check.get("subject_kind", "grant")
    if kind == "spend_line":
        return f"line {check['subject']}"
    return "" if kind == "grant" else str(check["subject"])


RAG_WORDS = {"G": "Green", "A": "Amber", "R": "Red"}


def _shortened(text: str) -> str:
    text = text.strip()
    if len(text) <= NARRATIVE_LIMIT:
        return text
    return text[:NARRATIVE_LIMIT].rsplit(" ", 1)[0] + " … (the whole text is in the return)"


def _narratives(
    report: Mapping[str, Any], projects: Sequence[Mapping[str, Any]]
) -> list[ProjectNarrative]:
    names = {a["code"]: a["name"] for a in report["allocations"]}
    found = []
    for project in projects:
        outputs = _shortened(project.get("outputs", ""))
        explanation = _shortened(project.get("variance_explanation", ""))
        if not outputs and not explanation:
            continue
        rag = project.get("rag", "")
        found.append(
            ProjectNarrative(
                f"{project['code']} {names.get(project['code'], '')} — RAG {rag} "
                f"({RAG_WORDS.get(rag, rag)})",
                outputs,
                explanation,
            )
        )
    return found
