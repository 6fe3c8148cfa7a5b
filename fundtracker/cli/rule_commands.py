"""rule update, rule move and rule apply: the Rules panel's changes from a shell, through the
same core operations (so each is audited as the window's are).

They join the ``rule`` command that import_commands registers, so this module is registered
after it.
"""

from __future__ import annotations

import argparse
from typing import Any

from fundtracker.cli.context import Context, add_database_option, add_format_option
from fundtracker.errors import FieldError, ValidationError
from fundtracker.ledger import rules
from fundtracker.models import RULE_FIELDS, RULE_OPERATORS
from fundtracker.operations import RowState, row_state, run_operation
from fundtracker.operations.rules import (
    RULE_PARTS,
    ApplyResult,
    ApplyRulesToUnassigned,
    MoveRule,
    UpdateRule,
)


def register(subparsers: Any) -> None:
    rule = _rule_actions(subparsers)
    update = rule.add_parser("update", help="change a rule's field, op, value or allocation")
    update.add_argument("id", type=int)
    update.add_argument("--field", choices=RULE_FIELDS)
    update.add_argument("--op", choices=RULE_OPERATORS)
    update.add_argument("--value")
    update.add_argument("--allocation", metavar="CODE")
    update.set_defaults(handler=run_update)

    move = rule.add_parser("move", help="change the order rules apply in (1 applies first)")
    move.add_argument("id", type=int)
    move.add_argument("--to", type=int, required=True, metavar="N")
    move.set_defaults(handler=run_move)

    apply = rule.add_parser("apply", help="assign the grant's unassigned lines that rules match")
    apply.add_argument("--grant", required=True, metavar="REF")
    add_format_option(apply, "text", "json")
    apply.set_defaults(handler=run_apply)
    for parser in (update, move, apply):
        parser.add_argument("--reason", default="", help="why (kept in the audit log)")
        add_database_option(parser)


def _rule_actions(subparsers: Any) -> Any:
    """The ``rule`` command's own subcommands (import_commands made them)."""
    rule_parser: argparse.ArgumentParser = subparsers.choices["rule"]
    for action in rule_parser._actions:  # argparse keeps no public handle on them
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise RuntimeError("the rule command has no actions")


def _current(ctx: Context, rule_id: int) -> RowState:
    """The rule as it is now: a command acts on what it finds."""
    with ctx.db.read() as session:
        return row_state(rules.get_rule(session, rule_id))


def run_update(ctx: Context) -> int:
    args = ctx.args
    values = {part: getattr(args, part) for part in RULE_PARTS if getattr(args, part) is not None}
    if not values:
        raise ValidationError(
            FieldError("rule", "say what to change: --field, --op, --value or --allocation")
        )
    operation = UpdateRule(args.id, values, _current(ctx, args.id))
    run_operation(ctx.db, operation, args.reason)
    with ctx.db.read() as session:
        rule = rules.get_rule(session, args.id)
        words = rules.rule_to_dict(rule)
    ctx.print(
        f"rule {args.id} updated: {words['field']} {words['op']} '{words['value']}' "
        f"→ {words['allocation']}"
    )
    return 0


def run_move(ctx: Context) -> int:
    args = ctx.args
    run_operation(ctx.db, MoveRule(args.id, args.to, _current(ctx, args.id)), args.reason)
    ctx.print(f"rule {args.id} moved to place {args.to}")
    return 0


def run_apply(ctx: Context) -> int:
    done = run_operation(ctx.db, ApplyRulesToUnassigned(ctx.args.grant), ctx.args.reason)
    result: ApplyResult = done.result
    if ctx.args.format == "json":
        ctx.print_json(
            {
                "assigned": [{"line": line, "allocation": code} for line, code in result.assigned],
                "locked": list(result.locked),
            }
        )
        return 0
    ctx.print(result.summary())
    for line, code in result.assigned:
        ctx.print(f"  line {line} → {code}")
    return 0
