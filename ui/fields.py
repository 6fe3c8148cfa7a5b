"""Form fields the assistant and the editors share: a labelled row whose accessible name is its
visible label, a refusal shown beside the field, and a date typed UK-style or picked."""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from PySide6.QtCore import QDate, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QCalendarWidget,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from fundtracker.dates import DateError, parse_date
from fundtracker.setup_drafts import Problems
from ui.accessibility import WARNING_SIGN, alert, problem_text

W = TypeVar("W", bound=QWidget)


class Refusal(QLabel):
    """What is wrong with the field beside it: a warning sign and words, in red, announced to
    a screen reader when it appears; hidden while nothing is wrong."""

    def __init__(self, field_label: str) -> None:
        super().__init__()
        self.setObjectName("fieldRefusal")
        self.setAccessibleName(f"{field_label} problem")
        self.setWordWrap(True)
        self.setProperty("class", "fieldError")
        self.setVisible(False)

    def message(self) -> str:
        """What is wrong, in words (the label shows them after a warning sign)."""
        return self.text().removeprefix(f"{WARNING_SIGN} ")

    def say(self, message: str) -> None:
        said_before = self.text()
        self.setText(problem_text(message))
        self.setVisible(bool(message))
        if message and self.text() != said_before:
            alert(self)
        # A wrapped label's height is not always asked for by a form row: claim it.
        width = self.width() if self.width() > 50 else 400
        self.setMinimumHeight(self.heightForWidth(width) if message else 0)


class DateField(QWidget):
    """A date typed as the officer writes it (01/05/2026, 1-May-26, 2026-05-01) or picked from
    a calendar. ``text()`` is what was typed; the core's parser reads it."""

    textChanged = Signal(str)

    def __init__(self, text: str = "") -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(text)
        self.edit.setPlaceholderText("dd/mm/yyyy")
        self.edit.textChanged.connect(self.textChanged)
        self.pick = QToolButton()
        self.pick.setText("…")
        self.pick.setToolTip("Pick the date from a calendar")
        self.pick.clicked.connect(self.show_calendar)
        row.addWidget(self.edit, 1)
        row.addWidget(self.pick)
        self.calendar: QCalendarWidget | None = None

    def setAccessibleName(self, name: str) -> None:
        super().setAccessibleName(name)
        self.edit.setAccessibleName(name)
        self.pick.setAccessibleName(f"Pick {name.lower()}")

    def text(self) -> str:
        return self.edit.text()

    def setText(self, text: str) -> None:
        self.edit.setText(text)

    def set_date(self, day: date | None) -> None:
        self.edit.setText(f"{day:%d/%m/%Y}" if day else "")

    def show_calendar(self) -> None:
        calendar = QCalendarWidget()
        calendar.setWindowFlags(Qt.WindowType.Popup)
        calendar.setAccessibleName(f"{self.accessibleName()} calendar")
        try:
            shown = parse_date(self.edit.text())
            calendar.setSelectedDate(QDate(shown.year, shown.month, shown.day))
        except DateError:
            pass
        calendar.clicked.connect(self._picked)
        calendar.move(self.mapToGlobal(QPoint(0, self.height())))
        calendar.show()
        self.calendar = calendar

    def _picked(self, picked: QDate) -> None:
        self.set_date(date(picked.year(), picked.month(), picked.day()))
        if self.calendar is not None:
            self.calendar.close()
            self.calendar = None


class Form:
    """A QFormLayout whose rows each hold a field and its refusal underneath it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.layout = QFormLayout(parent) if parent is not None else QFormLayout()
        self.fields: dict[str, QWidget] = {}
        self.refusals: dict[str, Refusal] = {}

    def add(self, label: str, field: W) -> W:
        field.setAccessibleName(label)
        refusal = Refusal(label)
        cell = QWidget()
        column = QVBoxLayout(cell)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(field)
        column.addWidget(refusal)
        column.addStretch(1)  # a tall row keeps its field at the top, beside its label
        self.layout.addRow(label, cell)
        self.fields[label] = field
        self.refusals[label] = refusal
        return field

    def show(self, problems: Problems) -> None:
        """Each refusal beside its field; fields without one are cleared."""
        for label, refusal in self.refusals.items():
            refusal.say(problems.about(label))

    def clear(self) -> None:
        self.show(Problems())
