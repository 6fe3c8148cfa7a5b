"""Received returns (the OPCC's side, issue 16): receive partnerships' workbooks — chosen, or
dropped on the page — or, on a shared database, the returns submitted in it; see what became
of each, and every return received so far."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QLabel, QPushButton, QSplitter, QTableView, QVBoxLayout

from fundtracker.opcc.operations import ReceiveReturns, ReceiveSubmitted
from fundtracker.operations import Changes, run_operation
from fundtracker.presenters.opcc import (
    OutcomeRow,
    ReceivedRow,
    outcome_rows,
    outcome_summary,
    received_rows,
    submissions_here,
)
from ui.models.table import Column, RowsModel
from ui.naming import labelled, named
from ui.operations import Progress, run_in_background
from ui.pages.base import Page, notice
from ui.workspace import RETURNS, Workspace

WORKBOOKS = ".xlsx"
OUTCOME_COLUMNS: list[Column[OutcomeRow]] = [
    Column("File", lambda r: r.file),
    Column("Outcome", lambda r: r.status),
    Column("Return", lambda r: r.what),
    Column("Why", lambda r: r.reason, tooltip=lambda r: r.reason),
]
RECEIVED_COLUMNS: list[Column[ReceivedRow]] = [
    Column("Partnership", lambda r: r.recipient),
    Column("Grant reference", lambda r: r.grant_reference),
    Column("Period", lambda r: r.period),
    Column("Version", lambda r: str(r.version), numeric=True),
    Column("Status", lambda r: r.status),
    Column("Prepared by", lambda r: r.prepared_by),
    Column("Received on", lambda r: r.received_on),
    Column("File", lambda r: r.file),
    Column("File SHA-256", lambda r: r.sha_short, tooltip=lambda r: r.file_sha256),
]


def rows_table(name: str, accessible: str, model: RowsModel[Any]) -> QTableView:
    table = labelled(named(QTableView(), name), accessible)
    table.setModel(model)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    table.setWordWrap(False)
    table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    return table


class ReceivedPage(Page):
    name = "received"
    title = "Received returns"
    kinds = frozenset({RETURNS})

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.setAcceptDrops(True)
        self.receiving = False
        self.batch_step = -1  # where the undo stack stood after the batch shown was received
        layout = QVBoxLayout(self)
        self.receive_button = labelled(QPushButton("Receive returns…"), "Receive returns")
        self.receive_button.setToolTip(
            "Choose partnerships' return workbooks: each is verified against its checksum "
            "and stored (or drop the files on this page)"
        )
        self.receive_button.clicked.connect(self.choose_files)
        self.receive_button.setEnabled(not workspace.read_only)
        self.template_button = labelled(
            QPushButton("Receive funder's templates…"), "Receive funder's templates"
        )
        self.template_button.setToolTip(
            "Choose the funder's template and its map the partnerships exported with, then "
            "the filled templates: each is verified against its snapshot and stored"
        )
        self.template_button.clicked.connect(self.choose_templates)
        self.template_button.setEnabled(not workspace.read_only)
        # Shown only where partnerships submit in this database (a shared server).
        self.database_button = labelled(
            QPushButton("Receive from this database"),
            "Receive submitted returns from this database",
        )
        self.database_button.setToolTip(
            "Receive every return the partnerships have submitted in this shared database, "
            "checked against its checksum as its workbook would be (those received before "
            "are left as they are)"
        )
        self.database_button.clicked.connect(self.receive_from_database)
        self.database_button.setEnabled(not workspace.read_only)
        self.database_button.setVisible(False)
        layout.addLayout(
            self.heading(
                "Received returns",
                self.database_button,
                self.template_button,
                self.receive_button,
            )
        )
        layout.addWidget(
            notice(
                "Drop partnerships' submitted return workbooks here, or choose Receive "
                "returns… (File menu, Ctrl+Shift+R). Each is checked against its checksum; a "
                "newer version supersedes the one before (both are kept). Ctrl+Z undoes a "
                "whole batch."
            )
        )
        self.summary = labelled(named(QLabel(), "receiveSummary"), "What the last batch did")
        layout.addWidget(self.summary)
        self.outcomes = RowsModel(OUTCOME_COLUMNS, self)
        self.outcome_table = rows_table(
            "receiveOutcomes", "What became of each file", self.outcomes
        )
        self.received = RowsModel(RECEIVED_COLUMNS, self)
        self.received_table = rows_table("receivedTable", "Returns received", self.received)
        splitter = named(QSplitter(Qt.Orientation.Vertical), "receivedSplitter")
        splitter.addWidget(self.outcome_table)
        splitter.addWidget(self.received_table)
        splitter.setSizes([160, 480])
        layout.addWidget(splitter, 1)
        self.outcome_table.setVisible(False)

    def busy(self) -> bool:
        return super().busy() or self.receiving

    def reload(self) -> None:
        if self.workspace.undo_stack.index() != self.batch_step:  # undone, or a later step
            self.outcome_table.setVisible(False)
            self.summary.setText("")
        self.database_button.setVisible(submissions_here(self.db))
        self.received.set_rows(received_rows(self.db))
        self.received_table.resizeColumnsToContents()

    # --- receiving -------------------------------------------------------------------------

    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Receive returns", "", f"Excel workbooks (*{WORKBOOKS});;All files (*)"
        )
        if paths:
            self.receive([Path(p) for p in paths])

    def choose_templates(self) -> None:
        """The funder's template and its map once, then the filled templates to receive
        (received add --template --map)."""
        template, _ = QFileDialog.getOpenFileName(
            self, "The funder's template", "", "Excel templates (*.xlsx *.xlsm)"
        )
        if not template:
            return
        the_map, _ = QFileDialog.getOpenFileName(
            self, "Its map", str(Path(template).parent), "Template maps (*.toml)"
        )
        if not the_map:
            return
        paths, _ = QFileDialog.getOpenFileNames(
            self,
            "Receive filled templates",
            "",
            f"Filled templates (*{Path(template).suffix})",
        )
        if paths:
            self.receive([Path(p) for p in paths], Path(template), Path(the_map))

    def receive(
        self, paths: Sequence[Path], template: Path | None = None, the_map: Path | None = None
    ) -> None:
        """Verify and store the files as one step (one undo), off the GUI thread: our own
        workbooks, or copies of ``template`` filled by ``the_map``."""
        if paths:
            label = f"Receiving {len(paths)} return file{'s' if len(paths) != 1 else ''}…"
            files = tuple(str(p) for p in paths)
            if template is None or the_map is None:
                operation = ReceiveReturns(files)
            else:
                operation = ReceiveReturns(files, template=str(template), map=str(the_map))
            self.run_batch(operation, label, "file")

    def receive_from_database(self) -> None:
        """The returns submitted in this database, as one step (received add --from-database)."""
        label = "Receiving the returns submitted in this database…"
        self.run_batch(ReceiveSubmitted(), label, "return")

    def run_batch(
        self, operation: ReceiveReturns | ReceiveSubmitted, label: str, noun: str
    ) -> None:
        if self.workspace.read_only or self.receiving:
            return
        self.receiving = True

        def work(_progress: Progress) -> Changes:
            return run_operation(self.db, operation)

        def done(changes: Changes) -> None:
            self.receiving = False
            self.workspace.record(changes, self)
            self.batch_step = self.workspace.undo_stack.index()
            self.show_outcomes(changes.result, noun)

        def failed(error: Exception) -> None:
            self.receiving = False
            self.summary.setText(f"Nothing was received: {error}")

        run_in_background(self, label, work, done, failed, cancellable=False)

    def show_outcomes(self, outcomes: Any, noun: str = "file") -> None:
        self.outcomes.set_rows(outcome_rows(outcomes))
        self.outcome_table.setVisible(True)
        self.outcome_table.resizeColumnsToContents()
        self.summary.setText(outcome_summary(outcomes, noun))
        self.show_status(outcome_summary(outcomes, noun), 10000)

    # --- drag and drop ---------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(u.toLocalFile().lower().endswith(WORKBOOKS) for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        self.receive(paths)
