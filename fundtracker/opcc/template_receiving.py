"""Receiving a return filled into the funder's own template (issue 16, with issue 15's map).

A template filled from a submitted return carries our hidden Snapshot sheet, with the
return's version and checksum beside it (returns/snapshot_sheet.py). It is verified as our own
workbook is: the snapshot's SHA-256 must be the checksum, and every figure the map reads must
be the snapshot's. What the map reads from the snapshot is found by filling the same template
from it again and reading that back with the same map, so both go through the same reading.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from fundtracker.errors import FundtrackerError, ValidationError
from fundtracker.money import format_money
from fundtracker.opcc.receiving import ChecksumCheck, RefusedReturn, VerifiedReturn, file_sha256
from fundtracker.returns.snapshot import checksum
from fundtracker.returns.snapshot_sheet import read_snapshot_sheet, read_template_stamp
from fundtracker.returns.submission import SUBMITTED
from fundtracker.returns.template import (
    MONEY_KEYS,
    PRIORITIES,
    RETURN_KEYS,
    ReturnTemplate,
    TableMap,
)

NO_SNAPSHOT = (
    "{name} carries no snapshot to verify its checksum against: a funder's template exported "
    "before Fundtracker added its snapshot, or not from a submitted return: ask for a new export"
)
TABLE_NAMES = {
    "allocations": "project table",
    "outcomes": "outcomes table",
    "transactions": "transactions table",
}


def verify_template_workbook(path: Path, funders: ReturnTemplate) -> VerifiedReturn:
    """The return in ``path``, a copy of ``funders``' template, verified; refused with a
    RefusedReturn saying why."""
    path = Path(path)
    try:
        shown = funders.read(path)
        document, stamp = _snapshot_and_stamp(path)
    except (FundtrackerError, ValueError) as exc:  # not a workbook, or not this template
        raise RefusedReturn(f"not a monitoring return in {funders.template.name}: {exc}") from exc
    verdict = _check(shown, funders, document, stamp)
    if verdict.matches is None:
        raise RefusedReturn(NO_SNAPSHOT.format(name=path.name))
    if not verdict.matches:
        raise RefusedReturn(f"{path.name} was altered after export: {verdict.difference}")
    assert document is not None  # it matches its checksum
    version = int(stamp["Version"])  # a number: the snapshot it stands beside matched
    return VerifiedReturn(path.name, file_sha256(path), document, stamp["Checksum"], version)


def check_template_checksum(
    path: Path, shown: dict[str, Any], funders: ReturnTemplate
) -> ChecksumCheck:
    """read-return's verdict on a filled template (``shown`` is what the map read from it)."""
    try:
        document, stamp = _snapshot_and_stamp(path)
    except ValueError as exc:
        return ChecksumCheck(False, difference=f"its Snapshot sheet cannot be read ({exc})")
    return _check(shown, funders, document, stamp)


def _snapshot_and_stamp(path: Path) -> tuple[dict[str, Any] | None, dict[str, str]]:
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        return read_snapshot_sheet(workbook), read_template_stamp(workbook)
    finally:
        workbook.close()


def _check(
    shown: dict[str, Any],
    funders: ReturnTemplate,
    document: dict[str, Any] | None,
    stamp: dict[str, str],
) -> ChecksumCheck:
    stated = stamp.get("Checksum", "")
    if document is None or "report" not in document or not stated:
        return ChecksumCheck(None)
    in_cells = shown["return"].get("checksum") or ""
    if in_cells and in_cells != stated:
        difference = (
            f"the checksum it shows, {in_cells[:12]}…, is not its snapshot's, {stated[:12]}…"
        )
    elif checksum(document) != stated:
        difference = f"its snapshot no longer matches the checksum {stated[:12]}… it carries"
    elif not stamp.get("Version", "").isdigit():
        difference = f"its Snapshot sheet's Version {stamp.get('Version')!r} is not a number"
    else:
        expected = _read_as_exported(funders, document, stated, int(stamp["Version"]))
        difference = first_template_difference(funders, shown, expected) or ""
    if difference:
        return ChecksumCheck(False, difference=difference)
    return ChecksumCheck(True, stated, document=document)


def _read_as_exported(
    funders: ReturnTemplate, document: dict[str, Any], stated: str, version: int
) -> dict[str, Any]:
    """What the map reads from the template filled from ``document``, as export-return
    filled it."""
    with tempfile.TemporaryDirectory() as folder:
        again = Path(folder) / f"as-exported{funders.template.suffix}"
        try:
            funders.write(again, document, SUBMITTED, stated, version)
        except ValidationError as exc:
            raise RefusedReturn(
                f"its snapshot does not fit {funders.template.name} and its map (was it "
                f"exported with another template?): {exc}"
            ) from exc
        return funders.read(again)


def first_template_difference(
    funders: ReturnTemplate, shown: dict[str, Any], expected: dict[str, Any]
) -> str | None:
    """The first figure the filled template shows otherwise than the return as exported, in
    the map's order: its cells, then its tables row by row."""
    for where, path, seen, truth in _template_figures(funders, shown, expected):
        if seen != truth:
            said = _shown(truth, path)
            return f"{where} reads {_shown(seen, path)} but the return as exported says {said}"
    return None


def _template_figures(
    funders: ReturnTemplate, shown: dict[str, Any], expected: dict[str, Any]
) -> Iterator[tuple[str, str, Any, Any]]:
    """(where, its path, in the file, as exported) for every cell and table cell the map reads."""
    for key, path in funders.map.cells.items():
        where = f"{funders.targets[key].ref} ({path})"
        yield where, path, _cell(shown, path), _cell(expected, path)
    for table in funders.map.tables:
        seen_rows, true_rows = _rows(shown, table), _rows(expected, table)
        name = f"{table.sheet}'s {TABLE_NAMES.get(table.kind, 'priorities table')}"
        yield f"{name}: the number of rows", "", len(seen_rows), len(true_rows)
        for offset, (seen, truth) in enumerate(zip(seen_rows, true_rows, strict=False)):
            for field in table.columns.values():
                where = f"{name} row {table.first_row + offset} ({field})"
                yield where, field, _field(seen, field), _field(truth, field)


def _cell(report: dict[str, Any], path: str) -> Any:
    """A [cells] path's value as read: the return's own lines are kept under "return"."""
    return report["return"].get(path) if path in RETURN_KEYS else _field(report, path)


def _field(values: dict[str, Any], path: str) -> Any:
    value: Any = values
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _rows(report: dict[str, Any], table: TableMap) -> list[dict[str, Any]]:
    """A table's rows as the map read them (outcomes were put under their projects)."""
    if table.kind == "outcomes":
        nested = [
            {**o, "allocation": a.get("code"), "project": a.get("name")}
            for a in report["allocations"]
            for o in a.get("outcomes", [])
        ]
        return nested + list(report.get("outcomes", []))
    if table.kind == "priorities":
        plan = table.rows[len(PRIORITIES) :]
        return [p for p in report["priorities"] if p.get("plan") == plan]
    return list(report.get(table.kind, []))


def _shown(value: Any, path: str) -> str:
    if value is None or value == "":
        return "nothing"
    if path.rsplit(".", 1)[-1] in MONEY_KEYS and isinstance(value, str):
        try:
            return format_money(Decimal(value))
        except InvalidOperation:
            pass
    return repr(value)
