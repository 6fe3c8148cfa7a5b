"""Start the desktop app: ``fundtracker [--database DB] [--demo] [--screenshot DIR]``."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QApplication,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTableView,
)

from fundtracker.errors import FundtrackerError
from fundtracker.money import format_money
from fundtracker.services.grants import list_grants
from fundtracker.services.spend import list_spend
from fundtracker.storage import Database, open_database

COLUMNS = ("Date", "Project", "Supplier", "Description", "Reference", "Net", "VAT", "Status")
Index = QModelIndex | QPersistentModelIndex


class SpendTableModel(QAbstractTableModel):
    def __init__(self, db: Database) -> None:
        super().__init__()
        self._db = db
        self._rows: list[tuple[str, ...]] = []

    def show_grant(self, reference: str) -> None:
        self.beginResetModel()
        self._rows = [
            (
                f"{line.date:%d/%m/%Y}",
                line.allocation.code if line.allocation else "—",
                line.supplier,
                line.description,
                line.reference,
                format_money(line.net),
                format_money(line.vat),
                line.status,
            )
            for line in list_spend(self._db, reference)
        ]
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (5, 6):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None


class MainWindow(QMainWindow):
    def __init__(self, db: Database) -> None:
        super().__init__()
        self.setWindowTitle(f"Fundtracker — {db.display_name}")
        self.grants = QListWidget()
        self.spend_model = SpendTableModel(db)
        table = QTableView()
        table.setModel(self.spend_model)
        splitter = QSplitter()
        splitter.addWidget(self.grants)
        splitter.addWidget(table)
        splitter.setStretchFactor(1, 4)
        self.setCentralWidget(splitter)
        for grant in list_grants(db):
            self.grants.addItem(grant.reference)
        self.grants.currentTextChanged.connect(self.spend_model.show_grant)
        if self.grants.count():
            self.grants.setCurrentRow(0)
        self.statusBar().showMessage(f"Database: {db.display_name}")
        self.resize(1280, 800)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fundtracker")
    parser.add_argument("--database", metavar="DB")
    parser.add_argument("--demo", action="store_true", help="open a fresh demo database")
    parser.add_argument("--screenshot", metavar="DIR", type=Path)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    target = args.database
    if args.demo and not target:
        target = str(Path(tempfile.mkdtemp(prefix="fundtracker-demo-")) / "demo.sqlite3")
    try:
        db = open_database(target)
        if args.demo:
            from fundtracker.demo import load_demo

            load_demo(db)
    except FundtrackerError as exc:
        QMessageBox.critical(None, "Fundtracker", str(exc))
        return 1
    window = MainWindow(db)
    window.show()
    if args.screenshot:
        args.screenshot.mkdir(parents=True, exist_ok=True)
        app.processEvents()
        window.grab().save(str(args.screenshot / "main.png"))
        return 0
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
