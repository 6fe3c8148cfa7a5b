"""The OPCC's commands (issue 16): received add/list, funded add/list, county."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from fundtracker.checks import has_errors
from fundtracker.cli.context import Context, UsageError, add_database_option, add_format_option
from fundtracker.cli.report_commands import print_findings
from fundtracker.cli.return_commands import add_template_options, template_and_map
from fundtracker.dates import local_date, parse_date
from fundtracker.money import format_money
from fundtracker.opcc import county, funded, receiving
from fundtracker.opcc.operations import AddFunded, ReceiveReturns, ReceiveSubmitted, UpdateFunded
from fundtracker.operations import run_operation
from fundtracker.periods import Period


def register(subparsers: Any) -> None:
    _register_received(subparsers)
    _register_funded(subparsers)
    _register_county(subparsers)


def _register_received(subparsers: Any) -> None:
    group = subparsers.add_parser(
        "received", help="partnerships' returns received by the OPCC"
    ).add_subparsers(dest="received_command", metavar="ACTION", required=True)
    add = group.add_parser("add", help="receive return workbooks: verify and store each")
    add.add_argument("files", nargs="*", metavar="FILE")
    add.add_argument(
        "--from-database",
        dest="from_database",
        action="store_true",
        help="instead of files, the returns submitted in this database (a shared server)",
    )
    add.add_argument(
        "--period",
        default=None,
        metavar="P",
        help="with --from-database: only the returns for this period",
    )
    add.add_argument("--reason", default="", help="why (kept in the audit log)")
    add_template_options(add, "the files are this funder's template filled in (with --map)")
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
    update = group.add_parser("update", help="change a funded partnership's details")
    update.add_argument("reference", metavar="REF", help="its grant reference")
    update.add_argument("--recipient", metavar="NAME")
    update.add_argument("--grant-reference", dest="grant_reference", metavar="REF")
    for flag in ("award", "start", "end"):
        update.add_argument(f"--{flag}", metavar=flag[0].upper())
    update.add_argument("--returns", metavar="quarterly|half-yearly|annual")
    update.add_argument("--reason", default="", help="why (kept in the audit log)")
    add_format_option(update, "text", "json")
    update.set_defaults(handler=run_funded_update)
    listing = group.add_parser("list", help="the funded partnerships")
    add_format_option(listing, "table", "json")
    listing.set_defaults(handler=run_funded_list)
    check = group.add_parser("check", help="RETURN_MISSING and RETURN_LATE: who owes what")
    check.add_argument("--on", default=None, metavar="DATE", help="as at this day (today)")
    add_format_option(check, "text", "json")
    check.set_defaults(handler=run_funded_check)
    for parser in (add, update, listing, check):
        add_database_option(parser)


def _register_county(subparsers: Any) -> None:
    county = subparsers.add_parser(
        "county", help="county figures across the partnerships' received returns"
    )
    county.add_argument("--period", required=True, metavar="P")
    county.add_argument("--plan", default=None, metavar="KEY", help="the PCC plan version")
    county.add_argument("--out", default=None, metavar="FILE.xlsx", help="the Panel's workbook")
    add_format_option(county, "text", "json")
    add_database_option(county)
    county.set_defaults(handler=run_county)


# --- received --------------------------------------------------------------------------------


def run_received_add(ctx: Context) -> int:
    operation = _receive_operation(ctx.args)
    outcomes: list[receiving.Outcome] = run_operation(ctx.db, operation, ctx.args.reason).result
    if ctx.args.format == "json":
        ctx.print_json([o.to_json() for o in outcomes])
    elif not outcomes:
        which = f"{ctx.args.period} " if ctx.args.period else ""
        ctx.print(f"no {which}returns stand submitted in this database: nothing received")
    else:
        for o in outcomes:
            what = f"{o.recipient} {o.grant_reference} {o.period} v{o.version}".strip()
            line = f"{o.file}: {o.status}" + (f" ({what})" if o.grant_reference else "")
            ctx.print(line + (f": {o.reason}" if o.reason else ""))
    return 1 if any(o.status == receiving.REFUSED for o in outcomes) else 0


def _receive_operation(args: Any) -> ReceiveReturns | ReceiveSubmitted:
    """Files, or (--from-database) the returns submitted in this database: one or the other."""
    if args.from_database:
        if args.files or args.template or args.map:
            raise UsageError("give return files (and a template) or --from-database, not both")
        return ReceiveSubmitted(args.period)
    if not args.files:
        raise UsageError("give the return files to receive, or --from-database")
    if args.period is not None:
        raise UsageError("--period goes with --from-database (a file says its own period)")
    files = tuple(str(f) for f in args.files)
    if template_and_map(args) is None:
        return ReceiveReturns(files)
    return ReceiveReturns(files, template=str(args.template), map=str(args.map))


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


def run_funded_update(ctx: Context) -> int:
    """Only the flags given change; the rest stay as recorded."""
    args = ctx.args
    row = funded.find_funded(ctx.db, args.reference)
    given = {key: getattr(args, key) for key in funded.FIELDS if getattr(args, key) is not None}
    values = funded.parse_funded({**funded.funded_json(row), **given})
    operation = UpdateFunded(row.id, row.version, tuple(values.items()))
    row = run_operation(ctx.db, operation, args.reason).result
    if args.format == "json":
        ctx.print_json(funded.funded_json(row))
    else:
        ctx.print(f"updated {row.grant_reference} ({row.recipient}), {format_money(row.award)}")
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


def run_funded_check(ctx: Context) -> int:
    """Exit 1 when a return is missing (an error), as ``check`` does."""
    on = parse_date(ctx.args.on) if ctx.args.on else local_date()
    findings = funded.return_findings(ctx.db, on)
    if ctx.args.format == "json":
        ctx.print_json([f.to_json() for f in findings])
    else:
        print_findings(ctx, findings)
    return 1 if has_errors(findings) else 0


# --- county ----------------------------------------------------------------------------------


def run_county(ctx: Context) -> int:
    args = ctx.args
    figures = county.county_figures(ctx.db, Period.parse(args.period), args.plan)
    if args.out:
        from fundtracker.opcc.panel_workbook import write_panel_workbook

        write_panel_workbook(Path(args.out), figures)
    if args.format == "json":
        ctx.print_json(figures)
    else:
        _print_county(ctx, figures)
    return 0


def _money(text: str) -> str:
    return format_money(Decimal(text))


def _print_county(ctx: Context, figures: dict[str, Any]) -> None:
    plan = figures["plan"]
    ctx.print(f"County figures {figures['period']}, plan {plan['name'] if plan else '(none)'}")
    for item in figures["attention"]:
        ctx.print(
            f"Needs attention: {item['recipient']} projects an {item['kind']} of "
            f"{_money(item['amount'])} ({item['percent_of_award']}% of the award)"
        )
    money = ("award", "spend_to_date", "committed", "forecast_outturn", "unassigned")
    rows = [
        (p["recipient"], p["grant_reference"], p["version"], *(_money(p[k]) for k in money))
        for p in figures["partnerships"]
    ]
    totals = figures["totals"]
    rows.append(("Total", "", "", *(_money(totals[k]) for k in money)))
    ctx.print_table(
        rows,
        [
            "Partnership",
            "Grant",
            "v",
            "Award",
            "Spend to date",
            "Committed",
            "Forecast",
            "Unassigned",
        ],
        right=[2, 3, 4, 5, 6, 7],
    )
    ctx.print()
    ctx.print_table(
        [
            (p["code"] or "", p["title"], _money(p["budget"]), _money(p["spend_to_date"]))
            for p in figures["priorities"]
        ],
        ["Code", "Priority", "Budget", "Spend to date"],
        right=[2, 3],
    )
    for item in figures["missing"]:
        ctx.print(f"Missing: {item['recipient']} {item['period']} (due {item['due']})")
    for item in figures["late"]:
        ctx.print(f"Late: {item['recipient']} {item['period']} ({item['days_late']} days)")
    for item in figures["other_plans"]:
        name = item["plan"]["name"] if item["plan"] else "no plan"
        ctx.print(f"Follows another plan: {item['recipient']} ({name})")
