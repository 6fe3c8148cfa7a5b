"""Backups that survive the laptop: the single-file ``.ftbackup`` (database + evidence +
manifest), refusals of damaged, foreign and hostile files, the chosen backup folder with its
retention, the hand-over copy, the permissions of files written for people, and the
laptop-loss drill."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from fundtracker import backup
from fundtracker.errors import DatabaseError
from fundtracker.returns import evidence, submission
from fundtracker.services import spend
from fundtracker.storage import Database, open_database
from tests.helpers import run_cli
from tests.returns_support import GRANT, Q2

Capsys = pytest.CaptureFixture[str]


class FakeClock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(datetime(2025, 4, 1, 9, 0, tzinfo=UTC))
    monkeypatch.setattr(backup, "now_utc", fake)
    return fake


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fundtracker.demo import load_demo

    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    database = open_database(str(path))
    load_demo(database)
    database.dispose()
    return path


@pytest.fixture
def folder_a(tmp_path: Path) -> Path:
    """The laptop's data folder."""
    folder = tmp_path / "A"
    folder.mkdir()
    return folder


@pytest.fixture
def demo_file(demo_template: Path, folder_a: Path) -> Path:
    path = folder_a / "fundtracker.sqlite3"
    shutil.copyfile(demo_template, path)
    return path


@pytest.fixture
def demo(demo_file: Path) -> Iterator[Database]:
    database = open_database(str(demo_file))
    yield database
    database.dispose()


INVOICE = b"%PDF-1.4 invoice from the youth club"
PHOTO = b"\xff\xd8\xff jpeg of the new CCTV camera"


def _attach_two(db: Database, tmp_path: Path) -> dict[str, bytes]:
    """Attach an invoice to lines 4 and 15 and a photo to line 4: three attachments, two
    stored files (the invoice is stored once)."""
    invoice, photo = tmp_path / "invoice.pdf", tmp_path / "photo.jpg"
    invoice.write_bytes(INVOICE)
    photo.write_bytes(PHOTO)
    evidence.attach(db, 4, invoice)
    evidence.attach(db, 4, photo)
    evidence.attach(db, 15, invoice)
    return {hashlib.sha256(b).hexdigest(): b for b in (INVOICE, PHOTO)}


def _rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row, but for the audit events a restore adds to the database it restores
    (tests/test_reliability_issue17.py checks those)."""
    connection = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in connection.execute(
                "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"
            )
        ]
        rows = {t: connection.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall() for t in tables}
        rows["audit_events"] = [r for r in rows["audit_events"] if r[4] != "restore"]
        return rows
    finally:
        connection.close()


def _store(database: Path) -> dict[str, bytes]:
    """The evidence store's files: {name: content}."""
    folder = backup.evidence_store(database)
    return {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- The .ftbackup file ----------------------------------------------------------------------


def test_backup_out_writes_one_file_with_the_database_every_evidence_file_and_a_manifest(
    demo: Database, demo_file: Path, tmp_path: Path, capsys: Capsys
) -> None:
    stored = _attach_two(demo, tmp_path)
    out = tmp_path / "elsewhere" / "handover.ftbackup"
    result = run_cli(capsys, str(demo_file), "backup", "--out", str(out))
    assert result.code == 0, result.err
    assert str(out) in result.out and "2 evidence file(s)" in result.out

    with zipfile.ZipFile(out) as archive:
        names = sorted(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        contents = {name: archive.read(name) for name in names if name != "manifest.json"}
    expected_evidence = sorted(f"evidence/{sha[:2]}/{sha}" for sha in stored)
    assert names == sorted(["database.sqlite3", "manifest.json", *expected_evidence])
    assert manifest["format"] == "fundtracker-backup" and manifest["version"] == 1
    # every member listed with its own SHA-256 and size, and nothing else listed
    assert set(manifest["members"]) == set(contents)
    for name, data in contents.items():
        assert manifest["members"][name] == {
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
        }
    for sha, data in stored.items():
        assert contents[f"evidence/{sha[:2]}/{sha}"] == data
    copy = tmp_path / "unzipped.sqlite3"
    copy.write_bytes(contents["database.sqlite3"])
    assert backup.integrity_ok(copy)
    assert _rows(copy) == _rows(demo_file)
    assert len(_rows(copy)["attachments"]) == 3


def test_restoring_an_ftbackup_brings_back_the_database_and_the_evidence_files(
    demo: Database, demo_file: Path, tmp_path: Path, capsys: Capsys
) -> None:
    stored = _attach_two(demo, tmp_path)
    saved = backup.write_backup_file(demo_file, tmp_path / "saved.ftbackup").path
    expected = _rows(demo_file)
    spend.delete_spend(demo, 1, reason="mistake")
    shutil.rmtree(backup.evidence_store(demo_file))  # the evidence lost too
    demo.dispose()
    before_restore = _rows(demo_file)

    result = run_cli(capsys, str(demo_file), "restore", str(saved))
    assert result.code == 0, result.err
    assert _rows(demo_file) == expected
    assert _store(demo_file) == stored
    kept = [b for b in backup.list_backups(demo_file) if b.kind == "before-restore"]
    assert len(kept) == 1 and _rows(kept[0].path) == before_restore
    assert [p.name for p in demo_file.parent.iterdir() if p.name.startswith(".restoring")] == []
    reopened = open_database(str(demo_file))
    try:
        for info in evidence.list_attachments(reopened):
            assert evidence.verified_path(reopened, info).read_bytes() in (INVOICE, PHOTO)
    finally:
        reopened.dispose()


def test_an_older_plain_sqlite3_backup_still_restores_and_leaves_the_evidence_alone(
    demo: Database, demo_file: Path, tmp_path: Path, capsys: Capsys
) -> None:
    plain = backup.backup_now(demo_file, tmp_path / "old-style.sqlite3")
    with plain.open("rb") as handle:
        assert handle.read(16) == backup.SQLITE_HEADER  # a database copy, not a zip
    stored = _attach_two(demo, tmp_path)
    demo.dispose()
    result = run_cli(capsys, str(demo_file), "restore", str(plain))
    assert result.code == 0, result.err
    assert _rows(demo_file) == _rows(plain)
    assert _store(demo_file) == stored  # evidence added since stays, for a later re-attach


# --- Refusing damaged, foreign and hostile files -----------------------------------------------


def _rezip(source: Path, target: Path, change: Callable[[dict[str, bytes]], object]) -> Path:
    """Copy an .ftbackup member by member, letting ``change`` alter the members first."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    change(members)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def _manifest_edit(edit: Callable[[dict[str, object]], None]) -> Callable[[dict[str, bytes]], None]:
    def change(members: dict[str, bytes]) -> None:
        manifest = json.loads(members["manifest.json"])
        edit(manifest)
        members["manifest.json"] = json.dumps(manifest).encode()

    return change


def _first_evidence(members: dict[str, bytes]) -> str:
    return sorted(n for n in members if n.startswith("evidence/"))[0]


def _tamper_evidence(members: dict[str, bytes]) -> None:
    name = _first_evidence(members)
    members[name] = bytes(b ^ 0x20 for b in members[name])  # same size, other bytes


def _tamper_database(members: dict[str, bytes]) -> None:
    data = bytearray(members["database.sqlite3"])
    data[5000] ^= 0xFF
    members["database.sqlite3"] = bytes(data)


def _damaged_but_listed(members: dict[str, bytes]) -> None:
    """A database whose pages are damaged, with a manifest that matches the damage: only the
    integrity check can see it."""
    data = bytearray(members["database.sqlite3"])
    for page in range(3, len(data) // 4096, 3):
        data[page * 4096 : page * 4096 + 12] = b"\xff" * 12
    members["database.sqlite3"] = bytes(data)
    manifest = json.loads(members["manifest.json"])
    manifest["members"]["database.sqlite3"] = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    members["manifest.json"] = json.dumps(manifest).encode()


def _someone_elses_database(members: dict[str, bytes]) -> None:
    """A sound SQLite file of another program, with a manifest that matches it."""
    with tempfile.TemporaryDirectory() as scratch:
        other = Path(scratch) / "contacts.sqlite3"
        connection = sqlite3.connect(other)
        connection.execute("CREATE TABLE contacts (name TEXT)")
        connection.close()
        data = other.read_bytes()
    members["database.sqlite3"] = data
    _manifest_edit(
        lambda m: m["members"].update(  # type: ignore[attr-defined]
            {"database.sqlite3": {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}}
        )
    )(members)


def _add_member(name: str) -> Callable[[dict[str, bytes]], None]:
    def change(members: dict[str, bytes]) -> None:
        members[name] = b"owned"

    return change


CASES: dict[str, tuple[Callable[[dict[str, bytes]], object], str]] = {
    "manifest-missing": (
        lambda m: m.pop("manifest.json"),
        "its manifest (manifest.json) is missing",
    ),
    "foreign-manifest": (
        _manifest_edit(lambda m: m.update(format="someone-else")),
        "its manifest is not ours",
    ),
    "newer-format": (_manifest_edit(lambda m: m.update(version=99)), "newer Fundtracker"),
    "evidence-checksum": (_tamper_evidence, "the checksum of evidence/"),
    "database-checksum": (_tamper_database, "the checksum of database.sqlite3 is wrong"),
    "member-not-listed": (
        lambda m: m.pop(_first_evidence(m)),
        "which is not in the file",
    ),
    "fails-integrity": (_damaged_but_listed, "fails SQLite's integrity check"),
    "not-fundtracker": (_someone_elses_database, "is not a Fundtracker database"),
    "path-traversal": (_add_member("../../outside.txt"), "'../../outside.txt', a name"),
    "absolute-path": (_add_member("/etc/cron.d/evil"), "'/etc/cron.d/evil', a name"),
    "windows-path": (_add_member("evidence\\..\\..\\evil.exe"), "a name a Fundtracker backup"),
    "unknown-member": (_add_member("notes.txt"), "'notes.txt', a name"),
}


@pytest.fixture
def good_backup(demo: Database, demo_file: Path, tmp_path: Path) -> Path:
    _attach_two(demo, tmp_path)
    path = backup.write_backup_file(demo_file, tmp_path / "good.ftbackup").path
    demo.dispose()
    return path


def _assert_refused(capsys: Capsys, demo_file: Path, source: Path, message: str) -> None:
    before_db, before_store = _sha(demo_file), _store(demo_file)
    before_backups = backup.list_backups(demo_file)
    result = run_cli(capsys, str(demo_file), "restore", str(source))
    assert result.code == 1, result.out
    assert message in result.err and "Traceback" not in result.err
    assert str(source) in result.err  # the message names the file
    assert _sha(demo_file) == before_db
    assert _store(demo_file) == before_store
    assert backup.list_backups(demo_file) == before_backups  # no kept copy: nothing was done
    leftovers = [p.name for p in demo_file.parent.iterdir() if p.name.startswith(".restoring")]
    assert leftovers == [] and not (demo_file.parent.parent / "outside.txt").exists()


@pytest.mark.parametrize("case", list(CASES))
def test_restore_refuses_a_damaged_foreign_or_hostile_ftbackup_naming_what_is_wrong(
    good_backup: Path, demo_file: Path, tmp_path: Path, capsys: Capsys, case: str
) -> None:
    change, message = CASES[case]
    bad = _rezip(good_backup, tmp_path / f"{case}.ftbackup", change)
    _assert_refused(capsys, demo_file, bad, message)


def test_restore_refuses_a_truncated_ftbackup(
    good_backup: Path, demo_file: Path, tmp_path: Path, capsys: Capsys
) -> None:
    truncated = tmp_path / "truncated.ftbackup"
    data = good_backup.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])  # the zip's directory is at its end
    _assert_refused(capsys, demo_file, truncated, "not a complete zip file")


def test_restore_refuses_a_zip_bomb_and_a_size_the_manifest_does_not_state(
    good_backup: Path, demo_file: Path, tmp_path: Path, capsys: Capsys
) -> None:
    zeros = bytes(32 << 20)  # 32 MiB of zeros deflate to about 32 KiB: ratio about 1000:1
    sha = hashlib.sha256(zeros).hexdigest()
    name = f"evidence/{sha[:2]}/{sha}"

    def bomb(members: dict[str, bytes]) -> None:
        members[name] = zeros
        _manifest_edit(lambda m: m["members"].update({name: {"sha256": sha, "size": len(zeros)}}))(  # type: ignore[attr-defined]
            members
        )

    _assert_refused(
        capsys, demo_file, _rezip(good_backup, tmp_path / "bomb.ftbackup", bomb), "zip bomb"
    )

    def understated(members: dict[str, bytes]) -> None:
        first = _first_evidence(members)
        _manifest_edit(lambda m: m["members"][first].update(size=3))(members)  # type: ignore[index]

    small = _rezip(good_backup, tmp_path / "understated.ftbackup", understated)
    _assert_refused(capsys, demo_file, small, "bytes in the zip but 3 in the manifest")


def test_restore_refuses_a_backup_larger_than_the_free_disk(
    good_backup: Path, demo_file: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = shutil.disk_usage

    def nearly_full(path: object) -> object:
        return real(path)._replace(free=1000)  # type: ignore[arg-type]

    monkeypatch.setattr(shutil, "disk_usage", nearly_full)  # as ftbackup sees it
    _assert_refused(capsys, demo_file, good_backup, "MB is free beside the database")


def test_a_damaged_evidence_file_is_left_out_of_a_backup_and_reported(
    demo: Database, demo_file: Path, tmp_path: Path, capsys: Capsys
) -> None:
    stored = _attach_two(demo, tmp_path)
    invoice_sha = hashlib.sha256(INVOICE).hexdigest()
    (backup.evidence_store(demo_file) / invoice_sha[:2] / invoice_sha).write_bytes(b"rotted")
    out = tmp_path / "partial.ftbackup"
    result = run_cli(capsys, str(demo_file), "backup", "--out", str(out))
    assert result.code == 0, result.err
    assert invoice_sha in result.err and "left out" in result.err
    with zipfile.ZipFile(out) as archive:
        evidence_names = [n for n in archive.namelist() if n.startswith("evidence/")]
    photo_sha = next(s for s in stored if s != invoice_sha)
    assert evidence_names == [f"evidence/{photo_sha[:2]}/{photo_sha}"]
    # and the file still restores: the manifest matches what it holds
    demo.dispose()
    assert run_cli(capsys, str(demo_file), "restore", str(out)).code == 0


# --- The chosen backup folder --------------------------------------------------------------


def test_the_daily_backup_goes_to_the_chosen_folder_once_a_day_as_an_ftbackup(
    clock: FakeClock, demo: Database, demo_file: Path, tmp_path: Path
) -> None:
    _attach_two(demo, tmp_path)
    chosen = tmp_path / "B"
    chosen.mkdir()
    first = backup.daily_offsite_backup(demo_file, chosen)
    assert first is not None and first.suffix == ".ftbackup"
    assert first.parent == backup.offsite_folder(demo_file, chosen)
    assert first.parent.parent == chosen
    clock.advance(hours=10)
    assert backup.daily_offsite_backup(demo_file, chosen) is None  # the same day
    clock.advance(hours=6)
    second = backup.daily_offsite_backup(demo_file, chosen)
    assert second is not None and second != first
    found = backup.list_offsite_backups(demo_file, chosen)
    assert [(b.path, b.kind) for b in found] == [(second, "daily"), (first, "daily")]
    both = backup.list_backups(demo_file, chosen)  # with the daily taken beside on opening
    assert set(found) < set(both) and all(
        b.path.suffix == ".sqlite3" for b in set(both) - set(found)
    )
    assert backup.last_backup_time(demo_file, chosen) == clock.now


def test_retention_in_the_chosen_folder_is_the_same_as_beside_the_database(
    demo: Database, demo_file: Path, tmp_path: Path, clock: FakeClock
) -> None:
    chosen = tmp_path / "B"
    chosen.mkdir()
    manual = backup.backup_to_folder(demo_file, chosen).path
    opened_on = []
    for _ in range(45):  # 1 April to 15 May 2025, daily
        backup.daily_offsite_backup(demo_file, chosen)
        opened_on.append(clock.now.date())
        clock.advance(days=1)
    found = backup.list_offsite_backups(demo_file, chosen)
    daily_days = sorted(b.taken_at.date() for b in found if b.kind == "daily")
    # the last 14 days (2–15 May; May's newest among them) plus the newest of April
    expected = set(opened_on[-14:]) | {date(2025, 4, 30)}
    assert daily_days == sorted(expected) and len(daily_days) == 15
    assert manual in [b.path for b in found]  # a manual backup is never deleted


def test_two_databases_of_the_same_name_in_one_backup_folder_keep_apart(
    demo_template: Path, demo_file: Path, tmp_path: Path, clock: FakeClock
) -> None:
    colleague = tmp_path / "colleague" / "fundtracker.sqlite3"
    colleague.parent.mkdir()
    shutil.copyfile(demo_template, colleague)
    chosen = tmp_path / "shared-drive"
    chosen.mkdir()
    for _ in range(20):
        backup.daily_offsite_backup(demo_file, chosen)
        backup.daily_offsite_backup(colleague, chosen)
        clock.advance(days=1)
    mine = backup.list_offsite_backups(demo_file, chosen)
    theirs = backup.list_offsite_backups(colleague, chosen)
    assert len(mine) == len(theirs) == 14  # 20 days, all in one month: the last 14 kept
    assert {b.path.parent for b in mine}.isdisjoint({b.path.parent for b in theirs})


def test_an_unreachable_backup_folder_is_named_and_never_created(
    demo_file: Path, tmp_path: Path, capsys: Capsys
) -> None:
    gone = tmp_path / "mnt" / "network-drive"
    with pytest.raises(DatabaseError, match="cannot be reached"):
        backup.daily_offsite_backup(demo_file, gone)
    result = run_cli(capsys, str(demo_file), "backup", "--to", str(gone))
    assert result.code == 1 and str(gone) in result.err
    assert not (tmp_path / "mnt").exists()


def test_backup_to_and_list_show_both_folders_and_daily_is_for_scheduled_tasks(
    demo_file: Path, tmp_path: Path, capsys: Capsys, clock: FakeClock
) -> None:
    chosen = tmp_path / "B"
    chosen.mkdir()
    assert run_cli(capsys, str(demo_file), "backup").code == 0  # beside the database
    clock.advance(minutes=1)
    to = run_cli(capsys, str(demo_file), "backup", "--to", str(chosen))
    assert to.code == 0, to.err
    clock.advance(minutes=1)
    daily = run_cli(capsys, str(demo_file), "backup", "daily", "--to", str(chosen))
    assert daily.code == 0, daily.err
    again = run_cli(capsys, str(demo_file), "backup", "daily", "--to", str(chosen))
    assert again.out.count("already taken today") == 2

    listed = run_cli(
        capsys, str(demo_file), "backup", "list", "--to", str(chosen), "--format", "json"
    )
    rows = [(Path(item["path"]).suffix, item["kind"]) for item in listed.json()]
    # newest first: the two dailies (taken together), the manual in B, the manual beside
    assert sorted(rows[:2]) == [(".ftbackup", "daily"), (".sqlite3", "daily")]
    assert rows[2:] == [(".ftbackup", "manual"), (".sqlite3", "manual")]
    only_beside = run_cli(capsys, str(demo_file), "backup", "list", "--format", "json").json()
    assert [Path(item["path"]).suffix for item in only_beside] == [".sqlite3", ".sqlite3"]


# --- Hand-over -------------------------------------------------------------------------------


def test_a_handover_copy_opens_in_another_folder_for_another_user_with_its_evidence(
    demo: Database,
    demo_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _attach_two(demo, tmp_path)
    submitted = submission.export_return(demo, GRANT, Q2, tmp_path / "q2.xlsx", submit=True)
    handover = backup.write_backup_file(demo_file, tmp_path / "for-sam.ftbackup").path
    expected = _rows(demo_file)
    demo.dispose()

    # Sam's computer: another data folder, the copy opened in a folder Sam picks.
    monkeypatch.setenv("FUNDTRACKER_DATA_DIR", str(tmp_path / "sam-data"))
    sams_folder = tmp_path / "sam" / "Grants from Jo"
    opened = backup.open_copy(handover, sams_folder)
    assert opened == sams_folder / "fundtracker.sqlite3"
    assert _rows(opened) == expected
    copy = open_database(str(opened))
    try:
        attachments = evidence.list_attachments(copy)
        assert len(attachments) == 3
        for info in attachments:
            path = evidence.verified_path(copy, info)  # checked against its SHA-256
            assert path.parent.parent == sams_folder / "evidence"
        pack = evidence.write_evidence_pack(copy, GRANT, Q2, tmp_path / "sam-pack.zip")
        assert pack["checksum"] == submitted.checksum
        with zipfile.ZipFile(tmp_path / "sam-pack.zip") as archive:
            snapshot = archive.read("snapshot.json")
            packed = [n for n in archive.namelist() if n.startswith("evidence/")]
        assert hashlib.sha256(snapshot).hexdigest() == submitted.checksum
        assert len(packed) == 3  # the three attachments of lines 4 and 15
    finally:
        copy.dispose()
    # The original, and its folder, are untouched by the copy.
    assert _rows(demo_file) == expected


def test_opening_a_copy_refuses_a_folder_that_already_holds_a_database(
    good_backup: Path, demo_file: Path
) -> None:
    before = _sha(demo_file)
    with pytest.raises(DatabaseError, match="already holds a database"):
        backup.open_copy(good_backup, demo_file.parent)
    assert _sha(demo_file) == before


# --- Permissions -----------------------------------------------------------------------------


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    previous = os.umask(0o077)
    os.umask(previous)

    def set_umask(value: int) -> None:
        os.umask(value)

    yield set_umask
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="Unix permissions")
@pytest.mark.parametrize(
    ("mask", "expected"),
    [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)],
    ids=["umask-022", "umask-027", "umask-002"],
)
def test_files_for_people_get_the_permissions_the_umask_gives_a_new_file(
    demo: Database,
    demo_file: Path,
    tmp_path: Path,
    capsys: Capsys,
    umask: Callable[[int], None],
    mask: int,
    expected: int,
) -> None:
    _attach_two(demo, tmp_path)
    umask(mask)
    out = tmp_path / "out"
    workbook = out / "q2.xlsx"
    submission.export_return(demo, GRANT, Q2, workbook)
    pack = out / "pack.zip"
    evidence.write_evidence_pack(demo, GRANT, Q2, pack)
    grant_file = out / "grant.toml"
    assert (
        run_cli(capsys, str(demo_file), "grant", "export", GRANT, "-o", str(grant_file)).code == 0
    )
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("Date,Amount\nnot a date,12.00\n", encoding="utf-8")
    errors_csv = out / "errors.csv"
    run_cli(
        capsys,
        str(demo_file),
        "import-ledger",
        str(ledger),
        "--grant",
        GRANT,
        "--map",
        "date=Date",
        "--map",
        "net=Amount",
        "--errors-out",
        str(errors_csv),
    )
    handover = backup.write_backup_file(demo_file, out / "copy.ftbackup").path
    chosen = tmp_path / "B"
    chosen.mkdir()
    offsite = backup.backup_to_folder(demo_file, chosen).path
    written = [workbook, pack, grant_file, errors_csv, handover, offsite]
    assert {p.name: _mode(p) for p in written} == {p.name: expected for p in written}


@pytest.mark.skipif(os.name != "posix", reason="Unix permissions")
def test_an_owner_only_database_and_evidence_store_stay_owner_only_through_a_restore(
    demo: Database, demo_file: Path, tmp_path: Path, umask: Callable[[int], None]
) -> None:
    _attach_two(demo, tmp_path)
    saved = backup.write_backup_file(demo_file, tmp_path / "saved.ftbackup").path
    demo.dispose()
    demo_file.chmod(0o600)
    store = backup.evidence_store(demo_file)
    store.chmod(0o700)
    shutil.rmtree(next(p for p in store.iterdir() if p.is_dir()))  # lose some evidence
    umask(0o022)
    backup.restore(demo_file, saved)
    assert _mode(demo_file) == 0o600
    assert _mode(store) == 0o700


# --- The laptop-loss drill -------------------------------------------------------------------


def test_laptop_loss_drill_restore_from_the_backup_folder_alone_brings_everything_back(
    demo: Database, demo_file: Path, folder_a: Path, tmp_path: Path, clock: FakeClock
) -> None:
    """Database and evidence in folder A, backups to folder B; folder A is deleted; B alone
    brings back every line, attachment and submission, and the evidence pack of the
    submitted return matches its checksum."""
    folder_b = tmp_path / "B"
    folder_b.mkdir()
    stored = _attach_two(demo, tmp_path)
    submitted = submission.export_return(demo, GRANT, Q2, tmp_path / "q2.xlsx", submit=True)
    added = spend.add_spend(demo, GRANT, {"date": "2025-10-02", "net": "75.10"})
    receipt = tmp_path / "receipt.png"
    receipt.write_bytes(b"\x89PNG receipt for line added after the return")
    evidence.attach(demo, added.id, receipt)
    stored[hashlib.sha256(receipt.read_bytes()).hexdigest()] = receipt.read_bytes()
    assert backup.daily_offsite_backup(demo_file, folder_b) is not None
    expected = _rows(demo_file)
    returns_before = submission.list_returns(demo, GRANT)
    demo.dispose()

    shutil.rmtree(folder_a)  # the laptop is gone: database, evidence, backups/ beside it

    [newest] = backup.list_offsite_backups(demo_file, folder_b)  # only folder B is left
    backup.restore(demo_file, newest.path)  # the new laptop, same place
    assert _rows(demo_file) == expected
    assert len(expected["spend_lines"]) > 0 and len(expected["attachments"]) == 4
    assert _store(demo_file) == stored
    restored = open_database(str(demo_file))
    try:
        assert submission.list_returns(restored, GRANT) == returns_before
        for info in evidence.list_attachments(restored):
            assert evidence.verified_path(restored, info).read_bytes() == stored[info.sha256]
        out = tmp_path / "pack-after-loss.zip"
        pack = evidence.write_evidence_pack(restored, GRANT, Q2, out)
        with zipfile.ZipFile(out) as archive:
            snapshot = archive.read("snapshot.json")
        assert pack["status"] == "Submitted" and pack["attachments"] == 3
        assert hashlib.sha256(snapshot).hexdigest() == submitted.checksum
    finally:
        restored.dispose()


def test_a_restore_that_fails_before_the_rename_leaves_the_old_database_whole(
    good_backup: Path, demo_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The evidence goes back first (extra files named by their SHA-256 change no record),
    the database last, with one rename: stopped just before it, the old database is intact."""
    before = _rows(demo_file)
    real_replace = Path.replace

    def power_cut(self: Path, target: str | os.PathLike[str]) -> Path:
        if Path(target) == demo_file:
            raise OSError(5, "Input/output error")
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", power_cut)
    with pytest.raises(OSError):
        backup.restore(demo_file, good_backup)
    # Its rows exactly as they were (the lock folded its -wal file into it: same rows).
    assert backup.integrity_ok(demo_file) and _rows(demo_file) == before
    assert not demo_file.with_name(demo_file.name + ".restoring").exists()
    assert len(_store(demo_file)) == 2  # the evidence files, each whole
    assert all(hashlib.sha256(data).hexdigest() == name for name, data in _store(demo_file).items())
