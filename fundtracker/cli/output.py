"""Standard output and error as a command line tool should treat them.

Encoding. Output a program reads (redirected to a file or a pipe: CSV, JSON, TOML) is written
in UTF-8, so every supplier's name arrives whole whatever the console's code page (Windows
redirects in cp1252, which has no "Ł"); JSON is UTF-8 by its standard (RFC 8259). A terminal
keeps its own encoding and shows "?" for what it cannot show. PYTHONIOENCODING, when set, is the
person's explicit choice and is kept, with "?" for what it cannot hold. Error messages use the
stream's own encoding, with escapes for what it cannot hold. No output ever stops a command
with UnicodeEncodeError.

Failures. Writing to a closed or full standard output raises ``OutputFailed``, which the
command line tells apart from the command's own errors: once a change is committed, a failed
output must not make the exit code say "nothing changed" (a script would retry and book the
spend twice).
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import sys
from typing import Any, TextIO

_WHOLE_UNICODE = {"utf-8", "utf-16", "utf-32", "utf-8-sig"}


class OutputFailed(Exception):
    """Standard output could not be written (closed, full, or the reader went away)."""

    def __init__(self, error: BaseException | str):
        self.error = error
        reason = error if isinstance(error, str) else (getattr(error, "strerror", None) or error)
        super().__init__(str(reason))


class _GuardedOutput(io.TextIOBase):
    """Standard output whose write failures are ``OutputFailed``, nothing else."""

    def __init__(self, stream: TextIO | None):
        self._stream = stream

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self._stream, "encoding", "utf-8"))

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return bool(self._stream is not None and self._stream.isatty())

    def fileno(self) -> int:
        if self._stream is None:
            raise io.UnsupportedOperation("standard output is closed")
        return self._stream.fileno()

    def write(self, text: str) -> int:
        if self._stream is None:
            raise OutputFailed("standard output is closed")
        try:
            return self._stream.write(text)
        except (OSError, ValueError) as exc:  # ValueError: "I/O operation on closed file"
            raise OutputFailed(exc) from exc

    def flush(self) -> None:
        if self._stream is None:
            return
        try:
            self._stream.flush()
        except (OSError, ValueError) as exc:
            raise OutputFailed(exc) from exc


def prepare_streams() -> Any:
    """Set the encodings described above and guard stdout; returns the original stdout, for
    ``restore_streams``."""
    original = sys.stdout
    if original is not None:
        _choose_stdout_encoding(original)
    if sys.stderr is not None:
        _reconfigure(sys.stderr, errors="backslashreplace")
    sys.stdout = _GuardedOutput(original)
    return original


def restore_streams(original: Any) -> None:
    sys.stdout = original


def flush_stdout() -> None:
    """Write out what is buffered now, while a failure can still be reported."""
    sys.stdout.flush()


def _choose_stdout_encoding(stream: TextIO) -> None:
    if os.environ.get("PYTHONIOENCODING"):
        _reconfigure(stream, errors="replace")
    elif _whole_unicode(stream):
        return
    elif stream.isatty():
        _reconfigure(stream, errors="replace")
    else:
        _reconfigure(stream, encoding="utf-8", errors="strict")


def _whole_unicode(stream: TextIO) -> bool:
    try:
        return codecs.lookup(stream.encoding or "ascii").name in _WHOLE_UNICODE
    except LookupError:
        return False


def _reconfigure(stream: TextIO, **options: str) -> None:
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        # A closed or unusual stream is left as it is: its writes report the problem.
        with contextlib.suppress(OSError, ValueError):
            reconfigure(**options)
