"""Long work (import, export, evidence pack, backup) off the GUI thread, with a progress dialog
that can cancel it, so the window keeps repainting.

The work is a plain function ``work(progress) -> result``; it reports with
``progress.report(done, total)`` and stops early when ``progress.cancelled`` is true (the core
functions take such callbacks). Its result or error comes back on the GUI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from fundtracker.errors import FundtrackerError
from ui.errors import show_error


class Progress:
    """Handed to the work function: report progress, and see whether the officer cancelled."""

    def __init__(self, signal: Any) -> None:
        self._signal = signal
        self._cancel = threading.Event()

    def report(self, done: int, total: int) -> None:
        self._signal.emit(int(done), int(total))

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()


class _Worker(QThread):
    progressed = Signal(int, int)

    def __init__(self, work: Callable[[Progress], Any]) -> None:
        super().__init__()
        self.progress = Progress(self.progressed)
        self._work = work
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self._work(self.progress)
        except BaseException as error:  # handed to the GUI thread, which shows or logs it
            self.error = error


class Operation(QObject):
    """One background task with its progress dialog. Keep a reference until ``finished``."""

    finished = Signal()

    def __init__(
        self,
        parent: QWidget,
        label: str,
        work: Callable[[Progress], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[FundtrackerError], None] | None = None,
        cancellable: bool = True,
    ) -> None:
        super().__init__(parent)
        self._on_done = on_done
        self._on_error = on_error
        self._parent = parent
        self.dialog = QProgressDialog(label, "Cancel", 0, 0, parent)
        self.dialog.setWindowTitle("Fundtracker")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(300)  # quick work finishes without a flash
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        if not cancellable:  # the core cannot stop this work part-way: offer no false promise
            self.dialog.setCancelButton(None)
        self.worker = _Worker(work)
        self.worker.progressed.connect(self._progressed)
        self.worker.finished.connect(self._finished)
        self.dialog.canceled.connect(self.worker.progress.cancel)
        self.worker.start()

    def _progressed(self, done: int, total: int) -> None:
        self.dialog.setMaximum(max(total, 0))
        self.dialog.setValue(min(done, total) if total else 0)

    def _finished(self) -> None:
        self.dialog.reset()
        self.dialog.hide()
        self.dialog.deleteLater()
        error = self.worker.error
        self.worker.wait()
        try:
            if error is None:
                self._on_done(self.worker.result)
            elif isinstance(error, FundtrackerError):
                (self._on_error or (lambda e: show_error(self._parent, e)))(error)
            else:
                raise error
        finally:
            self.finished.emit()
            self.worker.deleteLater()
            self.deleteLater()


_running: set[Operation] = set()


def run_in_background(
    parent: QWidget,
    label: str,
    work: Callable[[Progress], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[FundtrackerError], None] | None = None,
    cancellable: bool = True,
) -> Operation:
    operation = Operation(parent, label, work, on_done, on_error, cancellable)
    _running.add(operation)
    operation.finished.connect(lambda: _running.discard(operation))
    return operation


def finish_all() -> None:
    """Before the window closes: ask running work to stop, and wait for it (an import stops
    with nothing written; an export finishes)."""
    for operation in list(_running):
        operation.worker.progress.cancel()
        operation.worker.wait()
