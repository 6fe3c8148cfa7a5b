"""The snapshot carried inside a submitted return's workbook, so its receiver can verify it.

A submitted workbook holds, on a hidden sheet ``Snapshot``, the return document its checksum
was taken over: ASCII JSON (so no character XML cannot hold ever reaches a cell) cut into
cells of at most ``CHUNK`` characters down column A. The OPCC re-canonicalises it
(snapshot.canonical_json), checks its SHA-256 against the Summary's Checksum and compares the
workbook's figures with it (fundtracker/opcc/receiving.py). A draft carries none.

A funder's template filled from a submitted return carries the same sheet (added to its
package, template_package.py); as the template may not show them, the return's version and
checksum stand beside the document, in B1:C2 (``Version`` | 2, ``Checksum`` | the SHA-256).
"""

from __future__ import annotations

import json
from typing import Any

from openpyxl.cell import WriteOnlyCell

SHEET = "Snapshot"
CHUNK = 32_000  # Excel holds at most 32,767 characters in a cell
STAMP = ("Version", "Checksum")  # the labels in B1 and B2 of a filled template's sheet


def write_snapshot_sheet(workbook: Any, document: dict[str, Any]) -> None:
    """Add the hidden Snapshot sheet to a write-only ``workbook``."""
    sheet = workbook.create_sheet(SHEET)
    sheet.sheet_state = "hidden"
    for chunk in snapshot_chunks(document):
        cell = WriteOnlyCell(sheet, chunk)
        cell.data_type = "s"  # after the value: a chunk starting "=" must stay text
        sheet.append([cell])


def snapshot_chunks(document: dict[str, Any]) -> list[str]:
    """The document as ASCII JSON cut into the cells of column A."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return [text[start : start + CHUNK] for start in range(0, len(text), CHUNK)]


def template_snapshot_rows(
    document: dict[str, Any], version: int | None, checksum: str
) -> list[list[str | None]]:
    """The Snapshot sheet of a filled template, row by row from A1: the document down column
    A, the version and checksum in B1:C2."""
    rows: list[list[str | None]] = [[chunk] for chunk in snapshot_chunks(document)]
    rows += [[None] for _ in range(len(STAMP) - len(rows))]
    rows[0] += ["Version", "" if version is None else str(version)]
    rows[1] += ["Checksum", checksum]
    return rows


def read_template_stamp(workbook: Any) -> dict[str, str]:
    """``{"Version": ..., "Checksum": ...}`` from a filled template's Snapshot sheet."""
    if SHEET not in workbook.sheetnames:
        return {}
    rows = workbook[SHEET].iter_rows(
        min_row=1, max_row=len(STAMP), min_col=2, max_col=3, values_only=True
    )
    return {str(label): str(value or "") for label, value in rows if label in STAMP}


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
