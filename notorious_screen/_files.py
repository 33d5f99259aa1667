"""Streaming table readers and writers for the batch command, with atomic output.

Every input column is read as text, byte for byte (no type inference, no NA guessing), so the
original values come out untouched. Output goes to a hidden temporary file beside the target
and is renamed into place only when complete: an interrupted run never leaves a partial file
under the output name, and a previous file there stays intact.

A service module (private to the package; its public names are imported by `_xlsx`,
`backtesting`, `cli`, `dask_engine`, `reporting`).
"""

from __future__ import annotations

import codecs
import errno
import io
import json
import os
import queue
import re
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ._arrow import first_byte_in, prefixed
from ._text import SURROGATES
from .errors import InputError

__all__ = [
    "FORMATS",
    "TableWriter",
    "atomic_output",
    "format_for",
    "neutralize_batch",
    "open_table",
    "read_batches",
]

FORMATS = ("csv", "tsv", "jsonl", "parquet", "xlsx")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
}
#: Bytes sniffed from the head of CSV input (encoding, header line).
BLOCK_BYTES = 16 * 1024 * 1024
#: Bytes per block of the streaming CSV reader. pyarrow holds several dozen blocks' worth of
#: buffers, so this sets the reader's memory; rows longer than a block are still read whole.
READ_BLOCK_BYTES = 4 * 1024 * 1024
#: Columns any input may have. pyarrow's CSV reader holds buffers per column and block, so
#: width costs memory (4,096 empty columns ~ 200 MB, 100,000 ~ 2 GB); no seller table is wider.
MAX_COLUMNS = 4_096
# What a spreadsheet runs as a formula when a cell starts with it.
_FORMULA_CHARS = b"=+-@\t\r"


def format_for(path: str | None, explicit: str | None, *, default: str = "csv") -> str:
    """The table format: the explicit choice, else the file extension, else ``default``."""
    if explicit:
        return explicit
    if path and path != "-":
        suffixes = [s.lower() for s in Path(path).suffixes]
        if suffixes and suffixes[-1] in (".gz", ".bz2", ".zst"):
            suffixes = suffixes[:-1]
        if suffixes and suffixes[-1] in _EXTENSIONS:
            return _EXTENSIONS[suffixes[-1]]
    return default


def optional(module: str, extra: str, fmt: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(
            f"the {fmt} format needs {module.split('.')[0]}: "
            f"pip install 'notorious-screen[{extra}]'"
        ) from None


# ---- reading ------------------------------------------------------------------------------
class _Reader(Protocol):
    def read(self, size: int = -1, /) -> bytes | None: ...


_ABANDONED = threading.Event()


def readers_abandoned() -> bool:
    """True once a CSV reading stopped before the end of its input (see ``_Counting``)."""
    return _ABANDONED.is_set()


class _Counting(io.RawIOBase):
    """A read-only stream that counts bytes (for progress) and can replay a peeked head.

    pyarrow reads it from its own I/O threads. When the reading stops early (an error), those
    threads may still be inside :meth:`readinto`, and a call that is still running while the
    interpreter shuts down aborts the process ("Fatal Python error") after the error line:
    :meth:`halt` makes every later read an immediate end of file and waits for the running ones.
    """

    def __init__(self, raw: _Reader, head: bytes = b"") -> None:
        self._raw = raw
        self._head = head
        self.consumed = 0
        self._halted = False
        self._eof = False
        self._busy = 0
        self._calls = 0
        self._lock = threading.Lock()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with self._lock:
            if self._halted:
                self._eof = True
                return 0
            self._busy += 1
            self._calls += 1
        try:
            view = memoryview(buffer).cast("B")
            if self._head:
                n = min(len(view), len(self._head))
                view[:n] = self._head[:n]
                self._head = self._head[n:]
            else:
                data = self._raw.read(len(view)) or b""
                n = len(data)
                view[:n] = data
            self.consumed += n
            if not n:
                self._eof = True
            return n
        finally:
            with self._lock:
                self._busy -= 1

    def halt(self) -> None:
        """Stop feeding the reader; return once no read is running (or after 10 s).

        Waiting cannot see a read that pyarrow has scheduled but not yet begun, so a halt
        before the end of the input is also recorded (:func:`readers_abandoned`) for the
        command to end its process without interpreter shutdown.
        """
        import time

        with self._lock:
            self._halted = True
            if not self._eof:
                _ABANDONED.set()
        deadline = time.monotonic() + 10
        quiet = 0
        while time.monotonic() < deadline:
            with self._lock:
                if self._eof and not self._busy:
                    return  # the reader has seen the end: it asks for nothing more
                calls, busy = self._calls, self._busy
            time.sleep(0.01)
            with self._lock:
                quiet = quiet + 1 if not busy and not self._busy and self._calls == calls else 0
            if quiet >= 5:  # no read running or started for 50 ms: the readers are parked
                return


class _Decoded(io.RawIOBase):
    """The input as valid UTF-8, or an :class:`InputError` at the first bad byte.

    UTF-8 input passes through and is only validated; any other codec is decoded and
    re-encoded. Checking here, before pyarrow sees the bytes, lets the error say where the
    bad byte is (``path:line:column``) and keeps invalid text out of pyarrow's row callbacks.
    A missing final newline is supplied, so a header-only file without one still parses.
    """

    def __init__(self, raw: _Reader, codec: str, errors: str, where: str) -> None:
        self._raw = raw
        self._codec = codec
        self._errors = errors
        self._where = where
        self._decoder = codecs.getincrementaldecoder(codec)(errors=errors)
        self._passthrough = codec == "utf-8" and errors == "strict"
        # False hands UTF-8 on unchecked (after the header), for a reader that checks it.
        self.validate = True
        self._pending = b""
        self._eof = False
        self.tail = b"\n"  # the last bytes handed out
        self._line = 1
        self._column = 0  # characters since the last newline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending and not self._eof:
            chunk = self._raw.read(1 << 20) or b""
            final = not chunk
            if self._passthrough and not self.validate:
                self._eof = final
                self._pending = b"\n" if final and self.tail[-1:] not in (b"\n", b"\r") else chunk
                if self._pending:
                    self.tail = (self.tail + self._pending[-64:])[-64:]
                continue
            before = self._decoder.getstate()[0]
            try:
                text = self._decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                raise self._error(before + chunk, exc) from None
            except UnicodeError as exc:  # a codec's own complaint, e.g. a missing BOM
                raise InputError(f"{self._where}: cannot decode as {self._codec}: {exc}") from None
            newlines = text.count("\n")
            self._line += newlines
            self._column = (
                len(text) - text.rfind("\n") - 1 if newlines else self._column + len(text)
            )
            self._pending = chunk if self._passthrough else text.encode("utf-8", "surrogatepass")
            if final:
                self._eof = True
                if self.tail[-1:] not in (b"\n", b"\r"):
                    self._pending += b"\n"
            if self._pending:
                self.tail = (self.tail + self._pending[-64:])[-64:]
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _error(self, data: bytes, exc: UnicodeDecodeError) -> InputError:
        prefix = codecs.decode(data[: exc.start], self._codec, "replace")
        newlines = prefix.count("\n")
        line = self._line + newlines
        column = len(prefix) - prefix.rfind("\n") - 1 if newlines else self._column + len(prefix)
        bad = data[exc.start : exc.start + 1].hex() or "end of file"
        name = "UTF-8" if self._codec == "utf-8" else self._codec
        hint = (
            "pass --encoding (e.g. latin-1, cp1252, utf-16) or --encoding-errors replace"
            if self._codec == "utf-8"
            else "check --encoding, or pass --encoding-errors replace"
        )
        return InputError(
            f"{self._where}:{line}:{column + 1}: bytes that are not valid {name} (0x{bad}); {hint}"
        )


#: File signatures of things people mistake for a CSV (or name .csv): the error says what it is.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook is one: pass --input-format xlsx)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x1f\x8b", "gzip-compressed (decompress it first)"),
    (b"(\xb5/\xfd", "zstd-compressed (decompress it first)"),
    (b"\xfd7zXZ\x00", "xz-compressed (decompress it first)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel .xls (OLE2) file: save it as .xlsx or CSV"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "an executable"),
)


def _reject_binary(head: bytes, where: str) -> None:
    """Refuse files that are plainly not delimited text, saying what they look like."""
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            raise InputError(f"{where}: this is {what}, not a CSV/TSV text file")
    if head.startswith((b"PAR1", b"BZh")) and any(b < 9 for b in head[4:64]):
        what = (
            "a Parquet file: pass --input-format parquet"
            if head[:1] == b"P"
            else "bzip2-compressed"
        )
        raise InputError(f"{where}: this is {what}, not a CSV/TSV text file")


def sniff_encoding(head: bytes, encoding: str) -> tuple[str, bytes]:
    """Resolve ``auto`` and BOMs; returns the codec and the head without its BOM.

    A byte-order mark decides whatever ``encoding`` says: it is never text in practice, and
    honouring it keeps a BOM out of the first column's name. Raises :class:`InputError` for an
    unknown or non-text codec.
    """
    boms = (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    )
    codec = None if encoding == "auto" else _text_codec(encoding)
    for bom, name in boms:
        if head.startswith(bom):
            return name, head[len(bom) :]
    if codec in ("utf-16", "utf-32"):
        # Python's incremental decoder insists on a BOM; without one, read little-endian
        # (what Windows writes), as the one-shot decoder does on this hardware.
        return f"{codec}-le", head
    if codec is None:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not just a character cut at the block's end
                return "cp1252", head
        return "utf-8", head
    return codec, head


def _text_codec(encoding: str) -> str:
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise InputError(
            f"unknown encoding {encoding!r}; try utf-8, latin-1, cp1252, utf-16 or auto"
        ) from None
    if not getattr(info, "_is_text_encoding", True):
        raise InputError(f"{encoding!r} is not a text encoding")
    return info.name


def header_names(head: bytes, delimiter: str, where: str) -> list[str]:
    """The first record's fields as written: no type inference, so ``01``, ``NA`` or an empty
    name stay themselves; a quoted newline inside a name is kept."""
    first = head[: _first_record_end(head)]
    if not first.endswith((b"\n", b"\r")):
        first += b"\n"
    try:
        table = pcsv.read_csv(
            io.BytesIO(first),
            read_options=pcsv.ReadOptions(block_size=max(1 << 20, 2 * len(first))),
            parse_options=pcsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=lambda r: "skip"
            ),
        )
    except pa.ArrowInvalid as exc:
        raise InputError(
            f"{where}: cannot read the header line: {csv_message(str(exc), [], 0, '')}"
        ) from None
    return list(table.schema.names)


def _first_record_end(head: bytes) -> int:
    """Offset just past the first line break outside double quotes (or the end)."""
    quotes = 0
    for m in re.finditer(rb'["\r\n]', head):
        if m.group() == b'"':
            quotes += 1
        elif quotes % 2 == 0:
            end = m.end()
            return end + 1 if m.group() == b"\r" and head[end : end + 1] == b"\n" else end
    return len(head)


@contextmanager
def open_table(
    path: str,
    *,
    fmt: str,
    encoding: str = "utf-8",
    encoding_errors: str = "strict",
    chunksize: int = 100_000,
    progress: Callable[[int, int | None], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> Iterator[tuple[list[str], Iterator[pa.RecordBatch]]]:
    """:func:`read_batches` as a context manager that closes the file however the reading ends."""
    with ExitStack() as stack:
        yield read_batches(
            path,
            fmt=fmt,
            encoding=encoding,
            encoding_errors=encoding_errors,
            chunksize=chunksize,
            progress=progress,
            stack=stack,
            warn=warn,
        )


def read_batches(
    path: str,
    *,
    fmt: str,
    stack: ExitStack,
    encoding: str = "utf-8",
    encoding_errors: str = "strict",
    chunksize: int = 100_000,
    progress: Callable[[int, int | None], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    """Open ``path`` (``-`` for stdin) and return its column names and a stream of batches.

    All columns are strings. Files opened here are closed by ``stack``. Raises
    :class:`InputError` for an unusable file; ``warn`` hears of what was read but is worth
    saying (XLSX formulas saved without a value), once, after the last batch.
    """
    where = "<stdin>" if path == "-" else path
    if fmt in ("csv", "tsv"):
        raw, size = _open_binary(path, where, stack)
        delimiter = "," if fmt == "csv" else "\t"
        rereadable = path != "-" and _regular(raw)
        return _read_csv(
            raw,
            size,
            where,
            delimiter,
            encoding,
            encoding_errors,
            chunksize,
            progress,
            reopen=(lambda: open(path, "rb")) if rereadable else None,
        )
    if fmt == "jsonl":
        raw, _ = _open_binary(path, where, stack)
        return _read_jsonl(raw, where, chunksize)
    if fmt == "parquet":
        return _read_parquet(path if path != "-" else _spooled_stdin(stack), where, chunksize)
    if fmt == "xlsx":
        optional("openpyxl", "xlsx", "xlsx")  # number formats (dates) come from openpyxl
        from ._xlsx import read_xlsx

        source = path if path != "-" else _spooled_stdin(stack)
        return read_xlsx(source, where, chunksize, stack, warn)
    raise InputError(f"unknown input format {fmt!r}; choose one of {', '.join(FORMATS)}")


#: Text one Parquet batch (``--chunksize`` rows) may decode to. Dictionary-encoded columns
#: are read as dictionaries and measured before they are expanded: a few bytes of file can
#: repeat one long value millions of times.
PARQUET_MAX_BATCH_BYTES = 1 << 30


def _read_parquet(
    source: str | BinaryIO, where: str, chunksize: int
) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    pq = optional("pyarrow.parquet", "parquet", "parquet")
    try:
        schema = pq.ParquetFile(source).schema_arrow
        check_width(len(schema.names), where)
        if not isinstance(source, str):
            source.seek(0)
        pf = pq.ParquetFile(source, read_dictionary=text_columns(schema))
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputError(f"{where}: cannot read as Parquet: {one_line(exc)}") from None
    names = list(schema.names)

    def gen() -> Iterator[pa.RecordBatch]:
        rows = 0
        batches = pf.iter_batches(batch_size=chunksize)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                declared = pf.metadata.num_rows
                if rows != declared:  # pyarrow's batches skip what a damaged page lacks
                    raise InputError(
                        f"{where}: cannot read as Parquet: the footer declares {declared:,} "
                        f"row(s) but the pages hold {rows:,} (a damaged file)"
                    ) from None
                return
            except (OSError, ValueError, pa.ArrowException) as exc:
                after = f" after row {rows:,}" if rows else ""
                raise InputError(
                    f"{where}: cannot read as Parquet{after}: {one_line(exc)}"
                ) from None
            try:
                decoded = sum(expanded_bytes(col) for col in batch.columns)
                if decoded <= PARQUET_MAX_BATCH_BYTES:
                    text = all_strings(batch)
            except (ValueError, pa.ArrowException) as exc:
                # Indices outside the dictionary, bytes that are not UTF-8 inside a list or
                # struct (a top-level text column of such bytes is escaped instead).
                after = f" after row {rows:,}" if rows else ""
                raise InputError(
                    f"{where}: cannot read as Parquet{after}: {one_line(exc)}"
                ) from None
            if decoded > PARQUET_MAX_BATCH_BYTES:
                raise InputError(
                    f"{where}: rows {rows + 1:,} to {rows + batch.num_rows:,} decode to "
                    f"{decoded:,} bytes of text, more than the {PARQUET_MAX_BATCH_BYTES >> 20:,} "
                    "MiB one batch may hold; pass a smaller --chunksize"
                )
            rows += batch.num_rows
            yield text

    return names, gen()


def text_columns(schema: pa.Schema) -> list[str]:
    """Top-level text and binary columns (with unique names): read as dictionaries."""
    text = [
        f.name
        for f in schema
        if pa.types.is_string(f.type)
        or pa.types.is_large_string(f.type)
        or pa.types.is_binary(f.type)
        or pa.types.is_large_binary(f.type)
    ]
    return [n for n in text if schema.names.count(n) == 1]


def one_line(exc: BaseException) -> str:
    """An Arrow message on one line: Arrow adds context lines ("Deserializing page header
    failed.") and an error must stay one line."""
    return " ".join(str(exc).split())


def expanded_bytes(col: pa.Array) -> int:
    """The bytes a column's values take once expanded (dictionaries are measured, not built)."""
    if pa.types.is_dictionary(col.type):
        values = col.dictionary
        bounds = pc.min_max(col.indices).as_py()
        if bounds["min"] is not None and not 0 <= bounds["min"] <= bounds["max"] < len(values):
            # A damaged page can point past the dictionary (take would raise, cast might not).
            raise ValueError(
                f"dictionary index {bounds['max']} outside the dictionary's {len(values)} values"
            )
        if not (pa.types.is_string(values.type) or pa.types.is_binary(values.type)):
            return 0
        lengths = pc.binary_length(values).cast(pa.int64())
        total = pc.sum(pc.take(lengths, col.indices)).as_py()
        return int(total or 0)
    if pa.types.is_string(col.type) or pa.types.is_binary(col.type):
        return int(col.nbytes)
    return 0


def _spooled_stdin(stack: ExitStack) -> BinaryIO:
    """stdin copied to an unnamed temporary file: Parquet and XLSX need to seek, and a
    temporary file keeps a big input out of memory."""
    import shutil

    spool = stack.enter_context(tempfile.TemporaryFile(prefix="notorious-screen-"))  # noqa: SIM115
    shutil.copyfileobj(_stdin(), spool, 1 << 20)
    spool.seek(0)
    return spool


def _stdin() -> BinaryIO:
    import sys

    return sys.stdin.buffer


def _open_binary(path: str, where: str, stack: ExitStack) -> tuple[BinaryIO, int | None]:
    if path == "-":
        return _stdin(), None
    try:
        f = stack.enter_context(open(path, "rb"))  # noqa: SIM115 - the stack closes it
        return f, os.fstat(f.fileno()).st_size
    except OSError as exc:
        raise InputError(f"{where}: cannot open: {exc.strerror or exc}") from None


def _read_csv(
    raw: BinaryIO,
    size: int | None,
    where: str,
    delimiter: str,
    encoding: str,
    errors: str,
    chunksize: int,
    progress: Callable[[int, int | None], None] | None,
    *,
    reopen: Callable[[], BinaryIO] | None = None,
) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    """Stream a CSV file as batches of string columns.

    UTF-8 from a file that can be read again is checked by pyarrow alone (it validates every
    string column), which saves decoding it in Python; when pyarrow refuses anything, the file
    is opened again (``reopen``) and read with every check on, so the error comes out exactly
    as it would have: located, with the offending row.
    """
    head = raw.read(BLOCK_BYTES)
    if not head:
        raise InputError(f"{where}: the file is empty (no header line)")
    _reject_binary(head, where)
    codec, head = sniff_encoding(head, encoding)
    if codec == "utf-8" and head[:4096].count(0) > len(head[:4096]) // 5:
        raise InputError(
            f"{where}: this looks like a binary file or UTF-16 without a BOM, not a CSV; "
            "if it is text, try --encoding utf-16 (little-endian) or utf-16-be"
        )
    counting = _Counting(raw, head)
    decoded = _Decoded(counting, codec, errors, where)
    decoded_head = _read_first_record(decoded)
    if not decoded_head.strip(b"\r\n"):
        raise InputError(f"{where}: the file is empty (no header line)")
    lazy = reopen is not None and codec == "utf-8" and errors == "strict"
    decoded.validate = not lazy
    feed = _Counting(decoded, decoded_head)
    stream: IO[bytes] = io.BufferedReader(feed, 1 << 20)
    names = header_names(decoded_head, delimiter, where)
    check_width(len(names), where)
    bad_rows: list[str] = []

    def strictly(exc: pa.ArrowInvalid) -> InputError:
        """The error of a checked reading of the file, which meets the same problem."""
        assert reopen is not None
        with reopen() as again_raw:
            _, again = _read_csv(
                again_raw, size, where, delimiter, encoding, errors, chunksize, None
            )
            for _ in again:
                pass
        return InputError(f"{where}: {csv_message(str(exc), [], 0, codec)}")

    def on_invalid(row: Any) -> str:
        bad_rows.append(
            f"expected {row.expected_columns} fields, got {row.actual_columns}: {row.text[:120]!r}"
        )
        return "error"

    try:
        reader = pcsv.open_csv(
            stream,
            read_options=pcsv.ReadOptions(block_size=READ_BLOCK_BYTES, use_threads=True),
            parse_options=pcsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=True,
                # pyarrow decodes a bad row's text for the handler, and cannot when the
                # bytes are not UTF-8: an unchecked reading has no handler and reads again.
                invalid_row_handler=None if lazy else on_invalid,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        feed.halt()
        if STRADDLING in str(exc):
            raise _row_too_long(where, 0) from None
        if lazy:
            raise strictly(exc) from None
        raise InputError(f"{where}: {csv_message(str(exc), bad_rows, 0, codec)}") from None

    def gen() -> Iterator[pa.RecordBatch]:
        try:
            yield from batches()
        finally:
            feed.halt()  # however the reading ends: no pyarrow read outlives it

    def batches() -> Iterator[pa.RecordBatch]:
        rows = held = 0
        last: pa.RecordBatch | None = None
        pending: list[pa.RecordBatch] = []
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                _check_closed_quotes(last, decoded.tail, where)
                break
            except pa.ArrowInvalid as exc:
                if STRADDLING in str(exc):
                    raise _row_too_long(where, rows + held) from None
                if lazy:
                    feed.halt()
                    raise strictly(exc) from None
                raise InputError(
                    f"{where}: {csv_message(str(exc), bad_rows, rows + held, codec)}"
                ) from None
            if batch.num_rows:
                last = batch
            # The reader's blocks hold a few ten thousand rows; screening cost per batch
            # partly follows distinct values per batch, so gather blocks up to chunksize.
            pending.append(batch)
            held += batch.num_rows
            while held >= chunksize:
                whole = _concat(pending)
                piece, rest = whole.slice(0, chunksize), whole.slice(chunksize)
                pending, held = ([rest] if rest.num_rows else []), rest.num_rows
                rows += piece.num_rows
                yield piece
            if progress is not None:
                progress(counting.consumed, size)
        if held:
            rows += held
            yield _concat(pending)

    return names, gen()


# pyarrow's complaint when one row spans more than two of its blocks.
STRADDLING = "straddling object straddles two block boundaries"


def _row_too_long(where: str, rows: int) -> InputError:
    after = f" after data row {rows:,}" if rows else " near the start of the file"
    return InputError(
        f"{where}: a row{after} is longer than {READ_BLOCK_BYTES >> 20} MiB, the longest the "
        "CSV reader is sure to take (a longer one is read only when it happens to fit in two "
        "of its blocks); shorten that row's fields, or convert the file to Parquet or JSON Lines"
    )


def _concat(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(batches) == 1:
        return batches[0]
    batch: pa.RecordBatch = pa.Table.from_batches(batches).combine_chunks().to_batches()[0]
    return batch


def _check_closed_quotes(last: pa.RecordBatch | None, tail: bytes, where: str) -> None:
    """Refuse a file whose last quoted field is never closed.

    pyarrow reads such a field to the end of the file, so every row after the opening quote
    would vanish into one value. The last value then ends with a line break while the file
    does not end with a closing quote.
    """
    if last is None or not last.num_columns:
        return
    value = last.column(last.num_columns - 1)[last.num_rows - 1].as_py()
    if value and value[-1] in "\r\n" and tail.rstrip(b"\r\n")[-1:] != b'"':
        raise InputError(
            f"{where}: a quoted field in the last rows is never closed; everything after its "
            f"opening quote would be read as one value: {value[:120]!r}"
        )


def check_width(columns: int, where: str) -> None:
    if columns > MAX_COLUMNS:
        raise InputError(
            f"{where}: the header has {columns:,} columns; at most {MAX_COLUMNS:,} are read"
        )


def _regular(raw: BinaryIO) -> bool:
    """A regular file (not a pipe or a device), which can be opened and read again."""
    try:
        return stat.S_ISREG(os.fstat(raw.fileno()).st_mode)
    except (OSError, ValueError, io.UnsupportedOperation):
        return False


def _read_first_record(stream: _Reader) -> bytes:
    """Read at least the header record (up to one block) from a decoded stream."""
    head = b""
    while len(head) < BLOCK_BYTES:
        chunk = stream.read(1 << 16)
        if not chunk:
            break
        head += chunk
        if _first_record_end(head) < len(head):
            break
    return head


def csv_message(msg: str, bad_rows: list[str], rows: int, codec: str) -> str:
    where = f" after data row {rows:,}" if rows else ""
    if bad_rows:
        return f"malformed row{where}: {bad_rows[0]}"
    if "invalid UTF8" in msg:
        return (
            f"invalid {codec.upper() or 'UTF-8'} bytes in the rows{where}; "
            "pass --encoding (e.g. latin-1, utf-16) or --encoding-errors replace"
        )
    if "Empty CSV" in msg:
        return "the file is empty (no header line)"
    return " ".join(msg.removeprefix("CSV parse error: ").split())


def all_strings(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Every column as text. Types Arrow cannot cast (lists, structs, maps, binary that is not
    UTF-8) become JSON text, as nested JSONL values do, and bytes keep their escapes."""
    arrays = []
    for col in batch.columns:
        if pa.types.is_dictionary(col.type):  # measured by the caller, within its bound
            col = col.dictionary_decode()
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            try:
                col.validate(full=True)  # Parquet does not promise valid UTF-8
            except pa.ArrowInvalid:  # bytes, then: escaped as binary columns are
                col = col.view(pa.binary() if pa.types.is_string(col.type) else pa.large_binary())
            else:
                if pa.types.is_string(col.type):
                    arrays.append(col)
                    continue
        try:
            arrays.append(pc.cast(col, pa.string()))
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            arrays.append(pa.array([_cell_text(v) for v in col.to_pylist()], type=pa.string()))
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


#: JSONL rows read before the columns are fixed: a key first seen later is an error.
JSONL_LOOKAHEAD = 100_000
#: ... and the bytes of those rows held at most (the lookahead ends at whichever comes first).
JSONL_LOOKAHEAD_BYTES = 64 * 1024 * 1024
#: The longest JSON Lines line read (a bigger one is an error with its line number).
JSONL_MAX_LINE_BYTES = 16 * 1024 * 1024


def _bounded_lines(raw: BinaryIO, where: str) -> Iterator[tuple[int, bytes]]:
    """(line number, line) pairs, never holding more than one line of the bound."""
    lineno = 0
    while True:
        line = raw.readline(JSONL_MAX_LINE_BYTES + 1)
        if not line:
            return
        lineno += 1
        if len(line) > JSONL_MAX_LINE_BYTES:
            raise InputError(
                f"{where}:{lineno}: the line is longer than "
                f"{JSONL_MAX_LINE_BYTES >> 20} MiB, the longest JSON Lines line read"
            )
        yield lineno, line


def _read_jsonl(
    raw: BinaryIO, where: str, chunksize: int
) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    """One JSON object per line. The columns are the keys of the first
    :data:`JSONL_LOOKAHEAD` rows (or :data:`JSONL_LOOKAHEAD_BYTES` of them) in order of
    appearance (a row without a key gets null); a key that first appears after them stops the
    run rather than being dropped. Lines are read up to :data:`JSONL_MAX_LINE_BYTES`."""
    names: list[str] = []
    known: set[str] = set()
    lines = _bounded_lines(raw, where)

    def parse(lineno: int, data: bytes) -> dict[str, Any] | None:
        if lineno == 1 and data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        try:
            line = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{where}:{lineno}:{exc.start + 1}: bytes that are not valid UTF-8 "
                f"(0x{data[exc.start : exc.start + 1].hex()}); JSON Lines must be UTF-8"
            ) from None
        if not line.strip():
            return None
        try:
            obj = json.loads(line.rstrip("\r\n"), object_pairs_hook=_unique_keys)
        except _DuplicateKey as exc:
            raise InputError(
                f"{where}:{lineno}: duplicate key {exc.args[0]!r} in one object"
            ) from None
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{where}:{lineno}:{exc.colno}: not a JSON object: {exc.msg}"
            ) from None
        except RecursionError:
            raise InputError(f"{where}:{lineno}: JSON nested too deeply") from None
        except ValueError as exc:  # int("1" * 5000): Python's digit limit for integers
            digits = getattr(sys, "get_int_max_str_digits", lambda: 4300)()
            if "digits" not in str(exc):
                raise InputError(f"{where}:{lineno}: not a JSON object: {exc}") from None
            raise InputError(
                f"{where}:{lineno}: a number with more than {digits:,} digits, "
                "the most Python reads; quote it to keep it as text"
            ) from None
        if not isinstance(obj, dict):
            raise InputError(f"{where}:{lineno}: not a JSON object")
        return obj

    def add_keys(lineno: int, obj: dict[str, Any]) -> None:
        for key in obj:
            if key not in known:
                known.add(key)
                names.append(key)
        if len(names) > MAX_COLUMNS:
            raise InputError(
                f"{where}:{lineno}: more than {MAX_COLUMNS:,} keys; at most "
                f"{MAX_COLUMNS:,} columns are read"
            )

    first_rows: list[dict[str, Any]] = []
    held = 0
    for lineno, line in lines:
        obj = parse(lineno, line)
        if obj is not None:
            add_keys(lineno, obj)
            first_rows.append(obj)
            held += len(line)
            if len(first_rows) >= JSONL_LOOKAHEAD or held >= JSONL_LOOKAHEAD_BYTES:
                break
    if not first_rows:
        raise InputError(f"{where}: the file is empty (no JSON rows)")
    if not names:  # a batch without columns cannot carry rows: they would vanish
        raise InputError(
            f"{where}: no key in the first {len(first_rows):,} rows (every object is {{}}), "
            "so the file has no columns"
        )

    def to_text(v: Any) -> str | None:
        if v is None:
            return None
        return _usv(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))

    def gen() -> Iterator[pa.RecordBatch]:
        for start in range(0, len(first_rows), chunksize):
            yield _rows_batch(first_rows[start : start + chunksize], names, to_text)
        pending: list[dict[str, Any]] = []
        for lineno, line in lines:
            obj = parse(lineno, line)
            if obj is None:
                continue
            for key in obj:
                if key not in known:
                    raise InputError(
                        f"{where}:{lineno}: key {key!r} first appears after the first "
                        f"{len(first_rows):,} rows, which fixed the columns; add it to an "
                        "earlier row or convert the file to CSV"
                    )
            pending.append(obj)
            if len(pending) >= chunksize:
                yield _rows_batch(pending, names, to_text)
                pending = []
        if pending:
            yield _rows_batch(pending, names, to_text)

    return names, gen()


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json keeps the last of two equal keys silently; that would drop a value. A "\ud800"
    # escape gives a lone surrogate, which no UTF-8 output can hold: U+FFFD, as for values.
    pairs = [(_usv(k), v) for k, v in pairs]
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


def _usv(text: str) -> str:
    return text if text.isascii() else SURROGATES.sub("\ufffd", text)


def _rows_batch(
    rows: list[dict[str, Any]], names: list[str], to_text: Callable[[Any], str | None]
) -> pa.RecordBatch:
    arrays = [pa.array([to_text(r.get(n)) for r in rows], type=pa.string()) for n in names]
    return pa.RecordBatch.from_arrays(arrays, names=list(names))


# ---- writing ------------------------------------------------------------------------------
def neutralize_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Prefix ``'`` to text cells a spreadsheet would run as a formula (=, +, -, @, tab, CR)."""
    arrays = []
    for col in batch.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            risky = first_byte_in(col, _FORMULA_CHARS)
            if risky.any():
                col = prefixed(col, risky, "'")
        arrays.append(col)
    return pa.RecordBatch.from_arrays(arrays, schema=batch.schema)


@contextmanager
def atomic_output(path: str) -> Iterator[BinaryIO]:
    """Yield a binary sink that replaces ``path`` only on success (``-`` is stdout).

    A regular file (new, or existing through any symlinks) is written beside itself and
    renamed into place, keeping an existing file's permissions (a new one gets the umask's).
    Anything else already at the path (``/dev/null``, a FIFO, a terminal) is written in
    place: renaming over a device node would replace it, which root may do. A directory is
    an error.
    """
    if path == "-":
        import sys

        out = sys.stdout.buffer
        yield out
        out.flush()
        return
    target = Path(os.path.realpath(path))  # replace the file a symlink points to, not the link
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise InputError(f"{path}: cannot write here: {exc.strerror or exc}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a directory; give the output a file name")
    if st is not None and not stat.S_ISREG(st.st_mode):
        try:
            special = open(target, "wb")  # noqa: SIM115 - closed just below
        except OSError as exc:
            raise InputError(f"{path}: cannot write here: {exc.strerror or exc}") from None
        with _write_errors(path), special:
            yield special
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise InputError(f"{path}: cannot write here: {exc.strerror or exc}") from None
    ok = False
    try:
        os.fchmod(fd, stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask())
        with _write_errors(path), os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise InputError(f"{path}: cannot write here: {exc.strerror or exc}") from None
        ok = True
    finally:
        if not ok:
            with suppress(OSError):
                os.unlink(tmp)


@contextmanager
def _write_errors(path: str) -> Iterator[None]:
    """A full disk or quota is a plain error, not a traceback."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS):
            raise
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _umask() -> int:
    mask = os.umask(0o022)  # the only portable way to read it is to set it
    os.umask(mask)
    return mask


class TableWriter:
    """Write record batches in one format to a binary sink, one batch at a time.

    With ``neutralize``, CSV, TSV and XLSX text cells *and column names* that a spreadsheet
    would run as a formula get a leading ``'``. XLSX text is always stored as text cells, so
    even ``--no-neutralize`` output never holds a formula.
    """

    def __init__(self, sink: BinaryIO, fmt: str, schema: pa.Schema, *, neutralize: bool) -> None:
        self.fmt = fmt
        self._sink = sink
        self._neutralize = neutralize and fmt in ("csv", "tsv", "xlsx")
        self._writer: Any = None
        self._xlsx: Any = None
        names = list(schema.names)
        if fmt == "jsonl":
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:  # a JSON object keeps one value per key: the other column would be lost
                raise InputError(
                    f"the input repeats column name(s) {', '.join(map(repr, dupes))}; JSONL "
                    "output needs unique names: rename them or write CSV, TSV or XLSX"
                )
        if self._neutralize:
            names = [_neutralize_text(n) for n in names]
        self._names = names
        if fmt in ("csv", "tsv"):
            self._writer = pcsv.CSVWriter(
                sink,
                pa.schema([f.with_name(n) for f, n in zip(schema, names, strict=True)]),
                write_options=pcsv.WriteOptions(
                    include_header=True,
                    delimiter="," if fmt == "csv" else "\t",
                    quoting_style="needed",
                ),
            )
        elif fmt == "parquet":
            pq = optional("pyarrow.parquet", "parquet", "parquet")
            self._writer = pq.ParquetWriter(sink, schema)
        elif fmt == "xlsx":
            openpyxl = optional("openpyxl", "xlsx", "xlsx")
            self._xlsx = openpyxl.Workbook(write_only=True)
            self._sheet = self._xlsx.create_sheet("screened")
            self._sheet.append([self._xlsx_cell(n) for n in names])
        elif fmt != "jsonl":
            raise InputError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")

    def write(self, batch: pa.RecordBatch) -> None:
        if self._neutralize:
            batch = neutralize_batch(batch)
        if self.fmt == "jsonl":
            names = batch.schema.names
            lines = [
                json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False)
                for row in zip(*(c.to_pylist() for c in batch.columns), strict=True)
            ]
            if lines:
                self._sink.write(("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))
        elif self.fmt == "xlsx":
            for row in zip(*(c.to_pylist() for c in batch.columns), strict=True):
                self._sheet.append([self._xlsx_cell(v) for v in row])
        elif self.fmt == "parquet":
            self._writer.write_batch(batch)
        else:
            self._writer.write_batch(pa.RecordBatch.from_arrays(batch.columns, names=self._names))

    def _xlsx_cell(self, value: Any) -> Any:
        value = _xlsx_safe(value)
        # openpyxl stores "=..." as a formula and "#N/A"-like text as an error value.
        if isinstance(value, str) and value[:1] in ("=", "#"):
            from openpyxl.cell import WriteOnlyCell

            cell = WriteOnlyCell(self._sheet, value=value)
            cell.data_type = "s"
            return cell
        return value

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._xlsx is not None:
            self._save_xlsx()

    def _save_xlsx(self) -> None:
        # Workbook.save leaves its ZipFile open when a write fails (a full disk), and the
        # ZipFile's finalizer then prints "Exception ignored ... Traceback" after our error.
        import zipfile

        from openpyxl.writer.excel import ExcelWriter

        archive = zipfile.ZipFile(self._sink, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        try:
            ExcelWriter(self._xlsx, archive).save()
        except BaseException:
            with suppress(Exception):
                archive.close()  # fails again on a full disk, but marks the archive closed
            raise


_T = TypeVar("_T")


def read_ahead(batches: Iterator[_T], depth: int = 1) -> Iterator[_T]:
    """Yield ``batches`` as read by a second thread, up to ``depth`` batches ahead.

    pyarrow parses and converts a block with the GIL released, so reading the next batch
    overlaps screening this one. Errors come out where the reading stopped, after the batches
    read before them. Leaving early stops the thread before the file is closed.
    """
    ready: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for batch in batches:
                if not offer(("batch", batch)):
                    return
        except BaseException as exc:  # raised again on the reading side
            offer(("error", exc))
            return
        offer(("end", None))

    thread = threading.Thread(target=run, name="notorious-screen-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, item = ready.get()
            if kind == "batch":
                yield item
            elif kind == "error":
                raise item
            else:
                return
    finally:
        stop.set()
        thread.join()


def write_behind(
    writer: TableWriter,
    batches: Iterable[pa.RecordBatch],
    written: Callable[[int], None] | None = None,
) -> None:
    """Write ``batches`` on a second thread while the next ones are being made.

    Arrow's CSV and Parquet writers release the GIL, so on two cores writing one batch overlaps
    screening the next. At most one batch waits; an error on either side stops both and is
    raised here.
    """
    pending: queue.Queue[pa.RecordBatch | None] = queue.Queue(maxsize=1)
    failed: list[BaseException] = []

    def run() -> None:
        while (batch := pending.get()) is not None:
            if failed:
                continue  # keep draining so the producer never blocks on a dead writer
            try:
                writer.write(batch)
                if written is not None:
                    written(batch.num_rows)
            except BaseException as exc:  # raised again on the calling thread
                failed.append(exc)

    thread = threading.Thread(target=run, name="notorious-screen-writer", daemon=True)
    thread.start()
    try:
        for batch in batches:
            if failed:
                break
            pending.put(batch)
    finally:
        pending.put(None)
        thread.join()
    if failed:
        raise failed[0]


def _neutralize_text(text: str) -> str:
    return "'" + text if text and text[0] in _FORMULA_CHARS.decode() else text


_XLSX_ILLEGAL = None


def _xlsx_safe(value: Any) -> Any:
    # openpyxl refuses control characters that XML 1.0 cannot carry; drop them from the cell.
    global _XLSX_ILLEGAL
    if isinstance(value, str):
        if _XLSX_ILLEGAL is None:
            import re

            _XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
        return _XLSX_ILLEGAL.sub("\ufffd", value)
    return value
