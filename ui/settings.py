"""Window state and preferences in QSettings (an INI file in the user's config folder; tests
point QSettings.setPath at a temporary folder so they never touch real settings)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

ORGANISATION = "Fundtracker"
APPLICATION = "fundtracker"
RECENT_LIMIT = 8


def settings() -> QSettings:
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION
    )


def recent_databases() -> list[str]:
    value = settings().value("recent_databases", [])
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value or []]


def remember_database(name: str) -> None:
    recent = [name, *(r for r in recent_databases() if r != name)][:RECENT_LIMIT]
    settings().setValue("recent_databases", recent)
