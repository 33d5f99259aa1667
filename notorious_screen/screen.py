"""The Screener: normalize -> match -> rules, for one URL, a DataFrame or a stream of Arrow batches.

All three entry points share one engine so they cannot disagree. The batch engine works on
Arrow arrays: the host of each clean URL (``https://host/path``) is cut out of the buffers in
bulk (`_bulk.fast_hosts`) and every other input goes through the full WHATWG normalizer, once
per distinct string. Hosts under a market's or owner's host are resolved in bulk too
(`_bulk.HostResolver`) and screened once per group; every other distinct key is matched once,
remembered across batches, and mapped back to rows with ``take``: real inputs repeat hosts
heavily, so cost follows distinct hosts, not rows.
"""

from __future__ import annotations

import contextlib
import ctypes
import operator
import os
import signal
import sys
import threading
import warnings
import weakref
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._arrow import Ints, StringIndex, bools, column, indices, mask, take
from ._bulk import HostResolver, UnknownHosts, fast_hosts
from ._names import NameHit
from ._psl import LabelView
from ._text import SURROGATES
from .errors import InputError
from .markets import Edition, Listing, Market, MarketData, Owner, resolve_data
from .match import Match, Matcher, MatchKind, VariantClass, VariantDetector
from .normalize import PSL_VERSION, ErrorCode, as_text, normalize_clean_host, normalize_host
from .rules import Evaluation, Reason, RulePack, load_rule_pack

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    import pandas as pd

__all__ = [
    "OUTPUT_COLUMNS",
    "ScreenResult",
    "Screener",
    "default_screener",
    "screen_frame",
    "screen_url",
]

#: Columns added to every screened frame, in this order.
OUTPUT_COLUMNS: tuple[str, ...] = (
    "ns_market",
    "ns_market_id",
    "ns_owner",
    "ns_listed",
    "ns_listed_years",
    "ns_match",
    "ns_variant",
    "ns_similarity",
    "ns_score",
    "ns_tier",
    "ns_reasons",
    "ns_error",
    "ns_edition",
    "ns_edition_complete",
    "ns_name_mentions",
)

# Fields whose value depends on the whole URL rather than the host: a pack that reads them
# is evaluated per distinct URL instead of per distinct host.
_URL_FIELDS = frozenset({"url", "path", "query"})
# Fields that differ between two hosts resolved the same way: a pack that reads none of them
# (and has no brand hosts) gives every storefront of a market the same row.
_HOST_FIELDS = _URL_FIELDS | {"host", "host_unicode", "registrable_domain"}


@dataclass(frozen=True, slots=True)
class ScreenResult:
    """The screening of one input: what it is, whether it is listed, and what the pack says."""

    match: Match
    market: Market | None
    owner: Owner | None
    listed: bool
    listed_years: tuple[int, ...]
    listing_status: str | None
    edition: Edition
    score: int
    tier: str | None
    reasons: tuple[Reason, ...]
    error: ErrorCode | None
    rules: str
    rules_hash: str
    psl_version: str


def _edition_tag(edition: Edition) -> str:
    return f"{edition.list}-{edition.year}"


class Screener:
    """Screens URLs and names against one watch-list edition with one rule pack.

    Build it once and reuse it: construction parses the market data and the pack and builds
    the match indexes. ``data`` is a :class:`MarketData`, an overlay file or a list of them
    (merged onto the bundled data; a complete knowledge base may come first and replace it);
    by default the bundled data plus the overlays in ``$NOTORIOUS_SCREEN_DATA``. It is
    thread-safe (caches are only read and filled with complete values) and picklable (caches
    are dropped and rebuilt on the other side).
    """

    def __init__(
        self,
        *,
        year: int | None = None,
        list: str = "ustr-nml",
        rules: str | Path | RulePack = "default",
        data: MarketData | str | PathLike[str] | Iterable[str | PathLike[str]] | None = None,
        legitimate: tuple[str, ...] = (),
        workers: int = 1,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self._year = year
        self._list = list
        self._legitimate = tuple(legitimate)
        self.data = resolve_data(data)
        self.edition = self.data.edition(list, year)
        self.pack = rules if isinstance(rules, RulePack) else load_rule_pack(rules)
        self._rules_arg = rules
        self._init_derived()

    def _init_derived(self) -> None:
        self.matcher = Matcher(self.data, legitimate=self._legitimate or None)
        own = self.pack.brand.own_domains
        self._brand_detector = VariantDetector(own) if own else None
        self._owner_listed = {
            m.owner for m in self.data.markets_in(self.edition) if m.owner is not None
        }
        self._per_url = bool(self.pack.fields_used & _URL_FIELDS) or self.pack.brand.has_url_rules
        brand = self.pack.brand
        self._host_free = not (
            self.pack.fields_used & _HOST_FIELDS
            or brand.own_domains
            or brand.authorized_hosts
            or brand.has_url_rules
        )
        self._reads_name = "name" in self.pack.fields_used
        # Markets whose listing covers only some hosts ("Amazon's foreign domains"): for them
        # the host decides whether a row is listed.
        self._scoped = frozenset(
            m.id for m in self.data.markets.values() if any(item.scope for item in m.listings)
        )
        self._resolver = HostResolver(self.matcher, self.data) if self._host_free else None
        self._unknown: UnknownHosts | None = None  # built on the first batch that needs it
        self._match_rows: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        # The batch engine's memory across batches: every distinct output row once, and the
        # row of each URL key and host group already screened, so a batch only does Python
        # work for keys it is the first to bring. Guarded by a lock (Dask runs batches on
        # threads); bounded, and cleared whole when full.
        self._table = _RowTable()
        self._seen: dict[str, int] = {}
        self._seen_hosts = StringIndex()
        self._group_rows: dict[int, int] = {}
        # The names met so far, each with what it names (a number into _hits, -1: no market).
        self._seen_names = StringIndex()
        self._hits: list[NameHit] = []
        self._hit_numbers: dict[tuple[Any, ...], int] = {}
        self._lock = threading.Lock()
        self._name_lock = threading.Lock()
        self._name_pool: ThreadPoolExecutor | None = None
        # Per thread, the row table a batch's rows start with and how many of them it shares.
        self._last_table = _Local()
        self._row_cache: dict[tuple[str, str | None], tuple[Any, ...]] = {}
        self._pool: Any = None
        self._row_intern: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        fields = tuple(sorted(self.pack.fields_used)) or ("match",)
        # itemgetter always returns a tuple when given two names or more.
        self._signature = operator.itemgetter(*fields, *fields[:1])
        self._list_at = fields.index("listed_years") if "listed_years" in fields else None
        self._eval_cache: dict[tuple[Any, ...], Evaluation] = {}
        self._tag = _edition_tag(self.edition)

    def __getstate__(self) -> dict[str, Any]:
        return {
            "workers": self.workers,
            "year": self._year,
            "list": self._list,
            "legitimate": self._legitimate,
            "data": self.data,
            "pack": self.pack,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.workers = state.get("workers", 1)
        self._year = state["year"]
        self._list = state["list"]
        self._legitimate = state["legitimate"]
        self.data = state["data"]
        self.edition = self.data.edition(self._list, self._year)
        self.pack = state["pack"]
        self._rules_arg = self.pack
        self._init_derived()

    # ---- one input ---------------------------------------------------------------------
    def screen_url(self, url: object = None, *, name: object = None) -> ScreenResult:
        """Screen one URL (and optionally a seller or platform name)."""
        match = self.matcher.match(url, name=name)
        return self._result(match, url if isinstance(url, str) else None, name)

    def _result(self, match: Match, url: str | None, name: object) -> ScreenResult:
        record = self.record(match, url=url, name=name if isinstance(name, str) else None)
        evaluation = self._evaluate(record)
        market = match.market
        return ScreenResult(
            match=match,
            market=market,
            owner=match.owner,
            listed=bool(record["listed"]),
            listed_years=tuple(record["listed_years"] or ()),
            listing_status=record["listing_status"],
            edition=self.edition,
            score=evaluation.score,
            tier=evaluation.tier,
            reasons=evaluation.reasons,
            error=match.error,
            rules=self.pack.name,
            rules_hash=self.pack.content_hash,
            psl_version=PSL_VERSION,
        )

    def _evaluate(self, record: dict[str, Any]) -> Evaluation:
        # Many distinct hosts give the same record on the fields the pack reads (every
        # unrelated shop, every storefront of one market): evaluate each signature once.
        signature = self._signature(record)
        if self._list_at is not None and signature[self._list_at] is not None:
            signature = (*signature[: self._list_at], tuple(signature[self._list_at]),
                         *signature[self._list_at + 1 :])  # fmt: skip
        found = self._eval_cache.get(signature)
        if found is None:
            found = self.pack.evaluate(record)
            if len(self._eval_cache) >= _CACHE_ROWS:
                self._eval_cache.clear()
            self._eval_cache[signature] = found
        return found

    def _listing(self, market: Market, year: int, host: str | None) -> Listing | None:
        listing = market.listing(self.edition.list, year, host)
        if listing is not None and listing.scope and host is None:
            # A listing narrower than the platform ("Amazon's foreign domains") needs a host
            # to apply: a bare name cannot say which storefront it is.
            return None
        return listing

    def record(
        self, match: Match, *, url: str | None = None, name: str | None = None
    ) -> dict[str, Any]:
        """The rule-pack record for one match: the closed field vocabulary of rules.py."""
        ed = self.edition
        market = match.market
        owner = match.owner
        listing = None
        listed_years: tuple[int, ...] | None = None
        listed_before = None
        editions_listed = None
        if market is not None:
            scope_host = match.imitates if match.kind is MatchKind.VARIANT else match.host
            years = tuple(
                y
                for y in market.listed_years(ed.list)
                if y <= ed.year and self._listing(market, y, scope_host) is not None
            )
            listing = self._listing(market, ed.year, scope_host)
            listed_years = years
            listed_before = any(y < ed.year for y in years)
            editions_listed = len(years)
        host = match.host
        path, query = _split_path(match.path) if url is not None else (None, None)
        brand = self.pack.brand
        own = brand.is_own_domain(host) if host else False
        authorized = brand.is_authorized(host=host, url=url, store_id=None)
        lookalike = False
        if not (own or authorized) and self._brand_detector is not None and match.url is not None:
            lookalike = self._brand_detector.detect(match.url) is not None
        return {
            "market": market.id if market else None,
            "market_name": market.name if market else None,
            "kind": market.kind if market else None,
            "physical": market.physical if market else None,
            "country": market.country if market else None,
            "owner": owner.id if owner else None,
            "owner_name": owner.name if owner else None,
            "listed": listing is not None,
            "listed_years": list(listed_years) if listed_years is not None else None,
            "listing_status": listing.status if listing is not None else None,
            "listed_before": listed_before,
            "editions_listed": editions_listed,
            "owner_listed": (owner.id in self._owner_listed) if owner else None,
            "match": match.kind.value,
            "variant": match.variant.value if match.variant else None,
            "imitates": match.imitates,
            "similarity": float(match.similarity),
            "host": host,
            "host_unicode": match.host_unicode,
            "registrable_domain": match.registrable_domain,
            "path": path,
            "query": query,
            "url": url,
            "name": name,
            "brand_own_domain": own,
            "brand_lookalike": lookalike,
            "brand_authorized": authorized,
            "error": match.error.value if match.error else None,
            "name_mentions": match.mentions.id if match.mentions else None,
            "name_mentions_name": match.mentions.name if match.mentions else None,
            "name_similarity": match.mention_similarity if match.mentions else None,
        }

    # ---- many inputs -------------------------------------------------------------------
    def screen_frame(
        self,
        df: pd.DataFrame,
        *,
        url_column: str = "url",
        name_column: str | None = None,
    ) -> pd.DataFrame:
        """Return ``df`` with the ``ns_*`` columns added: same index, order and original columns."""
        import pandas as pd

        if not isinstance(df, pd.DataFrame):
            df = _from_other_frame(df)
        check_columns(list(map(str, df.columns)), url_column=url_column, name_column=name_column)
        urls = _to_arrow_strings(df[url_column])
        names = _to_arrow_strings(df[name_column]) if name_column is not None else None
        rows, final = self._screen(urls, names)
        columns = _columns(rows)
        out: pd.DataFrame = df.copy(deep=False)
        for col, distinct in zip(_ROW_COLUMNS, columns, strict=True):
            if col not in OUTPUT_COLUMNS:
                continue
            # One NumPy value per distinct row, then taken per row: text cells share their
            # str objects instead of a new one per row. A NumPy array carries no index, so the
            # values land on the frame's rows by position whatever its index; text columns are
            # object dtype with None for missing on every pandas version.
            dtype = _PANDAS_DTYPES[col]
            table = np.empty(len(distinct), dtype=object if dtype == "object" else dtype)
            table[:] = distinct
            out[col] = pd.Series(table[final], index=df.index, name=col, dtype=dtype)
        return out

    def screen_arrays(
        self, urls: pa.Array | pa.ChunkedArray, names: pa.Array | pa.ChunkedArray | None = None
    ) -> dict[str, pa.Array]:
        """The batch engine: Arrow string arrays in, one Arrow array per output column out."""
        rows, final = self._screen(urls, names)
        table, shared = self._last_table.get()
        # The table's rows are turned into Arrow once, across batches; only a batch's own
        # rows (names, pairs) are converted here.
        arrays = table.arrow(shared) if table is not None else {}
        extra = _columns(rows[shared:]) if table is not None else _columns(rows)
        at = pa.Array.from_buffers(pa.int64(), len(final), [None, pa.py_buffer(final)])
        out = {}
        for col, values in zip(_ROW_COLUMNS, extra, strict=True):
            fresh = column(values, _ARROW_TYPES[col])
            both = pa.concat_arrays([arrays[col], fresh]) if arrays else fresh
            out[col] = both.take(at)
        return out

    def _screen(
        self, urls: pa.Array | pa.ChunkedArray, names: pa.Array | pa.ChunkedArray | None
    ) -> tuple[list[tuple[Any, ...]], np.ndarray[Any, np.dtype[np.int64]]]:
        """The distinct output rows of a batch, and each input row's position among them."""
        urls = _as_string_array(urls)
        n = len(urls)
        if names is not None:
            names = _as_string_array(names)
            if len(names) != n:
                raise InputError("url and name arrays differ in length")

        # What the batch's names name is worked out on a thread of its own (Arrow and NumPy
        # work, mostly without the GIL) while this one screens the URLs.
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

        def url_key(i: int) -> str:
            return "h" + str(host_dict[i].as_py()) if i < n_hosts else others[i - n_hosts]

        with self._lock:
            key_ids = self._key_ids(host_dict, others)
            rows = list(self._table.rows)
            self._last_table.set((self._table, len(rows)))
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
            errors = [r[_ERROR_AT] for r in rows]
            unusable = np.array([e is not None for e in errors], dtype=bool)[final]
            no_url = np.array([e == "empty" for e in errors], dtype=bool)[final]
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

        if self.workers > 1 and self._pool is None:
            done: Future[tuple[Ints, list[NameHit]]] = Future()
            done.set_result(work())
            return done
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
        if len(self._seen_names) + len(names) >= _CACHE_ROWS:
            self._seen_names = StringIndex()
        numbers = self._seen_names.lookup(names)
        new = np.flatnonzero(numbers < 0)
        if len(new):
            fresh = take(names, new)
            found = np.full(len(new), -1, dtype=np.int64)
            for at, hit in self.matcher.name_hits(fresh):
                key = (hit.key.market or hit.key.owner, hit.key.market is None, hit.score,
                       hit.spelled)  # fmt: skip
                number = self._hit_numbers.get(key)
                if number is None:
                    number = self._hit_numbers[key] = len(self._hits)
                    self._hits.append(hit)
                found[at] = number
            numbers[new] = found
            self._seen_names.add(fresh, found)
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
        if len(self._seen) + len(self._seen_hosts) >= _CACHE_ROWS or (
            len(self._table.rows) >= _CACHE_ROWS
        ):
            self._seen.clear()
            self._seen_hosts = StringIndex()
            self._group_rows.clear()
            self._table = _RowTable()
        table, seen, n_hosts = self._table, self._seen, len(hosts)
        ids = np.full(n_hosts + len(others), -1, dtype=np.int64)
        if n_hosts:
            ids[:n_hosts] = self._seen_hosts.lookup(hosts)
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
            view = LabelView(new_hosts)
            groups = self._resolver.groups(new_hosts, view)
            # Under no table host: most are unrelated shops, which `UnknownHosts` tells in
            # bulk; they all share the no-match row.
            unknown = np.flatnonzero(groups == -1)
            if len(unknown):
                if self._unknown is None:
                    self._unknown = UnknownHosts(self.matcher)
                none = self._unknown.none(take(new_hosts, unknown))
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
        self._seen_hosts.add(new_hosts, ids[new_at])
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

    def close(self) -> None:
        """Stop the worker processes (``workers > 1``) and the name thread, if started."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            self._stop()  # closes the workers' watch pipe (once, whichever path runs first)
        if self._name_pool is not None:
            self._name_pool.shutdown(wait=True)
            self._name_pool = None

    def __enter__(self) -> Screener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
            found = self.matcher._found_unresolved(url)
            market, owner, match_kind, variant, imitates, similarity, _ = found
            signature = self._row_signature(
                market, owner, match_kind, variant, imitates, similarity, None, url.host, None
            )
            row = self._match_rows.get(signature)
            if row is not None:
                self._remember(cache_key, row)
                return row
            match = self.matcher._build(url, url.input, None, *found)
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
        result = self._result(match, url, name)
        row = (
            result.market.name if result.market else None,
            result.market.id if result.market else None,
            result.owner.name if result.owner else None,
            result.listed,
            ",".join(map(str, result.listed_years)) if result.listed_years else None,
            match.kind.value,
            match.variant.value if match.variant else None,
            float(match.similarity),
            result.score,
            result.tier,
            _format_reasons(result.reasons),
            result.error.value if result.error else None,
            self._tag,
            self.edition.complete,
            match.mentions.name if match.mentions else None,
            result.listing_status,
            signature,
        )
        row = self._intern(row)
        if signature is not None:
            if len(self._match_rows) >= _CACHE_ROWS:
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
            market = data.markets[hit.key.market] if hit.key.market else None
            owner = self.matcher._owner_of(market, hit.key.owner)
            kept = None if error is ErrorCode.EMPTY else error
            match = self.matcher._build(
                None, None, None, market, owner, MatchKind.NAME, None, None, hit.score, "",
                error=kept,
            )  # fmt: skip
        else:
            url = normalize_host(host) if host else None
            match = self.matcher._build(
                url, None, None, data.markets[mid] if mid else None,
                data.owners[oid] if oid else None, kind, variant, imitates, similarity, "",
                error=error, mention=hit,
            )  # fmt: skip
        signature = self._match_signature(match, None)
        found = self._match_rows.get(signature)
        return found if found is not None else self._new_row(match, None, None, signature)

    def _unnamed_row(self) -> tuple[Any, ...]:
        """The row of a usable name that names nothing, with no URL (host-free packs)."""
        match = self.matcher._build(
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
        if len(self._row_cache) >= _CACHE_ROWS:
            self._row_cache.clear()
        self._row_cache[key] = row

    def _intern(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        # Most distinct keys give one of a few dozen rows: keep one tuple per distinct row.
        if len(self._row_intern) < _CACHE_ROWS:
            return self._row_intern.setdefault(row, row)
        return self._row_intern.get(row, row)

    def output_schema(self, names: list[str]) -> pa.Schema:
        """The schema of screened batches: the input's text columns, then the ns_* columns."""
        fields = [pa.field(n, pa.string()) for n in names]
        return pa.schema(fields + [pa.field(c, _ARROW_TYPES[c]) for c in OUTPUT_COLUMNS])

    def explain(self, url: object = None, *, name: object = None) -> str:
        """A readable account of one screening: normalization, match, every rule that fired."""
        result = self.screen_url(url, name=name)
        m = result.match
        lines = [f"input:        {url!r}" + (f"  name: {name!r}" if name is not None else "")]
        if m.url is not None:
            lines.extend(f"  step:       {step}" for step in m.url.steps)
            unicode = m.host_unicode if m.host_unicode and m.host_unicode != m.host else None
            lines.append(
                f"host:         {m.host or '-'}" + (f"  (unicode: {unicode})" if unicode else "")
            )
            lines.append(f"registrable:  {m.registrable_domain or '-'}   (PSL: {PSL_VERSION})")
        if result.error is not None:
            lines.append(f"error:        {result.error.value}")
        variant = f" ({m.variant.value}, imitates {m.imitates})" if m.variant else ""
        lines.append(f"match:        {m.kind.value}{variant}, similarity {m.similarity:.0f}")
        lines.append(f"why:          {m.explanation}")
        market = result.market
        lines.append(
            f"market:       {market.name} [{market.id}, {market.kind}]"
            if market
            else "market:       -"
        )
        lines.append(f"owner:        {result.owner.name if result.owner else '-'}")
        ed = self.edition
        note = "" if ed.complete else "  (incomplete in the data: absence proves nothing)"
        lines.append(f"edition:      {ed.label}{note}")
        status = result.listing_status
        years = ", ".join(map(str, result.listed_years))
        who = "the imitated market: " if m.kind is MatchKind.VARIANT else ""
        lines.append(
            f"listed:       {who}{'yes' if result.listed else 'no'}"
            + (f" ({status})" if status else "")
            + (f"; listed years: {years}" if years else "")
        )
        lines.append(f"rules:        {self.pack.name} ({self.pack.content_hash[:12]})")
        lines.extend(f"  {r.points:+4d}  {r.rule_id}: {r.message}" for r in result.reasons)
        lines.append(f"score:        {result.score}   tier: {result.tier or '-'}")
        return "\n".join(lines)

    def iter_batches(
        self,
        batches: Iterator[pa.RecordBatch],
        *,
        url_column: str = "url",
        name_column: str | None = None,
        summary: Summary | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Screen a stream of record batches; each comes back with the ``ns_*`` columns."""
        for batch in batches:
            urls = batch.column(batch.schema.get_field_index(url_column))
            names = (
                batch.column(batch.schema.get_field_index(name_column))
                if name_column is not None
                else None
            )
            added = self.screen_arrays(urls, names)
            if summary is not None:
                summary.update(added)
            arrays = list(batch.columns) + [added[c] for c in OUTPUT_COLUMNS]
            fields = list(batch.schema) + [pa.field(c, _ARROW_TYPES[c]) for c in OUTPUT_COLUMNS]
            yield pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


# Bounded caches; when one fills up it starts afresh, so a long stream keeps caching the hosts
# it sees now (about 80 MB at this size, rows themselves being shared tuples).
_CACHE_ROWS = 1 << 18
# Below this many new keys in a batch, worker processes cost more than they save.
_PARALLEL_MIN = 4096
_FORKED: Screener | None = None


def _init_worker(screener: Screener, watch: int, alive: int, parent: int, main: bool) -> None:
    """Set up a forked worker: the parent's Screener, no signal handling, death with the parent.

    Ctrl-C and ``kill -TERM -PGID`` reach the whole process group. The parent alone decides
    (it stops the pool and removes its partial output); a worker that ran the parent's
    handlers would print a traceback of its own, so it ignores SIGINT and SIGTERM. It still
    dies with the parent: on Linux through the kernel's parent-death signal (only when the
    main thread forked: the signal follows the forking thread), everywhere through ``watch``,
    a pipe whose write end only the parent holds.
    """
    global _FORKED
    _FORKED = screener
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
    assert _FORKED is not None, "worker started without a forked Screener"
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
                new = _columns(self.rows[self._arrow_rows : count])
                for col, values in zip(_ROW_COLUMNS, new, strict=True):
                    fresh = column(values, _ARROW_TYPES[col])
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


_MARKET_ID_AT = OUTPUT_COLUMNS.index("ns_market_id")
_ERROR_AT = OUTPUT_COLUMNS.index("ns_error")
# The per-key row: the output columns, then internal ones the summary reads, then the row's
# signature (not a column).
_ROW_COLUMNS: tuple[str, ...] = (*OUTPUT_COLUMNS, "ns_listing_status")
_SIGNATURE_AT = len(_ROW_COLUMNS)

_ARROW_TYPES: Mapping[str, pa.DataType] = {
    "ns_listing_status": pa.string(),
    "ns_market": pa.string(),
    "ns_market_id": pa.string(),
    "ns_owner": pa.string(),
    "ns_listed": pa.bool_(),
    "ns_listed_years": pa.string(),
    "ns_match": pa.string(),
    "ns_variant": pa.string(),
    "ns_similarity": pa.float64(),
    "ns_score": pa.int64(),
    "ns_tier": pa.string(),
    "ns_reasons": pa.string(),
    "ns_error": pa.string(),
    "ns_edition": pa.string(),
    "ns_edition_complete": pa.bool_(),
    "ns_name_mentions": pa.string(),
}
_PANDAS_DTYPES: Mapping[str, str] = {
    c: (
        "bool"
        if t == pa.bool_()
        else "float64"
        if t == pa.float64()
        else "int64"
        if t == pa.int64()
        else "object"
    )
    for c, t in _ARROW_TYPES.items()
}


class Summary:
    """Counts of screened rows per market, owner, tier and listing status (for ``--summary``)."""

    _KEYS = (
        ("market", "ns_market"),
        ("owner", "ns_owner"),
        ("tier", "ns_tier"),
        ("listing status", "ns_listing_status"),
    )

    def __init__(self) -> None:
        self.rows = 0
        self.max_score = -1
        self.counts: dict[str, dict[str, int]] = {label: {} for label, _ in self._KEYS}

    def update(self, columns: Mapping[str, pa.Array]) -> None:
        scores = columns["ns_score"]
        self.rows += len(scores)
        if len(scores):
            top = pc.max(scores).as_py()
            self.max_score = max(self.max_score, top if top is not None else -1)
        for label, col in self._KEYS:
            counts = self.counts[label]
            for item in pc.value_counts(columns[col]).to_pylist():
                value = item["values"] if item["values"] is not None else "-"
                counts[value] = counts.get(value, 0) + item["counts"]

    def format(self, edition: Edition | None = None, files: tuple[str, ...] = ()) -> str:
        """The report; with ``edition``, it ends with the edition screened against and its
        coverage, and with several ``files``, the market data they make."""
        lines = [f"rows screened: {self.rows:,}"]
        for label, counts in self.counts.items():
            lines.append(f"\nrows per {label}:")
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            width = max((len(k) for k, _ in ranked), default=1)
            lines.extend(f"  {value:<{width}}  {count:>10,}" for value, count in ranked)
        if edition is not None:
            lines.append(f"\nedition: {edition.label} ({edition.coverage()})")
        if len(files) > 1:
            lines.append("data: " + " + ".join(files))
        return "\n".join(lines)


def _indices(encoded: pa.DictionaryArray) -> Ints:
    """Dictionary indices as NumPy, -1 where the value was null."""
    return indices(encoded.indices)


def _encode(values: pa.Array) -> pa.DictionaryArray:
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    return encoded


def _columns(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The values of each of `_ROW_COLUMNS` over ``rows`` (the signature left out)."""
    if not rows:
        return [()] * len(_ROW_COLUMNS)
    return list(zip(*rows, strict=True))[: len(_ROW_COLUMNS)]


def _format_reasons(reasons: tuple[Reason, ...]) -> str | None:
    if not reasons:
        return None
    return "; ".join(f"{r.rule_id} ({r.points:+d})" for r in reasons)


def _split_path(path: str | None) -> tuple[str | None, str | None]:
    if not path:
        return None, None
    p, sep, q = path.partition("?")
    return (p or None), (q if sep else None)


def _as_string_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_large_string(values.type):
        return values.cast(pa.string())
    if not pa.types.is_string(values.type):
        if pa.types.is_null(values.type):
            return pa.array([None] * len(values), type=pa.string())
        return pc.cast(values, pa.string())
    return values


def _to_arrow_strings(series: pd.Series[Any]) -> pa.Array:
    """A column as Arrow strings: text kept byte for byte, missing values as null.

    Other cells are turned into text the way the normalizer does it (bytes decoded, NaN-likes
    missing), so a frame row screens exactly like ``screen_url(cell)``. Lone surrogates, which
    Arrow cannot hold, become U+FFFD, as the normalizers would make them anyway.
    """
    import pandas as pd

    if pd.api.types.is_string_dtype(series.dtype) and not pd.api.types.is_object_dtype(
        series.dtype
    ):
        try:
            return _as_string_array(pa.array(series))
        except UnicodeEncodeError:  # a Python-backed string column holding surrogates
            pass
    values = [v if isinstance(v, str) else as_text(v) for v in series.tolist()]
    try:
        return pa.array(values, type=pa.string())
    except UnicodeEncodeError:
        return pa.array([_usv(v) for v in values], type=pa.string())


def _usv(text: str | None) -> str | None:
    return None if text is None else SURROGATES.sub("\ufffd", text)


def check_columns(
    columns: list[str], *, url_column: str, name_column: str | None, where: str | None = None
) -> None:
    """Raise :class:`InputError` unless the input can be screened: the URL and name columns
    exist once each and no column already has an output name. One check for every entry point.
    """
    prefix = f"{where}: " if where else ""
    for col in (url_column, name_column):
        if col is None:
            continue
        if col not in columns:
            have = ", ".join(repr(c) for c in columns) or "none"
            raise InputError(f"{prefix}column {col!r} not found; the input has columns: {have}")
        if columns.count(col) > 1:
            raise InputError(f"{prefix}column {col!r} appears {columns.count(col)} times")
    clash = [c for c in OUTPUT_COLUMNS if c in columns]
    if clash:
        raise InputError(f"{prefix}input already has output column(s) {', '.join(clash)}")


def _from_other_frame(df: Any) -> pd.DataFrame:
    # Polars (and anything else with to_pandas) is converted; the result is pandas.
    to_pandas = getattr(df, "to_pandas", None)
    if to_pandas is None:
        raise InputError(f"expected a pandas or Polars DataFrame, got {type(df).__name__}")
    result: pd.DataFrame = to_pandas()
    return result


_default: Screener | None = None
_default_lock = threading.Lock()


def default_screener() -> Screener:
    """The lazily built default Screener (latest complete USTR edition, default pack)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Screener()
    return _default


def screen_url(url: object = None, *, name: object = None) -> ScreenResult:
    """Screen one URL with the default Screener."""
    return default_screener().screen_url(url, name=name)


def screen_frame(
    df: pd.DataFrame, *, url_column: str = "url", name_column: str | None = None
) -> pd.DataFrame:
    """Screen a DataFrame with the default Screener (see :meth:`Screener.screen_frame`)."""
    return default_screener().screen_frame(df, url_column=url_column, name_column=name_column)
