"""Backups and recovery of the SQLite file: automatic daily backups with retention, manual
backups, restore, a damaged database refused on open, and upgrades that keep the data."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Boolean, Date, DateTime, MetaData, create_engine, insert, inspect, select

from fundtracker import backup
from fundtracker.backup import Backup, CorruptDatabaseError
from fundtracker.errors import DatabaseError
from fundtracker.storage import alembic_config, current_revision, head_revision, open_database
from tests.helpers import run_cli


class FakeClock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(datetime(2025, 4, 1, 9, 0, tzinfo=UTC))
    monkeypatch.setattr(backup, "now_utc", fake)
    return fake


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo database per module, copied for each test (loading the demo takes a second)."""
    from fundtracker.demo import load_demo

    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    database = open_database(str(path))
    load_demo(database)
    database.dispose()
    return path


@pytest.fixture
def demo_file(demo_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "work" / "fundtracker.sqlite3"
    path.parent.mkdir()
    shutil.copyfile(demo_template, path)
    return path


def _open_and_close(path: Path) -> Path | None:
    database = open_database(str(path))
    database.dispose()
    return database.auto_backup


def _rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, for comparing two databases exactly."""
    connection = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in connection.execute(
                "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"
            )
        ]
        return {t: connection.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall() for t in tables}
    finally:
        connection.close()


def _sidecars(path: Path) -> list[str]:
    return [path.name + "-wal", path.name + "-shm"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _damage(path: Path) -> None:
    """Overwrite the b-tree page headers of many pages, as a failing disk might."""
    data = bytearray(path.read_bytes())
    for page in range(3, len(data) // 4096, 3):
        data[page * 4096 : page * 4096 + 12] = b"\xff" * 12
    path.write_bytes(bytes(data))


# --- Automatic daily backups -------------------------------------------------------------


def test_a_backup_is_taken_on_the_first_open_of_each_day_only(
    demo_file: Path, clock: FakeClock
) -> None:
    first = _open_and_close(demo_file)
    assert first is not None and first.parent == demo_file.parent / "backups"
    clock.advance(hours=10)  # 19:00 the same day
    assert _open_and_close(demo_file) is None
    clock.advance(hours=6)  # 01:00 the next day
    second = _open_and_close(demo_file)
    assert second is not None and second != first
    assert [b.kind for b in backup.list_backups(demo_file)] == ["daily", "daily"]
    assert backup.last_backup_time(demo_file) == clock.now


def test_each_backup_passes_the_integrity_check_and_holds_the_same_data(
    demo_file: Path, clock: FakeClock
) -> None:
    taken = _open_and_close(demo_file)
    assert taken is not None
    assert backup.integrity_ok(taken)
    assert _rows(taken) == _rows(demo_file)
    assert not Path(str(taken) + "-wal").exists()  # one self-contained file


def test_new_and_empty_databases_are_not_backed_up(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "new.sqlite3"
    assert _open_and_close(path) is None  # created now
    clock.advance(days=1)
    assert _open_and_close(path) is None  # exists, but nobody has entered anything
    assert backup.list_backups(path) == []


def _daily(day: date, hour: int = 9) -> Backup:
    taken = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    return Backup(Path(f"x-daily-{taken:%Y%m%dT%H%M%S}.000Z.sqlite3"), "daily", taken)


def test_retention_keeps_the_last_14_days_and_the_newest_of_the_last_12_months() -> None:
    days = [date(2024, 1, 1) + timedelta(days=n) for n in range(500)]
    backups = [_daily(d) for d in days] + [_daily(days[-1], hour=8)]  # two on the last day
    kept = backup.daily_backups_to_keep(backups)

    last_14 = {_daily(d).path for d in days[-14:]}
    months = sorted({(d.year, d.month) for d in days})[-12:]
    newest_of_month = {_daily(max(d for d in days if (d.year, d.month) == m)).path for m in months}
    assert kept == last_14 | newest_of_month
    assert len(kept) == 14 + 11  # this month's newest is also one of the last 14 days


def test_retention_deletes_exactly_the_old_daily_files_and_never_other_kinds(
    demo_file: Path, clock: FakeClock
) -> None:
    manual = backup.backup_now(demo_file)
    opened_on = []
    for _ in range(75):  # 1 April to 14 June 2025, daily
        _open_and_close(demo_file)
        opened_on.append(clock.now.date())
        clock.advance(days=1)
    found = backup.list_backups(demo_file)
    daily_days = sorted(b.taken_at.date() for b in found if b.kind == "daily")
    expected = set(opened_on[-14:]) | {date(2025, 4, 30), date(2025, 5, 31)}
    assert daily_days == sorted(expected)
    assert manual in [b.path for b in found]
    assert all(backup.integrity_ok(b.path) for b in found)
    leftovers = [p.name for p in backup.backups_folder(demo_file).iterdir() if ".partial" in p.name]
    assert leftovers == []


def test_deciding_whether_a_backup_is_due_is_cheap(
    demo_file: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _open_and_close(demo_file)
    copies: list[Path] = []
    monkeypatch.setattr(backup, "copy_database", lambda s, d: copies.append(d) or d)
    for _ in range(20):
        _open_and_close(demo_file)
    assert copies == []


def test_databases_and_backups_work_in_folders_with_awkward_names(
    demo_template: Path, tmp_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Grants #2 ?50% & more" / "fundtracker.sqlite3"
    path.parent.mkdir()
    shutil.copyfile(demo_template, path)
    taken = _open_and_close(path)
    assert taken is not None and backup.integrity_ok(taken)
    assert _rows(taken) == _rows(path)
    assert backup.quick_check_ok(path)
    result = run_cli(capsys, str(path), "backup")
    assert result.code == 0, result.err
    # Nothing was created at a half-parsed path such as "Grants #2 ".
    assert [p.name for p in tmp_path.iterdir()] == [path.parent.name]
    beside = {p.name for p in path.parent.iterdir()}
    assert {"backups", path.name} <= beside <= {"backups", path.name, *_sidecars(path)}


# --- Manual backups and the command line -------------------------------------------------


def test_backup_command_writes_a_checked_copy_and_lists_it(
    demo_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "elsewhere" / "copy.sqlite3"
    result = run_cli(capsys, str(demo_file), "backup", "--out", str(out))
    assert result.code == 0, result.err
    assert str(out) in result.out and "integrity check passed" in result.out
    assert _rows(out) == _rows(demo_file)

    assert run_cli(capsys, str(demo_file), "backup").code == 0
    listed = run_cli(capsys, str(demo_file), "backup", "list", "--format", "json").json()
    assert [item["kind"] for item in listed] == ["manual"]
    assert Path(listed[0]["path"]).parent == demo_file.parent / "backups"
    assert datetime.fromisoformat(listed[0]["taken_at"]).tzinfo is not None
    table = run_cli(capsys, str(demo_file), "backup", "list")
    assert "manual" in table.out and listed[0]["path"] in table.out


def test_backup_of_a_missing_database_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, str(tmp_path / "none.sqlite3"), "backup")
    assert result.code == 1
    assert "there is no database" in result.err and "Traceback" not in result.err


def test_postgresql_backup_is_refused_naming_pg_dump(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["backup"], ["backup", "list"], ["restore", "x.sqlite3"]):
        result = run_cli(capsys, "postgresql+psycopg://u@localhost:1/fundtracker", *args)
        assert result.code == 1
        assert "pg_dump" in result.err


# --- Restore -----------------------------------------------------------------------------


def _spend_count(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute("SELECT count(*) FROM spend_lines").fetchone()[0])
    finally:
        connection.close()


def test_restore_puts_back_the_data_exactly_and_keeps_the_current_database(
    demo_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = backup.backup_now(demo_file, tmp_path / "saved.sqlite3")
    expected = _rows(saved)
    delete = run_cli(capsys, str(demo_file), "spend", "delete", "1", "--reason", "mistake")
    assert delete.code == 0, delete.err
    before_restore = _rows(demo_file)
    assert before_restore != expected

    result = run_cli(capsys, str(demo_file), "restore", str(saved))
    assert result.code == 0, result.err
    restored = _rows(demo_file)
    # The backup's rows exactly, and the restore's own audit event after them.
    (event,) = restored["audit_events"][len(expected["audit_events"]) :]
    assert event[4:6] == ("restore", "database")
    restored["audit_events"] = restored["audit_events"][: len(expected["audit_events"])]
    assert restored == expected
    kept = [b for b in backup.list_backups(demo_file) if b.kind == "before-restore"]
    assert len(kept) == 1 and str(kept[0].path) in result.out
    assert _rows(kept[0].path) == before_restore
    # The restored file opens and works as a database again.
    database = open_database(str(demo_file))
    database.dispose()
    assert _spend_count(demo_file) == len(expected["spend_lines"])


def _garbage(tmp_path: Path, _demo: Path) -> Path:
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(os.urandom(50_000))
    return path


def _someone_elses(tmp_path: Path, _demo: Path) -> Path:
    path = tmp_path / "contacts.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE contacts (name TEXT)")
    connection.close()
    return path


def _damaged_backup(tmp_path: Path, demo_file: Path) -> Path:
    path = backup.backup_now(demo_file, tmp_path / "damaged.sqlite3")
    _damage(path)
    return path


def _truncated(tmp_path: Path, demo_file: Path) -> Path:
    path = tmp_path / "truncated.sqlite3"
    path.write_bytes(demo_file.read_bytes()[:20_000])
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_garbage, "not a Fundtracker database"),
        (_someone_elses, "not a Fundtracker database"),
        (_damaged_backup, "fails SQLite's integrity check"),
        (_truncated, "fails SQLite's integrity check"),
        (lambda tmp, _db: tmp / "missing.sqlite3", "there is no file"),
    ],
    ids=["random-bytes", "other-sqlite", "damaged", "truncated", "missing"],
)
def test_restore_refuses_anything_but_a_sound_fundtracker_database(
    demo_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: object,
    message: str,
) -> None:
    source = make(tmp_path, demo_file)  # type: ignore[operator]
    before = _sha(demo_file)
    result = run_cli(capsys, str(demo_file), "restore", str(source))
    assert result.code == 1
    assert message in result.err and "Traceback" not in result.err
    assert _sha(demo_file) == before
    assert backup.list_backups(demo_file) == []


def test_restore_refuses_while_another_program_has_the_database_open(
    demo_file: Path, tmp_path: Path
) -> None:
    saved = backup.backup_now(demo_file, tmp_path / "saved.sqlite3")
    other = open_database(str(demo_file))  # the desktop app, say
    try:
        with other.read() as session:
            session.execute(select(1))
        with pytest.raises(DatabaseError, match=r"has .* open; close it"):
            backup.restore(demo_file, saved)
        with other.read() as session:
            session.execute(select(1))  # still fine for the program that had it open
    finally:
        other.dispose()
    backup.restore(demo_file, saved)  # once it is closed, restore works


# --- A damaged database on open ----------------------------------------------------------


def test_a_damaged_database_is_refused_on_open_naming_the_latest_good_backup(
    demo_file: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    _open_and_close(demo_file)  # yesterday's backup
    clock.advance(days=1)
    newest = backup.backup_now(demo_file)
    clock.advance(minutes=5)
    _damage(backup.backup_now(demo_file))  # a newer backup that is itself damaged
    clock.advance(days=1)
    _damage(demo_file)
    before = _sha(demo_file)

    with pytest.raises(CorruptDatabaseError) as caught:
        open_database(str(demo_file))
    assert caught.value.latest_good_backup is not None
    assert caught.value.latest_good_backup.path == newest
    assert str(newest) in str(caught.value)

    result = run_cli(capsys, str(demo_file), "spend", "list", "--grant", "CRG-2025-26")
    assert result.code == 1
    assert "damaged" in result.err and str(newest) in result.err
    assert "Traceback" not in result.err
    assert _sha(demo_file) == before
    wal = Path(str(demo_file) + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # a reader's empty -wal at most

    # The way out the message gives works.
    assert run_cli(capsys, str(demo_file), "restore", str(newest)).code == 0
    restored, saved = _rows(demo_file), _rows(newest)
    assert restored["audit_events"][-1][4] == "restore"  # the restore's own audit event
    assert restored["audit_events"][:-1] == saved.pop("audit_events")
    assert {t: rows for t, rows in restored.items() if t != "audit_events"} == saved


def test_a_damaged_database_without_backups_says_so(tmp_path: Path, demo_file: Path) -> None:
    _damage(demo_file)
    with pytest.raises(CorruptDatabaseError, match="No good backup was found"):
        open_database(str(demo_file))


# --- Upgrades from every older schema ----------------------------------------------------


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in script.walk_revisions()]


def _fill_every_table(path: Path) -> None:
    """One row in every table, whatever the schema at this revision (ids are 1, so foreign
    keys point at the row of the table they name)."""
    engine = create_engine(f"sqlite:///{path}")
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            row: dict[str, object] = {}
            for column in table.columns:
                if column.computed is not None:
                    continue  # generated by the database itself
                if isinstance(column.type, Date):
                    row[column.name] = date(2025, 4, 1)
                elif isinstance(column.type, DateTime):
                    row[column.name] = datetime(2025, 4, 1, 12, 0)
                elif isinstance(column.type, Boolean):
                    row[column.name] = False
                elif column.type.python_type is int:
                    row[column.name] = 1
                elif column.type.python_type is bytes:
                    row[column.name] = f"{table.name}.{column.name}".encode()
                else:
                    row[column.name] = f"{table.name}.{column.name}"
            connection.execute(insert(table).values(row))
    engine.dispose()


def _at_revision(path: Path, revision: str) -> None:
    engine = create_engine(f"sqlite:///{path}")
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


@pytest.mark.parametrize("revision", _revisions())
def test_opening_a_database_of_every_schema_revision_keeps_its_data(
    tmp_path: Path, revision: str
) -> None:
    path = tmp_path / "old.sqlite3"
    _at_revision(path, revision)
    _fill_every_table(path)
    before = _rows(path)

    database = open_database(str(path))
    database.dispose()
    after = _rows(path)
    for table, rows in before.items():
        if table != "alembic_version":
            assert len(after[table]) == len(rows), table
    engine = create_engine(f"sqlite:///{path}")
    assert current_revision(engine) == head_revision()
    engine.dispose()

    upgrades = [b for b in backup.list_backups(path) if b.kind.startswith("before-upgrade")]
    if revision == head_revision():
        assert upgrades == []  # nothing to upgrade, nothing copied
    else:
        assert [b.kind for b in upgrades] == [f"before-upgrade-{revision}"]
        assert backup.integrity_ok(upgrades[0].path)
        assert _rows(upgrades[0].path) == before


def test_the_generic_filler_really_fills_every_table(tmp_path: Path) -> None:
    path = tmp_path / "filled.sqlite3"
    _at_revision(path, head_revision())
    _fill_every_table(path)
    engine = create_engine(f"sqlite:///{path}")
    names = inspect(engine).get_table_names()
    engine.dispose()
    rows = _rows(path)
    assert len(names) > 10
    assert all(len(rows[name]) == 1 for name in names)


NEXT_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "HEAD"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("spend_lines") as batch:  # SQLite copies the whole table
        batch.add_column(sa.Column("upgrade_test", sa.Integer(), nullable=True))


def downgrade():
    pass
"""


def test_a_real_upgrade_backs_up_first_and_keeps_every_row(
    demo_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A migration after today's head (written here) run on the demo year: the path every
    future migration takes."""
    import fundtracker.migrations
    from fundtracker import storage

    scripts = tmp_path / "migrations"
    shutil.copytree(
        Path(fundtracker.migrations.__file__).parent,
        scripts,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    head = head_revision()
    (scripts / "versions" / "9001_test.py").write_text(NEXT_REVISION.replace("HEAD", head))

    def config() -> Config:
        result = Config()
        result.set_main_option("script_location", str(scripts))
        return result

    monkeypatch.setattr(storage, "alembic_config", config)
    monkeypatch.setattr(storage, "SCHEMA_HEAD", "9001")  # this program now writes 9001
    before = _rows(demo_file)
    open_database(str(demo_file)).dispose()

    after = _rows(demo_file)
    assert after["alembic_version"] == [("9001",)]
    assert [row[:-1] for row in after["spend_lines"]] == before["spend_lines"]
    assert all(row[-1] is None for row in after["spend_lines"])
    for table in set(before) - {"alembic_version", "spend_lines"}:
        assert after[table] == before[table], table
    [kept] = [b for b in backup.list_backups(demo_file) if b.kind.startswith("before-upgrade")]
    assert kept.kind == f"before-upgrade-{head}"
    assert backup.integrity_ok(kept.path)
    assert _rows(kept.path) == before
