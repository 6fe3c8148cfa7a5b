import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from fundtracker.errors import DatabaseError
from fundtracker.models import Base
from fundtracker.storage import (
    SCHEMA_HEAD,
    current_revision,
    head_revision,
    open_database,
    resolve_url,
)


def test_new_database_is_created_at_head_with_sqlite_settings(tmp_path: Path) -> None:
    db = open_database(str(tmp_path / "new.sqlite3"))
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 15000
    db.dispose()


def test_the_schema_head_constant_is_the_migrations_head() -> None:
    """SCHEMA_HEAD lets an up-to-date database open without importing Alembic: it must name
    the newest migration, or databases would open unmigrated."""
    assert head_revision() == SCHEMA_HEAD


def test_migrations_build_exactly_the_models_schema(db) -> None:  # type: ignore[no-untyped-def]
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_database_newer_than_the_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    open_database(str(path)).dispose()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(DatabaseError, match="newer Fundtracker"):
        open_database(str(path))


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_text("my notes")
    with pytest.raises(DatabaseError, match="not a Fundtracker database"):
        open_database(str(path))
    assert path.read_text() == "my notes"


def test_someone_elses_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(DatabaseError, match="not a Fundtracker database"):
        open_database(str(path))


def test_database_location_from_option_environment_and_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_data_dir: Path
) -> None:
    assert resolve_url(str(tmp_path / "a.sqlite3")) == f"sqlite:///{tmp_path / 'a.sqlite3'}"
    assert resolve_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    monkeypatch.setenv("FUNDTRACKER_DATABASE", str(tmp_path / "env.sqlite3"))
    assert resolve_url(None).endswith("env.sqlite3")
    monkeypatch.delenv("FUNDTRACKER_DATABASE")
    assert resolve_url(None) == f"sqlite:///{isolated_data_dir / 'fundtracker.sqlite3'}"


def test_a_reader_does_not_wait_for_a_long_write(tmp_path: Path) -> None:
    """The window reads while an import holds the write lock: reads must not queue behind it."""
    import threading
    import time

    from fundtracker.services.grants import list_grants

    path = str(tmp_path / "shared.sqlite3")
    writer_db, reader_db = open_database(path), open_database(path)
    holding = threading.Event()

    def hold_write_lock() -> None:
        with writer_db.unit_of_work() as session:
            session.connection()
            holding.set()
            time.sleep(1.5)

    thread = threading.Thread(target=hold_write_lock)
    thread.start()
    holding.wait()
    started = time.perf_counter()
    assert list_grants(reader_db) == []
    waited = time.perf_counter() - started
    thread.join()
    writer_db.dispose()
    reader_db.dispose()
    assert waited < 1.0
