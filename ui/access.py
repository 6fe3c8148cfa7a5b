"""Who else has the database open, and whether it can be written at all."""

from __future__ import annotations

from PySide6.QtCore import QLockFile

from fundtracker.storage import Database


def lock_database(db: Database) -> tuple[QLockFile | None, bool]:
    """Take the lock file beside a SQLite database while this window has it open.

    Returns the lock and whether this app got it (False: another copy has the file open).
    A server database needs no lock: it is made for sharing."""
    if db.sqlite_path is None:
        return None, True
    lock = QLockFile(str(db.sqlite_path) + ".lock")
    lock.setStaleLockTime(0)  # a crashed app's lock is recognised by its dead process id
    return lock, lock.tryLock(200)
