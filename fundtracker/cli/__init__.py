"""``fundtracker-cli``: every core capability from a shell.

Exit codes: 0 success, 1 refused input (reason on stderr), 2 usage or unreadable input.
Each command module adds its subcommands with ``register`` and handles them with a function
taking the command ``Context``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from collections.abc import Sequence

from fundtracker import __version__
from fundtracker.cli.context import Context, UsageError
from fundtracker.errors import FundtrackerError


def _command_modules() -> list[object]:
    from fundtracker.cli import (
        backup_commands,
        import_commands,
        report_commands,
        return_commands,
        rule_commands,
        setup_commands,
        spend_commands,
        virement_commands,
        year_commands,
    )

    return [
        setup_commands,
        spend_commands,
        report_commands,
        backup_commands,
        import_commands,
        return_commands,
        virement_commands,
        year_commands,  # adds to setup_commands' grant command
        rule_commands,  # adds to import_commands' rule command
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fundtracker-cli",
        description="Track a PCC grant to a Community Safety Partnership: projects, spend, "
        "priorities and monitoring returns.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--database",
        metavar="DB",
        default=None,
        help="database file or SQLAlchemy URL (default: $FUNDTRACKER_DATABASE or the file "
        "in your data folder)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _command_modules():
        module.register(subparsers)  # type: ignore[attr-defined]
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    context = Context(args)
    try:
        return int(args.handler(context))
    except UsageError as exc:
        print(f"fundtracker-cli: {exc}", file=sys.stderr)
        return 2
    except FundtrackerError as exc:
        print(f"fundtracker-cli: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader stopped listening (``| head``): what was done is done, and the rest of
        # the output has nowhere to go.
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        print(
            "fundtracker-cli: interrupted; nothing was changed by the unfinished step",
            file=sys.stderr,
        )
        return 130
    finally:
        context.close()


def _silence_stdout() -> None:
    """Point stdout at nothing, so flushing it at exit cannot fail again."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
