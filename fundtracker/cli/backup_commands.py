"""backup and restore commands (SQLite files; PostgreSQL is backed up with pg_dump)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from fundtracker import backup, ftbackup
from fundtracker.cli.context import Context, UsageError, add_database_option, add_format_option
from fundtracker.errors import DatabaseError
from fundtracker.storage import resolve_url


def register(subparsers: Any) -> None:
    take = subparsers.add_parser(
        "backup",
        help="back up the database now (into backups/ beside it), or list its backups",
        description="Back up the database with SQLite's online backup API (safe while the app "
        "is open), check the copy, and print where it went. Beside the database the backup is "
        "a database copy; --out FILE and --to FOLDER write one .ftbackup file holding the "
        "database and every evidence file (--out FILE.sqlite3: a database copy only). "
        "'backup list' lists the backups beside the database (and in FOLDER with --to); "
        "'backup daily --to FOLDER' takes today's automatic backups if not yet taken, for a "
        "scheduled task.",
    )
    take.add_argument(
        "action", nargs="?", choices=["list", "daily"], help="list the backups, or take the daily"
    )
    where = take.add_mutually_exclusive_group()
    where.add_argument(
        "--out", type=Path, metavar="FILE", help="write the backup (an .ftbackup) to FILE"
    )
    where.add_argument(
        "--to",
        type=Path,
        metavar="FOLDER",
        help="a backup folder (a network drive, a synced folder): back up into this "
        "database's own subfolder of it",
    )
    add_format_option(take, "table", "json")
    take.set_defaults(handler=run_backup)

    restore = subparsers.add_parser(
        "restore",
        help="replace the database with a backup (the current one is kept in backups/)",
        description="Replace the database with FILE after checking it: a database copy "
        "(.sqlite3) must be a sound Fundtracker database; an .ftbackup must match its manifest "
        "of SHA-256s, and its evidence files are put back in the evidence store beside the "
        "database. A backup older than a submitted return un-submits it: such a restore is "
        "refused, naming the returns, unless --yes is given. The restore is recorded in the "
        "restored database's audit log. Close the app first: a database another program has "
        "open is not replaced. Naming a --database that does not exist yet opens a hand-over "
        "copy as a new database.",
    )
    restore.add_argument("file", type=Path, metavar="FILE")
    restore.add_argument(
        "--yes",
        action="store_true",
        help="restore even though the backup lacks submitted returns the database has (they "
        "are named; without --yes such a restore is refused)",
    )
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
    if ctx.args.action == "daily":
        return _daily(ctx, database)
    if ctx.args.to is not None:
        _report(ctx, database, backup.backup_to_folder(database, ctx.args.to))
        return 0
    if ctx.args.out is not None and ctx.args.out.suffix.lower() != backup.DATABASE_SUFFIX:
        _report(ctx, database, backup.write_backup_file(database, ctx.args.out))
        return 0
    taken = backup.backup_now(database, ctx.args.out)
    ctx.print(f"backed up {database} to {taken} (integrity check passed)")
    return 0


def _report(ctx: Context, database: Path, written: ftbackup.Written) -> None:
    ctx.print(
        f"backed up {database} and {written.evidence_files} evidence file(s) to {written.path} "
        "(integrity check passed)"
    )
    for sha in written.skipped_evidence:
        ctx.warn(
            f"warning: the evidence file {sha} no longer matches its checksum and was left "
            "out of the backup; attach the original again"
        )


def _daily(ctx: Context, database: Path) -> int:
    if ctx.args.out is not None:
        raise UsageError("'backup daily' takes --to FOLDER, not --out")
    _refuse_missing_database(database)
    beside = backup.daily_backup(database)
    ctx.print(f"daily backup beside the database: {beside or 'already taken today'}")
    if ctx.args.to is not None:
        offsite = backup.daily_offsite_backup(database, ctx.args.to)
        ctx.print(f"daily backup in {ctx.args.to}: {offsite or 'already taken today'}")
    return 0


def _refuse_missing_database(database: Path) -> None:
    if not database.is_file():
        raise DatabaseError(f"there is no database at {database}")


def _list(ctx: Context, database: Path) -> int:
    if ctx.args.out is not None:
        raise UsageError("'backup list' takes --to FOLDER, not --out")
    found = backup.list_backups(database, ctx.args.to)
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
        folders = [backup.backups_folder(database)]
        if ctx.args.to is not None:
            folders.append(backup.offsite_folder(database, ctx.args.to))
        ctx.print("no backups yet in " + " or ".join(map(str, folders)))
        return 0
    ctx.print_table(
        [(b.taken_label, b.kind, f"{b.path.stat().st_size:,}", str(b.path)) for b in found],
        ["Taken", "Kind", "Bytes", "File"],
        right=[2],
    )
    return 0


def run_restore(ctx: Context) -> int:
    database = _sqlite_file(ctx)

    def confirm(lost: list[backup.LostSubmission]) -> bool:
        if lost and not ctx.args.yes:
            raise DatabaseError(
                f"restoring {ctx.args.file} would take away {backup.describe_lost(lost)}: the "
                "backup was taken before they were submitted (or while they were reopened); "
                "nothing was restored. Run the command again with --yes to restore anyway"
            )
        return True

    restored = backup.restore(database, ctx.args.file, confirm)
    ctx.print(f"restored {database} from {ctx.args.file}")
    if restored.lost:
        ctx.print(f"the restore took away {backup.describe_lost(restored.lost)}")
    if restored.kept is not None:
        ctx.print(f"the database as it was before is kept in {restored.kept}")
    return 0
