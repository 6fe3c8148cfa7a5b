"""Fundtracker's core: domain, storage, services, import, figures, export and CLI. No Qt here."""

__version__ = "0.1.0"
