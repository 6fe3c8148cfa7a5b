"""The snapshot carried inside a submitted return's workbook, so its receiver can verify it.

A submitted workbook holds, on a hidden sheet ``Snapshot``, the return document its checksum
was taken over: ASCII JSON (so no character XML cannot hold ever reaches a cell) cut into
cells of at most ``CHUNK`` characters down column A. The OPCC re-canonicalises it
(snapshot.canonical_json), checks its SHA-256 against the Summary's Checksum and compares the
workbook's figures with it (fundtracker/opcc/receiving.py). A draft carries none.
"""

from __future__ import annotations

import json
from typing import Any

from openpyxl.cell import WriteOnlyCell

SHEET = "Snapshot"
CHUNK = 32_000  # Excel holds at most 32,767 characters in a cell


def write_snapshot_sheet(workbook: Any, document: dict[str, Any]) -> None:
    """Add the hidden Snapshot sheet to a write-only ``workbook``."""
    sheet = workbook.create_sheet(SHEET)
    sheet.sheet_state = "hidden"
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    for start in range(0, len(text), CHUNK):
        cell = WriteOnlyCell(sheet, text[start : start + CHUNK])
        cell.data_type = "s"  # after the value: a chunk starting "=" must stay text
        sheet.append([cell])


def read_snapshot_sheet(workbook: Any) -> dict[str, Any] | None:
    """The document on an open workbook's Snapshot sheet; None when it has none.
    Raises ValueError when the sheet's text is not a JSON object."""
    if SHEET not in workbook.sheetnames:
        return None
    parts = [
        str(row[0])
        for row in workbook[SHEET].iter_rows(min_col=1, max_col=1, values_only=True)
        if row and row[0] is not None
    ]
    document = json.loads("".join(parts))
    if not isinstance(document, dict):
        raise ValueError("the Snapshot sheet does not hold a return document")
    return document
