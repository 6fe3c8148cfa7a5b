"""Issue 18's accessibility Done-when, checked the way assistive technology and a person with
a 200% font meet the window: every page (the main window's own list) and every dialog the app
defines (found by walking ui/, so a new one cannot be left out) is walked, and the test fails
on a focusable control with no accessible name, a table without column headers, an action with
no keyboard path (a shortcut or a place in the menus), and text clipped at 200% font size at
1280×800 (measured with the widget's font metrics against its size). Then: the first return
done with the keyboard alone, every label readable under high-contrast and dark palettes, and
the dashboard's charts as tables on Ctrl+T."""

from __future__ import annotations

import importlib
import pkgutil
import shutil
from collections.abc import Callable, Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QRect, Qt
from PySide6.QtGui import QAccessible, QAction, QColor, QFont, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QDialog,
    QFileDialog,
    QGroupBox,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QRadioButton,
    QStyle,
    QTableView,
    QToolButton,
    QWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import select

import ui
from fundtracker.models import Attachment, SpendLine, Submission
from fundtracker.storage import Database, open_database
from tests.ui.assistant_support import shot
from ui import dialogs, main_window, resources, welcome
from ui.main_window import MainWindow
from ui.pages.base import Page
from ui.pages.spending import SplitDialog
from ui.workspace import Workspace

WINDOW_SIZE = (1280, 800)
# The pages whose pictures at 200% and in high contrast go in docs/screenshots (with
# FUNDTRACKER_DIALOG_SCREENSHOTS=docs/screenshots; otherwise a temporary folder).
SHOWN_PAGES = ("dashboard", "spending", "returns", "imports")


@pytest.fixture
def settings_as(qapp: QApplication) -> Iterator[Callable[[QFont, QPalette], None]]:
    """Set the user's font or palette as the app meets them on starting (the window is made
    after, the style sheet made for them as main() does); put back afterwards."""
    font, palette, sheet = QFont(qapp.font()), QPalette(qapp.palette()), qapp.styleSheet()

    def start_with(chosen_font: QFont, chosen_palette: QPalette) -> None:
        qapp.setFont(chosen_font)
        qapp.setPalette(chosen_palette)
        qapp.setStyleSheet(resources.style_sheet())

    yield start_with
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setFont(font)


def main_window_over(qtbot: QtBot, db: Database) -> MainWindow:
    window = MainWindow(Workspace(db))
    qtbot.addWidget(window)
    window.resize(*WINDOW_SIZE)
    window.show()
    qtbot.waitExposed(window)
    return window


# --- what is measured -------------------------------------------------------------------------


def accessible_name(widget: QWidget) -> str:
    """The name a screen reader announces: the accessible name, else what Qt derives (a
    button's text, the label whose buddy the widget is, its group box's title)."""
    interface = QAccessible.queryAccessibleInterface(widget)
    return interface.text(QAccessible.Text.Name).strip() if interface is not None else ""


def describe(widget: QWidget) -> str:
    path = []
    here: QWidget | None = widget
    while here is not None and len(path) < 4:
        path.append(here.objectName() or type(here).__name__)
        here = here.parentWidget()
    return f"{type(widget).__name__} ({' < '.join(path)})"


def unnamed_controls(root: QWidget) -> list[str]:
    """Focusable controls under ``root`` (shown or not: a wizard's later steps count) that
    a screen reader would announce without a name. A popup (a drop-down's list, a calendar)
    is its own window, named by the control that opens it."""
    found = []
    for widget in root.findChildren(QWidget):
        takes_tab = widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        if not takes_tab or widget.focusProxy() is not None or widget.window() is not root:
            continue
        if not accessible_name(widget):
            found.append(describe(widget))
    return found


def shown_text(text: str) -> str:
    """Text as drawn: a mnemonic's & is an underline, && a single &."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _label_clipped(label: QLabel) -> str:
    text = shown_text(label.text()) if label.buddy() is not None else label.text()
    if not text:
        return ""
    if label.wordWrap():  # the height its text wraps to in the width it has (margins and all)
        needed_height = label.heightForWidth(label.width())
        if needed_height > label.height() + 1:
            return f"needs {needed_height}px high, has {label.height()}"
        return ""
    room = label.contentsRect()
    if label.textFormat() != Qt.TextFormat.PlainText and "<" in text:
        needed = label.sizeHint()  # rich text: Qt lays the document out to measure it
        room = label.rect()
    else:
        needed = label.fontMetrics().boundingRect(QRect(0, 0, 10**6, 10**6), 0, text).size()
        room = room.adjusted(label.margin(), label.margin(), -label.margin(), -label.margin())
    if needed.width() > room.width() + 1 or needed.height() > room.height() + 1:
        return f"needs {needed.width()}×{needed.height()}px, has {room.width()}×{room.height()}"
    return ""


def _button_clipped(button: QAbstractButton) -> str:
    text = shown_text(button.text())
    if not text:
        return ""
    metrics = button.fontMetrics()
    needed = metrics.horizontalAdvance(text)
    if not button.icon().isNull():
        needed += button.iconSize().width() + 4
    if isinstance(button, QCheckBox | QRadioButton):
        style = button.style()
        needed += style.pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth, None, button)
        needed += style.pixelMetric(QStyle.PixelMetric.PM_CheckBoxLabelSpacing, None, button)
    if needed > button.width() or metrics.height() > button.height() + 1:
        return f"needs {needed}×{metrics.height()}px, has {button.width()}×{button.height()}"
    return ""


def _header_clipped(header: QHeaderView) -> list[str]:
    model = header.model()
    if model is None or header.orientation() != Qt.Orientation.Horizontal:
        return []
    metrics = header.fontMetrics()
    margin = 2 * header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header)
    found = []
    for section in range(header.count()):
        title = str(model.headerData(section, Qt.Orientation.Horizontal) or "")
        if not title or header.isSectionHidden(section):
            continue
        needed = max(metrics.horizontalAdvance(line) for line in title.split("\n")) + margin
        if header.sectionSize(section) < needed:
            found.append(f"column {title!r}: needs {needed}px, has {header.sectionSize(section)}")
    return found


def clipped_text(root: QWidget) -> list[str]:
    """Text shown under ``root`` that does not fit the widget showing it."""
    found = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisible() or widget.window() is not root:
            continue
        said = ""
        if isinstance(widget, QLabel):
            said = _label_clipped(widget)
        elif isinstance(widget, QAbstractButton):
            said = _button_clipped(widget)
        elif isinstance(widget, QHeaderView):
            found += [f"{describe(widget)} {s}" for s in _header_clipped(widget)]
        elif isinstance(widget, QGroupBox) and widget.title():
            needed = widget.fontMetrics().horizontalAdvance(widget.title()) + 8
            said = (
                f"title needs {needed}px, has {widget.width()}" if needed > widget.width() else ""
            )
        if said:
            text = getattr(widget, "text", lambda: "")()
            found.append(f"{describe(widget)} {text[:40]!r}: {said}")
    return found


def _menu_actions(menu: QMenu) -> Iterator[QAction]:
    for action in menu.actions():
        yield action
        if action.menu() is not None:
            yield from _menu_actions(action.menu())  # type: ignore[arg-type]


def actions_without_keys(root: QWidget, menus: QMainWindow | None) -> list[str]:
    """Actions under ``root`` with neither a shortcut nor a place in the menu bar's menus
    (which the keyboard reaches with Alt or F10) or in the menu of a button Tab reaches
    (Space opens it). Buttons themselves are reached with Tab."""
    in_menus: list[QAction] = []  # the actions themselves: Qt objects compare by identity
    if menus is not None:
        for top in menus.menuBar().actions():
            in_menus.append(top)
            if top.menu() is not None:
                in_menus += _menu_actions(top.menu())  # type: ignore[arg-type]
    for button in root.findChildren(QPushButton) + root.findChildren(QToolButton):
        if button.menu() is not None and button.focusPolicy() & Qt.FocusPolicy.TabFocus:
            in_menus += _menu_actions(button.menu())
    return [
        repr(action.text())
        for action in root.findChildren(QAction)
        if action.text()
        and action.isVisible()
        and not action.isSeparator()
        and action.shortcut().isEmpty()
        and action not in in_menus
    ]


def headerless_tables(root: QWidget) -> list[str]:
    """Tables whose column headers are hidden: a screen reader names each cell by its header."""
    return [
        describe(table)
        for table in root.findChildren(QTableView)
        if table.model() is not None
        and table.model().columnCount() > 1
        and table.horizontalHeader().isHidden()
    ]


def walk_problems(root: QWidget, menus: QMainWindow | None, where: str) -> list[str]:
    return (
        [f"{where}: no accessible name: {w}" for w in unnamed_controls(root)]
        + [f"{where}: no column headers: {t}" for t in headerless_tables(root)]
        + [f"{where}: no keyboard path: action {a}" for a in actions_without_keys(root, menus)]
        + [f"{where}: clipped at 200%: {c}" for c in clipped_text(root)]
    )


# --- the window and its dialogs -----------------------------------------------------------


def settle(qtbot: QtBot, page: Page | None = None) -> None:
    """Wait for the page's refresh, then lay out what it set: each pass of nested layouts
    (a page in a scroll area, a form in a group box) posts the next one's request."""
    if page is not None:
        qtbot.waitUntil(lambda: not page.busy(), timeout=10_000)
    for _ in range(6):
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        QApplication.processEvents()


def ui_dialog_classes() -> set[type[QDialog]]:
    """Every dialog class defined in ui/ that is opened as it is (not only a base class)."""
    for module in pkgutil.walk_packages(ui.__path__, "ui."):
        importlib.import_module(module.name)
    found: set[type[QDialog]] = set()
    waiting: list[type[QDialog]] = [QDialog]
    while waiting:
        for sub in waiting.pop().__subclasses__():
            waiting.append(sub)
            if sub.__module__.startswith("ui.") and not [
                s for s in sub.__subclasses__() if s.__module__.startswith("ui.")
            ]:
                found.add(sub)
    return found


def _spending_with_line(window: Any, line_id: int) -> Any:
    page = window.show_page("spending")
    assert page.select_line(line_id)
    return page


def _new_version(window: Any) -> Any:
    page = window.show_page("priorities")
    page.plan_table.selectRow(0)
    return page.editor.new_version()


def _enter_an_actual(window: Any) -> Any:
    actuals = window.show_page("returns").actuals
    actuals.table.selectRow(0)
    return actuals.enter()


# How the app opens each dialog: the same methods its buttons and menus call. A dialog class
# added to ui/ without a line here fails test_every_dialog_class_is_walked.
OPENERS: dict[str, Callable[[Any], object]] = {
    "PreferencesDialog": lambda w: w.preferences(),
    "NewGrantAssistant": lambda w: w.new_grant(),
    "OpenDatabaseDialog": lambda w: w.welcome.ask_for_database(),
    "RulesDialog": lambda w: w.show_page("spending").open_rules(),
    "RuleEditor": lambda w: _spending_with_line(w, 122).make_rule_from_line(),
    "SplitDialog": lambda w: _spending_with_line(w, 122).split_selected(),
    "ReleaseDialog": lambda w: _spending_with_line(w, 122).release_button.click(),
    "InvoiceDialog": lambda w: _spending_with_line(w, 125).invoice_button.click(),
    "CarryForwardDialog": lambda w: _spending_with_line(w, 122).carry_button.click(),
    "VirementDialog": lambda w: w.show_page("projects").record_virement(),
    "NextYearDialog": lambda w: w.show_page("returns").start_next_year(),
    "NewPlanDialog": lambda w: w.show_page("priorities").new_plan(),
    "NewVersionDialog": _new_version,
    "FundedDialog": lambda w: w.show_page("funded").open_dialog(None),
    "OutcomeDialog": lambda w: w.show_page("projects").measures.add(),
    "ActualDialog": _enter_an_actual,
}


def dialogs_to_walk() -> list[str]:
    """The dialogs ui/ defines, by name (an opener kept for one since removed is skipped)."""
    return sorted(c.__name__ for c in ui_dialog_classes() if c.__name__ in OPENERS)


def open_dialog(qtbot: QtBot, window: Any, name: str) -> QDialog:
    OPENERS[name](window)
    qtbot.wait(1)
    shown = [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QDialog) and type(w).__name__ == name and w.isVisible()
    ]
    assert len(shown) == 1, f"{name} did not open"
    return shown[0]


def pages(window: Any) -> list[str]:
    every = getattr(main_window, "ALL_PAGES", main_window.PAGES)
    return [name for name, _title in every]


def test_every_dialog_class_is_walked() -> None:
    missing = sorted(c.__name__ for c in ui_dialog_classes() if c.__name__ not in OPENERS)
    assert missing == [], f"add how the app opens these dialogs to OPENERS: {missing}"


def test_every_page_and_dialog_is_named_reachable_and_unclipped_at_200_percent(
    qtbot: QtBot, qapp: QApplication, demo_ui_db: Database, settings_as: Any
) -> None:
    large = QFont(qapp.font())
    large.setPointSizeF(large.pointSizeF() * 2)
    settings_as(large, qapp.palette())
    window: Any = main_window_over(qtbot, demo_ui_db)
    problems: list[str] = []
    for name in pages(window):
        page = window.show_page(name)
        settle(qtbot, page)
        problems += walk_problems(window, window, f"{name} page")
        if name in SHOWN_PAGES:
            shot(window, f"large-font-{name}")
    for name in dialogs_to_walk():
        dialog = open_dialog(qtbot, window, name)
        settle(qtbot)
        problems += walk_problems(dialog, None, name)
        dialog.reject()
    assert not problems, "\n".join(problems)


# --- the first return with the keyboard alone ---------------------------------------------------

# The council's ledger for January: Kent Youth Trust's line goes to A01 by its cost centre;
# the Print Shop's has none and arrives unassigned, to be assigned and split by hand.
LEDGER = """Date,Supplier,Description,Reference,Cost centre,Net,VAT
08/01/2026,Kent Youth Trust,Youth session January,KB-1,CS101,145.00,0.00
12/01/2026,Tonbridge Print Shop,Leaflets for two projects,KB-2,,300.00,60.00
"""


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def tab_to(qtbot: QtBot, target: QWidget, limit: int = 250) -> None:
    """Press Tab until ``target`` has the focus, as a keyboard user does (tables and text
    boxes let Tab move on: no keyboard trap on the way)."""
    for _ in range(limit):
        here = focused()
        if here is target:
            return
        qtbot.keyClick(here, Qt.Key.Key_Tab)
    raise AssertionError(f"Tab never reached {describe(target)}; stuck at {describe(focused())}")


def press(qtbot: QtBot, target: QWidget) -> None:
    """Tab to a button and press Space."""
    tab_to(qtbot, target)
    qtbot.keyClick(target, Qt.Key.Key_Space)


def shortcut(qtbot: QtBot, keys: str) -> None:
    """A window shortcut (Ctrl+4, Ctrl+I), sent where the focus is."""
    sequence = QKeySequence(keys)[0]
    qtbot.keyClick(focused(), sequence.key(), sequence.keyboardModifiers())


def type_into(qtbot: QtBot, text: str) -> None:
    qtbot.keyClicks(focused(), text)


def activate(qtbot: QtBot, window: QWidget) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def find_line(qtbot: QtBot, page: Any, reference: str, row: int = 0) -> None:
    """Ctrl+F, the reference typed, then Tab into the table and the arrow keys to its row."""
    shortcut(qtbot, "Ctrl+F")
    assert focused() is page.search
    qtbot.keyClick(page.search, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_into(qtbot, reference)
    qtbot.waitUntil(lambda: not page._filter_timer.isActive())
    qtbot.waitUntil(lambda: {r.reference for r in page.model.rows} == {reference})
    tab_to(qtbot, page.table)
    qtbot.keyClick(page.table, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    for _ in range(row):
        qtbot.keyClick(page.table, Qt.Key.Key_Down)
    qtbot.keyClick(page.table, Qt.Key.Key_Space, Qt.KeyboardModifier.ControlModifier)
    chosen = page.selected_rows()
    assert [r.reference for r in chosen] == [reference], chosen


def choose_file(monkeypatch: pytest.MonkeyPatch, which: str, path: Path) -> None:
    """The platform's file dialog answers with ``path`` (it is the system's, not ours)."""
    monkeypatch.setattr(QFileDialog, which, staticmethod(lambda *_a, **_k: (str(path), "")))


def dialog_shown(qtbot: QtBot, kind: type[QDialog]) -> Any:
    """The dialog of ``kind`` just opened, once it is the active window (has the keyboard)."""
    qtbot.waitUntil(lambda: isinstance(QApplication.activeWindow(), kind))
    return QApplication.activeWindow()


def submitted_periods(db: Database) -> set[str]:
    with db.read() as session:
        return set(session.scalars(select(Submission.period)).all())


def lines(db: Database, reference: str) -> list[tuple[str | None, D, int]]:
    """(project code, net, evidence files) of each line with ``reference``, oldest first."""
    with db.read() as session:
        found = session.scalars(
            select(SpendLine).where(SpendLine.reference == reference).order_by(SpendLine.id)
        ).all()
        attached = {
            line.id: len(
                session.scalars(
                    select(Attachment.id).where(Attachment.spend_line_id == line.id)
                ).all()
            )
            for line in found
        }
        return [
            (line.allocation.code if line.allocation else None, line.net, attached[line.id])
            for line in found
        ]


def test_the_first_return_with_the_keyboard_alone(
    qtbot: QtBot,
    db: Database,
    demo_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The officer's own empty database: the welcome page. The demo it opens is the usual
    # demo year (copied, as the other window tests do, rather than built again).
    demo_path = tmp_path / "demo.sqlite3"
    monkeypatch.setattr(
        welcome, "make_demo_database", lambda: str(shutil.copy(demo_template, demo_path))
    )
    first = MainWindow(Workspace(db))
    qtbot.addWidget(first)
    first.show()
    activate(qtbot, first)
    with qtbot.waitSignal(first.open_requested) as opened:
        press(qtbot, first.welcome.demo)
    assert opened.args == [str(demo_path)]
    demo_db = open_database(str(demo_path))
    window = MainWindow(Workspace(demo_db))
    qtbot.addWidget(window)
    window.show()
    activate(qtbot, window)

    # Enter a spend line at the bottom of Spending: Tab between the cells, Enter adds it.
    shortcut(qtbot, "Ctrl+4")
    spending = window.pages["spending"]
    qtbot.waitUntil(lambda: not spending.busy())
    tab_to(qtbot, spending.entry["date"])
    type_into(qtbot, "20/01/2026")
    for field, typed in (
        ("allocation", "A03"),
        ("supplier", "DA Forum"),
        ("description", "Outreach leaflets"),
        ("reference", "KB-0"),
        ("net", "75.50"),
    ):
        tab_to(qtbot, spending.entry[field])
        type_into(qtbot, typed)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert lines(demo_db, "KB-0") == [("A03", D("75.50"), 0)]

    # Import the ledger: Ctrl+I; the file chosen in the platform's file dialog.
    ledger = tmp_path / "january.csv"
    ledger.write_text(LEDGER, encoding="utf-8")
    choose_file(monkeypatch, "getOpenFileName", ledger)
    shortcut(qtbot, "Ctrl+I")
    imports = window.pages["imports"]
    assert imports.file_edit.text() == str(ledger)
    press(qtbot, imports.findChild(QPushButton, "toMapping"))
    qtbot.waitUntil(lambda: imports.steps.currentIndex() == 1)
    press(qtbot, imports.findChild(QPushButton, "toCheck"))
    qtbot.waitUntil(lambda: imports.steps.currentIndex() == 2, timeout=10_000)
    press(qtbot, imports.import_button)
    qtbot.waitUntil(lambda: imports.steps.currentIndex() == 3, timeout=10_000)
    assert lines(demo_db, "KB-1") == [("A01", D("145.00"), 0)]  # CS101 is A01's cost centre
    assert lines(demo_db, "KB-2") == [(None, D("300.00"), 0)]
    said = "Imported 2 lines from january.csv (1 without a project)"  # KB-2 has none
    assert window.statusBar().accessibleName() == said  # what a screen reader is told

    # Assign the Print Shop's line to A05 (the project picked in Qt's own list dialog).
    shortcut(qtbot, "Ctrl+4")
    find_line(qtbot, spending, "KB-2")
    monkeypatch.setattr(
        dialogs, "ask_choice", lambda _p, _t, _l, items: next(i for i in items if "A05" in i)
    )
    press(qtbot, spending.assign_button)
    assert lines(demo_db, "KB-2") == [("A05", D("300.00"), 0)]

    # Split it: £120.00 stays with A05, £180.00 goes to A06; Enter splits.
    find_line(qtbot, spending, "KB-2")
    press(qtbot, spending.split_button)
    split = dialog_shown(qtbot, SplitDialog)
    assert focused() is split.parts[0][0]  # the first part's project, ready to type
    tab_to(qtbot, split.parts[0][1])
    qtbot.keyClick(focused(), Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # select all
    type_into(qtbot, "120.00")
    assert len(split.parts) == 2  # the line's own project, and an empty part to fill
    tab_to(qtbot, split.parts[1][0])
    type_into(qtbot, "A06")
    tab_to(qtbot, split.parts[1][1])
    type_into(qtbot, "180.00")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not split.isVisible(), timeout=2000)  # a refusal keeps it open
    activate(qtbot, window)  # the window manager's part: the window has the keyboard again
    assert [(code, net) for code, net, _files in lines(demo_db, "KB-2")] == [
        ("A05", D("120.00")),
        ("A06", D("180.00")),
    ]

    # Attach the invoice to the first part.
    invoice = tmp_path / "print-shop-invoice.pdf"
    invoice.write_bytes(b"%PDF-1.4 the Print Shop's invoice")
    choose_file(monkeypatch, "getOpenFileName", invoice)
    find_line(qtbot, spending, "KB-2", row=0)
    press(qtbot, spending.attach_button)
    assert [files for _c, _n, files in lines(demo_db, "KB-2")] == [1, 0]

    # Export the return (Ctrl+E) for the period the Returns page shows, then submit it.
    exported = tmp_path / "exported.xlsx"
    choose_file(monkeypatch, "getSaveFileName", exported)
    shortcut(qtbot, "Ctrl+E")
    returns = window.pages["returns"]
    qtbot.waitUntil(exported.exists, timeout=15_000)
    qtbot.waitUntil(lambda: not returns.busy(), timeout=15_000)
    period = str(returns.period())
    submitted = tmp_path / "submitted.xlsx"
    choose_file(monkeypatch, "getSaveFileName", submitted)
    monkeypatch.setattr(dialogs, "confirm", lambda *_a, **_k: True)  # "Submit anyway?"
    press(qtbot, returns.submit_button)
    qtbot.waitUntil(submitted.exists, timeout=15_000)
    qtbot.waitUntil(lambda: period in submitted_periods(demo_db), timeout=15_000)
    assert window.statusBar().currentMessage() == f"Return submitted and written to {submitted}"
    assert window.statusBar().accessibleName() == window.statusBar().currentMessage()


# --- the user's palettes --------------------------------------------------------------------


def high_contrast() -> QPalette:
    """A high-contrast black theme as Windows ships it: white text, yellow selection."""
    palette = QPalette()
    black, white, yellow = QColor("#000000"), QColor("#ffffff"), QColor("#ffff00")
    for role in (
        QPalette.ColorRole.Window,
        QPalette.ColorRole.Base,
        QPalette.ColorRole.Button,
        QPalette.ColorRole.AlternateBase,
    ):
        palette.setColor(role, black)
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.PlaceholderText,
    ):
        palette.setColor(role, white)
    palette.setColor(QPalette.ColorRole.Highlight, yellow)
    palette.setColor(QPalette.ColorRole.HighlightedText, black)
    return palette


def dark() -> QPalette:
    palette = QPalette(QColor("#2b2b2b"))  # Qt derives the other roles from the button colour
    palette.setColor(QPalette.ColorRole.WindowText, QColor("#e6e6e6"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#e6e6e6"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor("#a0a0a0"))
    return palette


def contrast(one: QColor, other: QColor) -> float:
    """WCAG's contrast ratio of two colours (1 to 21; AA asks 4.5 for text)."""

    def luminance(colour: QColor) -> float:
        def channel(value: float) -> float:
            return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

        return (
            0.2126 * channel(colour.redF())
            + 0.7152 * channel(colour.greenF())
            + 0.0722 * channel(colour.blueF())
        )

    light, deep = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (deep + 0.05)


def unreadable_labels(root: QWidget) -> list[str]:
    found = []
    for label in root.findChildren(QLabel):
        if not label.isVisible() or not label.text():
            continue
        palette = label.palette()
        text, ground = palette.color(label.foregroundRole()), palette.color(label.backgroundRole())
        ratio = contrast(text, ground)
        if ratio < 4.5:
            colours = f"{text.name()} on {ground.name()}, {ratio:.1f}:1"
            found.append(f"{describe(label)} {label.text()[:30]!r}: {colours}")
    return found


@pytest.mark.parametrize("theme", [high_contrast, dark], ids=["high contrast", "dark"])
def test_high_contrast_and_dark_palettes_keep_every_label_readable(
    qtbot: QtBot,
    qapp: QApplication,
    demo_ui_db: Database,
    settings_as: Any,
    theme: Callable[[], QPalette],
) -> None:
    """The style sheet takes its colours from the palette (errors, RAG and alerts in shades
    chosen for it), so under the user's theme every label keeps WCAG AA contrast (4.5:1)."""
    settings_as(qapp.font(), theme())
    window: Any = main_window_over(qtbot, demo_ui_db)
    problems: list[str] = []
    for name in pages(window):
        page = window.show_page(name)
        settle(qtbot, page)
        problems += [f"{name} page: {p}" for p in unreadable_labels(window)]
        if theme is high_contrast and name in SHOWN_PAGES:
            shot(window, f"high-contrast-{name}")
    for name in dialogs_to_walk():
        dialog = open_dialog(qtbot, window, name)
        settle(qtbot)
        problems += [f"{name}: {p}" for p in unreadable_labels(dialog)]
        dialog.reject()
    assert not problems, "\n".join(problems)


def test_charts_as_tables_one_key_away(qtbot: QtBot, window: Any) -> None:
    """Ctrl+T puts each dashboard chart's table in its place: the figures it draws, exactly
    as the return gives them; Ctrl+T again brings the charts back."""
    activate(qtbot, window)
    dashboard = window.show_page("dashboard")
    settle(qtbot, dashboard)
    shortcut(qtbot, "Ctrl+T")
    assert all(panel.showing_table() for panel in dashboard.chart_panels)
    model = dashboard.project_panel.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Project", "Budget", "Spent to date", "Forecast"]
    first = [model.index(0, c).data() for c in range(model.columnCount())]
    # The demo year's A01 as the Returns page shows it: budget £8,000.00, spent £3,346.94,
    # forecast £4,546.94.
    assert first == ["A01 Youth diversion programme", "£8,000.00", "£3,346.94", "£4,546.94"]
    assert dashboard.project_panel.table.accessibleName() == (
        "Budget, actual and forecast by project (table)"
    )
    shortcut(qtbot, "Ctrl+T")
    assert not any(panel.showing_table() for panel in dashboard.chart_panels)
