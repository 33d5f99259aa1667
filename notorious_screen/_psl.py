"""The Public Suffix List split for whole arrays of clean hosts (what `normalize_host` does for
one host).

A crawl brings hundreds of thousands of distinct unrelated hosts, and splitting each through
tldextract costs microseconds in Python. For clean hosts (lowercase letter-digit-hyphen
labels, no ``xn--``: what `_hosts.fast_hosts` takes out of clean URLs) the split is a walk from
the right through the suffix rules, which this module does for all hosts at once, one depth
at a time and only for hosts whose walk goes on: the last d labels of each host are hashed in
place in its byte buffer (`_arrow.SubstringHashes`) and looked up in a table of every rule's
label suffixes. The rules are those of the one offline tldextract instance
(`normalize.suffix_rules`), so the answer is tldextract's, which a test checks host by host.
Hosts under a wildcard rule (``*.ck``, ``*.compute.amazonaws.com``) are left to tldextract
(`HostSplit.fallback`).

A service module (private to the package; its public names are imported by `_engine`, `_hosts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ._arrow import Hashes, HashTable, Ints, SubstringHashes

__all__ = ["HostSplit", "PSLTable"]

_NODE, _PUBLIC, _PRIVATE, _WILDCARD = 1, 2, 4, 8


@dataclass(frozen=True, slots=True)
class HostSplit:
    """Per host, in labels: how many it has, the ICANN suffix's and the suffix's with private
    rules (0: none), and whether the deepest suffix is a private one. ``fallback`` marks
    hosts this split does not decide (a wildcard rule on their path)."""

    labels: Ints
    icann: Ints
    suffix: Ints
    private: np.ndarray[Any, np.dtype[np.bool_]]
    fallback: np.ndarray[Any, np.dtype[np.bool_]]


class LabelView:
    """The label structure of a string array of hosts (no nulls): where each host's last d
    labels start, and those suffixes as new string arrays, cut from the buffer with NumPy."""

    def __init__(self, hosts: pa.Array) -> None:
        n = len(hosts)
        buffers = hosts.buffers()
        offsets = np.frombuffer(buffers[1], dtype=np.int32)[hosts.offset : hosts.offset + n + 1]
        data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else None
        self.data = (
            data[offsets[0] : offsets[-1]] if data is not None else np.zeros(0, dtype=np.uint8)
        )
        self.start = (offsets[:-1] - offsets[0]).astype(np.int64)
        self.end = (offsets[1:] - offsets[0]).astype(np.int64)
        self.dots = np.flatnonzero(self.data == ord(".")).astype(np.int64)
        first = np.searchsorted(self.dots, self.start)
        self.last_dot = np.searchsorted(self.dots, self.end) - 1  # index into dots, or first-1
        self.labels = (self.last_dot - first + 2).astype(np.int64)
        self._hashes: SubstringHashes | None = None
        self._parent: LabelView | None = None

    def starts(self, depth: int | Ints, rows: Ints) -> Ints:
        """Byte start of the last ``depth`` labels (one number, or one per row) of the hosts
        ``rows``: the host's start when it has no more labels, its end for depth 0."""
        depth = np.broadcast_to(np.asarray(depth, dtype=np.int64), rows.shape)
        inside = depth < self.labels[rows]
        out = np.where(depth <= 0, self.end[rows] + 1, self.start[rows])
        if len(self.dots):
            k = np.clip(self.last_dot[rows] - depth + 1, 0, len(self.dots) - 1)
            out = np.where(inside & (depth > 0), self.dots[k] + 1, out)
        result: Ints = out
        return result

    def rows(self, rows: Ints) -> LabelView:
        """The view of some of the hosts (``take(hosts, rows)``), sharing this one's buffer and
        hashes instead of cutting and hashing the hosts again."""
        view = object.__new__(LabelView)
        view.data, view.dots, view._hashes = self.data, self.dots, self._hashes
        view.start, view.end = self.start[rows], self.end[rows]
        view.last_dot, view.labels = self.last_dot[rows], self.labels[rows]
        view._parent = self
        return view

    @property
    def hashes(self) -> SubstringHashes:
        """Hashes of any part of the hosts' bytes (built on first use, once per view)."""
        if self._hashes is None:
            parent = self._parent
            self._hashes = parent.hashes if parent is not None else SubstringHashes(self.data)
        return self._hashes

    def whole(self) -> Hashes:
        """The hashes of each whole host (what `string_hashes` gives for the host array)."""
        return self.hashes.of(self.start, self.end)

    def suffix(self, depth: int | Ints, rows: Ints) -> Hashes:
        """The hashes of the last ``depth`` labels of the hosts ``rows``."""
        return self.hashes.of(self.starts(depth, rows), self.end[rows])

    def cut(self, starts: Ints, ends: Ints, rows: Ints | None = None) -> pa.Array:
        """The strings ``data[starts:ends]`` (for ``rows`` of the hosts, or all of them)."""
        if rows is not None:
            starts, ends = starts[rows], ends[rows]
        size = np.maximum(ends - starts, 0)
        offsets = np.zeros(len(size) + 1, dtype=np.int64)
        np.cumsum(size, out=offsets[1:])
        at = np.arange(offsets[-1], dtype=np.int64) + np.repeat(starts - offsets[:-1], size)
        buffers = [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(self.data[at])]
        return pa.Array.from_buffers(pa.string(), len(size), buffers)


class PSLTable:
    """The suffix rules as one table of every rule's label suffixes (the walk's nodes)."""

    def __init__(self) -> None:
        from .normalize import suffix_rules

        public, private = suffix_rules()
        flags: dict[str, int] = {}
        for rule in public | private:
            if not rule.isascii():
                continue  # a clean host is ASCII without xn--: it never meets these
            labels = rule.split(".")
            if labels[0].startswith("!"):
                continue  # exceptions live under wildcards, which are left to tldextract
            wildcard = labels[0] == "*"
            if wildcard:
                labels = labels[1:]
            for i in range(len(labels)):
                node = ".".join(labels[i:])
                flags[node] = flags.get(node, 0) | _NODE
            end = ".".join(labels)
            if wildcard:
                flags[end] |= _WILDCARD
                continue
            if rule in private:  # tldextract's trie marks the node private when listed so
                flags[end] = (flags[end] | _PRIVATE) & ~_PUBLIC
            elif not flags[end] & _PRIVATE:
                flags[end] |= _PUBLIC
        nodes = sorted(flags)
        self._nodes = HashTable(nodes, [flags[n] for n in nodes])
        self.depth = max(n.count(".") + 1 for n in nodes)

    def split(self, hosts: pa.Array, view: LabelView | None = None) -> HostSplit:
        """The split of each clean host (a string array without nulls)."""
        view = view or LabelView(hosts)
        n = len(hosts)
        labels = view.labels
        icann = np.zeros(n, dtype=np.int64)
        suffix = np.zeros(n, dtype=np.int64)
        private = np.zeros(n, dtype=bool)
        fallback = np.zeros(n, dtype=bool)
        walking = np.arange(n, dtype=np.int64)
        for depth in range(1, self.depth + 1):
            if not len(walking):
                break
            d = np.full(len(walking), depth, dtype=np.int64)
            flags = np.maximum(self._nodes.find(view.suffix(depth, walking)), 0)
            fallback[walking[(flags & _WILDCARD) != 0]] = True
            public = (flags & _PUBLIC) != 0
            end = public | ((flags & _PRIVATE) != 0)
            icann[walking[public]] = d[public]
            suffix[walking[end]] = d[end]
            private[walking[end]] = ~public[end]
            walking = walking[((flags & _NODE) != 0) & (labels[walking] > depth)]
        return HostSplit(labels, icann, suffix, private, fallback)
