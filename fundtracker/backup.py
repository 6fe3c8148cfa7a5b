"""Backups of a SQLite database: taken with SQLite's online backup API, checked after writing,
kept in a ``backups`` folder beside the database, and restored only from a sound file.

Kinds of backup (the kind is part of the file name, with the UTC time it was taken):

- ``daily``: taken automatically on the first open of each day, the officer's own date
  (Europe/London, see ``fundtracker.dates.local_date``; empty databases are skipped). Retention
  keeps the newest daily backup of each of the 14 most recent days that have one, plus the
  newest of each of the 12 most recent calendar months that have one (the current month
  counts); older daily backups are deleted. Days and months are the officer's local ones too: a
  backup at 23:30 UTC in summer belongs to the next day. A backup whose name is dated after
  now (taken while the computer's clock ran fast) is kept and does not count, so a clock put
  right never makes retention delete each new day's backup.
- ``before-upgrade-REV``: taken before every schema migration; never deleted automatically.
- ``manual``: ``fundtracker-cli backup`` or the app's *Back up now*; never deleted automatically.
- ``before-restore``: the database as it was just before a restore replaced it; never deleted.

Two kinds of file. Backups in ``backups/`` beside the database are database copies
(``.sqlite3``): they guard against a damaged file or a mistake, and the evidence they refer to
is beside them on the same disk. A backup that leaves the database's disk is an ``.ftbackup``
(see ``fundtracker.ftbackup``): the database copy and every evidence file, with a manifest of
SHA-256s. The daily backup also goes, as an ``.ftbackup``, to a backup folder the person chooses
(a network drive, a synced folder), into a subfolder of its own per database
(``<stem>-<8 hex of the database's path>``) so that colleagues sharing one folder never prune
each other's backups; retention there is the same as beside the database. ``restore`` takes
either kind.

PostgreSQL databases are backed up by the server's own tools (``pg_dump``), not here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fundtracker import ftbackup
from fundtracker.audit import os_user
from fundtracker.dates import local_date
from fundtracker.errors import DatabaseError
from fundtracker.files import EVIDENCE_FOLDER

DAILY_KEPT = 14
MONTHLY_KEPT = 12
SQLITE_HEADER = b"SQLite format 3\x00"
DATABASE_SUFFIX = ".sqlite3"
COPY_NAME = "fundtracker.sqlite3"  # the database a hand-over copy is opened as
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


class CannotCheckError(DatabaseError):
    """SQLite could not read the file to check it, for a reason that is not damage: a
    read-only folder or drive, a full disk, a -shm file it cannot create, a lock."""


def _run_check(path: Path, pragma: str) -> bool:
    """True when the check passes, False when it fails or SQLite calls the file damaged.
    Raises CannotCheckError when SQLite cannot read the file at all for another reason."""
    try:
        connection = _read_only(path)
        try:
            return bool(connection.execute(f"PRAGMA {pragma}").fetchone()[0] == "ok")
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        if is_damage(exc):
            return False
        raise CannotCheckError(cannot_open_message(path, exc)) from exc


def _check(path: Path, pragma: str) -> bool:
    """For backups and restores: a copy that cannot be read is no good copy, whatever why."""
    try:
        return _run_check(path, pragma)
    except CannotCheckError:
        return False


def cannot_open_message(path: Path, error: BaseException) -> str:
    """What to tell the officer when SQLite cannot open a file that is not damaged."""
    text = str(error).lower()
    if "full" in text:
        hint = "The disk is full: free some space on it and open the database again."
    elif "locked" in text or "busy" in text:
        hint = "Another program holds it locked: close that program and try again."
    elif "i/o" in text:
        hint = "The drive reported an error: check the disk or network connection and retry."
    else:
        hint = (
            f"SQLite must be able to create {path.name}-wal and {path.name}-shm beside it: "
            "the folder or drive may be read-only, or the disk full. Open a copy in a folder "
            "you can write, or ask IT for write access."
        )
    return (
        f"cannot open {path}: {error}. The file is not reported damaged, so do not restore a "
        f"backup over it. {hint}"
    )


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
    except OSError as exc:  # a full disk, a folder this user may not write
        raise DatabaseError(
            f"cannot back up {source} to {destination}: {exc.strerror or exc}"
        ) from exc
    finally:
        partial.unlink(missing_ok=True)
    return destination


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def backups_folder(database: Path) -> Path:
    return database.parent / "backups"


def evidence_store(database: Path) -> Path:
    """The evidence files of a SQLite database: beside it, named by their SHA-256."""
    return database.parent / EVIDENCE_FOLDER


def offsite_folder(database: Path, chosen: Path) -> Path:
    """This database's own subfolder of a chosen backup folder. The tag is a hash of the
    database's full path, so two databases named alike (two officers' fundtracker.sqlite3 on
    one network drive) keep apart and retention never deletes another's backups."""
    tag = hashlib.sha256(str(database.resolve()).encode("utf-8")).hexdigest()[:8]
    return chosen / f"{database.stem}-{tag}"


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime(_STAMP_FORMAT) + f".{when.microsecond // 1000:03d}Z"


def _backup_path(database: Path, kind: str, when: datetime) -> Path:
    return backups_folder(database) / f"{database.stem}-{kind}-{_stamp(when)}{DATABASE_SUFFIX}"


def _offsite_path(database: Path, chosen: Path, kind: str, when: datetime) -> Path:
    folder = offsite_folder(database, chosen)
    return folder / f"{database.stem}-{kind}-{_stamp(when)}{ftbackup.SUFFIX}"


def suggested_name(database: Path, kind: str = "manual") -> str:
    """A file name for a backup or hand-over copy the person saves where they like."""
    return f"{database.stem}-{kind}-{_stamp(now_utc())}{ftbackup.SUFFIX}"


def backup_now(database: Path, out: Path | None = None) -> Path:
    """A manual backup: into the backups folder as a database copy, or to ``out`` — an
    ``.ftbackup`` with the evidence, unless ``out`` ends in ``.sqlite3`` (a plain database
    copy, as earlier versions wrote). Returns where it went."""
    _refuse_missing(database)
    if out is None:
        return copy_database(database, _backup_path(database, "manual", now_utc()))
    if out.resolve() == database.resolve():
        raise DatabaseError("a backup cannot replace the database it copies")
    if out.suffix.lower() == DATABASE_SUFFIX:
        return copy_database(database, out)
    return write_backup_file(database, out).path


def backup_to_folder(database: Path, chosen: Path, kind: str = "manual") -> ftbackup.Written:
    """An ``.ftbackup`` into this database's subfolder of the chosen backup folder."""
    _refuse_missing(database)
    _refuse_unreachable(chosen)
    return write_backup_file(database, _offsite_path(database, chosen, kind, now_utc()))


def write_backup_file(database: Path, out: Path) -> ftbackup.Written:
    """The single-file backup (also the hand-over copy): the database copied with the online
    backup API and checked, then every evidence file, into ``out`` (written atomically)."""
    _refuse_missing(database)
    # The copy waits beside the database (its disk has room for it; /tmp may not).
    scratch_parent = database.parent if os.access(database.parent, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=scratch_parent) as scratch:
        # The database first: every attachment it lists was stored before its row was
        # committed, so the evidence listed afterwards includes all of them.
        copy = copy_database(database, Path(scratch) / ftbackup.DATABASE)
        return ftbackup.write(copy, evidence_store(database), out, now_utc())


def _refuse_missing(database: Path) -> None:
    if not database.is_file():
        raise DatabaseError(f"there is no database at {database}")


def _refuse_unreachable(chosen: Path) -> None:
    # Never created here: an unmounted network drive's path would become a local folder.
    if not chosen.is_dir():
        raise DatabaseError(
            f"the backup folder {chosen} cannot be reached (is the drive connected?); "
            "no backup was written there"
        )


def backup_before_migration(database: Path, from_revision: str) -> Path:
    """Keep a copy of the database as it was before its schema is upgraded."""
    return copy_database(
        database, _backup_path(database, f"before-upgrade-{from_revision}", now_utc())
    )


# --- Listing and retention ---------------------------------------------------------------


def _name_pattern(database: Path, suffix: str = DATABASE_SUFFIX) -> re.Pattern[str]:
    return re.compile(
        re.escape(database.stem)
        + r"-(?P<kind>daily|manual|before-restore|before-upgrade-[^-]+)"
        + r"-(?P<stamp>\d{8}T\d{6})(?:\.(?P<ms>\d{3}))?Z"
        + re.escape(suffix)
    )


def _backups_in(folder: Path, pattern: re.Pattern[str]) -> list[Backup]:
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = pattern.fullmatch(path.name)
        if match:
            taken = datetime.strptime(match["stamp"], _STAMP_FORMAT).replace(
                tzinfo=UTC, microsecond=int(match["ms"] or 0) * 1000
            )
            found.append(Backup(path, match["kind"], taken))
    return found


def list_backups(database: Path, chosen: Path | None = None) -> list[Backup]:
    """Every backup of ``database`` in its backups folder and, given the person's chosen
    backup folder, in its subfolder there; newest first."""
    found = _backups_in(backups_folder(database), _name_pattern(database))
    if chosen is not None:
        found += list_offsite_backups(database, chosen)
    return sorted(found, key=lambda b: (b.taken_at, b.path.name), reverse=True)


def list_offsite_backups(database: Path, chosen: Path) -> list[Backup]:
    folder = offsite_folder(database, chosen)
    found = _backups_in(folder, _name_pattern(database, ftbackup.SUFFIX))
    return sorted(found, key=lambda b: (b.taken_at, b.path.name), reverse=True)


def last_backup_time(database: Path, chosen: Path | None = None) -> datetime | None:
    """When the newest backup of any kind was taken (UTC), or None when there is none."""
    backups = list_backups(database, chosen)
    return backups[0].taken_at if backups else None


def latest_good_backup(database: Path) -> Backup | None:
    """The newest backup that passes the integrity check."""
    return next((b for b in list_backups(database) if integrity_ok(b.path)), None)


def daily_backups_to_keep(backups: list[Backup], now: datetime | None = None) -> set[Path]:
    """The retention rule: the newest daily backup of each of the 14 most recent days, and of
    each of the 12 most recent months (a backup may count for both), by the time each backup
    records in its name. A backup dated after ``now`` (taken while the clock ran fast) is kept
    and counts for nothing, so it never pushes today's backups out once the clock is right."""
    now = now or now_utc()
    daily = [b for b in backups if b.kind == "daily"]
    kept = {b.path for b in daily if b.taken_at > now}
    newest_first = sorted(
        (b for b in daily if b.taken_at <= now), key=lambda b: b.taken_at, reverse=True
    )
    for key, limit in ((lambda b: local_date(b.taken_at), DAILY_KEPT), (_month, MONTHLY_KEPT)):
        seen: set[object] = set()
        for backup in newest_first:
            period = key(backup)
            if period not in seen and len(seen) < limit:
                seen.add(period)
                kept.add(backup.path)
    return kept


def _month(backup: Backup) -> tuple[int, int]:
    day = local_date(backup.taken_at)
    return (day.year, day.month)


def _prune(backups: list[Backup]) -> list[Path]:
    keep = daily_backups_to_keep(backups)
    removed = [b.path for b in backups if b.kind == "daily" and b.path not in keep]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def prune_backups(database: Path) -> list[Path]:
    """Delete daily backups the retention rule no longer keeps; returns what was deleted."""
    return _prune(list_backups(database))


def prune_offsite_backups(database: Path, chosen: Path) -> list[Path]:
    """The same rule in this database's subfolder of the chosen backup folder."""
    return _prune(list_offsite_backups(database, chosen))


# --- On open -----------------------------------------------------------------------------


def is_damage(error: BaseException | None) -> bool:
    """True for SQLite's words for a damaged file."""
    text = str(error)
    return "malformed" in text or "file is not a database" in text


def check_before_open(database: Path) -> None:
    """Refuse a damaged database before anything writes to it (a quick check of every page;
    the full integrity check runs on the daily backup)."""
    if not database.is_file() or database.stat().st_size == 0:
        return
    # Only a check that ran and failed is damage; CannotCheckError (a read-only drive, a full
    # disk, a -shm file SQLite cannot create) goes to the officer as it is, with no restore.
    if not _run_check(database, "quick_check"):
        raise CorruptDatabaseError(database, latest_good_backup(database))


def daily_backup_due(database: Path) -> bool:
    """Cheap: one look at the backups folder for today's daily backup."""
    return _daily_due(backups_folder(database), database.stem, DATABASE_SUFFIX)


def _daily_due(folder: Path, stem: str, suffix: str) -> bool:
    """No daily backup yet on the officer's date today (file names carry the UTC time, and a
    local day spans two UTC dates, so the names are read rather than globbed)."""
    today = local_date(now_utc())
    taken = _backups_in(folder, _name_pattern(Path(stem + suffix), suffix))
    return not any(b.kind == "daily" and local_date(b.taken_at) == today for b in taken)


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
        if not _sound_or_unreadable(database):
            raise CorruptDatabaseError(database, latest_good_backup(database)) from exc
        # A full disk or a folder this user may not write: the database itself is sound, so
        # it opens; the missing backup shows in last_backup_time (the app's status bar).
        return None
    prune_backups(database)
    return taken


def _sound_or_unreadable(database: Path) -> bool:
    """False only when the integrity check ran and failed: a database SQLite cannot read now
    (a full disk, a read-only folder) is not damaged."""
    try:
        return _run_check(database, "integrity_check")
    except CannotCheckError:
        return True


def daily_offsite_backup(database: Path, chosen: Path) -> Path | None:
    """Today's automatic ``.ftbackup`` into the chosen backup folder, if due there and the
    database holds data; then the retention rule there. Raises DatabaseError when the folder
    cannot be reached or written (the caller shows it; the database is not affected)."""
    _refuse_unreachable(chosen)
    folder = offsite_folder(database, chosen)
    if not _daily_due(folder, database.stem, ftbackup.SUFFIX) or not _has_data(database):
        return None
    try:
        written = backup_to_folder(database, chosen, "daily")
    except OSError as exc:
        raise DatabaseError(
            f"the daily backup could not be written to {folder}: {exc.strerror or exc}"
        ) from exc
    prune_offsite_backups(database, chosen)
    return written.path


# --- Restoring ---------------------------------------------------------------------------


def check_restorable(source: Path, label: str | None = None) -> None:
    """Refuse anything but a sound Fundtracker database (``label`` names it in messages)."""
    name = label or str(source)
    if not source.is_file():
        raise DatabaseError(f"there is no file at {name}")
    with source.open("rb") as handle:
        is_sqlite = handle.read(16) == SQLITE_HEADER
    if is_sqlite and not integrity_ok(source):
        raise DatabaseError(f"{name} fails SQLite's integrity check; nothing was restored")
    if not has_fundtracker_schema(source):
        raise DatabaseError(f"{name} is not a Fundtracker database; nothing was restored")


@dataclass(frozen=True)
class LostSubmission:
    """A submitted return standing in the database that the backup being restored lacks (or
    holds reopened): restoring un-submits it."""

    grant: str
    period: str
    version: int
    submitted_at: datetime  # UTC
    checksum: str

    def __str__(self) -> str:
        return (
            f"{self.grant} {self.period} version {self.version} (submitted "
            f"{local_date(self.submitted_at.replace(tzinfo=UTC)):%d/%m/%Y})"
        )


@dataclass(frozen=True)
class Restored:
    kept: Path | None  # the database as it was before (None when there was none)
    lost: list[LostSubmission]  # the submissions the restore took away


class RestoreDeclined(DatabaseError):
    """The person did not confirm a restore that takes submissions away; nothing changed."""


def describe_lost(lost: list[LostSubmission]) -> str:
    """'the submitted return X' or 'the 2 submitted returns X; Y', for messages."""
    if len(lost) == 1:
        return f"the submitted return {lost[0]}"
    return f"the {len(lost)} submitted returns " + "; ".join(map(str, lost))


def restore(
    database: Path,
    source: Path,
    confirm: Callable[[list[LostSubmission]], bool] = lambda lost: not lost,
) -> Restored:
    """Replace ``database`` with the backup ``source`` — a database copy (``.sqlite3``) or an
    ``.ftbackup``, whose evidence files are put back in the evidence store too — atomically,
    keeping a copy of the current database first.

    ``confirm`` is asked, once the backup is checked, with the submitted returns the backup
    lacks; unless it says yes nothing is restored (RestoreDeclined). The restored database's
    audit log records the restore, where the replaced database is kept and each submission
    it took away, so the record survives the restore itself.

    Only while no other program has the database open: the check takes SQLite's exclusive
    lock, and holds it until the new file is in place."""
    if source.is_file() and source.resolve() == database.resolve():
        raise DatabaseError("that file is the database itself; nothing to restore")
    if source.is_file() and ftbackup.is_ftbackup(source):
        with ftbackup.unpacked(source, database.parent) as unpacked:
            label = f"the database in {source}"
            check_restorable(unpacked.database, label)
            return _replace_database(
                database, unpacked.database, unpacked.evidence, source, confirm
            )
    _refuse_broken_zip(source)
    check_restorable(source)
    return _replace_database(database, source, {}, source, confirm)


def _standing_submissions(path: Path) -> dict[tuple[str, str, int, str], datetime]:
    """Submitted returns not reopened, by (grant reference, period, version, checksum)."""
    connection = _read_only(path)
    try:
        rows = connection.execute(
            "SELECT g.reference, s.period, s.version_number, s.checksum, s.submitted_at "
            "FROM submissions s JOIN grants g ON g.id = s.grant_id WHERE s.reopened_at IS NULL"
        ).fetchall()
    finally:
        connection.close()
    return {(g, p, v, c): datetime.fromisoformat(at) for g, p, v, c, at in rows}


def lost_submissions(database: Path, backup_copy: Path) -> list[LostSubmission]:
    """What restoring ``backup_copy`` over ``database`` un-submits. A current database SQLite
    cannot read (damaged: the usual reason to restore) has nothing it can be said to lose."""
    if not database.is_file():
        return []
    try:
        now = _standing_submissions(database)
    except sqlite3.DatabaseError:
        return []
    kept = _standing_submissions(backup_copy)
    return [
        LostSubmission(grant, period, version, at, checksum)
        for (grant, period, version, checksum), at in sorted(now.items())
        if (grant, period, version, checksum) not in kept
    ]


def _record_restore(
    staged: Path, source: Path, kept: Path | None, lost: list[LostSubmission]
) -> None:
    """The restore's audit events, written into the restored copy before it goes in place."""
    connection = sqlite3.connect(staged)
    try:
        with connection:
            grants = dict(connection.execute("SELECT reference, id FROM grants").fetchall())
            _audit(
                connection,
                "database",
                f"restored from {source.name}",
                None,
                {
                    "restored_from": [None, str(source)],
                    "replaced_database_kept_in": [None, str(kept) if kept else None],
                    "submissions_not_in_restored": [None, [str(item) for item in lost]],
                },
            )
            for item in lost:
                _audit(
                    connection,
                    "submission",
                    f"{item.grant} {item.period} v{item.version} not in the restored database",
                    grants.get(item.grant),
                    {
                        "period": [item.period, None],
                        "version_number": [item.version, None],
                        "submitted_at": [item.submitted_at.isoformat(), None],
                        "checksum": [item.checksum, None],
                        "kept_in": [str(kept) if kept else None, None],
                    },
                )
    finally:
        connection.close()


def _audit(
    connection: sqlite3.Connection,
    entity: str,
    label: str,
    grant_id: int | None,
    changes: dict[str, list[object]],
) -> None:
    # The columns and forms the ORM writes (fundtracker.audit): naive UTC times, JSON changes.
    connection.execute(
        "INSERT INTO audit_events (at, os_user, db_user, action, entity, entity_id, label, "
        "grant_id, changes, reason) VALUES (?, ?, '', 'restore', ?, NULL, ?, ?, ?, '')",
        (
            now_utc().astimezone(UTC).replace(tzinfo=None).isoformat(" "),
            os_user(),
            entity,
            label[:300],
            grant_id,
            json.dumps(changes, sort_keys=True),
        ),
    )


def _refuse_broken_zip(source: Path) -> None:
    """A file that starts like a zip but is not a whole one: a backup cut short (a copy
    interrupted, a sync not finished), named as such rather than as a foreign file."""
    if source.is_file():
        with source.open("rb") as handle:
            if handle.read(4) == b"PK\x03\x04":
                raise ftbackup.BackupFileError(
                    f"{source} is a damaged backup: it is not a complete zip file (was its "
                    "copy cut short?); nothing was restored"
                )


def open_copy(source: Path, folder: Path) -> Path:
    """A hand-over copy (or any backup) opened as a new database in ``folder``, with its
    evidence in the evidence store beside it. Returns the new database's path."""
    database = folder / COPY_NAME
    if database.exists():
        raise DatabaseError(
            f"{folder} already holds a database ({COPY_NAME}); choose an empty folder — "
            "nothing was changed"
        )
    folder.mkdir(parents=True, exist_ok=True)
    restore(database, source)
    return database


def _replace_database(
    database: Path,
    source: Path,
    evidence: dict[str, Path],
    named: Path,
    confirm: Callable[[list[LostSubmission]], bool],
) -> Restored:
    lost = lost_submissions(database, source)
    if not confirm(lost):
        raise RestoreDeclined(
            f"restoring {named} would take away {describe_lost(lost)}; nothing was restored"
        )
    staged = copy_database(source, database.with_name(database.name + ".restoring"))
    kept_as = _backup_path(database, "before-restore", now_utc()) if database.exists() else None
    _record_restore(staged, named, kept_as, lost)
    try:
        with _ExclusiveAccess(database) as lock:
            kept = _keep_current(database, lock, kept_as)
            _put_back_evidence(evidence_store(database), evidence)
            for suffix in ("-wal", "-shm"):
                Path(str(database) + suffix).unlink(missing_ok=True)
            if database.exists():  # an owner-only database stays owner-only
                os.chmod(staged, stat.S_IMODE(database.stat().st_mode))
            staged.replace(database)
    finally:
        staged.unlink(missing_ok=True)
    return Restored(kept, lost)


def _put_back_evidence(store: Path, evidence: dict[str, Path]) -> None:
    """Checked evidence files into the store under their SHA-256. Only files missing (or no
    longer matching their name) are written: the rest are already the very same bytes."""
    for sha, unpacked_file in evidence.items():
        target = store / sha[:2] / sha
        if target.is_file() and ftbackup.sha256_of(target) == sha:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        _fsync(unpacked_file)
        unpacked_file.replace(target)  # the scratch folder is on the same disk


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


def _keep_current(database: Path, lock: _ExclusiveAccess, kept: Path | None) -> Path | None:
    if kept is None:
        return None
    kept.parent.mkdir(parents=True, exist_ok=True)
    # A byte copy: the database may be too damaged for the backup API, and the lock holds it
    # still. A damaged database's -wal is kept beside it too.
    shutil.copyfile(database, kept)
    wal = Path(str(database) + "-wal")
    if lock.damaged and wal.exists():
        shutil.copyfile(wal, Path(str(kept) + "-wal"))
    _fsync(kept)
    return kept
