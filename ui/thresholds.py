"""The checks' thresholds in Preferences: each with what it means and its default. They are
kept in the database (they belong to the grant's records, the same for everyone using it);
a change is one undoable operation, refused beside the field when the value is not valid."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtWidgets import QGroupBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from fundtracker.errors import FundtrackerError, ValidationError
from fundtracker.money import format_money
from fundtracker.operations.settings import ChangeSettings
from fundtracker.settings import (
    BEHIND_PROFILE_PERCENT,
    EVIDENCE_THRESHOLD,
    SETTINGS,
    UNDERSPEND_RISK_PERCENT,
    SettingSpec,
    all_settings,
)
from fundtracker.setup_drafts import Problems
from ui.fields import Form
from ui.workspace import Workspace

LABELS = {
    UNDERSPEND_RISK_PERCENT: "Underspend risk above (% of the award)",
    BEHIND_PROFILE_PERCENT: "Behind profile under (% of profile to date)",
    EVIDENCE_THRESHOLD: "Evidence needed from (£ claimable)",
}


def label_of(spec: SettingSpec) -> str:
    return LABELS.get(spec.key, spec.key.split(".")[-1].replace("_", " ").capitalize())


def shown(spec: SettingSpec, value: Decimal) -> str:
    return format_money(value, symbol=False) if spec.kind == "money" else f"{value.normalize():f}"


class ThresholdsEditor(QGroupBox):
    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__("Checks (kept in the database, the same for everyone using it)", parent)
        self.workspace = workspace
        layout = QVBoxLayout(self)
        self.form = Form()
        layout.addLayout(self.form.layout)
        self.values = all_settings(workspace.db)
        self.edits: dict[str, QLineEdit] = {}
        for key, spec in SETTINGS.items():
            edit = self.form.add(label_of(spec), QLineEdit(shown(spec, self.values[key])))
            edit.setEnabled(not workspace.read_only)
            meaning = QLabel(
                f"{spec.description}. Default: {shown(spec, spec.default)}; "
                "leave it blank for the default."
            )
            meaning.setWordWrap(True)
            meaning.setProperty("class", "hint")
            self.form.layout.addRow("", meaning)
            self.edits[key] = edit

    def changed(self) -> dict[str, str | None]:
        """The thresholds typed differently from what is stored (None: back to the default)."""
        result: dict[str, str | None] = {}
        for key, edit in self.edits.items():
            typed = edit.text().strip()
            if typed != shown(SETTINGS[key], self.values[key]):
                result[key] = typed or None
        return result

    def save(self) -> bool:
        """Write the changed thresholds as one step; False (shown beside the fields) if refused."""
        values = self.changed()
        if not values:
            return True
        return self.workspace.run(ChangeSettings(values), self, self._refused) is not None

    def _refused(self, error: FundtrackerError) -> None:
        """Each refusal beside the threshold it names (a conflict beside the first)."""
        first = label_of(next(iter(SETTINGS.values())))
        problems = Problems()
        items = error.errors if isinstance(error, ValidationError) else []
        for item in items:
            spec = SETTINGS.get(item.field)
            problems.add(label_of(spec) if spec else first, item.message)
        if not items:
            problems.add(first, str(error))
        self.form.show(problems)
