"""Changing the checks' thresholds (the settings kept with the data) as one undoable step."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from fundtracker.errors import FieldError, FundtrackerError, ValidationError
from fundtracker.models import Setting
from fundtracker.operations import Changes, Kind, Operation, changes
from fundtracker.settings import SETTINGS, parse_value, reset_setting, set_setting
from fundtracker.storage import Database


def _stored(db: Database) -> dict[str, str | None]:
    """Each setting's stored text, None where the default applies."""
    with db.read() as session:
        rows = {key: value for key, value in session.execute(select(Setting.key, Setting.value))}
    return {key: rows.get(key) for key in SETTINGS}


@dataclass(frozen=True)
class ChangeSettings(Operation):
    """Set settings from typed text; a value of None puts the default back. Every value is
    checked before any is written; a refusal names the setting."""

    values: Mapping[str, str | None]

    @property
    def description(self) -> str:
        names = (key.split(".")[-1].replace("_", " ") for key in self.values)
        return "Change " + ", ".join(names)

    def run(self, db: Database) -> Changes:
        parsed = self._parsed()
        before = _stored(db)
        for key, value in parsed.items():
            if value is None:
                reset_setting(db, key)
            else:
                set_setting(db, key, value)
        inverse = ChangeSettings({key: before[key] for key in parsed})
        return changes(self.description, None, (Kind.SETTINGS,), inverse)

    def _parsed(self) -> dict[str, Decimal | None]:
        errors: list[FieldError] = []
        parsed: dict[str, Decimal | None] = {}
        for key, text in self.values.items():
            if key not in SETTINGS:
                errors.append(FieldError(key, "is not a setting"))
                continue
            try:
                parsed[key] = None if text is None else parse_value(key, text)
            except FundtrackerError as error:
                errors.append(FieldError(key, str(error).removeprefix(f"{key}: ")))
        if errors:
            raise ValidationError(errors)
        return parsed
