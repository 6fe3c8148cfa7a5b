"""One place that turns errors into messages the officer can act on, and logs the unexpected."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget
from shiboken6 import isValid

from fundtracker.errors import ConflictError, FundtrackerError, LockedError, ValidationError

log = logging.getLogger("fundtracker.ui")
_log_file: Path | None = None


def error_title(error: FundtrackerError) -> str:
    if isinstance(error, LockedError):
        return "Locked by a submitted return"
    if isinstance(error, ConflictError):
        return "Changed by someone else"
    if isinstance(error, ValidationError):
        return "Please correct this"
    return "Not done"


def error_text(error: FundtrackerError) -> str:
    """The message as the officer reads it: one line per field problem."""
    if isinstance(error, ValidationError):
        return "\n".join(f"• {e}" for e in error.errors)
    text = str(error)
    if isinstance(error, ConflictError):
        text += "\n\nThe table has been reloaded with the current values."
    return text


def show_error(parent: QWidget | None, error: FundtrackerError) -> QMessageBox:
    """A window-modal message that does not block the caller (tests read it, then close it)."""
    box = QMessageBox(QMessageBox.Icon.Warning, error_title(error), error_text(error))
    if parent is not None and isValid(parent):  # a dialog may be gone by the time of an undo
        box.setParent(parent.window(), box.windowFlags())
    box.setObjectName("errorBox")
    _keep_open(box)
    return box


_shown: set[QMessageBox] = set()


def _keep_open(box: QMessageBox) -> None:
    """Show without blocking; a box without a parent is kept alive until it is closed."""
    _shown.add(box)
    box.finished.connect(lambda _result: _shown.discard(box))
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


def install_log(folder: Path) -> Path:
    """Log unexpected errors to ``folder/logs/fundtracker-errors.log``."""
    global _log_file
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    _log_file = logs / "fundtracker-errors.log"
    handler = logging.FileHandler(_log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return _log_file


def log_file() -> Path | None:
    return _log_file


class ExceptHook:
    """The app's ``sys.excepthook``, which never hides an error from whoever runs the app.

    For the officer, an error nobody caught is shown or logged by ``unexpected``. A test
    runner that installed its own hook first (pytest-qt fails a test on any exception raised
    in a slot or a virtual method) is handed every error as well, so the test still fails.
    In strict mode (``--screenshot``) nothing is shown: the traceback goes to stderr and is
    counted, so the command exits non-zero rather than pass off pictures of a broken page.
    """

    def __init__(self, *, strict: bool) -> None:
        self.strict = strict
        self.failures = 0
        self._previous = sys.__excepthook__  # the hook this one replaced, once installed

    def install(self) -> ExceptHook:
        self._previous = sys.excepthook
        sys.excepthook = self
        return self

    def __call__(
        self, kind: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> None:
        if self.strict:
            self.failures += 1
            details = "".join(traceback.format_exception(kind, value, tb))
            log.error("unexpected error\n%s", details)
            print(f"fundtracker: unexpected error\n{details}", file=sys.stderr, end="")
        else:
            unexpected(kind, value, tb)
        if self._previous not in (sys.__excepthook__, self):
            self._previous(kind, value, tb)  # a test runner's hook: let it fail the test


def unexpected(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    """What the officer sees of an error nobody caught: a typed error is shown as it is;
    anything else is logged in full and the officer is told where the log is (never shown a
    traceback)."""
    if isinstance(value, FundtrackerError):
        show_error(None, value)
        return
    log.error("unexpected error\n%s", "".join(traceback.format_exception(kind, value, tb)))
    where = str(_log_file) if _log_file else "the console"
    print(f"fundtracker: unexpected error ({kind.__name__}); details in {where}", file=sys.stderr)
    box = QMessageBox(
        QMessageBox.Icon.Critical,
        "Something went wrong",
        f"Fundtracker met an unexpected problem ({kind.__name__}: {value}).\n\n"
        "Nothing was half-saved: each change is saved whole or not at all.\n"
        f"The details are in {where} — please send that file to support.",
    )
    box.setObjectName("unexpectedBox")
    _keep_open(box)
