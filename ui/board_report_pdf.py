"""Draw a ``BoardReport`` (fundtracker/returns/board_report.py) as an A4 PDF with Qt's own PDF
writer: text as text (searchable, read aloud, copied), bar charts as vector paths, fonts
embedded (PDF/A-1b), the document's title, author and creator set. Qt writes no tag structure,
so the charts' figures are printed beside every bar as words: the text alternative is on the
page itself, and colour is never the only carrier (RAG carries its letter; "over" is written).

Layout first, painting second: each block is measured and placed on a page, then every page is
painted knowing the page count ("Page 1 of 3" in the footer).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QGuiApplication,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
)

from fundtracker import __version__
from fundtracker.files import atomic_path
from fundtracker.returns.board_report import BAD, Bar, BoardReport, Chart, OutcomeRow

Draw = Callable[[QPainter], None]

# Points (the writer works at 72 dots per inch, so one unit is one point).
PAGE = QSizeF(595.28, 841.89)  # A4
MARGIN = 40.0
WIDTH = PAGE.width() - 2 * MARGIN
FOOTER = 34.0  # room kept at the bottom of each page for the footer
GAP = 14.0
ROW = 24.0  # a chart row, at least
LABEL_W, BADGE_W, FIGURES_W = 150.0, 24.0, 160.0  # a chart row's columns beside the bar

INK = QColor("#1a1a1a")
MUTED = QColor("#555555")
RULE = QColor("#b0b0b0")
TRACK = QColor("#e4e4e4")
SPENT = QColor("#1f4e79")
COMMITTED = QColor("#7fa7d1")
NO_BUDGET = QColor("#7a7a7a")
OVER = QColor("#c62828")
RAG_COLOURS = {"G": QColor("#2e7d32"), "A": QColor("#b35900"), "R": QColor("#c62828")}


def render_board_report(report: BoardReport, out: Path) -> int:
    """``write_board_report`` from a command line: Qt's painting needs a GUI application,
    which needs no display when there is none (the offscreen platform)."""
    if QGuiApplication.instance() is None:
        no_display = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        if sys.platform.startswith("linux") and no_display:
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _application.append(QGuiApplication([sys.argv[0] if sys.argv else "fundtracker-cli"]))
    return write_board_report(report, out)


_application: list[QGuiApplication] = []  # kept alive until the program ends


def write_board_report(report: BoardReport, out: Path) -> int:
    """Write ``report`` to ``out`` (atomically); returns the number of pages."""
    with atomic_path(out) as temporary:
        writer = QPdfWriter(str(temporary))
        writer.setPdfVersion(QPagedPaintDevice.PdfVersion.PdfVersion_A1b)  # fonts embedded
        writer.setResolution(72)
        writer.setPageLayout(
            QPageLayout(
                QPageSize(QPageSize.PageSizeId.A4),
                QPageLayout.Orientation.Portrait,
                QMarginsF(0, 0, 0, 0),
            )
        )
        writer.setTitle(report.document_title)
        writer.setAuthor(report.recipient)
        writer.setCreator(f"Fundtracker {__version__}")
        pages = _Layout(report, writer).pages()
        painter = QPainter(writer)
        if not painter.isActive():  # Qt says no more than this
            raise OSError(f"cannot write a PDF at {temporary}")
        try:
            for number, page in enumerate(pages, start=1):
                if number > 1:
                    writer.newPage()
                for draw in page:
                    draw(painter)
                _footer(painter, report, number, len(pages))
        finally:
            painter.end()
    return len(pages)


# --- Fonts and text ----------------------------------------------------------------------------


def _font(size: float, bold: bool = False, fixed: bool = False) -> QFont:
    kind = QFontDatabase.SystemFont.FixedFont if fixed else QFontDatabase.SystemFont.GeneralFont
    font = QFont(QFontDatabase.systemFont(kind))
    font.setPointSizeF(size)
    font.setBold(bold)
    # Ligatures would reach the text layer as one character (ﬃ for "ffi"): "officer" could
    # not be found, copied or read aloud as written.
    for tag in ("liga", "clig", "dlig"):
        font.setFeature(QFont.Tag(tag), 0)
    return font


WRAP = int(Qt.TextFlag.TextWordWrap) | int(Qt.AlignmentFlag.AlignLeft)


def _text_height(text: str, font: QFont, width: float, device: QPdfWriter) -> float:
    """Measured on the writer itself: a screen's metrics differ with its resolution."""
    metrics = QFontMetricsF(font, device)
    return metrics.boundingRect(QRectF(0, 0, width, 10_000), WRAP, text).height()


def _text(text: str, font: QFont, rect: QRectF, colour: QColor = INK, flags: int = WRAP) -> Draw:
    def draw(painter: QPainter) -> None:
        painter.setFont(font)
        painter.setPen(colour)
        painter.drawText(rect, flags, text)

    return draw


# --- Layout ------------------------------------------------------------------------------------


@dataclass
class _Layout:
    report: BoardReport
    device: QPdfWriter
    done: list[list[Draw]] = field(default_factory=list)
    page: list[Draw] = field(default_factory=list)
    y: float = MARGIN

    def pages(self) -> list[list[Draw]]:
        self._title()
        self._headlines()
        self._chart(self.report.projects, with_rag=True)
        for chart in self.report.priorities:
            self._chart(chart, with_rag=False)
        self._outcomes()
        self._attention()
        self._narratives()
        return [*self.done, self.page]

    def room(self, height: float) -> None:
        """Start a new page unless ``height`` fits below the cursor."""
        if self.y + height > PAGE.height() - MARGIN - FOOTER and self.page:
            self.done.append(self.page)
            self.page, self.y = [], MARGIN

    def height(self, text: str, font: QFont, width: float) -> float:
        return _text_height(text, font, width, self.device)

    def paragraph(self, text: str, font: QFont, colour: QColor = INK, indent: float = 0) -> None:
        width = WIDTH - indent
        height = self.height(text, font, width)
        self.room(height)
        self.page.append(_text(text, font, QRectF(MARGIN + indent, self.y, width, height), colour))
        self.y += height

    def heading(self, text: str, then: float) -> None:
        """A section heading, kept on the page with ``then`` points of what follows."""
        font = _font(12, bold=True)
        self.room(self.height(text, font, WIDTH) + 4 + then)
        self.y += 4
        self.paragraph(text, font)
        self.y += 3

    # --- Sections ------------------------------------------------------------------------------

    def _title(self) -> None:
        r = self.report
        self.paragraph("Board report", _font(9, bold=True), MUTED)
        self.paragraph(f"{r.title} ({r.grant})", _font(17, bold=True))
        self.paragraph(
            f"{r.funder} to {r.recipient} · {r.period}, {r.period_dates}", _font(10), INK
        )
        self.y += 2
        self.paragraph(f"{r.return_status} · {r.prepared}", _font(8.5), MUTED)
        self.y += GAP

    def _headlines(self) -> None:
        columns, gap, height = 4, 8.0, 54.0
        width = (WIDTH - gap * (columns - 1)) / columns
        rows = (len(self.report.headlines) + columns - 1) // columns
        self.room(rows * (height + gap))
        for n, item in enumerate(self.report.headlines):
            x = MARGIN + (n % columns) * (width + gap)
            top = self.y + (n // columns) * (height + gap)
            colour = OVER if item.tone == BAD else INK
            self.page.append(_tile(QRectF(x, top, width, height)))
            inner = QRectF(x + 7, top + 5, width - 14, height - 10)
            self.page.append(_text(item.label, _font(8), inner, MUTED))
            value_rect = inner.adjusted(0, 11, 0, 0)
            self.page.append(_text(item.value, _font(14, bold=True), value_rect, colour))
            self.page.append(_text(item.note, _font(7), inner.adjusted(0, 32, 0, 0), MUTED))
        self.y += rows * (height + gap) + GAP - gap

    def _chart(self, chart: Chart, with_rag: bool) -> None:
        legend_font = _font(7.5)
        legend_h = self.height(chart.legend, legend_font, WIDTH)
        whole = legend_h + 4 + ROW * max(len(chart.bars), 1)
        # The whole chart on one page when a page can hold it.
        self.heading(chart.title, min(whole, PAGE.height() / 2))
        self.paragraph(chart.legend, legend_font, MUTED)
        self.y += 4
        if not chart.bars:
            self.paragraph("Nothing to show yet.", _font(8))
            return
        largest = max(max(b.budget, b.spent + b.committed) for b in chart.bars)
        bar_w = WIDTH - LABEL_W - BADGE_W - FIGURES_W - 12
        scale = bar_w / float(largest) if largest > 0 else 0.0
        for bar in chart.bars:
            self._chart_row(bar, bar_w, scale, with_rag)
        self.y += GAP

    def _chart_row(self, bar: Bar, bar_w: float, scale: float, with_rag: bool) -> None:
        """Label, bar, RAG badge and figures; the row grows to hold a long label or figures."""
        label_font, figure_font = _font(8), _font(7.5)
        middle = WRAP | int(Qt.AlignmentFlag.AlignVCenter)
        height = max(
            ROW,
            self.height(bar.label, label_font, LABEL_W - 6) + 6,
            self.height(bar.text, figure_font, FIGURES_W) + 6,
        )
        self.room(height)
        top, centre = self.y, self.y + height / 2
        label = QRectF(MARGIN, top, LABEL_W - 6, height)
        self.page.append(_text(bar.label, label_font, label, INK, middle))
        bar_rect = QRectF(MARGIN + LABEL_W, centre - 6, bar_w, 12)
        self.page.append(_bar(bar, bar_rect, scale))
        x = MARGIN + LABEL_W + bar_w + 6
        if with_rag and bar.rag:
            self.page.append(_rag_badge(bar.rag, QRectF(x, centre - 8, 18, 16)))
        figures = QRectF(x + BADGE_W, top, FIGURES_W, height)
        colour = OVER if bar.over_budget else INK
        self.page.append(_text(bar.text, figure_font, figures, colour, middle))
        self.y += height

    def _outcomes(self) -> None:
        rows = self.report.outcomes
        self.heading("Outcomes against targets", 30)
        if not rows:
            self.paragraph("No outcome measures recorded.", _font(9))
            self.y += GAP
            return
        widths = (45.0, 190.0, 50.0, 55.0, 55.0, 55.0, WIDTH - 450.0)
        headers = (
            "Project",
            "Outcome",
            "Unit",
            "Annual target",
            "Target to date",
            "Actual to date",
            "% of target to date",
        )
        self._table(headers, [_outcome_cells(r) for r in rows], widths)
        self.y += GAP

    def _table(
        self, headers: tuple[str, ...], rows: list[tuple[str, ...]], widths: tuple[float, ...]
    ) -> None:
        bold, plain = _font(7.5, bold=True), _font(8)
        for cells, font in [(headers, bold)] + [(row, plain) for row in rows]:
            height = max(self.height(c, font, w - 4) for c, w in zip(cells, widths, strict=True))
            self.room(height + 4)
            x = MARGIN
            for cell, width in zip(cells, widths, strict=True):
                self.page.append(_text(cell, font, QRectF(x, self.y + 2, width - 4, height)))
                x += width
            self.y += height + 4
            self.page.append(_rule(self.y))

    def _attention(self) -> None:
        items = self.report.attention
        self.heading("Checks that need attention", 30)
        if not items:
            self.paragraph("The checks found nothing that needs attention.", _font(9))
        for item in items:
            where = f" ({item.subject})" if item.subject else ""
            self.paragraph(f"{item.severity}{where}: {item.message}", _font(8))
            self.y += 4
        if self.report.attention_more:
            self.paragraph(
                f"… and {self.report.attention_more} more: every finding is on the return's "
                "Checks sheet.",
                _font(8),
                MUTED,
            )
        self.y += GAP

    def _narratives(self) -> None:
        items = self.report.narratives
        self.heading("The officer's narratives", 30)
        if not items:
            self.paragraph("No narratives were written for this period.", _font(9))
        for item in items:
            self.room(40)
            self.paragraph(item.heading, _font(9, bold=True))
            if item.outputs:
                self.paragraph(f"Outputs and outcomes: {item.outputs}", _font(8.5), indent=8)
            if item.outputs and item.variance_explanation:
                self.y += 2
            if item.variance_explanation:
                self.paragraph(
                    f"Variance explanation: {item.variance_explanation}", _font(8.5), indent=8
                )
            self.y += 6


def _outcome_cells(row: OutcomeRow) -> tuple[str, ...]:
    return (
        row.project,
        row.outcome,
        row.unit,
        row.annual_target,
        row.target_to_date,
        row.actual_to_date,
        row.percent_of_target,
    )


# --- Shapes ------------------------------------------------------------------------------------


def _tile(rect: QRectF) -> Draw:
    def draw(painter: QPainter) -> None:
        path = QPainterPath()
        path.addRoundedRect(rect, 4, 4)
        painter.setPen(QPen(RULE, 0.75))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)

    return draw


def _rule(y: float) -> Draw:
    def draw(painter: QPainter) -> None:
        painter.setPen(QPen(RULE, 0.5))
        painter.drawLine(QPointF(MARGIN, y), QPointF(MARGIN + WIDTH, y))

    return draw


def _span(rect: QRectF, scale: float, start: Decimal, end: Decimal) -> QPainterPath:
    """The part of a bar from ``start`` to ``end`` pounds, as a path."""
    path = QPainterPath()
    left, right = float(start) * scale, float(end) * scale
    if right > left:
        path.addRect(QRectF(rect.left() + left, rect.top(), right - left, rect.height()))
    return path


def _bar(bar: Bar, rect: QRectF, scale: float) -> Draw:
    """Budget as a light track with a dark end mark; spent dark, committed light; what goes
    beyond the budget red. Spend with no budget of its own is grey."""
    zero = Decimal(0)
    spent_end = max(bar.spent, zero)
    used_end = spent_end + max(bar.committed, zero)

    def draw(painter: QPainter) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        if not bar.budgeted:
            painter.fillPath(_span(rect, scale, zero, spent_end), NO_BUDGET)
            painter.fillPath(_span(rect, scale, spent_end, used_end), TRACK.darker(130))
            return
        painter.fillPath(_span(rect, scale, zero, bar.budget), TRACK)
        painter.fillPath(_span(rect, scale, zero, min(spent_end, bar.budget)), SPENT)
        painter.fillPath(
            _span(rect, scale, min(spent_end, bar.budget), min(used_end, bar.budget)), COMMITTED
        )
        painter.fillPath(_span(rect, scale, bar.budget, used_end), OVER)
        mark = rect.left() + float(bar.budget) * scale
        painter.setPen(QPen(INK, 1.2))
        painter.drawLine(QPointF(mark, rect.top() - 3), QPointF(mark, rect.bottom() + 3))

    return draw


def _rag_badge(letter: str, rect: QRectF) -> Draw:
    def draw(painter: QPainter) -> None:
        path = QPainterPath()
        path.addRoundedRect(rect, 3, 3)
        painter.fillPath(path, RAG_COLOURS.get(letter, MUTED))
        painter.setFont(_font(9, bold=True))
        painter.setPen(QColor("#ffffff"))
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), letter)

    return draw


def _footer(painter: QPainter, report: BoardReport, number: int, count: int) -> None:
    top = PAGE.height() - MARGIN - FOOTER + 10
    _rule(top)(painter)
    line = QRectF(MARGIN, top + 3, WIDTH, 11)
    _text(report.footer, _font(7.5), line, MUTED)(painter)
    right = int(Qt.AlignmentFlag.AlignRight)
    _text(f"Page {number} of {count}", _font(7.5), line, MUTED, right)(painter)
    checksum_line = QRectF(MARGIN, top + 14, WIDTH, 11)
    _text(report.footer_checksum, _font(7, fixed=True), checksum_line, MUTED)(painter)
