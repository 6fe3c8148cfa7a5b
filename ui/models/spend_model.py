"""The ledger as a table model that fetches lines from the database a page at a time, so a
ledger of a million lines opens as fast as one of a hundred. Filtering and sorting run in SQL
(fundtracker.services.ledger_view); edits go through the undo stack as service calls.

The first page is read at once; the count and totals of what the filter matches are worked out
on a background thread and announced with ``summaryChanged``, so neither opening the page nor a
keystroke in the find box waits for a scan of the whole ledger."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
    SignalInstance,
)

from fundtracker.money import ZERO, format_money, money_str
from fundtracker.periods import Period
from fundtracker.services.ledger_view import (
    SORT_COLUMNS,
    LedgerFilter,
    LedgerRow,
    LedgerSummary,
    page_lines,
    summarise_lines,
)
from fundtracker.storage import Database
from ui.models.table import LEFT, RIGHT, negative_brush

Index = QModelIndex | QPersistentModelIndex
PAGE_SIZE = 200


@dataclass(frozen=True)
class SpendColumn:
    header: str
    field: str  # the spend line field it shows and edits (also its sort key)
    numeric: bool = False
    editable: bool = True
    checkable: bool = False  # a tick box, not text


# The line number messages cite ("spend line 142") leads, so the officer can find it.


COLUMNS = (
    SpendColumn("Line", "id", numeric=True, editable=False),
    SpendColumn("Date", "date"),
    SpendColumn("Project", "allocation"),
    SpendColumn("Supplier", "supplier"),
    SpendColumn("Description", "description"),
    SpendColumn("Reference", "reference"),
    SpendColumn("Cost centre", "cost_centre"),
    SpendColumn("Account code", "account_code"),
    SpendColumn("Net", "net", numeric=True),
    SpendColumn("VAT", "vat", numeric=True),
    # Ticked when the council cannot reclaim the VAT, so the grant pays it (net + VAT).
    SpendColumn("VAT irrecoverable", "vat_recoverable", editable=False, checkable=True),
    SpendColumn("Status", "status"),
    SpendColumn("Notes", "notes"),
    SpendColumn("Evidence", "attachments", editable=False),
    # The quarter a line's figures count in: its date's, or a later one for a late line.
    SpendColumn("Counted in", "counted_on", editable=False),
)
UNASSIGNED = "—"


def display_text(row: LedgerRow, field: str) -> str:
    """What a cell shows."""
    if field == "date":
        return f"{row.date:%d/%m/%Y}"
    if field == "allocation":
        return row.allocation or UNASSIGNED
    if field in ("net", "vat"):
        return format_money(getattr(row, field))
    if field == "attachments":
        count = row.attachments
        return f"{count} file{'s' if count != 1 else ''}" if count else ""
    if field == "counted_on":
        return str(Period.quarter_of(row.counted_on or row.date))
    if field == "vat_recoverable":
        return ""  # the tick box says it
    return str(getattr(row, field))


def edit_text(row: LedgerRow, field: str) -> str:
    """What an editor starts with: the form the core parses back (exact, no £ or commas)."""
    if field in ("net", "vat"):
        return money_str(getattr(row, field))
    if field == "allocation":
        return row.allocation or ""
    return display_text(row, field)


# One background thread for every ledger's totals: a newer request makes older ones moot.
_SUMMARY_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-summary")


class _SummaryMailbox(QObject):
    """Lives on the GUI thread; a summary (or the error met working it out) emitted from the
    worker arrives there queued."""

    delivered = Signal(int, object)
    failed = Signal(int, object)


class SpendModel(QAbstractTableModel):
    summaryChanged = Signal()

    def __init__(self, db: Database, parent: Any = None) -> None:
        super().__init__(parent)
        self._db = db
        self._exhausted = True  # every matching line is loaded
        self._summary_request = 0
        self.summary_pending = False  # totals for the current filter are on their way
        self._mailbox = _SummaryMailbox(self)
        self._mailbox.delivered.connect(self._summary_arrived)
        self._mailbox.failed.connect(self._summary_failed)
        self.grant = ""
        self.filter = LedgerFilter()
        self.sort_field = "date"
        self.descending = False
        self.rows: list[LedgerRow] = []
        self.summary = LedgerSummary(0, ZERO, ZERO)
        self.read_only = False
        self._fetching = False
        self._resetting = False
        self.editor: Any = None  # called as editor(row, field, text) -> bool; set by the page

    # --- loading -------------------------------------------------------------------------

    def show(self, grant: str, flt: LedgerFilter | None = None) -> None:
        self.grant = grant
        if flt is not None:
            self.filter = flt
        self.reload()

    def reload(self, keep: int = 0) -> None:
        """Start again from the top (keeping at least ``keep`` rows loaded, to hold the view's
        place after an edit)."""
        self.beginResetModel()
        wanted = max(PAGE_SIZE, keep)
        self.rows = self._page(None, wanted) if self.grant else []
        self._exhausted = len(self.rows) < wanted
        # Listeners of modelReset must not fetch (and insert rows) before every listener has
        # seen the reset; views fetch more on their next layout anyway.
        self._resetting = True
        try:
            self.endResetModel()
        finally:
            self._resetting = False
        self._request_summary()

    # --- the totals, off the GUI thread ------------------------------------------------------

    def _request_summary(self) -> None:
        self._summary_request += 1
        self.summary_pending = True
        request, grant, flt = self._summary_request, self.grant, self.filter
        if not grant:
            self._summary_arrived(request, LedgerSummary(0, ZERO, ZERO))
            return
        _SUMMARY_THREAD.submit(self._summarise, request, grant, flt)

    def _summarise(self, request: int, grant: str, flt: LedgerFilter) -> None:
        """On the worker thread. An error is handed to the GUI thread, which raises it there
        (logged for the officer; a test or --screenshot fails) rather than hiding it."""
        if request != self._summary_request:
            return  # the officer has typed on since; a newer request follows
        try:
            summary = summarise_lines(self._db, grant, flt)
        except Exception as error:
            self._post(self._mailbox.failed, request, error)
            return
        self._post(self._mailbox.delivered, request, summary)

    @staticmethod
    def _post(signal: SignalInstance, request: int, value: object) -> None:
        with suppress(RuntimeError):  # the model (and its mailbox) went away: nobody to tell
            signal.emit(request, value)

    def _summary_failed(self, request: int, error: Exception) -> None:
        if request == self._summary_request:
            self.summary_pending = False
            raise error

    def _summary_arrived(self, request: int, summary: LedgerSummary) -> None:
        if request == self._summary_request:
            self.summary = summary
            self.summary_pending = False
            self.summaryChanged.emit()

    def _page(self, after: LedgerRow | None, limit: int) -> list[LedgerRow]:
        return page_lines(
            self._db,
            self.grant,
            self.filter,
            sort=self.sort_field,
            descending=self.descending,
            after=after,
            limit=limit,
        )

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._resetting and not self._exhausted

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        # Views (and the model tester) may ask again from inside the insert signals; the
        # page being added must not be fetched twice.
        if self._fetching or not self.rows or not self.canFetchMore(parent):
            return
        self._fetching = True
        try:
            more = self._page(self.rows[-1], PAGE_SIZE)
            self._exhausted = len(more) < PAGE_SIZE
            if more:
                self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(more) - 1)
                self.rows.extend(more)
                self.endInsertRows()
        finally:
            self._fetching = False

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS) or COLUMNS[column].field not in SORT_COLUMNS:
            return  # notes, VAT irrecoverable and evidence keep the order they are in
        self.sort_field = COLUMNS[column].field
        self.descending = order == Qt.SortOrder.DescendingOrder
        self.reload()

    def replace_row(self, updated: LedgerRow) -> None:
        for number, row in enumerate(self.rows):
            if row.id == updated.id:
                self.rows[number] = updated
                self.dataChanged.emit(self.index(number, 0), self.index(number, len(COLUMNS) - 1))
                return

    def line_at(self, row: int) -> LedgerRow:
        return self.rows[row]

    # --- Qt's model interface -------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return display_text(row, column.field)
        if role == Qt.ItemDataRole.EditRole:
            return edit_text(row, column.field)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(RIGHT if column.numeric else LEFT)
        if role == Qt.ItemDataRole.ForegroundRole and column.numeric:
            return negative_brush() if getattr(row, column.field) < 0 else None
        if role == Qt.ItemDataRole.CheckStateRole and column.checkable:
            irrecoverable = not row.vat_recoverable
            return Qt.CheckState.Checked if irrecoverable else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole and column.field in ("description", "notes"):
            return getattr(row, column.field) or None
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or not 0 <= section < len(COLUMNS):
            return None
        if orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section].header
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if not index.isValid() or self.read_only:
            return flags
        if COLUMNS[index.column()].editable:
            flags |= Qt.ItemFlag.ItemIsEditable
        if COLUMNS[index.column()].checkable:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or self.editor is None:
            return False
        if role == Qt.ItemDataRole.CheckStateRole and COLUMNS[index.column()].checkable:
            return self._set_irrecoverable(self.rows[index.row()], value)
        if role != Qt.ItemDataRole.EditRole:
            return False
        row = self.rows[index.row()]
        field = COLUMNS[index.column()].field
        text = "" if value is None else str(value)
        if text == edit_text(row, field):
            return False
        return bool(self.editor(row, field, text))

    def _set_irrecoverable(self, row: LedgerRow, state: Any) -> bool:
        """Ticked means the VAT cannot be reclaimed: the core's ``vat_recoverable`` is no."""
        irrecoverable = Qt.CheckState(state) == Qt.CheckState.Checked
        if irrecoverable == (not row.vat_recoverable):
            return False
        return bool(self.editor(row, "vat_recoverable", "no" if irrecoverable else "yes"))
