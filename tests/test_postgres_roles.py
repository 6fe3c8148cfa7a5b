"""Read-only mode and the shared database. PostgreSQL set up exactly as the README says: an
officer role that can write, a viewer role that can only read (and is told so), and the audit
log recording the database user (needs FUNDTRACKER_TEST_POSTGRES). And a SQLite file this user
may not write, which opens read-only."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from fundtracker.errors import ReadOnlyError
from fundtracker.models import AuditEvent, SpendLine
from fundtracker.services.spend import add_spend
from fundtracker.storage import open_database
from tests.conftest import POSTGRES_ENV, ROOT
from tests.helpers import run_cli

DATA = Path(__file__).parent / "data"
SERVER = os.environ.get(POSTGRES_ENV, "")
needs_postgres = pytest.mark.skipif(not SERVER, reason=f"set {POSTGRES_ENV} to a PostgreSQL URL")
SPEND = ("spend", "add", "--grant", "CRG-2025-26", "--date", "2025-07-03", "--net", "10.00")


def readme_sql_blocks() -> list[str]:
    """The SQL blocks of the README's shared-database section, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A shared database for a team", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, flags=re.S)


@dataclass
class Team:
    owner: str
    officer: str  # a login in the officer role
    viewer: str  # a login in the viewer role


def _statements(block: str, names: dict[str, str]) -> list[str]:
    for readme_name, name in names.items():
        block = re.sub(rf"\b{readme_name}\b", name, block)
    return [s.strip() for s in block.split(";") if s.strip()]


@pytest.fixture
def team() -> Iterator[Team]:
    suffix = uuid.uuid4().hex[:8]
    names = {
        "fundtracker_owner": f"ft_owner_{suffix}",
        "fundtracker_officer": f"ft_officer_{suffix}",
        "fundtracker_viewer": f"ft_viewer_{suffix}",
        "alice": f"ft_alice_{suffix}",
        "bob": f"ft_bob_{suffix}",
        "fundtracker": f"ft_team_{suffix}",  # the database
    }
    server = make_url(SERVER)

    def url(user: str) -> str:
        return server.set(username=user, database=names["fundtracker"]).render_as_string(
            hide_password=False
        )

    admin_block, grants_block = readme_sql_blocks()
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for statement in _statements(admin_block, names):
                connection.execute(text(statement))
        # The owner's first open creates the tables; then the owner grants the rights.
        open_database(url(names["fundtracker_owner"])).dispose()
        owner = create_engine(url(names["fundtracker_owner"]), isolation_level="AUTOCOMMIT")
        with owner.connect() as connection:
            for statement in _statements(grants_block, names):
                connection.execute(text(statement))
        owner.dispose()
        yield Team(url(names["fundtracker_owner"]), url(names["alice"]), url(names["bob"]))
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(f'DROP DATABASE IF EXISTS "{names["fundtracker"]}" WITH (FORCE)')
            )
            for role in ("alice", "bob", "fundtracker_officer", "fundtracker_viewer"):
                connection.execute(text(f'DROP ROLE IF EXISTS "{names[role]}"'))
            connection.execute(text(f'DROP OWNED BY "{names["fundtracker_owner"]}"'))
            connection.execute(text(f'DROP ROLE IF EXISTS "{names["fundtracker_owner"]}"'))
        admin.dispose()


def _set_up_grant(capsys: pytest.CaptureFixture[str], url: str) -> None:
    assert run_cli(capsys, url, "plan", "import", str(DATA / "plan.toml")).code == 0
    result = run_cli(capsys, url, "grant", "import", str(DATA / "grant.toml"))
    assert result.code == 0, result.err


def _spend_count(url: str) -> int:
    database = open_database(url)
    try:
        with database.read() as session:
            return int(session.scalar(select(func.count()).select_from(SpendLine)) or 0)
    finally:
        database.dispose()


def test_the_readme_has_the_two_sql_blocks_this_test_runs() -> None:
    admin_block, grants_block = readme_sql_blocks()
    assert "CREATE ROLE fundtracker_viewer" in admin_block
    assert "GRANT SELECT ON ALL TABLES IN SCHEMA public TO fundtracker_viewer" in grants_block


@needs_postgres
def test_an_officer_can_write_and_the_audit_log_names_the_database_user(
    team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    database = open_database(team.officer)
    try:
        assert database.read_only is False
        assert database.db_user == make_url(team.officer).username
    finally:
        database.dispose()
    _set_up_grant(capsys, team.officer)
    result = run_cli(capsys, team.officer, *SPEND, "--reason", "invoice 12")
    assert result.code == 0, result.err
    audit = run_cli(capsys, team.officer, "audit", "--format", "json").json()
    assert audit, "the officer's changes are audited"
    check = open_database(team.officer)
    try:
        with check.read() as session:
            users = set(session.scalars(select(AuditEvent.db_user)))
    finally:
        check.dispose()
    assert users == {make_url(team.officer).username}


@needs_postgres
def test_a_viewer_can_read_but_every_write_is_refused_clearly(
    team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_up_grant(capsys, team.officer)
    assert run_cli(capsys, team.officer, *SPEND).code == 0

    viewer = open_database(team.viewer)
    try:
        assert viewer.read_only is True
        with pytest.raises(ReadOnlyError, match="read-only for the database user ft_bob_"):
            add_spend(viewer, "CRG-2025-26", {"date": "2025-07-04", "net": "5.00"})
    finally:
        viewer.dispose()

    listing = run_cli(capsys, team.viewer, "spend", "list", "--grant", "CRG-2025-26")
    assert listing.code == 0 and "10.00" in listing.out
    for args in (SPEND, ("spend", "delete", "1"), ("spend", "update", "1", "--notes", "x")):
        result = run_cli(capsys, team.viewer, *args)
        assert result.code == 1, args
        assert "read-only" in result.err and "Traceback" not in result.err
    assert _spend_count(team.owner) == 1


# --- Read-only mode on SQLite: a file this user may not write --------------------------------


@pytest.fixture
def unwritable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Path]:
    """A database file made immutable (chattr +i), which even root cannot write."""
    path = tmp_path / "shared-drive.sqlite3"
    _set_up_grant(capsys, str(path))
    assert run_cli(capsys, str(path), *SPEND).code == 0
    open_database(str(path)).dispose()  # the last close folds the -wal into the file
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_sqlite_file_that_cannot_be_written_opens_read_only(
    unwritable_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = unwritable_file.read_bytes()
    database = open_database(str(unwritable_file))
    try:
        assert database.read_only is True
        with pytest.raises(ReadOnlyError, match="read-only for you: nothing was changed"):
            add_spend(database, "CRG-2025-26", {"date": "2025-07-04", "net": "5.00"})
    finally:
        database.dispose()
    listing = run_cli(capsys, str(unwritable_file), "spend", "list", "--grant", "CRG-2025-26")
    assert listing.code == 0 and "10.00" in listing.out
    refused = run_cli(capsys, str(unwritable_file), *SPEND)
    assert refused.code == 1 and "read-only" in refused.err and "Traceback" not in refused.err
    assert unwritable_file.read_bytes() == before
