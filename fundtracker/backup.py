"""Backups of a SQLite database with SQLite's online backup API, checked after writing."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from fundtracker.errors import DatabaseError


def integrity_ok(path: Path) -> bool:
    """True when ``path`` is a SQLite database that passes ``PRAGMA integrity_check``."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return bool(connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok")
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return False


def copy_database(source: Path, destination: Path) -> Path:
    """Copy a live database consistently (other connections may be writing) and verify it."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    if not integrity_ok(partial):
        partial.unlink(missing_ok=True)
        raise DatabaseError(f"the backup of {source} failed its integrity check; nothing was kept")
    partial.replace(destination)
    return destination


def backups_folder(database: Path) -> Path:
    return database.parent / "backups"


def backup_before_migration(database: Path, from_revision: str) -> Path:
    """Keep a copy of the database as it was before its schema is upgraded."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = (
        backups_folder(database) / f"{database.stem}-before-upgrade-{from_revision}-{stamp}.sqlite3"
    )
    return copy_database(database, target)
