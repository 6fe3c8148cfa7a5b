"""Writing files so that a crash never leaves half a file where a whole one was.

Files written for people (returns, evidence packs, CSV exports, backups) get the permissions
the user's umask gives any new file, so a colleague on a shared drive can open them when the
user's umask allows it: the temporary file is created with mode 0o666 and the system takes
the umask off, exactly as for a file saved by any other program. (``tempfile.mkstemp`` would
make it owner-only, and the rename would carry that onto the finished file.)
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

# Evidence files live in this folder beside the database (named by their SHA-256).
EVIDENCE_FOLDER = "evidence"
_NEW_FILE_MODE = 0o666  # the umask is taken off by the system
_ATTEMPTS = 100


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
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target``; renamed over it only if the block succeeds."""
    target = Path(target)
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
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_with(target: Path, writer: Callable[[Path], None]) -> None:
    """Let ``writer`` fill a temporary file, then put it in place atomically."""
    with atomic_path(target) as temporary:
        writer(temporary)
