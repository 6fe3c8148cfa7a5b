"""Writing files so that a crash never leaves half a file where a whole one was.

Files written for people (returns, evidence packs, CSV exports, backups) get the permissions
the user's umask gives any new file, so a colleague on a shared drive can open them when the
user's umask allows it: the temporary file is created with mode 0o666 and the system takes
the umask off, exactly as for a file saved by any other program. (``tempfile.mkstemp`` would
make it owner-only, and the rename would carry that onto the finished file.)
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fundtracker.errors import NoSpaceError

# Evidence files live in this folder beside the database (named by their SHA-256).
EVIDENCE_FOLDER = "evidence"
_NEW_FILE_MODE = 0o666  # the umask is taken off by the system
_ATTEMPTS = 100
_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})  # a full disk, or the user's quota


def is_out_of_space(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in _NO_SPACE


def out_of_space(what: str, needed: int | None = None) -> NoSpaceError:
    room = f" (it needs about {_size(needed)})" if needed else ""
    return NoSpaceError(
        f"{what} could not be written: the disk is full{room}. Nothing was saved; free some "
        "space on that disk and try again."
    )


def _size(count: int) -> str:
    if count < 1024**2:
        return f"{max(count // 1024, 1):,} KB"
    return f"{count / 1024**2:,.1f} MB"


@contextmanager
def space_for(what: str, needed: int | None = None) -> Iterator[None]:
    """A full disk while writing ``what`` becomes a NoSpaceError saying so (the writer has
    already removed anything half-written)."""
    try:
        yield
    except OSError as exc:
        if not is_out_of_space(exc):
            raise
        raise out_of_space(what, needed) from exc


def _new_temporary(target: Path) -> Path:
    """Create an empty, unique temporary file beside ``target`` (never an existing one)."""
    for _ in range(_ATTEMPTS):
        candidate = target.with_name(f".{target.name}.{secrets.token_hex(6)}")
        try:
            handle = os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, _NEW_FILE_MODE)
        except FileExistsError:
            continue
        os.close(handle)
        return candidate
    raise FileExistsError(f"cannot create a temporary file beside {target}")


@contextmanager
def atomic_path(target: Path, needed: int | None = None) -> Iterator[Path]:
    """A temporary path beside ``target``; renamed over it only if the block succeeds."""
    target = Path(target)
    with space_for(str(target), needed):  # a full disk is said so, nothing half-written left
        target.parent.mkdir(parents=True, exist_ok=True)
        temp_path = _new_temporary(target)
        try:
            yield temp_path
            with temp_path.open("rb") as written:
                os.fsync(written.fileno())
            temp_path.replace(target)
        finally:
            temp_path.unlink(missing_ok=True)


def write_text_atomic(target: Path, text: str) -> None:
    with atomic_path(target, len(text.encode("utf-8"))) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_with(target: Path, writer: Callable[[Path], None]) -> None:
    """Let ``writer`` fill a temporary file, then put it in place atomically."""
    with atomic_path(target) as temporary:
        writer(temporary)
