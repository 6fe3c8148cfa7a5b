"""Plan and grant setup files (TOML): read into plain specs, every problem reported with its place.

Reading never touches the database; the services apply a spec in one unit of work.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import tomli_w

from fundtracker.dates import DateError, parse_date
from fundtracker.errors import FieldError, FundtrackerError, MoneyError, ValidationError
from fundtracker.models import ALLOCATION_STATUSES, OUTCOME_UNITS, PLAN_KINDS, RETURN_FREQUENCIES
from fundtracker.money import money_str, parse_money
from fundtracker.outcomes import (
    OutcomeError,
    check_quarter_targets,
    file_target,
    parse_target,
)
from fundtracker.periods import quarters_between

Day = date  # for fields declared after one named ``date``, which shadows the type there
MAX_SETUP_FILE_BYTES = 5_000_000
MAX_GRANT_DAYS = 3653  # ten years: longer is a typo (9999-12-31), and quarters must be counted
# The longest text each field may hold: its column's length, which PostgreSQL enforces
# (SQLite does not). Fields not named here are 300 characters; None means unlimited.
TEXT_LIMITS: dict[str, int | None] = {
    "key": 100,
    "reference": 100,
    "aligned_plan": 100,
    "local_plan": 100,
    "code": 40,
    "parent": 40,
    "cost_centre": 60,
    "description": None,
    "conditions": None,
}


@dataclass
class PrioritySpec:
    code: str
    title: str
    description: str = ""
    parent: str | None = None


@dataclass
class PlanSpec:
    key: str
    name: str
    owner: str
    kind: str
    effective_from: date
    effective_to: date | None
    priorities: list[PrioritySpec]


@dataclass
class PaymentSpec:
    date: date
    amount: Decimal
    received: bool
    received_on: Day | None = None  # the day it arrived, when recorded


@dataclass
class OutcomeSpec:
    """An outcome measure; targets in stored units (tenths of a percent for a percent)."""

    code: str
    title: str
    unit: str
    target: int
    priority: str | None = None
    targets: list[int] | None = None  # one a quarter of the grant; None spreads the target


@dataclass
class AllocationSpec:
    code: str
    name: str
    lead: str = ""
    description: str = ""
    budget: Decimal = Decimal("0.00")
    cost_centre: str | None = None
    status: str = "active"
    profile: list[Decimal] | None = None
    # plan key -> priority code -> basis points (hundredths of a percent)
    weights: dict[str, dict[str, int]] = field(default_factory=dict)
    outcomes: list[OutcomeSpec] = field(default_factory=list)


@dataclass
class GrantSpec:
    reference: str
    name: str
    funder: str
    recipient: str
    award: Decimal
    start: date
    end: date
    return_frequency: str
    aligned_plan: str
    local_plan: str | None
    conditions: str
    payments: list[PaymentSpec]
    allocations: list[AllocationSpec]


class _Reader:
    """Collects every problem in a file, with where it is, instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, place: str, message: str) -> None:
        self.errors.append(FieldError(place, message))

    def table(self, data: dict[str, Any], key: str, place: str) -> dict[str, Any]:
        value = data.get(key)
        if not isinstance(value, dict):
            self.fail(place, f"a [{key}] table is required")
            return {}
        return value

    def known_keys(self, data: dict[str, Any], allowed: set[str], place: str) -> None:
        for key in sorted(set(data) - allowed):
            self.fail(place, f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})")

    def text(self, data: dict[str, Any], key: str, place: str, required: bool = True) -> str:
        value = data.get(key)
        if value is None:
            if required:
                self.fail(place, f"{key} is required")
            return ""
        if not isinstance(value, str):
            self.fail(place, f"{key} must be text")
            return ""
        if required and not value.strip():
            self.fail(place, f"{key} must not be empty")
        limit = TEXT_LIMITS.get(key, 300)
        if limit is not None and len(value.strip()) > limit:
            self.fail(place, f"{key} is {len(value.strip())} characters long; at most {limit}")
        return value.strip()

    def choice(
        self,
        data: dict[str, Any],
        key: str,
        place: str,
        options: tuple[str, ...],
        default: str | None = None,
    ) -> str:
        value = data.get(key, default)
        if value not in options:
            self.fail(place, f"{key} must be one of {', '.join(options)} (got {value!r})")
            return options[0]
        return str(value)

    def day(self, data: dict[str, Any], key: str, place: str, required: bool = True) -> date | None:
        value = data.get(key)
        if value is None:
            if required:
                self.fail(place, f"{key} is required (a date like 2025-04-01)")
            return None
        if isinstance(value, date) and not hasattr(value, "hour"):
            return value
        if isinstance(value, str):
            try:  # officers type UK dates (01/05/2026) as readily as ISO ones
                return parse_date(value)
            except DateError:
                pass
        self.fail(place, f"{key} must be a date like 2025-04-01 or 01/04/2025 (got {value!r})")
        return None

    def money(self, value: Any, place: str) -> Decimal:
        if isinstance(value, str | int | float | Decimal) and not isinstance(value, bool):
            try:
                return parse_money(value)
            except MoneyError as exc:
                self.fail(place, str(exc))
                return Decimal("0.00")
        self.fail(place, f'must be an amount such as "8000.00" (got {value!r})')
        return Decimal("0.00")

    def positive_money(self, value: Any, place: str, allow_zero: bool = True) -> Decimal:
        """An award, budget or planned amount: never below zero (credits belong to spend)."""
        amount = self.money(value, place)
        if amount < 0 or (amount == 0 and not allow_zero):
            self.fail(place, f"must be {'at least' if allow_zero else 'more than'} £0.00")
        return amount

    def percentage(self, value: Any, place: str) -> int:
        """A percentage with at most two decimals, as basis points."""
        try:
            return parse_percentage(value)
        except PercentageError as exc:
            self.fail(place, str(exc))
            return 0


class PercentageError(FundtrackerError, ValueError):
    """A weight that is not a percentage above 0 and at most 100 with two decimals."""


# Plain digits only: "1e2", "NaN", "Infinity" and "+5" are typos or tricks, not weights.
_PERCENTAGE = re.compile(r"^\d{1,3}(\.\d{1,2})?$")


def parse_percentage(value: object, allow_zero: bool = False) -> int:
    """A weight as typed or as a file holds it (``60``, ``33.33``, ``"12.5"``) in basis points
    (6000, 3333, 1250). Refuses more than two decimals, exponents, NaN and anything outside
    0–100 (0 itself only with ``allow_zero``, for an editor's empty cell)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise PercentageError(f"weight must be a percentage such as 60 or 33.33 (got {value!r})")
    text = repr(value) if isinstance(value, float) else str(value).strip().removesuffix("%")
    if not _PERCENTAGE.match(text.strip()):
        raise PercentageError(
            f"weight {text!r} is not a percentage such as 60 or 33.33 (two decimals at most)"
        )
    points = int(Decimal(text) * 100)
    if points > 10_000 or (points == 0 and not allow_zero):
        raise PercentageError(f"weight {text} must be above 0 and at most 100")
    return points


def load_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning every way it can be unreadable into a clear message."""
    try:
        if path.stat().st_size > MAX_SETUP_FILE_BYTES:
            raise ValidationError(f"{path.name} is too large to be a setup file")
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path.name} is not a UTF-8 text file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{path.name} is not valid TOML: {exc}") from exc
    except RecursionError as exc:  # arrays nested thousands deep
        raise ValidationError(f"{path.name} is not a setup file (nested too deeply)") from exc


def read_plan(data: dict[str, Any]) -> PlanSpec:
    reader = _Reader()
    reader.known_keys(data, {"plan", "priorities"}, "file")
    plan = reader.table(data, "plan", "plan")
    reader.known_keys(
        plan, {"key", "name", "owner", "kind", "effective_from", "effective_to"}, "plan"
    )
    priorities = _read_priorities(reader, data.get("priorities", []))
    spec = PlanSpec(
        key=reader.text(plan, "key", "plan"),
        name=reader.text(plan, "name", "plan"),
        owner=reader.text(plan, "owner", "plan", required=False),
        kind=reader.choice(plan, "kind", "plan", PLAN_KINDS),
        effective_from=reader.day(plan, "effective_from", "plan") or date.min,
        effective_to=reader.day(plan, "effective_to", "plan", required=False),
        priorities=priorities,
    )
    if spec.effective_to and spec.effective_to < spec.effective_from:
        reader.fail("plan", "effective_to is before effective_from")
    if reader.errors:
        raise ValidationError(reader.errors)
    return spec


def _read_priorities(reader: _Reader, items: Any) -> list[PrioritySpec]:
    if not isinstance(items, list):
        reader.fail("priorities", "must be a list of [[priorities]] tables")
        return []
    result: list[PrioritySpec] = []
    for number, item in enumerate(items, start=1):
        place = f"priorities[{number}]"
        if not isinstance(item, dict):
            reader.fail(place, "must be a table")
            continue
        reader.known_keys(item, {"code", "title", "description", "parent"}, place)
        code = reader.text(item, "code", place)
        place = f"priority {code}" if code else place
        parent = reader.text(item, "parent", place, required=False) or None
        result.append(
            PrioritySpec(
                code,
                reader.text(item, "title", place),
                reader.text(item, "description", place, required=False),
                parent,
            )
        )
    codes = [p.code for p in result]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        reader.fail(f"priority {code}", "code appears more than once")
    for p in result:
        if p.parent is not None and p.parent not in codes:
            reader.fail(f"priority {p.code}", f"parent {p.parent} is not a priority of this plan")
    return result


GRANT_KEYS = {
    "reference",
    "name",
    "funder",
    "recipient",
    "award",
    "start",
    "end",
    "return_frequency",
    "aligned_plan",
    "local_plan",
    "conditions",
    "payments",
}
ALLOCATION_KEYS = {
    "code",
    "name",
    "lead",
    "description",
    "budget",
    "cost_centre",
    "status",
    "profile",
    "priorities",
    "outcomes",
}
OUTCOME_KEYS = {"code", "title", "unit", "priority", "target", "targets"}


def read_grant(data: dict[str, Any]) -> GrantSpec:
    """Read a grant file. Checks everything that needs no database (plan codes are checked
    against the database by the service)."""
    reader = _Reader()
    reader.known_keys(data, {"grant", "allocations"}, "file")
    grant = reader.table(data, "grant", "grant")
    reader.known_keys(grant, GRANT_KEYS, "grant")
    award = (
        reader.positive_money(grant.get("award"), "grant.award", allow_zero=False)
        if "award" in grant
        else None
    )
    if award is None:
        reader.fail("grant", "award is required")
    start = reader.day(grant, "start", "grant")
    end = reader.day(grant, "end", "grant")
    if start and end and end < start:
        reader.fail("grant", "end is before start")
    if start and end and (end - start).days > MAX_GRANT_DAYS:
        reader.fail("grant", f"runs from {start} to {end}; a grant may last at most 10 years")
    spec = GrantSpec(
        reference=reader.text(grant, "reference", "grant"),
        name=reader.text(grant, "name", "grant"),
        funder=reader.text(grant, "funder", "grant", required=False),
        recipient=reader.text(grant, "recipient", "grant", required=False),
        award=award or Decimal("0.00"),
        start=start or date.min,
        end=end or date.min,
        return_frequency=reader.choice(
            grant, "return_frequency", "grant", RETURN_FREQUENCIES, default="quarterly"
        ),
        aligned_plan=reader.text(grant, "aligned_plan", "grant"),
        local_plan=reader.text(grant, "local_plan", "grant", required=False) or None,
        conditions=reader.text(grant, "conditions", "grant", required=False),
        payments=_read_payments(reader, grant.get("payments", [])),
        allocations=_read_allocations(reader, data.get("allocations", [])),
    )
    _check_outcome_quarters(reader, spec, _quarter_count(start, end))
    if reader.errors:
        raise ValidationError(reader.errors)
    return spec


def _quarter_count(start: date | None, end: date | None) -> int | None:
    """How many quarters the grant has; None when its dates are refused anyway."""
    if not start or not end or end < start or (end - start).days > MAX_GRANT_DAYS:
        return None
    try:
        return len(quarters_between(start, end))
    except ValueError:  # a year at the end of the calendar (9999)
        return None


def _check_outcome_quarters(reader: _Reader, spec: GrantSpec, quarters: int | None) -> None:
    if quarters is None:
        return
    for allocation in spec.allocations:
        for outcome in allocation.outcomes:
            if outcome.targets is None:
                continue
            try:
                check_quarter_targets(outcome.unit, outcome.target, outcome.targets, quarters)
            except OutcomeError as exc:
                reader.fail(f"allocation {allocation.code}: outcome {outcome.code}", str(exc))


def _read_payments(reader: _Reader, items: Any) -> list[PaymentSpec]:
    if not isinstance(items, list):
        reader.fail("grant.payments", "must be a list of [[grant.payments]] tables")
        return []
    result = []
    for number, item in enumerate(items, start=1):
        place = f"grant.payments[{number}]"
        if not isinstance(item, dict):
            reader.fail(place, "must be a table")
            continue
        reader.known_keys(item, {"date", "amount", "received", "received_on"}, place)
        received = item.get("received", False)
        if not isinstance(received, bool):
            reader.fail(place, "received must be true or false")
        received_on = reader.day(item, "received_on", place, required=False)
        if received_on is not None and received is not True:
            reader.fail(place, "received_on is given but received is not true")
        result.append(
            PaymentSpec(
                reader.day(item, "date", place) or date.min,
                reader.money(item.get("amount"), f"{place}.amount"),
                bool(received),
                received_on,
            )
        )
    return result


def _read_allocations(reader: _Reader, items: Any) -> list[AllocationSpec]:
    if not isinstance(items, list):
        reader.fail("allocations", "must be a list of [[allocations]] tables")
        return []
    result = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            reader.fail(f"allocations[{number}]", "must be a table")
            continue
        result.append(_read_allocation(reader, item, number))
    codes = [a.code for a in result]
    for code in sorted({c for c in codes if c and codes.count(c) > 1}):
        reader.fail(f"allocation {code}", "code appears more than once")
    return result


def _read_allocation(reader: _Reader, item: dict[str, Any], number: int) -> AllocationSpec:
    code = reader.text(item, "code", f"allocations[{number}]")
    place = f"allocation {code}" if code else f"allocations[{number}]"
    reader.known_keys(item, ALLOCATION_KEYS, place)
    spec = AllocationSpec(
        code=code,
        name=reader.text(item, "name", place),
        lead=reader.text(item, "lead", place, required=False),
        description=reader.text(item, "description", place, required=False),
        budget=reader.positive_money(item.get("budget"), f"{place}: budget"),
        cost_centre=reader.text(item, "cost_centre", place, required=False) or None,
        status=reader.choice(item, "status", place, ALLOCATION_STATUSES, default="active"),
    )
    if "profile" in item:
        profile = item["profile"]
        if isinstance(profile, list):
            spec.profile = [
                reader.positive_money(v, f"{place}: profile[{i}]")
                for i, v in enumerate(profile, start=1)
            ]
        else:
            reader.fail(place, "profile must be a list of amounts, one per quarter")
    spec.weights = _read_weights(reader, item.get("priorities", {}), place)
    spec.outcomes = _read_outcomes(reader, item.get("outcomes", []), place)
    return spec


def _read_outcomes(reader: _Reader, items: Any, place: str) -> list[OutcomeSpec]:
    if not isinstance(items, list):
        reader.fail(place, "outcomes must be a list of [[allocations.outcomes]] tables")
        return []
    result = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            reader.fail(f"{place}: outcomes[{number}]", "must be a table")
            continue
        result.append(_read_outcome(reader, item, f"{place}: outcomes[{number}]"))
    codes = [o.code for o in result]
    for code in sorted({c for c in codes if c and codes.count(c) > 1}):
        reader.fail(f"{place}: outcome {code}", "code appears more than once")
    return result


def _read_outcome(reader: _Reader, item: dict[str, Any], place: str) -> OutcomeSpec:
    code = reader.text(item, "code", place)
    place = f"{place.rsplit(':', 1)[0]}: outcome {code}" if code else place
    reader.known_keys(item, OUTCOME_KEYS, place)
    unit = reader.choice(item, "unit", place, OUTCOME_UNITS)
    spec = OutcomeSpec(
        code=code,
        title=reader.text(item, "title", place),
        unit=unit,
        target=0,
        priority=reader.text(item, "priority", place, required=False) or None,
    )
    if "target" not in item:
        reader.fail(place, "target is required")
    else:
        spec.target = _outcome_value(reader, unit, item["target"], place, "target")
    if "targets" in item:
        targets = item["targets"]
        if isinstance(targets, list):
            spec.targets = [
                _outcome_value(reader, unit, value, place, f"targets[{index}]")
                for index, value in enumerate(targets, start=1)
            ]
        else:
            reader.fail(place, "targets must be a list of targets, one a quarter")
    return spec


def _outcome_value(reader: _Reader, unit: str, value: Any, place: str, what: str) -> int:
    try:
        return parse_target(unit, value, what)
    except OutcomeError as exc:
        reader.fail(place, str(exc))
        return 0


def _read_weights(reader: _Reader, plans: Any, place: str) -> dict[str, dict[str, int]]:
    if not isinstance(plans, dict):
        reader.fail(place, "priorities must be a table of plan = { CODE = weight }")
        return {}
    result: dict[str, dict[str, int]] = {}
    for plan_key, weights in plans.items():
        if not isinstance(weights, dict) or not weights:
            reader.fail(place, f"priorities for {plan_key} must be a table like {{ P1 = 100 }}")
            continue
        points = {
            code: reader.percentage(v, f"{place}: weight {plan_key}.{code}")
            for code, v in weights.items()
        }
        total = sum(points.values())
        if total != 10_000:
            reader.fail(place, f"weights for {plan_key} total {_percent(total)}, must be 100")
        result[plan_key] = points
    return result


def _percent(basis_points: int) -> str:
    return format_percentage(basis_points)


def format_percentage(basis_points: int) -> str:
    """60 for 6000, 33.33 for 3333, 12.5 for 1250."""
    whole, hundredths = divmod(basis_points, 100)
    return str(whole) if not hundredths else f"{whole}.{hundredths:02d}".rstrip("0")


def _weight_value(basis_points: int) -> int | Decimal:
    return basis_points // 100 if basis_points % 100 == 0 else Decimal(basis_points) / 100


def plan_to_toml(spec: PlanSpec) -> str:
    plan: dict[str, Any] = {
        "key": spec.key,
        "name": spec.name,
        "owner": spec.owner,
        "kind": spec.kind,
        "effective_from": spec.effective_from,
    }
    if spec.effective_to:
        plan["effective_to"] = spec.effective_to
    priorities = []
    for p in spec.priorities:
        item: dict[str, Any] = {"code": p.code, "title": p.title}
        if p.description:
            item["description"] = p.description
        if p.parent:
            item["parent"] = p.parent
        priorities.append(item)
    return tomli_w.dumps({"plan": plan, "priorities": priorities})


def grant_to_toml(spec: GrantSpec) -> str:
    return tomli_w.dumps(grant_document(spec))


def grant_document(spec: GrantSpec) -> dict[str, Any]:
    """The grant file as plain data (TOML export and JSON output share it)."""
    grant: dict[str, Any] = {
        "reference": spec.reference,
        "name": spec.name,
        "funder": spec.funder,
        "recipient": spec.recipient,
        "award": money_str(spec.award),
        "start": spec.start,
        "end": spec.end,
        "return_frequency": spec.return_frequency,
        "aligned_plan": spec.aligned_plan,
    }
    if spec.local_plan:
        grant["local_plan"] = spec.local_plan
    if spec.conditions:
        grant["conditions"] = spec.conditions
    grant["payments"] = [_payment_table(p) for p in spec.payments]
    return {"grant": grant, "allocations": [_allocation_table(a) for a in spec.allocations]}


def _payment_table(p: PaymentSpec) -> dict[str, Any]:
    item: dict[str, Any] = {"date": p.date, "amount": money_str(p.amount), "received": p.received}
    if p.received_on is not None:
        item["received_on"] = p.received_on
    return item


def _allocation_table(a: AllocationSpec) -> dict[str, Any]:
    item: dict[str, Any] = {"code": a.code, "name": a.name, "lead": a.lead}
    if a.description:
        item["description"] = a.description
    item["budget"] = money_str(a.budget)
    if a.cost_centre:
        item["cost_centre"] = a.cost_centre
    item["status"] = a.status
    if a.profile is not None:
        item["profile"] = [money_str(v) for v in a.profile]
    item["priorities"] = {
        plan: {code: _weight_value(bp) for code, bp in weights.items()}
        for plan, weights in a.weights.items()
    }
    if a.outcomes:
        item["outcomes"] = [_outcome_table(o) for o in a.outcomes]
    return item


def _outcome_table(o: OutcomeSpec) -> dict[str, Any]:
    item: dict[str, Any] = {"code": o.code, "title": o.title, "unit": o.unit}
    if o.priority:
        item["priority"] = o.priority
    item["target"] = file_target(o.unit, o.target)
    if o.targets is not None:
        item["targets"] = [file_target(o.unit, t) for t in o.targets]
    return item
