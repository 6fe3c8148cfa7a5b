"""virement commands: record and list budget moves between projects."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fundtracker.cli.context import Context, add_database_option, add_format_option
from fundtracker.money import format_money
from fundtracker.services import virements


def register(subparsers: Any) -> None:
    group = subparsers.add_parser(
        "virement", help="budget moved between projects with the OPCC's approval"
    ).add_subparsers(dest="virement_command", metavar="ACTION", required=True)

    add = group.add_parser("add", help="record a virement; prints its id")
    add.add_argument("--grant", required=True, metavar="REF")
    add.add_argument("--from", dest="from_code", required=True, metavar="CODE")
    add.add_argument("--to", dest="to_code", required=True, metavar="CODE")
    add.add_argument("--amount", required=True, metavar="A")
    add.add_argument("--approval", required=True, metavar="TEXT", help="the OPCC's reference")
    add.add_argument("--approved-on", dest="approved_on", required=True, metavar="DATE")
    add.add_argument(
        "--effective", required=True, metavar="DATE", help="after the latest submitted period"
    )
    add.add_argument("--note", default="", metavar="TEXT")
    add.add_argument("--reason", default="", help="why (kept in the audit log)")
    add_format_option(add, "text", "json")
    add.set_defaults(handler=run_add)

    listing = group.add_parser("list", help="list a grant's virements")
    listing.add_argument("--grant", required=True, metavar="REF")
    add_format_option(listing, "table", "json")
    listing.set_defaults(handler=run_list)
    for parser in (add, listing):
        add_database_option(parser)


def run_add(ctx: Context) -> int:
    args = ctx.args
    values = {
        "from": args.from_code,
        "to": args.to_code,
        "amount": args.amount,
        "approval": args.approval,
        "approved_on": args.approved_on,
        "effective": args.effective,
        "note": args.note,
    }
    virement = virements.add_virement(ctx.db, args.grant, values, reason=args.reason)
    if args.format == "json":
        [row] = [r for r in virements.list_virements(ctx.db, args.grant) if r["id"] == virement.id]
        ctx.print_json(row)
    else:
        ctx.print(str(virement.id))
    return 0


def run_list(ctx: Context) -> int:
    rows = virements.list_virements(ctx.db, ctx.args.grant)
    if ctx.args.format == "json":
        ctx.print_json(rows)
        return 0
    ctx.print_table(
        [
            (
                r["approved_on"],
                r["approval"],
                r["from"],
                r["to"],
                format_money(Decimal(r["amount"])),
                r["effective"],
                r["note"][:40],
            )
            for r in rows
        ],
        ["Approved", "Reference", "From", "To", "Amount", "Effective", "Note"],
        right=[4],
    )
    return 0
