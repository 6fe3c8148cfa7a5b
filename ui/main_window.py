"""The main window: sidebar of pages, grant selector, menus, toolbar and status bar."""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QFrame,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableView,
    QToolBar,
    QWidget,
)

import fundtracker
from fundtracker.periods import Period
from fundtracker.services.grants import list_grants
from ui import resources
from ui.accessibility import fit_dialogs_to_contents, fit_to_font, tab_moves_on
from ui.errors import log_file
from ui.naming import labelled, named
from ui.pages.base import Page
from ui.settings import int_setting, recent_databases, settings
from ui.workspace import GRANTS, RETURNS, Workspace

LEDGER_SUFFIXES = (".csv", ".xlsx", ".txt")
Resizable = QSplitter | QHeaderView  # what keeps its sizes between runs (saveState)
PAGES = (
    ("dashboard", "Dashboard"),
    ("grants", "Grants"),
    ("projects", "Projects"),
    ("spending", "Spending"),
    ("priorities", "Priorities"),
    ("returns", "Returns"),
    ("imports", "Imports"),
    ("audit", "Audit log"),
)
# The OPCC's side (issue 16): shown once the database records a funded partnership or a
# received return, or when the officer asks for them (View menu); see docs/OPCC.md.
OPCC_PAGES = (
    ("received", "Received returns"),
    ("funded", "Funded partnerships"),
    ("county", "County"),
)
ALL_PAGES = PAGES + OPCC_PAGES
OPCC_PAGES_SETTING = "view/opcc_pages"


def make_page(workspace: Workspace, name: str) -> Page:
    """Build a page. Each imports its own modules on first use; an import that fails is a
    bug to see (a test, --screenshot), never a page quietly shown as missing."""
    if name == "dashboard":
        from ui.pages.dashboard import DashboardPage

        return DashboardPage(workspace)
    if name == "grants":
        from ui.pages.grants import GrantsPage

        return GrantsPage(workspace)
    if name == "projects":
        from ui.pages.projects import ProjectsPage

        return ProjectsPage(workspace)
    if name == "spending":
        from ui.pages.spending import SpendingPage

        return SpendingPage(workspace)
    if name == "priorities":
        from ui.pages.priorities import PrioritiesPage

        return PrioritiesPage(workspace)
    if name == "returns":
        from ui.pages.returns import ReturnsPage

        return ReturnsPage(workspace)
    if name == "imports":
        from ui.pages.imports import ImportsPage

        return ImportsPage(workspace)
    if name == "received":
        from ui.pages.received import ReceivedPage

        return ReceivedPage(workspace)
    if name == "funded":
        from ui.pages.funded import FundedPage

        return FundedPage(workspace)
    if name == "county":
        from ui.pages.county import CountyPage

        return CountyPage(workspace)
    from ui.pages.audit import AuditPage

    return AuditPage(workspace)


class MainWindow(QMainWindow):
    open_requested = Signal(str)  # another database file, opened by the application

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self.db = workspace.db
        self.setObjectName("mainWindow")
        self.setWindowIcon(resources.app_icon())
        self.setAcceptDrops(True)
        read_only = " (read-only)" if workspace.read_only else ""
        self.setWindowTitle(f"Fundtracker — {self.db.display_name}{read_only}")
        self.pages: dict[str, Page] = {}
        self.remember_state = True  # --screenshot leaves the officer's saved layout alone
        fit_dialogs_to_contents(QApplication.instance())  # type: ignore[arg-type]
        self._build_body()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        workspace.changed.connect(self._on_changed)
        workspace.grant_changed.connect(self._select_grant)
        self.fill_grants()
        self.restore_state()
        from ui import backups  # today's backup into the person's backup folder, if chosen

        self.daily_backup = backups.start_daily_backup(self)

    # --- building ------------------------------------------------------------------------

    def _build_body(self) -> None:
        self.sidebar = named(QListWidget(), "sidebar")
        self.sidebar.setAccessibleName("Pages")
        self.sidebar.setMinimumWidth(140)
        self.sidebar.setMaximumWidth(240)
        self.stack = QStackedWidget()
        for name, title in ALL_PAGES:
            # Pages are built when first shown: the window opens without importing what
            # the other pages need (charts, workbooks, the ledger reader).
            self.stack.addWidget(named(QWidget(), f"placeholder-{name}"))
            QListWidgetItem(resources.icon(name), title, self.sidebar)
        self.sidebar.currentRowChanged.connect(self._show_row)
        self.splitter = named(QSplitter(), "mainSplitter")
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([170, 1110])
        fit_to_font(self.splitter)  # the page list as wide as its longest name in any font
        # A database with no grant opens on the welcome page instead of empty pages.
        from ui.welcome import WelcomePage

        self.welcome = WelcomePage(read_only=self.workspace.read_only)
        self.welcome.setup_requested.connect(self.new_grant)
        self.welcome.demo_requested.connect(self.open_demo)
        self.welcome.open_requested.connect(self.open_requested)
        self.body = QStackedWidget()
        self.body.addWidget(self.splitter)
        self.body.addWidget(self.welcome)
        self.setCentralWidget(self.body)

    def _action(
        self,
        text: str,
        slot: Callable[[], object],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        icon: str = "",
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon:
            action.setIcon(resources.icon(icon))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_actions(self) -> None:
        stack = self.workspace.undo_stack
        self.undo_action = stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.setIcon(resources.icon("undo"))
        self.redo_action = stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo_action.setIcon(resources.icon("redo"))
        self.new_grant_action = self._action(
            "&New grant…", self.new_grant, QKeySequence.StandardKey.New, "new"
        )
        self.new_action = self._action("New &database…", self.new_database, "Ctrl+Shift+N")
        self.open_action = self._action(
            "&Open database…", self.open_database, QKeySequence.StandardKey.Open, "open"
        )
        self.import_action = self._action("&Import ledger…", self.import_ledger, "Ctrl+I", "import")
        self.export_action = self._action("&Export return…", self.export_return, "Ctrl+E", "export")
        self.backup_action = self._action("&Back up now…", self.backup_now)
        self.restore_action = self._action("&Restore…", self.restore_backup)
        self.save_copy_action = self._action("&Save a copy for a colleague…", self.save_copy)
        self.open_copy_action = self._action("Open a &copy…", self.open_copy)
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.find_action = self._action(
            "&Find…", self.find_spend, QKeySequence.StandardKey.Find, "find"
        )
        self.preferences_action = self._action("&Preferences…", self.preferences, "Ctrl+,")
        self.tables_action = self._action("Charts as &tables", self.show_charts_as_tables, "Ctrl+T")
        self.tables_action.setCheckable(True)  # each chart gives way to the table of its figures
        self.receive_action = self._action(
            "&Receive returns…", self.receive_returns, "Ctrl+Shift+R"
        )
        self.receive_action.setEnabled(not self.workspace.read_only)
        self.opcc_action = self._action("The &OPCC's pages", self.toggle_opcc_pages)
        self.opcc_action.setCheckable(True)
        for action in (self.import_action, self.new_grant_action):
            action.setEnabled(not self.workspace.read_only)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        file.addActions([self.new_grant_action, self.new_action, self.open_action])
        self.recent_menu = file.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file.addSeparator()
        file.addActions([self.import_action, self.export_action, self.receive_action])
        file.addSeparator()
        file.addActions([self.backup_action, self.restore_action])
        file.addSeparator()
        file.addActions([self.save_copy_action, self.open_copy_action])
        file.addSeparator()
        file.addAction(self.quit_action)
        edit = bar.addMenu("&Edit")
        edit.addActions([self.undo_action, self.redo_action])
        edit.addSeparator()
        edit.addActions([self.find_action, self.preferences_action])
        view = bar.addMenu("&View")
        for number, (name, title) in enumerate(PAGES, start=1):
            view.addAction(self._action(title, partial(self.show_page, name), f"Ctrl+{number}"))
        view.addAction(self.tables_action)
        view.addSeparator()
        view.addAction(self.opcc_action)
        self.opcc_view_actions = [
            self._action(title, partial(self.show_page, name)) for name, title in OPCC_PAGES
        ]
        view.addActions(self.opcc_view_actions)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("Where is the error log?", self.show_log_location))
        help_menu.addAction(self._action("&About Fundtracker", self.about))

    def _build_toolbar(self) -> None:
        toolbar = named(QToolBar("Main"), "mainToolbar")
        toolbar.setMovable(False)
        toolbar.toggleViewAction().setVisible(False)  # always shown: nothing to hide it for
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(toolbar)
        grant_label = QLabel(" &Grant: ")
        toolbar.addWidget(grant_label)
        self.grant_box = named(QComboBox(), "grantSelector")
        grant_label.setBuddy(self.grant_box)  # Alt+G reaches it
        self.grant_box.setAccessibleName("Current grant")
        self.grant_box.setMinimumContentsLength(44)
        self.grant_box.currentIndexChanged.connect(
            lambda _i: self.workspace.set_grant(self.grant_box.currentData() or "")
        )
        toolbar.addWidget(self.grant_box)
        toolbar.addSeparator()
        toolbar.addActions([self.undo_action, self.redo_action])
        toolbar.addSeparator()
        toolbar.addActions([self.import_action, self.export_action])

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        # The file's name: its folder (in the tooltip and the title) would not fit a large font.
        shown = self.db.sqlite_path.name if self.db.sqlite_path else self.db.display_name
        self.database_label = QLabel(f"Database: {shown}")
        self.database_label.setToolTip(self.db.display_name)
        self.database_label.setAccessibleDescription(self.db.display_name)
        self.database_label.setObjectName("databaseLabel")
        status.addWidget(self.database_label, 1)
        self.mode_label = QLabel("Read-only" if self.workspace.read_only else "")
        self.mode_label.setObjectName("modeLabel")
        if self.workspace.read_only:
            self.mode_label.setProperty("class", "readOnly")
        status.addPermanentWidget(self.mode_label)
        self.backup_label = named(QLabel(), "backupLabel")
        status.addPermanentWidget(self.backup_label)
        self.show_last_backup()

    # --- grants and pages ----------------------------------------------------------------

    def fill_grants(self) -> None:
        wanted = self.workspace.grant or str(settings().value("last_grant", ""))
        self.grant_box.blockSignals(True)
        self.grant_box.clear()
        for grant in list_grants(self.db):
            first, last = Period.year_of(grant.start_date), Period.year_of(grant.end_date)
            year = str(first) if first == last else f"{first}–{last}"
            self.grant_box.addItem(f"{grant.reference} — {grant.name} · {year}", grant.reference)
        found = self.grant_box.findData(wanted)
        self.grant_box.setCurrentIndex(found if found >= 0 else 0)
        self.grant_box.blockSignals(False)
        self.workspace.set_grant(self.grant_box.currentData() or "")
        self.show_opcc_pages()

    def show_welcome(self, shown: bool) -> None:
        self.body.setCurrentWidget(self.welcome if shown else self.splitter)
        # With no grant there is no ledger to import into and no return to export.
        self.import_action.setEnabled(not shown and not self.workspace.read_only)
        self.export_action.setEnabled(not shown)

    def _on_changed(self, kinds: frozenset[str]) -> None:
        if GRANTS in kinds:
            self.fill_grants()
        elif RETURNS in kinds:
            self.show_opcc_pages()

    def show_opcc_pages(self) -> None:
        """The OPCC's pages show once it has funded or received anything, or when asked for.
        A database with no grant of its own (the OPCC's) then shows only them, never the
        welcome page that would set up a partnership's grant."""
        from fundtracker.presenters.opcc import opcc_in_use

        in_use = opcc_in_use(self.db)
        asked = settings().value(OPCC_PAGES_SETTING, False, type=bool)
        shown = in_use or asked is True
        self.opcc_action.setChecked(shown)
        self.opcc_action.setEnabled(not in_use)  # what the database holds stays in sight
        no_grant = self.grant_box.count() == 0
        opcc = {name for name, _title in OPCC_PAGES}
        for row, (name, _title) in enumerate(ALL_PAGES):
            hidden = not shown if name in opcc else (no_grant and shown and name != "audit")
            self.sidebar.item(row).setHidden(hidden)
        for action in self.opcc_view_actions:
            action.setVisible(shown)
        fit_to_font(self.splitter)  # the page list as wide as the names it shows
        self.show_welcome(no_grant and not shown)
        if no_grant:  # no ledger to import into, no return of its own to export
            self.import_action.setEnabled(False)
            self.export_action.setEnabled(False)
        current = self.sidebar.currentItem()
        if shown and (current is None or current.isHidden()):
            self.show_page("received" if no_grant else "dashboard")

    def toggle_opcc_pages(self) -> None:
        settings().setValue(OPCC_PAGES_SETTING, self.opcc_action.isChecked())
        self.show_opcc_pages()
        if self.opcc_action.isChecked():
            self.show_page("received")

    def _select_grant(self, reference: str) -> None:
        """The selector shows the workspace's current grant, whoever changed it."""
        found = self.grant_box.findData(reference)
        if found >= 0 and found != self.grant_box.currentIndex():
            self.grant_box.blockSignals(True)
            self.grant_box.setCurrentIndex(found)
            self.grant_box.blockSignals(False)

    def page(self, name: str) -> Page:
        """The page called ``name``, built (and its remembered sizes restored) on first use."""
        if name not in self.pages:
            number = [n for n, _t in ALL_PAGES].index(name)
            page = make_page(self.workspace, name)
            tab_moves_on(page)
            self.pages[name] = page
            placeholder = self.stack.widget(number)
            self.stack.insertWidget(number, scrolling(page))
            if placeholder is not None:  # always there: every page starts as a placeholder
                self.stack.removeWidget(placeholder)
                placeholder.deleteLater()
            self._restore_page_state(name, page)
        return self.pages[name]

    def _show_row(self, row: int) -> None:
        if 0 <= row < len(ALL_PAGES):
            self.page(ALL_PAGES[row][0])
            self.stack.setCurrentIndex(row)

    def show_page(self, name: str) -> Page:
        self.sidebar.setCurrentRow([n for n, _t in ALL_PAGES].index(name))
        return self.page(name)

    def current_page(self) -> str:  # the name of the page shown
        return ALL_PAGES[self.sidebar.currentRow()][0]

    # --- actions -------------------------------------------------------------------------

    def new_grant(self) -> None:
        """The new-grant assistant; it writes nothing until Finish (one undo step)."""
        from ui.assistant import NewGrantAssistant

        self.assistant = NewGrantAssistant(self.workspace, self)
        self.assistant.open()

    def open_demo(self) -> None:
        """A fresh demo year in a file of its own: the officer's database is left alone."""
        from ui.welcome import make_demo_database

        self.statusBar().showMessage("Making the demo year…")
        self.open_requested.emit(make_demo_database())

    def new_database(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "New database", "fundtracker.sqlite3", "Fundtracker databases (*.sqlite3)"
        )
        if path:
            self.open_requested.emit(path)

    def open_database(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open database", "", "Fundtracker databases (*.sqlite3 *.db);;All files (*)"
        )
        if path:
            self.open_requested.emit(path)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for name in recent_databases():
            self.recent_menu.addAction(self._action(name, partial(self.open_requested.emit, name)))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def import_ledger(self, path: Path | None = None) -> None:
        page = self.show_page("imports")
        start = getattr(page, "start", None)
        if start is not None:
            start(path)

    def export_return(self) -> None:
        page = self.show_page("returns")
        export = getattr(page, "export", None)
        if export is not None:
            export()

    def receive_returns(self) -> None:
        if not self.opcc_action.isChecked():
            self.opcc_action.setChecked(True)
            self.toggle_opcc_pages()
        page = self.show_page("received")
        choose = getattr(page, "choose_files", None)
        if choose is not None:
            choose()

    def find_spend(self) -> None:  # not find(), which QWidget has for a window id
        page = self.show_page("spending")
        focus = getattr(page, "focus_find", None)
        if focus is not None:
            focus()

    def show_charts_as_tables(self) -> None:
        page = self.show_page("dashboard")
        show_tables = getattr(page, "show_tables", None)
        if show_tables is not None:
            show_tables(self.tables_action.isChecked())

    def preferences(self) -> None:
        from ui.preferences import PreferencesDialog

        PreferencesDialog(self).open()

    def backup_now(self) -> None:
        from ui import backups

        backups.backup_now(self)

    def restore_backup(self) -> None:
        from ui import backups

        backups.restore(self)

    def save_copy(self) -> None:
        from ui import backups

        backups.save_copy(self)

    def open_copy(self) -> None:
        from ui import backups

        backups.open_copy(self)

    def show_last_backup(self) -> None:
        from ui import backups

        self.backup_label.setText(backups.last_backup_text(self.db))

    def show_log_location(self) -> None:
        where = log_file()
        QMessageBox.information(
            self, "Error log", f"Unexpected errors are logged to:\n{where or 'the console'}"
        )

    def about(self) -> None:
        QMessageBox.about(self, "About Fundtracker", self.about_text())

    def about_text(self) -> str:
        """The version and the database in use: the first two things support asks for."""
        return (
            f"<b>Fundtracker {html.escape(fundtracker.__version__)}</b><br>Tracks a Police "
            "and Crime Commissioner's grant to a Community Safety Partnership: projects, "
            "spend, priorities and monitoring returns.<br><br>"
            f"Database: {html.escape(self.db.display_name)}"
        )

    # --- drag and drop, state ------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].toLocalFile().lower().endswith(LEDGER_SUFFIXES):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = Path(event.mimeData().urls()[0].toLocalFile())
        event.acceptProposedAction()
        self.import_ledger(path)

    def restore_state(self) -> None:
        store = settings()
        geometry = store.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = store.value("window/splitter")
        if isinstance(state, QByteArray):
            self.splitter.restoreState(state)
        self.sidebar.setCurrentRow(int_setting(store, "window/page"))

    def _restore_page_state(self, name: str, page: Page) -> None:
        store = settings()
        for key, widget in _remembered(name, page).items():
            state = store.value(key)
            if isinstance(state, QByteArray):
                widget.restoreState(state)

    def _remembered(self) -> dict[str, Resizable]:
        found: dict[str, Resizable] = {"window/splitter": self.splitter}
        for name, page in self.pages.items():
            found.update(_remembered(name, page))
        return found

    def save_state(self) -> None:
        store = settings()
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/page", self.sidebar.currentRow())
        store.setValue("last_grant", self.workspace.grant)
        for key, widget in self._remembered().items():
            store.setValue(key, widget.saveState())

    def closeEvent(self, event: QCloseEvent) -> None:
        from ui.operations import finish_all

        finish_all()
        from ui import backups

        backups.finish_daily_backups()  # one file, written atomically: let it finish
        if self.remember_state:
            self.save_state()
        super().closeEvent(event)


def scrolling(page: Page) -> QScrollArea:
    """The page in a scroll area: with a large font (200%) it scrolls rather than squeezing
    its labels and buttons until their text is clipped."""
    area = labelled(named(QScrollArea(), f"scroll-{page.name}"), page.title or page.name)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(page)
    return area


def _remembered(name: str, page: Page) -> dict[str, Resizable]:
    """A page's splitters and table headers whose sizes are kept between runs."""
    found: dict[str, Resizable] = {}
    for splitter in page.findChildren(QSplitter):
        if splitter.objectName():
            found[f"{name}/{splitter.objectName()}"] = splitter
    for table in page.findChildren(QTableView):
        if table.objectName():
            found[f"{name}/{table.objectName()}/header"] = table.horizontalHeader()
    return found
