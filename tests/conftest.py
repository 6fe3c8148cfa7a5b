"""Shared fixtures. Qt runs offscreen; no test touches the real user's data folder.

Set FUNDTRACKER_TEST_POSTGRES to a PostgreSQL server URL (e.g.
postgresql+psycopg://postgres@127.0.0.1:5433/postgres) to run every database test against a
fresh PostgreSQL database instead of a SQLite file.
"""

from __future__ import annotations

import os

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
REAL_DATA = ROOT.parent / "shared" / "data" / "real"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/ui/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.gui)


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


@pytest.fixture
def demo_db(db: Database) -> Database:
    from fundtracker.demo import load_demo

    load_demo(db)
    return db


@pytest.fixture
def real_data() -> Path:
    if not REAL_DATA.is_dir():
        pytest.skip(f"the shared real ledger files are not present at {REAL_DATA}")
    return REAL_DATA
