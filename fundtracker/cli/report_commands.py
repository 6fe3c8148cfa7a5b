"""report, check and settings commands: the figures engine and the checks from a shell."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from fundtracker import settings
from fundtracker.checks import ERROR, INFO, Finding, has_errors, run_checks
from fundtracker.cli.context import Context, add_database_option, add_format_option
from fundtracker.figures import QUARTER_KEYS, Report, build_report
from fundtracker.money import format_money
from fundtracker.periods import Period
from fundtracker.year_end import year_end_block


def register(subparsers: Any) -> None:
    report = subparsers.add_parser("report", help="a grant's figures as at the end of a period")
    report.add_argument("--grant", required=True, metavar="REF")
    report.add_argument("--period", required=True, help="e.g. 2025/26-Q2, 2025/26-H1 or 2025/26")
    add_format_option(report, "text", "json")
    report.set_defaults(handler=run_report)

    check = subparsers.add_parser(
        "check", help="what is wrong with a grant's data (exit 1 when any error is found)"
    )
    check.add_argument("--grant", required=True, metavar="REF")
    check.add_argument(
        "--period",
        help="as at the end of this period (default: the current quarter, or the grant's "
        "last quarter once it has ended)",
    )
    add_format_option(check, "text", "json")
    check.set_defaults(handler=run_check)

    setting = subparsers.add_parser("settings", help="show or change check thresholds")
    setting.add_argument("key", nargs="?", help="a setting, e.g. checks.behind_profile_percent")
    setting.add_argument("value", nargs="?", help="the new value ('default' to reset)")
    setting.add_argument("--reason", default="", help="why (kept in the audit log)")
    add_format_option(setting, "table", "json")
    setting.set_defaults(handler=run_settings)
    for parser in (report, check, setting):
        add_database_option(parser)


# --- report -------------------------------------------------------------------------------


def run_report(ctx: Context) -> int:
    report = build_report(ctx.db, ctx.args.grant, Period.parse(ctx.args.period))
    if ctx.args.format == "json":
        ctx.print_json({**report.to_json(), **year_end_block(ctx.db, report)})
    else:
        print_report(ctx, report)
    return 0


def _m(amount: Decimal) -> str:
    return format_money(amount)


def print_report(ctx: Context, report: Report) -> None:
    grant, s = report.grant, report.summary
    ctx.print(f"{grant.reference}  {grant.name}")
    ctx.print(f"{grant.funder} to {grant.recipient}")
    ctx.print(
        f"Period {report.period}: {report.period_start:%d/%m/%Y} to {report.period_end:%d/%m/%Y}"
    )
    ctx.print()
    ctx.print_table(
        [
            ("Award", _m(s.award)),
            *(
                [("Original allocation", _m(s.original_allocated)), ("Virements", _m(s.virements))]
                if report.virements
                else []
            ),
            ("Allocated to projects", _m(s.allocated)),
            ("Unallocated", _m(s.unallocated)),
            ("Received to date", _m(s.received)),
            ("Spend this period", _m(s.spend_this_period)),
            ("Spend to date", _m(s.spend_to_date)),
            ("Committed", _m(s.committed)),
            ("Forecast outturn", _m(s.forecast_outturn)),
            ("Projected underspend", _m(s.projected_underspend)),
            ("Projected overspend", _m(s.projected_overspend)),
        ],
        ["Summary", "Amount"],
        right=[1],
    )
    ctx.print()
    _print_projects(ctx, report)
    for plan in report.plans:
        ctx.print()
        ctx.print(f"Priorities: {plan.key} ({plan.name})")
        rows = report.priorities_for(plan.key)
        ctx.print_table(
            [(p.code or "", p.title, _m(p.budget), _m(p.spend_to_date)) for p in rows],
            ["Code", "Priority", "Budget", "Spend to date"],
            right=[2, 3],
        )


def _print_projects(ctx: Context, report: Report) -> None:
    fy = report.period.year
    rows: list[Sequence[str]] = []
    for a in report.allocations:
        forecast = _m(a.forecast_outturn) + (" *" if a.forecast_entered else "")
        variance = _m(a.variance) + (" OVER" if a.variance < 0 else "")
        rows.append(
            (
                a.code,
                a.name[:32],
                _m(a.budget),
                *(_m(a.quarters[q]) for q in QUARTER_KEYS),
                _m(a.spend_to_date),
                _m(a.committed),
                forecast,
                variance,
            )
        )
    u = report.unassigned
    if u.spend_to_date or u.committed:
        rows.append(
            (
                "—",
                "Unassigned",
                _m(Decimal("0.00")),
                *(_m(u.quarters[q]) for q in QUARTER_KEYS),
                _m(u.spend_to_date),
                _m(u.committed),
                _m(u.spend_to_date + u.committed),
                _m(-(u.spend_to_date + u.committed)),
            )
        )
    s = report.summary
    rows.append(
        (
            "Total",
            "",
            _m(s.allocated),
            *(
                _m(sum((a.quarters[q] for a in report.allocations), u.quarters[q]))
                for q in QUARTER_KEYS
            ),
            _m(s.spend_to_date),
            _m(s.committed),
            _m(s.forecast_outturn),
            _m(s.allocated - s.forecast_outturn),
        )
    )
    ctx.print(f"Projects (quarters of {fy})")
    ctx.print_table(
        rows,
        [
            "Code",
            "Project",
            "Budget",
            *QUARTER_KEYS,
            "To date",
            "Committed",
            "Forecast",
            "Variance",
        ],
        right=range(2, 11),
    )
    for a in report.allocations:
        if a.forecast_entered:
            ctx.print(f"* {a.code}: forecast entered by the officer in {a.forecast_entered_in}")
    for a in report.allocations:
        if a.overspent:
            ctx.print(
                f"{a.code}: spent and committed {_m(a.spent_and_committed)}, over its "
                f"{_m(a.budget)} budget (RAG R)"
            )


# --- check --------------------------------------------------------------------------------


def run_check(ctx: Context) -> int:
    period = Period.parse(ctx.args.period) if ctx.args.period else None
    findings = run_checks(ctx.db, ctx.args.grant, period)
    if ctx.args.format == "json":
        ctx.print_json([f.to_json() for f in findings])
    else:
        print_findings(ctx, findings)
    return 1 if has_errors(findings) else 0


def print_findings(ctx: Context, findings: Sequence[Finding]) -> None:
    if not findings:
        ctx.print("No problems found.")
        return
    ordered = sorted(findings, key=lambda f: f.severity != ERROR)
    for f in ordered:
        ctx.print(f"{f.severity.upper():7}  {f.code:20}  {f.subject:>8}  {f.cli_message}")
    errors = sum(f.severity == ERROR for f in findings)
    notes = sum(f.severity == INFO for f in findings)
    ctx.print()
    ctx.print(f"{errors} error(s), {len(findings) - errors - notes} warning(s), {notes} note(s)")


# --- settings -----------------------------------------------------------------------------


def run_settings(ctx: Context) -> int:
    key, value = ctx.args.key, ctx.args.value
    if key and value:
        if value == "default":
            settings.reset_setting(ctx.db, key, reason=ctx.args.reason)
        else:
            settings.set_setting(ctx.db, key, value, reason=ctx.args.reason)
    values = {key: settings.get_setting(ctx.db, key)} if key else settings.all_settings(ctx.db)
    if ctx.args.format == "json":
        ctx.print_json({k: f"{v:f}" for k, v in values.items()})
    else:
        ctx.print_table(
            [(k, f"{v:f}", settings.SETTINGS[k].description) for k, v in values.items()],
            ["Setting", "Value", "Meaning"],
        )
    return 0
