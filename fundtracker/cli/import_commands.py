"""import-ledger, import list|undo and rule add|list|delete commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fundtracker.cli.context import Context, UsageError, add_database_option, add_format_option
from fundtracker.errors import ValidationError
from fundtracker.ledger import importer, rules
from fundtracker.ledger.exclusions import MONEY_KINDS, parse_exclude_options
from fundtracker.ledger.mapping import FIELDS, parse_map_options
from fundtracker.ledger.reading import UnreadableFileError
from fundtracker.models import RULE_FIELDS, RULE_OPERATORS

SHOWN_ROWS = 200  # rows listed per kind in text output; JSON lists them all


def register(subparsers: Any) -> None:
    ledger = subparsers.add_parser(
        "import-ledger",
        help="import a ledger export (CSV or XLSX) into a grant's spend",
        description="Import a council ledger export. Fields: " + ", ".join(FIELDS) + ".",
    )
    ledger.add_argument("file", metavar="FILE", type=Path)
    ledger.add_argument("--grant", required=True, metavar="REF")
    ledger.add_argument(
        "--map",
        action="extend",
        nargs="+",
        default=[],
        metavar="FIELD=COLUMN",
        help="map a field to a column header (repeatable; FIELD= leaves it unmapped)",
    )
    ledger.add_argument("--profile", metavar="NAME", help="use a saved mapping")
    ledger.add_argument("--save-profile", metavar="NAME", help="save the mapping used")
    ledger.add_argument(
        "--date-format", metavar="FMT", help="e.g. %%m/%%d/%%Y or mm/dd/yyyy (default: UK)"
    )
    ledger.add_argument("--sheet", metavar="NAME", help="worksheet of an XLSX file")
    ledger.add_argument("--dry-run", action="store_true", help="show what would happen")
    ledger.add_argument(
        "--skip-errors", action="store_true", help="import the good rows, report the bad"
    )
    ledger.add_argument("--errors-out", metavar="FILE.csv", type=Path, help="bad rows as CSV")
    ledger.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="not this grant: exclude every line whose cost_centre, account_code, supplier or "
        "reference is VALUE (repeatable; remembered for the grant)",
    )
    ledger.add_argument(
        "--exclude-row",
        action="append",
        default=[],
        type=int,
        metavar="ROW",
        help="not this grant: exclude the line on this row of the file (repeatable)",
    )
    ledger.add_argument("--reason", default="", help="why (kept in the audit log)")
    add_format_option(ledger, "text", "json")
    ledger.set_defaults(handler=run_import)

    batches = subparsers.add_parser("import", help="ledger import batches").add_subparsers(
        dest="import_command", metavar="ACTION", required=True
    )
    listing = batches.add_parser("list", help="a grant's import batches")
    listing.add_argument("--grant", required=True, metavar="REF")
    add_format_option(listing, "table", "json")
    listing.set_defaults(handler=run_list)
    undo = batches.add_parser("undo", help="remove exactly one batch's lines")
    undo.add_argument("batch", metavar="BATCH", type=int)
    undo.add_argument("--reason", default="", help="why (kept in the audit log)")
    undo.set_defaults(handler=run_undo)

    rule = subparsers.add_parser("rule", help="assignment rules").add_subparsers(
        dest="rule_command", metavar="ACTION", required=True
    )
    add = rule.add_parser("add", help="assign matching imported lines to an allocation")
    add.add_argument("--grant", required=True, metavar="REF")
    add.add_argument("--field", required=True, choices=RULE_FIELDS)
    add.add_argument("--op", required=True, choices=RULE_OPERATORS)
    add.add_argument("--value", required=True)
    add.add_argument("--allocation", required=True, metavar="CODE")
    add.add_argument("--reason", default="", help="why (kept in the audit log)")
    add.set_defaults(handler=run_rule_add)
    rule_list = rule.add_parser("list", help="a grant's rules in the order they apply")
    rule_list.add_argument("--grant", required=True, metavar="REF")
    add_format_option(rule_list, "table", "json")
    rule_list.set_defaults(handler=run_rule_list)
    rule_delete = rule.add_parser("delete", help="delete a rule")
    rule_delete.add_argument("id", type=int)
    rule_delete.add_argument("--reason", default="", help="why (kept in the audit log)")
    rule_delete.set_defaults(handler=run_rule_delete)
    for parser in (ledger, listing, undo, add, rule_list, rule_delete):
        add_database_option(parser)


def _options(ctx: Context) -> importer.ImportOptions:
    args = ctx.args
    try:
        mapping = parse_map_options(args.map)
        exclude = parse_exclude_options(args.exclude)
    except ValidationError as exc:
        raise UsageError(str(exc)) from None
    return importer.ImportOptions(
        mapping=mapping,
        profile=args.profile,
        save_profile=args.save_profile,
        date_format=args.date_format,
        sheet=args.sheet,
        skip_errors=args.skip_errors,
        errors_out=args.errors_out,
        exclude=exclude,
        exclude_rows=frozenset(args.exclude_row),
    )


def run_import(ctx: Context) -> int:
    args = ctx.args
    options = _options(ctx)
    try:
        if args.dry_run:
            result = importer.plan_import(ctx.db, args.grant, args.file, options)
        else:
            result = importer.commit_import(
                ctx.db, args.grant, args.file, options, reason=args.reason
            )
    except UnreadableFileError as exc:
        raise UsageError(str(exc)) from None
    if args.format == "json":
        ctx.print_json(result.to_dict())
    else:
        _print_result(ctx, result)
    if result.refused:
        ctx.warn(
            f"fundtracker-cli: nothing imported: {result.bad_rows} bad row(s); fix them, or "
            "use --skip-errors to import the good rows"
        )
    return 1 if result.bad_rows else 0


def _print_result(ctx: Context, result: importer.ImportResult) -> None:
    if result.dry_run:
        ctx.print(f"Preview of {result.file_name} into {result.grant} (nothing was changed)")
    elif result.batch is not None:
        ctx.print(f"Imported {result.file_name} into {result.grant} as batch {result.batch}")
    else:
        ctx.print(f"{result.file_name} was not imported into {result.grant}")
    mapped = ", ".join(f"{name}={column}" for name, column in result.mapping.items())
    ctx.print(f"header row {result.header_row}; columns: {mapped}")
    for batch in result.earlier_batches:
        ctx.print(f"note: this same file was imported before as batch {batch}")
    counts = {**result.counts(), "excluded": result.excluded}
    for key in (
        "rows_read",
        "imported",
        "excluded",
        "duplicates",
        "skipped",
        "unassigned",
        "errors",
    ):
        label = "bad rows" if key == "errors" else key.replace("_", " ")
        ctx.print(f"  {label:<11} {counts[key]:>8,}")
    _print_money(ctx, result)
    for warning in result.warnings:
        ctx.print(f"warning: {warning}")
    _print_notes(ctx, "Bad rows:", [str(e) for e in result.errors])
    excluded = [f"row {e.row}: {e.message}" for e in result.excluded_rows[:SHOWN_ROWS]]
    _print_notes(ctx, "Excluded (not this grant):", excluded, result.excluded)
    duplicates = [f"row {d.row}: {d.message}" for d in result.duplicate_rows[:SHOWN_ROWS]]
    _print_notes(ctx, "Duplicates:", duplicates, result.duplicates)
    skipped = [f"row {s.row}: {s.message}" for s in result.skipped_rows[:SHOWN_ROWS]]
    _print_notes(ctx, "Skipped:", skipped, result.skipped)


def _print_money(ctx: Context, result: importer.ImportResult) -> None:
    """Rows, net, VAT and gross of each kind, to tie to the file's own totals."""
    rows = []
    for kind in MONEY_KINDS:
        money = result.money[kind].to_dict()
        label = "will import" if kind == "imported" and result.dry_run else kind
        rows.append((label, money["rows"], money["net"], money["vat"], money["gross"]))
    ctx.print_table(rows, ["", "Rows", "Net", "VAT", "Gross"], right=[1, 2, 3, 4])


def _print_notes(ctx: Context, title: str, lines: list[str], total: int | None = None) -> None:
    total = len(lines) if total is None else total
    if not total:
        return
    ctx.print(title)
    for line in lines[:SHOWN_ROWS]:
        ctx.print(f"  {line}")
    if total > SHOWN_ROWS:
        ctx.print(f"  … and {total - SHOWN_ROWS:,} more (--format json lists more)")


def run_list(ctx: Context) -> int:
    batches = importer.list_batches(ctx.db, ctx.args.grant)
    if ctx.args.format == "json":
        ctx.print_json([importer.batch_to_dict(b) for b in batches])
        return 0
    ctx.print_table(
        [
            (
                b.id,
                b.imported_at.strftime("%d/%m/%Y %H:%M"),
                b.imported_by,
                b.file_name,
                b.rows_read,
                b.imported,
                b.duplicates,
                b.skipped,
                b.unassigned,
                b.errors,
                b.undone_at.strftime("%d/%m/%Y %H:%M") if b.undone_at else "",
            )
            for b in batches
        ],
        [
            "Batch",
            "Imported (UTC)",
            "By",
            "File",
            "Rows",
            "Imported",
            "Duplicates",
            "Skipped",
            "Unassigned",
            "Bad",
            "Undone (UTC)",
        ],
        right=[0, 4, 5, 6, 7, 8, 9],
    )
    return 0


def run_undo(ctx: Context) -> int:
    removed = importer.undo_batch(ctx.db, ctx.args.batch, reason=ctx.args.reason)
    ctx.print(f"undid batch {ctx.args.batch}: removed {removed} line(s)")
    return 0


def run_rule_add(ctx: Context) -> int:
    args = ctx.args
    rule = rules.add_rule(
        ctx.db, args.grant, args.field, args.op, args.value, args.allocation, args.reason
    )
    ctx.print(str(rule.id))
    return 0


def run_rule_list(ctx: Context) -> int:
    found = [rules.rule_to_dict(r) for r in rules.list_rules(ctx.db, ctx.args.grant)]
    if ctx.args.format == "json":
        ctx.print_json(found)
        return 0
    ctx.print_table(
        [(r["id"], r["priority"], r["field"], r["op"], r["value"], r["allocation"]) for r in found],
        ["Id", "Priority", "Field", "Op", "Value", "Allocation"],
        right=[0, 1],
    )
    return 0


def run_rule_delete(ctx: Context) -> int:
    rules.delete_rule(ctx.db, ctx.args.id, reason=ctx.args.reason)
    ctx.print(f"deleted rule {ctx.args.id}")
    return 0
