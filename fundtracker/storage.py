"""Opening the database: where it lives, SQLite settings, migrations on open, units of work.

The database is a SQLite file in the user's data folder unless ``--database`` or
``FUNDTRACKER_DATABASE`` names another file or a SQLAlchemy URL (anything with ``://``).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DatabaseError as DriverDatabaseError
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from fundtracker import audit, backup
from fundtracker.files import out_of_space

if TYPE_CHECKING:
    from alembic.config import Config
from fundtracker.errors import (
    ConflictError,
    DatabaseBusyError,
    DatabaseError,
    ReadOnlyError,
    ValidationError,
)

APP_NAME = "fundtracker"
DATABASE_ENV = "FUNDTRACKER_DATABASE"
DATA_DIR_ENV = "FUNDTRACKER_DATA_DIR"
SQLITE_BUSY_TIMEOUT_MS = 15_000


def data_dir() -> Path:
    """The user's data folder (tests point it elsewhere with FUNDTRACKER_DATA_DIR)."""
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override) if override else platformdirs.user_data_path(APP_NAME, appauthor=False)


def resolve_url(target: str | None) -> str:
    """A SQLAlchemy URL from ``--database``, the environment, or the default file."""
    target = target or os.environ.get(DATABASE_ENV) or str(data_dir() / "fundtracker.sqlite3")
    if "://" in target:
        return target
    # Built, not pasted: a folder named "Grants #2" or "50%" must not read as URL syntax.
    path = Path(target).expanduser().resolve()
    return URL.create("sqlite", database=str(path)).render_as_string(hide_password=False)


@dataclass
class Database:
    """An open, migrated database. Each user action runs in one ``unit_of_work``."""

    engine: Engine
    url: str
    sqlite_path: Path | None
    os_user: str
    db_user: str
    _sessions: sessionmaker[Session] = field(init=False, repr=False)
    _readers: sessionmaker[Session] = field(init=False, repr=False)
    # The unit of work open on this thread (or task), which nested units of work join.
    _current: ContextVar[Session | None] = field(init=False, repr=False)
    # The automatic daily backup taken by this open, if one was due (SQLite only).
    auto_backup: Path | None = None

    def __post_init__(self) -> None:
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Readers never take SQLite's write lock, so a long import cannot block the window.
        self._readers = sessionmaker(self.engine.execution_options(fundtracker_reader=True))
        self._current = ContextVar(f"unit_of_work_{id(self)}", default=None)

    @property
    def folder(self) -> Path:
        """Where files kept with this database live (evidence, backups, logs)."""
        return self.sqlite_path.parent if self.sqlite_path else data_dir()

    @property
    def display_name(self) -> str:
        return str(self.sqlite_path) if self.sqlite_path else make_url(self.url).render_as_string()

    @cached_property
    def read_only(self) -> bool:
        """True when this user may read but not change the data (the app shows read-only
        mode): a SQLite file or folder that is not writable, or a PostgreSQL role without
        INSERT on the tables."""
        if self.sqlite_path is not None:
            return not all(os.access(p, os.W_OK) for p in (self.sqlite_path, self.folder))
        with self.engine.connect() as connection:
            query = text("SELECT has_table_privilege(current_user, 'spend_lines', 'INSERT')")
            return not connection.execute(query).scalar_one()

    @contextmanager
    def unit_of_work(self, reason: str = "") -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error.

        Every ORM change inside it is written to the audit log with ``reason``. A unit of work
        opened inside another (on the same thread) joins it as a savepoint: an operation made
        of several service calls — deleting many lines, removing a project with its
        narratives — commits or rolls back as one, with the outer reason, while an inner call
        that refuses (an import's dry run, a refused file) undoes only its own part.
        """
        outer = self._current.get()
        if outer is not None:
            with outer.begin_nested():
                yield outer
            return
        session = self._sessions()
        token = self._current.set(session)
        session.info.update(os_user=self.os_user, db_user=self.db_user, reason=reason)
        session.info["grants_held"] = set()  # the grants whose writer lock it holds (locks.py)
        try:
            yield session
            session.commit()
        except DBAPIError as exc:
            session.rollback()
            if _is_permission_error(exc):
                raise self._read_only_error() from exc
            if _is_disk_full(exc):
                raise out_of_space(f"{self.display_name} (the database)") from exc
            if _is_busy_error(exc):
                raise DatabaseBusyError(
                    f"{self.display_name} stayed busy with someone else's change for "
                    f"{SQLITE_BUSY_TIMEOUT_MS // 1000} seconds; nothing was changed: "
                    "make your change again in a moment"
                ) from exc
            if isinstance(exc, DataError):  # PostgreSQL: text too long for its column, say
                reason = str(exc.orig).splitlines()[0]
                raise ValidationError(f"a value does not fit the database ({reason})") from exc
            raise
        except StaleDataError as exc:
            # Two editors read the same version at once (PostgreSQL lets both read); the
            # version check in the UPDATE stopped the second one.
            session.rollback()
            raise ConflictError(
                "someone else changed this record at the same moment; nothing was changed: "
                "reload it and make your change again"
            ) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            self._current.reset(token)
            session.close()

    def _read_only_error(self) -> ReadOnlyError:
        who = f"the database user {self.db_user}" if self.db_user else "you"
        return ReadOnlyError(
            f"{self.display_name} is read-only for {who}: nothing was changed. "
            "Ask whoever looks after the database for write access."
        )

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only; nothing it does is committed. Objects loaded in it stay
        readable after it closes (closing detaches them without expiring them). Inside a unit
        of work it reads that unit's session, so an operation sees its own changes."""
        outer = self._current.get()
        if outer is not None:
            yield outer
            return
        session = self._readers()
        try:
            yield session
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(target: str | None = None, *, migrate: bool = True) -> Database:
    """Open (creating or upgrading as needed) the database named by ``target``."""
    url = resolve_url(target)
    sqlite_path = _sqlite_path(url)
    is_new = True
    if sqlite_path is not None:
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        _refuse_non_database(sqlite_path)
        is_new = not sqlite_path.exists() or sqlite_path.stat().st_size == 0
        backup.check_before_open(sqlite_path)  # a damaged file is refused before any write
    engine = _create_engine(url)
    try:
        db_user = _database_user(engine)
        if migrate:
            upgrade(engine, sqlite_path)
        # The daily backup: new files have nothing to keep; deciding costs one folder look-up.
        daily = backup.daily_backup(sqlite_path) if sqlite_path and not is_new else None
    except DriverDatabaseError as exc:
        engine.dispose()
        if sqlite_path is not None and backup.is_damage(exc.orig):
            latest_good = backup.latest_good_backup(sqlite_path)
            raise backup.CorruptDatabaseError(sqlite_path, latest_good) from exc
        if sqlite_path is not None:
            raise DatabaseError(backup.cannot_open_message(sqlite_path, exc.orig or exc)) from exc
        raise DatabaseError(f"cannot open the database {target or url}: {exc.orig}") from exc
    except Exception:
        engine.dispose()
        raise
    return Database(engine, url, sqlite_path, audit.os_user(), db_user, auto_backup=daily)


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return None
    return Path(parsed.database)


def _refuse_non_database(path: Path) -> None:
    if path.is_dir():
        raise DatabaseError(f"{path} is a folder, not a database file")
    if path.exists() and path.stat().st_size > 0:
        with path.open("rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise DatabaseError(f"{path} is not a Fundtracker database (not a SQLite file)")


def _create_engine(url: str) -> Engine:
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy own transactions: pysqlite's own BEGIN handling breaks SAVEPOINTs.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        # A file this user may only read keeps its journal mode (read-only mode).
        with suppress(sqlite3.OperationalError):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: Any) -> None:
        # A writer takes the write lock up front (IMMEDIATE), so two writers queue on the busy
        # timeout instead of one failing with "database is locked" halfway through. Readers
        # begin DEFERRED and, in WAL mode, never wait for a writer.
        reader = connection.get_execution_options().get("fundtracker_reader", False)
        connection.exec_driver_sql("BEGIN" if reader else "BEGIN IMMEDIATE")

    return engine


def _is_permission_error(exc: DBAPIError) -> bool:
    # PostgreSQL: insufficient_privilege; SQLite: a file the user may not write.
    return getattr(exc.orig, "sqlstate", None) == "42501" or "readonly database" in str(exc.orig)


def _is_disk_full(exc: DBAPIError) -> bool:
    # SQLite: SQLITE_FULL; PostgreSQL: disk_full (53100), as "could not extend file".
    return getattr(exc.orig, "sqlstate", None) == "53100" or "database or disk is full" in str(
        exc.orig
    )


def _is_busy_error(exc: DBAPIError) -> bool:
    # SQLite's busy timeout ran out: another connection held the write lock all that time.
    return isinstance(exc.orig, sqlite3.OperationalError) and "database is locked" in str(exc.orig)


def _database_user(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        return ""
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT current_user")).scalar_one())


# --- Migrations --------------------------------------------------------------------------


# The newest schema this program writes (a test keeps it equal to the migrations' head).
# Checking a database against it takes one query, so opening an up-to-date database never
# imports Alembic, the largest cost of starting the app.
SCHEMA_HEAD = "0010"


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "fundtracker:migrations")
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision stored in the database (None for a database without one)."""
    # As a reader: a database this user may only read still opens (read-only mode).
    with engine.execution_options(fundtracker_reader=True).connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, sqlite_path: Path | None) -> None:
    """Bring the schema to this program's head: create, upgrade (after a backup) or refuse."""
    current = current_revision(engine)
    if current == SCHEMA_HEAD:
        return
    from alembic import command
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    if current == head:
        return
    if current is None and inspect(engine).get_table_names():
        raise DatabaseError("this database has tables but is not a Fundtracker database")
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise DatabaseError(
            f"this database was written by a newer Fundtracker (schema {current}); "
            f"this program knows schema {head} at most — install the newer version to open it"
        )
    if current is not None and sqlite_path is not None:
        backup.backup_before_migration(sqlite_path, current)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def utcnow() -> datetime:
    return datetime.now(UTC)
