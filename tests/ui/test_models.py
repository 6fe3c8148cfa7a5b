"""Every table model passes pytest-qt's model tester, loaded with real rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from fundtracker.services.ledger_view import LedgerFilter
from fundtracker.storage import Database

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "examples" / "ledger-example.csv"


def test_spend_model_fetches_lazily_and_passes(
    qtbot: QtBot, qtmodeltester: ModelTester, demo_ui_db: Database
) -> None:
    from ui.models import spend_model
    from ui.models.spend_model import SpendModel

    model = SpendModel(demo_ui_db)
    original = spend_model.PAGE_SIZE
    spend_model.PAGE_SIZE = 40
    try:
        model.show("CRG-2025-26")
        assert model.rowCount() == 40 and model.canFetchMore()
        qtmodeltester.check(model)
        while model.canFetchMore():
            model.fetchMore()
        qtbot.waitUntil(lambda: model.summary.lines == 145)
        assert model.rowCount() == 145 and not model.canFetchMore()
        # The tester stays attached: it checks every signal of what follows too.
        model.sort(8)  # by net (after Line, Date, Project, …, Account code)
        assert [r.net for r in model.rows] == sorted(r.net for r in model.rows)
        model.show("CRG-2025-26", LedgerFilter(unassigned_only=True))
        assert model.rowCount() == 1
    finally:
        spend_model.PAGE_SIZE = original


def test_page_models_pass(qtmodeltester: ModelTester, qtbot: QtBot, window: Any) -> None:
    for name in ("grants", "projects", "priorities", "returns", "audit", "imports"):
        window.show_page(name)
    pages = window.pages
    models = [
        pages["grants"].payments,
        pages["projects"].model,
        pages["priorities"].plans,
        pages["priorities"].priorities,
        pages["returns"].model,
        pages["audit"].model,
    ]
    imports = pages["imports"]
    imports.file_edit.setText(str(EXAMPLE))
    assert imports.to_mapping()
    models.append(imports.preview)
    for model in models:
        assert model.rowCount() > 0, model
        qtmodeltester.check(model)
    assert any(row.errors for row in imports.preview.rows)  # 31/02/2026 is highlighted
    qtmodeltester.check(imports.batches)  # empty until an import (tests/ui/test_imports.py)
