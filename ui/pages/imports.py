"""Imports: a wizard that takes a ledger export in — choose the file, see the header row and
column mapping with a live preview of parsed rows, check duplicates, unassigned lines and errors
before anything is written, then import with progress and cancel — and the past batches with
Undo batch. Reading, mapping and importing are fundtracker.ledger's; this page only asks."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from functools import partial
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from fundtracker.errors import FundtrackerError
from fundtracker.ledger import (
    FileLayout,
    ImportOptions,
    ImportResult,
    PreviewRow,
    inspect_file,
    list_batches,
    list_sheets,
    plan_import,
    preview_rows,
)
from fundtracker.ledger.exclusions import MONEY_KINDS, parse_exclusions_text
from fundtracker.ledger.mapping import FIELDS
from fundtracker.ledger.profiles import list_profiles
from fundtracker.models import ImportBatch
from fundtracker.money import format_money, from_pence
from fundtracker.operations import Changes, plural, run_operation
from fundtracker.operations.imports import ImportLedger, UndoBatch
from ui import dialogs, resources
from ui.accessibility import focus_first, signal_colour
from ui.errors import error_text
from ui.models.table import Column, RowsModel
from ui.naming import named
from ui.operations import Progress, run_in_background
from ui.pages.base import Page
from ui.rules import RulesDialog
from ui.workspace import IMPORTS, SPEND, Workspace

PREVIEW_ROWS = 30
NOT_MAPPED = "(not in this file)"
FIELD_LABELS = {
    "date": "Date",
    "reference": "Reference (invoice no.)",
    "supplier": "Supplier",
    "description": "Description",
    "net": "Net amount",
    "vat": "VAT",
    "gross": "Gross amount",
    "debit": "Debit",
    "credit": "Credit",
    "cost_centre": "Cost centre",
    "account_code": "Account code",
    "allocation": "Project code",
    "status": "Status",
}


def _cell(row: PreviewRow, name: str) -> str:
    if row.kind == "total":
        return "Totals row (skipped)" if name == "description" else ""
    if row.values is None:
        return ""
    value = getattr(row.values, name)
    if name == "date":
        return f"{value:%d/%m/%Y}"
    if name in ("net", "vat"):
        return format_money(value)
    return str(value)


PREVIEW_COLUMNS: list[Column[PreviewRow]] = [
    Column("Row", lambda r: str(r.row), numeric=True),
    *(
        Column(title, partial(_cell, name=name), numeric=name in ("net", "vat"))
        for title, name in [
            ("Date", "date"),
            ("Supplier", "supplier"),
            ("Description", "description"),
            ("Reference", "reference"),
            ("Cost centre", "cost_centre"),
            ("Net", "net"),
            ("VAT", "vat"),
            ("Project", "allocation"),
        ]
    ),
    Column(
        "Problems",
        lambda r: "; ".join(f"{e.column}: {e.message}" for e in r.errors),
        tooltip=lambda r: "\n".join(str(e) for e in r.errors),
    ),
]
BATCH_COLUMNS: list[Column[ImportBatch]] = [
    Column("Batch", lambda b: str(b.id), numeric=True),
    Column("File", lambda b: b.file_name),
    Column("Imported", lambda b: f"{b.imported_at.astimezone():%d/%m/%Y %H:%M} by {b.imported_by}"),
    Column("Lines", lambda b: str(b.imported), numeric=True),
    Column("Duplicates", lambda b: str(b.duplicates), numeric=True),
    Column("Unassigned", lambda b: str(b.unassigned), numeric=True),
    Column("Undone", lambda b: f"{b.undone_at.astimezone():%d/%m/%Y %H:%M}" if b.undone_at else ""),
]


class PreviewModel(RowsModel[PreviewRow]):
    """Parsed rows as they will be stored; a row the core cannot read is highlighted."""

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role == Qt.ItemDataRole.BackgroundRole
            and index.isValid()
            and index.row() < len(self.rows)
            and self.rows[index.row()].errors
        ):
            return QBrush(QColor(signal_colour("error-background")))
        return super().data(index, role)


class ImportsPage(Page):
    name = "imports"
    title = "Imports"
    kinds = frozenset({IMPORTS, SPEND})

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.path: Path | None = None
        self.layout_found: FileLayout | None = None
        self.plan: ImportResult | None = None
        self.last_result: ImportResult | None = None
        layout = QVBoxLayout(self)
        self.step_label = named(QLabel(), "importStep")
        # The rules decide which project each imported line goes to: see and change them here.
        self.rules_button = QPushButton("Rules…")
        self.rules_button.setAccessibleName("Rules…")
        self.rules_button.setToolTip("Assignment rules: which project an imported line goes to")
        self.rules_button.clicked.connect(self.open_rules)
        layout.addLayout(self.heading("Import a ledger file", self.step_label, self.rules_button))
        self.steps = named(QStackedWidget(), "importSteps")
        self.steps.addWidget(self._choose_step())
        self.steps.addWidget(self._mapping_step())
        self.steps.addWidget(self._check_step())
        self.steps.addWidget(self._done_step())
        splitter = named(QSplitter(Qt.Orientation.Vertical), "importsSplitter")
        splitter.addWidget(self.steps)
        self.batches_box = self._batches_box()
        splitter.addWidget(self.batches_box)
        splitter.setSizes([520, 180])
        layout.addWidget(splitter, 1)
        self.go_to(0)

    # --- steps -------------------------------------------------------------------------------

    def _choose_step(self) -> QWidget:
        step = QWidget()
        form = QFormLayout(step)
        self.file_edit = named(QLineEdit(), "importFile")
        self.file_edit.setAccessibleName("Ledger file")
        self.file_edit.setPlaceholderText("A CSV or Excel export of the grant's cost centres")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        row = QHBoxLayout()
        row.addWidget(self.file_edit, 1)
        row.addWidget(browse)
        form.addRow("File", row)
        self.profile_box = named(QComboBox(), "importProfile")
        self.profile_box.setAccessibleName("Saved mapping profile")
        form.addRow("Saved mapping", self.profile_box)
        self.date_format = named(QLineEdit(), "importDateFormat")
        self.date_format.setPlaceholderText("day first (UK) unless set, e.g. mm/dd/yyyy")
        form.addRow("Date format", self.date_format)
        hint = QLabel(
            "Title rows above the header, a totals row at the bottom, UK dates and amounts "
            "such as £1,234.50 or (120.00) are all understood. You can also drop a file on "
            "the window."
        )
        hint.setWordWrap(True)
        form.addRow("", hint)
        self.choose_error = named(QLabel(), "chooseError")
        self.choose_error.setProperty("class", "fieldError")
        self.choose_error.setWordWrap(True)
        form.addRow("", self.choose_error)
        next_button = named(QPushButton("Next: columns ›"), "toMapping")
        next_button.clicked.connect(self.to_mapping)
        self.file_edit.returnPressed.connect(self.to_mapping)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(next_button)
        form.addRow("", buttons)
        return step

    def _mapping_step(self) -> QWidget:
        step = QWidget()
        layout = QVBoxLayout(step)
        layout.setContentsMargins(0, 0, 0, 0)
        self.layout_label = named(QLabel(), "layoutLabel")
        self.layout_label.setWordWrap(True)
        layout.addWidget(self.layout_label)
        top = QHBoxLayout()
        columns = QGroupBox("Columns (each field and the file's column that holds it)")
        grid = QGridLayout(columns)
        self.sheet_box = named(QComboBox(), "importSheet")
        self.sheet_box.setAccessibleName("Worksheet")
        self.sheet_box.currentIndexChanged.connect(lambda _i: self._sheet_changed())
        grid.addWidget(QLabel("Sheet"), 0, 0)
        grid.addWidget(self.sheet_box, 0, 1)
        self.field_boxes: dict[str, QComboBox] = {}
        for number, name in enumerate(FIELDS, start=1):
            box = named(QComboBox(), f"map-{name}")
            box.setAccessibleName(f"Column for {FIELD_LABELS[name]}")
            box.currentIndexChanged.connect(lambda _i: self.refresh_preview())
            self.field_boxes[name] = box
            row, column = (number - 1) % 7 + 1, ((number - 1) // 7) * 2
            grid.addWidget(QLabel(FIELD_LABELS[name]), row, column)
            grid.addWidget(box, row, column + 1)
        top.addWidget(columns, 1)
        layout.addLayout(top)
        self.preview = PreviewModel(PREVIEW_COLUMNS, self)
        self.preview_table = named(QTableView(), "previewTable")
        self.preview_table.setAccessibleName("Preview of parsed rows")
        self.preview_table.setModel(self.preview)
        self.preview_table.verticalHeader().setVisible(False)
        self.preview_table.horizontalHeader().setStretchLastSection(True)
        self.preview_table.setWordWrap(False)
        for column, width in enumerate((40, 80, 160, 170, 90, 80, 85, 75, 60)):
            self.preview_table.setColumnWidth(column, width)
        self.preview_label = named(QLabel(), "previewLabel")
        layout.addWidget(self.preview_label)
        layout.addWidget(self.preview_table, 1)
        buttons = QHBoxLayout()
        back = QPushButton("‹ Back")
        back.clicked.connect(lambda: self.go_to(0))
        self.save_profile = named(QLineEdit(), "saveProfile")
        self.save_profile.setPlaceholderText("name, to reuse this mapping next time")
        self.save_profile.setAccessibleName("Save the mapping as")
        check = named(QPushButton("Next: check ›"), "toCheck")
        check.clicked.connect(self.to_check)
        buttons.addWidget(back)
        buttons.addStretch(1)
        buttons.addWidget(QLabel("Save mapping as"))
        buttons.addWidget(self.save_profile)
        buttons.addWidget(check)
        layout.addLayout(buttons)
        return step

    def _check_step(self) -> QWidget:
        step = QWidget()
        layout = QVBoxLayout(step)
        self.plan_label = named(QLabel(), "planLabel")
        self.plan_label.setWordWrap(True)
        layout.addWidget(self.plan_label)
        self.plan_details = named(QPlainTextEdit(readOnly=True), "planDetails")
        self.plan_details.setAccessibleName("Duplicates, skipped rows and errors")
        layout.addWidget(self.plan_details, 1)
        # Other funds' lines: excluded as not this grant, and remembered for it.
        exclude_row = QHBoxLayout()
        exclude_row.addWidget(QLabel("Not this grant — exclude:"))
        self.exclude_edit = named(QLineEdit(), "excludeLines")
        self.exclude_edit.setAccessibleName("Lines to exclude as not this grant")
        self.exclude_edit.setPlaceholderText(
            "e.g. cost_centre=SS900, account_code=9000, supplier=Kent PCC, row 14"
        )
        self.exclude_edit.editingFinished.connect(self.to_check)
        exclude_row.addWidget(self.exclude_edit, 1)
        layout.addLayout(exclude_row)
        self.exclude_error = named(QLabel(), "excludeError")
        self.exclude_error.setProperty("class", "fieldError")
        layout.addWidget(self.exclude_error)
        self.skip_errors = QCheckBox("Import the good rows and leave out the bad ones")
        self.skip_errors.toggled.connect(lambda _on: self.to_check())
        layout.addWidget(self.skip_errors)
        buttons = QHBoxLayout()
        back = QPushButton("‹ Back")
        back.clicked.connect(lambda: self.go_to(1))
        self.import_button = named(QPushButton("Import"), "commitImport")
        self.import_button.clicked.connect(self.commit)
        buttons.addWidget(back)
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        layout.addLayout(buttons)
        return step

    def _done_step(self) -> QWidget:
        step = QWidget()
        layout = QVBoxLayout(step)
        self.done_label = named(QLabel(), "doneLabel")
        self.done_label.setWordWrap(True)
        layout.addWidget(self.done_label)
        again = QPushButton("Import another file")
        again.clicked.connect(lambda: self.go_to(0))
        layout.addWidget(again, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        return step

    def _batches_box(self) -> QWidget:
        box = QGroupBox("Past imports")
        layout = QVBoxLayout(box)
        self.batches = RowsModel(BATCH_COLUMNS, self)
        self.batch_table = named(QTableView(), "batchesTable")
        self.batch_table.setAccessibleName("Past imports")
        self.batch_table.setModel(self.batches)
        self.batch_table.verticalHeader().setVisible(False)
        self.batch_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.batch_table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((50, 260, 230, 60, 80, 85)):
            self.batch_table.setColumnWidth(column, width)
        layout.addWidget(self.batch_table)
        self.undo_batch_button = named(QPushButton("Undo batch…"), "undoBatch")
        self.undo_batch_button.clicked.connect(self.undo_selected_batch)
        self.undo_batch_button.setEnabled(not self.workspace.read_only)
        layout.addWidget(self.undo_batch_button, 0, Qt.AlignmentFlag.AlignRight)
        return box

    # --- navigation --------------------------------------------------------------------------

    STEP_NAMES = ("1 Choose file", "2 Columns and preview", "3 Check", "4 Done")

    def go_to(self, step: int) -> None:
        focus = QApplication.focusWidget()
        self.steps.setCurrentIndex(step)
        shown = self.steps.currentWidget()
        keyboard_was_here = focus is None or self.steps.isAncestorOf(focus)
        if shown is not None and self.isVisible() and keyboard_was_here:
            focus_first(shown)  # the keyboard follows to the new step
        self.batches_box.setVisible(step in (0, 3))  # the middle steps need the room
        self.step_label.setText(
            "   ".join(
                f"<b>{name}</b>" if n == step else name for n, name in enumerate(self.STEP_NAMES)
            )
        )

    def open_rules(self) -> RulesDialog:
        dialog = RulesDialog(self.workspace, self)
        dialog.finished.connect(self._rules_closed)
        dialog.open()
        return dialog

    def _rules_closed(self, _result: int) -> None:
        """The check shows where each line would go: check again with the rules as they are."""
        if self.steps.currentIndex() == 2:
            self.to_check()

    def reload(self) -> None:
        current = self.profile_box.currentData()
        self.profile_box.clear()
        self.profile_box.addItem("(recognise the column names)", None)
        for profile in list_profiles(self.db):
            self.profile_box.addItem(profile.name, profile.name)
        self.profile_box.setCurrentIndex(max(self.profile_box.findData(current), 0))
        self.batches.set_rows(
            list(reversed(list_batches(self.db, self.workspace.grant)))
            if self.workspace.grant
            else []
        )

    def start(self, path: Path | None = None) -> None:
        """Begin the wizard (File ▸ Import ledger, or a file dropped on the window)."""
        self.go_to(0)
        self.exclude_edit.clear()  # row numbers belong to one file
        if path is None:
            self.browse()
        else:
            self.file_edit.setText(str(path))
            self.to_mapping()

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a ledger file", "", "Ledger exports (*.csv *.xlsx *.txt);;All files (*)"
        )
        if path:
            self.file_edit.setText(path)

    # --- reading -----------------------------------------------------------------------------

    def options(self) -> ImportOptions:
        mapping = {}
        if self.layout_found is not None:
            for name, box in self.field_boxes.items():
                mapping[name] = box.currentData() or ""
        sheet = self.sheet_box.currentData() if self.sheet_box.count() else None
        exclude, exclude_rows = parse_exclusions_text(self.exclude_edit.text())
        return ImportOptions(
            mapping=mapping,
            profile=self.profile_box.currentData(),
            save_profile=self.save_profile.text().strip() or None,
            date_format=self.date_format.text().strip() or None,
            sheet=sheet,
            skip_errors=self.skip_errors.isChecked(),
            exclude=exclude,
            exclude_rows=exclude_rows,
        )

    def to_mapping(self) -> bool:
        self.choose_error.clear()
        text = self.file_edit.text().strip()
        if not text:
            self.choose_error.setText("Choose a file first.")
            return False
        self.path = Path(text)
        self.layout_found = None
        try:
            sheets = list_sheets(self.path) if self.path.suffix.lower() == ".xlsx" else []
            layout = inspect_file(self.path, self.options(), self.db)
        except FundtrackerError as error:
            self.choose_error.setText(error_text(error))
            return False
        self._fill_sheets(sheets, layout.sheet)
        self._show_layout(layout)
        self.go_to(1)
        return True

    def _fill_sheets(self, sheets: list[str], current: str | None) -> None:
        self.sheet_box.blockSignals(True)
        self.sheet_box.clear()
        for sheet in sheets:
            self.sheet_box.addItem(sheet, sheet)
        self.sheet_box.setCurrentIndex(max(self.sheet_box.findData(current), 0))
        self.sheet_box.setEnabled(bool(sheets))
        self.sheet_box.blockSignals(False)

    def _sheet_changed(self) -> None:
        if self.path is None:
            return
        self.layout_found = None  # a new sheet has its own header and columns
        try:
            layout = inspect_file(self.path, self.options(), self.db)
        except FundtrackerError as error:
            self.preview_label.setText(error_text(error))
            return
        self._show_layout(layout)

    def _show_layout(self, layout: FileLayout) -> None:
        self.layout_found = layout
        where = f"sheet {layout.sheet}, " if layout.sheet else ""
        encoding = f", {layout.encoding}" if layout.encoding else ""
        self.layout_label.setText(
            f"<b>{layout.file_name}</b> ({layout.kind}{encoding}): header found on "
            f"{where}row {layout.header_row}. Check each field's column; the preview below "
            "shows the rows exactly as they will be stored."
        )
        headers = [h for h in layout.headers if h.strip()]
        mapped = layout.mapping.names()
        for name, box in self.field_boxes.items():
            box.blockSignals(True)
            box.clear()
            box.addItem(NOT_MAPPED, "")
            for header in headers:
                box.addItem(header, header)
            box.setCurrentIndex(max(box.findData(mapped.get(name, "")), 0))
            box.blockSignals(False)
        self.refresh_preview()

    def refresh_preview(self) -> None:
        if self.path is None or self.layout_found is None:
            return
        try:
            rows = preview_rows(self.path, self.options(), PREVIEW_ROWS, self.db)
        except FundtrackerError as error:
            self.preview.set_rows([])
            self.preview_label.setText(error_text(error))
            return
        bad = sum(1 for r in rows if r.errors)
        self.preview.set_rows(rows)
        self.preview_label.setText(
            f"First {len(rows)} rows: {bad} with a problem (highlighted)."
            if bad
            else f"First {len(rows)} rows read without a problem."
        )

    # --- checking and importing --------------------------------------------------------------

    def to_check(self) -> None:
        if self.path is None:
            return
        if not self.workspace.grant:
            self.preview_label.setText("Import a grant file first: spend is imported into a grant.")
            return
        try:
            options = self.options()
        except FundtrackerError as error:  # a badly written exclusion, named
            self.exclude_error.setText(str(error))
            return
        self.exclude_error.clear()
        path, grant = self.path, self.workspace.grant
        options = replace(options, save_profile=None)  # a dry run saves nothing

        def work(progress: Progress) -> Any:
            return plan_import(
                self.db,
                grant,
                path,
                options,
                lambda p: progress.report(p.done, p.total),
                lambda: progress.cancelled,
            )

        run_in_background(self, "Checking the file…", work, self._show_plan)

    def _show_plan(self, plan: ImportResult) -> None:
        self.plan = plan
        self.go_to(2)
        lines = [
            f"{plan.rows_read} rows read below the header (row {plan.header_row}).",
            f"{plan.importable} new lines would be imported"
            + (
                f", {plan.unassigned} of them without a project (assign them later)."
                if plan.unassigned
                else "."
            ),
            f"{plan.duplicates} duplicates (already in the grant, or repeated in the file) "
            "would be left out."
            if plan.duplicates
            else "No duplicates.",
        ]
        if plan.excluded:
            lines.append(f"{plan.excluded} lines excluded as not this grant (remembered).")
        if plan.skipped:
            lines.append(f"{plural(plan.skipped, 'row')} skipped (totals and the like).")
        lines.append(_money_table(plan))
        lines += [f"<b>{escape(warning)}</b>" for warning in plan.warnings]
        if plan.earlier_batches:
            earlier = ", ".join(map(str, plan.earlier_batches))
            lines.append(f"This same file was imported before (batch {earlier}).")
        if plan.bad_rows:
            lines.append(
                f"<b>{plan.bad_rows} rows cannot be read</b>: "
                + (
                    "they will be left out."
                    if self.skip_errors.isChecked()
                    else "nothing will be imported until they are fixed, or tick the box below."
                )
            )
        self.plan_label.setText("<br>".join(lines))
        details = [f"Row {e.row}, {e.column}: {e.message}" for e in plan.errors]
        details += [f"Row {d.row}: duplicate — {d.message}" for d in plan.duplicate_rows]
        details += [f"Row {s.row}: skipped — {s.message}" for s in plan.skipped_rows]
        details += [f"Row {x.row}: excluded — {x.message}" for x in plan.excluded_rows]
        details += [f"Row {i.row}: income sign — {i.message}" for i in plan.income_rows]
        self.plan_details.setPlainText("\n".join(details) or "Nothing to report.")
        refused = plan.bad_rows and not self.skip_errors.isChecked()
        self.import_button.setEnabled(
            not self.workspace.read_only and plan.importable > 0 and not refused
        )
        self.import_button.setText(f"Import {plan.importable} lines")

    def commit(self) -> None:
        if self.path is None or not self.workspace.grant:
            return
        try:
            options = self.options()
        except FundtrackerError as error:
            self.exclude_error.setText(str(error))
            return
        path, grant = self.path, self.workspace.grant

        def work(progress: Progress) -> Any:
            operation = ImportLedger(
                grant,
                path,
                options,
                lambda p: progress.report(p.done, p.total),
                lambda: progress.cancelled,
            )
            return run_operation(self.db, operation)

        run_in_background(self, f"Importing {path.name}…", work, self._imported)

    def _imported(self, changes: Changes) -> None:
        result: ImportResult = changes.result
        self.workspace.record(changes, self)
        self.last_result = result
        self.done_label.setText(
            f"<b>Imported {result.imported} lines</b> from {result.file_name} as batch "
            f"{result.batch}: {result.duplicates} duplicates left out, {result.unassigned} "
            f"without a project, {result.bad_rows} bad rows left out. "
            "Undo the whole batch below if it was the wrong file."
        )
        self.go_to(3)
        self.show_status(  # announced, not only shown on the last step
            f"Imported {result.imported} lines from {result.file_name} "
            f"({result.unassigned} without a project)",
            10000,
        )

    def undo_selected_batch(self) -> None:
        rows = {i.row() for i in self.batch_table.selectionModel().selectedRows()}
        if len(rows) != 1:
            return
        batch = self.batches.rows[rows.pop()]
        question = (
            f"Remove the {batch.imported} lines imported from {batch.file_name} "
            f"(batch {batch.id})? The batch stays in this list, marked undone."
        )
        if dialogs.confirm(self, "Undo import batch", question, "Undo batch"):
            self.undo_batch_id(batch.id)

    def undo_batch_id(self, batch_id: int) -> bool:
        return self.workspace.run(UndoBatch(batch_id), self) is not None

    # --- screenshots -------------------------------------------------------------------------

    def show_mapping_example(self) -> bool:
        """The mapping step with the bundled example ledger (for --screenshot)."""
        folder = Path(tempfile.mkdtemp(prefix="fundtracker-example-"))
        example = folder / "ledger-example.csv"
        example.write_bytes(resources.read_bytes("examples/ledger-example.csv"))
        self.file_edit.setText(str(example))
        shown = self.to_mapping()
        shutil.rmtree(folder, ignore_errors=True)
        return shown


def _money_table(plan: ImportResult) -> str:
    """Rows, net, VAT and gross of what is imported, excluded, duplicate and skipped, to tie
    to the file's own totals row."""
    head = "".join(f"<th>{h}</th>" for h in ("", "Rows", "Net", "VAT", "Gross"))
    body = []
    for kind in MONEY_KINDS:
        money = plan.money[kind]
        label = "will import" if kind == "imported" else kind
        cells = [str(money.rows), *(_pounds(p) for p in (money.net, money.vat, money.gross))]
        body.append(
            f"<tr><td>{label}</td>" + "".join(f"<td align=right>{c}</td>" for c in cells) + "</tr>"
        )
    return f"<table cellspacing=6><tr>{head}</tr>{''.join(body)}</table>"


def _pounds(pence: int) -> str:
    return format_money(from_pence(pence))
