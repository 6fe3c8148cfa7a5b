"""The ``.ftbackup`` file: one zip holding a database copy and every evidence file.

Layout (nothing else is allowed in the zip, so no name inside can ever point outside the
folder a restore unpacks into)::

    manifest.json                  what is in the file, with the SHA-256 and size of each
    database.sqlite3               the copy made with SQLite's online backup API
    evidence/ab/ab12…(64 hex)      each evidence file, named by its SHA-256, as in the store

Reading checks everything before anything is used: that the file is a zip, that the manifest
is there and is ours, that the zip holds exactly the manifest's members under allowed names,
that no member is larger than it says or than the disk can take, and that every member's
SHA-256 matches. Each refusal names what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fundtracker.errors import DatabaseError
from fundtracker.files import EVIDENCE_FOLDER, atomic_path

SUFFIX = ".ftbackup"
FORMAT = "fundtracker-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "database.sqlite3"
_MANIFEST_LIMIT = 64 << 20  # a manifest lists files; 64 MB would be millions of them
_CHUNK = 1 << 20
# A member that unpacks to more than this many times its packed size is a zip bomb: SQLite
# pages and PDFs compress tens of times at most.
_BOMB_RATIO = 1000
_BOMB_MIN_SIZE = 1 << 20
_HEX64 = re.compile(r"[0-9a-f]{64}")
_EVIDENCE_NAME = re.compile(rf"{EVIDENCE_FOLDER}/(?P<prefix>[0-9a-f]{{2}})/(?P<sha>[0-9a-f]{{64}})")


class BackupFileError(DatabaseError):
    """A backup file that is damaged, foreign or hostile; nothing was restored."""


@dataclass(frozen=True)
class Written:
    path: Path
    evidence_files: int
    skipped_evidence: tuple[str, ...]  # stored files whose content no longer matches the name


@dataclass(frozen=True)
class Unpacked:
    """A checked backup unpacked into a scratch folder."""

    database: Path
    evidence: dict[str, Path]  # SHA-256 -> unpacked file
    created_at: str


def is_ftbackup(path: Path) -> bool:
    return zipfile.is_zipfile(path)


# --- Writing ---------------------------------------------------------------------------------


def write(database_copy: Path, evidence_store: Path, out: Path, created_at: datetime) -> Written:
    """Write ``out`` (atomically) from a finished database copy and the evidence store."""
    members: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []
    with atomic_path(out) as temporary, zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as z:
        members[DATABASE] = _add(z, DATABASE, database_copy)
        for sha, stored in _evidence_files(evidence_store):
            if sha256_of(stored) != sha:
                # Damaged in the store: carrying it would spread the damage (a restore would
                # refuse the whole file). It is left out and reported.
                skipped.append(sha)
                continue
            name = f"{EVIDENCE_FOLDER}/{sha[:2]}/{sha}"
            members[name] = _add(z, name, stored)
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "created_at": created_at.isoformat(),
            "members": members,
        }
        z.writestr(MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
    return Written(out, len(members) - 1, tuple(skipped))


def _evidence_files(store: Path) -> Iterator[tuple[str, Path]]:
    """Every file in the store named as the store names files (SHA-256 under its prefix)."""
    if not store.is_dir():
        return
    for folder in sorted(store.iterdir()):
        if not folder.is_dir() or not re.fullmatch(r"[0-9a-f]{2}", folder.name):
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and _HEX64.fullmatch(path.name) and path.name[:2] == folder.name:
                yield path.name, path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _add(z: zipfile.ZipFile, name: str, source: Path) -> dict[str, Any]:
    """Copy ``source`` into the zip in chunks, hashing what was written (a file changing
    meanwhile is recorded as written, so the manifest always matches the zip)."""
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as reader, z.open(name, "w", force_zip64=True) as writer:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


# --- Reading ---------------------------------------------------------------------------------


@contextmanager
def unpacked(source: Path, scratch_parent: Path) -> Iterator[Unpacked]:
    """Check ``source`` whole and unpack it into a scratch folder under ``scratch_parent``
    (on the database's disk, so files can be renamed into place); removed afterwards."""
    try:
        archive = zipfile.ZipFile(source)
    except zipfile.BadZipFile as exc:
        raise BackupFileError(
            f"{source} is not a Fundtracker backup: it is not a zip file"
        ) from exc
    except OSError as exc:
        raise BackupFileError(f"cannot read {source}: {exc.strerror or exc}") from exc
    with archive:
        members, created_at = _checked_members(source, archive)
        _refuse_too_big(source, archive, members, scratch_parent)
        scratch_parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".restoring-", dir=scratch_parent))
        try:
            yield _extract(source, archive, members, scratch, created_at)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def _checked_members(
    source: Path, archive: zipfile.ZipFile
) -> tuple[dict[str, dict[str, Any]], str]:
    names = archive.namelist()
    for name in names:
        if not _allowed_name(name):
            raise BackupFileError(
                f"{source} is not a Fundtracker backup: it holds '{_printable(name)}', a name a "
                "Fundtracker backup never has; nothing was restored"
            )
    if len(names) != len(set(names)):
        raise BackupFileError(f"{source} holds a file twice; nothing was restored")
    manifest = _manifest(source, archive, names)
    members = manifest["members"]
    missing = sorted(set(members) - set(names))
    extra = sorted(set(names) - set(members) - {MANIFEST})
    if missing:
        raise BackupFileError(
            f"{source} is damaged: its manifest lists {missing[0]}, which is not in the file"
            + (f" (nor {len(missing) - 1} more)" if len(missing) > 1 else "")
        )
    if extra:
        raise BackupFileError(f"{source} holds {extra[0]}, which its manifest does not list")
    if DATABASE not in members:
        raise BackupFileError(f"{source} holds no database; nothing was restored")
    for name, entry in members.items():
        declared = archive.getinfo(name).file_size
        if declared != entry["size"]:
            raise BackupFileError(
                f"{source} is damaged: {name} is {declared:,} bytes in the zip but "
                f"{entry['size']:,} in the manifest"
            )
        match = _EVIDENCE_NAME.fullmatch(name)
        if match and match["sha"] != entry["sha256"]:
            raise BackupFileError(f"{source} is damaged: {name} is listed with another checksum")
    return dict(members), str(manifest.get("created_at", ""))


def _allowed_name(name: str) -> bool:
    return name in (MANIFEST, DATABASE) or bool(
        (m := _EVIDENCE_NAME.fullmatch(name)) and m["sha"][:2] == m["prefix"]
    )


def _printable(name: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in name)[:120]


def _manifest(source: Path, archive: zipfile.ZipFile, names: list[str]) -> dict[str, Any]:
    if MANIFEST not in names:
        raise BackupFileError(
            f"{source} is not a Fundtracker backup: its manifest ({MANIFEST}) is missing"
        )
    if archive.getinfo(MANIFEST).file_size > _MANIFEST_LIMIT:
        raise BackupFileError(f"{source} is not a Fundtracker backup: its manifest is too large")
    try:
        with archive.open(MANIFEST) as handle:
            manifest = json.loads(handle.read(_MANIFEST_LIMIT + 1).decode("utf-8"))
    except (ValueError, zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
        raise BackupFileError(f"{source} is damaged: its manifest cannot be read ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupFileError(f"{source} is not a Fundtracker backup: its manifest is not ours")
    if manifest.get("version") != FORMAT_VERSION:
        raise BackupFileError(
            f"{source} was written by a newer Fundtracker (backup format "
            f"{manifest.get('version')!r}); install the newer version to restore it"
        )
    members = manifest.get("members")
    if not isinstance(members, dict) or not all(_valid_entry(e) for e in members.values()):
        raise BackupFileError(f"{source} is damaged: its manifest's list of files is malformed")
    return manifest


def _valid_entry(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("sha256"), str)
        and bool(_HEX64.fullmatch(entry["sha256"]))
        and isinstance(entry.get("size"), int)
        and not isinstance(entry.get("size"), bool)
        and entry["size"] >= 0
    )


def _refuse_too_big(
    source: Path, archive: zipfile.ZipFile, members: dict[str, dict[str, Any]], folder: Path
) -> None:
    total = 0
    for name in members:
        info = archive.getinfo(name)
        total += info.file_size
        if info.file_size > _BOMB_MIN_SIZE and info.file_size > _BOMB_RATIO * max(
            info.compress_size, 1
        ):
            raise BackupFileError(
                f"{source} is refused: {name} would unpack to {info.file_size:,} bytes from "
                f"{info.compress_size:,} (a zip bomb, not a backup)"
            )
    # The database is unpacked, then copied once more into place (the staged copy).
    total += archive.getinfo(DATABASE).file_size
    existing = folder if folder.exists() else next(p for p in folder.parents if p.exists())
    free = shutil.disk_usage(existing).free
    if total > free:
        raise BackupFileError(
            f"{source} needs {total / 1e6:,.0f} MB to restore and only {free / 1e6:,.0f} MB is "
            f"free beside the database; nothing was restored"
        )


def _extract(
    source: Path,
    archive: zipfile.ZipFile,
    members: dict[str, dict[str, Any]],
    scratch: Path,
    created_at: str,
) -> Unpacked:
    evidence: dict[str, Path] = {}
    for index, (name, entry) in enumerate(sorted(members.items())):
        target = scratch / (DATABASE if name == DATABASE else f"evidence-{index}")
        _extract_one(source, archive, name, entry, target)
        if name != DATABASE:
            evidence[entry["sha256"]] = target
    return Unpacked(scratch / DATABASE, evidence, created_at)


def _extract_one(
    source: Path, archive: zipfile.ZipFile, name: str, entry: dict[str, Any], target: Path
) -> None:
    """Copy one member out, never more bytes than the manifest says, checking its SHA-256."""
    digest, size, limit = hashlib.sha256(), 0, entry["size"]
    try:
        with archive.open(name) as reader, target.open("wb") as writer:
            while chunk := reader.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise BackupFileError(f"{source} is damaged: {name} is larger than it says")
                digest.update(chunk)
                writer.write(chunk)
    except (
        zipfile.BadZipFile,
        EOFError,
        OSError,
        ValueError,
        RuntimeError,
        NotImplementedError,
    ) as exc:
        # zipfile's CRC check, a truncated file, a bad compressed stream, a password-protected
        # member (RuntimeError) or a compression method Python does not know
        raise BackupFileError(f"{source} is damaged: {name} cannot be read ({exc})") from exc
    if size != limit or digest.hexdigest() != entry["sha256"]:
        raise BackupFileError(
            f"{source} is damaged: the checksum of {name} is wrong; nothing was restored"
        )
