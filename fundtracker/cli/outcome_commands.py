"""outcome commands (issue 15): list a grant's outcome measures with their figures to date,
add, update or remove a measure, and set or clear a quarter's actual — the window's actions for
scripts.

Each change runs one core operation (audited, in one unit of work) and exits 1 naming the
field when the input is refused, with nothing changed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fundtracker.cli.context import Context, add_database_option, add_format_option
from fundtracker.errors import FieldError, ValidationError
from fundtracker.figures import default_period
from fundtracker.operations import run_operation
from fundtracker.operations.outcomes import (
    AddOutcome,
    RemoveOutcome,
    SetOutcomeActual,
    UpdateOutcome,
    measure_version,
)
from fundtracker.periods import Period
from fundtracker.presenters.outcomes import outcomes_view
from fundtracker.services.grants import load_grant

LIST_HEADERS = (
    "Project", "Code", "Outcome", "Unit", "Priority", "Target to date", "Quarters",
    "Actual to date", "% of target",
)  # fmt: skip


def register(subparsers: Any) -> None:
    outcome = subparsers.add_parser(
        "outcome", help="projects' outcome measures: targets and quarterly actuals"
    ).add_subparsers(dest="outcome_command", metavar="ACTION", required=True)

    listing = outcome.add_parser("list", help="every measure with its figures to date")
    listing.add_argument("--grant", required=True, metavar="REF")
    listing.add_argument("--period", help="as at the end of (default: the current quarter)")
    add_format_option(listing, "table", "json")
    listing.set_defaults(handler=run_list)

    add = outcome.add_parser("add", help="add an outcome measure to a project")
    add.add_argument("--grant", required=True, metavar="REF")
    add.add_argument("--allocation", required=True, metavar="CODE")
    add.add_argument("--code", required=True, metavar="OCODE")
    add.add_argument("--title", required=True)
    add.add_argument("--unit", required=True, choices=("count", "percent"))
    add.add_argument("--target", required=True, help='for the grant: 80, or "80%%" for a percent')
    add.add_argument("--priority", default="", help="the aligned plan's priority it serves")
    add.add_argument(
        "--targets", default="", help='one a quarter, e.g. "10,20,20,30" (default: even spread)'
    )
    add.set_defaults(handler=run_add)

    update = outcome.add_parser("update", help="change an outcome measure (the fields given)")
    update.add_argument("--grant", required=True, metavar="REF")
    update.add_argument("--allocation", required=True, metavar="CODE")
    update.add_argument("--outcome", required=True, metavar="OCODE")
    update.add_argument("--new-code", metavar="OCODE", help="rename the measure")
    update.add_argument("--title")
    update.add_argument("--unit", choices=("count", "percent"))
    update.add_argument("--target", help='for the grant: 80, or "80%%" for a percent')
    update.add_argument("--priority", help='the aligned plan\'s priority it serves ("" for none)')
    update.add_argument(
        "--targets", help='one a quarter, e.g. "10,20,20,30" ("" for the even spread)'
    )
    update.set_defaults(handler=run_update)

    remove = outcome.add_parser("remove", help="remove a measure and its actuals")
    remove.add_argument("--grant", required=True, metavar="REF")
    remove.add_argument("--allocation", required=True, metavar="CODE")
    remove.add_argument("--outcome", required=True, metavar="OCODE")
    remove.set_defaults(handler=run_remove)

    set_actual = outcome.add_parser("set", help="enter a quarter's actual")
    set_actual.add_argument("--grant", required=True, metavar="REF")
    set_actual.add_argument("--period", required=True, help="the quarter, e.g. 2025/26-Q2")
    set_actual.add_argument("--allocation", required=True, metavar="CODE")
    set_actual.add_argument("--outcome", required=True, metavar="OCODE")
    set_actual.add_argument("--actual", required=True, metavar="N")
    set_actual.add_argument(
        "--of", metavar="D", help="for a percent measure: out of how many (41 --of 50)"
    )
    set_actual.add_argument("--note", default="")
    set_actual.set_defaults(handler=run_set)

    clear = outcome.add_parser("clear", help="remove a quarter's actual")
    clear.add_argument("--grant", required=True, metavar="REF")
    clear.add_argument("--period", required=True, help="the quarter, e.g. 2025/26-Q2")
    clear.add_argument("--allocation", required=True, metavar="CODE")
    clear.add_argument("--outcome", required=True, metavar="OCODE")
    clear.set_defaults(handler=run_clear)
    for parser in (add, update, remove, set_actual, clear):
        parser.add_argument("--reason", default="", help="why (kept in the audit log)")
    for parser in (listing, add, update, remove, set_actual, clear):
        add_database_option(parser)


def run_list(ctx: Context) -> int:
    args = ctx.args
    period = (
        Period.parse(args.period)
        if args.period
        else default_period(load_grant(ctx.db, args.grant), date.today())
    )
    view = outcomes_view(ctx.db, args.grant, period)
    if args.format == "json":
        ctx.print_json(
            [
                {
                    "project": r.project,
                    "code": r.code,
                    "title": r.title,
                    "unit": r.unit,
                    "priority": r.priority,
                    "target": r.target,
                    "targets": list(r.targets) if r.targets else None,
                    "quarters": {
                        q.label: {"actual": q.actual, "of": q.out_of, "note": q.note}
                        for q in r.quarters
                    },
                    "target_to_date": r.target_to_date,
                    "actual_to_date": r.actual_to_date or None,
                    "percent_of_target": r.percent_of_target or None,
                    "missing": list(r.missing),
                }
                for r in view.rows
            ]
        )
        return 0
    ctx.print(f"{args.grant} outcomes as at the end of {period}")
    ctx.print_table(
        [
            (
                r.project,
                r.code,
                r.title,
                r.unit,
                r.priority or "",
                r.target_to_date,
                " | ".join(q.shown or "—" for q in r.quarters),
                r.actual_to_date or "—",
                r.percent_of_target or "—",
            )
            for r in view.rows
        ],
        LIST_HEADERS,
    )
    return 0


def run_add(ctx: Context) -> int:
    args = ctx.args
    values = {
        "code": args.code,
        "title": args.title,
        "unit": args.unit,
        "target": args.target,
        "priority": args.priority,
        "targets": args.targets,
    }
    run_operation(ctx.db, AddOutcome(args.grant, args.allocation, values), args.reason)
    ctx.print(f"added outcome {args.code} to {args.allocation}")
    return 0


# Option (argparse's name) -> the measure's field it sets.
UPDATE_OPTIONS = {
    "new_code": "code",
    "title": "title",
    "unit": "unit",
    "target": "target",
    "priority": "priority",
    "targets": "targets",
}


def run_update(ctx: Context) -> int:
    args = ctx.args
    values = {
        field: getattr(args, option)
        for option, field in UPDATE_OPTIONS.items()
        if getattr(args, option) is not None
    }
    if not values:
        raise ValidationError(
            FieldError("", "nothing to change: give --target, --targets or another field")
        )
    version = measure_version(ctx.db, args.grant, args.allocation, args.outcome)
    operation = UpdateOutcome(args.grant, args.allocation, args.outcome, values, version)
    run_operation(ctx.db, operation, args.reason)
    changed = ", ".join(name for name in values)
    ctx.print(f"outcome {args.outcome} of {args.allocation} updated ({changed})")
    return 0


def run_remove(ctx: Context) -> int:
    args = ctx.args
    version = measure_version(ctx.db, args.grant, args.allocation, args.outcome)
    operation = RemoveOutcome(args.grant, args.allocation, args.outcome, version)
    run_operation(ctx.db, operation, args.reason)
    ctx.print(f"removed outcome {args.outcome} of {args.allocation} and its actuals")
    return 0


def run_set(ctx: Context) -> int:
    args = ctx.args
    quarter = Period.parse(args.period)
    operation = SetOutcomeActual(
        args.grant, quarter, args.allocation, args.outcome, args.actual, args.of, args.note
    )
    run_operation(ctx.db, operation, args.reason)
    shown = args.actual if args.of is None else f"{args.actual} of {args.of}"
    ctx.print(f"{args.allocation}/{args.outcome} {quarter}: {shown}")
    return 0


def run_clear(ctx: Context) -> int:
    args = ctx.args
    quarter = Period.parse(args.period)
    operation = SetOutcomeActual(args.grant, quarter, args.allocation, args.outcome, None)
    if run_operation(ctx.db, operation, args.reason).result is None:
        ctx.warn(f"{args.allocation}/{args.outcome} has no actual for {quarter}; nothing changed")
        return 1
    ctx.print(f"{args.allocation}/{args.outcome} {quarter}: actual cleared")
    return 0
