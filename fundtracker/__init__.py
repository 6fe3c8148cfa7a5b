"""Fundtracker's core: domain, storage, services, import, figures, export and CLI. No Qt here."""

from importlib.metadata import PackageNotFoundError, version


def _installed_version() -> str:
    # One source of truth: pyproject.toml's version, as recorded by the installer (pip, pipx,
    # PyInstaller's copied metadata). A bare source tree that was never installed has none.
    try:
        return version("fundtracker")
    except PackageNotFoundError:
        return "0+unknown"


__version__ = _installed_version()
