"""Host work on whole Arrow arrays, for the batch engine.

Per-row Python costs microseconds; a million rows need the common cases done in bulk. Two
things are: taking the host out of clean URLs (``https://shop1.taobao.com/item``), and
resolving hosts that sit under a known market or owner host. Everything else (dirty input,
unknown hosts) is left to the per-value normalizer and matcher, so these shortcuts may only
ever decide cases whose answer they provably share with the full path.

A service module (private to the package; its public names are imported by `_engine`).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._arrow import HashTable, Ints, bools, column, mask, take
from ._psl import LabelView, PSLTable
from .markets import MarketData
from .match import Matcher
from .normalize import MAX_URL_LENGTH

__all__ = ["HostResolver", "UnknownHosts", "fast_hosts"]

_LOWER = np.arange(256, dtype=np.uint8)
_LOWER[ord("A") : ord("Z") + 1] += 32
# A host the WHATWG parser returns unchanged (lowercased): dotted letter-digit-hyphen labels,
# no label starting or ending with a hyphen, the last starting with a letter (so never an
# IPv4 number: the "ends in a number" rule).
_LDH_HOST = (
    r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z][a-z0-9-]*$"
)


def fast_hosts(urls: pa.Array) -> pa.Array:
    """The lowercase host of each clean URL, null for every other value.

    Clean means: ``http://``, ``https://`` (any case) or no scheme, then an LDH host (see
    ``_LDH_HOST``) without ``xn--``, then the end or ``/``, ``?`` or ``#``; at most
    ``MAX_URL_LENGTH`` characters. For those the host is its own WHATWG parse, which a property
    test checks against ``normalize_url``; the rest go through the full normalizer.
    """
    n = len(urls)
    buffers = urls.buffers()
    if n == 0 or urls.null_count == n or buffers[2] is None:
        return pa.nulls(n, pa.string())
    offsets = np.frombuffer(buffers[1], dtype=np.int32)[urls.offset : urls.offset + n + 1]
    # Only this slice's bytes: a sliced array shares the whole buffer of its parent.
    data = np.frombuffer(buffers[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    offsets = offsets - offsets[0]
    if len(data) == 0:  # only empty strings
        return pa.nulls(n, pa.string())
    start, stop = offsets[:-1], offsets[1:]
    size = stop - start
    # The scheme: "http://" or "https://", any case, compared a byte at a time.
    last = len(data) - 1

    def byte(k: int) -> np.ndarray[Any, np.dtype[np.uint8]]:
        picked: np.ndarray[Any, np.dtype[np.uint8]] = data[np.minimum(start + k, last)]
        return picked

    http = size >= 7
    for k, char in enumerate(b"http"):
        http &= (byte(k) | 0x20) == char  # | 0x20 lowercases a letter, and only H maps to h
    https = http & (size >= 8) & ((byte(4) | 0x20) == ord("s"))
    for k, char in enumerate(b"://"):
        https &= byte(5 + k) == char
        http &= byte(4 + k) == char
    hstart = start + np.where(https, 8, np.where(http, 7, 0)).astype(np.int32)
    # The host ends at the first "/", "?" or "#" after it, or at the end of the value.
    cut = np.flatnonzero((data == ord("/")) | (data == ord("?")) | (data == ord("#")))
    cut = np.append(cut.astype(np.int32), np.int32(len(data)))
    hend = np.minimum(cut[np.searchsorted(cut, hstart)], stop)
    hlen = np.maximum(hend - hstart, 0)
    host_offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(hlen, out=host_offsets[1:])
    index = np.arange(host_offsets[-1], dtype=np.int32)
    index += np.repeat(hstart - host_offsets[:-1], hlen)
    host_data = _LOWER[data[index]]
    offsets_buf, data_buf = pa.py_buffer(host_offsets), pa.py_buffer(host_data)
    hosts = pa.Array.from_buffers(pa.string(), n, [None, offsets_buf, data_buf])
    ok = bools(pc.match_substring_regex(hosts, _LDH_HOST))
    ok &= ~bools(pc.match_substring(hosts, "xn--"))
    if urls.null_count:
        ok &= bools(urls.is_valid())
    long = size > MAX_URL_LENGTH  # bytes; the limit counts characters, as len() does
    if long.any():
        chars = pc.utf8_length(urls.filter(mask(long))).to_numpy(zero_copy_only=False)
        ok[long] &= chars <= MAX_URL_LENGTH
    validity = pa.py_buffer(np.packbits(ok, bitorder="little"))
    return pa.Array.from_buffers(pa.string(), n, [validity, offsets_buf, data_buf])


class HostResolver:
    """The matcher's host steps (exact, subdomain, alias, owner) for a whole array of hosts.

    Most hosts in a crawl are storefronts under a listed market's host
    (``shop123.taobao.com``). Resolving them in Arrow sorts them into groups of the same
    market or owner and the same match kind without a Python call per host; the Screener then
    screens one host per group. It mirrors ``Matcher._resolve_host``: a ``www.`` host whose
    rest is a primary host is that host exactly; otherwise the longest label-aligned suffix in
    the tables wins, primary before alias before owner.
    """

    def __init__(self, matcher: Matcher, data: MarketData) -> None:
        primary, alias, owner = matcher.host_tables()
        table: dict[str, tuple[str, bool]] = {}
        for mapping, is_primary in ((primary, True), (alias, False)):
            for host, ident in mapping.items():
                table.setdefault(host, (ident, is_primary))
        for host in owner:
            table.setdefault(host, ("", False))
        # A listing scope more specific than every table host above it would split a group
        # into covered and uncovered hosts: such a market's hosts are left to the matcher.
        unsafe = {
            m.id
            for m in data.markets.values()
            for item in m.listings
            for scope in item.scope
            if scope.lower() not in table
        }
        names = list(table)
        self._n_primary = len(primary)
        primary_names = sorted(primary)
        self._primary = HashTable(primary_names)
        self._primary_ok = np.array([primary[h] not in unsafe for h in primary_names], dtype=bool)
        self._hosts = HashTable(names)
        self._is_primary = np.array([table[h][1] for h in names], dtype=bool)
        self._ok = np.array([table[h][0] not in unsafe for h in names], dtype=bool)
        self._deepest = max((h.count(".") + 1 for h in names), default=0)

    def groups(self, hosts: pa.Array, view: LabelView | None = None) -> Ints:
        """A group number per host (clean, no nulls): one group, one row. -1 where the host
        is under no table host, -2 where it is but left to the matcher (scoped markets)."""
        n = len(hosts)
        groups = np.full(n, -1, dtype=np.int64)
        if n == 0:
            return groups
        view = view or LabelView(hosts)
        rows = np.arange(n, dtype=np.int64)
        data, start = view.data, view.start
        www = view.end - start > 4
        for k, char in enumerate(b"www."):
            www &= data[np.minimum(start + k, max(len(data) - 1, 0))] == char
        exact = self._primary.find(view.hashes.of(np.where(www, start + 4, start), view.end))
        best = np.full(n, -1, dtype=np.int64)
        whole = np.zeros(n, dtype=bool)
        for depth in range(min(self._deepest, int(view.labels.max())), 0, -1):  # longest first
            at = rows[(view.labels >= depth) & (best < 0)]
            if not len(at):
                continue
            found = self._hosts.find(view.suffix(depth, at))
            hit = found >= 0
            best[at[hit]] = found[hit]
            whole[at[hit]] = view.labels[at[hit]] == depth
        resolved = best >= 0
        entry = np.maximum(best, 0)
        kind = (whole & self._is_primary[entry]).astype(np.int64)
        groups[resolved] = self._n_primary + 2 * best[resolved] + kind[resolved]
        groups[resolved & ~self._ok[entry]] = -2
        at_www = exact >= 0
        groups[at_www] = np.where(self._primary_ok[exact[at_www]], exact[at_www], -2)
        return groups


def _two_edit_hits(
    data: np.ndarray[Any, np.dtype[np.uint8]],
    start: Ints,
    width: int,
    labels: np.ndarray[Any, np.dtype[np.uint8]],
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Per row, whether the label of ``width`` bytes at ``start`` is two edits of one of
    ``labels`` (a (k, n) byte matrix) as `VariantIndex` counts them: with width n, at most two
    places differ; with width n + 1, one byte is doubled and, the double undone, at most one
    place differs. The matcher's own test on bytes: exactly what it can find is kept."""
    n = labels.shape[1]
    rows = data[start[:, None] + np.arange(width)]  # (r, width)
    if width == n:
        differ = (rows[:, None, :] != labels[None, :, :]).sum(axis=2)
        hit: np.ndarray[Any, np.dtype[np.bool_]] = (differ <= 2).any(axis=1)
        return hit
    # Undoing the double at place j (1..n) aligns rows[:j] with labels[:j] and rows[j+1:] with
    # labels[j:]: a prefix count of the direct alignment plus a suffix count of the shifted
    # one. Column t below stands for j = t + 1.
    doubled = rows[:, 1:] == rows[:, :-1]  # (r, n)
    some = doubled.any(axis=1)  # only a label with a doubled byte can be this class
    hit = np.zeros(len(start), dtype=bool)
    if not some.any():
        return hit
    rows, doubled = rows[some], doubled[some]
    direct = np.cumsum(rows[:, None, :n] != labels[None, :, :], axis=2)  # (r, k, n)
    shifted = rows[:, None, 1:] != labels[None, :, :]
    after = np.cumsum(shifted[:, :, ::-1], axis=2)[:, :, ::-1]  # from place t on
    after = np.concatenate([after[:, :, 1:], np.zeros_like(after[:, :, :1])], axis=2)
    hit[some] = ((direct + after <= 1) & doubled[:, None, :]).any(axis=(1, 2))
    return hit


class UnknownHosts:
    """Which clean hosts under no table host the matcher has nothing to say about.

    Most distinct hosts of a crawl are unrelated shops, and matching each in Python (its PSL
    split, then the lookalike indexes) costs microseconds. This decides for a whole array
    which of them the matcher's remaining steps (brand TLD, country site, lookalike) cannot
    recognise: the PSL split in bulk (`_psl`), then set and literal tests that every finding
    of those steps passes (the label is a target label or one of its lookalike spellings, a
    hyphenated or dot-split target label, a target label inside the label, a target inside
    the subdomain, a market label as the TLD, a long target label at two substitutions or one
    and a doubled byte, the host without its dots starting with a target's). A host that
    passes any test goes to the matcher, which decides; a test checks that no host this drops
    is recognised.
    """

    def __init__(self, matcher: Matcher) -> None:
        index = matcher.detector.index
        self._psl = PSLTable()
        self._lookalike = HashTable(sorted(index.ascii_lookalike_labels()))
        self._edit = column(sorted(index.dotted_labels), pa.string())
        by_length: dict[int, list[bytes]] = {}
        for label in index.long_labels:
            if label.isascii():
                by_length.setdefault(len(label), []).append(label.encode("ascii"))
        self._long = {
            n: np.frombuffer(b"".join(ls), dtype=np.uint8).reshape(len(ls), n)
            for n, ls in sorted(by_length.items())
        }
        dotless = sorted(index.dotless_hosts, key=lambda x: (-len(x), x))
        self._dotless = (
            "^(?:www)?(?:" + "|".join(re.escape(d) for d in dotless) + ")" if dotless else None
        )
        self._labels = HashTable(sorted(index.target_labels))
        combos = sorted(index.combo_labels)
        self._inside = "|".join(re.escape(c) for c in combos) or "(?!x)x"
        spelled = sorted(index.hosts | index.registrables)
        self._in_subdomain = "|".join(re.escape(x) for x in (*combos, *spelled)) or "(?!x)x"

    def none(
        self, hosts: pa.Array, view: LabelView | None = None
    ) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Per host (clean, no nulls): True where the matcher certainly finds nothing."""
        n = len(hosts)
        if n == 0:
            return np.zeros(0, dtype=bool)
        view = view or LabelView(hosts)
        split = self._psl.split(hosts, view)
        rows = np.arange(n, dtype=np.int64)
        labels, icann = split.labels, split.icann
        maybe = split.fallback.copy()
        # The TLD (brand TLDs); a country site's label is the label below, a target label.
        maybe |= self._labels.find(view.suffix(1, rows)) >= 0
        has_icann = (icann > 0) & (labels > icann)
        # The label the lookalike step reads: left of the private suffix, if any, else of the
        # ICANN one; and what is left of it (the subdomain).
        under = np.where(split.private & (labels > split.suffix), split.suffix, icann)
        has_label = has_icann & (labels > under)
        start = view.starts(under + 1, rows)
        end = view.starts(under, rows) - 1
        maybe |= has_label & (self._lookalike.find(view.hashes.of(start, end)) >= 0)
        label = view.cut(start, end)
        maybe |= has_label & bools(pc.match_substring_regex(label, self._inside))
        hyphen = np.flatnonzero(has_label & bools(pc.match_substring(label, "-")))
        if len(hyphen):
            joined = pc.replace_substring(take(label, hyphen), "-", "")
            maybe[hyphen[bools(pc.is_in(joined, value_set=self._edit))]] = True
        # two edits in a long label: the matcher's own count of differing places, on bytes
        if self._long:
            size = end - start
            near = np.flatnonzero(
                has_label & ~maybe & (size >= min(self._long)) & (size <= max(self._long) + 1)
            )
            near_size = size[near]
            for n, longs in self._long.items():
                for width in (n, n + 1):
                    at = near[near_size == width]
                    if len(at):
                        maybe[at[_two_edit_hits(view.data, start[at], width, longs)]] = True
        if self._dotless is not None:  # a dot left out, under any suffix or none
            flat = pc.replace_substring(hosts, ".", "")
            maybe |= bools(pc.match_substring_regex(flat, self._dotless))
        sub = np.flatnonzero(has_label & (labels > under + 1))
        if len(sub):
            head = view.cut(view.start, start - 1, sub)
            maybe[sub[bools(pc.match_substring_regex(head, self._in_subdomain))]] = True
            # dot insertion: the last subdomain label and the label make a target label
            dotted = view.cut(view.starts(under + 2, rows), end, sub)
            joined = pc.replace_substring(dotted, ".", "")
            maybe[sub[bools(pc.is_in(joined, value_set=self._edit))]] = True
        none: np.ndarray[Any, np.dtype[np.bool_]] = ~maybe
        return none
