"""What makes the window usable with a screen reader, a magnifier, high contrast or the
keyboard alone: announcing status, headers that fit their titles at any font size, colours
taken from the user's palette, and a table beside every chart."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QAccessible, QAccessibleEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QFrame,
    QHeaderView,
    QLabel,
    QListView,
    QMainWindow,
    QPlainTextEdit,
    QScrollArea,
    QSplitter,
    QStyle,
    QTableView,
    QTextEdit,
    QWidget,
)

WARNING_SIGN = "⚠"  # a refusal shows this and words, never colour alone


def alert(thing: QObject) -> None:
    """Tell assistive technology that ``thing`` has something to say now."""
    QAccessible.updateAccessibility(QAccessibleEvent(thing, QAccessible.Event.Alert))


def announce(widget: QWidget, text: str, milliseconds: int = 10000) -> None:
    """A status change (an import finished, a file written) in the window's status bar, and
    announced: the status bar takes the message as its accessible name and raises an alert."""
    window = widget.window()
    if not isinstance(window, QMainWindow):
        return
    status = window.statusBar()
    status.showMessage(text, milliseconds)
    status.setAccessibleName(text)
    alert(status)


def problem_text(message: str) -> str:
    """A refusal as it is shown: the warning sign and the words."""
    return f"{WARNING_SIGN} {message}" if message else ""


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


# Red, amber and green that read on the palette's own background: dark shades on a light
# window, light ones on a dark theme or a high-contrast black one. Words carry the meaning too.
SIGNAL_COLOURS = {
    "error": ("#b71c1c", "#ff8a80"),
    "warning": ("#a84300", "#ffcc80"),
    "good": ("#1b5e20", "#a5d6a7"),
    "error-background": ("#fde0e0", "#5c1a1a"),  # behind the palette's own text colour
}


def signal_colour(kind: str, palette: QPalette | None = None) -> str:
    """The colour for ``kind`` (error, warning, good) on ``palette`` (the application's)."""
    light, dark = SIGNAL_COLOURS[kind]
    return dark if is_dark(palette or QApplication.palette()) else light


def title_width(header: QHeaderView, section: int) -> int:
    """The width a header section needs to show its whole title in the header's font."""
    model = header.model()
    if model is None:
        return 0
    title = str(model.headerData(section, header.orientation()) or "")
    if not title:
        return 0
    metrics = header.fontMetrics()
    style = header.style()
    margin = 2 * style.pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header)
    if header.isSortIndicatorShown():
        margin += style.pixelMetric(QStyle.PixelMetric.PM_HeaderMarkSize, None, header) + 4
    return max(metrics.horizontalAdvance(line) for line in title.split("\n")) + margin + 8


def tab_moves_on(root: QWidget) -> None:
    """Tab leaves a table or a text box under ``root`` for the next control, as everywhere
    else, instead of moving between cells or typing a tab: no keyboard trap. In a table the
    arrow keys move between cells."""
    for view in root.findChildren(QAbstractItemView):
        view.setTabKeyNavigation(False)
    for text in root.findChildren(QPlainTextEdit) + root.findChildren(QTextEdit):
        text.setTabChangesFocus(True)


def focus_first(container: QWidget) -> None:
    """Give the focus to the first control of ``container`` in Tab order: a step that
    replaces the one the focus was in must not leave the keyboard nowhere."""
    widget = container.nextInFocusChain()
    while widget is not None and widget is not container:
        takes_tab = widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        usable = widget.isVisible() and widget.isEnabled()
        if container.isAncestorOf(widget) and takes_tab and usable:
            widget.setFocus(Qt.FocusReason.TabFocusReason)
            return
        widget = widget.nextInFocusChain()


def font_scale() -> float:
    """The application font against the size the pixel widths in ui/ were chosen for."""
    from ui.resources import BASE_POINTS

    points = QApplication.font().pointSizeF()
    return max(points / BASE_POINTS, 1.0) if points > 0 else 1.0


def fit_to_font(root: QWidget) -> None:
    """Widths set in pixels for a normal font clip titles and figures in a large one: fit the
    tables and the lists beside a splitter under ``root`` to the font. At the normal font
    nothing changes but a title that did not fit."""
    _fit_lists(root)
    _fit_tables(root)


def _fit_lists(root: QWidget) -> None:
    """A list beside a splitter (the pages, the return periods): as wide as its longest entry."""
    for listed in root.findChildren(QListView):
        model = listed.model()
        if not isinstance(listed.parentWidget(), QSplitter) or model is None:
            continue
        listed.ensurePolished()
        shown = [r for r in range(model.rowCount()) if not listed.isRowHidden(r)]
        widths = [listed.sizeHintForIndex(model.index(r, 0)).width() for r in shown]
        needed = max(widths, default=0) + 2 * listed.frameWidth() + 4
        if listed.property("designedWidths") is None:  # the bounds it was built with
            listed.setProperty("designedWidths", (listed.minimumWidth(), listed.maximumWidth()))
        least, most = listed.property("designedWidths")
        listed.setMinimumWidth(max(least, needed))
        listed.setMaximumWidth(max(most, needed))


def _fit_tables(root: QWidget) -> None:
    """Each column at least as wide as its title, and grown towards its contents by as much as
    the font has grown; each row as tall as the font needs."""
    scale = font_scale()
    for view in root.findChildren(QTableView):
        columns = view.horizontalHeader()
        for section in range(columns.count()):
            mode = columns.sectionResizeMode(section)
            if columns.isSectionHidden(section) or mode != QHeaderView.ResizeMode.Interactive:
                continue
            size = columns.sectionSize(section)
            needed = title_width(columns, section)
            if scale > 1:  # measuring the contents reads every row shown: only when it can grow
                needed = max(needed, min(view.sizeHintForColumn(section), round(size * scale)))
            if size < needed:
                columns.resizeSection(section, needed)
        rows = view.verticalHeader()
        row_height = view.fontMetrics().height() + 8
        if rows.defaultSectionSize() < row_height:
            rows.setDefaultSectionSize(row_height)


def name_from_label(label: QLabel, field: QWidget) -> None:
    """The field's accessible name is its visible label (the buddy lets Alt+letter reach it)."""
    label.setBuddy(field)
    field.setAccessibleName(label.text().replace("&", "").rstrip(":"))


class DialogFitter(QObject):
    """Grows each of the app's dialogs, as it is shown, to the size its contents need in the
    user's font: Qt first sizes a window to at most two thirds of the screen and to a height
    guessed before wrapped text is laid out, which clips words at 200%."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Show
            and isinstance(watched, QDialog)
            and type(watched).__module__.startswith("ui.")
        ):
            tab_moves_on(watched)
            fit_to_contents(watched)
        return False


def fit_to_contents(window: QWidget) -> None:
    layout = window.layout()
    screen = window.screen().availableGeometry()
    if layout is None:
        return
    layout.activate()
    width = min(max(window.width(), layout.minimumSize().width()), screen.width())
    height = max(window.height(), layout.minimumSize().height(), layout.sizeHint().height())
    if layout.hasHeightForWidth():
        height = max(height, layout.totalHeightForWidth(width))
    window.resize(width, min(height, screen.height()))


def fit_dialogs_to_contents(app: QApplication) -> None:
    """Install the dialog fitter on the application, once (it is the application's child)."""
    if app.findChild(DialogFitter) is None:
        app.installEventFilter(DialogFitter(app))


class Scrolling(QScrollArea):
    """A scroll area that asks for its whole contents: as big as they are while the screen has
    room, scrolling only when it has not (a 200% font, a small screen)."""

    def __init__(self, contents: QWidget, name: str) -> None:
        super().__init__()
        self.setAccessibleName(name)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidget(contents)

    def sizeHint(self) -> QSize:
        contents = self.widget()
        if contents is None:
            return super().sizeHint()
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        return contents.sizeHint() + QSize(bar, 0)
