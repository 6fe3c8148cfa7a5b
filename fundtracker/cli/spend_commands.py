"""spend and audit commands."""

from __future__ import annotations

import argparse
from typing import Any

from fundtracker.cli.context import Context, add_database_option, add_format_option
from fundtracker.dates import parse_date
from fundtracker.money import format_money
from fundtracker.periods import Period
from fundtracker.services import audit_log, spend

SPEND_COLUMNS = (
    "id",
    "date",
    "allocation",
    "supplier",
    "description",
    "reference",
    "cost_centre",
    "account_code",
    "net",
    "vat",
    "vat_recoverable",
    "claimable",
    "status",
    "notes",
    "counted_in",
)


def _add_field_options(parser: argparse.ArgumentParser, required: bool) -> None:
    """The flags shared by ``spend add`` and ``spend update``; absent ones are not sent."""
    unset = argparse.SUPPRESS
    parser.add_argument("--date", required=required, default=unset, help="YYYY-MM-DD or dd/mm/yyyy")
    parser.add_argument(
        "--net",
        required=required,
        default=unset,
        help="net amount, e.g. 1234.50 (use --net=-12.00 for a credit)",
    )
    parser.add_argument(
        "--allocation",
        default=unset,
        metavar="CODE",
        help='project code ("" leaves the line unassigned)',
    )
    parser.add_argument("--vat", default=unset, help="VAT amount (default 0.00)")
    parser.add_argument(
        "--vat-irrecoverable",
        dest="vat_recoverable",
        action="store_const",
        const=False,
        default=unset,
        help="the VAT cannot be recovered, so it is claimable",
    )
    parser.add_argument(
        "--vat-recoverable",
        dest="vat_recoverable",
        action="store_const",
        const=True,
        default=unset,
        help=argparse.SUPPRESS,
    )
    for name in ("supplier", "description", "reference"):
        parser.add_argument(f"--{name}", default=unset)
    parser.add_argument("--cost-centre", dest="cost_centre", default=unset)
    parser.add_argument("--account", dest="account_code", default=unset, help="account code")
    parser.add_argument("--status", choices=("paid", "accrued", "committed"), default=unset)


def register(subparsers: Any) -> None:
    group = subparsers.add_parser("spend", help="spend lines").add_subparsers(
        dest="spend_command", metavar="ACTION", required=True
    )

    add = group.add_parser("add", help="add a spend line; prints its id")
    add.add_argument("--grant", required=True, metavar="REF")
    _add_field_options(add, required=True)
    add.add_argument("--notes", default=argparse.SUPPRESS)
    add.add_argument("--reason", default="", help="why (kept in the audit log)")
    add_format_option(add, "text", "json")
    add.set_defaults(handler=run_add)

    listing = group.add_parser("list", help="list a grant's spend lines")
    listing.add_argument("--grant", required=True, metavar="REF")
    listing.add_argument("--period", help="e.g. 2025/26-Q2, 2025/26-H1 or 2025/26")
    add_format_option(listing, "table", "json", "csv")
    listing.set_defaults(handler=run_list)

    update = group.add_parser("update", help="change fields of a spend line")
    update.add_argument("id", type=int)
    _add_field_options(update, required=False)
    update.add_argument("--notes", default=argparse.SUPPRESS)
    update.add_argument("--reason", default="", help="why (kept in the audit log)")
    add_format_option(update, "text", "json")
    update.set_defaults(handler=run_update)

    delete = group.add_parser("delete", help="delete a spend line")
    delete.add_argument("id", type=int)
    delete.add_argument("--reason", default="", help="why (kept in the audit log)")
    delete.set_defaults(handler=run_delete)

    release = group.add_parser(
        "release", help="release (cancel) a commitment; it stops counting as committed"
    )
    release.add_argument("id", type=int)
    release.add_argument(
        "--on", type=parse_date, help="the day it is released (default today; not in a "
        "submitted period)"
    )  # fmt: skip
    release.add_argument("--reason", default="", help="why (kept in the audit log)")
    add_format_option(release, "text", "json")
    release.set_defaults(handler=run_release)

    invoice = group.add_parser(
        "invoice", help="replace a commitment by its invoice (a new actual line, or --match ID)"
    )
    invoice.add_argument("id", type=int)
    invoice.add_argument("--date", default=argparse.SUPPRESS, help="the invoice's date")
    invoice.add_argument("--net", default=argparse.SUPPRESS, help="the invoice's net amount")
    invoice.add_argument("--vat", default=argparse.SUPPRESS, help="VAT amount (default 0.00)")
    invoice.add_argument("--reference", default=argparse.SUPPRESS, help="the invoice number")
    invoice.add_argument(
        "--match", type=int, metavar="ID", help="pair it with this actual line instead"
    )
    invoice.add_argument("--reason", default="", help="why (kept in the audit log)")
    add_format_option(invoice, "text", "json")
    invoice.set_defaults(handler=run_invoice)

    carry = group.add_parser(
        "carry-forward",
        help="carry an open commitment into next year's grant (raised again there on its "
        "first day; this year's returns keep it as committed, and the year can close)",
    )
    carry.add_argument("id", type=int)
    carry.add_argument("--to", required=True, metavar="REF", help="next year's grant")
    carry.add_argument("--reason", default="", help="why (kept in the audit log)")
    add_format_option(carry, "text", "json")
    carry.set_defaults(handler=run_carry_forward)

    audit = subparsers.add_parser("audit", help="the audit log, newest first")
    audit.add_argument("--grant", metavar="REF")
    audit.add_argument("--limit", type=int)
    add_format_option(audit, "table", "json")
    audit.set_defaults(handler=run_audit)
    for parser in (add, listing, update, delete, release, invoice, carry, audit):
        add_database_option(parser)


def _field_values(ctx: Context) -> dict[str, object]:
    return {
        name: getattr(ctx.args, name) for name in spend.EDITABLE_FIELDS if hasattr(ctx.args, name)
    }


def run_add(ctx: Context) -> int:
    line = spend.add_spend(ctx.db, ctx.args.grant, _field_values(ctx), reason=ctx.args.reason)
    _show_line(ctx, line)
    return 0


def run_update(ctx: Context) -> int:
    values = _field_values(ctx)
    if not values:
        ctx.warn("fundtracker-cli: nothing to change: give at least one --FIELD VALUE")
        return 2
    line = spend.update_spend(ctx.db, ctx.args.id, values, reason=ctx.args.reason)
    _show_line(ctx, line)
    return 0


def _show_line(ctx: Context, line: Any) -> None:
    if ctx.args.format == "json":
        ctx.print_json(spend.spend_to_dict(line))
    else:
        ctx.print(str(line.id))
    note = spend.late_note(line)
    if note:
        ctx.warn(f"fundtracker-cli: {note}")


def run_release(ctx: Context) -> int:
    line = spend.release_commitment(ctx.db, ctx.args.id, ctx.args.on, reason=ctx.args.reason)
    if ctx.args.format == "json":
        ctx.print_json(spend.spend_to_dict(line))
    else:
        ctx.print(f"released commitment {line.id} on {line.released_on:%d/%m/%Y}")
    return 0


def run_invoice(ctx: Context) -> int:
    given = [name for name in ("date", "net", "vat", "reference") if hasattr(ctx.args, name)]
    if ctx.args.match is not None:
        if given:
            ctx.warn("fundtracker-cli: --match pairs an existing line: give no --date/--net/...")
            return 2
        commitment, actual = spend.match_commitment(
            ctx.db, ctx.args.id, ctx.args.match, reason=ctx.args.reason
        )
    else:
        values = {name: getattr(ctx.args, name) for name in given}
        commitment, actual = spend.invoice_commitment(
            ctx.db, ctx.args.id, values, reason=ctx.args.reason
        )
    if ctx.args.format == "json":
        ctx.print_json(
            {"commitment": spend.spend_to_dict(commitment), "actual": spend.spend_to_dict(actual)}
        )
    else:
        ctx.print(str(actual.id))
        ctx.warn(
            f"fundtracker-cli: commitment {commitment.id} released on "
            f"{commitment.released_on:%d/%m/%Y}, invoiced by line {actual.id}"
        )
    note = spend.late_note(actual)
    if note:
        ctx.warn(f"fundtracker-cli: {note}")
    return 0


def run_carry_forward(ctx: Context) -> int:
    commitment, carried = spend.carry_forward_commitment(
        ctx.db, ctx.args.id, ctx.args.to, reason=ctx.args.reason
    )
    if ctx.args.format == "json":
        ctx.print_json(
            {"commitment": spend.spend_to_dict(commitment), "carried": spend.spend_to_dict(carried)}
        )
    else:
        ctx.print(str(carried.id))
        ctx.warn(
            f"fundtracker-cli: commitment {commitment.id} carried forward to {ctx.args.to} as "
            f"line {carried.id}, dated {carried.date:%d/%m/%Y}"
        )
    return 0


def run_delete(ctx: Context) -> int:
    spend.delete_spend(ctx.db, ctx.args.id, reason=ctx.args.reason)
    ctx.print(f"deleted spend line {ctx.args.id}")
    return 0


def run_list(ctx: Context) -> int:
    period = Period.parse(ctx.args.period) if ctx.args.period else None
    lines = spend.list_spend(ctx.db, ctx.args.grant, period)
    rows = [spend.spend_to_dict(line) for line in lines]
    if ctx.args.format == "json":
        ctx.print_json(rows)
    elif ctx.args.format == "csv":
        ctx.print_csv(rows, SPEND_COLUMNS)
    else:
        ctx.print_table(
            [
                (
                    r["id"],
                    r["date"],
                    r["allocation"] or "—",
                    r["supplier"][:30],
                    r["reference"],
                    format_money(line.net),
                    format_money(line.vat),
                    format_money(line.claimable),
                    r["status"] + (" (released)" if r["released_on"] else ""),
                    r["counted_in"],
                )
                for r, line in zip(rows, lines, strict=True)
            ],
            [
                "Id",
                "Date",
                "Project",
                "Supplier",
                "Reference",
                "Net",
                "VAT",
                "Claimable",
                "Status",
                "Counted in",
            ],
            right=[0, 5, 6, 7],
        )
    return 0


def run_audit(ctx: Context) -> int:
    events = audit_log.list_events(ctx.db, ctx.args.grant, ctx.args.limit)
    if ctx.args.format == "json":
        ctx.print_json([audit_log.event_to_dict(e) for e in events])
        return 0
    ctx.print_table(
        [
            (
                e.at.strftime("%d/%m/%Y %H:%M"),
                e.os_user,
                e.action,
                e.entity,
                e.label,
                audit_log.describe_changes(e)[:100],
                e.reason,
            )
            for e in events
        ],
        ["When (UTC)", "User", "Action", "What", "Which", "Changes", "Reason"],
    )
    return 0
