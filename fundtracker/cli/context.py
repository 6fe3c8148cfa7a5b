"""What every command handler receives: its arguments, the database (opened on first use)
and output helpers."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event

from fundtracker.safe_text import csv_safe
from fundtracker.storage import Database, open_database


class UsageError(Exception):
    """The command line itself is wrong, or a file cannot be read at all (exit 2)."""


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """Accept ``--database`` after the subcommand too."""
    parser.add_argument(
        "--database",
        metavar="DB",
        default=argparse.SUPPRESS,
        help="database file or SQLAlchemy URL",
    )


def add_format_option(parser: argparse.ArgumentParser, *choices: str) -> None:
    parser.add_argument(
        "--format",
        choices=choices or ("table", "json"),
        default=choices[0] if choices else "table",
        help="output format",
    )


class Context:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self._db: Database | None = None
        # Set once anything is committed: from then on the command's exit code is 0 even if
        # its output cannot be written (see fundtracker.cli.output).
        self.committed = False

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = open_database(self.args.database)
            event.listen(self._db.engine, "commit", self._note_commit)
        return self._db

    def _note_commit(self, _connection: object) -> None:
        self.committed = True

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()

    @staticmethod
    def print(text: str = "") -> None:
        sys.stdout.write(text + "\n")

    @staticmethod
    def warn(text: str) -> None:
        sys.stderr.write(text + "\n")

    @staticmethod
    def print_json(value: Any) -> None:
        sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")

    @staticmethod
    def print_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_safe(row[k]) for k in columns})

    @staticmethod
    def print_table(
        rows: Sequence[Sequence[Any]], headers: Sequence[str], right: Sequence[int] = ()
    ) -> None:
        cells = [[str(h) for h in headers]] + [
            ["" if c is None else str(c) for c in r] for r in rows
        ]
        widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
        for n, row in enumerate(cells):
            parts = [
                c.rjust(w) if i in right else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ]
            sys.stdout.write("  ".join(parts).rstrip() + "\n")
            if n == 0:
                sys.stdout.write("  ".join("-" * w for w in widths) + "\n")
