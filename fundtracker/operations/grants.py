"""Grant operations: a new grant from its offer letter's fields, changes to its details, and its
payments (add, edit, remove, mark received with the day the money arrived).

Grants are versioned; payments are not, so a payment operation carries the payment as the
person saw it and refuses with a ConflictError when it is different now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundtracker.dates import DateError, parse_date
from fundtracker.errors import (
    ConflictError,
    FieldError,
    LockedError,
    MoneyError,
    ValidationError,
)
from fundtracker.models import RETURN_FREQUENCIES, Grant, Payment, Plan
from fundtracker.money import parse_money
from fundtracker.operations import (
    Changes,
    Expected,
    Kind,
    Operation,
    changes,
    expect_version,
    row_state,
)
from fundtracker.operations.setup import SetUpGrant
from fundtracker.periods import quarters_between
from fundtracker.services.grants import find_grant
from fundtracker.services.locks import locked_until
from fundtracker.setup_files import MAX_GRANT_DAYS, GrantSpec
from fundtracker.storage import Database
from fundtracker.year_end import refuse_closed

GRANT_FIELDS = (
    "name",
    "funder",
    "recipient",
    "award",
    "start",
    "end",
    "return_frequency",
    "conditions",
    "aligned_plan",
    "local_plan",
)
# Stored column of each field where the names differ.
_COLUMNS = {"start": "start_date", "end": "end_date"}
_TEXT_LIMITS: dict[str, int | None] = {
    "reference": 100,
    "name": 300,
    "funder": 300,
    "recipient": 300,
    "conditions": None,
    "aligned_plan": 100,
    "local_plan": 100,
}
GRANT_KINDS = (Kind.GRANT,)
Day = date  # for fields declared after one named ``date``, which shadows the type there


# --- Reading what the person typed -----------------------------------------------------


def parse_day(value: object) -> date:
    """A date typed UK-style (01/05/2026) or ISO (2026-05-01), or a date already."""
    if isinstance(value, date):
        return value
    return parse_date(str(value))


def parse_grant_fields(values: Mapping[str, object], allowed: tuple[str, ...]) -> dict[str, Any]:
    """The grant fields in ``values`` as stored (plans as keys), or a ValidationError naming
    each bad field."""
    errors: list[FieldError] = []
    parsed: dict[str, Any] = {}
    for name, value in values.items():
        label = name.replace("_", " ")
        if name not in allowed:
            errors.append(FieldError(label, f"is not a grant field ({', '.join(allowed)})"))
            continue
        try:
            parsed[name] = _parse_field(name, value)
        except (ValueError, MoneyError, DateError) as exc:
            errors.append(FieldError(label, str(exc)))
    if errors:
        raise ValidationError(errors)
    return parsed


def _parse_field(name: str, value: object) -> Any:
    if name == "award":
        award = parse_money(value)
        if award <= 0:
            raise ValueError("must be more than £0.00")
        return award
    if name in ("start", "end"):
        return parse_day(value)
    if name == "return_frequency":
        if value not in RETURN_FREQUENCIES:
            raise ValueError(f"must be one of {', '.join(RETURN_FREQUENCIES)} (got {value!r})")
        return value
    text = "" if value is None else str(value).strip()
    if name in ("reference", "name", "aligned_plan") and not text:
        raise ValueError("is required")
    limit = _TEXT_LIMITS[name]
    if limit is not None and len(text) > limit:
        raise ValueError(f"is {len(text)} characters long; at most {limit}")
    if name == "local_plan":
        return text or None
    return text


def _refuse_dates(start: date, end: date) -> None:
    if end < start:
        raise ValidationError(FieldError("end", f"{end:%d/%m/%Y} is before the start"))
    if (end - start).days > MAX_GRANT_DAYS:
        raise ValidationError(FieldError("end", "a grant may last at most 10 years"))


def _plan(session: Session, key: str, field: str) -> Plan:
    plan = session.scalar(select(Plan).where(Plan.key == key))
    if plan is None:
        raise ValidationError(
            FieldError(field, f"unknown plan '{key}' (create or import it first)")
        )
    return plan


def current_grant_version(db: Database, reference: str) -> int:
    """The version of a grant now (for a command line, which saw nothing before)."""
    with db.read() as session:
        return find_grant(session, reference).version


# --- A new grant -----------------------------------------------------------------------


@dataclass(frozen=True)
class NewGrant(Operation):
    """A grant from its offer letter: ``values`` hold reference, name, award, start, end and
    aligned_plan, and any of funder, recipient, return_frequency, local_plan, conditions.
    Payments and projects are added afterwards; the undo removes it while nothing was."""

    values: Mapping[str, object]

    @property
    def description(self) -> str:
        return f"New grant {self.values.get('reference', '')}".rstrip()

    def run(self, db: Database) -> Changes:
        required = ("reference", "name", "award", "start", "end", "aligned_plan")
        missing = [FieldError(name, "is required") for name in required if name not in self.values]
        if missing:
            raise ValidationError(missing)
        fields = parse_grant_fields(self.values, ("reference", *GRANT_FIELDS))
        _refuse_dates(fields["start"], fields["end"])
        with db.read() as session:
            _plan(session, fields["aligned_plan"], "aligned plan")
            if fields.get("local_plan"):
                _plan(session, fields["local_plan"], "local plan")
        spec = GrantSpec(
            reference=fields["reference"],
            name=fields["name"],
            funder=fields.get("funder", ""),
            recipient=fields.get("recipient", ""),
            award=fields["award"],
            start=fields["start"],
            end=fields["end"],
            return_frequency=fields.get("return_frequency", "quarterly"),
            aligned_plan=fields["aligned_plan"],
            local_plan=fields.get("local_plan"),
            conditions=fields.get("conditions", ""),
            payments=[],
            allocations=[],
        )
        # The assistant's setup with no plans, payments or projects: one grant, and an undo
        # that refuses once anything was added to it.
        done = SetUpGrant((), spec).run(db)
        kinds = frozenset((Kind.GRANTS, Kind.GRANT))
        return replace(done, description=self.description, kinds=kinds)


# --- Grant details ---------------------------------------------------------------------


@dataclass(frozen=True)
class UpdateGrant(Operation):
    """Change some details of a grant, refused if it moved on from ``version``. Its dates and
    return frequency shape the returns: they cannot change while a return is submitted."""

    reference: str
    values: Mapping[str, object]
    version: Expected

    @property
    def description(self) -> str:
        names = ", ".join(name.replace("_", " ") for name in self.values)
        return f"Change {names} of grant {self.reference}"

    def run(self, db: Database) -> Changes:
        fields = parse_grant_fields(self.values, GRANT_FIELDS)
        with db.unit_of_work() as session:
            found = find_grant(session, self.reference)
            refuse_closed(found, "details")  # a closed year is read-only
            grant = expect_version(
                session, Grant, found.id, self.version, f"grant {found.reference}"
            )
            before = {name: _stored(session, grant, name) for name in fields}
            changed = {name: value for name, value in fields.items() if value != before[name]}
            start = changed.get("start", grant.start_date)
            end = changed.get("end", grant.end_date)
            _refuse_dates(start, end)
            _refuse_locked_shape(session, grant, changed)
            _refuse_profiles_that_no_longer_fit(grant, start, end, changed)
            for name, value in changed.items():
                _store(session, grant, name, value)
            session.flush()
            inverse = UpdateGrant(self.reference, before, row_state(grant))
            return changes(self.description, self.reference, GRANT_KINDS, inverse, grant)


def _stored(session: Session, grant: Grant, name: str) -> Any:
    if name in ("aligned_plan", "local_plan"):
        plan_id = getattr(grant, f"{name}_id")
        return None if plan_id is None else session.get_one(Plan, plan_id).key
    return getattr(grant, _COLUMNS.get(name, name))


def _store(session: Session, grant: Grant, name: str, value: Any) -> None:
    if name in ("aligned_plan", "local_plan"):
        plan = None if value is None else _plan(session, value, name.replace("_", " "))
        setattr(grant, f"{name}_id", None if plan is None else plan.id)
        return
    setattr(grant, _COLUMNS.get(name, name), value)


def _refuse_locked_shape(session: Session, grant: Grant, changed: Mapping[str, Any]) -> None:
    shaping = [name.replace("_", " ") for name in ("start", "end", "return_frequency")]
    touched = [name for name in shaping if name.replace(" ", "_") in changed]
    submission = locked_until(session, grant.id) if touched else None
    if submission is not None:
        raise LockedError(
            f"grant {grant.reference}: cannot change its {' and '.join(touched)}: the return for "
            f"{submission.period} (version {submission.version_number}) has been submitted; "
            "reopen it first"
        )


def _refuse_profiles_that_no_longer_fit(
    grant: Grant, start: date, end: date, changed: Mapping[str, Any]
) -> None:
    """A project's profile has one amount per quarter: new dates must keep the count."""
    if "start" not in changed and "end" not in changed:
        return
    quarters = len(quarters_between(start, end))
    misfits = [
        f"{a.code} ({len(a.profile)})"
        for a in grant.allocations
        if a.profile and len(a.profile) != quarters
    ]
    if misfits:
        raise ValidationError(
            FieldError(
                "start" if "start" in changed else "end",
                f"the grant would have {quarters} quarters, but these projects' profiles "
                f"have another number: {', '.join(misfits)}; reset them to even first",
            )
        )


# --- Payments --------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentValues:
    """A payment as the person saw it: what a payment operation checks is still there."""

    date: date
    amount: Decimal
    received: bool = False
    received_on: Day | None = None

    @classmethod
    def of(cls, payment: Payment) -> PaymentValues:
        return cls(payment.date, payment.amount, payment.received, payment.received_on)


def parse_payment(
    grant: Grant, when: object, amount: object, received: bool, received_on: object
) -> PaymentValues:
    """A payment as typed, refused naming the field: exact amount above zero, a date inside
    the grant, received on a real date (given only when it was received)."""
    errors: list[FieldError] = []
    day = _field(errors, "date", lambda: parse_day(when))
    money = _field(errors, "amount", lambda: parse_money(amount))
    arrived = None
    if received_on not in (None, ""):
        arrived = _field(errors, "received on", lambda: parse_day(received_on))
        received = True
    if isinstance(arrived, date) and arrived > date.today():
        errors.append(FieldError("received on", f"{arrived:%d/%m/%Y} is in the future"))
    if isinstance(money, Decimal) and money <= 0:
        errors.append(FieldError("amount", "must be more than £0.00"))
    if isinstance(day, date) and not grant.start_date <= day <= grant.end_date:
        errors.append(
            FieldError(
                "date",
                f"{day:%d/%m/%Y} is outside the grant "
                f"({grant.start_date:%d/%m/%Y} to {grant.end_date:%d/%m/%Y})",
            )
        )
    if errors:
        raise ValidationError(errors)
    assert isinstance(day, date) and isinstance(money, Decimal)
    return PaymentValues(day, money, received, arrived if isinstance(arrived, date) else None)


def _field(errors: list[FieldError], name: str, parse: Any) -> Any:
    try:
        return parse()
    except (MoneyError, DateError) as exc:
        errors.append(FieldError(name, str(exc)))
        return None


def _payment(session: Session, grant: Grant, payment_id: int, seen: PaymentValues) -> Payment:
    payment = session.get(Payment, payment_id)
    if payment is None or payment.grant_id != grant.id:
        raise ConflictError(
            f"the payment of {seen.date:%d/%m/%Y} no longer exists (someone removed it); "
            "nothing was changed"
        )
    if PaymentValues.of(payment) != seen:
        raise ConflictError(
            f"the payment of {seen.date:%d/%m/%Y} was changed by someone else since you saw it; "
            "nothing was changed: look at it again"
        )
    return payment


def find_payment(db: Database, reference: str, day: date) -> tuple[int, PaymentValues]:
    """The payment of a grant due on ``day`` (the command line finds payments by date)."""
    with db.read() as session:
        grant = find_grant(session, reference)
        found = list(
            session.scalars(
                select(Payment).where(Payment.grant_id == grant.id, Payment.date == day)
            )
        )
        if not found:
            dates = ", ".join(f"{p.date:%d/%m/%Y}" for p in _payments(session, grant)) or "none"
            raise ValidationError(
                FieldError(
                    "date",
                    f"grant {reference} has no payment on {day:%d/%m/%Y} (its payments: {dates})",
                )
            )
        if len(found) > 1:
            raise ValidationError(
                FieldError(
                    "date",
                    f"grant {reference} has {len(found)} payments on "
                    f"{day:%d/%m/%Y}; change them in the window",
                )
            )
        return found[0].id, PaymentValues.of(found[0])


def _payments(session: Session, grant: Grant) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment).where(Payment.grant_id == grant.id).order_by(Payment.position)
        )
    )


def payment_record(payment_id: int, values: PaymentValues) -> dict[str, Any]:
    """A payment as JSON output gives it."""
    return {
        "id": payment_id,
        "date": values.date.isoformat(),
        "amount": f"{values.amount:.2f}",
        "received": values.received,
        "received_on": values.received_on.isoformat() if values.received_on else None,
    }


@dataclass(frozen=True)
class AddPayment(Operation):
    """A new instalment of a grant (date, amount, and whether and when it was received)."""

    grant: str
    date: object
    amount: object
    received: bool = False
    received_on: object = None
    position: int | None = None  # where a removed payment stood, for its undo

    @property
    def description(self) -> str:
        return f"Add payment to grant {self.grant}"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            grant = find_grant(session, self.grant)
            refuse_closed(grant, "payments")  # a closed year is read-only
            values = parse_payment(grant, self.date, self.amount, self.received, self.received_on)
            position = self.position
            if position is None:
                last = session.scalar(
                    select(func.max(Payment.position)).where(Payment.grant_id == grant.id)
                )
                position = -1 if last is None else last
                position += 1
            payment = Payment(
                grant_id=grant.id,
                date=values.date,
                amount=values.amount,
                received=values.received,
                received_on=values.received_on,
                position=position,
            )
            session.add(payment)
            session.flush()
            inverse = RemovePayment(self.grant, payment.id, values)
            result = payment_record(payment.id, values)
            return changes(self.description, self.grant, GRANT_KINDS, inverse, result)


@dataclass(frozen=True)
class EditPayment(Operation):
    """Change a payment's date, amount and receipt; ``seen`` is the payment as it was shown."""

    grant: str
    payment_id: int
    seen: PaymentValues
    date: object
    amount: object
    received: bool
    received_on: object = None

    @property
    def description(self) -> str:
        return f"Change payment of {self.seen.date:%d/%m/%Y}"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            grant = find_grant(session, self.grant)
            refuse_closed(grant, "payments")  # a closed year is read-only
            values = parse_payment(grant, self.date, self.amount, self.received, self.received_on)
            payment = _payment(session, grant, self.payment_id, self.seen)
            payment.date, payment.amount = values.date, values.amount
            payment.received, payment.received_on = values.received, values.received_on
            session.flush()
            old = self.seen
            inverse = EditPayment(
                self.grant, payment.id, values, old.date, old.amount, old.received, old.received_on
            )
            result = payment_record(payment.id, values)
            return changes(self.description, self.grant, GRANT_KINDS, inverse, result)


def receive_payment(
    grant: str, payment_id: int, seen: PaymentValues, received_on: object
) -> EditPayment:
    """Mark a payment received on a day (today when none is given)."""
    arrived = date.today() if received_on in (None, "") else received_on
    return EditPayment(grant, payment_id, seen, seen.date, seen.amount, True, arrived)


@dataclass(frozen=True)
class RemovePayment(Operation):
    grant: str
    payment_id: int
    seen: PaymentValues

    @property
    def description(self) -> str:
        return f"Remove payment of {self.seen.date:%d/%m/%Y}"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            grant = find_grant(session, self.grant)
            refuse_closed(grant, "payments")  # a closed year is read-only
            payment = _payment(session, grant, self.payment_id, self.seen)
            position = payment.position
            session.delete(payment)
            session.flush()
        old = self.seen
        inverse = AddPayment(
            self.grant, old.date, old.amount, old.received, old.received_on, position
        )
        result = payment_record(self.payment_id, old)
        return changes(self.description, self.grant, GRANT_KINDS, inverse, result)
