"""Shared fixtures. Qt runs offscreen; no test touches the real user's data folder.

Set FUNDTRACKER_TEST_POSTGRES to a PostgreSQL server URL (e.g.
postgresql+psycopg://postgres@127.0.0.1:5433/postgres) to run every database test against a
fresh PostgreSQL database instead of a SQLite file.
"""

from __future__ import annotations

import gc
import os
import shutil

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before anything imports Qt

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fundtracker.storage import Database, open_database

POSTGRES_ENV = "FUNDTRACKER_TEST_POSTGRES"
ROOT = Path(__file__).resolve().parent.parent
REAL_DATA = Path(__file__).resolve().parent / "data" / "real"  # in the repository: OGL v3.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/ui/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def leaks_found_where_they_happen() -> Iterator[None]:
    """Collect the young garbage after each test, so a file or connection a test leaves open
    in a reference cycle raises its ResourceWarning (an error here) in that test's teardown,
    not at random in whichever later test the collector happens to run (a flaky CI failure).
    Only generations 0 and 1, where a test's own objects are: a full collection walks the
    whole heap (Qt, SQLAlchemy) and took 0.2 s a test, half the suite's time."""
    yield
    gc.collect(1)


@pytest.fixture(autouse=True)
def isolated_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    folder = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("FUNDTRACKER_DATA_DIR", str(folder))
    monkeypatch.delenv("FUNDTRACKER_DATABASE", raising=False)
    return folder


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database when asked."""
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        yield str(tmp_path / "test.sqlite3")
        return
    name = f"ft_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.dispose()


def _on_server(server: str, *statements: str) -> None:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    admin.dispose()


@pytest.fixture(scope="session")
def demo_year_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo year loaded once per run (it takes seconds, more on PostgreSQL); demo_db
    copies it, which gives the same data as loading it again."""
    from fundtracker.demo import load_demo

    server = os.environ.get(POSTGRES_ENV)
    name = f"ft_demo_{uuid.uuid4().hex[:12]}"
    target = str(tmp_path_factory.mktemp("demo") / "demo.sqlite3")
    if server:
        _on_server(server, f'CREATE DATABASE "{name}"')
        target = make_url(server).set(database=name).render_as_string(hide_password=False)
    database = open_database(target)
    load_demo(database)
    database.dispose()
    yield target
    if server:
        _on_server(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def demo_db(db: Database, database_url: str, demo_year_template: str) -> Database:
    # The copy replaces the empty database under db's engine, which reconnects on next use.
    db.dispose()
    server = os.environ.get(POSTGRES_ENV)
    if server:
        name, template = make_url(database_url).database, make_url(demo_year_template).database
        _on_server(
            server,
            f'DROP DATABASE "{name}" WITH (FORCE)',
            f'CREATE DATABASE "{name}" TEMPLATE "{template}"',
        )
    else:
        for suffix in ("-wal", "-shm"):
            Path(database_url + suffix).unlink(missing_ok=True)
        shutil.copyfile(demo_year_template, database_url)
    return db


@pytest.fixture
def real_data() -> Path:
    if not REAL_DATA.is_dir():
        pytest.skip(f"the real ledger files are not present at {REAL_DATA}")
    return REAL_DATA
