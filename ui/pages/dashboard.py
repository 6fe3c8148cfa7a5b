"""Dashboard: the figures engine's summary as tiles, three charts, outcome progress beside
spend per project, and the checks' findings (each opens the thing it names). Everything shown
is computed by fundtracker.figures, fundtracker.presenters.outcomes and fundtracker.checks; this
page only draws it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QLineSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFrame,
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from fundtracker.checks import Finding, run_checks
from fundtracker.figures import (
    MonthPoint,
    Report,
    Summary,
    build_report,
    burn_up,
    default_period,
)
from fundtracker.money import format_money
from fundtracker.periods import Period, reporting_periods
from fundtracker.presenters.outcomes import outcomes_view, percent_of_plan_spent
from fundtracker.services.grants import load_grant
from ui import resources
from ui.accessibility import font_scale
from ui.charts import ChartPanel
from ui.naming import named
from ui.outcomes import ProgressPanel
from ui.pages.base import Page, notice
from ui.workspace import Workspace

COLOURS = {"budget": "#9fb8cf", "actual": "#1f5f8b", "forecast": "#f2a541", "profile": "#8a8a8a"}
TILES = (
    ("award", "Award"),
    ("allocated", "Allocated"),
    ("spend_to_date", "Spent to date"),
    ("committed", "Committed"),
    ("forecast_outturn", "Forecast outturn"),
    ("projected_underspend", "Projected underspend"),
    ("days_left", "Days left"),
)


def _pounds(amount: Decimal) -> float:
    """Chart coordinates only: Qt draws with floats; every figure shown as text stays exact."""
    return float(amount)


class Tile(QFrame):
    def __init__(self, key: str, title: str) -> None:
        super().__init__()
        self.setProperty("class", "tile")
        self.setObjectName(f"tile-{key}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        heading = self.heading = QLabel(title)
        heading.setProperty("class", "tileTitle")
        self.value = QLabel("—")
        self.value.setProperty("class", "tileValue")
        self.value.setObjectName(f"value-{key}")
        self.value.setAccessibleName(title)
        layout.addWidget(heading)
        layout.addWidget(self.value)

    def show_value(self, text: str, alert: bool = False) -> None:
        self.value.setText(text)
        self.value.setProperty("alert", alert)
        self.value.style().polish(self.value)


def _chart(title: str) -> tuple[QChart, QChartView]:
    chart = QChart()
    if QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128:
        chart.setTheme(QChart.ChartTheme.ChartThemeDark)  # follow a dark system palette
    chart.setTitle(title)
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    chart.setMargins(QMargins(4, 4, 4, 4))
    view = QChartView(chart)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(round(220 * font_scale()))  # room for its axes in a large font
    return chart, view


def _money_axis(maximum: float) -> QValueAxis:
    axis = QValueAxis()
    axis.setRange(0, max(maximum * 1.05, 1.0))
    axis.setTickCount(5)
    axis.applyNiceNumbers()
    axis.setLabelFormat("%.0f")  # Qt's printf-style format cannot carry a £ sign
    axis.setTitleText("£")
    return axis


def _bar_set(label: str, colour: str, values: list[Decimal]) -> QBarSet:
    bars = QBarSet(label)
    bars.setColor(QColor(colour))
    bars.setBorderColor(QColor(colour))
    for value in values:
        bars.append(_pounds(value))
    return bars


def _line_series(name: str) -> QLineSeries:
    series = QLineSeries()
    series.setName(name)  # the legend's words (the stubs lack the inherited name= keyword)
    return series


class DashboardPage(Page):
    name = "dashboard"
    title = "Dashboard"

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.report: Report | None = None
        self.findings: list[Finding] = []
        layout = QVBoxLayout(self)
        self.period_box = named(QComboBox(), "dashboardPeriod")
        self.period_box.setAccessibleName("As at the end of period")
        self.period_box.currentIndexChanged.connect(lambda _i: self._show_period())
        self.as_at = QLabel()
        layout.addLayout(self.heading("Dashboard", self.as_at, self.period_box))
        self.empty = notice("No grant yet: import a grant file on the Grants page.")
        layout.addWidget(self.empty)
        tiles = QGridLayout()
        self.tiles = {key: Tile(key, title) for key, title in TILES}
        for column, tile in enumerate(self.tiles.values()):
            tiles.addWidget(tile, 0, column)
        layout.addLayout(tiles)
        self.priority_chart, priority_view = _chart("Spend by PCC priority")
        self.project_chart, project_view = _chart("Budget, actual and forecast by project")
        self.burn_chart, burn_view = _chart("Cumulative spend against profile")
        # Each chart with the table of its figures in its place on Ctrl+T (View menu).
        self.project_panel = ChartPanel(project_view, "projects")
        self.priority_panel = ChartPanel(priority_view, "priorities")
        self.burn_panel = ChartPanel(burn_view, "burnUp")
        self.chart_panels = (self.project_panel, self.priority_panel, self.burn_panel)
        self.findings_list = named(QListWidget(), "findings")
        self.findings_list.setAccessibleName("Check findings")
        self.findings_list.itemActivated.connect(self.open_finding)
        self.findings_list.setWordWrap(True)
        findings_box = QWidget()
        findings_layout = QVBoxLayout(findings_box)
        findings_layout.setContentsMargins(0, 0, 0, 0)
        self.findings_title = QLabel("Checks")
        findings_layout.addWidget(self.findings_title)
        findings_layout.addWidget(self.findings_list)
        self.priority_caption = named(QLabel(), "priorityCaption")
        self.priority_caption.setWordWrap(True)
        priority_box = QWidget()
        priority_layout = QVBoxLayout(priority_box)
        priority_layout.setContentsMargins(0, 0, 0, 0)
        priority_layout.setSpacing(2)
        priority_layout.addWidget(self.priority_panel, 1)
        priority_layout.addWidget(self.priority_caption)
        self.progress = ProgressPanel()
        # A new name: a state saved for the two charts of before would hide the third pane.
        top = named(QSplitter(), "dashboardTopRow")
        top.addWidget(self.project_panel)
        top.addWidget(priority_box)
        top.addWidget(self.progress)
        top.setSizes([410, 340, 330])
        bottom = named(QSplitter(), "dashboardBottom")
        bottom.addWidget(self.burn_panel)
        bottom.addWidget(findings_box)
        bottom.setSizes([560, 440])
        body = named(QSplitter(Qt.Orientation.Vertical), "dashboardBody")
        body.addWidget(top)
        body.addWidget(bottom)
        layout.addWidget(body, 1)

    # --- loading -----------------------------------------------------------------------------

    def reload(self) -> None:
        reference = self.workspace.grant
        self.empty.setVisible(not reference)
        if not reference:
            return
        grant = load_grant(self.db, reference)
        chosen = self.period_box.currentData()
        self.period_box.blockSignals(True)
        self.period_box.clear()
        periods = reporting_periods(grant.start_date, grant.end_date, "quarterly")
        periods += [p for p in reporting_periods(grant.start_date, grant.end_date, "annual")]
        for period in periods:
            self.period_box.addItem(f"As at end of {period}", str(period))
        wanted = chosen or str(default_period(grant, date.today()))
        self.period_box.setCurrentIndex(max(self.period_box.findData(wanted), 0))
        self.period_box.blockSignals(False)
        self.days_left = max((grant.end_date - date.today()).days, 0)
        self.grant_days = (grant.end_date - grant.start_date).days + 1
        self._show_period()

    def period(self) -> Period:
        return Period.parse(self.period_box.currentData())

    def _show_period(self) -> None:
        if not self.workspace.grant or self.period_box.currentData() is None:
            return
        period = self.period()
        reference = self.workspace.grant
        self.report = build_report(self.db, reference, period)
        self.findings = run_checks(self.db, reference, period, report=self.report)
        self.as_at.setText(f"{self.report.grant.name} · {period.year}")
        self._show_tiles(self.report)
        self._draw_projects(self.report)
        self._draw_priorities(self.report)
        self._draw_burn_up(reference, period)
        self.progress.show_progress(
            outcomes_view(self.db, reference, period).progress,
            {a.code: percent_of_plan_spent(a) for a in self.report.allocations},
        )
        self._show_findings()

    def _show_tiles(self, report: Report) -> None:
        summary = report.summary
        risk = any(f.code == "UNDERSPEND_RISK" for f in self.findings)
        for key, tile in self.tiles.items():
            if key == "days_left":
                tile.show_value(f"{self.days_left} of {self.grant_days}")
            elif key == "projected_underspend":
                _show_projection(tile, summary, risk)
            else:
                tile.show_value(format_money(getattr(summary, key)), alert=key in _risky(risk))

    # --- charts ------------------------------------------------------------------------------

    def _draw_projects(self, report: Report) -> None:
        chart = self.project_chart
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        allocations = report.allocations
        series = QBarSeries()
        series.append(_bar_set("Budget", COLOURS["budget"], [a.budget for a in allocations]))
        series.append(
            _bar_set("Spent to date", COLOURS["actual"], [a.spend_to_date for a in allocations])
        )
        series.append(
            _bar_set("Forecast", COLOURS["forecast"], [a.forecast_outturn for a in allocations])
        )
        chart.addSeries(series)
        categories = QBarCategoryAxis()
        categories.append([a.code for a in allocations])
        top = max([_pounds(max(a.budget, a.forecast_outturn)) for a in allocations] or [1.0])
        chart.addAxis(categories, Qt.AlignmentFlag.AlignBottom)
        values = _money_axis(top)
        chart.addAxis(values, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(categories)
        series.attachAxis(values)
        self.project_panel.set_figures(
            chart.title(),
            ("Project", "Budget", "Spent to date", "Forecast"),
            [
                (
                    f"{a.code} {a.name}",
                    *map(format_money, (a.budget, a.spend_to_date, a.forecast_outturn)),
                )
                for a in allocations
            ],
        )

    def _draw_priorities(self, report: Report) -> None:
        chart = self.priority_chart
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        rows = list(report.priorities_for(report.grant.aligned_plan.key))
        chart.setTitle(f"Spend by PCC priority — {report.grant.aligned_plan.name}")
        series = QBarSeries()
        series.append(_bar_set("Budget", COLOURS["budget"], [r.budget for r in rows]))
        series.append(_bar_set("Spent to date", COLOURS["actual"], [r.spend_to_date for r in rows]))
        chart.addSeries(series)
        categories = QBarCategoryAxis()
        # Codes under the bars (a chart elides long labels); the titles go in the caption.
        categories.append([r.code or r.title for r in rows])
        self.priority_caption.setText(
            "   ".join(f"<b>{r.code}</b> {r.title}" for r in rows if r.code)
            + "   <b>Unaligned</b>: projects without weights, and unassigned spend"
        )
        top = max([_pounds(max(r.budget, r.spend_to_date)) for r in rows] or [1.0])
        chart.addAxis(categories, Qt.AlignmentFlag.AlignBottom)
        values = _money_axis(top)
        chart.addAxis(values, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(categories)
        series.attachAxis(values)
        self.priority_panel.set_figures(
            chart.title(),
            ("Priority", "Budget", "Spent to date"),
            [
                (
                    f"{r.code} {r.title}".strip(),
                    format_money(r.budget),
                    format_money(r.spend_to_date),
                )
                for r in rows
            ],
        )

    def _draw_burn_up(self, reference: str, period: Period) -> None:
        chart = self.burn_chart
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        points = burn_up(self.db, reference, period)
        profile = _line_series("Profile (planned)")
        actual = _line_series("Actual spend")
        committed = _line_series("Actual + committed")
        for number, point in enumerate(points):
            profile.append(number, _pounds(point.cumulative_profile))
            if point.cumulative_actual is not None:
                actual.append(number, _pounds(point.cumulative_actual))
                committed.append(
                    number, _pounds(point.cumulative_actual + (point.cumulative_committed or 0))
                )
        profile.setColor(QColor(COLOURS["profile"]))
        actual.setColor(QColor(COLOURS["actual"]))
        committed.setColor(QColor(COLOURS["forecast"]))
        months = QBarCategoryAxis()
        months.append([f"{p.month_end:%b}" for p in points])
        top = max(
            [_pounds(p.cumulative_profile) for p in points]
            + [
                _pounds(p.cumulative_actual + (p.cumulative_committed or 0))
                for p in points
                if p.cumulative_actual is not None
            ]
            + [1.0]
        )
        values = _money_axis(top)
        chart.addAxis(months, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(values, Qt.AlignmentFlag.AlignLeft)
        for series in (profile, committed, actual):
            chart.addSeries(series)
            series.attachAxis(values)
            # Line points sit at category positions 0..n-1 on a bar category axis.
            series.attachAxis(months)
        months.setRange(months.at(0), months.at(len(points) - 1)) if points else None
        self.burn_panel.set_figures(
            chart.title(),
            ("Month end", "Profile (planned)", "Actual spend", "Actual + committed"),
            [_burn_row(point) for point in points],
        )

    def show_tables(self, shown: bool) -> None:
        """Every chart as the table of its figures (shown=True), or as the chart again."""
        for panel in self.chart_panels:
            panel.show_table(shown)

    # --- findings ----------------------------------------------------------------------------

    def _show_findings(self) -> None:
        self.findings_list.clear()
        errors = sum(f.severity == "error" for f in self.findings)
        warnings = len(self.findings) - errors
        self.findings_title.setText(
            f"Checks: {errors} error{'s' if errors != 1 else ''}, "
            f"{warnings} warning{'s' if warnings != 1 else ''} (double-click to open)"
        )
        for finding in sorted(self.findings, key=lambda f: f.severity != "error"):
            item = QListWidgetItem(
                resources.icon(finding.severity), f"{finding.code}: {finding.message}"
            )
            item.setData(Qt.ItemDataRole.UserRole, finding)
            self.findings_list.addItem(item)
        if not self.findings:
            self.findings_list.addItem("No problems found.")

    def open_finding(self, item: QListWidgetItem) -> None:
        finding = item.data(Qt.ItemDataRole.UserRole)
        if not isinstance(finding, Finding):
            return
        window = self.window()
        show_page = getattr(window, "show_page", None)
        if show_page is None:
            return
        if finding.code == "OUTCOME_MISSING" and self.report is not None:
            # The project's first quarter without an actual, on the Returns page's Outcomes.
            missing = [
                quarter
                for figures in self.report.allocations
                if figures.code == finding.subject
                for outcome in figures.outcomes
                for quarter in outcome.missing
            ]
            quarter = Period.parse(min(missing)) if missing else self.period()
            show_page("returns").show_outcomes(finding.subject, quarter)
        elif finding.code == "OUTCOME_BEHIND":
            show_page("projects").show_outcomes(finding.subject)
        elif finding.subject_kind == "allocation":
            show_page("projects").select(finding.subject)
        elif finding.subject_kind == "spend_line" and finding.subject.isdigit():
            page = show_page("spending")
            page.clear_filters()
            page.select_line(int(finding.subject))
        else:
            show_page("grants")


def _burn_row(point: MonthPoint) -> tuple[str, str, str, str]:
    """A month of the burn-up as text: months not yet reached have no actual spend."""
    if point.cumulative_actual is None:
        return (f"{point.month_end:%d/%m/%Y}", format_money(point.cumulative_profile), "", "")
    with_committed = point.cumulative_actual + (point.cumulative_committed or 0)
    return (
        f"{point.month_end:%d/%m/%Y}",
        format_money(point.cumulative_profile),
        format_money(point.cumulative_actual),
        format_money(with_committed),
    )


def _risky(underspend_risk: bool) -> set[str]:
    return {"projected_underspend"} if underspend_risk else set()


def _show_projection(tile: Tile, summary: Summary, underspend_risk: bool) -> None:
    """One tile for the projection: an overspend is never shown under an "underspend" title
    (issue 13); it reads "Projected overspend", in red."""
    if summary.projected_overspend > 0:
        tile.heading.setText("Projected overspend")
        tile.value.setAccessibleName("Projected overspend")
        tile.show_value(format_money(summary.projected_overspend), alert=True)
    else:
        tile.heading.setText("Projected underspend")
        tile.value.setAccessibleName("Projected underspend")
        tile.show_value(format_money(summary.projected_underspend), alert=underspend_risk)
