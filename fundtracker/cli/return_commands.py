"""Monitoring return commands: export-return, return list/reopen, narrative set, attach,
evidence-pack and read-return."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from fundtracker.checks import ERROR, WARNING, run_checks
from fundtracker.cli.context import Context, UsageError, add_database_option, add_format_option
from fundtracker.money import format_money
from fundtracker.opcc import receiving
from fundtracker.opcc.template_receiving import check_template_checksum
from fundtracker.periods import Period
from fundtracker.returns import evidence, narratives, reader, submission, template
from fundtracker.returns.workbook import write_return

T = TypeVar("T")


def register(subparsers: Any) -> None:
    export = subparsers.add_parser(
        "export-return", help="write the period's monitoring return workbook (and submit it)"
    )
    export.add_argument("--grant", required=True, metavar="REF")
    export.add_argument("--period", required=True, help="e.g. 2025/26-Q2")
    export.add_argument("--out", required=True, type=Path, metavar="FILE.xlsx")
    export.add_argument(
        "--submit",
        action="store_true",
        help="record the return as submitted, which locks the period (check errors are "
        "listed first but do not stop it)",
    )
    export.add_argument("--prepared-by", metavar="NAME", help="default: your user name")
    add_template_options(export, "fill in the funder's own template instead (with --map)")
    export.set_defaults(handler=run_export)

    group = subparsers.add_parser("return", help="submitted returns").add_subparsers(
        dest="return_command", metavar="ACTION", required=True
    )
    listing = group.add_parser("list", help="every submitted return of a grant, every version")
    listing.add_argument("--grant", required=True, metavar="REF")
    add_format_option(listing, "table", "json")
    listing.set_defaults(handler=run_list)
    reopen = group.add_parser("reopen", help="reopen a submitted return (lifts its lock)")
    reopen.add_argument("--grant", required=True, metavar="REF")
    reopen.add_argument("--period", required=True)
    reopen.add_argument("--reason", required=True, help="why (kept in the audit log)")
    reopen.set_defaults(handler=run_reopen)

    narrative = subparsers.add_parser("narrative", help="project narratives").add_subparsers(
        dest="narrative_command", metavar="ACTION", required=True
    )
    set_narrative = narrative.add_parser("set", help="set a project's narrative for a period")
    set_narrative.add_argument("--grant", required=True, metavar="REF")
    set_narrative.add_argument("--period", required=True)
    set_narrative.add_argument("--allocation", required=True, metavar="CODE")
    unset = argparse.SUPPRESS
    set_narrative.add_argument("--rag", default=unset, help='G, A or R ("" to compute it)')
    set_narrative.add_argument("--outputs", default=unset, help="outputs and outcomes")
    set_narrative.add_argument("--variance-explanation", dest="variance_explanation", default=unset)
    set_narrative.add_argument(
        "--forecast", default=unset, help='forecast outturn for this period ("" to clear)'
    )
    set_narrative.add_argument("--reason", default="", help="why (kept in the audit log)")
    set_narrative.set_defaults(handler=run_narrative_set)

    attach = subparsers.add_parser("attach", help="attach an evidence file to a spend line")
    attach.add_argument("spend_id", type=int, metavar="SPEND_ID")
    attach.add_argument("file", type=Path, metavar="FILE")
    add_format_option(attach, "text", "json")
    attach.set_defaults(handler=run_attach)

    pack = subparsers.add_parser(
        "evidence-pack", help="one zip: the return, its transactions, every attachment, an index"
    )
    pack.add_argument("--grant", required=True, metavar="REF")
    pack.add_argument("--period", required=True)
    pack.add_argument("--out", required=True, type=Path, metavar="FILE.zip")
    pack.set_defaults(handler=run_pack)

    read = subparsers.add_parser("read-return", help="read a return workbook back")
    read.add_argument("file", type=Path, metavar="FILE")
    add_template_options(read, "read a funder's template filled in by export-return (with --map)")
    add_format_option(read, "text", "json")
    read.set_defaults(handler=run_read)
    for parser in (export, listing, reopen, set_narrative, attach, pack, read):
        add_database_option(parser)


def add_template_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--template", type=Path, metavar="FILE.xlsx", help=what)
    parser.add_argument(
        "--map", type=Path, metavar="MAP.toml", help="where each figure goes in the template"
    )


def template_and_map(args: argparse.Namespace) -> template.ReturnTemplate | None:
    """The funder's template and its map, checked against each other; None without them."""
    given, the_map = args.template, args.map
    if given is None and the_map is None:
        return None
    if given is None or the_map is None:
        raise UsageError("--template and --map go together: give both")
    for path in (given, the_map):
        if not path.is_file():
            raise UsageError(f"cannot read {path}: no such file")
    out: Path | None = getattr(args, "out", None)
    if out is not None and out.suffix.lower() != given.suffix.lower():
        raise UsageError(
            f"{out.name} must end {given.suffix} like the template (Excel refuses a "
            "workbook whose name does not say whether it holds macros)"
        )
    return template.ReturnTemplate.load(given, the_map)


def _writing(out: Path, action: Callable[[], T]) -> T:
    """Run ``action`` that writes ``out``; a file that cannot be written is a usage error."""
    if out.is_dir():
        raise UsageError(f"{out} is a folder; give a file name to write")
    try:
        return action()
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from exc


def run_export(ctx: Context) -> int:
    args = ctx.args
    period = Period.parse(args.period)
    funders = template_and_map(ctx.args)  # a map that does not fit is refused first
    writer = funders.write if funders else write_return
    if args.submit and not _already_submitted(ctx, args.grant, period):
        # Errors and warnings alike (issue 13): an overspend warning must be seen before
        # the return goes; the findings are listed, errors first, and submitting goes on.
        findings = run_checks(ctx.db, args.grant, period)
        errors = [f for f in findings if f.severity == ERROR]
        warnings = [f for f in findings if f.severity == WARNING]
        if errors or warnings:
            ctx.print(
                f"{len(errors)} check errors and {len(warnings)} warnings (submitting anyway):"
            )
            for finding in errors + warnings:
                where = f"{finding.severity} {finding.code} [{finding.subject}]"
                ctx.print(f"  {where}: {finding.cli_message}")
    result = _writing(
        args.out,
        lambda: submission.export_return(
            ctx.db,
            args.grant,
            period,
            args.out,
            prepared_by=args.prepared_by,
            submit=args.submit,
            writer=writer,
        ),
    )
    if result.newly_submitted:
        ctx.print(f"submitted the return for {period}, version {result.version}")
    elif result.status == submission.SUBMITTED:
        ctx.print(
            f"the return for {period} was submitted (version {result.version}); "
            "the workbook shows the submitted figures"
        )
    if result.checksum:
        ctx.print(f"checksum (SHA-256) {result.checksum}")
    ctx.print(f"wrote {args.out} ({result.status})")
    return 0


def _already_submitted(ctx: Context, grant: str, period: Period) -> bool:
    """True when the period's return stands submitted (the core then refuses to submit it
    again, so there is no point listing check errors first)."""
    return any(
        r.period == str(period) and r.status == "submitted"
        for r in submission.list_returns(ctx.db, grant)
    )


def run_list(ctx: Context) -> int:
    rows = submission.list_returns(ctx.db, ctx.args.grant)
    if ctx.args.format == "json":
        ctx.print_json([row.to_json() for row in rows])
        return 0
    ctx.print_table(
        [
            (
                r.period,
                r.version,
                r.status,
                r.submitted_at.strftime("%d/%m/%Y %H:%M"),
                r.submitted_by,
                r.checksum[:16] + "…",
                r.reopen_reason or "",
            )
            for r in rows
        ],
        ["Period", "Version", "Status", "Submitted (UTC)", "By", "Checksum", "Reopened because"],
        right=[1],
    )
    return 0


def run_reopen(ctx: Context) -> int:
    period = Period.parse(ctx.args.period)
    info = submission.reopen_return(ctx.db, ctx.args.grant, period, ctx.args.reason)
    ctx.print(f"reopened the return for {info.period} (version {info.version})")
    return 0


def run_narrative_set(ctx: Context) -> int:
    values = {
        name: getattr(ctx.args, name) for name in narratives.FIELDS if hasattr(ctx.args, name)
    }
    if not values:
        ctx.warn(
            "fundtracker-cli: nothing to set: give --rag, --outputs, "
            "--variance-explanation or --forecast"
        )
        return 2
    period = Period.parse(ctx.args.period)
    row = narratives.set_narrative(
        ctx.db, ctx.args.grant, period, ctx.args.allocation, values, reason=ctx.args.reason
    )
    forecast = format_money(row.forecast) if row.forecast is not None else "computed"
    ctx.print(
        f"narrative for {ctx.args.allocation} {period}: RAG {row.rag or 'computed'}, "
        f"forecast {forecast}"
    )
    return 0


def run_attach(ctx: Context) -> int:
    source: Path = ctx.args.file
    if not source.is_file():
        raise UsageError(f"cannot read {source}: no such file")
    try:
        info = evidence.attach(ctx.db, ctx.args.spend_id, source)
    except PermissionError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from exc
    if ctx.args.format == "json":
        ctx.print_json(info.to_json())
    elif info.already_attached:
        ctx.print(f"{info.original_name} is already attached to spend line {info.spend_line_id}")
    else:
        ctx.print(
            f"attached {info.original_name} to spend line {info.spend_line_id} "
            f"(sha256 {info.sha256})"
        )
    return 0


def run_pack(ctx: Context) -> int:
    period = Period.parse(ctx.args.period)
    out: Path = ctx.args.out
    made = _writing(out, lambda: evidence.write_evidence_pack(ctx.db, ctx.args.grant, period, out))
    ctx.print(
        f"wrote {out}: the {made['status'].lower()} return, {made['lines']} lines, "
        f"{made['attachments']} attachments"
    )
    return 0


def run_read(ctx: Context) -> int:
    funders = template_and_map(ctx.args)
    try:
        report = funders.read(ctx.args.file) if funders else reader.read_return(ctx.args.file)
    except reader.UnreadableReturnError as exc:
        raise UsageError(str(exc)) from exc
    if funders:
        verdict = check_template_checksum(ctx.args.file, report, funders)
    else:
        verdict = receiving.check_checksum(ctx.args.file, report)
    report["return"].update(verdict.to_json())
    if ctx.args.format == "json":
        ctx.print_json(report)
    else:
        _print_read(ctx, report, verdict)
    return 1 if verdict.matches is False else 0  # its figures are not the ones submitted


def _print_read(ctx: Context, report: dict[str, Any], verdict: receiving.ChecksumCheck) -> None:
    summary = report["summary"]
    stated = report["return"]
    ctx.print(f"{report['grant']} {report['period']} ({stated['status'] or 'no status'})")
    for key in ("award", "spend_to_date", "committed", "forecast_outturn"):
        if summary.get(key) is not None:  # a funder's template may not show every figure
            ctx.print(f"  {key.replace('_', ' ')}: {format_money(Decimal(summary[key]))}")
    ctx.print(f"  projects: {len(report['allocations'])}")
    if not stated["checksum"]:
        return  # a draft: nothing was submitted to verify
    if verdict.matches:
        ctx.print(f"  checksum verified: {stated['checksum']}")
    elif verdict.matches is None:
        ctx.print(
            "  its checksum cannot be verified: the workbook carries no copy of the return as "
            "exported (a funder's template, or exported before returns carried one), and the "
            "checksum covers more than its sheets show (the checks, the computed RAGs)"
        )
    else:
        ctx.print(
            "WARNING: this workbook's figures were changed after it was exported: "
            f"{verdict.difference}. They are not the return submitted with its checksum "
            f"{stated['checksum'][:12]}…"
            + (f" (recomputed from what it shows: {verdict.computed})" if verdict.computed else "")
        )
