"""What every page has: a title, the shared workspace, and refreshing only when something it
shows has changed — and only when it is visible (hidden pages catch up when shown)."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from ui.accessibility import announce, fit_to_font
from ui.workspace import EVERYTHING, Workspace


class Page(QWidget):
    name = ""
    title = ""
    kinds: frozenset[str] = EVERYTHING  # what changes make this page stale

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.setObjectName(f"page-{self.name}")
        self.workspace = workspace
        self.db = workspace.db
        self._stale = True
        self._scheduled = False
        workspace.changed.connect(self._on_changed)
        workspace.grant_changed.connect(lambda _ref: self._mark_stale())

    def busy(self) -> bool:
        """True while background work the page will show is still under way."""
        return self._stale

    def _on_changed(self, kinds: frozenset[str]) -> None:
        if kinds & self.kinds:
            self._mark_stale()

    def _mark_stale(self) -> None:
        # Refresh after the current event: a change may come from inside a model's setData,
        # and a model must not be reset while its view is still committing an editor.
        self._stale = True
        if self.isVisible() and not self._scheduled:
            self._scheduled = True
            QTimer.singleShot(0, self._refresh_if_stale)

    def _refresh_if_stale(self) -> None:
        self._scheduled = False
        if self._stale and self.isVisible():
            self.refresh_now()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh_now()

    def refresh_now(self) -> None:
        self._stale = False
        self.reload()
        fit_to_font(self)  # widths set for a normal font must not clip titles in a large one

    def reload(self) -> None:
        """Read what the page shows from the services again."""

    def show_status(self, text: str, milliseconds: int) -> None:
        """A passing message in the main window's status bar, announced to a screen reader
        (none for a page on its own)."""
        announce(self, text, milliseconds)

    def heading(self, text: str, *extra: QWidget) -> QHBoxLayout:
        row = QHBoxLayout()
        label = QLabel(text)
        label.setProperty("class", "pageTitle")
        row.addWidget(label)
        row.addStretch(1)
        for widget in extra:
            row.addWidget(widget)
        return row


def notice(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setProperty("class", "notice")
    return label
