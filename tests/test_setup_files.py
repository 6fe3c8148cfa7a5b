"""Plan and grant setup files through the CLI: import, idempotence, errors, round trip."""

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fundtracker.models import Allocation, AuditEvent, Grant, Payment, Weight
from fundtracker.services.grants import load_grant
from fundtracker.storage import Database
from tests.helpers import run_cli

DATA = Path(__file__).parent / "data"


@pytest.fixture
def setup(db: Database, database_url: str, capsys: pytest.CaptureFixture[str]) -> Database:
    assert run_cli(capsys, database_url, "plan", "import", str(DATA / "plan.toml")).code == 0
    result = run_cli(capsys, database_url, "grant", "import", str(DATA / "grant.toml"))
    assert result.code == 0, result.err
    return db


def _count(db: Database, model: type) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_grant_import_stores_every_field_exactly(setup: Database) -> None:
    grant = load_grant(setup, "CRG-2025-26")
    assert grant.award == Decimal("42000.00")
    assert [(a.code, a.budget) for a in grant.allocations] == [
        ("A01", Decimal("8000.00")),
        ("A02", Decimal("2500.00")),
    ]
    assert [p.amount for p in grant.allocations[0].profile] == [Decimal("2000.00")] * 4
    weights = sorted((w.priority.code, w.basis_points) for w in grant.allocations[1].weights)
    assert weights == [("P1", 3333), ("P2", 3333), ("P3", 3334)]
    assert [(p.amount, p.received) for p in grant.payments] == [(Decimal("28000.00"), True)]


def test_importing_the_same_file_twice_changes_nothing(
    setup: Database, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _count(setup, AuditEvent)
    assert run_cli(capsys, database_url, "grant", "import", str(DATA / "grant.toml")).code == 0
    assert _count(setup, Allocation) == 2
    assert _count(setup, Payment) == 1
    assert _count(setup, AuditEvent) == events  # no change, nothing audited


def test_export_then_import_round_trips_exactly(
    setup: Database, database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "exported.toml"
    assert run_cli(capsys, database_url, "grant", "export", "CRG-2025-26", "-o", str(out)).code == 0
    first = out.read_text()
    assert 'award = "42000.00"' in first
    assert "P1 = 33.33" in first
    events = _count(setup, AuditEvent)
    assert run_cli(capsys, database_url, "grant", "import", str(out)).code == 0
    assert _count(setup, AuditEvent) == events
    assert run_cli(capsys, database_url, "grant", "export", "CRG-2025-26", "-o", str(out)).code == 0
    assert out.read_text() == first


def test_changed_file_updates_and_removes_with_audit(
    setup: Database, database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    changed = tmp_path / "grant.toml"
    text = (DATA / "grant.toml").read_text()
    text = text.replace('budget = "8000.00"', 'budget = "8500.00"')
    text = text[: text.index('[[allocations]]\ncode = "A02"')]  # drop A02
    changed.write_text(text)
    result = run_cli(capsys, database_url, "grant", "import", str(changed))
    assert result.code == 0, result.err
    grant = load_grant(setup, "CRG-2025-26")
    assert [(a.code, a.budget) for a in grant.allocations] == [("A01", Decimal("8500.00"))]
    audit = run_cli(capsys, database_url, "audit", "--grant", "CRG-2025-26", "--format", "json")
    events = audit.json()
    budget = next(e for e in events if e["action"] == "update" and "budget" in e["changes"])
    assert budget["changes"]["budget"] == {"old": "8000.00", "new": "8500.00"}
    assert budget["reason"] == "imported from grant.toml"
    assert any(e["action"] == "delete" and e["label"] == "A02" for e in events)


def test_removing_an_allocation_with_spend_is_refused(
    setup: Database, database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert (
        run_cli(
            capsys,
            database_url,
            "spend",
            "add",
            "--grant",
            "CRG-2025-26",
            "--date",
            "2025-06-01",
            "--net",
            "10",
            "--allocation",
            "A02",
        ).code
        == 0
    )
    changed = tmp_path / "grant.toml"
    text = (DATA / "grant.toml").read_text()
    changed.write_text(text[: text.index('[[allocations]]\ncode = "A02"')])
    result = run_cli(capsys, database_url, "grant", "import", str(changed))
    assert result.code == 1
    assert "allocation A02" in result.err and "spend lines refer to it" in result.err
    assert _count(setup, Allocation) == 2


def _import_variant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], database_url: str, old: str, new: str
) -> tuple[int, str]:
    path = tmp_path / "bad.toml"
    path.write_text((DATA / "grant.toml").read_text().replace(old, new))
    result = run_cli(capsys, database_url, "grant", "import", str(path))
    return result.code, result.err


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "P1 = 60, P2 = 40",
            "P1 = 60, P2 = 30",
            "allocation A01: weights for kent-pcc-2025 total 90, must be 100",
        ),
        ('budget = "8000.00"', 'budget = "8000.001"', "allocation A01: budget"),
        ('budget = "8000.00"', "budget = 8000.001", "fractions of a penny"),
        ("P1 = 60, P2 = 40", "P1 = 60, P9 = 40", "unknown priority P9 in plan kent-pcc-2025"),
        ('aligned_plan = "kent-pcc-2025"', 'aligned_plan = "nope"', "unknown plan 'nope'"),
        ('lead = "TMBC"', 'leed = "TMBC"', "unknown key 'leed'"),
        (
            'profile = ["2000.00", "2000.00", "2000.00", "2000.00"]',
            'profile = ["2000.00"]',
            "profile has 1 amounts; the grant has 4 quarters",
        ),
        ("start = 2025-04-01", "start = 2026-04-01", "end is before start"),
        ("received = true", 'received = "yes"', "received must be true or false"),
        ('award = "42000.00"', 'award = "-42000.00"', "grant.award: must be more than £0.00"),
        ('award = "42000.00"', 'award = "0"', "grant.award: must be more than £0.00"),
        ('budget = "8000.00"', 'budget = "-1.00"', "allocation A01: budget: must be at least"),
        ('profile = ["2000.00",', 'profile = ["-2000.00",', "profile[1]: must be at least"),
    ],
)
def test_bad_grant_files_are_refused_with_their_place_and_change_nothing(
    setup: Database,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    old: str,
    new: str,
    message: str,
) -> None:
    before = _count(setup, AuditEvent)
    code, err = _import_variant(tmp_path, capsys, database_url, old, new)
    assert code == 1
    assert message in err
    assert "Traceback" not in err
    assert _count(setup, AuditEvent) == before


def test_a_file_with_many_errors_lists_them_all(
    db: Database, database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "plan.toml"
    path.write_text('[plan]\nkey = ""\nkind = "county"\n[[priorities]]\ntitle = "x"\n')
    result = run_cli(capsys, database_url, "plan", "import", str(path))
    assert result.code == 1
    for expected in [
        "key must not be empty",
        "name is required",
        "kind must be one of",
        "effective_from is required",
        "priorities[1]: code is required",
    ]:
        assert expected in result.err
    assert _count(db, Grant) == 0


@pytest.mark.parametrize("content", [b"\x00\x01\x02binary", b"[plan\nkey=", b""])
def test_unreadable_setup_files(
    db: Database,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    content: bytes,
) -> None:
    path = tmp_path / "broken.toml"
    path.write_bytes(content)
    result = run_cli(capsys, database_url, "plan", "import", str(path))
    assert result.code == 1
    assert "broken.toml" in result.err or "required" in result.err
    missing = run_cli(capsys, database_url, "plan", "import", str(tmp_path / "absent.toml"))
    assert missing.code == 1 and "cannot read" in missing.err


def test_plan_list_json(
    setup: Database, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    plans = run_cli(capsys, database_url, "plan", "list", "--format", "json").json()
    assert plans[0]["key"] == "kent-pcc-2025"
    assert [p["code"] for p in plans[0]["priorities"]] == ["P1", "P2", "P3"]
    grants = run_cli(capsys, database_url, "grant", "list", "--format", "json").json()
    assert grants[0]["award"] == "42000.00"
    shown = run_cli(capsys, database_url, "grant", "show", "CRG-2025-26", "--format", "json")
    assert json.loads(shown.out)["allocations"][0]["code"] == "A01"
    assert _count(setup, Weight) == 5


def test_demo_files_are_valid(tmp_path: Path) -> None:
    source = Path(__file__).parent.parent / "fundtracker" / "demo_data"
    shutil.copytree(source, tmp_path / "demo")
    assert (tmp_path / "demo" / "crg-2025-26.toml").read_text().count("[[allocations]]") == 8
