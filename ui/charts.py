"""A chart with its text alternative: the table of the figures it draws, one key away
(View ▸ Charts as tables, Ctrl+T), for a screen reader, a magnifier or anyone who wants the
numbers rather than the bars."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCharts import QChartView
from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QStackedWidget, QTableView

from ui.accessibility import fit_to_font
from ui.naming import named

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
TABLE_SHORTCUT = "Ctrl+T"


class ChartPanel(QStackedWidget):
    """The chart, or in its place the table of what it draws."""

    def __init__(self, view: QChartView, name: str) -> None:
        super().__init__()
        self.setObjectName(f"chart-{name}")
        self.view = view
        self.model = QStandardItemModel(self)
        self.table = named(QTableView(), f"chartTable-{name}")
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.addWidget(view)
        self.addWidget(self.table)

    def set_figures(
        self, title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]
    ) -> None:
        """What the chart draws, as text: a row per bar group or point, first column its label
        and the others right-aligned figures."""
        self.view.setAccessibleName(title)
        self.view.setAccessibleDescription(f"Chart. {TABLE_SHORTCUT} shows it as a table.")
        self.table.setAccessibleName(f"{title} (table)")
        self.model.clear()
        self.model.setHorizontalHeaderLabels(list(headers))
        for row in rows:
            items = [QStandardItem(text) for text in row]
            for item in items[1:]:
                item.setTextAlignment(RIGHT)
            self.model.appendRow(items)
        fit_to_font(self)

    def show_table(self, shown: bool) -> None:
        self.setCurrentWidget(self.table if shown else self.view)

    def showing_table(self) -> bool:
        return self.currentWidget() is self.table
