"""County (the OPCC's side, issue 16): every partnership's current return for a period added
up — what needs attention first, the partnerships with totals, spend by the PCC plan's
priorities, who is missing or late — and the Police and Crime Panel's workbook."""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QVBoxLayout,
)

from fundtracker.errors import FundtrackerError
from fundtracker.opcc.panel_workbook import write_panel_workbook
from fundtracker.periods import Period
from fundtracker.presenters.opcc import (
    MISSING_HEADERS,
    OUTCOME_HEADERS,
    PARTNERSHIP_HEADERS,
    PRIORITY_HEADERS,
    CountyView,
    county_periods,
    county_view,
)
from ui.errors import show_error
from ui.models.table import Column, RowsModel
from ui.naming import labelled, named
from ui.pages.base import Page, notice
from ui.pages.received import rows_table
from ui.workspace import GRANTS, RETURNS, SETTINGS, Workspace

Row = tuple[str, ...]
PARTNERSHIP_MONEY_COLUMNS = range(3, 11)


def columns(headers: Sequence[str], numeric: Sequence[int] = ()) -> list[Column[Row]]:
    """Columns over rows of text, the n-th column showing each row's n-th cell."""
    return [Column(header, itemgetter(n), numeric=n in numeric) for n, header in enumerate(headers)]


class CountyPage(Page):
    name = "county"
    title = "County"
    kinds = frozenset({GRANTS, RETURNS, SETTINGS})

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.view: CountyView | None = None
        layout = QVBoxLayout(self)
        self.period_box = labelled(named(QComboBox(), "countyPeriod"), "Period")
        self.plan_box = labelled(named(QComboBox(), "countyPlan"), "PCC plan")
        self.plan_box.setMinimumContentsLength(24)
        self.panel_button = labelled(QPushButton("Panel workbook…"), "Panel workbook")
        self.panel_button.setToolTip("Write the Police and Crime Panel's workbook of these figures")
        self.panel_button.clicked.connect(self.choose_panel_file)
        self.period_box.currentIndexChanged.connect(lambda _i: self.show_figures(keep_plan=False))
        self.plan_box.currentIndexChanged.connect(lambda _i: self.show_figures())
        layout.addLayout(
            self.heading(
                "County",
                QLabel("Period:"),
                self.period_box,
                QLabel("Plan:"),
                self.plan_box,
                self.panel_button,
            )
        )
        self.attention = labelled(named(QListWidget(), "countyAttention"), "Needs attention")
        self.attention.setMaximumHeight(90)
        layout.addWidget(self.attention)
        self.partnerships = RowsModel(columns(PARTNERSHIP_HEADERS, PARTNERSHIP_MONEY_COLUMNS), self)
        self.priorities = RowsModel(columns(PRIORITY_HEADERS, (2, 3)), self)
        self.outcomes = RowsModel(columns(OUTCOME_HEADERS, range(2, 7)), self)
        self.missing = RowsModel(columns(MISSING_HEADERS), self)
        self.partnership_table = rows_table("countyPartnerships", "Partnerships", self.partnerships)
        self.priority_table = rows_table("countyPriorities", "Spend by priority", self.priorities)
        self.outcome_table = rows_table("countyOutcomes", "Outcomes", self.outcomes)
        self.missing_table = rows_table("countyMissing", "Missing and late", self.missing)
        left = named(QSplitter(Qt.Orientation.Vertical), "countyLeftSplitter")
        left.addWidget(self.priority_table)
        left.addWidget(self.outcome_table)
        lower = named(QSplitter(), "countyLowerSplitter")
        lower.addWidget(left)
        lower.addWidget(self.missing_table)
        splitter = named(QSplitter(Qt.Orientation.Vertical), "countySplitter")
        splitter.addWidget(self.partnership_table)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 3)  # the partnerships and their Total row first
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)
        self.other_plans = notice("")
        layout.addWidget(self.other_plans)

    def reload(self) -> None:
        shown = self.period_box.currentData()
        self.period_box.blockSignals(True)
        self.period_box.clear()
        periods, opening = county_periods(self.db)
        for period in periods:
            self.period_box.addItem(str(period), str(period))
        found = self.period_box.findData(shown or str(opening))
        self.period_box.setCurrentIndex(found if found >= 0 else 0)
        self.period_box.blockSignals(False)
        self.show_figures()

    def period(self) -> Period | None:
        text = self.period_box.currentData()
        return Period.parse(text) if text else None

    def show_figures(self, keep_plan: bool = True) -> None:
        period = self.period()
        self.panel_button.setEnabled(period is not None)
        if period is None:
            self.view = None
            self.attention.clear()
            self.attention.addItem("No return is received or expected yet.")
            for model in (self.partnerships, self.priorities, self.outcomes, self.missing):
                model.set_rows([])
            return
        plan = self.plan_box.currentData() if keep_plan else None
        try:
            self.view = county_view(self.db, period, plan)
        except FundtrackerError:  # the plan chosen has no return this period: the default
            self.view = county_view(self.db, period)
        self._fill(self.view)

    def _fill(self, view: CountyView) -> None:
        self.plan_box.blockSignals(True)
        self.plan_box.clear()
        for plan in view.plans:
            self.plan_box.addItem(plan["name"], plan["key"])
        chosen = view.figures["plan"]
        self.plan_box.setCurrentIndex(self.plan_box.findData(chosen["key"]) if chosen else -1)
        self.plan_box.blockSignals(False)
        self.attention.clear()
        self.attention.addItems(view.attention or ["No projected underspend or overspend."])
        self.partnerships.set_rows(view.partnerships)
        self.priorities.set_rows(view.priorities)
        self.outcomes.set_rows(view.outcomes)
        self.missing.set_rows(view.missing_and_late)
        self.other_plans.setText("\n".join(view.other_plans))
        self.other_plans.setVisible(bool(view.other_plans))
        tables = (self.partnership_table, self.priority_table, self.outcome_table)
        for table in (*tables, self.missing_table):
            table.resizeColumnsToContents()

    def choose_panel_file(self) -> None:
        if self.view is None:
            return
        name = f"Panel {self.view.figures['period'].replace('/', '-')}.xlsx"
        path, _ = QFileDialog.getSaveFileName(
            self, "Panel workbook", name, "Excel workbooks (*.xlsx)"
        )
        if path:
            self.write_panel(Path(path))

    def write_panel(self, path: Path) -> None:
        """The Panel's workbook of the figures shown (nothing in the records changes)."""
        if self.view is None:
            return
        try:
            write_panel_workbook(path, self.view.figures)
        except FundtrackerError as error:
            show_error(self, error)
            return
        self.show_status(f"Panel workbook written to {path}", 10000)
