"""Backups of a SQLite database: taken with SQLite's online backup API, checked after writing,
kept in a ``backups`` folder beside the database, and restored only from a sound file.

Kinds of backup (the kind is part of the file name, with the UTC time it was taken):

- ``daily``: taken automatically on the first open of each UTC day (empty databases are
  skipped). Retention keeps the newest daily backup of each of the 14 most recent days that
  have one, plus the newest of each of the 12 most recent calendar months that have one (the
  current month counts); older daily backups are deleted.
- ``before-upgrade-REV``: taken before every schema migration; never deleted automatically.
- ``manual``: ``fundtracker-cli backup`` or the app's *Back up now*; never deleted automatically.
- ``before-restore``: the database as it was just before a restore replaced it; never deleted.

PostgreSQL databases are backed up by the server's own tools (``pg_dump``), not here.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fundtracker.errors import DatabaseError

DAILY_KEPT = 14
MONTHLY_KEPT = 12
SQLITE_HEADER = b"SQLite format 3\x00"
_STAMP_FORMAT = "%Y%m%dT%H%M%S"
# A table every Fundtracker schema has, to tell our databases from other SQLite files.
_FUNDTRACKER_TABLE = "spend_lines"


class CorruptDatabaseError(DatabaseError):
    """The database fails SQLite's integrity check; nothing was written to it."""

    def __init__(self, database: Path, latest_good: Backup | None):
        self.database = database
        self.latest_good_backup = latest_good
        advice = (
            f"The latest good backup is {latest_good.path} (taken {latest_good.taken_label}); "
            f"restore it with: fundtracker-cli --database {database} restore {latest_good.path}"
            if latest_good
            else "No good backup was found in " + str(backups_folder(database))
        )
        super().__init__(
            f"{database} is damaged: it fails SQLite's integrity check, so Fundtracker will not "
            f"write to it. {advice}"
        )


@dataclass(frozen=True)
class Backup:
    path: Path
    kind: str  # daily | manual | before-upgrade-REV | before-restore
    taken_at: datetime  # UTC

    @property
    def taken_label(self) -> str:
        return self.taken_at.strftime("%d/%m/%Y %H:%M UTC")


def now_utc() -> datetime:
    """The clock backups use (tests replace it)."""
    return datetime.now(UTC)


# --- Checking ----------------------------------------------------------------------------


def _read_only(path: Path) -> sqlite3.Connection:
    # Read-only: a check must never write, not even the checkpoint a closing writer does.
    # as_uri() percent-encodes the path: a folder named "Grants #2" or "50%" stays a path.
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _check(path: Path, pragma: str) -> bool:
    try:
        connection = _read_only(path)
        try:
            return bool(connection.execute(f"PRAGMA {pragma}").fetchone()[0] == "ok")
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return False


def integrity_ok(path: Path) -> bool:
    """True when ``path`` is a SQLite database that passes ``PRAGMA integrity_check``."""
    return _check(path, "integrity_check")


def quick_check_ok(path: Path) -> bool:
    """SQLite's fast check of every page (``quick_check``): about 1 ms per MB."""
    return _check(path, "quick_check")


def has_fundtracker_schema(path: Path) -> bool:
    """True for a SQLite file holding Fundtracker's tables and a schema revision."""
    try:
        with path.open("rb") as handle:
            if handle.read(16) != SQLITE_HEADER:
                return False
        connection = _read_only(path)
        try:
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if not {"alembic_version", _FUNDTRACKER_TABLE} <= tables:
                return False
            return (
                connection.execute("SELECT version_num FROM alembic_version").fetchone() is not None
            )
        finally:
            connection.close()
    except (OSError, sqlite3.DatabaseError):
        return False


def _has_data(path: Path) -> bool:
    """False for a database nobody has changed yet (every change writes an audit event)."""
    connection = _read_only(path)
    try:
        return connection.execute("SELECT 1 FROM audit_events LIMIT 1").fetchone() is not None
    except sqlite3.OperationalError:  # no such table: not migrated yet
        return False
    finally:
        connection.close()


# --- Writing backups ---------------------------------------------------------------------


def copy_database(source: Path, destination: Path) -> Path:
    """Copy a live database consistently (other connections may be writing) and verify it."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        src = _read_only(source)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)
                # A backup is one self-contained file: no -wal beside it to lose.
                dst.execute("PRAGMA journal_mode = DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        if not integrity_ok(partial):
            raise DatabaseError(
                f"the backup of {source} failed its integrity check; nothing was kept"
            )
        _fsync(partial)
        partial.replace(destination)
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"cannot back up {source}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return destination


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def backups_folder(database: Path) -> Path:
    return database.parent / "backups"


def _backup_path(database: Path, kind: str, when: datetime) -> Path:
    stamp = when.astimezone(UTC).strftime(_STAMP_FORMAT) + f".{when.microsecond // 1000:03d}Z"
    return backups_folder(database) / f"{database.stem}-{kind}-{stamp}.sqlite3"


def backup_now(database: Path, out: Path | None = None) -> Path:
    """A manual backup into the backups folder (or to ``out``); returns where it went."""
    if not database.is_file():
        raise DatabaseError(f"there is no database at {database}")
    target = out if out is not None else _backup_path(database, "manual", now_utc())
    if target.resolve() == database.resolve():
        raise DatabaseError("a backup cannot replace the database it copies")
    return copy_database(database, target)


def backup_before_migration(database: Path, from_revision: str) -> Path:
    """Keep a copy of the database as it was before its schema is upgraded."""
    return copy_database(
        database, _backup_path(database, f"before-upgrade-{from_revision}", now_utc())
    )


# --- Listing and retention ---------------------------------------------------------------


def _name_pattern(database: Path) -> re.Pattern[str]:
    return re.compile(
        re.escape(database.stem)
        + r"-(?P<kind>daily|manual|before-restore|before-upgrade-[^-]+)"
        + r"-(?P<stamp>\d{8}T\d{6})(?:\.(?P<ms>\d{3}))?Z\.sqlite3"
    )


def list_backups(database: Path) -> list[Backup]:
    """Every backup of ``database`` in its backups folder, newest first."""
    folder = backups_folder(database)
    if not folder.is_dir():
        return []
    pattern = _name_pattern(database)
    found = []
    for path in folder.iterdir():
        match = pattern.fullmatch(path.name)
        if match:
            taken = datetime.strptime(match["stamp"], _STAMP_FORMAT).replace(
                tzinfo=UTC, microsecond=int(match["ms"] or 0) * 1000
            )
            found.append(Backup(path, match["kind"], taken))
    return sorted(found, key=lambda b: (b.taken_at, b.path.name), reverse=True)


def last_backup_time(database: Path) -> datetime | None:
    """When the newest backup of any kind was taken (UTC), or None when there is none."""
    backups = list_backups(database)
    return backups[0].taken_at if backups else None


def latest_good_backup(database: Path) -> Backup | None:
    """The newest backup that passes the integrity check."""
    return next((b for b in list_backups(database) if integrity_ok(b.path)), None)


def daily_backups_to_keep(backups: list[Backup]) -> set[Path]:
    """The retention rule: the newest daily backup of each of the 14 most recent days, and of
    each of the 12 most recent months (a backup may count for both)."""
    newest_first = sorted(
        (b for b in backups if b.kind == "daily"), key=lambda b: b.taken_at, reverse=True
    )
    kept: set[Path] = set()
    for key, limit in ((lambda b: b.taken_at.date(), DAILY_KEPT), (_month, MONTHLY_KEPT)):
        seen: set[object] = set()
        for backup in newest_first:
            period = key(backup)
            if period not in seen and len(seen) < limit:
                seen.add(period)
                kept.add(backup.path)
    return kept


def _month(backup: Backup) -> tuple[int, int]:
    return (backup.taken_at.year, backup.taken_at.month)


def prune_backups(database: Path) -> list[Path]:
    """Delete daily backups the retention rule no longer keeps; returns what was deleted."""
    backups = list_backups(database)
    keep = daily_backups_to_keep(backups)
    removed = [b.path for b in backups if b.kind == "daily" and b.path not in keep]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


# --- On open -----------------------------------------------------------------------------


def is_damage(error: BaseException | None) -> bool:
    """True for SQLite's words for a damaged file."""
    text = str(error)
    return "malformed" in text or "file is not a database" in text


def check_before_open(database: Path) -> None:
    """Refuse a damaged database before anything writes to it (a quick check of every page;
    the full integrity check runs on the daily backup)."""
    if database.is_file() and database.stat().st_size > 0 and not quick_check_ok(database):
        raise CorruptDatabaseError(database, latest_good_backup(database))


def daily_backup_due(database: Path) -> bool:
    """Cheap: one look at the backups folder for today's daily backup."""
    folder = backups_folder(database)
    today = now_utc().strftime("%Y%m%d")
    return not any(folder.glob(f"{_glob_escape(database.stem)}-daily-{today}T*.sqlite3"))


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def daily_backup(database: Path) -> Path | None:
    """Take today's automatic backup if it is due and the database holds data; then apply the
    retention rule. A copy that fails the full integrity check means the database is damaged."""
    if not os.access(database.parent, os.W_OK):
        return None  # a read-only folder (read-only mode): nowhere to keep a backup
    if not daily_backup_due(database) or not _has_data(database):
        return None
    try:
        taken = copy_database(database, _backup_path(database, "daily", now_utc()))
    except DatabaseError as exc:
        if not integrity_ok(database):
            raise CorruptDatabaseError(database, latest_good_backup(database)) from exc
        # A full disk or a folder this user may not write: the database itself is sound, so
        # it opens; the missing backup shows in last_backup_time (the app's status bar).
        return None
    prune_backups(database)
    return taken


# --- Restoring ---------------------------------------------------------------------------


def check_restorable(source: Path) -> None:
    """Refuse anything but a sound Fundtracker database."""
    if not source.is_file():
        raise DatabaseError(f"there is no file at {source}")
    with source.open("rb") as handle:
        is_sqlite = handle.read(16) == SQLITE_HEADER
    if is_sqlite and not integrity_ok(source):
        raise DatabaseError(f"{source} fails SQLite's integrity check; nothing was restored")
    if not has_fundtracker_schema(source):
        raise DatabaseError(f"{source} is not a Fundtracker database; nothing was restored")


def restore(database: Path, source: Path) -> Path | None:
    """Replace ``database`` with the backup ``source``, atomically, keeping a copy of the
    current database first. Returns that copy (None when there was no database).

    Only while no other program has the database open: the check takes SQLite's exclusive
    lock, and holds it until the new file is in place."""
    check_restorable(source)
    if source.resolve() == database.resolve():
        raise DatabaseError("that file is the database itself; nothing to restore")
    staged = copy_database(source, database.with_name(database.name + ".restoring"))
    try:
        with _ExclusiveAccess(database) as lock:
            kept = _keep_current(database, lock)
            for suffix in ("-wal", "-shm"):
                Path(str(database) + suffix).unlink(missing_ok=True)
            staged.replace(database)
    finally:
        staged.unlink(missing_ok=True)
    return kept


class _ExclusiveAccess:
    """Exclusive access to a SQLite file: leaves WAL mode (which needs every other connection
    closed and folds the -wal file into the database), then holds an exclusive lock."""

    def __init__(self, database: Path):
        self.database = database
        self.connection: sqlite3.Connection | None = None
        self.damaged = False

    def __enter__(self) -> _ExclusiveAccess:
        if not self.database.exists():
            return self
        connection = sqlite3.connect(self.database, timeout=0, isolation_level=None)
        try:
            mode = connection.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
            if mode != "delete":
                raise _in_use(self.database)
            connection.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError as exc:
            connection.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise _in_use(self.database) from exc
            self.damaged = True
            return self
        except sqlite3.DatabaseError:
            connection.close()
            self.damaged = True  # too damaged to lock; copy it as it is
            return self
        self.connection = connection
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.connection is not None:
            self.connection.close()


def _in_use(database: Path) -> DatabaseError:
    return DatabaseError(
        f"another program (perhaps Fundtracker itself) has {database} open; "
        "close it and try again — nothing was restored"
    )


def _keep_current(database: Path, lock: _ExclusiveAccess) -> Path | None:
    if not database.exists():
        return None
    kept = _backup_path(database, "before-restore", now_utc())
    kept.parent.mkdir(parents=True, exist_ok=True)
    # A byte copy: the database may be too damaged for the backup API, and the lock holds it
    # still. A damaged database's -wal is kept beside it too.
    shutil.copyfile(database, kept)
    wal = Path(str(database) + "-wal")
    if lock.damaged and wal.exists():
        shutil.copyfile(wal, Path(str(kept) + "-wal"))
    _fsync(kept)
    return kept
