"""Spending: the ledger as a lazily loaded table, with a filter bar, fast entry at the bottom,
edit in place, assign, split, attach evidence and delete."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QPoint, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from fundtracker.errors import FundtrackerError, ValidationError
from fundtracker.models import SPEND_STATUSES
from fundtracker.money import ZERO, format_money
from fundtracker.operations.returns import AttachEvidence
from fundtracker.periods import Period, quarters_between
from fundtracker.presenters.rules import rule_from_line
from fundtracker.presenters.spend import proposed_parts, split_total
from fundtracker.services.grants import load_grant
from fundtracker.services.ledger_view import LedgerFilter, LedgerRow
from ui import dialogs, spend_commands
from ui.delegates import ChoiceDelegate
from ui.errors import error_text, show_error
from ui.models.spend_model import COLUMNS, SpendModel
from ui.naming import labelled, named
from ui.pages.base import Page
from ui.rules import RuleEditor, RulesDialog
from ui.workspace import PROJECTS, RETURNS, SPEND, Workspace
from ui.year_dialogs import carry_forward_selected, invoice_selected, release_selected

ENTRY_FIELDS = (
    "date",
    "allocation",
    "supplier",
    "description",
    "reference",
    "net",
    "vat",
    "status",
)


class SpendingPage(Page):
    name = "spending"
    title = "Spending"
    kinds = frozenset({SPEND, PROJECTS, RETURNS})

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.projects: list[tuple[str, str]] = []  # (code, name)
        self.model = SpendModel(self.db, self)
        self.model.summaryChanged.connect(self._show_summary)
        self.model.read_only = workspace.read_only
        self.model.editor = self._edit_cell
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setObjectName("spendSummary")
        self.rules_button = QPushButton("Rules…")
        self.rules_button.setAccessibleName("Rules…")
        self.rules_button.setToolTip("Assignment rules: list, add, edit, reorder, apply")
        self.rules_button.clicked.connect(self.open_rules)
        layout.addLayout(self.heading("Spending", self.summary, self.rules_button))
        layout.addLayout(self._filter_bar())
        layout.addWidget(self._table(), 1)
        layout.addLayout(self._actions())
        layout.addWidget(self._entry_strip())
        self._filter_timer = QTimer(self, singleShot=True, interval=250)
        self._filter_timer.timeout.connect(self.apply_filter)

    # --- building ----------------------------------------------------------------------------

    def _filter_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.search = QLineEdit(placeholderText="Find supplier, description, reference, notes…")
        self.search.setAccessibleName("Find spend lines")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _t: self._filter_timer.start())
        self.period_filter = labelled(QComboBox(), "Period")
        self.project_filter = labelled(QComboBox(), "Project")
        self.status_filter = labelled(QComboBox(), "Status")
        self.status_filter.addItem("Any status", None)
        for status in SPEND_STATUSES:
            self.status_filter.addItem(status.capitalize(), status)
        self.unassigned_only = QCheckBox("Unassigned only")
        for combo in (self.period_filter, self.project_filter, self.status_filter):
            combo.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.unassigned_only.toggled.connect(lambda _on: self.apply_filter())
        bar.addWidget(self.search, 3)
        for widget in (self.period_filter, self.project_filter, self.status_filter):
            bar.addWidget(widget, 1)
        bar.addWidget(self.unassigned_only)
        return bar

    def _table(self) -> QTableView:
        self.table = QTableView()
        self.table.setObjectName("spendTable")
        self.table.setAccessibleName("Spend lines")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        date_column = [c.field for c in COLUMNS].index("date")
        self.table.horizontalHeader().setSortIndicator(date_column, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # Line, Date, Project, Supplier, Description, Reference, Cost centre, Account code,
        # Net, VAT, VAT irrecoverable, Status, Notes, Evidence
        widths = (50, 82, 60, 170, 220, 90, 80, 95, 90, 75, 115, 75, 140, 60)
        for number, width in enumerate(widths):
            self.table.setColumnWidth(number, width)
        header.setStretchLastSection(True)
        project_column = [c.field for c in COLUMNS].index("allocation")
        status_column = [c.field for c in COLUMNS].index("status")
        self.table.setItemDelegateForColumn(
            project_column, ChoiceDelegate(self._project_choices, self.table)
        )
        self.table.setItemDelegateForColumn(
            status_column,
            ChoiceDelegate(lambda: [(s, s) for s in SPEND_STATUSES], self.table),
        )
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        delete = QShortcut(QKeySequence.StandardKey.Delete, self.table, self.delete_selected)
        delete.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # only in the table
        return self.table

    def _actions(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.assign_button = QPushButton("Assign to project…")
        self.split_button = QPushButton("Split…")
        self.attach_button = QPushButton("Attach evidence…")
        self.delete_button = QPushButton("Delete…")
        self.assign_button.clicked.connect(self.assign_selected)
        self.split_button.clicked.connect(self.split_selected)
        self.attach_button.clicked.connect(self.attach_evidence)
        self.delete_button.clicked.connect(self.delete_selected)
        # A committed line (a purchase order) is released or invoiced: one step each.
        self.release_button = QPushButton("Release commitment…")
        self.invoice_button = QPushButton("Record the invoice…")
        self.carry_button = QPushButton("Carry forward…")
        self.carry_button.setToolTip("Carry this commitment into next year's grant")
        self.release_button.clicked.connect(lambda: release_selected(self, self))
        self.invoice_button.clicked.connect(lambda: invoice_selected(self, self))
        self.carry_button.clicked.connect(lambda: carry_forward_selected(self, self))
        row.addWidget(QLabel("Selected lines:"))
        # Short on the button (the row is full); the context menu says it whole.
        self.rule_button = QPushButton("Make a rule…")
        self.rule_button.setAccessibleName("Make a rule…")
        self.rule_button.setToolTip("Make a rule from this line: its supplier, to a project")
        self.rule_button.clicked.connect(self.make_rule_from_line)
        for button in (self.assign_button, self.split_button, self.attach_button, self.rule_button):
            row.addWidget(button)
        row.addWidget(self.release_button)
        row.addWidget(self.invoice_button)
        row.addWidget(self.carry_button)
        row.addStretch(1)
        row.addWidget(self.delete_button)
        self.attach_button.setEnabled(not self.workspace.read_only)
        for button in (self.release_button, self.invoice_button, self.carry_button):
            button.setEnabled(not self.workspace.read_only)
        if self.workspace.read_only:
            for button in (
                self.assign_button,
                self.split_button,
                self.delete_button,
                self.rule_button,
            ):
                button.setEnabled(False)
            self.attach_button.setEnabled(False)
        return row

    def _entry_strip(self) -> QWidget:
        """A new line typed at the bottom: Tab between cells, Enter adds it."""
        strip = named(QWidget(), "entryStrip")
        grid = QGridLayout(strip)
        grid.setContentsMargins(0, 4, 0, 0)
        self.entry: dict[str, QLineEdit | QComboBox] = {}
        labels = {
            "date": "Date",
            "allocation": "Project",
            "supplier": "Supplier",
            "description": "Description",
            "reference": "Reference",
            "net": "Net",
            "vat": "VAT",
            "status": "Status",
        }
        stretch = {"allocation": 2, "supplier": 2, "description": 3}
        for column, field in enumerate(ENTRY_FIELDS):
            widget: QLineEdit | QComboBox
            if field in ("allocation", "status"):
                widget = QComboBox()
                if field == "status":
                    for status in SPEND_STATUSES:
                        widget.addItem(status, status)
            else:
                widget = QLineEdit()
                widget.returnPressed.connect(self.add_entry)
                if field == "date":
                    widget.setPlaceholderText("dd/mm/yyyy")
                elif field in ("net", "vat"):
                    widget.setPlaceholderText("0.00")
                    widget.setAlignment(Qt.AlignmentFlag.AlignRight)
            widget.setObjectName(f"entry-{field}")
            widget.setAccessibleName(f"New line {labels[field]}")
            self.entry[field] = widget
            grid.addWidget(QLabel(labels[field]), 0, column)
            grid.addWidget(widget, 1, column)
            grid.setColumnStretch(column, stretch.get(field, 1))
        self.add_button = QPushButton("Add line")
        self.add_button.setObjectName("addLine")
        self.add_button.clicked.connect(self.add_entry)
        grid.addWidget(self.add_button, 1, len(ENTRY_FIELDS))
        self.entry_error = named(QLabel(), "entryError")
        self.entry_error.setProperty("class", "fieldError")
        self.entry_error.setWordWrap(True)
        grid.addWidget(self.entry_error, 2, 0, 1, len(ENTRY_FIELDS) + 1)
        for first, second in itertools.pairwise(ENTRY_FIELDS):
            QWidget.setTabOrder(self.entry[first], self.entry[second])
        QWidget.setTabOrder(self.entry[ENTRY_FIELDS[-1]], self.add_button)
        strip.setEnabled(not self.workspace.read_only)
        return strip

    # --- loading -----------------------------------------------------------------------------

    def reload(self) -> None:
        grant = self.workspace.grant
        self.projects = []
        if grant:
            loaded = load_grant(self.db, grant)
            self.projects = [(a.code, a.name) for a in loaded.allocations]
            self._fill_period_filter(loaded.start_date, loaded.end_date)
        self._fill_project_choices()
        if self.model.grant != grant:  # another grant: its own lines, from the top
            self.clear_entry()
            self.model.show(grant, self.current_filter())
        else:  # the same grant changed: keep the rows read so far and the scroll position
            scroll = self.table.verticalScrollBar().value()
            self.model.reload(self.model.rowCount())
            self.table.verticalScrollBar().setValue(scroll)
        self.summary.setText("Counting…")  # the totals follow from a background thread

    def _fill_period_filter(self, start: Any, end: Any) -> None:
        combo = self.period_filter
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem("All periods", None)
        quarters = quarters_between(start, end)
        for year in dict.fromkeys(Period(q.start_year) for q in quarters):
            combo.addItem(str(year), str(year))
        for quarter in quarters:
            combo.addItem(str(quarter), str(quarter))
        combo.setCurrentIndex(max(combo.findData(current), 0))
        combo.blockSignals(False)

    def _fill_project_choices(self) -> None:
        combo = self.project_filter
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem("All projects", None)
        for code, name in self.projects:
            combo.addItem(f"{code} {name}", code)
        combo.setCurrentIndex(max(combo.findData(current), 0))
        combo.blockSignals(False)
        entry = self.entry["allocation"]
        assert isinstance(entry, QComboBox)
        chosen = entry.currentData()
        entry.clear()
        for code, label in self._project_choices():
            entry.addItem(label, code)
        entry.setCurrentIndex(max(entry.findData(chosen), 0))

    def _project_choices(self) -> list[tuple[str, str]]:
        return [("", "(unassigned)"), *((code, f"{code} {name}") for code, name in self.projects)]

    def current_filter(self) -> LedgerFilter:
        period = self.period_filter.currentData()
        return LedgerFilter(
            text=self.search.text().strip(),
            period=Period.parse(period) if period else None,
            allocation=self.project_filter.currentData(),
            status=self.status_filter.currentData(),
            unassigned_only=self.unassigned_only.isChecked(),
        )

    def clear_filters(self) -> None:
        for combo in (self.period_filter, self.project_filter, self.status_filter):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.unassigned_only.blockSignals(True)
        self.unassigned_only.setChecked(False)
        self.unassigned_only.blockSignals(False)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.apply_filter()

    def busy(self) -> bool:
        return super().busy() or self.model.summary_pending

    def apply_filter(self) -> None:
        self.model.show(self.workspace.grant, self.current_filter())
        self.summary.setText("Counting…")  # the totals follow from a background thread

    def _show_summary(self) -> None:
        s = self.model.summary
        self.summary.setText(
            f"{s.lines:,} line{'s' if s.lines != 1 else ''} · net {format_money(s.net)} · "
            f"VAT {format_money(s.vat)}"
        )

    def focus_find(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # --- editing -----------------------------------------------------------------------------

    def _edit_cell(self, row: LedgerRow, field: str, text: str) -> bool:
        return spend_commands.edit_line(self.workspace, row, field, text, self)

    def selected_rows(self) -> list[LedgerRow]:
        selection = self.table.selectionModel()
        numbers = sorted({index.row() for index in selection.selectedRows()})
        return [self.model.line_at(n) for n in numbers]

    def select_line(self, line_id: int, pages: int = 25) -> bool:
        """Select a line by id, fetching up to ``pages`` further pages to reach it (a very
        large ledger is not read to its end to find one line)."""
        for _attempt in range(pages + 1):
            for number, row in enumerate(self.model.rows):
                if row.id == line_id:
                    index = self.model.index(number, 0)
                    self.table.selectionModel().select(
                        index,
                        QItemSelectionModel.SelectionFlag.ClearAndSelect
                        | QItemSelectionModel.SelectionFlag.Rows,
                    )
                    self.table.scrollTo(index)
                    return True
            if not self.model.canFetchMore():
                return False
            self.model.fetchMore()
        return False

    def add_entry(self) -> None:
        values: dict[str, object] = {}
        for field, widget in self.entry.items():
            value = widget.currentData() if isinstance(widget, QComboBox) else widget.text()
            if value not in ("", None) or field == "allocation":
                values[field] = value
        self._clear_entry_errors()
        added = spend_commands.add_line(self.workspace, values, self, self._show_entry_error)
        if added is None:
            return
        self.clear_entry(keep_date=True)
        self.entry["date"].setFocus()
        self.refresh_now()  # show the new line now, not after the event loop comes round
        self.select_line(added)

    def clear_entry(self, keep_date: bool = False) -> None:
        """Empty the typed-in line (after adding it, or when the grant changes, so a line
        half-typed for one grant never goes into another). The project stays (lines come in
        runs of one project); the status goes back to paid, so the invoice typed after a
        purchase order is never recorded as another commitment by accident."""
        for field, widget in self.entry.items():
            if isinstance(widget, QLineEdit) and not (keep_date and field == "date"):
                widget.clear()
        status = self.entry["status"]
        assert isinstance(status, QComboBox)
        status.setCurrentIndex(0)
        self._clear_entry_errors()

    def _clear_entry_errors(self) -> None:
        self.entry_error.clear()
        for widget in self.entry.values():
            widget.setProperty("invalid", False)
            widget.setToolTip("")
            widget.style().polish(widget)

    def _show_entry_error(self, error: FundtrackerError) -> None:
        """Each field problem beside its field; anything else (a lock) in the line below."""
        self.entry_error.setText(error_text(error).replace("\n", "   "))
        if isinstance(error, ValidationError):
            for problem in error.errors:
                widget = self.entry.get(problem.field)
                if widget is not None:
                    widget.setProperty("invalid", True)
                    widget.setToolTip(problem.message)
                    widget.style().polish(widget)
            first = next((self.entry[e.field] for e in error.errors if e.field in self.entry), None)
            if first is not None:
                first.setFocus()

    def assign_selected(self) -> None:
        rows = self.selected_rows()
        if not rows:
            return
        labels = [label for _code, label in self._project_choices()]
        chosen = dialogs.ask_choice(
            self, "Assign to project", f"Assign {len(rows)} selected line(s) to:", labels
        )
        if chosen is None:
            return
        code = dict((label, code) for code, label in self._project_choices())[chosen]
        spend_commands.assign_lines(self.workspace, rows, code or None, self)

    def split_selected(self) -> None:
        rows = self.selected_rows()
        if len(rows) != 1:
            show_error(self, ValidationError("Select one line to split."))
            return
        SplitDialog(self, rows[0]).open()

    def delete_selected(self) -> None:
        rows = self.selected_rows()
        if not rows or self.workspace.read_only:
            return
        total = sum((r.net for r in rows), ZERO)
        question = (
            f"Delete {len(rows)} spend line{'s' if len(rows) != 1 else ''} "
            f"(net {format_money(total)})? You can undo this with Ctrl+Z."
        )
        if dialogs.confirm(self, "Delete spend lines", question, "Delete"):
            spend_commands.delete_lines(self.workspace, rows, self)

    def _context_menu(self, point: QPoint) -> None:
        self.context_menu().popup(self.table.viewport().mapToGlobal(point))

    def context_menu(self) -> QMenu:
        """What a right-click on the selected lines offers: the buttons below the table."""
        menu = QMenu(self.table)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        for button in (self.assign_button, self.split_button, self.attach_button):
            action = menu.addAction(button.text(), button.click)
            action.setEnabled(button.isEnabled())
        rule = menu.addAction("Make a rule from this line…", self.make_rule_from_line)
        rule.setEnabled(self.rule_button.isEnabled())
        menu.addSeparator()
        for button in (self.release_button, self.invoice_button, self.carry_button):
            action = menu.addAction(button.text(), button.click)
            action.setEnabled(button.isEnabled())
        menu.addSeparator()
        menu.addAction(self.delete_button.text(), self.delete_button.click)
        return menu

    def open_rules(self) -> RulesDialog:
        dialog = RulesDialog(self.workspace, self)
        dialog.open()
        return dialog

    def make_rule_from_line(self) -> RuleEditor | None:
        """A new rule that starts from the selected line: its supplier equals …, and its
        project when it has one."""
        rows = self.selected_rows()
        if len(rows) != 1:
            show_error(self, ValidationError("Select one line to make a rule from."))
            return None
        line = rows[0]
        if not self.projects:
            show_error(self, ValidationError("The grant has no projects to assign lines to."))
            return None
        field, op, value = rule_from_line(line.supplier, line.description, line.reference)
        editor = RuleEditor(self.workspace, self, start=(field, op, value, line.allocation))
        editor.open()
        return editor

    def attach_evidence(self) -> None:
        rows = self.selected_rows()
        if len(rows) != 1:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Attach evidence to the selected line")
        if path:
            self.workspace.run(AttachEvidence(rows[0].id, Path(path)), self)


class SplitDialog(QDialog):
    """Split one line across projects; the parts must add up to the line's net."""

    def __init__(self, page: SpendingPage, row: LedgerRow) -> None:
        super().__init__(page)
        self.setObjectName("splitDialog")
        self.setWindowTitle(f"Split line {row.id}")
        self.page = page
        self.row = row
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                f"{row.supplier} — {row.description}<br>Net <b>{format_money(row.net)}</b>, "
                f"VAT {format_money(row.vat)} (the VAT is split in proportion)."
            )
        )
        self.grid = QGridLayout()
        layout.addLayout(self.grid)
        self.parts: list[tuple[QComboBox, QLineEdit]] = []
        self.add_button = QPushButton("Add part")
        self.add_button.setAutoDefault(False)  # Enter in an amount splits, never adds a part
        self.add_button.clicked.connect(lambda: self.add_part())
        layout.addWidget(self.add_button)
        self.total = named(QLabel(), "splitTotal")
        self.error = named(QLabel(), "splitError")
        self.error.setProperty("class", "fieldError")
        self.error.setWordWrap(True)
        layout.addWidget(self.total)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.split)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.buttons = buttons
        for code, amount in proposed_parts(row.net, row.allocation):
            self.add_part(code, amount)
        self.parts[0][0].setFocus()

    def add_part(self, code: str = "", amount: str = "") -> None:
        combo = labelled(QComboBox(), "Part project")
        for value, label in self.page._project_choices():
            combo.addItem(label, value)
        combo.setCurrentIndex(max(combo.findData(code), 0))
        edit = labelled(QLineEdit(amount), "Part amount")
        edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        edit.textChanged.connect(lambda _t: self._show_total())
        number = len(self.parts)
        self.grid.addWidget(QLabel(f"Part {number + 1}"), number, 0)
        self.grid.addWidget(combo, number, 1)
        self.grid.addWidget(edit, number, 2)
        self.parts.append((combo, edit))
        self._order_tabs()
        self._show_total()

    def _order_tabs(self) -> None:
        """Tab goes down the parts (project, amount), then Add part, OK and Cancel: the parts
        are added after the buttons, so Qt's order of creation would put them last."""
        chain: list[QWidget] = [w for part in self.parts for w in part]
        chain += [self.add_button, *self.buttons.buttons()]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _show_total(self) -> None:
        self.total.setText(split_total(self.row.net, [edit.text() for _c, edit in self.parts]))

    def split(self) -> None:
        parts: list[tuple[str | None, Any]] = [
            (combo.currentData() or None, edit.text()) for combo, edit in self.parts
        ]
        done = spend_commands.split_line(
            self.page.workspace, self.row, parts, self, lambda e: self.error.setText(error_text(e))
        )
        if done:
            self.accept()
