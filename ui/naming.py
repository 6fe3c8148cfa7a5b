"""Naming widgets as they are built: ``named(QLabel(), "importStep")``.

Qt's constructors accept any property as a keyword (``QLabel(objectName="importStep")``), but
PySide6's type stubs list only the properties a class declares itself, so an inherited one
such as ``objectName`` or ``accessibleName`` fails ``mypy --strict``. These helpers set them
instead, keep the one-expression style, and return the widget with its own type.
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

AnyObject = TypeVar("AnyObject", bound=QObject)
AnyWidget = TypeVar("AnyWidget", bound=QWidget)


def named(thing: AnyObject, object_name: str) -> AnyObject:
    """Give ``thing`` the object name that the style sheet and the tests find it by."""
    thing.setObjectName(object_name)
    return thing


def labelled(widget: AnyWidget, accessible_name: str) -> AnyWidget:
    """Give ``widget`` the name a screen reader announces (and tests find it by)."""
    widget.setAccessibleName(accessible_name)
    return widget
