"""Small generators of hostile files (nothing of the kind is committed): each builds, in a
few kilobytes, a file that used to cost unbounded memory or time, or a traceback."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        if not n:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def parquet_dictionary_bomb(path: Path, *, rows: int, value_bytes: int) -> Path:
    """One long value, dictionary-encoded and repeated: kilobytes on disk, rows x value_bytes
    of text once expanded."""
    indices = pa.array([0] * rows, pa.int32())
    column = pa.DictionaryArray.from_arrays(indices, pa.array(["x" * value_bytes]))
    pq.write_table(pa.table({"url": column}), path, compression="zstd", row_group_size=rows)
    return path


def parquet_lying_page(path: Path) -> Path:
    """A valid file whose dictionary page header claims 2 GiB of uncompressed data."""
    table = pa.table({"url": pa.array(["example.org"] * 3).dictionary_encode()})
    pq.write_table(table, path, compression="snappy", write_statistics=False)
    data = bytearray(path.read_bytes())
    at = pq.ParquetFile(path).metadata.row_group(0).column(0).dictionary_page_offset
    # Thrift compact PageHeader: 0x15 type, 0x15 uncompressed_page_size (zigzag varint), ...
    assert data[at] == 0x15 and data[at + 2] == 0x15
    end = at + 3
    while data[end] & 0x80:
        end += 1
    size = 2**31 - 1
    data[at + 3 : end + 1] = _varint((size << 1) ^ (size >> 31))
    path.write_bytes(bytes(data))
    return path


def parquet_corrupt_pages(path: Path) -> Path:
    """Good metadata, garbage pages: the footer opens, reading the rows fails."""
    table = pa.table({"url": [f"https://shop{i}.example/" for i in range(5000)]})
    pq.write_table(table, path, compression="snappy", use_dictionary=False)
    data = bytearray(path.read_bytes())
    for i in range(200, 2000):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    return path
