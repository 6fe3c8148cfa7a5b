"""Spend lines through the CLI: exact amounts, clear refusals, every change audited."""

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fundtracker.models import AuditEvent, SpendLine
from fundtracker.storage import Database
from tests.helpers import run_cli

DATA = Path(__file__).parent / "data"
GRANT = ("--grant", "CRG-2025-26")
KEYS = [
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
]


@pytest.fixture
def url(db: Database, database_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    run_cli(capsys, database_url, "plan", "import", str(DATA / "plan.toml"))
    assert run_cli(capsys, database_url, "grant", "import", str(DATA / "grant.toml")).code == 0
    return database_url


def _lines(db: Database) -> list[SpendLine]:
    with db.read() as session:
        return list(session.scalars(select(SpendLine).order_by(SpendLine.id)))


def test_add_prints_the_id_and_stores_exact_pence(
    db: Database, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(
        capsys,
        url,
        "spend",
        "add",
        *GRANT,
        "--date",
        "03/07/2025",
        "--net",
        "£1,234.50",
        "--vat",
        "246.90",
        "--vat-irrecoverable",
        "--allocation",
        "A01",
        "--supplier",
        "Kent Youth Trust",
        "--reference",
        "INV1",
        "--cost-centre",
        "CS101",
        "--account",
        "4100",
    )
    assert result.code == 0, result.err
    (line,) = _lines(db)
    assert result.out.strip() == str(line.id)
    assert (line.net, line.vat, line.claimable) == (
        Decimal("1234.50"),
        Decimal("246.90"),
        Decimal("1481.40"),
    )
    with db.engine.connect() as connection:
        raw = connection.exec_driver_sql("SELECT net, vat FROM spend_lines").one()
    assert tuple(raw) == (123450, 24690)  # integer pence on disk


def test_list_json_has_the_contract_keys_and_two_decimal_strings(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cli(
        capsys,
        url,
        "spend",
        "add",
        *GRANT,
        "--date",
        "2025-07-03",
        "--net=-12.5",
        "--supplier=-=cmd()",
        "--status",
        "accrued",
    )
    rows = run_cli(capsys, url, "spend", "list", *GRANT, "--format", "json").json()
    # Issue 13 adds counted_in (CONTRACTS), released_on and invoiced_by after the first keys.
    assert list(rows[0]) == [*KEYS, "counted_in", "released_on", "invoiced_by"]
    assert (rows[0]["counted_in"], rows[0]["released_on"]) == ("2025/26-Q2", None)
    assert rows[0]["net"] == "-12.50" and rows[0]["claimable"] == "-12.50"
    assert rows[0]["allocation"] is None and rows[0]["supplier"] == "-=cmd()"
    assert rows[0]["vat_recoverable"] is True and rows[0]["date"] == "2025-07-03"
    csv_out = run_cli(capsys, url, "spend", "list", *GRANT, "--format", "csv").out
    assert csv_out.splitlines()[0] == ",".join([*KEYS, "counted_in"])
    assert "'-=cmd()" in csv_out  # a spreadsheet would run it as a formula otherwise
    assert ",-12.50," in csv_out


def test_period_filter(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    for day in ("2025-06-30", "2025-07-01", "2025-09-30", "2025-10-01"):
        run_cli(capsys, url, "spend", "add", *GRANT, "--date", day, "--net", "1")
    rows = run_cli(
        capsys, url, "spend", "list", *GRANT, "--period", "2025/26-Q2", "--format", "json"
    ).json()
    assert [r["date"] for r in rows] == ["2025-07-01", "2025-09-30"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--date", "31/02/2025", "--net", "1"), "date: '31/02/2025' is not a date"),
        (("--date", "2025-07-01", "--net", "12.345"), "net: '12.345' has fractions of a penny"),
        (("--date", "2025-07-01", "--net", "1e9"), "net: '1e9' is not an amount"),
        (
            ("--date", "2025-07-01", "--net", "1", "--allocation", "A9"),
            "allocation: 'A9' is not a project of grant CRG-2025-26",
        ),
        (("--date", "2025-07-01", "--net", "1", "--grant", "NOPE"), "no grant with reference"),
        (("--date", "2025-07-01", "--net", "1", "--supplier", "x" * 301), "supplier: is 301"),
    ],
)
def test_bad_input_is_refused_clearly_and_changes_nothing(
    db: Database,
    url: str,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    message: str,
) -> None:
    with db.read() as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent))
    result = run_cli(capsys, url, "spend", "add", *GRANT, *args)
    assert result.code == 1
    assert message in result.err and "Traceback" not in result.err
    assert _lines(db) == []
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_usage_errors_exit_2(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, url, "spend", "add", *GRANT, "--net", "1").code == 2
    assert run_cli(capsys, url, "spend", "frobnicate").code == 2


def test_update_and_delete_are_audited_with_old_and_new_values(
    db: Database, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    line_id = run_cli(
        capsys,
        url,
        "spend",
        "add",
        *GRANT,
        "--date",
        "2025-07-01",
        "--net",
        "10.00",
        "--allocation",
        "A01",
    ).out.strip()
    result = run_cli(
        capsys,
        url,
        "spend",
        "update",
        line_id,
        "--net",
        "12",
        "--allocation",
        "",
        "--notes",
        "checked",
        "--reason",
        "invoice re-read",
    )
    assert result.code == 0, result.err
    (line,) = _lines(db)
    assert (line.net, line.allocation_id, line.notes) == (Decimal("12.00"), None, "checked")
    assert run_cli(capsys, url, "spend", "delete", line_id, "--reason", "duplicate").code == 0
    assert _lines(db) == []
    events = run_cli(capsys, url, "audit", *GRANT, "--format", "json").json()
    delete, update = events[0], events[1]
    assert update["changes"]["net"] == {"old": "10.00", "new": "12.00"}
    assert update["changes"]["allocation"] == {"old": "A01", "new": None}
    assert update["reason"] == "invoice re-read" and update["user"]
    assert delete["action"] == "delete" and delete["changes"]["net"]["old"] == "12.00"
    assert delete["reason"] == "duplicate"
    missing = run_cli(capsys, url, "spend", "delete", line_id)
    assert missing.code == 1 and f"no spend line with id {line_id}" in missing.err


def test_total_of_many_lines_is_exact(
    db: Database, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    amounts = ["0.10", "0.20", "-0.30", "1234.56", "-1234.55", "0.01", "99999.99"]
    for amount in amounts:
        run_cli(capsys, url, "spend", "add", *GRANT, "--date", "2025-05-01", f"--net={amount}")
    total = sum((line.net for line in _lines(db)), Decimal("0"))
    assert total == Decimal("100000.01")


def test_stale_edit_is_a_conflict_not_an_overwrite(
    url: str, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    from fundtracker.errors import ConflictError
    from fundtracker.services.spend import update_spend

    line_id = int(
        run_cli(capsys, url, "spend", "add", *GRANT, "--date", "2025-07-01", "--net", "10").out
    )
    (line,) = _lines(db)
    update_spend(db, line_id, {"net": "11"}, expected_version=line.version)
    with pytest.raises(ConflictError, match="changed by someone else"):
        update_spend(db, line_id, {"net": "12"}, expected_version=line.version)
    assert _lines(db)[0].net == Decimal("11.00")


def test_a_reader_that_stops_early_gets_no_traceback(
    demo_db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fundtracker-cli audit | head -1`: once the reader has gone, writing fails."""
    import io
    import sys

    from fundtracker.cli import main

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["--database", database_url, "audit", "--format", "json"]) == 0


def test_the_audit_table_shows_what_changed_in_words(db: Database, url: str) -> None:
    from fundtracker.services.audit_log import describe_changes, list_events
    from fundtracker.services.spend import add_spend, update_spend

    line = add_spend(db, "CRG-2025-26", {"date": "2025-07-01", "net": "10.00"})
    update_spend(db, line.id, {"net": "12", "supplier": "Acme"})
    update, create = list_events(db, "CRG-2025-26", limit=2)
    assert describe_changes(update) == "net: 10.00 → 12.00; supplier: ∅ → Acme"
    created = describe_changes(create)
    assert "date=2025-07-01" in created and "net=10.00" in created
    assert "∅" not in created and "supplier" not in created  # empty fields are left out
