"""payment, priority and project commands: the setup edits of issue 12 for scripts.

Each runs one core operation (audited, in one unit of work), prints what it did, gives the
record with ``--format json``, and exits 1 naming the field when the input is refused.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fundtracker.cli.context import Context, add_database_option
from fundtracker.dates import DateError
from fundtracker.errors import FieldError, ValidationError
from fundtracker.models import Allocation, Priority
from fundtracker.money import format_money, money_str
from fundtracker.operations import Changes, Operation, run_operation
from fundtracker.operations.allocations import AddProject, UpdateProject, current_version
from fundtracker.operations.grants import (
    AddPayment,
    PaymentValues,
    RemovePayment,
    find_payment,
    parse_day,
    receive_payment,
)
from fundtracker.operations.plans import AddPriority, RetirePriority, priority_record
from fundtracker.setup_files import format_percentage

PROJECT_STATUSES = ("active", "closed")


def add_output_options(parser: Any, reason: bool = True) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output")
    if reason:
        parser.add_argument("--reason", default="", help="why (kept in the audit log)")
    add_database_option(parser)


def register(subparsers: Any) -> None:
    _register_payments(subparsers)
    _register_priorities(subparsers)
    _register_projects(subparsers)


def _actions(subparsers: Any, name: str, help_text: str) -> Any:
    parser = subparsers.add_parser(name, help=help_text)
    return parser.add_subparsers(dest=f"{name}_command", metavar="ACTION", required=True)


def _register_payments(subparsers: Any) -> None:
    payment = _actions(subparsers, "payment", "a grant's payments (instalments)")
    add = payment.add_parser("add", help="add an instalment")
    add.add_argument("--grant", required=True, metavar="REF")
    add.add_argument("--date", required=True, metavar="D", help="due (or paid) on")
    add.add_argument("--amount", required=True, metavar="A")
    add.add_argument("--received", action="store_true", help="the money has arrived")
    add.set_defaults(handler=run_payment_add)
    receive = payment.add_parser("receive", help="mark an instalment received")
    receive.add_argument("--grant", required=True, metavar="REF")
    receive.add_argument("--date", required=True, metavar="D", help="the payment's date")
    receive.add_argument("--received-on", metavar="D", help="the day it arrived (default today)")
    receive.set_defaults(handler=run_payment_receive)
    remove = payment.add_parser("remove", help="remove an instalment")
    remove.add_argument("--grant", required=True, metavar="REF")
    remove.add_argument("--date", required=True, metavar="D", help="the payment's date")
    remove.set_defaults(handler=run_payment_remove)
    for parser in (add, receive, remove):
        add_output_options(parser)


def _register_priorities(subparsers: Any) -> None:
    priority = _actions(subparsers, "priority", "a plan's priorities")
    add = priority.add_parser("add", help="add a priority (or a sub-priority with --under)")
    add.add_argument("--plan", required=True, metavar="KEY")
    add.add_argument("--code", required=True, metavar="C")
    add.add_argument("--title", required=True, metavar="T")
    add.add_argument("--under", metavar="CODE", help="the parent priority")
    add.set_defaults(handler=run_priority_add)
    retire = priority.add_parser("retire", help="retire a priority and its sub-priorities")
    retire.add_argument("--plan", required=True, metavar="KEY")
    retire.add_argument("--code", required=True, metavar="C")
    retire.set_defaults(handler=run_priority_retire)
    for parser in (add, retire):
        add_output_options(parser)


def _register_projects(subparsers: Any) -> None:
    project = _actions(subparsers, "project", "a grant's projects")
    add = project.add_parser("add", help="add a project")
    add.add_argument("--grant", required=True, metavar="REF")
    add.add_argument("--code", required=True, metavar="C")
    add.add_argument("--name", required=True, metavar="N")
    update = project.add_parser("update", help="change a project")
    update.add_argument("--grant", required=True, metavar="REF")
    update.add_argument("--code", required=True, metavar="C", help="the project's code now")
    update.add_argument("--new-code", metavar="C", help="rename its code")
    update.add_argument("--name", metavar="N")
    update.add_argument("--status", metavar="active|closed")
    for parser in (add, update):
        parser.add_argument("--lead", metavar="L")
        parser.add_argument("--cost-centre", metavar="C")
        parser.add_argument("--budget", metavar="A")
        parser.add_argument("--description", metavar="TEXT")
        add_output_options(parser)
    add.set_defaults(handler=run_project_add)
    update.set_defaults(handler=run_project_update)


# --- Running an operation --------------------------------------------------------------


def run(ctx: Context, operation: Operation) -> Changes:
    return run_operation(ctx.db, operation, getattr(ctx.args, "reason", "") or "")


def cli_day(value: str, field: str) -> Any:
    """A date option, refused naming its field."""
    try:
        return parse_day(value)
    except DateError as exc:
        raise ValidationError(FieldError(field, str(exc))) from None


def report(ctx: Context, text: str, record: Any) -> int:
    if ctx.args.format == "json":
        ctx.print_json(record)
    else:
        ctx.print(text)
    return 0


# --- Payments --------------------------------------------------------------------------


def _payment_words(values: PaymentValues) -> str:
    return f"payment of {values.date:%d/%m/%Y} ({format_money(values.amount)})"


def _recorded(record: dict[str, Any]) -> PaymentValues:
    """A payment's JSON record read back, to say what was done in words."""
    on = record["received_on"]
    return PaymentValues(
        date.fromisoformat(record["date"]),
        Decimal(record["amount"]),
        record["received"],
        date.fromisoformat(on) if on else None,
    )


def run_payment_add(ctx: Context) -> int:
    a = ctx.args
    done = run(ctx, AddPayment(a.grant, a.date, a.amount, a.received))
    state = "received" if a.received else "expected"
    words = _payment_words(_recorded(done.result))
    return report(ctx, f"{words} added to grant {a.grant}, {state}", done.result)


def run_payment_receive(ctx: Context) -> int:
    a = ctx.args
    payment_id, seen = find_payment(ctx.db, a.grant, cli_day(a.date, "date"))
    done = run(ctx, receive_payment(a.grant, payment_id, seen, a.received_on))
    arrived = _recorded(done.result).received_on
    assert arrived is not None
    return report(
        ctx,
        f"{_payment_words(seen)} of grant {a.grant} marked received on {arrived:%d/%m/%Y}",
        done.result,
    )


def run_payment_remove(ctx: Context) -> int:
    a = ctx.args
    payment_id, seen = find_payment(ctx.db, a.grant, cli_day(a.date, "date"))
    done = run(ctx, RemovePayment(a.grant, payment_id, seen))
    return report(ctx, f"{_payment_words(seen)} removed from grant {a.grant}", done.result)


# --- Priorities ------------------------------------------------------------------------


def run_priority_add(ctx: Context) -> int:
    a = ctx.args
    done = run(ctx, AddPriority(a.plan, a.code, a.title, a.under or None))
    priority: Priority = done.result
    under = f" under {priority.parent_code}" if priority.parent_code else ""
    return report(
        ctx,
        f"priority {priority.code} ({priority.title}) added to plan {a.plan}{under}",
        priority_record(a.plan, priority),
    )


def run_priority_retire(ctx: Context) -> int:
    a = ctx.args
    done = run(ctx, RetirePriority(a.plan, a.code))
    retired: list[Priority] = done.result
    others = [p.code for p in retired if p.code != a.code]
    also = f" with its sub-priorities {', '.join(others)}" if others else ""
    return report(
        ctx,
        f"priority {a.code} of plan {a.plan} retired{also}: its weights stay, new ones are refused",
        [priority_record(a.plan, p) for p in retired],
    )


# --- Projects --------------------------------------------------------------------------

_PROJECT_OPTIONS = {
    "name": "name",
    "lead": "lead",
    "cost_centre": "cost_centre",
    "budget": "budget",
    "description": "description",
    "new_code": "code",
    "status": "status",
}


def _project_values(ctx: Context) -> dict[str, object]:
    values: dict[str, object] = {}
    for option, field in _PROJECT_OPTIONS.items():
        value = getattr(ctx.args, option, None)
        if value is not None:
            values[field] = value
    status = values.get("status")
    if status is not None and status not in PROJECT_STATUSES:
        raise ValidationError(FieldError("status", f"must be active or closed (got {status!r})"))
    return values


def project_record(grant: str, project: Allocation) -> dict[str, Any]:
    weights: dict[str, dict[str, str]] = {}
    for weight in project.weights:
        plan = weights.setdefault(weight.priority.plan.key, {})
        plan[weight.priority.code] = format_percentage(weight.basis_points)
    return {
        "grant": grant,
        "code": project.code,
        "name": project.name,
        "description": project.description,
        "lead": project.lead,
        "cost_centre": project.cost_centre,
        "status": project.status,
        "budget": money_str(project.budget),
        "profile": [money_str(p.amount) for p in project.profile] or None,
        "weights": weights,
    }


def run_project_add(ctx: Context) -> int:
    a = ctx.args
    values = {"code": a.code, **_project_values(ctx)}
    done = run(ctx, AddProject(a.grant, values))
    project: Allocation = done.result
    return report(
        ctx,
        f"project {project.code} ({project.name}) added to grant {a.grant}, budget "
        f"{format_money(project.budget)}",
        project_record(a.grant, project),
    )


def run_project_update(ctx: Context) -> int:
    a = ctx.args
    values = _project_values(ctx)
    if not values:
        raise ValidationError(
            FieldError("", "nothing to change: give --name, --budget or another field")
        )
    version = current_version(ctx.db, a.grant, a.code)
    done = run(ctx, UpdateProject(a.grant, a.code, values, version))
    project: Allocation = done.result
    changed = ", ".join(name.replace("_", " ") for name in values)
    return report(
        ctx,
        f"project {a.code} of grant {a.grant} updated ({changed}): now {project.code}, "
        f"{project.name}, {project.status}, budget {format_money(project.budget)}",
        project_record(a.grant, project),
    )
