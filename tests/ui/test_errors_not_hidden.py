"""The app's own error handling never hides a bug from the people who would fix it: a page that
raises makes ``--screenshot`` fail with the traceback and fails a pytest-qt test, while the
officer still gets the logged, friendly message. And ui/ is kept away from SQLAlchemy by lint."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

import ui

ROOT = Path(__file__).resolve().parents[2]
# Where the app under test comes from (the checkout, or an installed wheel): children use it too.
APP_HOME = Path(ui.__file__).resolve().parent.parent
BROKEN_AUDIT_PAGE = """
import ui.pages.audit


def broken_reload(self):
    raise RuntimeError("the audit page broke")


ui.pages.audit.AuditPage.reload = broken_reload
"""


def _run(args: list[str], cwd: Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "FUNDTRACKER_DATA_DIR": str(data_dir),
        "PYTHONPATH": str(APP_HOME),
        "XDG_CONFIG_HOME": str(data_dir / "config"),  # never the real user's settings
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )


def test_screenshot_exits_non_zero_with_the_traceback_when_a_page_raises(
    tmp_path: Path, demo_template: Path
) -> None:
    database = tmp_path / "shots.sqlite3"
    database.write_bytes(demo_template.read_bytes())
    script = BROKEN_AUDIT_PAGE + textwrap.dedent(f"""
        import sys
        from ui.app import main

        sys.exit(main(["--database", {str(database)!r}, "--screenshot", {str(tmp_path / "out")!r}]))
        """)
    result = _run(["-c", script], cwd=tmp_path, data_dir=tmp_path / "data")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError" in result.stderr and "the audit page broke" in result.stderr
    assert "1 unexpected error(s) while taking screenshots" in result.stderr
    log = tmp_path / "data" / "logs" / "fundtracker-errors.log"
    assert "the audit page broke" in log.read_text(encoding="utf-8")


def test_the_same_screenshots_without_the_fault_exit_zero(
    tmp_path: Path, demo_template: Path
) -> None:
    """The control for the test above: the demo year itself raises nowhere."""
    database = tmp_path / "shots.sqlite3"
    database.write_bytes(demo_template.read_bytes())
    out = tmp_path / "out"
    result = _run(
        ["-m", "ui.app", "--database", str(database), "--screenshot", str(out)],
        cwd=tmp_path,
        data_dir=tmp_path / "data",
    )
    assert result.returncode == 0, result.stderr
    assert "unexpected error" not in result.stderr
    assert (out / "audit.png").is_file()


def test_a_page_raising_in_a_test_fails_it_even_with_the_apps_handler_installed(
    tmp_path: Path, demo_template: Path
) -> None:
    """An inner pytest run: the app installs its excepthook (as ``main`` does), then a page
    raises while it is shown from inside Qt; pytest-qt must still see it and fail the test."""
    for name in ("inner.sqlite3", "quiet.sqlite3"):  # the demo year: its pages, not a welcome
        (tmp_path / name).write_bytes(demo_template.read_bytes())
    (tmp_path / "test_inner.py").write_text(
        BROKEN_AUDIT_PAGE
        + textwrap.dedent(f"""
            from fundtracker.storage import open_database
            from ui import errors
            from ui.main_window import MainWindow
            from ui.workspace import Workspace


            def test_audit_page(qtbot):
                errors.ExceptHook(strict=False).install()
                db = open_database({str(tmp_path / "inner.sqlite3")!r})
                window = MainWindow(Workspace(db))
                window.remember_state = False
                qtbot.addWidget(window)
                window.show()
                window.show_page("audit")
                db.dispose()


            def test_a_quiet_page(qtbot):
                errors.ExceptHook(strict=False).install()
                db = open_database({str(tmp_path / "quiet.sqlite3")!r})
                window = MainWindow(Workspace(db))
                window.remember_state = False
                qtbot.addWidget(window)
                window.show()
                window.show_page("grants")
                db.dispose()
            """)
    )
    result = _run(
        ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore", "test_inner.py"],
        cwd=tmp_path,
        data_dir=tmp_path / "data",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "1 failed, 1 passed" in output
    assert "FAILED test_inner.py::test_audit_page" in output
    assert "the audit page broke" in output


def test_the_handler_hands_a_slot_error_to_the_test_and_still_tells_the_officer(
    qtbot: QtBot, window: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ui import errors
    from ui.pages.audit import AuditPage

    def broken_reload(self: AuditPage) -> None:
        raise RuntimeError("the audit page broke")

    monkeypatch.setattr(AuditPage, "reload", broken_reload)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # put back whatever was there
    log = errors.install_log(tmp_path)
    with qtbot.captureExceptions() as caught:
        errors.ExceptHook(strict=False).install()
        window.show_page("audit")  # shown from inside Qt: its showEvent refreshes it
    assert [kind for kind, _value, _tb in caught] == [RuntimeError]
    assert "the audit page broke" in str(caught[0][1])
    assert "the audit page broke" in log.read_text(encoding="utf-8")
    boxes = [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.objectName() == "unexpectedBox"
    ]
    assert boxes and "RuntimeError" in boxes[-1].text()
    for box in boxes:
        box.close()


@pytest.mark.parametrize(
    ("path", "source", "banned"),
    [
        ("ui/probe.py", "from sqlalchemy import select\n", "sqlalchemy"),
        ("ui/pages/probe.py", "import sqlalchemy.orm\n", "sqlalchemy"),
        ("fundtracker/probe.py", "from PySide6.QtCore import Qt\n", "PySide6"),
        ("ui/probe.py", "from PySide6.QtCore import Qt\n", None),
        ("fundtracker/probe.py", "from sqlalchemy import select\n", None),
    ],
)
def test_lint_keeps_sqlalchemy_out_of_ui_and_qt_out_of_the_core(
    path: str, source: str, banned: str | None
) -> None:
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed beside this Python")
    # The lint rules live in the source tree (pyproject.toml and ui/ruff.toml), which is not
    # where the suite runs when it tests the installed wheel.
    tree = Path(os.environ.get("FUNDTRACKER_SOURCE_ROOT") or ROOT)
    result = subprocess.run(
        [str(ruff), "check", "--no-cache", "--select", "TID251", "--stdin-filename", path, "-"],
        cwd=tree,
        input=source,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if banned is None:
        assert result.returncode == 0, result.stdout
    else:
        assert result.returncode == 1
        assert f"TID251 `{banned}` is banned" in result.stdout


def test_a_failure_counting_the_ledger_off_the_gui_thread_reaches_the_test(
    qtbot: QtBot, window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Spending totals are worked out on a worker thread; an error there used to be
    swallowed (the page said 'Counting…' for ever). It is now raised on the GUI thread."""
    from ui.models import spend_model

    def broken_summary(*_args: object) -> None:
        raise RuntimeError("the totals broke")

    monkeypatch.setattr(spend_model, "summarise_lines", broken_summary)
    with qtbot.captureExceptions() as caught:
        spending = window.show_page("spending")
        qtbot.waitUntil(lambda: bool(caught), timeout=10_000)
    assert [kind for kind, _value, _tb in caught] == [RuntimeError]
    assert str(caught[0][1]) == "the totals broke"
    assert not spending.model.summary_pending  # the page no longer waits for totals
