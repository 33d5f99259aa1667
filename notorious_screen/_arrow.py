"""Arrow arrays as NumPy, and Arrow arrays from NumPy and Python values, at buffer level.

The batch engine, the name gate and the writers work on whole arrays; these helpers move
between Arrow and NumPy without ``pa.array``, ``to_numpy`` or Arrow scalars, which import
pandas on first use (0.2 s a CSV run never needs). The module serves the rest of the package.

A service module (private to the package; its public names are imported by `_engine`, `_files`,
`_hosts`, `_names`, `_psl`, `match`, `screen`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "HashTable",
    "Hashes",
    "Ints",
    "StringIndex",
    "SubstringHashes",
    "as_string_array",
    "bools",
    "column",
    "first_byte_in",
    "indices",
    "mask",
    "prefixed",
    "string_hashes",
    "take",
]

Ints = np.ndarray[Any, np.dtype[np.int64]]


def bools(values: pa.Array) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """A boolean Arrow array as NumPy, null as False (``to_numpy`` would import pandas)."""
    n, offset = len(values), values.offset
    data, validity = values.buffers()[1], values.buffers()[0]
    if n == 0 or data is None:
        return np.zeros(n, dtype=bool)
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
    out = bits[offset : offset + n].astype(bool)
    if validity is not None and values.null_count:
        valid = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
        out &= valid[offset : offset + n].astype(bool)
    return out


def indices(values: pa.Array) -> Ints:
    """An integer Arrow array as a new NumPy int64 array, null as -1."""
    n = len(values)
    data = values.buffers()[1]
    if n == 0 or data is None:
        return np.full(n, -1, dtype=np.int64)
    raw = np.frombuffer(data, dtype=values.type.to_pandas_dtype())
    out = raw[values.offset : values.offset + n].astype(np.int64)
    if values.null_count:
        out[~bools(values.is_valid())] = -1
    return out


def first_byte_in(values: pa.Array, chars: bytes) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Which strings start with one of the ASCII ``chars`` (null and empty ones do not)."""
    n = len(values)
    offsets_buf, data_buf = values.buffers()[1], values.buffers()[2]
    if n == 0 or data_buf is None or data_buf.size == 0:
        return np.zeros(n, dtype=bool)
    dtype = np.int64 if pa.types.is_large_string(values.type) else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=dtype)[values.offset : values.offset + n + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8)
    start = offsets[:-1]
    table = np.zeros(256, dtype=bool)
    table[list(chars)] = True
    out = table[data[np.minimum(start, len(data) - 1)]] & (offsets[1:] > start)
    if values.null_count:
        out &= bools(values.is_valid())
    return out


def prefixed(values: pa.Array, where: np.ndarray[Any, np.dtype[np.bool_]], char: str) -> pa.Array:
    """``values`` (strings) with the ASCII ``char`` put in front of the rows ``where`` is true."""
    n = len(values)
    large = pa.types.is_large_string(values.type)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64 if large else np.int32)
    offsets = offsets[values.offset : values.offset + n + 1].astype(np.int64)
    data_buf = values.buffers()[2]
    data = (
        np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    )
    body = data[offsets[0] : offsets[-1]]
    where = np.asarray(where, dtype=bool)
    out = np.insert(body, offsets[:-1][where] - offsets[0], ord(char))
    shift = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(where, out=shift[1:])
    new_offsets = (offsets - offsets[0] + shift).astype(np.int64 if large else np.int32)
    validity = None
    if values.null_count:
        validity = pa.py_buffer(np.packbits(bools(values.is_valid()), bitorder="little"))
    buffers = [validity, pa.py_buffer(new_offsets), pa.py_buffer(out)]
    return pa.Array.from_buffers(values.type, n, buffers, null_count=values.null_count)


def mask(values: np.ndarray[Any, np.dtype[np.bool_]]) -> pa.Array:
    """A boolean Arrow array (no nulls) from a NumPy boolean array."""
    bits = np.packbits(np.asarray(values, dtype=bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])


def column(values: Sequence[Any], type: pa.DataType) -> pa.Array:
    """An Arrow array of ``type`` (string, bool, int64 or float64) from Python values."""
    n = len(values)
    present = np.fromiter((v is not None for v in values), dtype=bool, count=n)
    validity = None if present.all() else pa.py_buffer(np.packbits(present, bitorder="little"))
    if type == pa.string():
        encoded = [v.encode() if v is not None else b"" for v in values]
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=n), out=offsets[1:])
        if offsets[-1] > np.iinfo(np.int32).max:
            raise ValueError("more than 2 GiB of text in one column")
        data = pa.py_buffer(b"".join(encoded))
        buffers = [validity, pa.py_buffer(offsets.astype(np.int32)), data]
    elif type == pa.bool_():
        filled = np.fromiter((bool(v) for v in values), dtype=bool, count=n)
        buffers = [validity, pa.py_buffer(np.packbits(filled, bitorder="little"))]
    elif type in (pa.int64(), pa.float64()):
        dtype = np.int64 if type == pa.int64() else np.float64
        filled = np.fromiter((0 if v is None else v for v in values), dtype=dtype, count=n)
        buffers = [validity, pa.py_buffer(filled)]
    else:
        raise TypeError(f"unsupported column type {type}")
    return pa.Array.from_buffers(type, n, buffers, null_count=n - int(present.sum()))


def as_string_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One plain string array from any array of text (chunked, dictionary, large or null)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_large_string(values.type):
        return values.cast(pa.string())
    if not pa.types.is_string(values.type):
        if pa.types.is_null(values.type):
            return pa.nulls(len(values), pa.string())
        return pc.cast(values, pa.string())
    return values


def take(values: pa.Array, at: Ints) -> pa.Array:
    """``values.take(at)`` for NumPy int64 positions, without ``pa.array``."""
    at = np.ascontiguousarray(at, dtype=np.int64)
    return values.take(pa.Array.from_buffers(pa.int64(), len(at), [None, pa.py_buffer(at)]))


class SubstringHashes:
    """Two 64-bit polynomial hashes of any substring of one byte buffer, each in O(1).

    Suffix and label lookups of the batch engine compare a few substrings of every host with
    fixed tables; hashing the substring in place (from prefix sums) instead of cutting it out
    into a new string array saves the byte copies. Two independent hashes and the length make
    a false match as likely as a 128-bit collision.
    """

    def __init__(self, data: np.ndarray[Any, np.dtype[np.uint8]]) -> None:
        n = len(data)
        values = data.astype(np.uint64) + np.uint64(1)
        self._sums: list[np.ndarray[Any, np.dtype[np.uint64]]] = []
        self._inverse: list[np.ndarray[Any, np.dtype[np.uint64]]] = []
        with np.errstate(over="ignore"):
            for base, inverse in _BASES:
                sums = np.zeros(n + 1, dtype=np.uint64)
                np.cumsum(values * _powers(base, n)[:-1], out=sums[1:])
                self._sums.append(sums)
                self._inverse.append(_powers(inverse, n))

    def of(self, starts: Ints, ends: Ints) -> Hashes:
        """The hashes of ``data[start:end]`` for each pair, and its length."""
        with np.errstate(over="ignore"):
            h1, h2 = (
                (sums[ends] - sums[starts]) * inverse[starts]
                for sums, inverse in zip(self._sums, self._inverse, strict=True)
            )
        return h1, h2, (ends - starts).astype(np.int64)


Hashes = tuple[np.ndarray[Any, np.dtype[np.uint64]], np.ndarray[Any, np.dtype[np.uint64]], Ints]


def string_hashes(values: pa.Array) -> Hashes:
    """`SubstringHashes` of every string of a string array (nulls hash as empty strings)."""
    offsets, data = _offsets_and_data(values)
    return SubstringHashes(data).of(offsets[:-1], offsets[1:])


class HashTable:
    """A fixed set of strings, each with a number, for `SubstringHashes` lookups."""

    def __init__(self, strings: Sequence[str], numbers: Sequence[int] | None = None) -> None:
        h1, h2, lengths = string_hashes(column(list(strings), pa.string()))
        order = np.argsort(h1, kind="stable")
        self._h1, self._h2, self._lengths = h1[order], h2[order], lengths[order]
        given = np.arange(len(strings)) if numbers is None else np.asarray(numbers)
        self._numbers = np.asarray(given, dtype=np.int64)[order]

    def find(self, hashes: Hashes) -> Ints:
        """The number of each hashed string in the table, -1 where it is not there."""
        h1, h2, lengths = hashes
        out = np.full(len(h1), -1, dtype=np.int64)
        if not len(self._h1) or not len(h1):
            return out
        at = np.minimum(np.searchsorted(self._h1, h1), len(self._h1) - 1)
        same = (self._h1[at] == h1) & (self._h2[at] == h2) & (self._lengths[at] == lengths)
        out[same] = self._numbers[at[same]]
        return out


class StringIndex:
    """A growing table of distinct strings, each with a number, looked up for whole arrays.

    The batch engine remembers the hosts and names it has screened across batches, hundreds
    of thousands of them; ``pc.index_in`` rebuilds its hash table of the whole remembered set
    on every call (0.15 s at 262,144 strings), so lookups here go through a sorted array of
    hashes computed in NumPy from the string buffers instead (`SubstringHashes`): a batch
    costs what its own strings cost. A hit needs both 64-bit hashes and the length to agree.
    """

    def __init__(self) -> None:
        self._hashes = np.zeros(0, dtype=np.uint64)  # first hashes, sorted
        self._order = np.zeros(0, dtype=np.int64)  # which string each sorted hash is
        self._h2 = np.zeros(0, dtype=np.uint64)  # by string: second hash, length, number
        self._lengths = np.zeros(0, dtype=np.int64)
        self._numbers = np.zeros(0, dtype=np.int64)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def lookup(self, values: pa.Array, hashes: Hashes | None = None) -> Ints:
        """The number of each string (a string array without nulls), -1 where unknown.
        ``hashes``: the strings' `string_hashes`, when the caller has them already."""
        out = np.full(len(values), -1, dtype=np.int64)
        if not len(values) or not len(self._hashes):
            return out
        h1, h2, lengths = hashes if hashes is not None else string_hashes(values)
        at = np.minimum(np.searchsorted(self._hashes, h1), len(self._hashes) - 1)
        stored = self._order[at]
        same = (self._hashes[at] == h1) & (self._h2[stored] == h2)
        same &= self._lengths[stored] == lengths
        out[same] = self._numbers[stored[same]]
        return out

    def add(self, values: pa.Array, numbers: Ints, hashes: Hashes | None = None) -> None:
        """Remember new strings (not yet in the table, distinct) with their numbers, none of
        them -1 (`lookup`'s "unknown": a string stored with it would be new every time)."""
        if not len(values):
            return
        numbers = np.asarray(numbers, dtype=np.int64)
        if (numbers == -1).any():
            raise ValueError("StringIndex numbers must not be -1 (the unknown mark)")
        h1, h2, lengths = hashes if hashes is not None else string_hashes(values)
        firsts = np.concatenate([self._hashes, h1])
        order = np.concatenate([self._order, np.arange(self._size, self._size + len(values))])
        sort = np.argsort(firsts, kind="stable")
        self._hashes, self._order = firsts[sort], order[sort]
        self._h2 = np.concatenate([self._h2, h2])
        self._lengths = np.concatenate([self._lengths, lengths])
        self._numbers = np.concatenate([self._numbers, numbers])
        self._size += len(values)


def _offsets_and_data(
    values: pa.Array,
) -> tuple[Ints, np.ndarray[Any, np.dtype[np.uint8]]]:
    """A string array's offsets (from 0) and its bytes, as NumPy views where possible."""
    n = len(values)
    buffers = values.buffers()
    dtype = np.int64 if pa.types.is_large_string(values.type) else np.int32
    offsets = np.frombuffer(buffers[1], dtype=dtype)[values.offset : values.offset + n + 1]
    offsets = offsets.astype(np.int64)
    data = (
        np.frombuffer(buffers[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
        if buffers[2] is not None
        else np.zeros(0, dtype=np.uint8)
    )
    return offsets - offsets[0], data


_BASES = tuple(
    (np.uint64(p), np.uint64(pow(p, -1, 1 << 64))) for p in (0x100000001B3, 0x9E3779B97F4A7C15)
)  # odd, so invertible modulo 2**64


_POWERS: dict[int, np.ndarray[Any, np.dtype[np.uint64]]] = {}
_POWERS_KEPT = 1 << 22  # 32 MiB per table, four tables: batches of 100,000 rows need 2-3M


def _powers(base: np.uint64, n: int) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """base**0 .. base**n modulo 2**64 (a read-only view of a table grown by doubling: every
    batch hashes megabytes, and the powers are the same each time)."""
    table = _POWERS.get(int(base))
    if table is None or len(table) <= n:
        size = max(n + 1, 2 * len(table) if table is not None else 1 << 16)
        if size > _POWERS_KEPT:  # a huge buffer: its powers are made for it, not kept
            size = n + 1
        table = np.full(size, base, dtype=np.uint64)
        table[0] = 1
        with np.errstate(over="ignore"):
            np.cumprod(table, out=table)
        table.flags.writeable = False
        if size <= _POWERS_KEPT:
            _POWERS[int(base)] = table  # one assignment: a racer sees the old or the new one
    return table[: n + 1]
