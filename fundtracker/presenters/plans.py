"""The Priorities page's presenter: what the plan and priority tables show (no Qt).

A plan row says which version of its plan it is; a priority row says where it sits (its
parent), whether it is retired, and which projects weigh on it with how much of their budget
that is. A project's budget is split over the priorities it weighs on in that plan as the
figures split it (largest remainder, ties to the plan's first priority), so the amounts shown
here add up to the same budgets the report gives each priority.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fundtracker.models import Allocation, Plan, Priority, Weight
from fundtracker.money import ZERO, format_money, from_pence, split_largest_remainder, to_pence
from fundtracker.setup_files import PlanSpec, format_percentage
from fundtracker.storage import Database

KIND_LABELS = {"pcc": "PCC", "csp": "CSP", "statutory": "Statutory", "other": "Other"}


def uk_day(day: date | None, blank: str = "") -> str:
    return f"{day:%d/%m/%Y}" if day else blank


@dataclass(frozen=True)
class WeightOn:
    """One project's weight on a priority and the part of its budget that weight is."""

    grant: str
    project: str
    name: str
    basis_points: int
    budget: Decimal

    @property
    def text(self) -> str:
        return f"{self.project} {format_percentage(self.basis_points)}%"

    @property
    def explained(self) -> str:
        return (
            f"{self.grant} {self.project} {self.name}: {format_percentage(self.basis_points)}% "
            f"= {format_money(self.budget)}"
        )


@dataclass(frozen=True)
class PriorityRow:
    code: str
    title: str
    parent: str | None
    retired: bool
    depth: int  # 0 for a priority, 1 for a sub-priority, 2 below that…
    weights: tuple[WeightOn, ...]

    @property
    def shown_title(self) -> str:
        """Indented under its parent, so the plan reads as it is laid out."""
        return "    " * self.depth + self.title

    @property
    def status(self) -> str:
        return "retired" if self.retired else ""

    @property
    def budget(self) -> Decimal:
        return sum((w.budget for w in self.weights), ZERO)

    @property
    def projects_text(self) -> str:
        return ", ".join(w.text for w in self.weights)

    @property
    def budget_text(self) -> str:
        return format_money(self.budget) if self.weights else ""

    @property
    def explained(self) -> str:
        if not self.weights:
            return "No project weighs on this priority"
        return "\n".join(w.explained for w in self.weights)


@dataclass(frozen=True)
class PlanRow:
    key: str
    name: str
    owner: str
    kind: str
    effective_from: date
    effective_to: date | None
    version: int  # the row's version, which an edit of the plan expects
    number: int  # 1 for the first version of a plan, 2 for the version that replaced it…
    previous: str | None  # the key of the version this one replaced
    following: str | None  # the key of the version that replaced this one
    priorities: tuple[PriorityRow, ...]

    @property
    def kind_text(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def from_text(self) -> str:
        return uk_day(self.effective_from)

    @property
    def to_text(self) -> str:
        return uk_day(self.effective_to, "open")

    @property
    def version_text(self) -> str:
        return f"{self.number} (replaced)" if self.following else str(self.number)

    @property
    def version_tooltip(self) -> str:
        said = f"Version {self.number}" + (f", after {self.previous}" if self.previous else "")
        return said + (f"; replaced by {self.following}" if self.following else "")

    @property
    def weighted_projects(self) -> int:
        return len({(w.grant, w.project) for p in self.priorities for w in p.weights})

    @property
    def active_codes(self) -> list[str]:
        """The priorities a new sub-priority may go under: not retired."""
        return [p.code for p in self.priorities if not p.retired]

    @property
    def note(self) -> str:
        """What the person should know about this version's weights."""
        count = self.weighted_projects
        weighed = (
            f"{count} project{'' if count == 1 else 's'} weigh{'s' if count == 1 else ''} "
            "on this version"
            if count
            else "No project weighs on this version yet"
        )
        parts = [f"Version {self.number} of {self.name}, {self.from_text} to {self.to_text}."]
        if self.previous:
            parts.append(f"It replaced {self.previous}.")
        parts.append(weighed + ".")
        if self.following:
            parts.append(
                f"From the next version ({self.following}) projects weigh on that one; "
                "the weights set on this version stay with it, so past figures never move."
            )
        return " ".join(parts)


def priority_rows(plan: Plan, allocations: Sequence[Allocation]) -> tuple[PriorityRow, ...]:
    """The plan's priorities in order, each with the projects that weigh on it."""
    weights: dict[str, list[WeightOn]] = defaultdict(list)
    for allocation in allocations:
        for code, share in budget_shares(plan, allocation):
            weights[code].append(share)
    depths: dict[str, int] = {}
    rows = []
    for priority in plan.priorities:
        depth = depths.get(priority.parent_code, -1) + 1 if priority.parent_code else 0
        depths[priority.code] = depth
        rows.append(
            PriorityRow(
                priority.code,
                priority.title,
                priority.parent_code,
                priority.retired,
                depth,
                tuple(weights[priority.code]),
            )
        )
    return tuple(rows)


def budget_shares(plan: Plan, allocation: Allocation) -> list[tuple[str, WeightOn]]:
    """(priority code, share) for each priority of ``plan`` the project weighs on, its budget
    split by weight in whole pence by largest remainder (the figures' own split)."""
    ours = sorted(
        (w for w in allocation.weights if w.priority.plan_id == plan.id and w.basis_points),
        key=lambda w: (w.priority.position, w.priority.id),
    )
    if not ours:
        return []
    parts = split_largest_remainder(to_pence(allocation.budget), [w.basis_points for w in ours])
    return [
        (
            w.priority.code,
            WeightOn(
                allocation.grant.reference,
                allocation.code,
                allocation.name,
                w.basis_points,
                from_pence(part),
            ),
        )
        for w, part in zip(ours, parts, strict=True)
    ]


def plan_rows(db: Database) -> list[PlanRow]:
    """Every plan, oldest first, with its priorities and the projects weighing on them."""
    with db.read() as session:
        plans = list(
            session.scalars(
                select(Plan)
                .options(selectinload(Plan.priorities))
                .order_by(Plan.effective_from, Plan.key)
            )
        )
        allocations = list(
            session.scalars(
                select(Allocation)
                .where(Allocation.id.in_(select(Weight.allocation_id)))
                .options(
                    selectinload(Allocation.weights)
                    .selectinload(Weight.priority)
                    .selectinload(Priority.plan),
                    selectinload(Allocation.grant),
                )
                .order_by(Allocation.grant_id, Allocation.position, Allocation.code)
            )
        )
        return rows_of(plans, allocations)


def rows_of(plans: Sequence[Plan], allocations: Sequence[Allocation]) -> list[PlanRow]:
    by_id = {plan.id: plan for plan in plans}
    following = {plan.previous_id: plan.key for plan in plans if plan.previous_id}
    rows = []
    for plan in plans:
        previous = by_id.get(plan.previous_id) if plan.previous_id else None
        rows.append(
            PlanRow(
                plan.key,
                plan.name,
                plan.owner,
                plan.kind,
                plan.effective_from,
                plan.effective_to,
                plan.version,
                _number(plan, by_id),
                previous.key if previous else None,
                following.get(plan.id),
                priority_rows(plan, allocations),
            )
        )
    return rows


def _number(plan: Plan, by_id: dict[int, Plan]) -> int:
    """How many versions back the chain of replaced plans goes, counting this one."""
    number, seen = 1, {plan.id}
    while plan.previous_id in by_id and plan.previous_id not in seen:
        plan = by_id[plan.previous_id]
        seen.add(plan.id)
        number += 1
    return number


def template_lines(spec: PlanSpec) -> str:
    """A plan's priorities as the New plan editor takes them, one a line with its code, a
    sub-priority indented under its parent: what the officer edits when starting from a
    template (read back by ``setup_drafts.priorities_from_lines``)."""
    depths: dict[str, int] = {}
    lines = []
    for priority in spec.priorities:
        depth = depths.get(priority.parent, -1) + 1 if priority.parent else 0
        depths[priority.code] = depth
        lines.append("  " * depth + f"{priority.code} {priority.title}")
    return "\n".join(lines)
