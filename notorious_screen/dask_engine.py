"""The same screen on Dask: Dask DataFrame in and out, or files in and a folder of parts out.

Dask is the cluster; this module only decides what each task does. Two entry points:

* :func:`screen_dask` maps :meth:`Screener.screen_frame` over the partitions of a user's Dask
  DataFrame. Same columns, dtypes, index and values as ``screen_frame`` on the whole frame.
* :func:`screen_files` is the ``screen --engine dask`` command's engine: CSV/TSV/Parquet files
  are cut into record-aligned parts, and each task reads, screens and writes one part with the
  same reader options, batch engine and writer as the single-process command, so the folder of
  parts holds exactly the rows and bytes one process would have written.

The Screener (market data, rule pack, match indexes) is shipped once per worker: with a
``dask.distributed`` client it is scattered to every worker and each task refers to that one
copy; the scheduler never unpickles it. Without a client (threads, processes or synchronous
schedulers) it rides in the graph once and a per-process cache rebuilds it once per process.

Library-only: nothing here prints, reads argv or sets an exit code; ``screen --engine dask``
(its progress lines and ``--fail-on``) lives in :mod:`notorious_screen.cli`.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from ._summary import Summary
from .errors import InputError
from .schema import OUTPUT_COLUMNS, check_columns
from .screen import OneProcess, Screener, Shipped, default_screener, unwrap

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd
    import pyarrow as pa
    from distributed import Client

__all__ = [
    "DEFAULT_BLOCKSIZE",
    "FilesResult",
    "PartResult",
    "local_cluster",
    "screen_dask",
    "screen_files",
]

#: The most bytes of CSV per part with ``blocksize="auto"`` (Dask's own ``read_csv`` default);
#: Parquet row groups are grouped up to the same uncompressed size.
DEFAULT_BLOCKSIZE = 64 * 1024 * 1024
_MIN_BLOCKSIZE = 1024 * 1024
_SCAN_BYTES = 4 * 1024 * 1024
_MANIFEST = "_manifest.json"
_SUMMARY = "_summary.txt"


def _need_dask() -> None:
    try:
        import dask.dataframe  # noqa: F401
    except ImportError:
        raise InputError(
            "the Dask engine needs dask: pip install 'notorious-screen[dask]'"
        ) from None


def _active_client(client: Client | None) -> Client | None:
    """The distributed client that ``compute()`` would use now, if any."""
    if client is not None:
        return client
    import dask

    chosen = dask.config.get("scheduler", None)
    if chosen is not None and chosen not in ("dask.distributed", "distributed"):
        return None
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        found: Client = get_client()
    except ValueError:
        return None
    return found


def _ship(screener: Screener, client: Client | None) -> Any:
    """One reference to the screener for every task: a broadcast future or a graph node."""
    if client is not None:
        # hash=False: tokenizing a Screener would pickle it just to name it.
        return cast(Any, client).scatter(OneProcess(screener), broadcast=True, hash=False)
    import dask

    delayed = cast(Any, dask).delayed
    return delayed(Shipped(screener), name=f"ns-screener-{uuid.uuid4().hex}")


# ---- Dask DataFrame in, Dask DataFrame out --------------------------------------------------
def _screen_partition(
    df: pd.DataFrame,
    screener: Screener | Shipped | OneProcess,
    url_column: str,
    name_column: str | None,
) -> pd.DataFrame:
    return unwrap(screener).screen_frame(df, url_column=url_column, name_column=name_column)


def screen_dask(
    ddf: dd.DataFrame,
    *,
    url_column: str = "url",
    name_column: str | None = None,
    screener: Screener | None = None,
    client: Client | None = None,
) -> dd.DataFrame:
    """Screen a Dask DataFrame partition by partition; lazy, like any Dask operation.

    The result has the input's columns, index, divisions and dtypes plus the ``ns_*`` columns
    with the dtypes :meth:`Screener.screen_frame` gives them; computed, it equals
    ``screener.screen_frame(ddf.compute())``. With a ``dask.distributed`` client (``client=``,
    else the current default one) the screener is scattered to every worker now, once, and the
    graph refers to that copy, so compute the result on the same client. ``screener`` defaults
    to the default Screener (latest complete USTR edition, default rule pack).
    """
    _need_dask()
    import dask.dataframe as dd

    if not isinstance(ddf, dd.DataFrame):
        raise InputError(f"expected a dask.dataframe.DataFrame, got {type(ddf).__name__}")
    screener = screener if screener is not None else default_screener()
    # The empty frame through the real code path gives the exact output dtypes, and raises
    # the same InputError as screen_frame for a missing or clashing column, before any work.
    meta = screener.screen_frame(ddf._meta, url_column=url_column, name_column=name_column)
    shipped = _ship(screener, _active_client(client))
    result: dd.DataFrame = cast(Any, ddf).map_partitions(
        _screen_partition, shipped, url_column, name_column, meta=meta, align_dataframes=False
    )
    return result


@contextmanager
def local_cluster(
    workers: int | None = None, *, threads_per_worker: int = 1, dashboard: bool = False
) -> Iterator[Client]:
    """Start a local Dask cluster of worker processes and yield a client on it.

    One thread per worker: screening is mostly Python, so processes, not threads, add speed.
    ``workers`` defaults to the CPU count. The cluster and client close on exit.
    """
    _need_dask()
    distributed = cast(Any, importlib.import_module("distributed"))

    n = workers if workers is not None else (os.cpu_count() or 1)
    if n < 1:
        raise InputError("workers must be at least 1")
    _check_loopback()
    try:
        cluster = distributed.LocalCluster(
            n_workers=n,
            threads_per_worker=threads_per_worker,
            processes=True,
            # The scheduler always serves HTTP; a random loopback port never clashes with
            # another cluster's 8787 (which would warn, and fail under warnings-as-errors).
            dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"dashboard": dashboard},
            # A task that fails on bad input is reported once, by the command; the workers'
            # own "Compute Failed ... Traceback" log lines would come on top of it.
            silence_logs=logging.CRITICAL,
        )
    except (OSError, RuntimeError, TimeoutError) as exc:
        raise InputError(f"cannot start a local Dask cluster: {exc}") from None
    try:
        client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def _check_loopback() -> None:
    """Fail at once when TCP on 127.0.0.1 does not work (a sandbox, a network namespace with
    ``lo`` down): the cluster would otherwise wait 30 s for its workers, then raise."""
    import socket

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
            server.bind(("127.0.0.1", 0))
            server.listen(1)
            with socket.create_connection(server.getsockname(), timeout=5):
                pass
    except OSError as exc:
        raise InputError(
            "--engine dask starts a local cluster, which talks over TCP on 127.0.0.1, and "
            f"that is unavailable here ({exc.strerror or exc}); use the default engine, or "
            "--scheduler ADDRESS for a cluster elsewhere"
        ) from None


# ---- files in, a folder of parts out ---------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Part:
    """One unit of work: a record-aligned byte range of a CSV, or row groups of a Parquet file."""

    index: int
    path: str
    fmt: str
    start: int = 0  # CSV: byte range; Parquet: unused
    end: int = 0
    line: int = 0  # CSV: physical line number the range starts on (for messages)
    row_groups: tuple[int, ...] = ()
    names: tuple[str, ...] = ()
    codec: str = "utf-8"
    encoding_errors: str = "strict"


@dataclass(frozen=True, slots=True)
class PartResult:
    """What one task wrote: the part file, where its rows came from, and their summary."""

    file: str
    source: str
    rows: int
    summary: Summary = field(repr=False)
    byte_range: tuple[int, int] | None = None
    row_groups: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class FilesResult:
    """A finished :func:`screen_files` run: the output folder, its parts in order, the totals."""

    output_dir: Path
    parts: tuple[PartResult, ...]
    rows: int
    summary: Summary = field(repr=False)
    columns: tuple[str, ...]


def _expand_inputs(source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    import glob

    items = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    paths: list[str] = []
    for item in (str(os.fspath(i)) for i in items):
        if item == "-":
            raise InputError("--engine dask reads files, not stdin; give a path or a glob")
        if os.path.isdir(item):
            found = sorted(
                str(p)
                for p in Path(item).iterdir()
                if p.is_file() and not p.name.startswith((".", "_"))
            )
        elif glob.has_magic(item):
            found = sorted(p for p in glob.glob(item) if os.path.isfile(p))
        else:
            if not os.path.isfile(item):
                raise InputError(f"{item}: no such file")
            found = [item]
        if not found:
            raise InputError(f"{item}: matches no files")
        paths.extend(os.path.abspath(p) for p in found)  # workers have their own cwd
    return paths


def _csv_codec(path: str, encoding: str) -> tuple[str, int]:
    """The file's codec (BOMs and ``auto`` resolved) and where its text starts (after a BOM)."""
    from ._files import sniff_encoding

    with open(path, "rb") as f:
        head = f.read(1 << 16)
    try:
        codec, rest = sniff_encoding(head, encoding)
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}") from None
    if codec.replace("_", "-").startswith(("utf-16", "utf-32")):
        raise InputError(
            f"{path}: --engine dask cuts files into parts at newline bytes, which {codec} does "
            "not allow; convert to UTF-8 first (iconv -f utf-16 -t utf-8)"
        )
    return codec, len(head) - len(rest)


def _record_starts(
    path: str, start: int, blocksize: int | None
) -> tuple[int, list[tuple[int, int]]]:
    """Where the header ends and where parts start: (header_end, [(offset, line), ...]).

    A record ends at a newline with an even count of ``"`` before it: with standard quoting
    (quoted fields, inner quotes doubled) that is exactly a newline outside a quoted field.
    Dask's own ``read_csv`` cuts at the first newline after each block edge, which breaks a
    row whose quoted text holds a newline; this costs one read of the file on the client.
    """
    starts: list[tuple[int, int]] = []
    header_end: int | None = None
    in_quotes = False
    line = 1
    target = start  # find the header's end first: the first record boundary after `start`
    with open(path, "rb") as f:
        f.seek(start)
        offset = start
        while True:
            chunk = f.read(_SCAN_BYTES)
            if not chunk:
                break
            i, n = 0, len(chunk)
            while i < n:
                if offset + i < target:
                    stop = min(n, target - offset)
                    in_quotes ^= bool(chunk.count(b'"', i, stop) & 1)
                    line += chunk.count(b"\n", i, stop)
                    i = stop
                    continue
                j = chunk.find(b"\n", i)
                if j < 0:
                    in_quotes ^= bool(chunk.count(b'"', i, n) & 1)
                    i = n
                    break
                in_quotes ^= bool(chunk.count(b'"', i, j) & 1)
                line += 1
                i = j + 1
                if in_quotes:
                    continue
                boundary = offset + i
                if header_end is not None:
                    starts.append((boundary, line))
                else:
                    header_end = boundary
                    starts.append((boundary, line))
                    if blocksize is None:  # one part per file: the header is all we need
                        return header_end, starts
                target = boundary + (blocksize or 0)
            offset += n
        size = offset
    if header_end is None:  # a header with no newline after it: no data rows
        header_end = size
        starts = [(size, line)]
    if len(starts) > 1 and starts[-1][0] >= size:
        starts.pop()
    return header_end, starts


def _plan_csv(
    paths: list[str], fmt: str, encoding: str, encoding_errors: str, blocksize: int | None
) -> tuple[list[str], list[_Part]]:
    from ._files import check_width, header_names

    delimiter = "," if fmt == "csv" else "\t"
    names: list[str] | None = None
    parts: list[_Part] = []
    for path in paths:
        codec, text_start = _csv_codec(path, encoding)
        size = os.path.getsize(path)
        if size <= text_start:
            raise InputError(f"{path}: the file is empty (no header line)")
        header_end, starts = _record_starts(path, text_start, blocksize)
        with open(path, "rb") as f:
            f.seek(text_start)
            head = f.read(header_end - text_start)
        if codec != "utf-8" or encoding_errors != "strict":
            head = head.decode(codec, "replace").encode("utf-8")
        file_names = header_names(head, delimiter, path)
        check_width(len(file_names), path)
        if names is None:
            names = file_names
        elif file_names != names:
            raise InputError(
                f"{path}: its columns {file_names} differ from {paths[0]}'s {names}; "
                "all input files must have the same header"
            )
        ends = [s for s, _ in starts[1:]] + [size]
        for (begin, line), end in zip(starts, ends, strict=True):
            parts.append(
                _Part(
                    index=len(parts),
                    path=path,
                    fmt=fmt,
                    start=begin,
                    end=end,
                    line=line,
                    names=tuple(names),
                    codec=codec,
                    encoding_errors=encoding_errors,
                )
            )
    assert names is not None
    return names, parts


def _plan_parquet(paths: list[str], blocksize: int | None) -> tuple[list[str], list[_Part]]:
    from ._files import check_width, optional

    pq = optional("pyarrow.parquet", "parquet", "parquet")
    names: list[str] | None = None
    parts: list[_Part] = []
    for path in paths:
        try:
            meta = pq.ParquetFile(path).metadata
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: cannot read as Parquet: {exc}") from None
        file_names = list(meta.schema.to_arrow_schema().names)
        check_width(len(file_names), path)
        if names is None:
            names = file_names
        elif file_names != names:
            raise InputError(
                f"{path}: its columns {file_names} differ from {paths[0]}'s {names}; "
                "all input files must have the same columns"
            )
        group: list[int] = []
        size = 0
        for rg in range(meta.num_row_groups):
            group.append(rg)
            size += meta.row_group(rg).total_byte_size
            if blocksize is not None and size >= blocksize:
                parts.append(
                    _Part(
                        index=len(parts),
                        path=path,
                        fmt="parquet",
                        row_groups=tuple(group),
                        names=tuple(names),
                    )
                )
                group, size = [], 0
        if group or meta.num_row_groups == 0:
            parts.append(
                _Part(
                    index=len(parts),
                    path=path,
                    fmt="parquet",
                    row_groups=tuple(group),
                    names=tuple(names),
                )
            )
    assert names is not None
    return names, parts


def _read_part(part: _Part) -> pa.Table:
    """The part's rows as a table of strings, read as the single-process command reads them."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pcsv

    from ._files import READ_BLOCK_BYTES, STRADDLING, all_strings, csv_message

    if part.fmt == "parquet":
        import pyarrow.parquet as pq

        from ._files import PARQUET_MAX_BATCH_BYTES, expanded_bytes, one_line, text_columns

        try:
            pf = pq.ParquetFile(part.path)
            # Text read as dictionaries and measured before expanding, as the local reader does.
            pf = pq.ParquetFile(part.path, read_dictionary=text_columns(pf.schema_arrow))
            table = pf.read_row_groups(list(part.row_groups), use_threads=False)
            batches = []
            for b in table.to_batches(max_chunksize=100_000):
                if sum(expanded_bytes(c) for c in b.columns) > PARQUET_MAX_BATCH_BYTES:
                    raise InputError(
                        f"{part.path}: row groups {list(part.row_groups)}: 100,000 rows decode "
                        f"to more than {PARQUET_MAX_BATCH_BYTES >> 20:,} MiB of text"
                    )
                batches.append(all_strings(b))
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise InputError(f"{part.path}: cannot read as Parquet: {one_line(exc)}") from None
        schema = pa.schema([pa.field(n, pa.string()) for n in part.names])
        return pa.Table.from_batches(batches, schema=schema)
    with open(part.path, "rb") as f:
        f.seek(part.start)
        data = f.read(part.end - part.start)
    if part.codec != "utf-8" or part.encoding_errors != "strict":
        data = data.decode(part.codec, part.encoding_errors).encode("utf-8", "surrogatepass")
    bad_rows: list[str] = []

    def on_invalid(row: Any) -> str:
        bad_rows.append(
            f"expected {row.expected_columns} fields, got {row.actual_columns}: {row.text[:80]!r}"
        )
        return "error"

    schema = pa.schema([pa.field(n, pa.string()) for n in part.names])
    if not data:
        return schema.empty_table()
    try:
        return pcsv.read_csv(
            io.BytesIO(data),
            read_options=pcsv.ReadOptions(
                column_names=list(part.names), use_threads=False, block_size=READ_BLOCK_BYTES
            ),
            parse_options=pcsv.ParseOptions(
                delimiter="," if part.fmt == "csv" else "\t",
                newlines_in_values=True,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.string() for n in part.names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        where = f"{part.path}: in the rows from line {part.line}"
        if STRADDLING in str(exc):  # the same bound as the single-process reader
            raise InputError(
                f"{where}: a row is longer than {READ_BLOCK_BYTES >> 20} MiB, the longest the "
                "CSV reader is sure to take"
            ) from None
        raise InputError(f"{where}: {csv_message(str(exc), bad_rows, 0, part.codec)}") from None


@dataclass(frozen=True, slots=True)
class _Job:
    """What every task needs besides its part (small; sent with each task)."""

    staging: str
    out_fmt: str
    url_column: str
    name_column: str | None
    neutralize: bool
    chunksize: int
    width: int


def _part_name(index: int, job: _Job) -> str:
    ext = {"csv": "csv", "tsv": "tsv", "jsonl": "jsonl", "parquet": "parquet", "xlsx": "xlsx"}
    return f"part-{index:0{job.width}d}.{ext[job.out_fmt]}"


def _screen_part(part: _Part, screener: Screener | Shipped | OneProcess, job: _Job) -> PartResult:
    """The task: read one part, screen it, write it beside the others, return its summary.

    The file appears under its final name only when complete, and the name depends only on
    the part's index: a task that Dask re-runs after its worker died rewrites the same file.
    """
    from ._files import TableWriter

    s = unwrap(screener)
    table = _read_part(part)
    summary = Summary()
    schema = s.output_schema(list(part.names))
    name = _part_name(part.index, job)
    final = os.path.join(job.staging, name)
    tmp = os.path.join(job.staging, f".{name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as sink:
            writer = TableWriter(sink, job.out_fmt, schema, neutralize=job.neutralize)
            screened = s.iter_batches(
                iter(table.to_batches(max_chunksize=job.chunksize)),
                url_column=job.url_column,
                name_column=job.name_column,
                summary=summary,
            )
            for batch in screened:
                writer.write(batch)
            writer.close()
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return PartResult(
        file=name,
        source=part.path,
        rows=summary.rows,
        summary=summary,
        byte_range=(part.start, part.end) if part.fmt != "parquet" else None,
        row_groups=part.row_groups if part.fmt == "parquet" else None,
    )


def _merge(into: Summary, other: Summary) -> None:
    into.rows += other.rows
    into.max_score = max(into.max_score, other.max_score)
    for label, counts in other.counts.items():
        mine = into.counts.setdefault(label, {})
        for value, count in counts.items():
            mine[value] = mine.get(value, 0) + count


def _check_output_dir(out: Path) -> None:
    if not out.exists():
        return
    if not out.is_dir() or (any(out.iterdir()) and not (out / _MANIFEST).exists()):
        raise InputError(
            f"{out}: exists and is not an empty folder or an earlier screen --engine dask "
            "output; choose another -o or remove it"
        )


def _publish(staging: Path, out: Path) -> None:
    """Move the finished folder into place; an earlier output there is replaced only now."""
    for leftover in staging.glob(".part-*.tmp"):  # from attempts whose worker died
        leftover.unlink()
    old: Path | None = None
    if out.exists():
        _check_output_dir(out)
        old = out.with_name(f".{out.name}.old.{uuid.uuid4().hex[:8]}")
        out.rename(old)
    staging.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def screen_files(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str],
    *,
    url_column: str = "url",
    name_column: str | None = None,
    screener: Screener | None = None,
    client: Client | None = None,
    input_format: str | None = None,
    output_format: str | None = None,
    blocksize: int | Literal["auto"] | None = "auto",
    encoding: str = "utf-8",
    encoding_errors: str = "strict",
    neutralize: bool = True,
    chunksize: int = 100_000,
    progress: Callable[[int, int, int], None] | None = None,
) -> FilesResult:
    """Screen CSV/TSV/Parquet files on a Dask cluster into a folder of parts plus a summary.

    ``source`` is a file, a glob, a folder or a list of them (files taken in sorted order). A
    CSV is cut into parts of about ``blocksize`` bytes at record boundaries (``None``: one part
    per file; ``"auto"``: about four parts per worker thread, 1 to 64 MiB each); Parquet row
    groups are grouped likewise. ``output_dir`` receives
    ``part-NNNNN.<fmt>`` in input order (every input row exactly once, columns untouched),
    ``_summary.txt`` and ``_manifest.json`` (rows per part and where they came from). It is
    built in a hidden folder beside ``output_dir`` and moved into place only when every part
    is written; an earlier output there is replaced, any other non-empty folder is refused.
    Input and output must be on storage every worker sees at the same path. ``client``
    defaults to the current one; without any, a local cluster runs for the call.
    ``progress(parts_done, parts_total, rows_done)`` is called as parts finish.
    """
    _need_dask()
    from ._files import FORMATS, format_for

    out = Path(output_dir)
    _check_output_dir(out)
    paths = _expand_inputs(source)
    in_fmt = format_for(paths[0], input_format)
    if in_fmt not in ("csv", "tsv", "parquet"):
        raise InputError(
            f"--engine dask reads CSV, TSV or Parquet, not {in_fmt}; use the default engine"
        )
    out_fmt = output_format or in_fmt
    if out_fmt not in FORMATS:
        raise InputError(f"unknown output format {out_fmt!r}; choose one of {', '.join(FORMATS)}")
    if isinstance(blocksize, int) and blocksize <= 0:
        blocksize = None

    def plan(size: int | None) -> tuple[list[str], list[_Part]]:
        if in_fmt == "parquet":
            return _plan_parquet(paths, size)
        return _plan_csv(paths, in_fmt, encoding, encoding_errors, size)

    names, parts = plan(None)  # headers only: check the columns before starting anything
    check_columns(names, url_column=url_column, name_column=name_column, where=paths[0])
    job_options = {
        "out_fmt": out_fmt,
        "url_column": url_column,
        "name_column": name_column,
        "neutralize": neutralize,
        "chunksize": chunksize,
    }

    screener = screener if screener is not None else default_screener()

    def run(on: Client) -> FilesResult:
        size = _auto_blocksize(paths, on) if blocksize == "auto" else blocksize
        all_parts = plan(size)[1] if size is not None else parts
        return _execute(all_parts, names, out, screener, on, job_options, progress)

    active = _active_client(client)
    if active is None:
        with local_cluster() as own:
            return run(own)
    return run(active)


def _auto_blocksize(paths: list[str], client: Client) -> int:
    """About four parts per worker thread (balance, and little to redo if a worker dies)."""
    workers = cast(Any, client).scheduler_info().get("workers", {}).values()
    threads = max(1, sum(int(w.get("nthreads", 1)) for w in workers))
    total = sum(os.path.getsize(p) for p in paths)
    return int(min(DEFAULT_BLOCKSIZE, max(_MIN_BLOCKSIZE, total // (4 * threads))))


def _execute(
    parts: list[_Part],
    names: list[str],
    out: Path,
    screener: Screener,
    client: Client,
    job_options: dict[str, Any],
    progress: Callable[[int, int, int], None] | None,
) -> FilesResult:
    as_completed = cast(Any, importlib.import_module("distributed")).as_completed

    target = Path(os.path.abspath(out))
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    staging.mkdir()
    job = _Job(staging=str(staging), width=max(5, len(str(len(parts) - 1))), **job_options)
    futures: list[Any] = []
    try:
        shipped = _ship(screener, client)
        run = uuid.uuid4().hex[:8]
        futures = [
            client.submit(
                _screen_part, part, shipped, job, key=f"ns-part-{part.index}-{run}", pure=False
            )
            for part in parts
        ]
        by_key: dict[str, PartResult] = {}
        summary = Summary()
        for future in as_completed(futures, loop=cast(Any, client).loop):
            result: PartResult = future.result()
            by_key[future.key] = result
            _merge(summary, result.summary)
            if progress is not None:
                progress(len(by_key), len(parts), summary.rows)
        ordered = tuple(by_key[f.key] for f in futures)
        columns = (*names, *OUTPUT_COLUMNS)
        manifest = {
            "rows": summary.rows,
            "columns": list(columns),
            "format": job.out_fmt,
            "edition": f"{screener.edition.list}-{screener.edition.year}",
            "rules": screener.rules.name,
            "rules_hash": screener.rules.content_hash,
            "parts": [
                {
                    "file": p.file,
                    "rows": p.rows,
                    "source": p.source,
                    **({"bytes": list(p.byte_range)} if p.byte_range is not None else {}),
                    **({"row_groups": list(p.row_groups)} if p.row_groups is not None else {}),
                }
                for p in ordered
            ],
        }
        report = summary.format(screener.edition, screener.data.files)
        (staging / _SUMMARY).write_text(report + "\n", encoding="utf-8")
        (staging / _MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        _publish(staging, target)
    except BaseException:
        for f in futures:
            f.cancel()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return FilesResult(
        output_dir=out, parts=ordered, rows=summary.rows, summary=summary, columns=columns
    )


# ---- the command ----------------------------------------------------------------------------
