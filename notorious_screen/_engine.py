"""The batch engine: whole Arrow arrays of URLs and names in, one row number per input row out.

Real inputs repeat hosts and names heavily, so cost must follow distinct values, not rows:

1. Keys. Each row gets a key: the host of a clean URL (cut out of the buffers in bulk by
   `_hosts.fast_hosts`), the raw text of any other value, or "missing". Keys met in earlier
   batches are looked up in bulk (`_arrow.StringIndex`); of the new ones, hosts under a market's
   or owner's host are resolved in bulk (`_hosts.HostResolver`) and screened once per group,
   unrelated hosts are told in bulk (`_hosts.UnknownHosts`) and share the no-match row, and only
   the rest is matched in Python, one distinct key at a time.
2. Names. A batch's distinct names go through the matcher's vectorised name gate on a thread of
   their own, meanwhile. Where a row has no usable URL its name decides; elsewhere a name that
   names another market is a mention. Either way each (row, finding) pair is screened once.
3. Rows. Each distinct key gives a row (the output columns of `schema.ROW_COLUMNS` and, for
   host-free packs, the signature it follows from); distinct rows are shared across keys and
   batches (`_RowTable`), so the output is a ``take`` of a small table.

With ``workers=N``, N - 1 forked processes share the Python matching of new keys when a batch
brings thousands. Everything the engine remembers is bounded and cleared whole when full.

A service module (private to the package; its public names are imported by `screen`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._arrow import (
    Ints,
    StringIndex,
    as_string_array,
    bools,
    column,
    indices,
    mask,
    string_hashes,
    take,
)
from ._hosts import HostResolver, UnknownHosts, fast_hosts
from ._names import NameHit
from ._psl import LabelView
from .errors import InputError
from .markets import Market, MarketData, Owner
from .match import Match, Matcher, MatchKind, VariantClass
from .normalize import ErrorCode, normalize_clean_host, normalize_host
from .rules import RulePack
from .schema import (
    HOST_FIELDS,
    ROW_COLUMNS,
    URL_FIELDS,
    ScreenResult,
    arrow_type,
    row_values,
)

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["BatchEngine"]

# Bounded caches; when one fills up it starts afresh, so a long stream keeps caching the hosts
# it sees now (about 80 MB at this size, rows themselves being shared tuples).
CACHE_ROWS = 1 << 18
# Below this many new keys in a batch, worker processes cost more than they save.
_PARALLEL_MIN = 4096
_FORKED: BatchEngine | None = None
_SIGNATURE_AT = len(ROW_COLUMNS)
# What the name index remembers for a name that names nothing (-1 is its "never seen").
_NAMES_NOTHING = -2

#: How the engine turns a match into a screening: ``(match, url, name) -> ScreenResult``.
Screening = Callable[[Match, "str | None", object], ScreenResult]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A batch after `BatchEngine.prepare`: its row count and names, the names' dictionary
    encoding and what they name (pending on the name thread), its distinct clean hosts and
    other URL keys, and each row's key (hosts first, then the others)."""

    n: int
    names: pa.Array | None
    name_enc: pa.DictionaryArray | None
    named_soon: Future[tuple[Ints, list[NameHit]]] | None
    host_dict: pa.Array
    others: list[str]
    u_idx: Ints


class BatchEngine:
    """The batch state of one Screener: its caches, row table, name memory and worker pool.

    Thread-safe: batches may run on several threads (Dask does); the shared state is guarded
    by one lock for URL keys and rows, one for names.
    """

    def __init__(
        self,
        matcher: Matcher,
        data: MarketData,
        pack: RulePack,
        screening: Screening,
        *,
        workers: int = 1,
    ) -> None:
        self.matcher = matcher
        self.data = data
        self.workers = workers
        self._screening = screening
        brand = pack.brand
        self._per_url = bool(pack.fields_used & URL_FIELDS) or brand.has_url_rules
        self._host_free = not (
            pack.fields_used & HOST_FIELDS
            or brand.own_domains
            or brand.authorized_hosts
            or brand.has_url_rules
        )
        self._reads_name = "name" in pack.fields_used
        # Markets whose listing covers only some hosts ("Amazon's foreign domains"): for them
        # the host decides whether a row is listed.
        self._scoped = frozenset(
            m.id for m in data.markets.values() if any(item.scope for item in m.listings)
        )
        self._resolver = HostResolver(matcher, data) if self._host_free else None
        self._unknown: UnknownHosts | None = None  # built on the first batch that needs it
        self._match_rows: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        # Memory across batches: every distinct output row once, and the row of each URL key
        # and host group already screened, so a batch only does Python work for keys it is
        # the first to bring.
        self._table = _RowTable()
        self._seen: dict[str, int] = {}
        self._seen_hosts = StringIndex()
        self._group_rows: dict[int, int] = {}
        # The names met so far, each with what it names (a number into _hits, -1: nothing).
        self._seen_names = StringIndex()
        self._hits: list[NameHit] = []
        self._hit_numbers: dict[tuple[Any, ...], int] = {}
        self._lock = threading.Lock()
        self._name_lock = threading.Lock()
        self._name_pool: ThreadPoolExecutor | None = None
        self._name_pool_lock = threading.Lock()
        # Per thread, the row table a batch's rows start with and how many of them it shares.
        self._last_table = _Local()
        self._row_cache: dict[tuple[str, str | None], tuple[Any, ...]] = {}
        self._pool: Any = None
        self._row_intern: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    # ---- a batch -----------------------------------------------------------------------
    def arrays(
        self, urls: pa.Array | pa.ChunkedArray, names: pa.Array | pa.ChunkedArray | None = None
    ) -> dict[str, pa.Array]:
        """Arrow string arrays in, one Arrow array per column of `ROW_COLUMNS` out."""
        return self.arrays_of(self.prepare(urls, names))

    def arrays_of(self, batch: Prepared) -> dict[str, pa.Array]:
        """`arrays` for a batch `prepare` has done the row-wise work of."""
        rows, final = self.screen(batch)
        table, shared = self._last_table.get()
        # The table's rows are turned into Arrow once, across batches; only a batch's own
        # rows (names, pairs) are converted here.
        arrays = table.arrow(shared) if table is not None else {}
        extra = columns_of(rows[shared:]) if table is not None else columns_of(rows)
        at = pa.Array.from_buffers(pa.int64(), len(final), [None, pa.py_buffer(final)])
        out = {}
        for col, values in zip(ROW_COLUMNS, extra, strict=True):
            fresh = column(values, arrow_type(col))
            both = pa.concat_arrays([arrays[col], fresh]) if arrays else fresh
            out[col] = both.take(at)
        return out

    @property
    def threads_allowed(self) -> bool:
        """Whether helper threads are safe: no worker process is left to fork (forking while
        another thread holds a lock can leave the child stuck on it)."""
        return self.workers == 1 or self._pool is not None

    def prepare(
        self, urls: pa.Array | pa.ChunkedArray, names: pa.Array | pa.ChunkedArray | None
    ) -> Prepared:
        """The row-wise work of a batch, which needs none of the engine's memory: each row's
        key (its clean host, or its raw text), the batch's distinct keys and names, and the
        names sent to the name thread. Thread-safe, so a stream can prepare the next batch
        while this one is screened (`Screener.iter_batches`)."""
        urls = as_string_array(urls)
        n = len(urls)
        if names is not None:
            names = as_string_array(names)
            if len(names) != n:
                raise InputError("url and name arrays differ in length")

        # What the batch's names name is worked out on a thread of its own (Arrow and NumPy
        # work, mostly without the GIL) while the URLs are screened.
        name_enc = _encode(names) if names is not None else None
        named_soon: Future[tuple[Ints, list[NameHit]]] | None = None
        if name_enc is not None and not self._reads_name and name_enc.null_count < n:
            named_soon = self._names_later(name_enc.dictionary)

        # 1. A key per row: the host of a clean URL ("h" + host), the raw text of any other
        #    value ("u" + text), or "n" for a missing one; each distinct key is screened once.
        hosts = pa.nulls(n, pa.string()) if self._per_url else fast_hosts(urls)
        host_enc = _encode(hosts)
        u_idx = _indices(host_enc)
        other = u_idx < 0
        if urls.null_count:
            missing = bools(urls.is_null())
            other &= ~missing
        raw_enc = _encode(urls.filter(mask(other)))
        host_dict = host_enc.dictionary
        n_hosts = len(host_dict)
        others = ["u" + u for u in raw_enc.dictionary.to_pylist()]
        u_idx[other] = n_hosts + _indices(raw_enc)
        if urls.null_count:
            u_idx[missing] = n_hosts + len(others)
            others.append("n")
        return Prepared(n, names, name_enc, named_soon, host_dict, others, u_idx)

    def screen(
        self, batch: Prepared
    ) -> tuple[list[tuple[Any, ...]], np.ndarray[Any, np.dtype[np.int64]]]:
        """The distinct rows of a prepared batch (values of `ROW_COLUMNS`, then the
        signature), and each input row's position among them."""
        n, names, name_enc, named_soon = batch.n, batch.names, batch.name_enc, batch.named_soon
        host_dict, others, u_idx = batch.host_dict, batch.others, batch.u_idx
        n_hosts = len(host_dict)

        def url_key(i: int) -> str:
            return "h" + str(host_dict[i].as_py()) if i < n_hosts else others[i - n_hosts]

        with self._lock:
            key_ids = self._key_ids(host_dict, others)
            batch_table = self._table
            rows = list(batch_table.rows)
            self._last_table.set((batch_table, len(rows)))
        final = key_ids[u_idx]
        if names is not None:
            # 2. Names. What a usable URL proves decides; the name decides only where there
            #    is no usable URL. Elsewhere a name that names a market the URL does not
            #    prove is a mention: the URL's row plus that finding. Under a host-free pack
            #    both follow from the URL's row and what the name names, so each such pair
            #    is screened once; otherwise (or when the pack reads the name itself) each
            #    distinct (URL, name) pair is.
            assert name_enc is not None
            name_dict = name_enc.dictionary
            n_idx = _indices(name_enc)
            has_name = n_idx >= 0
            # The table's error column, from its Arrow form (kept across batches, so a batch
            # pays for its new rows only, not a Python pass over the whole table).
            error_col = (
                batch_table.arrow(len(rows))["ns_error"] if rows else pa.nulls(0, pa.string())
            )
            unusable = ~bools(error_col.is_null())[final]
            # A pattern, not ``pc.equal(col, "empty")``: turning a Python str into an Arrow
            # scalar imports pandas (0.2 s), which the CSV path never needs.
            no_url = bools(
                pc.match_substring_regex(error_col, pattern=f"^{ErrorCode.EMPTY.value}$")
            )[final]
            need = has_name.copy() if self._reads_name else np.zeros(n, dtype=bool)
            if named_soon is not None:
                hit_ids, hit_list = named_soon.result()
                hit_at = np.where(has_name, hit_ids[np.maximum(n_idx, 0)], -1)
                named = has_name & (hit_at >= 0)
                if len(hit_list):
                    is_market = np.array([h.key.market is not None for h in hit_list])
                    named &= unusable | is_market[np.maximum(hit_at, 0)]
                if not self._host_free:
                    need = named | (has_name & unusable)
                else:
                    if named.any():
                        width = len(hit_list)
                        combo = final[named] * width + hit_at[named]
                        distinct_combos, inverse = np.unique(combo, return_inverse=True)
                        with self._lock:
                            combo_rows = [
                                self._name_row(rows[int(c // width)], hit_list[int(c % width)])
                                for c in distinct_combos
                            ]
                        at = np.arange(len(rows), len(rows) + len(combo_rows), dtype=np.int64)
                        rows.extend(combo_rows)
                        final[named] = at[inverse.reshape(-1)]
                    # No URL at all and a name that names nothing: screened as a usable name
                    # ("no listed market recognised") or, if the name is not usable either,
                    # the URL's own row.
                    blank = has_name & (hit_at < 0) & no_url
                    if blank.any():
                        which = np.unique(n_idx[blank])
                        usable = self.matcher.names_usable(take(name_dict, which))
                        ok = np.zeros(len(name_dict), dtype=bool)
                        ok[which[usable]] = True
                        blank &= ok[np.maximum(n_idx, 0)]
                        if blank.any():
                            with self._lock:
                                rows.append(self._unnamed_row())
                            final[blank] = len(rows) - 1
            if need.any():
                width = len(name_dict) + 1
                pair = u_idx[need].astype(np.int64) * width + n_idx[need]
                distinct_pairs, inverse = np.unique(pair, return_inverse=True)
                pair_names: list[str] = take(name_dict, distinct_pairs % width).to_pylist()
                pairs: list[tuple[str, str | None]] = [
                    (url_key(int(p // width)), name)
                    for p, name in zip(distinct_pairs.tolist(), pair_names, strict=True)
                ]
                with self._lock:  # the worker pool and the caches are shared
                    pair_rows = self._rows(pairs)
                pair_ids = np.arange(len(rows), len(rows) + len(pair_rows), dtype=np.int64)
                rows.extend(pair_rows)
                final[need] = pair_ids[inverse.reshape(-1)]

        return rows, final

    def _names_later(self, names: pa.Array) -> Future[tuple[Ints, list[NameHit]]]:
        """`_name_hit_ids` for a batch's distinct names, on the name thread when it is safe
        to have one (no worker process left to fork), else right away."""
        from concurrent.futures import Future, ThreadPoolExecutor

        def work() -> tuple[Ints, list[NameHit]]:
            with self._name_lock:
                return self._name_hit_ids(names), list(self._hits)

        if not self.threads_allowed:
            done: Future[tuple[Ints, list[NameHit]]] = Future()
            done.set_result(work())
            return done
        with self._name_pool_lock:  # batches may be prepared on several threads
            pool = self._name_pool
            if pool is None:
                pool = self._name_pool = ThreadPoolExecutor(1, thread_name_prefix="ns-names")
                weakref.finalize(self, pool.shutdown, wait=False)
        later: Future[tuple[Ints, list[NameHit]]] = pool.submit(work)
        return later

    def _name_hit_ids(self, names: pa.Array) -> Ints:
        """Per distinct name of a batch, what it names (a number into ``_hits``; -1 for
        nothing). Names met before are looked up in bulk; new ones go through the matcher's
        vectorised name gate, and only those it keeps through Python. Call with the name lock
        held."""
        if len(self._seen_names) + len(names) >= CACHE_ROWS:
            self._seen_names = StringIndex()
        h1, h2, lengths = hashes = string_hashes(names)
        numbers = self._seen_names.lookup(names, hashes)
        new = np.flatnonzero(numbers == -1)
        if len(new):
            fresh = take(names, new)
            found = np.full(len(new), _NAMES_NOTHING, dtype=np.int64)
            for at, hit in self.matcher.name_hits(fresh):
                key = (hit.key.market or hit.key.owner, hit.key.market is None, hit.score,
                       hit.spelled)  # fmt: skip
                number = self._hit_numbers.get(key)
                if number is None:
                    number = self._hit_numbers[key] = len(self._hits)
                    self._hits.append(hit)
                found[at] = number
            numbers[new] = found
            self._seen_names.add(fresh, found, (h1[new], h2[new], lengths[new]))
        numbers[numbers == _NAMES_NOTHING] = -1
        return numbers

    def _key_ids(self, hosts: pa.Array, others: list[str]) -> np.ndarray[Any, np.dtype[np.int64]]:
        """The table row of each distinct URL key: the clean ``hosts`` (key ``"h" + host``),
        then the ``others`` keys.

        Keys met in earlier batches are looked up (hosts in Arrow, the rest in a dict). Of the
        new ones, with a host-free pack, hosts under a market's or owner's host are resolved
        in bulk (`HostResolver`) and each group is screened once, through one of its hosts;
        the rest are screened one by one (a host under no table host as ``"k" + host``, so
        its matching skips that step). Call with the lock held.
        """
        if len(self._seen) + len(self._seen_hosts) >= CACHE_ROWS or (
            len(self._table.rows) >= CACHE_ROWS
        ):
            self._seen.clear()
            self._seen_hosts = StringIndex()
            self._group_rows.clear()
            self._table = _RowTable()
        table, seen, n_hosts = self._table, self._seen, len(hosts)
        ids = np.full(n_hosts + len(others), -1, dtype=np.int64)
        # One label view and one hashing pass of the batch's hosts serve every step below.
        batch_view = LabelView(hosts)
        host_hashes = batch_view.whole()
        if n_hosts:
            ids[:n_hosts] = self._seen_hosts.lookup(hosts, host_hashes)
        ids[n_hosts:] = [seen.get(k, -1) for k in others]
        new = np.flatnonzero(ids < 0)
        if not len(new):
            return ids
        new_at = new[new < n_hosts]
        new_hosts = take(hosts, new_at)
        # Python work is for the keys no bulk step decides: "k" + host for a host under no
        # table host (its matching skips that step), "h" + host, or the other key itself.
        pending: dict[int, str] = {int(i): others[i - n_hosts] for i in new[new >= n_hosts]}
        if self._resolver is not None and len(new_at):
            view = batch_view.rows(new_at)
            groups = self._resolver.groups(new_hosts, view)
            # Under no table host: most are unrelated shops, which `UnknownHosts` tells in
            # bulk; they all share the no-match row.
            unknown = np.flatnonzero(groups == -1)
            if len(unknown):
                if self._unknown is None:
                    self._unknown = UnknownHosts(self.matcher)
                none = self._unknown.none(take(new_hosts, unknown), view.rows(unknown))
                groups[unknown[none]] = -3
                if none.any():
                    first = str(take(new_hosts, unknown[none][:1]).to_pylist()[0])
                    ids[new_at[unknown[none]]] = table.add(self._row("k" + first, None))
            # Each group of hosts under one market's or owner's host: one row, screened
            # through its first host.
            grouped = np.flatnonzero(groups >= 0)
            distinct, first_at, inverse = np.unique(
                groups[grouped], return_index=True, return_inverse=True
            )
            firsts: list[str] = take(new_hosts, grouped[first_at]).to_pylist()
            group_ids = np.empty(len(distinct), dtype=np.int64)
            for j, (group, host) in enumerate(zip(distinct.tolist(), firsts, strict=True)):
                row_id = self._group_rows.get(group)
                if row_id is None:
                    row_id = self._group_rows[group] = table.add(self._row("h" + host, None))
                group_ids[j] = row_id
            ids[new_at[grouped]] = group_ids[inverse.reshape(-1)]
            for kind, group in (("k", -1), ("h", -2)):
                left = np.flatnonzero(groups == group)
                texts = take(new_hosts, left).to_pylist()
                pending.update(zip(new_at[left].tolist(), (kind + h for h in texts), strict=True))
        else:
            texts = new_hosts.to_pylist()
            pending.update(zip(new_at.tolist(), ("h" + h for h in texts), strict=True))
        if pending:
            at = list(pending)
            rows = self._rows([(pending[i], None) for i in at])
            ids[at] = [table.add(r) for r in rows]
        h1, h2, lengths = host_hashes
        self._seen_hosts.add(new_hosts, ids[new_at], (h1[new_at], h2[new_at], lengths[new_at]))
        for i in new[new >= n_hosts].tolist():
            seen[others[i - n_hosts]] = int(ids[i])
        return ids

    def _rows(self, keys: list[tuple[str, str | None]]) -> list[tuple[Any, ...]]:
        """Rows for distinct keys. With ``workers=N`` and thousands of new keys, N - 1 forked
        processes screen their share while this process screens its own."""
        if self.workers > 1:
            missing = [k for k in keys if k not in self._row_cache]
            if len(missing) >= _PARALLEL_MIN:
                share = len(missing) * (self.workers - 1) // self.workers
                remote = self._submit(missing[:share])
                for k in missing[share:]:
                    self._row(*k)  # remembered in the row cache
                rows = [row for future in remote for row in future.result()]
                for k, row in zip(missing[:share], rows, strict=True):
                    self._remember(k, self._intern(row))
        return [self._row(*k) for k in keys]

    def _start_workers(self) -> None:
        """Fork the worker processes now (``workers > 1``), before threads hold locks."""
        if self.workers < 2 or self._pool is not None:
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # Forked workers inherit this Screener (indexes built, nothing pickled); matching is
        # pure, so which process screens a key cannot change its row.
        context = multiprocessing.get_context("fork")  # initargs are inherited, not pickled
        # The workers watch the read end: when this process ends, however it ends (SIGKILL
        # too), the kernel closes the write end and they exit, so no worker outlives us.
        watch, alive = os.pipe()
        main = threading.current_thread() is threading.main_thread()
        with warnings.catch_warnings():
            # Python 3.12+ warns on fork() from a threaded process (Arrow keeps threads);
            # the children run pure-Python matching only, never Arrow's thread pools.
            warnings.filterwarnings(
                "ignore", "This process .* is multi-threaded", DeprecationWarning
            )
            pool = ProcessPoolExecutor(
                self.workers - 1,
                mp_context=context,
                initializer=_init_worker,
                initargs=(self, watch, alive, os.getpid(), main),
            )
            stop = weakref.finalize(self, _stop_pool, pool, alive)
            # The pool forks on demand: one task per process starts them all now.
            try:
                for future in [pool.submit(_ready) for _ in range(self.workers - 1)]:
                    future.result()
            except BaseException:
                stop()
                raise
            finally:
                os.close(watch)
        self._pool = pool
        self._stop = stop

    def _submit(self, keys: list[tuple[str, str | None]]) -> list[Future[list[tuple[Any, ...]]]]:
        self._start_workers()
        parts = (self.workers - 1) * 2
        size = max(1, -(-len(keys) // parts))
        pool = self._pool
        return [pool.submit(_worker_rows, keys[i : i + size]) for i in range(0, len(keys), size)]

    def _row(self, key: str, name: str | None) -> tuple[Any, ...]:
        """The output row for one distinct URL key and name. Keys: "h" + clean host, "k" + clean
        host under no market or owner host, "u" + any other text, "n" for none."""
        cache_key = (key, name)
        row = self._row_cache.get(cache_key)
        if row is not None:
            return row
        kind, text = key[:1], key[1:]
        signature: tuple[Any, ...] | None = None
        if kind == "k" and name is None:
            # A host under no market or owner host (resolved in bulk, so the pack is
            # host-free): its row follows from what the matcher found; thousands of unrelated
            # shops share the "no match" row, so the Match itself is built only once per row.
            url = normalize_clean_host(text)
            found = self.matcher.find_beyond_tables(url)
            market, owner, match_kind, variant, imitates, similarity, _ = found
            signature = self._row_signature(
                market, owner, match_kind, variant, imitates, similarity, None, url.host, None
            )
            row = self._match_rows.get(signature)
            if row is not None:
                self._remember(cache_key, row)
                return row
            match = self.matcher.build_match(url, url.input, None, *found)
        else:
            target: object = (
                None if kind == "n" else text if kind == "u" else normalize_clean_host(text)
            )
            match = self.matcher.match(target, name=name)
            if self._host_free:
                # Many distinct inputs give the same row: build each row once.
                signature = self._match_signature(match, name)
                row = self._match_rows.get(signature)
                if row is not None:
                    self._remember(cache_key, row)
                    return row
        row = self._new_row(match, text if self._per_url else None, name, signature)
        self._remember(cache_key, row)
        return row

    def _new_row(
        self, match: Match, url: str | None, name: str | None, signature: tuple[Any, ...] | None
    ) -> tuple[Any, ...]:
        """Screen ``match`` and build its row: the output columns, then the listing status and
        the signature (host-free packs: what the row follows from; None otherwise)."""
        result = self._screening(match, url, name)
        row = (*row_values(result), signature)
        row = self._intern(row)
        if signature is not None:
            if len(self._match_rows) >= CACHE_ROWS:
                self._match_rows.clear()
            self._match_rows[signature] = row
        return row

    def _name_row(self, row: tuple[Any, ...], hit: NameHit) -> tuple[Any, ...]:
        """The row a name gives beside the URL's row (host-free packs), rebuilt from that
        row's signature: without a usable URL the name decides (the URL's reason kept, unless
        it was empty); with one, a market the name names is a mention. Each (row, finding)
        pair is screened once."""
        signature = row[_SIGNATURE_AT]
        mid, oid, kind, variant, imitates, similarity, error, host = signature[:8]
        data = self.data
        if error is not None:
            kept = None if error is ErrorCode.EMPTY else error
            match = self.matcher.by_name(hit, None, None, None, error=kept)
        else:
            url = normalize_host(host) if host else None
            match = self.matcher.build_match(
                url, None, None, data.markets[mid] if mid else None,
                data.owners[oid] if oid else None, kind, variant, imitates, similarity, "",
                error=error, mention=hit,
            )  # fmt: skip
        signature = self._match_signature(match, None)
        found = self._match_rows.get(signature)
        return found if found is not None else self._new_row(match, None, None, signature)

    def _unnamed_row(self) -> tuple[Any, ...]:
        """The row of a usable name that names nothing, with no URL (host-free packs)."""
        match = self.matcher.build_match(
            None, None, None, None, None, MatchKind.NONE, None, None, 0.0, "",
        )  # fmt: skip
        signature = self._match_signature(match, None)
        found = self._match_rows.get(signature)
        return found if found is not None else self._new_row(match, None, None, signature)

    def _match_signature(self, match: Match, name: str | None) -> tuple[Any, ...]:
        return self._row_signature(
            match.market, match.owner, match.kind, match.variant, match.imitates,
            match.similarity, match.error, match.host, name, match.mentions,
            match.mention_similarity,
        )  # fmt: skip

    def _row_signature(
        self,
        market: Market | None,
        owner: Owner | None,
        kind: MatchKind,
        variant: VariantClass | None,
        imitates: str | None,
        similarity: float,
        error: ErrorCode | None,
        host: str | None,
        name: str | None,
        mentions: Market | None = None,
        mention_similarity: float = 0.0,
    ) -> tuple[Any, ...]:
        """All a row depends on under a host-free pack: the match without its input, the host
        only where a listing scope makes it count, the name only if the pack reads it, and the
        market a seller name mentions."""
        return (
            market.id if market else None,
            owner.id if owner else None,
            kind,
            variant,
            imitates,
            float(similarity),
            error,
            host if market is not None and market.id in self._scoped else None,
            name if self._reads_name else None,
            mentions.id if mentions else None,
            float(mention_similarity) if mentions else 0.0,
        )

    def _remember(self, key: tuple[str, str | None], row: tuple[Any, ...]) -> None:
        if len(self._row_cache) >= CACHE_ROWS:
            self._row_cache.clear()
        self._row_cache[key] = row

    def _intern(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        # Most distinct keys give one of a few dozen rows: keep one tuple per distinct row.
        if len(self._row_intern) < CACHE_ROWS:
            return self._row_intern.setdefault(row, row)
        return self._row_intern.get(row, row)

    def start_workers(self) -> None:
        """Fork the worker processes now, if ``workers > 1`` (the CLI does it before it
        starts its reader and writer threads)."""
        self._start_workers()

    def close(self) -> None:
        """Stop the worker processes and the name thread, if started."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            self._stop()  # closes the workers' watch pipe (once, whichever path runs first)
        if self._name_pool is not None:
            self._name_pool.shutdown(wait=True)
            self._name_pool = None


def _init_worker(engine: BatchEngine, watch: int, alive: int, parent: int, main: bool) -> None:
    """Set up a forked worker: the parent's engine, no signal handling, death with the parent.

    Ctrl-C and ``kill -TERM -PGID`` reach the whole process group. The parent alone decides
    (it stops the pool and removes its partial output); a worker that ran the parent's
    handlers would print a traceback of its own, so it ignores SIGINT and SIGTERM. It still
    dies with the parent: on Linux through the kernel's parent-death signal (only when the
    main thread forked: the signal follows the forking thread), everywhere through ``watch``,
    a pipe whose write end only the parent holds.
    """
    global _FORKED
    _FORKED = engine
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.close(alive)
    if main and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the watch was set up
        os._exit(0)
    threading.Thread(target=_exit_with_parent, args=(watch,), daemon=True).start()


_PR_SET_PDEATHSIG = 1


def _exit_with_parent(watch: int) -> None:
    with contextlib.suppress(OSError):
        while os.read(watch, 1):
            pass
    os._exit(0)  # end of file: the parent is gone


def _stop_pool(pool: Any, alive: int) -> None:
    pool.shutdown(wait=False, cancel_futures=True)
    with contextlib.suppress(OSError):
        os.close(alive)


def _ready() -> bool:
    return True


def _worker_rows(keys: list[tuple[str, str | None]]) -> list[tuple[Any, ...]]:
    assert _FORKED is not None, "worker started without a forked engine"
    return [_FORKED._row(*k) for k in keys]


class _RowTable:
    """Distinct output rows, each with its position (the batch engine's table, kept across
    batches until it is cleared), and its first rows as Arrow columns, grown as asked."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self._index: dict[tuple[Any, ...], int] = {}
        self._arrow: dict[str, pa.Array] = {}
        self._arrow_rows = 0
        self._arrow_lock = threading.Lock()

    def add(self, row: tuple[Any, ...]) -> int:
        at = self._index.get(row)
        if at is None:
            at = self._index[row] = len(self.rows)
            self.rows.append(row)
        return at

    def arrow(self, count: int) -> dict[str, pa.Array]:
        """The first ``count`` rows as one Arrow array per row column (rows only grow)."""
        with self._arrow_lock:
            if self._arrow_rows < count:
                new = columns_of(self.rows[self._arrow_rows : count])
                for col, values in zip(ROW_COLUMNS, new, strict=True):
                    fresh = column(values, arrow_type(col))
                    old = self._arrow.get(col)
                    self._arrow[col] = pa.concat_arrays([old, fresh]) if old is not None else fresh
                self._arrow_rows = count
            return {col: values.slice(0, count) for col, values in self._arrow.items()}


class _Local(threading.local):
    """What the last batch of this thread shared with the row table."""

    value: tuple[_RowTable | None, int] = (None, 0)

    def get(self) -> tuple[_RowTable | None, int]:
        return self.value

    def set(self, value: tuple[_RowTable, int]) -> None:
        self.value = value


def _indices(encoded: pa.DictionaryArray) -> Ints:
    """Dictionary indices as NumPy, -1 where the value was null."""
    return indices(encoded.indices)


def _encode(values: pa.Array) -> pa.DictionaryArray:
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    return encoded


def columns_of(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The values of each of `ROW_COLUMNS` over ``rows`` (their signatures left out)."""
    if not rows:
        return [()] * len(ROW_COLUMNS)
    return list(zip(*rows, strict=True))[: len(ROW_COLUMNS)]
