"""A streaming XLSX reader whose time and memory are bounded by documented limits.

openpyxl's read-only mode loads the whole shared-strings table, trusts the sheet's
``<dimension>`` (a 1.6 KB sheet claiming 16,384 x 1M cells never finishes) and raises many
unrelated exception types on malformed files. Here the workbook is read with :mod:`zipfile`
and expat, part by part and chunk by chunk: every part's uncompressed size is counted as it is
inflated, the shared strings, cells, columns and string lengths are bounded, any DTD is refused
(no entity expansion, no external entities), and every problem is one :class:`InputError` that
names the sheet and the cell and, for a bound, the bound. openpyxl is still used for what it
does well: the number formats that mark a cell as a date.

The sheet read is the workbook's active sheet when it is visible, else the first visible
worksheet. Cells beyond the header's last column are an error (as a ragged CSV row is), a row
without any value is skipped (as a blank CSV line is), and formula cells saved without a
value are read as empty and counted, for one warning.

A service module (private to the package; its public names are imported by `_files`).
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import IO, Any
from xml.parsers import expat

import pyarrow as pa

from .errors import InputError

__all__ = ["XLSX_LIMITS", "read_xlsx"]


class _XlsxLimits:
    """The bounds of the XLSX reader (see the README's Safety section)."""

    max_entries = 10_000  # files in the zip archive
    max_part_bytes = 16 << 20  # workbook, relationships, styles: uncompressed
    max_strings_bytes = 256 << 20  # the shared-strings part, uncompressed
    max_sheet_bytes = 1 << 30  # the worksheet part, uncompressed
    max_strings = 4_000_000  # entries of the shared-strings table
    max_text = 1 << 20  # characters in one cell or one shared string
    max_cells = 200_000_000  # rows x header columns, empty cells included
    max_batch_cells = 4_000_000  # cells per batch handed on (keeps wide sheets' batches small)


XLSX_LIMITS = _XlsxLimits()
_MAX_COLUMN = 16_384  # XFD, Excel's last column
_REF = re.compile(r"([A-Za-z]{1,3})([0-9]*)\Z")
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


class _Stop(Exception):
    """Raised inside an expat handler; carries the InputError out of the parser."""

    def __init__(self, error: InputError) -> None:
        super().__init__(str(error))
        self.error = error


def _local(name: str) -> str:
    # Without namespace processing a tag may carry a prefix (x:row); the local name decides.
    return name.rpartition(":")[2]


class _Part:
    """One member of the archive, inflated in chunks and counted against its bound."""

    def __init__(self, archive: zipfile.ZipFile, name: str, limit: int, where: str) -> None:
        self.name = name
        self._archive = archive
        self._limit = limit
        self._where = where

    def chunks(self) -> Iterator[bytes]:
        size = 0
        with self._archive.open(self.name) as f:
            while chunk := f.read(1 << 20):
                size += len(chunk)
                if size > self._limit:
                    raise InputError(
                        f"{self._where}: {self.name} is larger than {_mib(self._limit)} once "
                        "uncompressed, the most the XLSX reader takes"
                    )
                yield chunk

    def read(self) -> bytes:
        return b"".join(self.chunks())


def _mib(n: int) -> str:
    return f"{n >> 30} GiB" if n >= 1 << 30 and not n % (1 << 30) else f"{n >> 20} MiB"


def _parser(where: str, part: str) -> Any:
    parser = expat.ParserCreate()
    parser.buffer_text = True

    def no_dtd(*args: object) -> None:
        raise _Stop(InputError(f"{where}: {part} declares a DTD, which no XLSX part has"))

    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    return parser


def _parse(part: _Part, parser: Any, where: str) -> Iterator[None]:
    """Feed ``part`` to ``parser`` chunk by chunk, yielding after each (to hand rows on)."""
    try:
        for chunk in part.chunks():
            parser.Parse(chunk, False)
            yield
        parser.Parse(b"", True)
        yield
    except _Stop as stop:
        raise stop.error from None
    except expat.ExpatError as exc:
        raise InputError(
            f"{where}: {part.name}:{exc.lineno}:{exc.offset + 1}: not well-formed XML "
            f"({expat.ErrorString(exc.code)})"
        ) from None


def _attributes(part: _Part, where: str, wanted: set[str]) -> list[tuple[str, dict[str, str]]]:
    """(tag, attributes) of the elements named in ``wanted``, in document order."""
    found: list[tuple[str, dict[str, str]]] = []
    parser = _parser(where, part.name)

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = _local(name)
        if tag in wanted:
            found.append((tag, {_local(k): v for k, v in attrs.items()}))

    parser.StartElementHandler = start
    for _ in _parse(part, parser, where):
        pass
    return found


def _rels(archive: zipfile.ZipFile, names: set[str], owner: str, where: str) -> dict[str, Any]:
    """Relationship id -> (type, target path in the archive) for the part ``owner``."""
    folder, base = posixpath.split(owner)
    path = posixpath.join(folder, "_rels", base + ".rels")
    if path not in names:
        return {}
    out: dict[str, Any] = {}
    part = _Part(archive, path, XLSX_LIMITS.max_part_bytes, where)
    for _, attrs in _attributes(part, where, {"Relationship"}):
        target = attrs.get("Target", "")
        if attrs.get("TargetMode") == "External":
            continue
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        out[attrs.get("Id", "")] = (attrs.get("Type", ""), posixpath.normpath(resolved))
    return out


def read_xlsx(
    source: str | IO[bytes],
    where: str,
    chunksize: int,
    stack: ExitStack,
    warn: Callable[[str], None] | None = None,
) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    """The header and a stream of string batches of the sheet to screen (see the module)."""
    try:
        archive = stack.enter_context(zipfile.ZipFile(source))
        names, batches = _open_sheet(archive, where, chunksize, warn)
    except _ZIP_ERRORS as exc:
        raise _unreadable(where, exc) from None
    return names, _guarded(batches, where)


# What a damaged archive raises from zipfile and zlib: bad headers and CRCs, truncated or
# corrupt deflate streams, encryption (RuntimeError), unknown compression methods.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    OSError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    ValueError,
    OverflowError,
)


def _unreadable(where: str, exc: BaseException) -> InputError:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return InputError(f"{where}: cannot read as XLSX: {reason}")


def _guarded(batches: Iterator[pa.RecordBatch], where: str) -> Iterator[pa.RecordBatch]:
    """The sheet is inflated while it is read: a damaged stream shows up mid-way."""
    try:
        yield from batches
    except InputError:
        raise
    except _ZIP_ERRORS as exc:
        raise _unreadable(where, exc) from None


def _open_sheet(
    archive: zipfile.ZipFile, where: str, chunksize: int, warn: Callable[[str], None] | None
) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    entries = archive.infolist()
    if len(entries) > XLSX_LIMITS.max_entries:
        raise InputError(
            f"{where}: the archive holds {len(entries):,} files; an XLSX workbook is read "
            f"with at most {XLSX_LIMITS.max_entries:,}"
        )
    names = {e.filename for e in entries}
    book = "xl/workbook.xml"
    for rel_type, target in _rels(archive, names, "", where).values():
        if rel_type.endswith("/officeDocument"):
            book = target
    if book not in names:
        raise InputError(f"{where}: cannot read as XLSX: no workbook part ({book})")
    book_part = _Part(archive, book, XLSX_LIMITS.max_part_bytes, where)
    found = _attributes(book_part, where, {"sheet", "workbookView", "workbookPr"})
    rels = _rels(archive, names, book, where)
    sheets = [a for tag, a in found if tag == "sheet"]
    if not sheets:
        raise InputError(f"{where}: the workbook has no sheets")
    views = [a for tag, a in found if tag == "workbookView"]
    active = _int(views[0].get("activeTab", "0")) if views else 0
    date1904 = any(
        a.get("date1904", "").lower() in ("1", "true") for tag, a in found if tag == "workbookPr"
    )
    visible = [
        i
        for i, s in enumerate(sheets)
        if s.get("state", "visible") == "visible"
        and rels.get(s.get("id", ""), ("", ""))[0].endswith("/worksheet")
    ]
    if not visible:
        raise InputError(f"{where}: the workbook has no visible worksheet")
    chosen = active if active in visible else visible[0]
    sheet_name = sheets[chosen].get("name", f"#{chosen + 1}")
    sheet_path = rels[sheets[chosen]["id"]][1]
    if sheet_path not in names:
        raise InputError(f"{where}: sheet '{sheet_name}': its part {sheet_path} is missing")
    strings: list[str] = []
    styles: tuple[set[int], set[int]] = (set(), set())
    for rel_type, target in rels.values():
        if target not in names:
            continue
        if rel_type.endswith("/sharedStrings"):
            strings = _shared_strings(archive, target, where)
        elif rel_type.endswith("/styles"):
            styles = _date_styles(archive, target, where)
    sheet = _Sheet(
        _Part(archive, sheet_path, XLSX_LIMITS.max_sheet_bytes, where),
        where,
        f"{where}: sheet '{sheet_name}'",
        strings,
        styles,
        date1904,
    )
    rows = sheet.rows()
    header = next(rows, None)
    if header is None:
        raise InputError(f"{where}: sheet '{sheet_name}' is empty (no header row)")
    width = len(header)
    sheet.width = width
    columns = ["" if v is None else v for v in header]
    per_batch = max(1, min(chunksize, XLSX_LIMITS.max_batch_cells // max(width, 1)))

    def gen() -> Iterator[pa.RecordBatch]:
        pending: list[list[str | None]] = []
        for row in rows:
            pending.append(row)
            if len(pending) >= per_batch:
                yield _batch(pending, columns)
                pending = []
        if pending:
            yield _batch(pending, columns)
        if sheet.formulas_without_values and warn is not None:
            n = sheet.formulas_without_values
            warn(
                f"{where}: sheet '{sheet_name}': {n:,} formula cell{'s' if n > 1 else ''} "
                "saved without a value, read as empty (open and save the workbook in a "
                "spreadsheet to compute them)"
            )

    return columns, gen()


def _batch(rows: list[list[str | None]], names: list[str]) -> pa.RecordBatch:
    arrays = [pa.array([r[i] for r in rows], type=pa.string()) for i in range(len(names))]
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -1


def _shared_strings(archive: zipfile.ZipFile, path: str, where: str) -> list[str]:
    strings: list[str] = []
    parts: list[str] = []
    state = {"depth_si": 0, "in_t": False, "skip": 0, "size": 0}
    part = _Part(archive, path, XLSX_LIMITS.max_strings_bytes, where)
    parser = _parser(where, path)

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = _local(name)
        if tag == "si":
            state["depth_si"] = 1
            parts.clear()
            state["size"] = 0
        elif tag in ("rPh", "phoneticPr"):
            state["skip"] += 1  # phonetic guides are not the cell's text
        elif tag == "t" and state["depth_si"] and not state["skip"]:
            state["in_t"] = True

    def end(name: str) -> None:
        tag = _local(name)
        if tag == "si":
            if len(strings) >= XLSX_LIMITS.max_strings:
                raise _Stop(
                    InputError(
                        f"{where}: the shared-strings table has more than "
                        f"{XLSX_LIMITS.max_strings:,} strings, the most the XLSX reader takes"
                    )
                )
            strings.append("".join(parts))
            state["depth_si"] = 0
        elif tag in ("rPh", "phoneticPr"):
            state["skip"] -= 1
        elif tag == "t":
            state["in_t"] = False

    def text(data: str) -> None:
        if state["in_t"]:
            state["size"] += len(data)
            if state["size"] > XLSX_LIMITS.max_text:
                raise _Stop(
                    InputError(
                        f"{where}: shared string {len(strings):,} is longer than "
                        f"{XLSX_LIMITS.max_text:,} characters, the most one cell may hold"
                    )
                )
            parts.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    for _ in _parse(part, parser, where):
        pass
    return strings


def _date_styles(archive: zipfile.ZipFile, path: str, where: str) -> tuple[set[int], set[int]]:
    """Indexes of the cell styles that show dates and durations (openpyxl's rules)."""
    data = _Part(archive, path, XLSX_LIMITS.max_part_bytes, where).read()
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise InputError(f"{where}: {path} declares a DTD, which no XLSX part has")
    try:
        from openpyxl.styles.stylesheet import Stylesheet
        from openpyxl.xml.functions import fromstring

        sheet = Stylesheet.from_tree(fromstring(data))
        return set(sheet.date_formats), set(sheet.timedelta_formats)
    except Exception:  # a broken stylesheet only loses date display, as in Excel's repair
        return set(), set()


def _column(ref: str) -> int:
    """1-based column of a reference like ``AB12``; 0 when it is not one."""
    m = _REF.match(ref)
    if not m:
        return 0
    n = 0
    for ch in m.group(1).upper():
        n = n * 26 + ord(ch) - 64
    return n


def _letters(col: int) -> str:
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


class _Sheet:
    """The worksheet part as rows of text, streamed (see :func:`read_xlsx`)."""

    def __init__(
        self,
        part: _Part,
        path: str,
        where: str,
        strings: list[str],
        styles: tuple[set[int], set[int]],
        date1904: bool,
    ) -> None:
        self._part = part
        self._path = path
        self._where = where
        self._strings = strings
        self._dates, self._durations = styles
        self._date1904 = date1904
        self.width: int | None = None  # set once the header is known
        self.formulas_without_values = 0
        self._cells = 0

    def rows(self) -> Iterator[list[str | None]]:
        done: list[list[str | None]] = []
        row: dict[int, str] = {}
        cell: dict[str, Any] = {}
        text: list[str] = []
        where = self._where
        state = {"row": 0, "col": 0, "capture": False, "skip": 0, "size": 0, "in_cell": False}

        def fail(message: str) -> None:
            raise _Stop(InputError(f"{where} {message}"))

        def start(name: str, attrs: dict[str, str]) -> None:
            tag = _local(name)
            if tag == "c":
                ref = attrs.get("r", "")
                col = _column(ref) if ref else state["col"] + 1
                if ref and not col:
                    fail(f"row {state['row']}: '{ref[:40]}' is not a cell reference")
                if col > _MAX_COLUMN:
                    fail(f"cell {ref[:40]}: beyond column XFD, the last a sheet has")
                state["col"] = col
                state["in_cell"] = True
                state["size"] = 0  # the cell's text, all its rich-text runs together
                cell.clear()
                cell.update(t=attrs.get("t", "n"), s=attrs.get("s", "0"), f=False, v=None)
            elif tag == "row":
                r = attrs.get("r")
                state["row"] = _int(r) if r is not None else state["row"] + 1
                state["col"] = 0
                row.clear()
            elif not state["in_cell"]:
                return
            elif tag in ("v", "t") and not state["skip"]:
                state["capture"] = True
                text.clear()
            elif tag == "f":
                cell["f"] = True
            elif tag in ("rPh", "phoneticPr"):
                state["skip"] += 1

        def end(name: str) -> None:
            tag = _local(name)
            if tag == "c":
                state["in_cell"] = False
                value = self._value(cell, state["row"], state["col"])
                if value is not None and value != "":
                    row[state["col"]] = value
            elif tag == "row":
                if row:
                    done.append(self._complete(row, state["row"]))
            elif tag in ("v", "t") and state["capture"]:
                state["capture"] = False
                joined = "".join(text)
                if tag == "v" or cell.get("v") is None:
                    cell["v"] = joined
                else:  # rich text: runs of <t> add up
                    cell["v"] += joined
            elif tag in ("rPh", "phoneticPr"):
                state["skip"] -= 1

        def data(chunk: str) -> None:
            if state["capture"]:
                state["size"] += len(chunk)
                if state["size"] > XLSX_LIMITS.max_text:
                    ref = f"{_letters(state['col'])}{state['row']}"
                    fail(
                        f"cell {ref}: longer than {XLSX_LIMITS.max_text:,} characters, the "
                        "most one cell may hold"
                    )
                text.append(chunk)

        parser = _parser(self._path, self._part.name)
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = data
        for _ in _parse(self._part, parser, self._path):
            if done:
                yield from done
                done.clear()

    def _complete(self, cells: dict[int, str], rownum: int) -> list[str | None]:
        if self.width is None:  # the header: as wide as its last value
            width = max(cells)
            if width > _max_columns():
                raise _Stop(
                    InputError(
                        f"{self._where}: the header has {width:,} columns; at most "
                        f"{_max_columns():,} are read"
                    )
                )
            self.width = width
            return [cells.get(i) for i in range(1, width + 1)]
        width = self.width
        beyond = [c for c in cells if c > width]
        if beyond:
            ref = f"{_letters(beyond[0])}{rownum}"
            raise _Stop(
                InputError(
                    f"{self._where} cell {ref}: a value beyond the header's {width:,} "
                    f"column{'s' if width > 1 else ''}: {cells[beyond[0]][:60]!r}; give its "
                    "column a header (a ragged CSV row is refused the same way)"
                )
            )
        self._cells += width
        if self._cells > XLSX_LIMITS.max_cells:
            raise _Stop(
                InputError(
                    f"{self._where} row {rownum}: more than {XLSX_LIMITS.max_cells:,} cells "
                    f"(rows x the header's {width:,} columns), the most the XLSX reader takes"
                )
            )
        return [cells.get(i) for i in range(1, width + 1)]

    def _value(self, cell: dict[str, Any], rownum: int, col: int) -> str | None:
        raw = cell.get("v")
        kind = cell.get("t", "n")
        if raw is None:
            if cell.get("f"):
                self.formulas_without_values += 1
            return None
        if kind == "s":
            index = _int(raw.strip())
            if not 0 <= index < len(self._strings):
                raise _Stop(
                    InputError(
                        f"{self._where} cell {_letters(col)}{rownum}: shared string "
                        f"{raw[:20]!r} does not exist (the table has {len(self._strings):,})"
                    )
                )
            return self._strings[index]
        if kind in ("inlineStr", "str", "e", "d"):
            return str(raw)
        if kind == "b":
            return {"1": "True", "0": "False"}.get(raw.strip(), str(raw))
        return self._number(raw, _int(cell.get("s", "0")))

    def _number(self, raw: str, style: int) -> str:
        # As openpyxl reads numbers (so the text matches what it gave before): int or float,
        # dates by their cell style; a value that is not a number stays as written.
        text = raw.strip()
        try:
            number: float | int = (
                float(text) if "." in text or "E" in text or "e" in text else int(text)
            )
        except ValueError:
            return raw
        if style in self._dates:
            from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel

            epoch = CALENDAR_MAC_1904 if self._date1904 else WINDOWS_EPOCH
            try:
                return str(from_excel(number, epoch, timedelta=style in self._durations))
            except (OverflowError, ValueError):
                return raw
        return str(number)


def _max_columns() -> int:
    from ._files import MAX_COLUMNS

    return MAX_COLUMNS
