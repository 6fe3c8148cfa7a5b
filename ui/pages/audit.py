"""Audit log: who changed what, from what to what, when and why — filterable."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QTableView, QVBoxLayout

from fundtracker.models import AuditEvent
from fundtracker.services.audit_log import describe_changes, list_events
from ui.models.table import Column, RowsModel
from ui.naming import named
from ui.pages.base import Page
from ui.workspace import Workspace

SHOWN = 2000  # the newest events; the filter narrows what these are
COLUMNS: list[Column[AuditEvent]] = [
    Column("When", lambda e: f"{e.at.astimezone():%d/%m/%Y %H:%M}"),
    Column("Who", lambda e: e.os_user + (f" ({e.db_user})" if e.db_user else "")),
    Column("Action", lambda e: e.action),
    Column("What", lambda e: what(e.entity, e.label)),
    Column("Change (old → new)", describe_changes, tooltip=describe_changes),
    Column("Why", lambda e: e.reason),
]


def what(entity: str, label: str) -> str:
    """``spend line 145`` rather than ``spend line line 145``."""
    words, named = entity.split(), label.split()
    if words and named and named[0] == words[-1]:
        return " ".join(words[:-1] + named)
    return f"{entity} {label}".strip()


class AuditPage(Page):
    name = "audit"
    title = "Audit log"

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        layout = QVBoxLayout(self)
        self.count = QLabel()
        layout.addLayout(self.heading("Audit log", self.count))
        self.search = QLineEdit(placeholderText="Filter by what, change, reason or user…")
        self.search.setAccessibleName("Filter the audit log")
        self.search.setClearButtonEnabled(True)
        self.all_grants = QCheckBox("Every grant")
        self._timer = QTimer(self, singleShot=True, interval=250)
        self._timer.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.all_grants.toggled.connect(lambda _on: self.reload())
        row = self.heading("", self.all_grants)
        row.insertWidget(0, self.search, 1)
        layout.addLayout(row)
        self.model = RowsModel(COLUMNS, self)
        self.table = named(QTableView(), "auditTable")
        self.table.setAccessibleName("Audit events")
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setWordWrap(False)
        for column, width in enumerate((120, 110, 60, 170, 520)):
            self.table.setColumnWidth(column, width)
        layout.addWidget(self.table, 1)

    def reload(self) -> None:
        grant = None if self.all_grants.isChecked() else (self.workspace.grant or None)
        events = list_events(self.db, grant, limit=SHOWN, text=self.search.text().strip())
        self.model.set_rows(events)
        more = " (newest shown)" if len(events) == SHOWN else ""
        self.count.setText(f"{len(events):,} events{more}")
