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
from fundtracker.cli.argument_checks import check_arguments
from fundtracker.cli.context import Context, UsageError
from fundtracker.cli.output import OutputFailed, flush_stdout, prepare_streams, restore_streams
from fundtracker.errors import FundtrackerError


def _command_modules() -> list[object]:
    from fundtracker.cli import (
        backup_commands,
        board_commands,
        import_commands,
        opcc_commands,
        outcome_commands,
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
        outcome_commands,
        board_commands,
        virement_commands,
        year_commands,  # adds to setup_commands' grant command
        rule_commands,  # adds to import_commands' rule command
        opcc_commands,
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
    original_stdout = prepare_streams()  # encodings and output failures: see cli/output.py
    try:
        return _run(argv)
    finally:
        restore_streams(original_stdout)


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    context = Context(args)
    try:
        check_arguments(args)
        code = int(args.handler(context))
        flush_stdout()  # now, while a failure to write can still be reported
        return code
    except OutputFailed as exc:
        return _output_failed(context, exc)
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


def _output_failed(context: Context, failure: OutputFailed) -> int:
    """Exit 0 once a change is committed, whatever became of its output: exit 1 would tell a
    script that nothing changed, and it would make the change again."""
    _silence_stdout()
    if context.committed:
        print(
            f"fundtracker-cli: the change was made and saved, but its output could not be "
            f"written ({failure})",
            file=sys.stderr,
        )
        return 0
    if isinstance(failure.error, BrokenPipeError):
        return 0  # the reader stopped listening (``| head``): nothing more to do
    print(
        f"fundtracker-cli: the output could not be written ({failure}); nothing was changed",
        file=sys.stderr,
    )
    return 1


def _silence_stdout() -> None:
    """Point stdout at nothing, so flushing it at exit cannot fail again."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
