"""Keeping user text inert and writable in anything a spreadsheet opens: no formulas (OWASP's
CSV injection advice) and no characters XML cannot hold (a workbook is XML; openpyxl refuses
them with IllegalCharacterError). Every writer of user text into a cell goes through here."""

from __future__ import annotations

import re
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
# Word's line break (Shift+Enter) is a vertical tab, and a page break a form feed: both mean
# "new line" to the person who typed them.
_LINE_BREAKS = re.compile("[\x0b\x0c]")
# What XML 1.0 cannot hold: C0 controls other than tab, line feed and carriage return, lone
# surrogates (undecodable bytes) and the two non-characters U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> str:
    """User text as a cell can hold it: Word's line and page breaks become line breaks, and
    characters XML cannot hold are dropped (they have no visible form)."""
    return _NOT_XML.sub("", _LINE_BREAKS.sub("\n", text))


def looks_like_formula(text: str) -> bool:
    """True for text a spreadsheet would run: it starts with = + - @ tab or carriage return.
    A plain signed number such as ``-12.50`` is data, not a formula."""
    return text[:1] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.match(text)


def csv_safe(value: Any) -> Any:
    """Clean text (see ``clean_text``) and prefix formula-like text with ``'`` so a
    spreadsheet shows it instead of running it."""
    if not isinstance(value, str):
        return value
    value = clean_text(value)
    return "'" + value if looks_like_formula(value) else value
