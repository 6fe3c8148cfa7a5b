"""Issue 17's bad input, environments and faults: text a spreadsheet cannot hold, output in a
narrow encoding, argument values that used to raise tracebacks, foreign locales, accented
capitals, local dates, amounts that could overflow a sum, huge CSV rows, a sound file on a
read-only or full disk, and output that fails after a change was committed. Each test failed
on the code before its fix."""

from __future__ import annotations

import csv
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import tracemalloc
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from openpyxl import load_workbook
from sqlalchemy import create_engine, func, select, text

from fundtracker import backup, dates
from fundtracker.dates import DateError, local_date, parse_date
from fundtracker.errors import DatabaseError, MoneyError
from fundtracker.ledger.reading import Table, UnreadableFileError, examine
from fundtracker.models import Base, SpendLine
from fundtracker.money import parse_money
from fundtracker.services.ledger_view import LedgerFilter, page_lines
from fundtracker.storage import Database, alembic_config, open_database
from tests.helpers import CliResult, run_cli

DATA = Path(__file__).parent / "data"
GRANT = "CRG-2025-26"


def _state(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove a refusal changed nothing."""
    with db.read() as session:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


def _refused_cleanly(result: CliResult) -> None:
    assert result.code in (1, 2), result.out
    assert "Traceback" not in result.err
    assert result.err.startswith("fundtracker-cli: ") and len(result.err.strip()) > 20


@pytest.fixture
def grant_url(db: Database, database_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert run_cli(capsys, database_url, "plan", "import", str(DATA / "plan.toml")).code == 0
    assert run_cli(capsys, database_url, "grant", "import", str(DATA / "grant.toml")).code == 0
    return database_url


def _add(capsys: pytest.CaptureFixture[str], url: str, *fields: str) -> int:
    result = run_cli(
        capsys, url, "spend", "add", "--grant", GRANT, "--date", "2025-05-01",
        "--allocation", "A01", "--format", "json", *fields,
    )  # fmt: skip
    assert result.code == 0, result.err
    return int(result.json()["id"])


# --- Text a spreadsheet cannot hold -------------------------------------------------------

WORD_LINE_BREAK = "Line one\x0bline two"  # Word's Shift+Enter, pasted into a field


def test_a_word_line_break_and_control_characters_export_and_submit(
    grant_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _add(capsys, grant_url, "--net", "10.00", "--supplier=Acme\x0bLtd\x01", "--reference=R1")
    narrative = run_cli(
        capsys, grant_url, "narrative", "set", "--grant", GRANT, "--period", "2025/26-Q1",
        "--allocation", "A01", f"--outputs={WORD_LINE_BREAK}",
    )  # fmt: skip
    assert narrative.code == 0, narrative.err
    out = tmp_path / "return.xlsx"
    result = run_cli(
        capsys, grant_url, "export-return", "--grant", GRANT, "--period", "2025/26-Q1",
        "--out", str(out), "--submit",
    )  # fmt: skip
    assert result.code == 0, result.err
    texts = {
        cell.value
        for sheet in load_workbook(out).worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    }
    # The line break stays a line break; a control character with no meaning goes.
    assert "Line one\nline two" in texts
    assert "Acme\nLtd" in texts

    pack = tmp_path / "pack.zip"
    result = run_cli(
        capsys, grant_url, "evidence-pack", "--grant", GRANT, "--period", "2025/26-Q1",
        "--out", str(pack),
    )  # fmt: skip
    assert result.code == 0, result.err
    with zipfile.ZipFile(pack) as archive:
        transactions = archive.read("transactions.csv").decode("utf-8-sig")
    [row] = list(csv.DictReader(io.StringIO(transactions)))
    assert row["supplier"] == "Acme\nLtd"


def test_clean_text_keeps_tabs_and_newlines_and_drops_what_xml_cannot_hold() -> None:
    from fundtracker.safe_text import clean_text

    assert clean_text("a\x0bb\x0cc") == "a\nb\nc"  # vertical tab and form feed: line breaks
    assert clean_text("a\x00b\x1fc\ufffed\ud800e") == "abcde"
    assert clean_text("tab\there\r\nnext £ Łódź") == "tab\there\r\nnext £ Łódź"


# --- Month names whatever the locale ------------------------------------------------------


@pytest.fixture(scope="session")
def foreign_locales(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """German, Welsh and Turkish locales compiled into a folder of our own (LOCPATH)."""
    folder = tmp_path_factory.mktemp("locales")
    if shutil.which("localedef") is None:
        pytest.skip("localedef is not installed")
    for name in ("de_DE", "cy_GB", "tr_TR"):
        made = subprocess.run(
            ["localedef", "-i", name, "-f", "UTF-8", str(folder / f"{name}.UTF-8")],
            capture_output=True,
        )
        if not (folder / f"{name}.UTF-8").exists():
            pytest.skip(f"cannot compile the {name} locale: {made.stderr!r}")
    return folder


@pytest.mark.parametrize("name", ["de_DE", "cy_GB", "tr_TR"])
def test_english_month_names_are_read_under_any_locale(foreign_locales: Path, name: str) -> None:
    # Under German, strptime's %b wants "Mär" and "Dez"; under Turkish "Tem" for July.
    script = (
        "import locale; locale.setlocale(locale.LC_ALL, '');"
        "from fundtracker.dates import parse_date;"
        "print(locale.setlocale(locale.LC_TIME),"
        " [parse_date(t).isoformat() for t in"
        " ('03-Jul-25', '03-Mar-25', '31 December 2025', '1/Sep/25', '03-MAY-2025')],"
        " parse_date('Jul 03 2025', '%b %d %Y').isoformat())"
    )
    env = {**os.environ, "LOCPATH": str(foreign_locales), "LC_ALL": f"{name}.UTF-8"}
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split()[0] == f"{name}.UTF-8"  # the locale really was in force
    assert ran.stdout.split(None, 1)[1].strip() == (
        "['2025-07-03', '2025-03-03', '2025-12-31', '2025-09-01', '2025-05-03'] 2025-07-03"
    )


def test_english_month_names_in_any_case_and_two_digit_years_as_before() -> None:
    assert parse_date("03-jul-25") == date(2025, 7, 3)
    assert parse_date("3 Sept 2025") == date(2025, 9, 3)
    assert parse_date("03-Jul-69") == date(1969, 7, 3)  # %y: 69-99 are the 1900s
    assert parse_date("03-Jul-68") == date(2068, 7, 3)
    with pytest.raises(DateError, match="not a real date"):
        parse_date("31-Feb-25")
    with pytest.raises(DateError, match="is not a date"):
        parse_date("03-Juli-25")


# --- Amounts that could overflow a sum ----------------------------------------------------


def test_one_amount_is_at_most_999_999_999_99_so_no_sum_can_overflow(
    grant_url: str, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    # 99,999,999,999 pence a line: SQLite's 64-bit SUM (9,223,372,036,854,775,807) holds
    # 9,223,372,036,854,775,807 // 99,999,999,999 = 92,233,720 such lines.
    assert 2**63 // 99_999_999_999 == 92_233_720
    assert parse_money("£999,999,999.99") == Decimal("999999999.99")
    assert parse_money("-999999999.99") == Decimal("-999999999.99")
    for too_big in ("1000000000.00", "9999999999999.99", 10**9, Decimal("1e9")):
        with pytest.raises(MoneyError, match=r"at most £999,999,999\.99"):
            parse_money(too_big)
    before = _state(db)
    refused = run_cli(
        capsys, grant_url, "spend", "add", "--grant", GRANT, "--date", "2025-05-01",
        "--net", "9999999999999.99",
    )  # fmt: skip
    _refused_cleanly(refused)
    assert "at most £999,999,999.99" in refused.err
    assert _state(db) == before


# --- Argument values that used to raise tracebacks ----------------------------------------


def test_argument_values_are_refused_with_a_message_and_change_nothing(
    grant_url: str, db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _add(capsys, grant_url, "--net", "10.00")
    folder = tmp_path / "returns"
    folder.mkdir()
    before = _state(db)
    huge = str(2**63)
    attempts = [
        ("spend", "update", huge, "--net", "1.00"),
        ("spend", "delete", str(2**64 + 5)),
        ("spend", "update", str(-(2**63) - 1), "--net", "1.00"),
        ("spend", "list", "--grant", GRANT, "--period", "9999/00"),
        ("report", "--grant", GRANT, "--period", "0000/01"),
        ("rule", "add", "--grant", GRANT, "--field", "supplier", "--op", "regex",
         "--value", "a{4294967296}", "--allocation", "A01"),
        ("rule", "add", "--grant", GRANT, "--field", "supplier", "--op", "regex",
         "--value", "(a+)+$", "--allocation", "A01"),
        ("rule", "add", "--grant", GRANT, "--field", "supplier", "--op", "regex",
         "--value", "x{5000}", "--allocation", "A01"),
        ("export-return", "--grant", GRANT, "--period", "2025/26-Q1", "--out", str(folder)),
        ("evidence-pack", "--grant", GRANT, "--period", "2025/26-Q1", "--out", str(folder)),
        ("grant", "export", GRANT, "-o", str(folder)),
        ("spend", "update", str(line), "--supplier", "Caf\udce9 Ltd"),  # latin-1 bytes
        ("spend", "add", "--grant", GRANT, "--date", "2025-05-01", "--net", "1.00",
         "--description", "\udcff\udcfe"),
    ]  # fmt: skip
    for args in attempts:
        result = run_cli(capsys, grant_url, *args)
        _refused_cleanly(result)
    assert _state(db) == before
    assert list(folder.iterdir()) == []
    messages = [run_cli(capsys, grant_url, *args).err for args in attempts]
    assert "too large (at most 9223372036854775807)" in messages[0]
    assert "from 1900/01 to 9998/99" in messages[3]
    assert "at most 1,000 times" in messages[5] and "at most 1,000 times" in messages[7]
    assert "itself repeats" in messages[6]
    assert "is a folder" in messages[8] and "--out" in messages[8]
    assert "not UTF-8 text" in messages[11] and "--supplier" in messages[11]


def test_non_utf8_argument_bytes_from_a_real_shell_are_refused(
    grant_url: str, db: Database
) -> None:
    before = _state(db)
    ran = subprocess.run(
        [sys.executable, "-m", "fundtracker", "--database", grant_url, "spend", "add",
         "--grant", GRANT, "--date", "2025-05-01", "--net", "1.00",
         b"--supplier=Caf\xe9 Ltd"],
        capture_output=True, check=False, env={**os.environ, "LC_ALL": "C.UTF-8"},
    )  # fmt: skip
    assert ran.returncode == 2, ran.stderr
    assert b"Traceback" not in ran.stderr and b"not UTF-8 text" in ran.stderr
    assert _state(db) == before


# --- Output in a narrow encoding, and output that fails after a commit ---------------------

LODZ = "Łódź Supplies"


def _cli(url: str, *args: str, stdout: Any = subprocess.PIPE, **env: str) -> Any:
    """The real program in a process of its own, with its own standard streams."""
    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONIOENCODING"}
    return subprocess.run(
        [sys.executable, "-m", "fundtracker", "--database", url, *args],
        stdout=stdout, stderr=subprocess.PIPE, env={**clean_env, **env}, check=False,
    )  # fmt: skip


def test_redirected_output_in_cp1252_gets_every_supplier_whole_in_utf8(
    grant_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on Windows: output redirected to a file is cp1252, which has no Ł or ź."""
    for n in range(3):
        _add(capsys, grant_url, "--net", f"{n + 1}.00", f"--supplier={LODZ} {n}")
    from fundtracker.cli import main

    monkeypatch.delenv("PYTHONIOENCODING", raising=False)
    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="cp1252"))
    assert (
        main(["--database", grant_url, "spend", "list", "--grant", GRANT, "--format", "csv"]) == 0
    )
    sys.stdout.flush()
    rows = list(csv.DictReader(io.StringIO(raw.getvalue().decode("utf-8"))))
    assert [r["supplier"] for r in rows] == [f"{LODZ} {n}" for n in range(3)]


def test_output_in_an_explicit_ascii_encoding_replaces_what_it_cannot_hold(
    grant_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(3):
        _add(capsys, grant_url, "--net", f"{n + 1}.00", f"--supplier={LODZ} {n}")
    for form in ("csv", "table", "json"):
        ran = _cli(grant_url, "spend", "list", "--grant", GRANT, "--format", form,
                   PYTHONIOENCODING="ascii")  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        assert b"Traceback" not in ran.stderr
        text = ran.stdout.decode("ascii")
        assert [f"{n}" for n in range(3) if f"?d? Supplies {n}" in text] == ["0", "1", "2"]


def _spend_count(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count(SpendLine.id))) or 0)


@pytest.mark.parametrize("output", ["closed", "full"])
def test_spend_add_with_a_closed_or_full_stdout_exits_0_because_the_line_was_added(
    grant_url: str, db: Database, output: str
) -> None:
    before = _spend_count(db)
    args = ("spend", "add", "--grant", GRANT, "--date", "2025-05-01", "--net", "5.00")
    if output == "full":
        with open("/dev/full", "w") as full:
            ran = _cli(grant_url, *args, stdout=full)
    else:
        command = " ".join([sys.executable, "-m", "fundtracker", "--database", grant_url, *args])
        ran = subprocess.run(["bash", "-c", command + " >&-"], capture_output=True, check=False)
    assert _spend_count(db) == before + 1  # the change stands...
    assert ran.returncode == 0, ran.stderr  # ...so the exit code says so
    assert b"Traceback" not in ran.stderr
    assert b"the change was made and saved, but its output could not be written" in ran.stderr


def test_import_ledger_with_a_full_stdout_exits_0_and_a_listing_exits_1(
    grant_url: str, db: Database, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.csv"
    rows = ["Date,Reference,Supplier,Description,Net,VAT", "01/07/2025,INV1,Acme,Work,100.00,0"]
    ledger.write_text("\n".join(rows) + "\n", encoding="utf-8")
    before = _spend_count(db)
    with open("/dev/full", "w") as full:
        imported = _cli(grant_url, "import-ledger", str(ledger), "--grant", GRANT, stdout=full)
        listing = _cli(grant_url, "spend", "list", "--grant", GRANT, stdout=full)
    assert _spend_count(db) == before + 1
    assert imported.returncode == 0, imported.stderr
    assert b"the change was made and saved" in imported.stderr
    # Nothing was changed by the listing, and it did not do its job: exit 1, saying so.
    assert listing.returncode == 1, listing.stderr
    assert b"the output could not be written" in listing.stderr
    assert b"nothing was changed" in listing.stderr and b"Traceback" not in listing.stderr


# --- People's dates are the officer's local dates -----------------------------------------

# 23:30 UTC on 30 September 2025 is 00:30 BST on 1 October (British Summer Time is UTC+1).
JUST_AFTER_MIDNIGHT_BST = datetime(2025, 9, 30, 23, 30, tzinfo=UTC)


def test_local_date_is_the_date_in_london() -> None:
    assert local_date(JUST_AFTER_MIDNIGHT_BST) == date(2025, 10, 1)
    # In winter London is on UTC: 23:30 UTC on 30 November is still 30 November.
    assert local_date(datetime(2025, 11, 30, 23, 30, tzinfo=UTC)) == date(2025, 11, 30)


def test_a_return_prepared_at_00_30_bst_on_1_october_says_1_october(
    grant_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(dates, "now_utc", lambda: JUST_AFTER_MIDNIGHT_BST)
    out = tmp_path / "return.xlsx"
    result = run_cli(
        capsys, grant_url, "export-return", "--grant", GRANT, "--period", "2025/26-Q2",
        "--out", str(out),
    )  # fmt: skip
    assert result.code == 0, result.err
    summary = load_workbook(out)["Summary"]
    prepared = [row[1] for row in summary.iter_rows(values_only=True) if row[0] == "Prepared on"]
    assert [v.date() if isinstance(v, datetime) else v for v in prepared] == [date(2025, 10, 1)]


def test_the_daily_backup_belongs_to_the_officers_day(
    grant_url: str, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = db.sqlite_path
    if database is None:
        pytest.skip("daily backups are of SQLite files")
    db.dispose()
    now = [datetime(2025, 9, 30, 22, 30, tzinfo=UTC)]  # 23:30 BST on 30 September
    monkeypatch.setattr(backup, "now_utc", lambda: now[0])
    first = backup.daily_backup(database)
    assert first is not None
    now[0] = JUST_AFTER_MIDNIGHT_BST  # an hour later: 1 October in London, 30/09 in UTC
    second = backup.daily_backup(database)
    assert second is not None, "1 October's backup was skipped as if it were 30 September's"
    assert backup.daily_backup(database) is None  # one a day
    # Retention counts London days too: the two are on different days, so both are kept.
    kept = backup.daily_backups_to_keep(backup.list_backups(database))
    assert {first, second} <= kept


# --- Search finds accented capitals on every database ---------------------------------------


def _found(db: Database, text: str) -> list[str]:
    lines = page_lines(db, GRANT, LedgerFilter(text=text))
    return sorted(line.supplier for line in lines)


def test_search_finds_accented_capitals_by_any_spelling(
    grant_url: str, db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _add(capsys, grant_url, "--net", "1.00", "--supplier=CAFÉ NOIR LTD")
    line = _add(capsys, grant_url, "--net", "2.00", "--supplier=Old name")
    changed = run_cli(capsys, grant_url, "spend", "update", str(line), "--supplier=ŁÓDŹ Supplies")
    assert changed.code == 0, changed.err
    ledger = tmp_path / "ledger.csv"
    rows = ["Date,Reference,Supplier,Description,Net,VAT", "01/07/2025,I1,GROSSE STRAẞE,Rent,3,0"]
    ledger.write_text("\n".join(rows) + "\n", encoding="utf-8")
    imported = run_cli(capsys, grant_url, "import-ledger", str(ledger), "--grant", GRANT)
    assert imported.code == 0, imported.err
    for spelling in ("café", "CAFÉ", "Café", "cafÉ"):
        assert _found(db, spelling) == ["CAFÉ NOIR LTD"], spelling
    for spelling in ("łódź", "ŁÓDŹ", "Łódź"):
        assert _found(db, spelling) == ["ŁÓDŹ Supplies"], spelling
    assert _found(db, "old name") == []  # the update refreshed the search text
    for spelling in ("straße", "STRASSE", "strasse"):  # casefold: ẞ and ß are "ss"
        assert _found(db, spelling) == ["GROSSE STRAẞE"], spelling


def test_lines_of_a_database_made_before_revision_0006_are_found_after_the_upgrade(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
        connection.execute(text(
            "INSERT INTO plans (id, key, name, owner, kind, effective_from, version)"
            " VALUES (1, 'p', 'P', 'O', 'pcc', '2025-04-01', 1)"
        ))  # fmt: skip
        connection.execute(text(
            "INSERT INTO grants (id, reference, name, funder, recipient, award, start_date,"
            " end_date, return_frequency, conditions, aligned_plan_id, version)"
            " VALUES (1, 'G1', 'G', 'F', 'R', 100, '2025-04-01', '2026-03-31', 'quarterly',"
            " '', 1, 1)"
        ))  # fmt: skip
        for n, supplier in enumerate(["CAFÉ NOIR", "ŁÓDŹ", "plain"], 1):
            connection.execute(text(
                "INSERT INTO spend_lines (id, grant_id, date, counted_on, supplier, description,"
                " reference, cost_centre, account_code, net, vat, vat_recoverable, status,"
                " notes, source, version) VALUES (:n, 1, '2025-05-01', '2025-05-01', :s, '',"
                " :r, '', '', 100, 0, 1, 'paid', '', 'manual', 1)"
            ), {"n": n, "s": supplier, "r": f"R{n}"})  # fmt: skip
        old = connection.execute(text("SELECT search_text FROM spend_lines ORDER BY id")).all()
    engine.dispose()
    assert [row[0] for row in old] == ["cafÉ noir  r1   ", "ŁÓdŹ  r2   ", "plain  r3   "]
    database = open_database(str(path))
    try:
        with database.read() as session:
            texts = session.scalars(select(SpendLine.search_text).order_by(SpendLine.id)).all()
        assert texts == ["café noir  r1   ", "łódź  r2   ", "plain  r3   "]
        found = page_lines(database, "G1", LedgerFilter(text="Café"))
        assert [line.supplier for line in found] == ["CAFÉ NOIR"]
    finally:
        database.dispose()


# --- A CSV row too long to be a ledger's ---------------------------------------------------


def _ledger_with_a_huge_row(path: Path) -> Path:
    """A header, one good row, then row 3: 420 cells of 100,000 characters (42 MB), each cell
    under csv's own 131,072-character field limit, so only a row limit can stop it."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("Date,Reference,Supplier,Description,Net,VAT\n")
        handle.write("01/07/2025,I1,Acme,Rent,3.00,0\n")
        cell = "x" * 100_000
        handle.write("01/07/2025,I2,Acme," + ",".join([cell] * 420) + "\n")
    return path


def test_a_42_mb_csv_row_is_refused_naming_it_before_it_is_held_in_memory(
    grant_url: str, db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = _ledger_with_a_huge_row(tmp_path / "huge-row.csv")
    tracemalloc.start()
    try:
        with Table(examine(ledger)) as table, pytest.raises(UnreadableFileError) as refused:
            for _number, _cells in table.rows():
                pass
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "row 3" in str(refused.value) and "1,000,000 characters" in str(refused.value)
    # Reading it whole would take 42 MB for the line and as much again for its cells.
    assert peak < 16 * 1024**2, f"peak {peak:,} bytes"

    before = _state(db)
    result = run_cli(capsys, grant_url, "import-ledger", str(ledger), "--grant", GRANT)
    _refused_cleanly(result)
    assert "huge-row.csv, row 3" in result.err
    assert _state(db) == before


# --- A sound file that cannot be written is not "damaged" ---------------------------------


@pytest.fixture
def sound_file_in_a_read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A sound Fundtracker database (WAL mode, closed, so no -wal or -shm beside it) in a
    folder nobody can create files in: immutable (chattr +i), which binds root too, like a
    read-only drive or share."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    folder = tmp_path / "read-only"
    folder.mkdir()
    path = folder / "fundtracker.sqlite3"
    database = open_database(str(path))
    database.dispose()
    assert sorted(p.name for p in folder.iterdir()) == ["fundtracker.sqlite3"]
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a folder immutable here (not root, or not ext4)")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_sound_database_on_a_read_only_drive_is_not_called_damaged(
    sound_file_in_a_read_only_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = sound_file_in_a_read_only_folder
    before = path.read_bytes()
    with pytest.raises(DatabaseError) as refused:
        open_database(str(path))
    assert not isinstance(refused.value, backup.CorruptDatabaseError)
    message = str(refused.value)
    assert "is not reported damaged, so do not restore a backup over it" in message
    assert "fundtracker.sqlite3-shm" in message and "read-only" in message
    assert path.read_bytes() == before

    result = run_cli(capsys, str(path), "grant", "list")
    assert result.code == 1 and "Traceback" not in result.err
    assert "damaged" not in result.err.replace("not reported damaged", "")
    assert "restore it with" not in result.err


def test_a_full_disk_during_the_daily_backup_is_not_called_damage(
    grant_url: str, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = db.sqlite_path
    if database is None:
        pytest.skip("daily backups are of SQLite files")
    db.dispose()

    def full_disk(*_args: object) -> Path:
        raise DatabaseError("database or disk is full")

    class FullDiskConnection:
        """What SQLite gives on a full disk: the file opens, reading it fails."""

        def execute(self, *_args: object) -> None:
            raise sqlite3.OperationalError("database or disk is full")

        def close(self) -> None:
            pass

    monkeypatch.setattr(backup, "now_utc", lambda: datetime(2030, 1, 1, 12, tzinfo=UTC))
    monkeypatch.setattr(backup, "_has_data", lambda _path: True)
    monkeypatch.setattr(backup, "copy_database", full_disk)
    monkeypatch.setattr(backup, "_read_only", lambda _path: FullDiskConnection())
    assert backup.daily_backup(database) is None  # no backup today, and no false alarm
    with pytest.raises(backup.CannotCheckError, match="The disk is full"):
        backup.check_before_open(database)
