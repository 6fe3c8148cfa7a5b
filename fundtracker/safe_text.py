"""Keeping user text inert in anything a spreadsheet opens (OWASP's CSV injection advice)."""

from __future__ import annotations

import re
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def looks_like_formula(text: str) -> bool:
    """True for text a spreadsheet would run: it starts with = + - @ tab or carriage return.
    A plain signed number such as ``-12.50`` is data, not a formula."""
    return text[:1] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.match(text)


def csv_safe(value: Any) -> Any:
    """Prefix formula-like text with ``'`` so a spreadsheet shows it instead of running it."""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value
