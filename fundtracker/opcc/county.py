"""County figures (issue 16): every partnership's received return for a period, added up.

The figures are the returns' own (their snapshots, verified on receipt): nothing is
recomputed. A half-yearly or annual return counts for the quarter it ends on (H1 for Q2).

Priorities are those of one PCC plan *version* (``--plan KEY``, by default the plan most
returns are aligned to). Only returns aligned to it give spend by its priorities; a return
following another plan (an older version) is listed in ``other_plans`` and its whole
allocated budget and spend count in the ``Unaligned`` row, with the parts of aligned returns
that serve no priority of the plan. So the priorities' budgets add up to the totals'
``allocated`` and their spend to the totals' ``spend_to_date``, to the penny.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundtracker.errors import NotFoundError
from fundtracker.models import ReceivedReturn
from fundtracker.money import money_str
from fundtracker.opcc.funded import ExpectedReturn, expected_returns
from fundtracker.opcc.receiving import CURRENT
from fundtracker.outcomes import COUNT, parse_percent, shown_target, tenths_half_up, tenths_text
from fundtracker.periods import Period
from fundtracker.storage import Database

# The partnership figures the county adds up: (key, the return's summary key).
MONEY_KEYS = (
    "award",
    "received",
    "allocated",
    "spend_to_date",
    "committed",
    "forecast_outturn",
    "projected_underspend",
    "projected_overspend",
    "unassigned",
)
UNALIGNED = "Unaligned"
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Received:
    """One current received return: where it came from and its report."""

    version: int
    file_name: str
    file_sha256: str
    checksum: str
    report: dict[str, Any]
    errors: int

    @property
    def plan(self) -> dict[str, str] | None:
        plan = self.report["grant_details"].get("aligned_plan")
        return dict(plan) if plan else None

    def money(self) -> dict[str, Decimal]:
        summary = self.report["summary"]
        values = {key: Decimal(summary[key]) for key in MONEY_KEYS if key in summary}
        values["unassigned"] = Decimal(self.report["unassigned"]["spend_to_date"])
        return values


def county_figures(db: Database, period: Period, plan_key: str | None = None) -> dict[str, Any]:
    """The county JSON of issue 16 for ``period`` (see the module docstring)."""
    with db.read() as session:
        returns = _current_returns(session, period)
        expected = [e for e in expected_returns(session, period.end) if e.period.end == period.end]
    plan = _chosen_plan(returns, plan_key)
    key = plan["key"] if plan else None
    aligned = [r for r in returns if r.plan and r.plan["key"] == key]
    others = [r for r in returns if not (r.plan and r.plan["key"] == key)]
    partnerships = [_partnership(r) for r in returns]
    return {
        "period": str(period),
        "plan": plan,
        "partnerships": partnerships,
        "totals": _totals(returns),
        "priorities": _priorities(aligned, others, key),
        "outcomes": county_outcomes(returns),
        "attention": _attention(partnerships),
        "missing": _missing(expected, returns),
        "late": _late(expected),
        "other_plans": [_other_plan(r) for r in others],
    }


def _current_returns(session: Session, period: Period) -> list[Received]:
    """The current version of every return whose period ends when ``period`` does."""
    table = ReceivedReturn.__table__.c
    rows = session.execute(
        select(
            table.id,
            table.period,
            table.version_number,
            table.file_name,
            table.file_sha256,
            table.checksum,
            _before_transactions(session, table.snapshot),
        )
        .where(table.status == CURRENT)
        .order_by(table.recipient, table.grant_reference)
    )
    found = []
    for row_id, period_text, version, file_name, file_sha256, checksum, head in rows:
        if Period.parse(period_text).end != period.end:
            continue
        quick = _checks_and_report(head or "")
        if quick is None:  # not the usual layout: read the snapshot whole
            whole = session.execute(select(table.snapshot).where(table.id == row_id)).scalar_one()
            document = json.loads(whole)
            quick = list(document.get("checks", [])), dict(document["report"])
        checks, report = quick
        errors = sum(1 for c in checks if c.get("severity") == "error")
        found.append(Received(version, file_name, file_sha256, checksum, report, errors))
    return found


def _before_transactions(session: Session, snapshot: Any) -> Any:
    """The snapshot's text up to its ``transactions`` (the last key, sorted, and nearly all
    of it: the county never reads 600 kB a return to skip them). SQLite calls the search
    ``instr``, PostgreSQL ``strpos``; both give 0 when it is not there, and so an empty text."""
    dialect = session.get_bind().dialect.name
    find = func.strpos if dialect == "postgresql" else func.instr
    return func.substr(snapshot, 1, find(snapshot, '"transactions":'))


_DECODER = json.JSONDecoder()


def _checks_and_report(snapshot: str) -> tuple[list[Any], dict[str, Any]] | None:
    """The snapshot's ``checks`` and ``report`` without parsing its ``transactions``, which
    are nearly all of it (a 2,000-line return is 600 kB; parsing 400 of them whole takes
    seconds). The stored snapshot is canonical JSON, keys sorted: it starts ``{"checks":``,
    and the first ``"report":`` in it is the top-level key (no key inside checks, projects
    or the other keys before it is so named, and a string holding those characters has its
    quotes escaped). None when the text is not laid out so (the caller parses it whole)."""
    found = snapshot.find('"report":')
    if not snapshot.startswith('{"checks":') or found < 0:
        return None
    checks_at, report_at = len('{"checks":'), found + len('"report":')
    try:
        checks, _ = _DECODER.raw_decode(snapshot, checks_at)
        report, _ = _DECODER.raw_decode(snapshot, report_at)
    except ValueError:
        return None
    if isinstance(checks, list) and isinstance(report, dict) and "summary" in report:
        return checks, report
    return None


def _chosen_plan(returns: list[Received], plan_key: str | None) -> dict[str, str] | None:
    plans = {r.plan["key"]: r.plan for r in returns if r.plan}
    if plan_key is not None:
        if plan_key not in plans:
            known = ", ".join(sorted(plans)) or "none: no returns are received for the period"
            raise NotFoundError(f"--plan: no received return is aligned to {plan_key} ({known})")
        return plans[plan_key]
    if not plans:
        return None
    counts = Counter(r.plan["key"] for r in returns if r.plan)
    # The plan most returns follow; on a tie the later key (a newer version sorts later).
    best = max(counts, key=lambda k: (counts[k], k))
    return plans[best]


def _partnership(item: Received) -> dict[str, Any]:
    report = item.report
    money = item.money()
    return {
        "recipient": report["grant_details"].get("recipient", ""),
        "grant_reference": report["grant"],
        "return_period": report["period"],
        "version": item.version,
        **{key: money_str(money.get(key, ZERO)) for key in MONEY_KEYS},
        "unassigned_committed": report["unassigned"]["committed"],
        "errors": item.errors,
        "plan": item.plan["key"] if item.plan else None,
        "file": item.file_name,
        "file_sha256": item.file_sha256,
        "checksum": item.checksum,
    }


def _totals(returns: list[Received]) -> dict[str, Any]:
    sums = dict.fromkeys(MONEY_KEYS, ZERO)
    for item in returns:
        for key, value in item.money().items():
            sums[key] += value
    totals: dict[str, Any] = {key: money_str(value) for key, value in sums.items()}
    totals["errors"] = sum(item.errors for item in returns)
    totals["partnerships"] = len(returns)
    return totals


def _priorities(
    aligned: list[Received], others: list[Received], plan_key: str | None
) -> list[dict[str, Any]]:
    """The plan's priorities summed over the aligned returns, then the Unaligned row."""
    rows: dict[str, dict[str, Any]] = {}
    unaligned = {"budget": ZERO, "spend_to_date": ZERO}
    for item in aligned:
        for row in item.report["priorities"]:
            if row["plan"] != plan_key:
                continue
            target = unaligned if row["code"] is None else _priority_row(rows, row)
            target["budget"] += Decimal(row["budget"])
            target["spend_to_date"] += Decimal(row["spend_to_date"])
    for item in others:  # following another plan: nothing of it serves this plan's priorities
        unaligned["budget"] += Decimal(item.report["summary"]["allocated"])
        unaligned["spend_to_date"] += Decimal(item.report["summary"]["spend_to_date"])
    listed = [
        {
            **row,
            "budget": money_str(row["budget"]),
            "spend_to_date": money_str(row["spend_to_date"]),
        }
        for row in rows.values()
    ]
    listed.append(
        {
            "code": None,
            "title": UNALIGNED,
            "budget": money_str(unaligned["budget"]),
            "spend_to_date": money_str(unaligned["spend_to_date"]),
        }
    )
    return listed


def _priority_row(rows: dict[str, dict[str, Any]], row: dict[str, Any]) -> dict[str, Any]:
    code = row["code"]
    if code not in rows:
        rows[code] = {"code": code, "title": row["title"], "budget": ZERO, "spend_to_date": ZERO}
    return rows[code]


@dataclass
class _Measure:
    """One outcome measure (a code and a unit) summed across the returns reporting it."""

    code: str
    title: str
    unit: str
    grants: list[str]
    target: int = 0  # counts: summed; percents: stored tenths when every return's is the same
    target_to_date: int = 0
    actual: int = 0  # counts: the actuals to date summed
    numerators: int = 0  # percents: every quarter's "41 of 50" to date, summed
    denominators: int = 0
    targets: set[tuple[int, int]] | None = None  # percents: each return's (target, to date)

    def add(self, reference: str, outcome: dict[str, Any]) -> None:
        if reference not in self.grants:  # a partnership may measure it in two projects
            self.grants.append(reference)
        if self.unit == COUNT:
            self.target += int(outcome["target"])
            self.target_to_date += int(outcome["target_to_date"])
            self.actual += int(outcome["actual_to_date"] or 0)
            return
        targets = (parse_percent(outcome["target"]), parse_percent(outcome["target_to_date"]))
        self.targets = (self.targets or set()) | {targets}
        for quarter in (outcome.get("quarters") or {}).values():
            if quarter and quarter.get("of"):
                self.numerators += int(quarter["actual"])
                self.denominators += int(quarter["of"])

    def to_json(self) -> dict[str, Any]:
        target: int | None
        to_date: int | None
        actual: int | None
        if self.unit == COUNT:
            target, to_date, actual = self.target, self.target_to_date, self.actual
        else:  # a percent's target is shown only when every partnership has the same one
            same = self.targets if self.targets and len(self.targets) == 1 else None
            target, to_date = next(iter(same)) if same else (None, None)
            actual = (
                tenths_half_up(100 * self.numerators, self.denominators)
                if self.denominators
                else None
            )
        percent = tenths_half_up(100 * actual, to_date) if actual is not None and to_date else None
        return {
            "code": self.code,
            "title": self.title,
            "unit": self.unit,
            "partnerships": len(self.grants),
            "grant_references": self.grants,
            "target": None if target is None else shown_target(self.unit, target),
            "target_to_date": None if to_date is None else shown_target(self.unit, to_date),
            "actual_to_date": None if actual is None else shown_target(self.unit, actual),
            "percent_of_target": None if percent is None else tenths_text(percent),
        }


def county_outcomes(returns: list[Received]) -> list[dict[str, Any]]:
    """Outcome measures summed across the returns where they share a code and a unit, by
    code. A count adds up its targets and actuals to date. A percent's actual is 100 × Σ
    numerators ÷ Σ denominators over every return's quarters to date (as one return's is);
    its target shows only when every return has the same. Returns exported before measures
    existed have none."""
    measures: dict[tuple[str, str], _Measure] = {}
    for item in returns:
        for allocation in item.report["allocations"]:
            for outcome in allocation.get("outcomes") or []:
                key = (outcome["code"], outcome["unit"])
                if key not in measures:
                    measures[key] = _Measure(outcome["code"], outcome["title"], outcome["unit"], [])
                measures[key].add(item.report["grant"], outcome)
    return [measures[key].to_json() for key in sorted(measures)]


def _attention(partnerships: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Projected overspends, then underspends, each largest first: what the OPCC should
    raise with the partnership before the year is out."""
    found = []
    for item in partnerships:
        for kind in ("overspend", "underspend"):
            amount = Decimal(item[f"projected_{kind}"])
            if amount > 0:
                award = Decimal(item["award"])
                share = (amount * 100 / award).quantize(Decimal("0.1")) if award else None
                found.append(
                    {
                        "recipient": item["recipient"],
                        "grant_reference": item["grant_reference"],
                        "kind": kind,
                        "amount": money_str(amount),
                        "percent_of_award": None if share is None else f"{share:f}",
                    }
                )
    found.sort(key=lambda f: (f["kind"] != "overspend", -Decimal(f["amount"])))
    return found


def _missing(expected: list[ExpectedReturn], returns: list[Received]) -> list[dict[str, Any]]:
    have = {r.report["grant"] for r in returns}
    return [
        e.to_json() for e in expected if e.received_on is None and e.grant_reference not in have
    ]


def _late(expected: list[ExpectedReturn]) -> list[dict[str, Any]]:
    late = []
    for item in expected:
        if item.received_on is not None and item.received_on > item.due:
            late.append({**item.to_json(), "days_late": (item.received_on - item.due).days})
    return late


def _other_plan(item: Received) -> dict[str, Any]:
    summary = item.report["summary"]
    return {
        "recipient": item.report["grant_details"].get("recipient", ""),
        "grant_reference": item.report["grant"],
        "plan": item.plan,
        "allocated": summary["allocated"],
        "spend_to_date": summary["spend_to_date"],
    }
