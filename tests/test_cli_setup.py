"""The setup commands of issue 12 item 7: grant new/update, payment add/receive/remove, plan
new, priority add/retire, project add/update. Each prints what it did, gives the record with
--format json, and refuses bad input with exit 1 naming the field, changing nothing (every
table compared before and after)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text

from fundtracker.models import AuditEvent, Base
from fundtracker.services.grants import load_grant
from fundtracker.storage import Database
from tests.helpers import CliResult, run_cli

GRANT = "CRG-2025-26"


@pytest.fixture
def cli(demo_db: Database, database_url: str, capsys: pytest.CaptureFixture[str]) -> Any:
    def call(*args: str) -> CliResult:
        return run_cli(capsys, database_url, *args)

    return call


def _everything(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove a refusal changed nothing."""
    with db.engine.connect() as connection:
        return {
            table.name: sorted(
                (tuple(row) for row in connection.execute(text(f"SELECT * FROM {table.name}"))),
                key=repr,
            )
            for table in Base.metadata.sorted_tables
        }


def _refused(cli: Any, db: Database, *args: str) -> str:
    before = _everything(db)
    result = cli(*args)
    assert result.code == 1, result.out + result.err
    assert _everything(db) == before
    return str(result.err)


GRANT_NEW = (
    "grant", "new", "--reference", "CRG-2026-27", "--name", "Crime Reduction Grant 2026/27",
    "--funder", "Kent PCC", "--recipient", "Tonbridge and Malling CSP", "--award", "£40,000",
    "--start", "01/04/2026", "--end", "2027-03-31", "--returns", "half-yearly",
    "--aligned-plan", "kent-pcc-2025",
)  # fmt: skip


def _with(args: tuple[str, ...], option: str, value: str) -> tuple[str, ...]:
    index = args.index(option)
    return (*args[: index + 1], value, *args[index + 2 :])


# --- grant new / update ----------------------------------------------------------------


def test_grant_new_creates_the_grant_and_prints_it(cli: Any, demo_db: Database) -> None:
    result = cli(*GRANT_NEW, "--local-plan", "tmbc-csp-2025-26", "--conditions", "Spend it")
    assert result.code == 0, result.err
    assert result.out.startswith("grant CRG-2026-27 created: Crime Reduction Grant 2026/27")
    grant = load_grant(demo_db, "CRG-2026-27")
    assert (grant.award, grant.start_date, grant.end_date, grant.return_frequency) == (
        Decimal("40000.00"),
        date(2026, 4, 1),
        date(2027, 3, 31),
        "half-yearly",
    )
    assert grant.local_plan is not None and grant.conditions == "Spend it"


def test_grant_new_json_gives_the_record(cli: Any) -> None:
    record = cli(*GRANT_NEW, "--format", "json").json()
    assert record["reference"] == "CRG-2026-27"
    assert (record["award"], record["start"], record["return_frequency"]) == (
        "40000.00",
        "2026-04-01",
        "half-yearly",
    )


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--reference", GRANT, "reference: a grant with reference CRG-2025-26 already exists"),
        ("--award", "40000.001", "award: '40000.001' has fractions of a penny"),
        ("--award", "0", "award: must be more than £0.00"),
        ("--award", "NaN", "award: 'NaN' is not an amount"),
        ("--start", "31/02/2026", "start: '31/02/2026' is not a date"),
        ("--end", "01/01/2026", "end: 01/01/2026 is before the start"),
        ("--returns", "monthly", "return frequency: must be one of quarterly, half-yearly"),
        ("--aligned-plan", "nope", "aligned plan: unknown plan 'nope'"),
        ("--name", " ", "name: is required"),
    ],
)
def test_grant_new_refuses_bad_input(
    cli: Any, demo_db: Database, option: str, value: str, message: str
) -> None:
    assert message in _refused(cli, demo_db, *_with(GRANT_NEW, option, value))


def test_grant_new_without_a_required_option_is_a_usage_error(cli: Any) -> None:
    result = cli(*GRANT_NEW[:-2])
    assert result.code == 2 and "--aligned-plan" in result.err


def test_grant_update_changes_details_and_audits_the_reason(cli: Any, demo_db: Database) -> None:
    result = cli("grant", "update", GRANT, "--award", "45,000.00", "--end", "31/03/2026",
                 "--conditions", "No virements", "--reason", "variation letter")  # fmt: skip
    assert result.code == 0, result.err
    assert result.out.strip() == f"grant {GRANT} updated (award, end, conditions)"
    grant = load_grant(demo_db, GRANT)
    assert (grant.award, grant.conditions) == (Decimal("45000.00"), "No virements")
    with demo_db.read() as session:
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.entity == "grant", AuditEvent.action == "update")
        )
    # 42000.00 -> 45000.00; the end date was already 31/03/2026, so it is not in the event.
    assert event is not None and event.reason == "variation letter"
    assert '"award": ["42000.00", "45000.00"]' in event.changes
    assert "end_date" not in event.changes
    record = cli("grant", "update", GRANT, "--name", "CRG", "--format", "json").json()
    assert (record["name"], record["award"]) == ("CRG", "45000.00")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--award", "-1"), "award: must be more than £0.00"),
        (("--start", "2026-13-01"), "start: '2026-13-01' is not a real date"),
        (("--end", "30/06/2026"), "the grant would have 5 quarters"),
        (("--returns", "weekly"), "return frequency: must be one of"),
        ((), "nothing to change"),
    ],
)
def test_grant_update_refuses_bad_input(
    cli: Any, demo_db: Database, args: tuple[str, ...], message: str
) -> None:
    assert message in _refused(cli, demo_db, "grant", "update", GRANT, *args)


def test_grant_update_of_an_unknown_grant_is_refused(cli: Any, demo_db: Database) -> None:
    assert "no grant with reference 'NOPE'" in _refused(
        cli, demo_db, "grant", "update", "NOPE", "--name", "X"
    )


# --- payments --------------------------------------------------------------------------


def _payments(db: Database) -> list[tuple[date, Decimal, bool, date | None]]:
    return [(p.date, p.amount, p.received, p.received_on) for p in load_grant(db, GRANT).payments]


def test_payment_add_receive_remove(cli: Any, demo_db: Database) -> None:
    added = cli("payment", "add", "--grant", GRANT, "--date", "01/11/2025", "--amount", "500")
    assert added.code == 0, added.err
    assert added.out.strip() == (
        f"payment of 01/11/2025 (£500.00) added to grant {GRANT}, expected"
    )
    received = cli("payment", "receive", "--grant", GRANT, "--date", "2025-11-01",
                   "--received-on", "03/11/2025", "--format", "json")  # fmt: skip
    assert received.code == 0, received.err
    assert received.json()["received_on"] == "2025-11-03"
    assert _payments(demo_db)[-1] == (date(2025, 11, 1), Decimal("500.00"), True,
                                      date(2025, 11, 3))  # fmt: skip
    removed = cli("payment", "remove", "--grant", GRANT, "--date", "01/11/2025")
    assert removed.out.strip() == f"payment of 01/11/2025 (£500.00) removed from grant {GRANT}"
    assert len(_payments(demo_db)) == 2


def test_payment_add_received_and_json(cli: Any) -> None:
    record = cli("payment", "add", "--grant", GRANT, "--date", "01/12/2025", "--amount",
                 "1,000.50", "--received", "--format", "json").json()  # fmt: skip
    assert {k: record[k] for k in ("date", "amount", "received")} == {
        "date": "2025-12-01",
        "amount": "1000.50",
        "received": True,
    }


def test_payment_receive_without_a_day_is_received_today(cli: Any, demo_db: Database) -> None:
    result = cli("payment", "receive", "--grant", GRANT, "--date", "15/01/2026")
    assert result.code == 0, result.err
    assert _payments(demo_db)[1][2:] == (True, date.today())


@pytest.mark.parametrize(
    "args,message",
    [
        (("add", "--date", "01/11/2026", "--amount", "5"), "date: 01/11/2026 is outside the grant"),
        (("add", "--date", "01/11/2025", "--amount", "5.001"), "amount: '5.001' has fractions"),
        (("add", "--date", "01/11/2025", "--amount", "0"), "amount: must be more than £0.00"),
        (("add", "--date", "soon", "--amount", "5"), "date: 'soon' is not a date"),
        (("receive", "--date", "16/01/2026"), "date: grant CRG-2025-26 has no payment on 16/01"),
        (("receive", "--date", "15/01/2026", "--received-on", "01/01/2999"), "in the future"),
        (("receive", "--date", "15/01/2026", "--received-on", "30/02/2026"), "received on: "),
        (("remove", "--date", "x"), "date: 'x' is not a date"),
        (("remove", "--date", "16/05/2025"), "no payment on 16/05/2025"),
    ],
)
def test_payment_commands_refuse_bad_input(
    cli: Any, demo_db: Database, args: tuple[str, ...], message: str
) -> None:
    action, *rest = args
    assert message in _refused(cli, demo_db, "payment", action, "--grant", GRANT, *rest)


# --- plan new, priority add / retire ---------------------------------------------------

PLAN_NEW = ("plan", "new", "--key", "tmbc-2026", "--name", "Safer Tonbridge and Malling",
            "--owner", "TMBC CSP", "--kind", "csp", "--from", "01/04/2026")  # fmt: skip


def test_plan_new_then_priorities_and_sub_priorities(cli: Any, demo_db: Database) -> None:
    result = cli(*PLAN_NEW, "--to", "31/03/2027")
    assert result.code == 0, result.err
    assert result.out.startswith("plan tmbc-2026 created: Safer Tonbridge and Malling (csp)")
    added = cli("priority", "add", "--plan", "tmbc-2026", "--code", "L1", "--title", "Young people")
    assert added.out.strip() == "priority L1 (Young people) added to plan tmbc-2026"
    record = cli("priority", "add", "--plan", "tmbc-2026", "--code", "L1.1", "--title",
                 "Schools", "--under", "L1", "--format", "json").json()  # fmt: skip
    assert (record["parent"], record["position"], record["retired"]) == ("L1", 1, False)
    listed = cli("plan", "list", "--format", "json").json()
    plan = next(p for p in listed if p["key"] == "tmbc-2026")
    assert plan["effective_to"] == "2027-03-31"
    assert [(p["code"], p["parent"]) for p in plan["priorities"]] == [("L1", None), ("L1.1", "L1")]
    cli("priority", "retire", "--plan", "tmbc-2026", "--code", "L1")
    listed = cli("plan", "list", "--format", "json").json()
    plan = next(p for p in listed if p["key"] == "tmbc-2026")
    assert [p["retired"] for p in plan["priorities"]] == [True, True]  # L1 and its L1.1


def test_plan_new_json(cli: Any) -> None:
    record = cli(*PLAN_NEW, "--format", "json").json()
    assert (record["key"], record["kind"], record["effective_from"], record["effective_to"]) == (
        "tmbc-2026",
        "csp",
        "2026-04-01",
        None,
    )


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--key", "kent-pcc-2025", "key: a plan with key kent-pcc-2025 already exists"),
        ("--kind", "county", "kind: must be one of pcc, csp, statutory, other"),
        ("--from", "2026-02-30", "from: '2026-02-30' is not a real date"),
        ("--name", "", "name: is required"),
    ],
)
def test_plan_new_refuses_bad_input(
    cli: Any, demo_db: Database, option: str, value: str, message: str
) -> None:
    assert message in _refused(cli, demo_db, *_with(PLAN_NEW, option, value))


def test_plan_new_refuses_an_end_before_its_start(cli: Any, demo_db: Database) -> None:
    assert "to: 01/01/2026 is before the start" in _refused(
        cli, demo_db, *PLAN_NEW, "--to", "01/01/2026"
    )


def test_priority_retire_keeps_weights_and_refuses_new_ones(cli: Any, demo_db: Database) -> None:
    result = cli("priority", "retire", "--plan", "kent-pcc-2025", "--code", "P1")
    assert result.code == 0, result.err
    assert result.out.startswith("priority P1 of plan kent-pcc-2025 retired")
    weights = [w for a in load_grant(demo_db, GRANT).allocations for w in a.weights]
    assert any(w.priority.code == "P1" and w.basis_points == 6000 for w in weights)  # A01 keeps
    record = cli("priority", "retire", "--plan", "kent-pcc-2025", "--code", "P2",
                 "--format", "json").json()  # fmt: skip
    assert record == [
        {"plan": "kent-pcc-2025", "code": "P2", "title": "Protecting Places", "parent": None,
         "retired": True, "position": 1}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "--plan", "kent-pcc-2025", "--code", "P1", "--title", "X"),
         "code: Cut Crime, Support Victims, Build Trust already has a priority P1"),
        (("add", "--plan", "kent-pcc-2025", "--code", "P9", "--title", ""), "title: is required"),
        (("add", "--plan", "kent-pcc-2025", "--code", "P9", "--title", "X", "--under", "P7"),
         "under: Cut Crime, Support Victims, Build Trust has no priority P7"),
        (("add", "--plan", "nope", "--code", "P9", "--title", "X"), "no plan with key 'nope'"),
        (("retire", "--plan", "kent-pcc-2025", "--code", "P9"), "has no priority P9"),
        (("retire", "--plan", "nope", "--code", "P1"), "no plan with key 'nope'"),
    ],
)  # fmt: skip
def test_priority_commands_refuse_bad_input(
    cli: Any, demo_db: Database, args: tuple[str, ...], message: str
) -> None:
    assert message in _refused(cli, demo_db, "priority", *args)


def test_retiring_a_retired_priority_is_refused(cli: Any, demo_db: Database) -> None:
    cli("priority", "retire", "--plan", "kent-pcc-2025", "--code", "P4")
    assert "code: priority P4 of Cut Crime, Support Victims, Build Trust is already retired" in (
        _refused(cli, demo_db, "priority", "retire", "--plan", "kent-pcc-2025", "--code", "P4")
    )


# --- project add / update --------------------------------------------------------------


def test_project_add_and_update(cli: Any, demo_db: Database) -> None:
    added = cli("project", "add", "--grant", GRANT, "--code", "A09", "--name", "Street pastors",
                "--lead", "Churches Together", "--cost-centre", "CS109", "--budget", "1,200",
                "--description", "Friday nights")  # fmt: skip
    assert added.code == 0, added.err
    assert added.out.strip() == (
        f"project A09 (Street pastors) added to grant {GRANT}, budget £1,200.00"
    )
    record = cli("project", "update", "--grant", GRANT, "--code", "A09", "--new-code", "SP1",
                 "--status", "closed", "--budget", "1100.50", "--reason", "board decision",
                 "--format", "json").json()  # fmt: skip
    assert {k: record[k] for k in ("code", "status", "budget", "lead", "cost_centre")} == {
        "code": "SP1",
        "status": "closed",
        "budget": "1100.50",
        "lead": "Churches Together",
        "cost_centre": "CS109",
    }
    with demo_db.read() as session:
        reasons = set(
            session.scalars(select(AuditEvent.reason).where(AuditEvent.entity == "allocation"))
        )
    assert "board decision" in reasons


def test_project_update_prints_what_it_did(cli: Any) -> None:
    result = cli("project", "update", "--grant", GRANT, "--code", "A02", "--lead", "Town Team")
    assert result.out.strip() == (
        f"project A02 of grant {GRANT} updated (lead): now A02, Shopwatch radios, active, "
        "budget £4,500.00"
    )
    record = cli("project", "add", "--grant", GRANT, "--code", "A10", "--name", "CCTV",
                 "--format", "json").json()  # fmt: skip
    assert (record["budget"], record["status"], record["weights"]) == ("0.00", "active", {})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("add", "--code", "A01", "--name", "Again"),
            "code: grant CRG-2025-26 already has a project A01",
        ),
        (
            ("add", "--code", "A09", "--name", "X", "--budget", "1.001"),
            "budget: '1.001' has fractions",
        ),
        (
            ("add", "--code", "A09", "--name", "X", "--budget", "-1"),
            "budget: must be at least £0.00",
        ),
        (("add", "--code", "A09", "--name", " "), "name: is required"),
        (
            ("update", "--code", "A02", "--new-code", "A01"),
            "code: grant CRG-2025-26 already has a project A01",
        ),
        (("update", "--code", "A02", "--status", "open"), "status: must be active or closed"),
        (("update", "--code", "A02", "--budget", "1e3"), "budget: '1e3' is not an amount"),
        (("update", "--code", "A02"), "nothing to change"),
        (("update", "--code", "ZZ", "--name", "X"), "'ZZ' is not a project of grant CRG-2025-26"),
    ],
)
def test_project_commands_refuse_bad_input(
    cli: Any, demo_db: Database, args: tuple[str, ...], message: str
) -> None:
    action, *rest = args
    assert message in _refused(cli, demo_db, "project", action, "--grant", GRANT, *rest)


def test_a_budget_change_is_refused_while_a_return_is_submitted(
    cli: Any, demo_db: Database, tmp_path: Any
) -> None:
    out = tmp_path / "q1.xlsx"
    submitted = cli("export-return", "--grant", GRANT, "--period", "2025/26-Q1", "--out",
                    str(out), "--submit")  # fmt: skip
    assert submitted.code in (0, 1), submitted.err  # 1 only reports check errors
    err = _refused(cli, demo_db, "project", "update", "--grant", GRANT, "--code", "A02",
                   "--budget", "4750")  # fmt: skip
    assert "allocation A02: cannot change its budget" in err
    # The lead is outside the lock.
    assert cli("project", "update", "--grant", GRANT, "--code", "A02", "--lead", "X").code == 0
