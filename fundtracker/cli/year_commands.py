"""grant close, grant reopen and grant next: the year end and the next year from a shell.

They join the ``grant`` command that setup_commands registers, so this module is registered
after it.
"""

from __future__ import annotations

import argparse
from typing import Any

from fundtracker.cli.context import Context, add_database_option, add_format_option
from fundtracker.errors import FieldError, ValidationError
from fundtracker.money import format_money, money_str, parse_money
from fundtracker.next_year import NextYear, lines_for_next_year, lines_in_new_year
from fundtracker.operations import Operation, Together, run_operation
from fundtracker.operations.year import CloseGrant, MoveLinesToGrant, ReopenGrant, StartNextYear
from fundtracker.year_end import STATEMENT_LABELS, YearEndStatement


def register(subparsers: Any) -> None:
    grant = _grant_actions(subparsers)
    close = grant.add_parser("close", help="close the year (needs the last return submitted)")
    close.add_argument("reference")
    close.add_argument("--reason", default="", help="why (kept in the audit log)")
    add_format_option(close, "text", "json")
    close.set_defaults(handler=run_close)

    reopen = grant.add_parser("reopen", help="make a closed grant writable again")
    reopen.add_argument("reference")
    reopen.add_argument("--reason", required=True, help="why (kept in the audit log)")
    reopen.set_defaults(handler=run_reopen)

    following = grant.add_parser("next", help="start the following year's grant from this one")
    following.add_argument("reference")
    following.add_argument("--reference", dest="new_reference", required=True, metavar="NEW")
    following.add_argument("--award", metavar="AMOUNT", help="the new award (budgets scale)")
    following.add_argument("--local-plan", metavar="KEY", help="the new year's local plan")
    following.add_argument(
        "--move-lines",
        action="store_true",
        help="also move the old grant's lines dated in the new year to the new grant",
    )
    add_format_option(following, "text", "json")
    following.set_defaults(handler=run_next)
    for parser in (close, reopen, following):
        add_database_option(parser)


def _grant_actions(subparsers: Any) -> Any:
    """The ``grant`` command's own subcommands (setup_commands made them)."""
    grant_parser: argparse.ArgumentParser = subparsers.choices["grant"]
    for action in grant_parser._actions:  # argparse keeps no public handle on them
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise RuntimeError("the grant command has no actions")


def run_close(ctx: Context) -> int:
    done = run_operation(ctx.db, CloseGrant(ctx.args.reference, ctx.args.reason))
    statement: YearEndStatement = done.result
    if ctx.args.format == "json":
        ctx.print_json({"grant": ctx.args.reference, "year_end": statement.to_json()})
        return 0
    ctx.print(f"grant {ctx.args.reference} closed for the year; year-end statement:")
    print_statement(ctx, statement)
    return 0


def print_statement(ctx: Context, statement: YearEndStatement) -> None:
    amounts = {name: format_money(getattr(statement, name)) for name, _ in STATEMENT_LABELS}
    width = max(len(label) for _, label in STATEMENT_LABELS)
    money_width = max(len(text) for text in amounts.values())
    for name, label in STATEMENT_LABELS:
        ctx.print(f"  {label.ljust(width)}  {amounts[name].rjust(money_width)}")


def run_reopen(ctx: Context) -> int:
    run_operation(ctx.db, ReopenGrant(ctx.args.reference, ctx.args.reason))
    ctx.print(f"grant {ctx.args.reference} reopened: it can be changed again")
    return 0


def run_next(ctx: Context) -> int:
    """Start the next year; with --move-lines, move the new year's lines in the same step
    (one unit of work, as the window's Start next year's grant… does): both or neither."""
    args = ctx.args
    start = StartNextYear(args.reference, args.new_reference, _award(args.award), args.local_plan)
    to_move = lines_for_next_year(ctx.db, args.reference) if args.move_lines else []
    operation: Operation = start
    if to_move:
        move = MoveLinesToGrant(tuple(to_move), args.reference, args.new_reference)
        operation = Together(start.description, (start, move))
    done = run_operation(ctx.db, operation)
    started: NextYear = done.result[0] if to_move else done.result
    moved = len(to_move)
    left = len(lines_in_new_year(ctx.db, args.reference, started.reference))  # not moved
    if args.format == "json":
        ctx.print_json(_next_json(started, moved, left))
        return 0
    _print_next(ctx, args.reference, started, moved, left)
    return 0


def _award(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return parse_money(text)
    except ValueError as exc:
        raise ValidationError(FieldError("award", str(exc))) from None


def _next_json(started: NextYear, moved: int, waiting: int) -> dict[str, Any]:
    return {
        "grant": started.reference,
        "start": started.start.isoformat(),
        "end": started.end.isoformat(),
        "award": money_str(started.award),
        "budgets": {code: money_str(budget) for code, budget in started.budgets.items()},
        "moved_lines": moved,
        "lines_to_move": waiting,
        "notes": started.notes,
    }


def _print_next(ctx: Context, old: str, started: NextYear, moved: int, waiting: int) -> None:
    ctx.print(
        f"grant {started.reference} started from {old}: {started.start:%d/%m/%Y} to "
        f"{started.end:%d/%m/%Y}, award {format_money(started.award)}"
    )
    for code, budget in started.budgets.items():
        ctx.print(f"  {code}  {format_money(budget)}")
    for note in started.notes:
        ctx.print(f"  note: {note}")
    if moved:
        ctx.print(f"moved {moved} line(s) dated in the new year from {old}")
    if waiting:
        ctx.print(
            f"{waiting} line(s) of {old} are dated in the new year; move them with "
            f"--move-lines (or the Spending page)"
        )
