"""The OPCC's commands (issue 16): received add/list, funded add/list, county."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fundtracker.cli.context import Context, add_database_option, add_format_option
from fundtracker.money import format_money
from fundtracker.opcc import funded, receiving
from fundtracker.opcc.operations import AddFunded, ReceiveReturns
from fundtracker.operations import run_operation


def register(subparsers: Any) -> None:
    _register_received(subparsers)
    _register_funded(subparsers)


def _register_received(subparsers: Any) -> None:
    group = subparsers.add_parser(
        "received", help="partnerships' returns received by the OPCC"
    ).add_subparsers(dest="received_command", metavar="ACTION", required=True)
    add = group.add_parser("add", help="receive return workbooks: verify and store each")
    add.add_argument("files", nargs="+", metavar="FILE")
    add.add_argument("--reason", default="", help="why (kept in the audit log)")
    add_format_option(add, "text", "json")
    add.set_defaults(handler=run_received_add)
    listing = group.add_parser("list", help="every return received, every version")
    add_format_option(listing, "table", "json")
    listing.set_defaults(handler=run_received_list)
    for parser in (add, listing):
        add_database_option(parser)


def _register_funded(subparsers: Any) -> None:
    group = subparsers.add_parser(
        "funded", help="the partnerships the OPCC funds and whose returns it expects"
    ).add_subparsers(dest="funded_command", metavar="ACTION", required=True)
    add = group.add_parser("add", help="record a funded partnership")
    add.add_argument("--recipient", required=True, metavar="NAME")
    add.add_argument("--grant-reference", dest="grant_reference", required=True, metavar="REF")
    add.add_argument("--award", required=True, metavar="A")
    add.add_argument("--start", required=True, metavar="D")
    add.add_argument("--end", required=True, metavar="D")
    add.add_argument("--returns", required=True, metavar="quarterly|half-yearly|annual")
    add.add_argument("--reason", default="", help="why (kept in the audit log)")
    add_format_option(add, "text", "json")
    add.set_defaults(handler=run_funded_add)
    listing = group.add_parser("list", help="the funded partnerships")
    add_format_option(listing, "table", "json")
    listing.set_defaults(handler=run_funded_list)
    for parser in (add, listing):
        add_database_option(parser)


# --- received --------------------------------------------------------------------------------


def run_received_add(ctx: Context) -> int:
    operation = ReceiveReturns(tuple(str(f) for f in ctx.args.files))
    outcomes: list[receiving.Outcome] = run_operation(ctx.db, operation, ctx.args.reason).result
    if ctx.args.format == "json":
        ctx.print_json([o.to_json() for o in outcomes])
    else:
        for o in outcomes:
            what = f"{o.recipient} {o.grant_reference} {o.period} v{o.version}".strip()
            line = f"{o.file}: {o.status}" + (f" ({what})" if o.grant_reference else "")
            ctx.print(line + (f": {o.reason}" if o.reason else ""))
    return 1 if any(o.status == receiving.REFUSED for o in outcomes) else 0


def run_received_list(ctx: Context) -> int:
    rows = receiving.list_received(ctx.db)
    if ctx.args.format == "json":
        ctx.print_json(rows)
        return 0
    ctx.print_table(
        [
            (
                r["recipient"],
                r["grant_reference"],
                r["period"],
                r["version"],
                r["status"],
                r["received_at"][:16].replace("T", " "),
                r["file"],
                r["checksum"][:12],
            )
            for r in rows
        ],
        ["Recipient", "Grant", "Period", "Version", "Status", "Received (UTC)", "File", "Checksum"],
        right=[3],
    )
    return 0


# --- funded ----------------------------------------------------------------------------------


def run_funded_add(ctx: Context) -> int:
    args = ctx.args
    raw = {
        "recipient": args.recipient,
        "grant_reference": args.grant_reference,
        "award": args.award,
        "start": args.start,
        "end": args.end,
        "returns": args.returns,
    }
    values = funded.parse_funded(raw)
    row = run_operation(ctx.db, AddFunded(tuple(values.items())), args.reason).result
    if args.format == "json":
        ctx.print_json(funded.funded_json(row))
    else:
        ctx.print(f"recorded {row.grant_reference} ({row.recipient}), {format_money(row.award)}")
    return 0


def run_funded_list(ctx: Context) -> int:
    rows = funded.list_funded(ctx.db)
    if ctx.args.format == "json":
        ctx.print_json(rows)
        return 0
    ctx.print_table(
        [
            (
                r["recipient"],
                r["grant_reference"],
                format_money(Decimal(r["award"])),
                r["start"],
                r["end"],
                r["returns"],
            )
            for r in rows
        ],
        ["Recipient", "Grant", "Award", "Start", "End", "Returns"],
        right=[2],
    )
    return 0
