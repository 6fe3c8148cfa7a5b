"""Ledger import: council finance-system exports (CSV or XLSX) into a grant's spend, once.

The import wizard and the CLI use the same functions:

- ``list_sheets(path)``: worksheet names of an XLSX file.
- ``inspect_file(path, options)``: header row, headers and the mapping that would be used.
- ``preview_rows(path, options, limit)``: the first rows parsed as they would be stored.
- ``plan_import(db, grant, path, options)``: everything an import would do; changes nothing.
- ``commit_import(db, grant, path, options, progress, cancel)``: the import itself.
- ``list_batches``, ``undo_batch``; rules in ``fundtracker.ledger.rules``; profiles in
  ``fundtracker.ledger.profiles``.
"""

from fundtracker.ledger.importer import (
    FileLayout,
    ImportCancelled,
    ImportOptions,
    ImportProgress,
    ImportResult,
    PreviewRow,
    commit_import,
    inspect_file,
    list_batches,
    plan_import,
    preview_rows,
    undo_batch,
)
from fundtracker.ledger.reading import UnreadableFileError, list_sheets
from fundtracker.ledger.rows import CellError, LineValues

__all__ = [
    "CellError",
    "FileLayout",
    "ImportCancelled",
    "ImportOptions",
    "ImportProgress",
    "ImportResult",
    "LineValues",
    "PreviewRow",
    "UnreadableFileError",
    "commit_import",
    "inspect_file",
    "list_batches",
    "list_sheets",
    "plan_import",
    "preview_rows",
    "undo_batch",
]
