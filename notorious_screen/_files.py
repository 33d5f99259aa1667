"""Streaming table readers and writers for the batch command, with atomic output.

Every input column is read as text, byte for byte (no type inference, no NA guessing), so the
original values come out untouched. Output goes to a hidden temporary file beside the target
and is renamed into place only when complete: an interrupted run never leaves a partial file
under the output name, and a previous file there stays intact.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

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
#: Bytes read per block from CSV input; a single field may be up to this size.
BLOCK_BYTES = 16 * 1024 * 1024
_FORMULA_START = r"^[=+\-@\t\r]"


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


def _optional(module: str, extra: str, fmt: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(
            f"the {fmt} format needs {module.split('.')[0]}: pip install 'notorious-screen[{extra}]'"
        ) from None


# ---- reading ------------------------------------------------------------------------------
class _Counting(io.RawIOBase):
    """A read-only stream that counts bytes (for progress) and can replay a peeked head."""

    def __init__(self, raw: BinaryIO, head: bytes = b"") -> None:
        self._raw = raw
        self._head = head
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
        else:
            data = self._raw.read(len(view))
            n = len(data)
            view[:n] = data
        self.consumed += n
        return n


class _Transcode(io.RawIOBase):
    """Decode a byte stream with a Python codec and re-encode it as UTF-8."""

    def __init__(self, raw: IO[bytes], encoding: str, errors: str) -> None:
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
        self._pending = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending and not self._eof:
            chunk = self._raw.read(1 << 20)
            if not chunk:
                self._eof = True
                self._pending = self._decoder.decode(b"", final=True).encode("utf-8", "surrogatepass")
            else:
                self._pending = self._decoder.decode(chunk).encode("utf-8", "surrogatepass")
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _sniff_encoding(head: bytes, encoding: str) -> tuple[str, bytes]:
    """Resolve ``auto`` and BOMs; returns the codec and the head without its BOM."""
    boms = (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    )
    for bom, name in boms:
        if head.startswith(bom):
            if encoding in ("auto", "utf-8", "utf-8-sig", "utf8") or encoding.startswith(
                name[:6]
            ):
                return name, head[len(bom) :]
    if encoding == "auto":
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not just a character cut at the block's end
                return "cp1252", head
        return "utf-8", head
    return codecs.lookup(encoding).name, head


def _header_names(head: bytes, delimiter: str, where: str) -> list[str]:
    end = head.find(b"\n")
    first = head if end < 0 else head[: end + 1]
    try:
        table = pcsv.read_csv(
            io.BytesIO(first),
            read_options=pcsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pcsv.ParseOptions(delimiter=delimiter),
            convert_options=pcsv.ConvertOptions(strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        raise InputError(f"{where}: cannot read the header line: {exc}") from None
    return [str(v[0]) if len(v) else "" for v in (table.column(i).to_pylist() for i in range(table.num_columns))]


@contextmanager
def open_table(
    path: str,
    *,
    fmt: str,
    encoding: str = "utf-8",
    encoding_errors: str = "strict",
    chunksize: int = 100_000,
    progress: Callable[[int, int | None], None] | None = None,
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
) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    """Open ``path`` (``-`` for stdin) and return its column names and a stream of batches.

    All columns are strings. Files opened here are closed by ``stack``. Raises
    :class:`InputError` for an unusable file.
    """
    where = "<stdin>" if path == "-" else path
    if fmt in ("csv", "tsv"):
        raw, size = _open_binary(path, where, stack)
        delimiter = "," if fmt == "csv" else "\t"
        return _read_csv(raw, size, where, delimiter, encoding, encoding_errors, chunksize, progress)
    if fmt == "jsonl":
        raw, _ = _open_binary(path, where, stack)
        return _read_jsonl(raw, where, chunksize)
    if fmt == "parquet":
        pq = _optional("pyarrow.parquet", "parquet", "parquet")
        try:
            pf = pq.ParquetFile(path if path != "-" else io.BytesIO(_stdin().read()))
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"{where}: cannot read as Parquet: {exc}") from None
        names = list(pf.schema_arrow.names)

        def gen() -> Iterator[pa.RecordBatch]:
            for batch in pf.iter_batches(batch_size=chunksize):
                yield _all_strings(batch)

        return names, gen()
    if fmt == "xlsx":
        return _read_xlsx(path, where, chunksize, stack)
    raise InputError(f"unknown input format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _stdin() -> BinaryIO:
    import sys

    return sys.stdin.buffer


def _open_binary(path: str, where: str, stack: ExitStack) -> tuple[BinaryIO, int | None]:
    if path == "-":
        return _stdin(), None
    try:
        f = stack.enter_context(open(path, "rb"))
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
) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    head = raw.read(BLOCK_BYTES)
    if not head:
        raise InputError(f"{where}: the file is empty (no header line)")
    codec, head = _sniff_encoding(head, encoding)
    counting = _Counting(raw, head)
    stream: IO[bytes]
    if codec not in ("utf-8",) or errors != "strict":
        stream = io.BufferedReader(_Transcode(io.BufferedReader(counting), codec, errors))
        try:
            decoded_head = codecs.decode(head[: 1 << 16], codec, "replace").encode("utf-8")
        except LookupError:
            raise InputError(f"unknown encoding {encoding!r}") from None
    else:
        stream = io.BufferedReader(counting)
        decoded_head = head
    if b"\x00" in decoded_head[:4096] and codec == "utf-8" and decoded_head.count(b"\x00") > 64:
        raise InputError(
            f"{where}: this looks like a binary file or UTF-16 without a BOM, not a CSV; "
            "try --encoding utf-16"
        )
    names = _header_names(decoded_head, delimiter, where)
    bad_rows: list[str] = []

    def on_invalid(row: Any) -> str:
        bad_rows.append(f"expected {row.expected_columns} fields, got {row.actual_columns}: "
                        f"{row.text[:80]!r}")
        return "error"

    try:
        reader = pcsv.open_csv(
            stream,
            read_options=pcsv.ReadOptions(block_size=BLOCK_BYTES, use_threads=True),
            parse_options=pcsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise InputError(f"{where}: {_csv_message(str(exc), bad_rows, 0, codec)}") from None

    def gen() -> Iterator[pa.RecordBatch]:
        rows = 0
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as exc:
                raise InputError(f"{where}: {_csv_message(str(exc), bad_rows, rows, codec)}") from None
            for start in range(0, batch.num_rows, chunksize):
                piece = batch.slice(start, chunksize)
                rows += piece.num_rows
                yield piece
            if progress is not None:
                progress(counting.consumed, size)

    return names, gen()


def _csv_message(msg: str, bad_rows: list[str], rows: int, codec: str) -> str:
    if bad_rows:
        return f"malformed row after data row {rows}: {bad_rows[0]}"
    if "invalid UTF8" in msg:
        return (
            f"invalid {codec.upper()} bytes in the rows after data row {rows}; "
            "pass --encoding (e.g. latin-1, utf-16) or --encoding-errors replace"
        )
    if "Empty CSV" in msg:
        return "the file is empty (no header line)"
    return msg.removeprefix("CSV parse error: ")


def _all_strings(batch: pa.RecordBatch) -> pa.RecordBatch:
    arrays = []
    for col in batch.columns:
        if pa.types.is_string(col.type):
            arrays.append(col)
        elif pa.types.is_large_string(col.type):
            arrays.append(col.cast(pa.string()))
        else:
            arrays.append(pc.cast(col, pa.string()))
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _read_jsonl(raw: BinaryIO, where: str, chunksize: int) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    text = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="")
    names: list[str] = []
    first_rows: list[dict[str, Any]] = []
    lines = iter(enumerate(text, start=1))

    def parse(lineno: int, line: str) -> dict[str, Any] | None:
        if not line.strip():
            return None
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{where}:{lineno}: not a JSON object: {exc}") from None
        if not isinstance(obj, dict):
            raise InputError(f"{where}:{lineno}: not a JSON object")
        return obj

    try:
        for lineno, line in lines:
            obj = parse(lineno, line)
            if obj is not None:
                first_rows.append(obj)
                names = list(obj)
                break
    except UnicodeDecodeError:
        raise InputError(f"{where}: not valid UTF-8") from None
    if not first_rows:
        raise InputError(f"{where}: the file is empty (no JSON rows)")

    def to_text(v: Any) -> str | None:
        if v is None:
            return None
        return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)

    def gen() -> Iterator[pa.RecordBatch]:
        pending = first_rows
        try:
            for lineno, line in lines:
                obj = parse(lineno, line)
                if obj is None:
                    continue
                for key in obj:
                    if key not in names:
                        names.append(key)
                pending.append(obj)
                if len(pending) >= chunksize:
                    yield _rows_batch(pending, names, to_text)
                    pending = []
        except UnicodeDecodeError:
            raise InputError(f"{where}: not valid UTF-8") from None
        if pending:
            yield _rows_batch(pending, names, to_text)

    return names, gen()


def _rows_batch(
    rows: list[dict[str, Any]], names: list[str], to_text: Callable[[Any], str | None]
) -> pa.RecordBatch:
    arrays = [pa.array([to_text(r.get(n)) for r in rows], type=pa.string()) for n in names]
    return pa.RecordBatch.from_arrays(arrays, names=list(names))


def _read_xlsx(
    path: str, where: str, chunksize: int, stack: ExitStack
) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    openpyxl = _optional("openpyxl", "xlsx", "xlsx")
    try:
        wb = openpyxl.load_workbook(
            path if path != "-" else io.BytesIO(_stdin().read()), read_only=True, data_only=True
        )
    except Exception as exc:  # openpyxl raises many unrelated types for bad files
        raise InputError(f"{where}: cannot read as XLSX: {exc}") from None
    stack.callback(wb.close)
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    try:
        header = next(rows)
    except StopIteration:
        raise InputError(f"{where}: the sheet is empty (no header row)") from None
    names = ["" if v is None else str(v) for v in header]

    def gen() -> Iterator[pa.RecordBatch]:
        pending: list[tuple[Any, ...]] = []
        for row in rows:
            pending.append(row)
            if len(pending) >= chunksize:
                yield _tuples_batch(pending, names)
                pending = []
        if pending:
            yield _tuples_batch(pending, names)

    return names, gen()


def _tuples_batch(rows: list[tuple[Any, ...]], names: list[str]) -> pa.RecordBatch:
    cols = []
    for i in range(len(names)):
        cols.append(
            pa.array(
                [None if i >= len(r) or r[i] is None else str(r[i]) for r in rows], type=pa.string()
            )
        )
    return pa.RecordBatch.from_arrays(cols, names=names)


# ---- writing ------------------------------------------------------------------------------
def neutralize_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Prefix ``'`` to text cells a spreadsheet would run as a formula (=, +, -, @, tab, CR)."""
    arrays = []
    for col in batch.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            risky = pc.fill_null(pc.match_substring_regex(col, _FORMULA_START), False)
            if pc.any(risky).as_py():
                col = pc.if_else(risky, pc.binary_join_element_wise("'", col, ""), col)
        arrays.append(col)
    return pa.RecordBatch.from_arrays(arrays, schema=batch.schema)


@contextmanager
def atomic_output(path: str) -> Iterator[BinaryIO]:
    """Yield a binary sink that replaces ``path`` only on success (``-`` is stdout)."""
    if path == "-":
        import sys

        out = sys.stdout.buffer
        yield out
        out.flush()
        return
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=directory)
    except OSError as exc:
        raise InputError(f"{path}: cannot write here: {exc.strerror or exc}") from None
    ok = False
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        ok = True
    finally:
        if not ok:
            try:
                os.unlink(tmp)
            except OSError:
                pass


class TableWriter:
    """Write record batches in one format to a binary sink, one batch at a time."""

    def __init__(self, sink: BinaryIO, fmt: str, schema: pa.Schema, *, neutralize: bool) -> None:
        self.fmt = fmt
        self._sink = sink
        self._neutralize = neutralize and fmt in ("csv", "tsv", "xlsx")
        self._writer: Any = None
        self._xlsx: Any = None
        if fmt in ("csv", "tsv"):
            self._writer = pcsv.CSVWriter(
                sink,
                schema,
                write_options=pcsv.WriteOptions(
                    include_header=True,
                    delimiter="," if fmt == "csv" else "\t",
                    quoting_style="needed",
                ),
            )
        elif fmt == "parquet":
            pq = _optional("pyarrow.parquet", "parquet", "parquet")
            self._writer = pq.ParquetWriter(sink, schema)
        elif fmt == "xlsx":
            openpyxl = _optional("openpyxl", "xlsx", "xlsx")
            self._xlsx = openpyxl.Workbook(write_only=True)
            self._sheet = self._xlsx.create_sheet("screened")
            self._sheet.append(list(schema.names))
        elif fmt != "jsonl":
            raise InputError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")

    def write(self, batch: pa.RecordBatch) -> None:
        if self._neutralize:
            batch = neutralize_batch(batch)
        if self.fmt == "jsonl":
            names = batch.schema.names
            lines = [
                json.dumps(dict(zip(names, row)), ensure_ascii=False)
                for row in zip(*(c.to_pylist() for c in batch.columns))
            ]
            if lines:
                self._sink.write(("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))
        elif self.fmt == "xlsx":
            for row in zip(*(c.to_pylist() for c in batch.columns)):
                self._sheet.append([_xlsx_safe(v) for v in row])
        else:
            self._writer.write_batch(batch)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._xlsx is not None:
            self._xlsx.save(self._sink)


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
