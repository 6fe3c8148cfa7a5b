"""Returns: per period its status, a narrative per project (RAG, outputs and outcomes,
variance explanation, forecast override), the outcome actuals of the quarter being returned
(ui/outcomes.py), a preview of the figures, and Export, Submit (confirming any check errors
first), Reopen (with a reason) and Evidence pack."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from fundtracker.checks import run_checks
from fundtracker.errors import FundtrackerError
from fundtracker.figures import AllocationFigures, Report, build_report
from fundtracker.models import Narrative
from fundtracker.money import format_money, money_str, parse_money
from fundtracker.next_year import lines_for_next_year
from fundtracker.operations import Changes, run_operation
from fundtracker.operations.narratives import SetNarrative
from fundtracker.operations.returns import ReopenReturn, SubmitReturn
from fundtracker.operations.year import CloseGrant, ReopenGrant
from fundtracker.periods import Period
from fundtracker.presenters.outcomes import outcomes_view
from fundtracker.presenters.returns import ReturnPeriod, opening_period, return_periods
from fundtracker.returns.board_report import build_board_report
from fundtracker.returns.evidence import write_evidence_pack
from fundtracker.returns.narratives import get_narratives, project_rag
from fundtracker.returns.submission import (
    SubmissionInfo,
    export_return,
    list_returns,
)
from fundtracker.services.grants import load_grant
from fundtracker.services.plans import list_plans
from fundtracker.year_end import STATEMENT_LABELS, last_period, year_end_statement
from ui import dialogs, funders_template
from ui.accessibility import signal_colour
from ui.board_report_pdf import write_board_report
from ui.delegates import ChoiceDelegate
from ui.errors import show_error
from ui.models.table import LEFT, RIGHT, negative_brush
from ui.naming import named
from ui.operations import Progress, run_in_background
from ui.outcomes import ActualsPanel
from ui.pages.base import Page, notice
from ui.preferences import prepared_by
from ui.workspace import PROJECTS, RETURNS, SPEND, Workspace
from ui.year_dialogs import NextYearDialog

Index = QModelIndex | QPersistentModelIndex
RAG_SIGNALS = {"G": "good", "A": "warning", "R": "error"}  # the letter shows too
# (header, key, editable narrative field or "")
COLUMNS = (
    ("Code", "code", ""),
    ("Project", "name", ""),
    ("Budget", "budget", ""),
    ("Spent to date", "spend_to_date", ""),
    ("Forecast", "forecast_outturn", ""),
    ("Variance", "variance", ""),
    ("RAG", "rag", "rag"),
    ("Outputs and outcomes", "outputs", "outputs"),
    ("Variance explanation", "variance_explanation", "variance_explanation"),
    ("Override", "forecast", "forecast"),  # the officer's forecast, replacing the computed one
)
MONEY = {"budget", "spend_to_date", "forecast_outturn", "variance", "forecast"}


def narrative_values(narrative: Narrative | None) -> dict[str, str]:
    """A narrative's fields as the officer edits them (text; empty when not set)."""
    if narrative is None:
        return {"rag": "", "outputs": "", "variance_explanation": "", "forecast": ""}
    return {
        "rag": narrative.rag or "",
        "outputs": narrative.outputs,
        "variance_explanation": narrative.variance_explanation,
        "forecast": money_str(narrative.forecast) if narrative.forecast is not None else "",
    }


class NarrativesModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.figures: list[AllocationFigures] = []
        self.narratives: dict[str, dict[str, str]] = {}
        self.editor: Any = None  # editor(code, field, old, new) -> bool
        self.locked = False

    def show(self, report: Report | None, narratives: dict[str, Narrative]) -> None:
        self.beginResetModel()
        self.figures = list(report.allocations) if report else []
        self.narratives = {f.code: narrative_values(narratives.get(f.code)) for f in self.figures}
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.figures)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def _text(self, figures: AllocationFigures, key: str) -> tuple[str, bool]:
        """(text, is the RAG computed rather than set)."""
        narrative = self.narratives[figures.code]
        if key == "rag":
            # Red whenever spent and committed exceed the budget, whatever the override.
            return project_rag(figures, narrative["rag"] or None)
        if key in narrative:
            value = narrative[key]
            return (
                format_money(parse_money(value)) if key == "forecast" and value else value
            ), False
        value = getattr(figures, key)
        return (format_money(value) if key in MONEY else str(value)), False

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.figures):
            return None
        figures = self.figures[index.row()]
        _header, key, field = COLUMNS[index.column()]
        text, computed = self._text(figures, key)
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{text} (auto)" if computed else text
        if role == Qt.ItemDataRole.EditRole:
            return self.narratives[figures.code][field] if field else text
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(RIGHT if key in MONEY else LEFT)
        if role == Qt.ItemDataRole.ForegroundRole:
            if key == "rag" and text[:1] in RAG_SIGNALS:
                return QBrush(QColor(signal_colour(RAG_SIGNALS[text[:1]])))
            return negative_brush() if key in MONEY and text.startswith("-") else None
        if role == Qt.ItemDataRole.ToolTipRole and key in ("outputs", "variance_explanation"):
            return text or None
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if role == Qt.ItemDataRole.ToolTipRole and COLUMNS[section][1] == "forecast":
            return "Forecast outturn override: replaces the computed forecast for this period"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and COLUMNS[index.column()][2] and not self.locked:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or self.editor is None:
            return False
        code = self.figures[index.row()].code
        field = COLUMNS[index.column()][2]
        old = self.narratives[code][field]
        new = "" if value is None else str(value)
        if not field or new == old:
            return False
        return bool(self.editor(code, field, old, new))


class ReturnsPage(Page):
    name = "returns"
    title = "Returns"
    kinds = frozenset({RETURNS, SPEND, PROJECTS})

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.report: Report | None = None
        self.submissions: list[SubmissionInfo] = []
        self.return_periods: dict[str, ReturnPeriod] = {}
        layout = QVBoxLayout(self)
        self.status = named(QLabel(), "returnStatus")
        layout.addLayout(self.heading("Monitoring returns", self.status))
        self.empty = notice("No grant yet: import a grant file on the Grants page.")
        layout.addWidget(self.empty)
        splitter = named(QSplitter(), "returnsSplitter")
        self.periods = named(QListWidget(), "returnPeriods")
        self.periods.setAccessibleName("Return periods")
        self.periods.currentRowChanged.connect(lambda _row: self._show_period())
        splitter.addWidget(self.periods)
        splitter.addWidget(self._detail())
        splitter.setSizes([140, 950])
        layout.addWidget(splitter, 1)

    def _detail(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        self.export_button = QPushButton("Export…")
        self.submit_button = QPushButton("Submit…")
        self.reopen_button = QPushButton("Reopen…")
        self.pack_button = QPushButton("Evidence pack…")
        self.board_button = named(QPushButton("Board report…"), "boardReport")
        self.board_button.setToolTip("Two to four A4 pages for the partnership's board (PDF)")
        self.board_button.clicked.connect(self.board_report)
        self.year_button = named(QPushButton("Close the year…"), "closeYear")
        self.year_button.clicked.connect(self.close_or_reopen_year)
        self.next_year_button = named(QPushButton("Start next year's grant…"), "startNextYear")
        self.next_year_button.setToolTip("The following year's grant from this one")
        self.next_year_button.clicked.connect(self.start_next_year)
        self.export_button.clicked.connect(self.export)
        self.template_button = named(QPushButton("Funder's template"), "fundersTemplate")
        self.template_button.setToolTip("Fill in the funder's own return form (docs/RETURNS.md)")
        template_menu = QMenu(self.template_button)
        template_menu.addAction("Export to funder's template…", self.export_to_template)
        template_menu.addAction("Choose the template and its map…", self.choose_template)
        self.template_button.setMenu(template_menu)
        self.submit_button.clicked.connect(self.submit)
        self.reopen_button.clicked.connect(self.reopen)
        self.pack_button.clicked.connect(self.evidence_pack)
        for button in (self.export_button, self.submit_button, self.reopen_button):
            buttons.addWidget(button)
        buttons.addWidget(self.template_button)
        buttons.addStretch(1)
        buttons.addWidget(self.year_button)
        buttons.addWidget(self.next_year_button)
        buttons.addWidget(self.pack_button)
        buttons.addWidget(self.board_button)
        layout.addLayout(buttons)
        self.figures = QGridLayout()
        self.figure_labels: dict[str, QLabel] = {}
        shown = (
            ("award", "Award"),
            ("received", "Received"),
            ("spend_this_period", "Spent this period"),
            ("spend_to_date", "Spent to date"),
            ("committed", "Committed"),
            ("forecast_outturn", "Forecast outturn"),
            ("projected_underspend", "Projected underspend"),
            ("projected_overspend", "Projected overspend"),
            ("unallocated", "Unallocated"),
        )
        for number, (key, label) in enumerate(shown):
            value = named(QLabel(), f"return-{key}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight)
            self.figure_labels[key] = value
            self.figures.addWidget(QLabel(label), number // 4, (number % 4) * 2)
            self.figures.addWidget(value, number // 4, (number % 4) * 2 + 1)
        layout.addLayout(self.figures)
        self.model = NarrativesModel(self)
        self.model.editor = self._edit_narrative
        self.table = named(QTableView(), "narrativesTable")
        self.table.setAccessibleName("Narratives per project")
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.horizontalHeader().setStretchLastSection(True)
        rag = [c[1] for c in COLUMNS].index("rag")
        self.table.setItemDelegateForColumn(
            rag,
            ChoiceDelegate(
                lambda: [("", "(auto)"), ("G", "Green"), ("A", "Amber"), ("R", "Red")],
                self.table,
            ),
        )
        for column, width in enumerate((48, 125, 85, 90, 85, 80, 60, 140, 145)):
            self.table.setColumnWidth(column, width)
        narratives = QWidget()
        narratives_layout = QVBoxLayout(narratives)
        narratives_layout.setContentsMargins(0, 0, 0, 0)
        narratives_layout.addWidget(
            QLabel("Narratives (double-click a cell in the last four columns)")
        )
        narratives_layout.addWidget(self.table, 1)
        self.actuals = ActualsPanel(self.workspace)
        self.tabs = named(QTabWidget(), "returnTabs")
        self.tabs.addTab(narratives, "Narratives")
        self.tabs.addTab(self.actuals, "Outcomes")
        layout.addWidget(self.tabs, 1)
        self.checks_label = named(QLabel(), "returnChecks")
        self.checks_label.setWordWrap(True)
        layout.addWidget(self.checks_label)
        return box

    # --- loading -----------------------------------------------------------------------------

    def reload(self) -> None:
        reference = self.workspace.grant
        self.empty.setVisible(not reference)
        if not reference:
            return
        grant = load_grant(self.db, reference)
        self.closed_at = grant.closed_at
        self.last_period = str(last_period(grant))
        self.submissions = list_returns(self.db, reference)
        self.return_periods = {str(r.period): r for r in return_periods(grant, self.submissions)}
        chosen = self.current_period_text() or str(opening_period(grant, date.today()))
        self.periods.blockSignals(True)
        self.periods.clear()
        for text, shown in self.return_periods.items():
            item = QListWidgetItem(shown.label)
            item.setData(Qt.ItemDataRole.UserRole, text)
            self.periods.addItem(item)
        texts = [
            self.periods.item(n).data(Qt.ItemDataRole.UserRole) for n in range(self.periods.count())
        ]
        self.periods.setCurrentRow(texts.index(chosen) if chosen in texts else 0)
        self.periods.blockSignals(False)
        self._show_period()

    def _standing(self, period: str) -> SubmissionInfo | None:
        shown = self.return_periods.get(period)
        return shown.latest if shown else None

    def _status_of(self, period: str) -> str:
        shown = self.return_periods.get(period)
        return shown.status if shown else "Draft"

    def current_period_text(self) -> str:
        item = self.periods.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item else ""

    def period(self) -> Period:
        return Period.parse(self.current_period_text())

    def _show_period(self) -> None:
        if not self.current_period_text():
            return
        reference, period = self.workspace.grant, self.period()
        self.report = build_report(self.db, reference, period)
        narratives = get_narratives(self.db, reference, period)
        standing = self._standing(str(period))
        submitted = standing is not None and standing.reopened_at is None
        self.model.locked = submitted or self.workspace.read_only
        self.model.show(self.report, narratives)
        outcomes = outcomes_view(self.db, reference, period)
        self.actuals.show_period(period, outcomes.rows, submitted)
        to_enter = sum(q.actual is None for _row, q in self.actuals.model.rows)
        self.tabs.setTabText(1, f"Outcomes ({to_enter} not entered)" if to_enter else "Outcomes")
        for key, label in self.figure_labels.items():
            label.setText(format_money(getattr(self.report.summary, key)))
        # An overspend shows in red, never hidden behind a £0.00 underspend.
        over = self.figure_labels["projected_overspend"]
        overspent = self.report.summary.projected_overspend
        over.setStyleSheet(f"color: {signal_colour('error')}" if overspent else "")
        status = self._status_of(str(period))
        if submitted and standing is not None:
            status += (
                f" on {standing.submitted_at.astimezone():%d/%m/%Y} by {standing.submitted_by}"
            )
        self.status.setText(f"{period}: {status}")
        writable = not self.workspace.read_only
        self.submit_button.setEnabled(writable and not submitted)
        self.reopen_button.setEnabled(writable and submitted)
        # The year closes from its last return, once submitted; a closed year reopens.
        closed = getattr(self, "closed_at", None) is not None
        self.year_button.setText("Reopen the year…" if closed else "Close the year…")
        last = str(period) == getattr(self, "last_period", "")
        self.year_button.setEnabled(writable and (closed or (last and submitted)))
        # Next year's grant may start at any time, as the command line's may: April's
        # invoices reach the ledger before the last return is done and belong in it, and open
        # commitments are carried into it so that this year can close.
        self.next_year_button.setEnabled(writable)
        findings = run_checks(self.db, reference, period, report=self.report)
        errors = [f for f in findings if f.severity == "error"]
        self.checks_label.setText(
            f"Checks: {len(errors)} error(s), {len(findings) - len(errors)} warning(s)"
            + (" — " + "; ".join(f.message for f in errors[:3]) if errors else "")
        )

    def show_outcomes(self, project: str, quarter: Period) -> None:
        """The Outcomes tab at the return period holding ``quarter``, the project's first
        measure selected (a check finding about an outcome opens here)."""
        for row in range(self.periods.count()):
            period = Period.parse(self.periods.item(row).data(Qt.ItemDataRole.UserRole))
            if period.start <= quarter.start and quarter.end <= period.end:
                self.periods.setCurrentRow(row)
                break
        self.tabs.setCurrentWidget(self.actuals)
        self.actuals.select(project)

    # --- narratives --------------------------------------------------------------------------

    def _edit_narrative(self, code: str, field: str, old: str, new: str) -> bool:
        operation = SetNarrative(self.workspace.grant, self.period(), code, {field: new})
        return self.workspace.run(operation, self) is not None

    # --- files -------------------------------------------------------------------------------

    def _ask_path(self, title: str, suffix: str, kind: str) -> Path | None:
        name = f"{self.workspace.grant}-{self.current_period_text().replace('/', '-')}{suffix}"
        path, _ = QFileDialog.getSaveFileName(self, title, name, f"{kind} (*{suffix})")
        return Path(path) if path else None

    def export(self) -> None:
        if not self.current_period_text():
            return
        path = self._ask_path("Export the return", ".xlsx", "Excel workbooks")
        if path:
            self.export_to(path)

    def export_to(self, path: Path, submit: bool = False) -> None:
        reference, period, who = self.workspace.grant, self.period(), prepared_by()

        def work(_progress: Progress) -> Any:
            if submit:  # a change of the records: one operation, off the GUI thread
                return run_operation(self.db, SubmitReturn(reference, period, path, who))
            return export_return(self.db, reference, period, path, prepared_by=who)

        def done(outcome: Any) -> None:
            result = outcome
            if isinstance(outcome, Changes):
                self.workspace.record(outcome, self)
                result = outcome.result
            what = "Return submitted and" if result.newly_submitted else f"{result.status} return"
            self.show_status(f"{what} written to {path}", 10000)

        label = "Submitting the return…" if submit else "Writing the return workbook…"
        run_in_background(self, label, work, done, cancellable=False)

    def choose_template(self) -> None:
        chosen = funders_template.choose(self, self.workspace.grant)
        if chosen:
            template, the_map = chosen
            self.show_status(f"Funder's template: {template.name}, map {the_map.name}", 10000)

    def export_to_template(self) -> None:
        reference = self.workspace.grant
        if not self.current_period_text():
            return
        chosen = funders_template.remembered(reference) or funders_template.choose(self, reference)
        if chosen is None:
            return
        title = "Export to the funder's template"
        path = self._ask_path(title, chosen[0].suffix, "Excel workbooks")
        if path:
            self.export_to_template_path(path, *chosen)

    def export_to_template_path(self, path: Path, template: Path, the_map: Path) -> None:
        """The period's return (its snapshot once submitted) in the funder's template."""
        filler = funders_template.check(self, template, the_map)
        if filler is None:
            return
        reference, period, who = self.workspace.grant, self.period(), prepared_by()

        def work(_progress: Progress) -> Any:
            return export_return(
                self.db, reference, period, path, prepared_by=who, writer=filler.write
            )

        def done(result: Any) -> None:
            self.show_status(f"{result.status} return written to {path} (funder's template)", 10000)

        run_in_background(self, "Filling in the funder's template…", work, done, cancellable=False)

    def submit(self) -> None:
        if not self.current_period_text():
            return
        findings = run_checks(self.db, self.workspace.grant, self.period(), report=self.report)
        errors = [f for f in findings if f.severity == "error"]
        warnings = [f for f in findings if f.severity == "warning"]
        question = f"Submit the return for {self.period()}?\n\n"
        # Errors and warnings alike, asked once (issue 13: an overspend is a warning).
        for found, what in ((errors, "error(s)"), (warnings, "warning(s)")):
            if found:
                question += f"The checks found {len(found)} {what}:\n" + "\n".join(
                    f"• {f.message}" for f in found[:10]
                )
                more = len(found) - 10
                question += (f"\n… and {more} more" if more > 0 else "") + "\n\n"
        if errors or warnings:
            question += "Submit anyway? "
        question += (
            "Once submitted, spend dated in or before this period is locked until the return "
            "is reopened."
        )
        if not dialogs.confirm(self, "Submit return", question, "Submit"):
            return
        path = self._ask_path("Save the submitted return", ".xlsx", "Excel workbooks")
        if path:
            self.export_to(path, submit=True)

    def reopen(self) -> None:
        reason = dialogs.ask_text(
            self, "Reopen return", f"Why is the return for {self.period()} being reopened?"
        )
        if reason is not None:
            self.reopen_with(reason)

    def reopen_with(self, reason: str) -> bool:
        operation = ReopenReturn(self.workspace.grant, self.period(), reason)
        return self.workspace.run(operation, self) is not None

    # --- year end ----------------------------------------------------------------------------

    def close_or_reopen_year(self) -> None:
        reference = self.workspace.grant
        if getattr(self, "closed_at", None) is not None:
            reason = dialogs.ask_text(
                self, "Reopen the year", f"Why is the year of {reference} being reopened?"
            )
            if reason is not None:
                self.workspace.run(ReopenGrant(reference, reason), self)
            return
        statement = year_end_statement(self.db, reference)
        question = (
            f"Close the year of {reference}? It becomes read-only until reopened.\n\n"
            + "\n".join(
                f"{label}: {format_money(getattr(statement, key))}"
                for key, label in STATEMENT_LABELS
            )
        )
        if dialogs.confirm(self, "Close the year", question, "Close the year"):
            self.close_year_now()

    def close_year_now(self, reason: str = "") -> bool:
        """Close the year (refusals, such as open commitments, are shown and change nothing)."""
        changes = self.workspace.run(CloseGrant(self.workspace.grant, reason), self)
        if changes is None:
            return False
        self.show_status(
            f"Year closed: to return to the funder {format_money(changes.result.to_return)}, "
            f"still due from the funder {format_money(changes.result.due_from_funder)}",
            10000,
        )
        return True

    def start_next_year(self) -> NextYearDialog:
        """The next year's grant, offering to move the lines dated in it in the same step; once
        started it becomes the current grant (the workspace follows the operation)."""
        grant = load_grant(self.db, self.workspace.grant)
        local_plans = [(p.key, p.name) for p in list_plans(self.db) if p.kind != "pcc"]
        waiting = lines_for_next_year(self.db, grant.reference)
        dialog = NextYearDialog(self.workspace, self, grant, local_plans, waiting)
        dialog.open()
        return dialog

    def evidence_pack(self) -> None:
        path = self._ask_path("Save the evidence pack", ".zip", "Zip files")
        if path is None:
            return
        reference, period, who = self.workspace.grant, self.period(), prepared_by()

        def work(_progress: Progress) -> Any:
            return write_evidence_pack(self.db, reference, period, path, prepared_by=who)

        def done(result: Any) -> None:
            self.show_status(
                f"Evidence pack ({result['attachments']} files) written to {path}", 10000
            )

        run_in_background(self, "Writing the evidence pack…", work, done, cancellable=False)

    def board_report(self) -> None:
        if not self.current_period_text():
            return
        name = f"board-report-{self.workspace.grant}-{self.current_period_text()}.pdf"
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the board report", name.replace("/", "-"), "PDF documents (*.pdf)"
        )
        if path:
            self.board_report_to(Path(path))

    def board_report_to(self, path: Path) -> None:
        """The figures are read off the GUI thread; the pages are drawn on it (Qt's painting)."""
        reference, period = self.workspace.grant, self.period()

        def work(_progress: Progress) -> Any:
            return build_board_report(self.db, reference, period)

        def done(report: Any) -> None:
            try:
                pages = write_board_report(report, path)
            except OSError as exc:
                problem = f"the board report cannot be written to {path}: {exc.strerror or exc}"
                show_error(self, FundtrackerError(problem))
                return
            self.show_status(f"Board report ({pages} pages) written to {path}", 10000)

        run_in_background(self, "Gathering the board report…", work, done, cancellable=False)
