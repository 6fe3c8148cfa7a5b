"""board-report: the partnership board's printed report of a period, as a PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fundtracker.cli.context import Context, UsageError, add_database_option
from fundtracker.periods import Period
from fundtracker.returns.board_report import build_board_report


def register(subparsers: Any) -> None:
    board = subparsers.add_parser(
        "board-report",
        help="two to four A4 pages for the partnership's board: headline figures, charts, "
        "outcomes, checks and narratives (PDF)",
    )
    board.add_argument("--grant", required=True, metavar="REF")
    board.add_argument("--period", required=True, help="e.g. 2025/26-Q3")
    board.add_argument("--out", required=True, type=Path, metavar="FILE.pdf")
    board.set_defaults(handler=run_board_report)
    add_database_option(board)


def run_board_report(ctx: Context) -> int:
    period = Period.parse(ctx.args.period)
    out: Path = ctx.args.out
    # Every refusal (unknown grant, a period outside it) comes from the core, before Qt loads.
    report = build_board_report(ctx.db, ctx.args.grant, period)
    # The drawing is Qt's (ui/): imported here, when the command runs, never when
    # fundtracker/ is imported, so the core and every other command stay free of Qt.
    from ui.board_report_pdf import render_board_report

    try:
        pages = render_board_report(report, out)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from exc
    ctx.print(f"{report.return_status} for {report.period}")
    ctx.print(f"checksum (SHA-256) {report.checksum}")
    ctx.print(f"wrote {out} ({pages} pages)")
    return 0
