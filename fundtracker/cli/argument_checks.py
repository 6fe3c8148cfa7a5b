"""Argument values refused before any command runs, with a usage error (exit 2) naming the
option, instead of a traceback from deep inside: a number no database column can hold, text
that is not text, and a folder where a file is to be written."""

from __future__ import annotations

import argparse
from pathlib import Path

from fundtracker.cli.context import UsageError

# SQLite and PostgreSQL integers are 64-bit and signed.
LARGEST_ID = 2**63 - 1
# Options naming a file the command writes.
OUTPUT_FILE_OPTIONS = ("out", "errors_out")


def check_arguments(args: argparse.Namespace) -> None:
    for name, value in vars(args).items():
        for item in value if isinstance(value, list) else [value]:
            _check_value(name, item)
    for name in OUTPUT_FILE_OPTIONS:
        target = getattr(args, name, None)
        if target is not None and Path(target).is_dir():
            raise UsageError(
                f"{_option(name)}: {target} is a folder; give the name of a file to write "
                "(inside it, if that is where it should go)"
            )


def _check_value(name: str, value: object) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > LARGEST_ID:
        raise UsageError(f"{_option(name)}: {value} is too large (at most {LARGEST_ID})")
    if isinstance(value, str | Path):
        try:
            str(value).encode("utf-8")
        except UnicodeEncodeError:
            shown = str(value).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            raise UsageError(
                f"{_option(name)}: '{shown}' holds bytes that are not UTF-8 text; type it again "
                "or rename the file"
            ) from None


def _option(name: str) -> str:
    return name if name in ("id", "file", "source") else "--" + name.replace("_", "-")
