"""backup and restore commands (SQLite files; PostgreSQL is backed up with pg_dump)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from fundtracker import backup
from fundtracker.cli.context import Context, add_database_option, add_format_option
from fundtracker.errors import DatabaseError
from fundtracker.storage import resolve_url


def register(subparsers: Any) -> None:
    take = subparsers.add_parser(
        "backup",
        help="back up the database now (into backups/ beside it), or list its backups",
        description="Back up the database with SQLite's online backup API (safe while the app "
        "is open), check the copy, and print where it went. 'backup list' lists the backups.",
    )
    take.add_argument("action", nargs="?", choices=["list"], help="list the backups instead")
    take.add_argument("--out", type=Path, metavar="FILE", help="write the backup to FILE")
    add_format_option(take, "table", "json")
    take.set_defaults(handler=run_backup)

    restore = subparsers.add_parser(
        "restore",
        help="replace the database with a backup (the current one is kept in backups/)",
        description="Replace the database with FILE after checking that FILE is a sound "
        "Fundtracker database. Close the app first: a database another program has open is "
        "not replaced.",
    )
    restore.add_argument("file", type=Path, metavar="FILE")
    restore.set_defaults(handler=run_restore)
    for parser in (take, restore):
        add_database_option(parser)


def _sqlite_file(ctx: Context) -> Path:
    url = make_url(resolve_url(ctx.args.database))
    if url.get_backend_name() != "sqlite":
        raise DatabaseError(
            "this is a PostgreSQL database: back it up with the server's own tools, e.g. "
            f"pg_dump --format=custom --file=fundtracker.dump {url.database or 'DBNAME'}, "
            "and restore it with pg_restore"
        )
    if not url.database or url.database == ":memory:":
        raise DatabaseError("an in-memory database has no file to back up")
    return Path(url.database)


def run_backup(ctx: Context) -> int:
    database = _sqlite_file(ctx)
    if ctx.args.action == "list":
        return _list(ctx, database)
    taken = backup.backup_now(database, ctx.args.out)
    ctx.print(f"backed up {database} to {taken} (integrity check passed)")
    return 0


def _list(ctx: Context, database: Path) -> int:
    found = backup.list_backups(database)
    if ctx.args.format == "json":
        ctx.print_json(
            [
                {
                    "path": str(b.path),
                    "kind": b.kind,
                    "taken_at": b.taken_at.isoformat(),
                    "size": b.path.stat().st_size,
                }
                for b in found
            ]
        )
        return 0
    if not found:
        ctx.print(f"no backups yet in {backup.backups_folder(database)}")
        return 0
    ctx.print_table(
        [(b.taken_label, b.kind, f"{b.path.stat().st_size:,}", str(b.path)) for b in found],
        ["Taken", "Kind", "Bytes", "File"],
        right=[2],
    )
    return 0


def run_restore(ctx: Context) -> int:
    database = _sqlite_file(ctx)
    kept = backup.restore(database, ctx.args.file)
    ctx.print(f"restored {database} from {ctx.args.file}")
    if kept is not None:
        ctx.print(f"the database as it was before is kept in {kept}")
    return 0
