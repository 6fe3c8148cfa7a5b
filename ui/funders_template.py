"""The funder's own return template of each grant, chosen once and remembered on this computer
(QSettings, keyed by the grant's reference: the database keeps no per-grant preferences)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from fundtracker.errors import FundtrackerError
from fundtracker.returns.template import ReturnTemplate
from ui.errors import show_error
from ui.settings import settings

GROUP = "funders_template"


def _key(reference: str, what: str) -> str:
    # QSettings treats "/" as a group separator: a reference never holds one, but be sure.
    return f"{GROUP}/{reference.replace('/', '_')}/{what}"


def remembered(reference: str) -> tuple[Path, Path] | None:
    """(template, map) chosen for the grant, or None when none is (or its files are gone)."""
    store = settings()
    template = str(store.value(_key(reference, "template"), "") or "")
    the_map = str(store.value(_key(reference, "map"), "") or "")
    if not template or not the_map:
        return None
    return Path(template), Path(the_map)


def remember(reference: str, template: Path, the_map: Path) -> None:
    store = settings()
    store.setValue(_key(reference, "template"), str(template))
    store.setValue(_key(reference, "map"), str(the_map))


def check(parent: QWidget, template: Path, the_map: Path) -> ReturnTemplate | None:
    """The template and map loaded, or None after showing why they do not fit."""
    try:
        return ReturnTemplate.load(template, the_map)
    except FundtrackerError as exc:
        show_error(parent, exc)
        return None


def choose(parent: QWidget, reference: str) -> tuple[Path, Path] | None:
    """Ask for a template and then its map; remember them when they fit each other."""
    start = remembered(reference)
    template, _ = QFileDialog.getOpenFileName(
        parent,
        f"The funder's return template for {reference}",
        str(start[0]) if start else "",
        "Excel templates (*.xlsx *.xlsm)",
    )
    if not template:
        return None
    the_map, _ = QFileDialog.getOpenFileName(
        parent,
        "Its map: where each figure goes (docs/RETURNS.md)",
        str(start[1]) if start else str(Path(template).with_suffix(".toml")),
        "Template maps (*.toml)",
    )
    if not the_map:
        return None
    if check(parent, Path(template), Path(the_map)) is None:
        return None
    remember(reference, Path(template), Path(the_map))
    return Path(template), Path(the_map)
