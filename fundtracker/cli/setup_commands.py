"""init, demo, plan and grant commands."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from fundtracker.cli import project_commands
from fundtracker.cli.context import Context, add_database_option, add_format_option
from fundtracker.errors import FieldError, ValidationError
from fundtracker.money import format_money
from fundtracker.operations.grants import NewGrant, UpdateGrant, current_grant_version
from fundtracker.operations.plans import NewPlan, plan_record
from fundtracker.services import grants, plans
from fundtracker.setup_files import (
    grant_document,
    grant_to_toml,
    load_toml,
    read_grant,
    read_plan,
)


def register(subparsers: Any) -> None:
    init = subparsers.add_parser("init", help="create (or upgrade) the database")
    init.set_defaults(handler=run_init)
    demo = subparsers.add_parser("demo", help="load the illustrative demo year")
    demo.set_defaults(handler=run_demo)
    for parser in (init, demo):
        add_database_option(parser)

    plan = subparsers.add_parser("plan", help="plans and their priorities").add_subparsers(
        dest="plan_command", metavar="ACTION", required=True
    )
    plan_import = plan.add_parser("import", help="create or update a plan from a TOML file")
    plan_import.add_argument("file", type=Path)
    plan_import.set_defaults(handler=run_plan_import)
    plan_list = plan.add_parser("list", help="list plans")
    add_format_option(plan_list, "table", "json")
    plan_list.set_defaults(handler=run_plan_list)

    grant = subparsers.add_parser("grant", help="grants and their projects").add_subparsers(
        dest="grant_command", metavar="ACTION", required=True
    )
    grant_import = grant.add_parser("import", help="create or update a grant from a TOML file")
    grant_import.add_argument("file", type=Path)
    grant_import.set_defaults(handler=run_grant_import)
    grant_export = grant.add_parser("export", help="write a grant as a TOML setup file")
    grant_export.add_argument("reference")
    grant_export.add_argument("-o", "--out", type=Path, help="file to write (default: stdout)")
    grant_export.set_defaults(handler=run_grant_export)
    grant_list = grant.add_parser("list", help="list grants")
    add_format_option(grant_list, "table", "json")
    grant_list.set_defaults(handler=run_grant_list)
    grant_show = grant.add_parser("show", help="show a grant, its tranches and projects")
    grant_show.add_argument("reference")
    add_format_option(grant_show, "text", "json")
    grant_show.set_defaults(handler=run_grant_show)
    for parser in (plan_import, plan_list, grant_import, grant_export, grant_list, grant_show):
        add_database_option(parser)
    _register_setup_edits(plan, grant)
    project_commands.register(subparsers)


def _register_setup_edits(plan: Any, grant: Any) -> None:
    """plan new, grant new and grant update (issue 12): setting up without a file."""
    plan_new = plan.add_parser("new", help="create a plan (add priorities with priority add)")
    plan_new.add_argument("--key", required=True)
    plan_new.add_argument("--name", required=True, metavar="N")
    plan_new.add_argument("--owner", required=True, metavar="O")
    plan_new.add_argument("--kind", required=True, metavar="pcc|csp|statutory|other")
    plan_new.add_argument("--from", required=True, dest="effective_from", metavar="D")
    plan_new.add_argument("--to", dest="effective_to", metavar="D")
    plan_new.set_defaults(handler=run_plan_new)

    grant_new = grant.add_parser("new", help="create a grant from its offer letter")
    grant_new.add_argument("--reference", required=True, metavar="R")
    for option in ("name", "funder", "recipient", "award", "start", "end", "returns"):
        grant_new.add_argument(f"--{option}", required=True, metavar=_METAVARS[option])
    grant_new.add_argument("--aligned-plan", required=True, metavar="KEY")
    grant_new.add_argument("--local-plan", metavar="KEY")
    grant_new.add_argument("--conditions", metavar="TEXT")
    grant_new.set_defaults(handler=run_grant_new)

    grant_update = grant.add_parser("update", help="change a grant's details")
    grant_update.add_argument("reference", metavar="REF")
    for option in ("name", "funder", "recipient", "award", "start", "end", "returns"):
        grant_update.add_argument(f"--{option}", metavar=_METAVARS[option])
    grant_update.add_argument("--conditions", metavar="TEXT")
    grant_update.add_argument("--aligned-plan", metavar="KEY")
    grant_update.add_argument("--local-plan", metavar="KEY", help='"" for none')
    grant_update.set_defaults(handler=run_grant_update)
    for parser in (plan_new, grant_new, grant_update):
        project_commands.add_output_options(parser)


_METAVARS = {
    "name": "N",
    "funder": "F",
    "recipient": "R",
    "award": "A",
    "start": "D",
    "end": "D",
    "returns": "quarterly|half-yearly|annual",
}
# Option (argparse's name) -> the grant field it sets.
_GRANT_OPTIONS = {
    "reference": "reference",
    "name": "name",
    "funder": "funder",
    "recipient": "recipient",
    "award": "award",
    "start": "start",
    "end": "end",
    "returns": "return_frequency",
    "conditions": "conditions",
    "aligned_plan": "aligned_plan",
    "local_plan": "local_plan",
}


def _grant_values(ctx: Context) -> dict[str, object]:
    return {
        field: getattr(ctx.args, option)
        for option, field in _GRANT_OPTIONS.items()
        if getattr(ctx.args, option, None) is not None
    }


def _grant_record(ctx: Context, reference: str) -> dict[str, Any]:
    document = grant_document(grants.grant_spec(grants.load_grant(ctx.db, reference)))
    return dict(_jsonable(document["grant"]))


def run_grant_new(ctx: Context) -> int:
    done = project_commands.run(ctx, NewGrant(_grant_values(ctx)))
    grant = grants.load_grant(ctx.db, ctx.args.reference)
    return project_commands.report(
        ctx,
        f"grant {grant.reference} created: {grant.name}, award {format_money(grant.award)}, "
        f"{grant.start_date:%d/%m/%Y} to {grant.end_date:%d/%m/%Y}, returns "
        f"{grant.return_frequency}, aligned to {grant.aligned_plan.key}",
        _grant_record(ctx, str(done.grant)),
    )


def run_grant_update(ctx: Context) -> int:
    values = _grant_values(ctx)
    values.pop("reference")
    if not values:
        raise ValidationError(
            FieldError("", "nothing to change: give --award, --end or another field")
        )
    reference = ctx.args.reference
    version = current_grant_version(ctx.db, reference)
    project_commands.run(ctx, UpdateGrant(reference, values, version))
    record = _grant_record(ctx, reference)
    changed = ", ".join(name.replace("_", " ") for name in values)
    return project_commands.report(ctx, f"grant {reference} updated ({changed})", record)


def run_plan_new(ctx: Context) -> int:
    a = ctx.args
    values = {
        "key": a.key,
        "name": a.name,
        "owner": a.owner,
        "kind": a.kind,
        "effective_from": a.effective_from,
        "effective_to": a.effective_to,
    }
    done = project_commands.run(ctx, NewPlan(values))
    plan = done.result
    until = f" to {plan.effective_to:%d/%m/%Y}" if plan.effective_to else ""
    return project_commands.report(
        ctx,
        f"plan {plan.key} created: {plan.name} ({plan.kind}), from "
        f"{plan.effective_from:%d/%m/%Y}{until}; add its priorities with priority add",
        plan_record(plan),
    )


def run_init(ctx: Context) -> int:
    ctx.print(f"database ready: {ctx.db.display_name}")
    return 0


def run_demo(ctx: Context) -> int:
    from fundtracker.demo import load_demo

    summary = load_demo(ctx.db)
    ctx.print(f"demo data loaded into {ctx.db.display_name}: {summary}")
    return 0


def run_plan_import(ctx: Context) -> int:
    spec = read_plan(load_toml(ctx.args.file))
    plan, created = plans.import_plan(ctx.db, spec, reason=f"imported from {ctx.args.file.name}")
    ctx.print(
        f"plan {plan.key} {'created' if created else 'updated'}: {len(spec.priorities)} priorities"
    )
    return 0


def run_plan_list(ctx: Context) -> int:
    items = plans.list_plans(ctx.db)
    if ctx.args.format == "json":
        ctx.print_json(
            [
                {
                    "key": p.key,
                    "name": p.name,
                    "owner": p.owner,
                    "kind": p.kind,
                    "effective_from": p.effective_from.isoformat(),
                    "effective_to": p.effective_to.isoformat() if p.effective_to else None,
                    "previous_id": p.previous_id,  # the version this one replaced
                    "priorities": [
                        {
                            "code": q.code,
                            "title": q.title,
                            "parent": q.parent_code,
                            "retired": q.retired,
                        }
                        for q in p.priorities
                    ],
                }
                for p in items
            ]
        )
        return 0
    ctx.print_table(
        [
            (p.key, p.name, p.kind, p.effective_from, p.effective_to or "", len(p.priorities))
            for p in items
        ],
        ["Key", "Name", "Kind", "From", "To", "Priorities"],
        right=[5],
    )
    return 0


def run_grant_import(ctx: Context) -> int:
    spec = read_grant(load_toml(ctx.args.file))
    grant, created = grants.import_grant(ctx.db, spec, reason=f"imported from {ctx.args.file.name}")
    ctx.print(
        f"grant {grant.reference} {'created' if created else 'updated'}: "
        f"{len(spec.allocations)} projects, {len(spec.payments)} payments"
    )
    return 0


def run_grant_export(ctx: Context) -> int:
    text = grant_to_toml(grants.grant_spec(grants.load_grant(ctx.db, ctx.args.reference)))
    if ctx.args.out:
        from fundtracker.files import write_text_atomic

        write_text_atomic(ctx.args.out, text)
        ctx.print(f"wrote {ctx.args.out}")
    else:
        ctx.print(text.rstrip("\n"))
    return 0


def run_grant_list(ctx: Context) -> int:
    items = grants.list_grants(ctx.db)
    if ctx.args.format == "json":
        ctx.print_json([grant_summary(g) for g in items])
        return 0
    ctx.print_table(
        [
            (g.reference, g.name, g.funder, g.start_date, g.end_date, format_money(g.award))
            for g in items
        ],
        ["Reference", "Name", "Funder", "Start", "End", "Award"],
        right=[5],
    )
    return 0


def grant_summary(grant: Any) -> dict[str, Any]:
    from fundtracker.money import money_str

    return {
        "reference": grant.reference,
        "name": grant.name,
        "funder": grant.funder,
        "recipient": grant.recipient,
        "award": money_str(grant.award),
        "start": grant.start_date.isoformat(),
        "end": grant.end_date.isoformat(),
        "return_frequency": grant.return_frequency,
    }


def run_grant_show(ctx: Context) -> int:
    grant = grants.load_grant(ctx.db, ctx.args.reference)
    if ctx.args.format == "json":
        ctx.print_json(_jsonable(grant_document(grants.grant_spec(grant))))
        return 0
    ctx.print(f"{grant.reference}  {grant.name}")
    ctx.print(f"  {grant.funder} → {grant.recipient}")
    ctx.print(
        f"  {grant.start_date:%d/%m/%Y} to {grant.end_date:%d/%m/%Y}, returns "
        f"{grant.return_frequency}; award {format_money(grant.award)}"
    )
    ctx.print(
        f"  aligned to {grant.aligned_plan.key}"
        + (f", local plan {grant.local_plan.key}" if grant.local_plan else "")
    )
    ctx.print()
    ctx.print_table(
        [
            (p.date, format_money(p.amount), "received" if p.received else "expected")
            for p in grant.payments
        ],
        ["Payment date", "Amount", "State"],
        right=[1],
    )
    ctx.print()
    ctx.print_table(
        [
            (a.code, a.name, a.lead, a.cost_centre or "", format_money(a.budget))
            for a in grant.allocations
        ],
        ["Code", "Project", "Lead", "Cost centre", "Budget"],
        right=[4],
    )
    return 0


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
