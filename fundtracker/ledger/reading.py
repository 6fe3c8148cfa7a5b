"""Reading ledger files as they really are: CSV or XLSX, one row at a time.

Nothing here loads a whole file: CSV goes through ``csv.reader`` over a text stream and XLSX
through openpyxl's read-only mode. Each row comes with the number a spreadsheet shows for it
(1-based), so every message can point at the row the officer sees.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from xml.parsers.expat import ExpatError, ParserCreate

from fundtracker.errors import FundtrackerError, ValidationError

READ_CHUNK = 1 << 20
SNIFF_CHARS = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
# A real workbook's parts compress perhaps 5-30 times; a zip bomb compresses a thousandfold.
MAX_XLSX_UNCOMPRESSED = 4 * 1024**3
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_FROM = 1024**2
# openpyxl reads these parts whole; a DTD in any of them is how entity tricks start.
XML_PROLOGUE_BYTES = 4096
# A ledger row is a few hundred characters; one of a million is not a ledger's, and reading it
# whole would hold it in memory (a 42 MB row took gigabytes once split into cells). The file
# is refused at that row before the row is held.
MAX_ROW_CHARS = 1_000_000
# openpyxl holds a workbook's shared strings (every distinct text) in memory, whole, before the
# first row: each text at most what Excel lets a cell hold, and all of them at most what a
# million-line ledger's distinct suppliers and descriptions come to, or the file is refused,
# naming the first cell that uses the text over the limit. Counted as the XML streams past.
MAX_CELL_CHARS = 32_767
MAX_SHARED_TEXT_CHARS = 100_000_000
SHARED_STRINGS = "xl/sharedStrings.xml"
_CONTROL = set(range(0, 32)) - {9, 10, 12, 13}


class UnreadableFileError(FundtrackerError):
    """The file cannot be read at all: empty, binary, damaged or unsafe. Nothing was changed."""


class _RowTooLong(Exception):
    """Raised from inside the CSV reader's line source; becomes an UnreadableFileError."""


@dataclass(frozen=True)
class FileFacts:
    """What one pass over the bytes tells us: kind, fingerprint and text encoding."""

    path: Path
    kind: str  # "csv" or "xlsx"
    sha256: str
    size: int
    encoding: str | None  # for CSV: "utf-8-sig", "utf-16" or "cp1252"

    @property
    def name(self) -> str:
        return self.path.name


def examine(path: Path) -> FileFacts:
    """Fingerprint the file and decide how to read it, refusing what is not a ledger file."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            return _examine(path, handle)
    except FileNotFoundError:
        raise UnreadableFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UnreadableFileError(f"{path} is a folder, not a ledger file") from None
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {path}: {exc.strerror}") from None


def _examine(path: Path, handle: io.BufferedReader) -> FileFacts:
    digest = hashlib.sha256()
    first = handle.read(READ_CHUNK)
    if not first:
        raise UnreadableFileError(f"{path.name} is empty")
    kind, encoding = _kind_of(path, first)
    text_check = _TextCheck(path.name, encoding) if kind == "csv" else None
    size = 0
    chunk = first
    while chunk:
        digest.update(chunk)
        size += len(chunk)
        if text_check is not None:
            text_check.feed(chunk)
        chunk = handle.read(READ_CHUNK)
    if text_check is not None:
        encoding = text_check.finish()
    return FileFacts(path, kind, digest.hexdigest(), size, encoding)


def _kind_of(path: Path, first: bytes) -> tuple[str, str | None]:
    if first.startswith(b"PK\x03\x04"):
        return "xlsx", None
    if first.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFileError(
            f"{path.name} is an old-style Excel (.xls) workbook; save it as .xlsx or CSV first"
        )
    if first.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv", "utf-16"
    if first.startswith(codecs.BOM_UTF8):
        return "csv", "utf-8-sig"
    sample = first[:8192]
    if any(byte in _CONTROL for byte in sample):
        raise UnreadableFileError(
            f"{path.name} is not a CSV or Excel file (it holds binary data); export the "
            "ledger as CSV or .xlsx"
        )
    return "csv", "utf-8-sig"


class _TextCheck:
    """Decides between UTF-8 and cp1252 while the bytes stream past, never holding them."""

    def __init__(self, name: str, encoding: str | None):
        self.name = name
        self.encoding = encoding or "utf-8-sig"
        self.utf8 = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self.utf8_ok = self.encoding == "utf-8-sig"
        self.cp1252_ok = True

    def feed(self, chunk: bytes) -> None:
        if self.encoding == "utf-16":
            return
        if b"\x00" in chunk:
            raise UnreadableFileError(f"{self.name} is not a text file (it holds NUL bytes)")
        if self.utf8_ok:
            try:
                self.utf8.decode(chunk)
            except UnicodeDecodeError:
                self.utf8_ok = False
        if self.cp1252_ok:
            try:
                chunk.decode("cp1252")
            except UnicodeDecodeError:
                self.cp1252_ok = False

    def finish(self) -> str:
        if self.encoding == "utf-16":
            return "utf-16"
        if self.utf8_ok:
            try:
                self.utf8.decode(b"", final=True)
                return "utf-8-sig"
            except UnicodeDecodeError:
                pass
        if self.cp1252_ok:
            return "cp1252"
        raise UnreadableFileError(
            f"{self.name} is neither UTF-8 nor Windows (cp1252) text; save it as CSV UTF-8"
        )


# --- The rows of a file -------------------------------------------------------------------


class Table:
    """An open ledger file: its sheets and a stream of ``(row number, cells)``.

    Use as a context manager so the file is always closed. CSV cells are text; XLSX cells are
    what openpyxl gives (text, int, float, datetime, bool or None).
    """

    def __init__(self, facts: FileFacts, sheet: str | None = None):
        self.facts = facts
        self.delimiter: str | None = None
        self.sheet: str | None = None
        self.sheets: list[str] = []
        self._done = 0
        self._total = facts.size
        self._workbook: Any = None
        self._text: io.TextIOWrapper | None = None
        self._handle: io.BufferedReader | None = None
        self._counter: _CountingReader | None = None
        self._row_chars = 0  # characters of the CSV row being read so far
        if facts.kind == "xlsx":
            self._open_workbook(sheet)
        else:
            self._open_csv()

    def __enter__(self) -> Table:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None
        if self._text is not None:
            self._text.close()
            self._text = None
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    @property
    def progress(self) -> tuple[int, int]:
        """Work done and total, in bytes for CSV or rows for XLSX (for a progress bar)."""
        if self._counter is not None:
            return self._counter.count, self._total
        return self._done, max(self._total, self._done)

    def rows(self) -> Iterator[tuple[int, Sequence[object]]]:
        """Every row with its 1-based number, blank rows included (as empty sequences)."""
        if self.facts.kind == "xlsx":
            return self._xlsx_rows()
        return self._csv_rows()

    # CSV ----------------------------------------------------------------------------------

    def _open_csv(self) -> None:
        sample = self._read_sample()
        self.delimiter = sniff_delimiter(sample)
        raw = self.facts.path.open("rb")
        self._counter = _CountingReader(raw)
        self._text = io.TextIOWrapper(
            io.BufferedReader(self._counter),
            encoding=self.facts.encoding,
            newline="",
        )

    def _read_sample(self) -> str:
        with self.facts.path.open(encoding=self.facts.encoding, newline="") as handle:
            sample = handle.read(SNIFF_CHARS)
            if len(sample) == SNIFF_CHARS and "\n" in sample:
                sample = sample[: sample.rindex("\n")]  # whole lines only
            return sample

    def _csv_rows(self) -> Iterator[tuple[int, Sequence[object]]]:
        assert self._text is not None and self.delimiter is not None
        reader = csv.reader(self._bounded_lines(), delimiter=self.delimiter)
        number = 0
        while True:
            self._row_chars = 0
            try:
                cells = next(reader)
            except StopIteration:
                return
            except _RowTooLong:
                raise UnreadableFileError(
                    f"{self.facts.name}, row {number + 1}: the row is longer than "
                    f"{MAX_ROW_CHARS:,} characters, which no ledger row is (or a quote is "
                    "unclosed); nothing was imported"
                ) from None
            except csv.Error as exc:
                raise UnreadableFileError(
                    f"{self.facts.name}, row {number + 1}: cannot read the CSV ({exc}); a cell "
                    f"may be longer than {csv.field_size_limit():,} characters or a quote "
                    "may be unclosed"
                ) from None
            except UnicodeDecodeError:
                raise UnreadableFileError(
                    f"{self.facts.name}, row {number + 1}: text in an unknown encoding"
                ) from None
            number += 1
            yield number, cells

    def _bounded_lines(self) -> Iterator[str]:
        """The text's lines, read at most MAX_ROW_CHARS + 1 at a time: a row (one line, or
        several inside quotes) longer than that stops the reader before it is held whole."""
        assert self._text is not None
        while True:
            line = self._text.readline(MAX_ROW_CHARS + 1)
            if not line:
                return
            self._row_chars += len(line)
            if self._row_chars > MAX_ROW_CHARS:
                raise _RowTooLong
            yield line

    # XLSX ---------------------------------------------------------------------------------

    def _open_workbook(self, sheet: str | None) -> None:
        check_workbook_archive(self.facts.path)
        import openpyxl

        # We own the file handle: openpyxl leaves its own open when a damaged part fails.
        self._handle = self.facts.path.open("rb")
        try:
            self._workbook = openpyxl.load_workbook(
                self._handle, read_only=True, data_only=True, keep_links=False
            )
        except Exception as exc:  # openpyxl raises many kinds on damaged files
            self.close()
            raise UnreadableFileError(
                f"{self.facts.name} cannot be read as an Excel workbook ({_describe(exc)})"
            ) from None
        self.sheets = list(self._workbook.sheetnames)
        worksheets = [ws.title for ws in self._workbook.worksheets]
        if sheet is None:
            if not worksheets:
                self.close()
                raise UnreadableFileError(f"{self.facts.name} has no worksheets")
            sheet = worksheets[0]
        elif sheet not in worksheets:
            self.close()
            raise ValidationError(
                f"{self.facts.name} has no worksheet named '{sheet}' "
                f"(its sheets: {', '.join(worksheets)})"
            )
        self.sheet = sheet

    def _xlsx_rows(self) -> Iterator[tuple[int, Sequence[object]]]:
        worksheet = self._workbook[self.sheet]
        try:
            self._total = int(worksheet.max_row or 0)
            # A wrong <dimension> would cut the sheet short in read-only mode.
            worksheet.reset_dimensions()
            for number, cells in enumerate(worksheet.iter_rows(min_row=1, values_only=True), 1):
                self._done = number
                yield number, cells
        except UnreadableFileError:
            raise
        except Exception as exc:  # damaged XML inside a readable zip
            raise UnreadableFileError(
                f"{self.facts.name}, sheet {self.sheet}, row {self._done + 1}: cannot read the "
                f"workbook ({_describe(exc)})"
            ) from None


class _CountingReader(io.RawIOBase):
    """Counts the bytes read, so progress can be shown without knowing the row count."""

    def __init__(self, raw: io.BufferedReader):
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        read = self.raw.readinto(buffer)
        self.count += read
        return read

    def close(self) -> None:
        self.raw.close()
        super().close()


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def sniff_delimiter(sample: str) -> str:
    """The delimiter that splits most sample rows into the same number (more than one) of
    cells. Title rows have one cell whatever the delimiter, so they do not sway it."""
    best, best_score = ",", 0
    lines = sample.splitlines()[:200]
    for delimiter in DELIMITERS:
        counts: dict[int, int] = {}
        try:
            for cells in csv.reader(lines, delimiter=delimiter):
                if len(cells) > 1:
                    counts[len(cells)] = counts.get(len(cells), 0) + 1
        except csv.Error:
            continue
        score = max(counts.values(), default=0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def check_workbook_archive(path: Path) -> None:
    """Refuse a workbook before openpyxl opens it: damaged or truncated zips, zip bombs (by
    the sizes the zip declares) and XML with a DTD (entity tricks)."""
    name = Path(path).name
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if "xl/workbook.xml" not in {m.filename for m in members}:
                raise UnreadableFileError(f"{name} is a zip archive but not an Excel workbook")
            _refuse_zip_bomb(name, members)
            for member in members:
                if member.filename.endswith((".xml", ".rels", ".vml")):
                    _refuse_dtd(name, archive, member)
            _refuse_huge_shared_strings(name, archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise UnreadableFileError(
            f"{name} is a damaged or truncated Excel workbook ({_describe(exc)})"
        ) from None
    except NotImplementedError as exc:
        raise UnreadableFileError(f"{name} uses an unsupported compression ({exc})") from None
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {name}: {exc}") from None


def _refuse_zip_bomb(name: str, members: list[zipfile.ZipInfo]) -> None:
    # The declared sizes can be trusted as limits: zipfile stops every part at its declared
    # size and fails the CRC check if the data runs on.
    total = sum(m.file_size for m in members)
    if total > MAX_XLSX_UNCOMPRESSED:
        raise UnreadableFileError(
            f"{name} would expand to {total:,} bytes; refused as unsafe (a zip bomb?)"
        )
    for member in members:
        ratio_limit = MAX_COMPRESSION_RATIO * max(member.compress_size, 1)
        if member.file_size > RATIO_CHECK_FROM and member.file_size > ratio_limit:
            raise UnreadableFileError(
                f"{name}: part {member.filename} expands {member.file_size:,} bytes from "
                f"{member.compress_size:,}; refused as unsafe (a zip bomb?)"
            )


def _refuse_dtd(name: str, archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    with archive.open(member) as part:
        prologue = part.read(XML_PROLOGUE_BYTES)
    if b"<!DOCTYPE" in prologue.upper() or b"<!ENTITY" in prologue.upper():
        raise UnreadableFileError(
            f"{name}: part {member.filename} declares a DTD or XML entities; Excel never "
            "writes these, so the file is refused as unsafe"
        )


class _Stop(Exception):
    """Ends an expat parse early, from inside a handler."""


def _parser() -> Any:
    """An expat parser naming elements 'namespace local' (writers differ in prefixes)."""
    return ParserCreate(namespace_separator=" ")


def _local(tag: str) -> str:
    return tag.rsplit(" ", 1)[-1]


def _parse_part(archive: zipfile.ZipFile, part: str, parser: Any) -> None:
    """Feed one part to ``parser`` in chunks (never the whole part in memory)."""
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(READ_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _Stop:
        pass
    except ExpatError as exc:
        raise UnreadableFileError(f"part {part} is not well-formed XML ({exc})") from None


def _refuse_huge_shared_strings(name: str, archive: zipfile.ZipFile) -> None:
    if SHARED_STRINGS not in archive.namelist():
        return
    lengths: list[int] = []  # of the shared strings read so far
    total = 0
    too_long: int | None = None  # the first string over a limit, and which limit
    over_total = False
    parser = _parser()

    def start(tag: str, _attrs: dict[str, str]) -> None:
        if _local(tag) == "si":
            lengths.append(0)

    def text(data: str) -> None:
        nonlocal total, too_long, over_total
        if not lengths:
            return
        lengths[-1] += len(data)
        total += len(data)
        if lengths[-1] > MAX_CELL_CHARS or total > MAX_SHARED_TEXT_CHARS:
            too_long, over_total = len(lengths) - 1, total > MAX_SHARED_TEXT_CHARS
            raise _Stop

    parser.StartElementHandler = start
    parser.CharacterDataHandler = text
    _parse_part(archive, SHARED_STRINGS, parser)
    if too_long is None:
        return
    where = _first_cell_using(archive, too_long, or_later=over_total)
    if over_total:
        problem = (
            f"the workbook's text passes {MAX_SHARED_TEXT_CHARS:,} characters by this cell, "
            "more than any ledger holds; save the sheet as CSV, or split it into smaller files"
        )
    else:
        problem = (
            f"its text is over {MAX_CELL_CHARS:,} characters long, more than Excel lets a "
            "cell hold, so the file was not written by Excel as it is"
        )
    raise UnreadableFileError(f"{name}, {where}: {problem}; nothing was read from it")


def _first_cell_using(archive: zipfile.ZipFile, index: int, or_later: bool) -> str:
    """'sheet S, cell B7 (row 7)' for the first cell showing shared string ``index`` (or,
    with ``or_later``, any later one), sheets in the workbook's order."""
    for sheet, part in _sheet_parts(archive):
        found: list[str] = []
        cell = {"ref": "", "shared": False, "value": ""}
        parser = _parser()

        def start(tag: str, attrs: dict[str, str], cell: dict[str, Any] = cell) -> None:
            if _local(tag) == "c":
                cell.update(ref=attrs.get("r", ""), shared=attrs.get("t") == "s", value="")

        def text(data: str, cell: dict[str, Any] = cell) -> None:
            if cell["shared"] and len(cell["value"]) < 20:
                cell["value"] += data

        def end(tag: str, cell: dict[str, Any] = cell, found: list[str] = found) -> None:
            tag = _local(tag)
            if tag == "v" and cell["shared"] and cell["value"].strip().isdigit():
                used = int(cell["value"])
                if used == index or (or_later and used > index):
                    found.append(cell["ref"])
                    raise _Stop
            if tag == "c":
                cell["shared"] = False

        parser.StartElementHandler = start
        parser.CharacterDataHandler = text
        parser.EndElementHandler = end
        _parse_part(archive, part, parser)
        if found:
            row = "".join(ch for ch in found[0] if ch.isdigit())
            return f"sheet {sheet}, cell {found[0]} (row {row})"
    return f"part {SHARED_STRINGS}, text {index + 1}"  # a text no cell shows


def _sheet_parts(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, part) in the workbook's order, from workbook.xml and its relationships."""
    names = archive.namelist()
    targets: dict[str, str] = {}
    sheets: list[tuple[str, str]] = []

    def relationship(tag: str, attrs: dict[str, str]) -> None:
        if _local(tag) == "Relationship":
            target = attrs.get("Target", "").lstrip("/")
            targets[attrs.get("Id", "")] = target if target.startswith("xl/") else f"xl/{target}"

    def sheet(tag: str, attrs: dict[str, str]) -> None:
        if _local(tag) == "sheet":
            rel = next((v for k, v in attrs.items() if k.endswith(" id")), "")
            sheets.append((attrs.get("name", "?"), rel))

    for part, handler in (("xl/_rels/workbook.xml.rels", relationship), ("xl/workbook.xml", sheet)):
        if part in names:
            parser = _parser()
            parser.StartElementHandler = handler
            _parse_part(archive, part, parser)
    return [(name, targets[rel]) for name, rel in sheets if targets.get(rel) in names]


def list_sheets(path: Path) -> list[str]:
    """The worksheet names of an XLSX file (empty for CSV), for the import wizard."""
    facts = examine(path)
    if facts.kind != "xlsx":
        return []
    with Table(facts) as table:
        return list(table.sheets)
