"""What differs on Windows, simulated here on Linux (the Windows workflow runs the suite on real
Windows too): the data folder, the locale's text encoding (cp1252, not UTF-8), newline
translation on standard output, setup files saved by Notepad with CRLF endings, and a return
workbook that is open in Excel while it is exported again."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from importlib import resources
from pathlib import Path

import platformdirs
import platformdirs.windows
import pytest
from openpyxl import load_workbook

from fundtracker import storage
from fundtracker.storage import Database
from tests.helpers import run_cli

GRANT = "CRG-2025-26"
# The example ledger as installed: five good lines, one bad date, a totals row.
EXAMPLE_LEDGER = Path(str(resources.files("resources") / "examples" / "ledger-example.csv"))
WINDOWS_FOLDERS = {
    "CSIDL_LOCAL_APPDATA": r"C:\Users\alice\AppData\Local",
    "CSIDL_APPDATA": r"C:\Users\alice\AppData\Roaming",
}


def test_the_data_folder_on_windows_is_local_appdata_fundtracker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # platformdirs as it behaves on Windows, with the folders a real profile would report.
    monkeypatch.setattr(platformdirs.windows, "get_win_folder", WINDOWS_FOLDERS.__getitem__)
    monkeypatch.setattr(platformdirs, "PlatformDirs", platformdirs.windows.Windows)
    monkeypatch.delenv("FUNDTRACKER_DATA_DIR")
    folder = str(storage.data_dir()).replace("/", "\\")
    # Local (not Roaming: a database must not travel with a roaming profile), and no
    # "fundtracker\fundtracker" doubling from an app author.
    assert folder == r"C:\Users\alice\AppData\Local\fundtracker"


ENCODING_SCRIPT = """
import sys, warnings
from fundtracker.cli import main
# A text file opened without naming its encoding is read or written in the locale's encoding:
# cp1252 on a UK Windows laptop. Any such open in Fundtracker's own code fails here.
warnings.filterwarnings("error", category=EncodingWarning, module=r"fundtracker(\\.|$)")
# openpyxl opens its temporary XML files that way, but writes bytes through lxml: not ours.
warnings.filterwarnings("ignore", category=EncodingWarning, module=r"(openpyxl|tempfile)")
db, ledger, out = sys.argv[1:4]
steps = [
    ["demo"],
    ["import-ledger", ledger, "--grant", "CRG-2025-26", "--skip-errors",
     "--errors-out", out + "/errors.csv"],
    ["grant", "export", "CRG-2025-26", "-o", out + "/grant.toml"],
    ["grant", "import", out + "/grant.toml"],
    ["spend", "list", "--grant", "CRG-2025-26", "--format", "csv"],
    ["export-return", "--grant", "CRG-2025-26", "--period", "2025/26-Q4",
     "--out", out + "/return.xlsx"],
    ["read-return", out + "/return.xlsx"],
    ["evidence-pack", "--grant", "CRG-2025-26", "--period", "2025/26-Q4",
     "--out", out + "/pack.zip"],
    ["backup"],
]
for step in steps:
    code = main(["--database", db, *step])
    print("STEP", step[0], code, file=sys.stderr)
"""


def test_the_core_names_the_encoding_of_every_text_file_it_opens(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "warn_default_encoding",
            "-c",
            textwrap.dedent(ENCODING_SCRIPT),
            str(tmp_path / "enc.sqlite3"),
            str(EXAMPLE_LEDGER),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "FUNDTRACKER_DATA_DIR": str(tmp_path / "data")},
    )
    assert "EncodingWarning" not in done.stderr, done.stderr[-3000:]
    steps = [line.split() for line in done.stderr.splitlines() if line.startswith("STEP ")]
    # Every step ran; the import exits 1 because the example holds a bad row (skipped).
    assert [s[1] for s in steps] == [
        "demo",
        "import-ledger",
        "grant",
        "grant",
        "spend",
        "export-return",
        "read-return",
        "evidence-pack",
        "backup",
    ], done.stderr[-3000:]
    assert all(s[2] in {"0", "1"} for s in steps), steps
    assert (tmp_path / "return.xlsx").is_file() and (tmp_path / "pack.zip").is_file()


def test_csv_on_windows_stdout_has_one_crlf_per_line(
    demo_db: Database,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Windows' console and pipes translate "\n" to "\r\n" on the way out; a CSV writer that
    # wrote "\r\n" itself would come out "\r\r\n" (a blank row between lines in Excel).
    raw = io.BytesIO()
    windows_stdout = io.TextIOWrapper(raw, encoding="utf-8", newline="\r\n", write_through=True)
    with capsys.disabled():
        monkeypatch.setattr(sys, "stdout", windows_stdout)
        from fundtracker.cli import main

        code = main(
            ["--database", database_url, "spend", "list", "--grant", GRANT, "--format", "csv"]
        )
        windows_stdout.flush()
        monkeypatch.undo()
    assert code == 0
    data = raw.getvalue()
    assert b"\r\r\n" not in data
    lines = data.split(b"\r\n")
    assert lines[-1] == b""  # ends with a line break
    assert b"\n" not in b"".join(lines)  # no bare LF anywhere: every break is one CRLF
    # The demo year has 145 lines (README's demo figure): a header and one row for each.
    assert len(lines) - 1 == 1 + 145


def test_a_grant_file_saved_with_crlf_endings_imports_as_no_change(
    demo_db: Database, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = tmp_path / "grant.toml"
    assert run_cli(capsys, database_url, "grant", "export", GRANT, "-o", str(exported)).code == 0
    # What Notepad on Windows saves: CRLF endings and a UTF-8 byte-order mark.
    text = exported.read_text(encoding="utf-8")
    notepad = tmp_path / "notepad.toml"
    notepad.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    before = run_cli(capsys, database_url, "audit", "--format", "json").json()
    imported = run_cli(capsys, database_url, "grant", "import", str(notepad))
    assert imported.code == 0, imported.err
    after = run_cli(capsys, database_url, "audit", "--format", "json").json()
    assert len(after) == len(before)  # the same grant: nothing changed, nothing audited
    again = tmp_path / "again.toml"
    run_cli(capsys, database_url, "grant", "export", GRANT, "-o", str(again))
    assert again.read_text(encoding="utf-8") == text


def test_exporting_over_a_workbook_open_in_excel_is_refused_plainly(
    demo_db: Database,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "return.xlsx"
    first = run_cli(capsys, database_url, "export-return", "--grant", GRANT, "--period",
                    "2025/26-Q2", "--out", str(out))  # fmt: skip
    assert first.code == 0, first.err
    kept = out.read_bytes()

    # Excel holds an open workbook without FILE_SHARE_DELETE: Windows then refuses to rename
    # anything over it, with this error (winerror 32).
    real_replace = Path.replace

    def replace_like_windows(self: Path, target: str | os.PathLike[str]) -> Path:
        if Path(target) == out:
            raise PermissionError(13, "The process cannot access the file because it is being "
                                  "used by another process", str(self))  # fmt: skip
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", replace_like_windows)
    second = run_cli(capsys, database_url, "export-return", "--grant", GRANT, "--period",
                     "2025/26-Q3", "--out", str(out))  # fmt: skip
    # Exit 2, as for any output that cannot be written, naming the file and why.
    assert second.code == 2
    assert f"cannot write {out}: The process cannot access the file" in second.err
    assert out.read_bytes() == kept  # the open workbook is left as it was
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert load_workbook(out).sheetnames[0] == "Summary"  # not read_only: that keeps the file open
