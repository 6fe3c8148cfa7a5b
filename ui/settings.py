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
    if isinstance(value, str):  # the INI file gives back a list of one as a plain string
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def int_setting(store: QSettings, key: str, default: int = 0) -> int:
    """A whole number kept in the settings (the INI file keeps it as text); anything else,
    such as a hand-edited file, gives the default."""
    try:
        return int(str(store.value(key, default)))
    except ValueError:
        return default


def remember_database(name: str) -> None:
    recent = [name, *(r for r in recent_databases() if r != name)][:RECENT_LIMIT]
    settings().setValue("recent_databases", recent)
