"""The analyst's report: a screened table aggregated while it streams, written as one HTML page.

One job: turn screened rows (a file of any size, a DataFrame, a stream of batches) into the
figures an analyst shows a manager -- rows and sellers by market, owner, country and tier;
listed, unlisted and lookalike rows; the top sellers and their worst listings; the lookalike
hosts and what they imitate; which editions list each market found -- and render them as one
self-contained HTML file (see ``_report_html``).

It reads any screened file, old or new: each section uses the columns it needs when they are
there, and says which column it lacks when they are not. Memory is bounded whatever the row
count: the closed-vocabulary ``ns_*`` columns are counted per distinct combination; distinct
sellers are counted exactly up to ``EXACT_DISTINCT`` per value and estimated beyond that
(HyperLogLog, shown with ``≈``); the seller and lookalike tables keep at most
``MAX_SELLERS``/``MAX_LOOKALIKES`` entries and say so when they had to let some go. Below those
bounds every figure is exact and independent of how the input is cut into batches.
"""

from __future__ import annotations

import hashlib
import heapq
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .errors import InputError
from .markets import Edition, Market, MarketData, load_markets
from .normalize import PSL_VERSION, normalize_url

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EXACT_DISTINCT",
    "MAX_LOOKALIKES",
    "MAX_SELLERS",
    "TIMELINE_YEARS",
    "EditionColumn",
    "Lookalike",
    "MarketHistory",
    "Report",
    "ReportBuilder",
    "SellerSummary",
    "Tally",
    "WorstListing",
    "report",
]

#: Edition years shown in the timeline of the markets found.
TIMELINE_YEARS = range(2019, 2025)
#: Distinct sellers counted exactly per value (market, owner, ...); beyond it, estimated.
EXACT_DISTINCT = 1 << 15
#: Sellers kept for the top-sellers table; beyond it the least risky half is let go.
MAX_SELLERS = 100_000
#: Lookalike hosts kept for the lookalikes table; beyond it the least frequent half is let go.
MAX_LOOKALIKES = 100_000
# Distinct combinations of the counted columns. A screened file has a few hundred to a few
# thousand; far more means the ns_* columns were not written by a screening.
_MAX_COMBINATIONS = 200_000
_WORST_PER_SELLER = 3
# The scheme and authority of a URL with a plain special-scheme start (no backslash, no
# whitespace or control character before the path), as the normalizer would read them.
_AUTHORITY = r"^(?P<p>(?i:https?|ftp|wss?)://[^/\\?#\s\x00-\x1f]*)(?:[/?#]|$)"
_MARKETS_PER_SELLER = 5

# Row categories of the "listed, unlisted, lookalike" section, in display order.
LISTED = "listed"
LOOKALIKE = "lookalike"
UNLISTED = "unlisted"
UNRECOGNISED = "unrecognised"
UNUSABLE = "unusable"
STATUSES = (LISTED, LOOKALIKE, UNLISTED, UNRECOGNISED, UNUSABLE)
NO_TIER = "(no tier)"
NO_COUNTRY = "(country not recorded)"

# The counted columns: one distinct combination of them is one entry of the cube.
_CUBE = (
    "ns_market",
    "ns_market_id",
    "ns_owner",
    "ns_tier",
    "ns_match",
    "ns_listed",
    "ns_error",
    "ns_edition",
    "ns_rules",
    "ns_rules_hash",
    "ns_score",
)
_M, _MID, _OWNER, _TIER, _MATCH, _LISTED, _ERR, _ED, _RULES, _HASH, _SCORE = range(len(_CUBE))
_Key = tuple[Any, ...]


# ---- results ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Tally:
    """Rows, and distinct sellers when the file names them, for one value of one dimension.

    ``sellers`` is None without a seller column; ``sellers_estimated`` marks a HyperLogLog
    estimate (more than :data:`EXACT_DISTINCT` distinct sellers). ``flagged`` counts rows with
    a tier; ``max_score`` is the highest score among the rows (None without ``ns_score``).
    """

    label: str
    rows: int
    sellers: int | None = None
    sellers_estimated: bool = False
    flagged: int = 0
    max_score: int | None = None
    key: str | None = None


@dataclass(frozen=True, slots=True)
class WorstListing:
    """One row of the input shown in the report; ``row`` is its 1-based data row number."""

    row: int
    url: str | None
    market: str | None
    score: int | None
    tier: str | None
    reasons: str | None
    match: str | None = None


@dataclass(frozen=True, slots=True)
class SellerSummary:
    """A seller's rows, flagged rows, worst score and worst listings (highest score first).

    ``markets`` names the markets with most of the seller's rows (at most five).
    """

    seller: str
    rows: int
    flagged: int
    worst_score: int | None
    worst_tier: str | None
    markets: tuple[str, ...]
    listings: tuple[WorstListing, ...]


@dataclass(frozen=True, slots=True)
class Lookalike:
    """A lookalike host (``ns_match`` ``variant``) and what it imitates.

    ``imitates`` is the imitated host when the file records it (``ns_imitates``); ``market`` is
    the imitated market's name.
    """

    host: str | None
    imitates: str | None
    market: str | None
    variant: str | None
    similarity: float | None
    rows: int
    max_score: int | None


@dataclass(frozen=True, slots=True)
class EditionColumn:
    """One edition of the timeline and how complete the bundled data is for it."""

    list: str
    year: int
    label: str
    online_complete: bool
    physical_complete: bool
    coverage: str


@dataclass(frozen=True, slots=True)
class MarketHistory:
    """Which editions of the timeline list a market found in the file.

    ``cells`` has one entry per :attr:`Report.editions` column: the listing status (``new``,
    ``continuing``, ...) when the edition lists the market, ``""`` when it does not and that
    edition is complete in the data, ``"?"`` when the edition is incomplete in the data (the
    absence proves nothing). ``known`` is False for a market id this installation's data lacks.
    """

    market_id: str
    name: str
    physical: bool
    rows: int
    cells: tuple[str, ...]
    scoped: tuple[bool, ...]
    known: bool = True


@dataclass(frozen=True, slots=True, eq=False)
class Report:
    """The figures of one screened table; :meth:`html` renders them as a standalone page.

    ``missing`` maps a section (``sellers``, ``lookalikes``, ``countries``, ...) to why it
    could not be shown, naming the column it needs. ``sellers_complete`` and
    ``lookalikes_complete`` are False when a table reached its bound and let entries go.
    """

    source: str
    rows: int
    columns: tuple[str, ...]
    seller_column: str | None
    url_column: str | None
    sellers: Tally
    tiers: tuple[Tally, ...]
    statuses: tuple[Tally, ...]
    markets: tuple[Tally, ...]
    owners: tuple[Tally, ...]
    countries: tuple[Tally, ...]
    errors: tuple[Tally, ...]
    scores: tuple[int, ...]
    top_sellers: tuple[SellerSummary, ...]
    sellers_complete: bool
    lookalikes: tuple[Lookalike, ...]
    lookalikes_complete: bool
    editions: tuple[EditionColumn, ...]
    history: tuple[MarketHistory, ...]
    screened_editions: tuple[Tally, ...]
    rule_packs: tuple[Tally, ...]
    missing: Mapping[str, str]
    psl_version: str
    version: str
    generated: str

    def html(self, *, title: str | None = None) -> str:
        """The report as one self-contained HTML document (no script, no network)."""
        from ._report_html import render

        return render(self, title=title)

    def write(self, path: str | Path, *, title: str | None = None) -> None:
        """Write :meth:`html` to ``path``, atomically (an interrupted write leaves no file)."""
        from ._files import atomic_output

        with atomic_output(str(path)) as sink:
            sink.write(self.html(title=title).encode("utf-8", "replace"))


# ---- distinct counting -----------------------------------------------------------------------
_P = 14
_REGISTERS = 1 << _P
_ALPHA = 0.7213 / (1 + 1.079 / _REGISTERS)


class _Distinct:
    """Distinct 64-bit hashes: an exact sorted set up to EXACT_DISTINCT, then HyperLogLog."""

    __slots__ = ("_exact", "_registers")

    def __init__(self) -> None:
        self._exact: np.ndarray[Any, np.dtype[np.uint64]] | None = np.zeros(0, np.uint64)
        self._registers: np.ndarray[Any, np.dtype[np.uint8]] | None = None

    def add(self, hashes: np.ndarray[Any, np.dtype[np.uint64]]) -> None:
        if self._exact is not None:
            self._exact = np.union1d(self._exact, hashes)
            if len(self._exact) <= EXACT_DISTINCT:
                return
            hashes, self._exact = self._exact, None
            self._registers = np.zeros(_REGISTERS, np.uint8)
        assert self._registers is not None
        index = (hashes >> np.uint64(64 - _P)).astype(np.int64)
        rest = hashes & np.uint64((1 << (64 - _P)) - 1)
        # Rank of the first set bit in the 50 low bits (51 when none is set); exact in float64.
        bits = np.frexp(rest.astype(np.float64))[1]
        rank = (64 - _P - bits + 1).astype(np.uint8)
        np.maximum.at(self._registers, index, rank)

    @property
    def estimated(self) -> bool:
        return self._exact is None

    def count(self) -> int:
        if self._exact is not None:
            return len(self._exact)
        assert self._registers is not None
        estimate = (
            _ALPHA * _REGISTERS**2 / float(np.sum(np.ldexp(1.0, -self._registers.astype(int))))
        )
        zeros = int(np.count_nonzero(self._registers == 0))
        if estimate <= 2.5 * _REGISTERS and zeros:
            estimate = _REGISTERS * math.log(_REGISTERS / zeros)
        return round(estimate)


def _hash_texts(values: list[Any]) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """A stable 64-bit hash per text (blake2b): the same seller hashes alike in every run."""
    return np.fromiter(
        (
            int.from_bytes(
                hashlib.blake2b(v.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
                "little",
            )
            for v in values
        ),
        dtype=np.uint64,
        count=len(values),
    )


# ---- column access -------------------------------------------------------------------------
def _column(batch: pa.RecordBatch, name: str | None) -> pa.Array | None:
    """A column as text with empty cells as null, or None when the batch lacks it."""
    if name is None:
        return None
    found = batch.schema.get_all_field_indices(name)
    if not found:
        return None
    col = batch.column(found[0])
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if not pa.types.is_string(col.type):
        try:
            col = pc.cast(col, pa.string())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            col = pa.array([None if v is None else str(v) for v in col.to_pylist()], pa.string())
    empty = pc.equal(col, "")
    if pc.any(empty).as_py():
        col = pc.if_else(empty, pa.scalar(None, pa.string()), col)
    return col


def _as_bool(col: pa.Array, where: str) -> pa.Array:
    lowered = pc.utf8_lower(pc.utf8_trim_whitespace(col))
    true = pc.is_in(lowered, pa.array(["true", "1", "yes"]))
    false = pc.is_in(lowered, pa.array(["false", "0", "no"]))
    bad = pc.and_(pc.is_valid(lowered), pc.invert(pc.or_(true, false)))
    if pc.any(bad).as_py():
        value = pc.filter(col, bad)[0].as_py()
        raise InputError(f"{where}: column ns_listed holds {value!r}, not true or false")
    return pc.if_else(pc.is_valid(lowered), true, pa.scalar(None, pa.bool_()))


def _as_number(col: pa.Array, name: str, where: str, *, integer: bool) -> pa.Array:
    try:
        numbers = pc.cast(pc.utf8_trim_whitespace(col), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        numbers = None
    if numbers is not None and integer:
        whole = pc.equal(pc.floor(numbers), numbers)
        if pc.all(whole).as_py() is not False:
            return pc.cast(numbers, pa.int64())
    elif numbers is not None:
        return numbers
    for value in col.to_pylist():
        if value is None:
            continue
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or (integer and number != int(number)):
            kind = "a whole number" if integer else "a number"
            raise InputError(f"{where}: column {name} holds {value!r}, not {kind}")
    raise InputError(f"{where}: column {name} cannot be read as numbers")  # pragma: no cover


def _encode(col: pa.Array) -> tuple[np.ndarray[Any, np.dtype[np.int64]], list[Any]]:
    """Codes per row (0 for null) and the value of each code (``[None, ...]``)."""
    encoded = pc.dictionary_encode(col)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    if encoded.null_count:
        codes = np.where(encoded.is_valid().to_numpy(zero_copy_only=False), codes + 1, 0)
    else:
        codes = codes + 1
    return codes.astype(np.int64), [None, *encoded.dictionary.to_pylist()]


# ---- the builder ---------------------------------------------------------------------------
class ReportBuilder:
    """Aggregates screened batches one at a time; :meth:`result` gives the :class:`Report`.

    Feed it Arrow record batches or tables, or pandas DataFrames (e.g. the chunks of
    ``pd.read_csv(chunksize=...)`` passed through ``screen_frame``). Memory stays bounded
    (see the module docstring), so a stream of any length can be reported.
    """

    def __init__(
        self,
        *,
        url_column: str | None = "url",
        seller_column: str | None = None,
        source: str = "<data>",
        data: MarketData | None = None,
    ) -> None:
        self.url_column = url_column
        self.seller_column = seller_column
        self.source = source
        self._data = data
        self._columns: tuple[str, ...] | None = None
        self._rows = 0
        self._cube: dict[_Key, int] = {}
        self._distinct: dict[tuple[str, Any], _Distinct] = {}
        self._seller_table = _SellerTable()
        self._lookalikes: dict[_Key, list[Any]] = {}
        self._lookalikes_complete = True
        self._by_name: dict[str, Market] | None = None

    # -- input
    def add(self, batch: pa.RecordBatch | pa.Table | pd.DataFrame) -> None:
        """Count one batch of screened rows (rows are numbered in the order they are added)."""
        if isinstance(batch, pa.Table):
            for part in batch.to_batches():
                self.add(part)
            return
        if not isinstance(batch, pa.RecordBatch):
            batch = _frame_batch(batch, self._wanted)
        self._check_columns(list(map(str, batch.schema.names)))
        if batch.num_rows:
            self._add(batch)
            self._rows += batch.num_rows

    def _wanted(self, name: str) -> bool:
        return name.startswith("ns_") or name in (self.url_column, self.seller_column)

    def _check_columns(self, names: list[str]) -> None:
        if self._columns is not None:
            if [n for n in names if self._wanted(n)] != [
                n for n in self._columns if self._wanted(n)
            ]:
                raise InputError(f"{self.source}: a batch has other columns than the first")
            return
        if not any(n.startswith("ns_") for n in names):
            raise InputError(
                f"{self.source}: no ns_* columns: this is not a screened table "
                "(screen it first: notorious-screen screen INPUT -o screened.csv)"
            )
        if self.seller_column is None and "ns_seller" in names:
            self.seller_column = "ns_seller"
        if self.seller_column is not None and self.seller_column not in names:
            have = ", ".join(repr(c) for c in names)
            raise InputError(
                f"{self.source}: seller column {self.seller_column!r} not found; "
                f"the input has columns: {have}"
            )
        if self.url_column is not None and self.url_column not in names:
            self.url_column = None  # the sections that show URLs say so
        self._columns = tuple(names)

    def _market_data(self) -> MarketData:
        if self._data is None:
            self._data = load_markets()
        return self._data

    def _markets_by_name(self) -> Mapping[str, Market]:
        if self._by_name is None:
            self._by_name = {m.name: m for m in self._market_data().markets.values()}
        return self._by_name

    def _add(self, batch: pa.RecordBatch) -> None:
        where = self.source
        n = batch.num_rows
        cols: list[pa.Array] = []
        for name in _CUBE:
            col = _column(batch, name)
            if col is None:
                col = pa.nulls(n, pa.string())
            elif name == "ns_listed":
                col = _as_bool(col, where)
            elif name == "ns_score":
                col = _as_number(col, name, where, integer=True)
            cols.append(col)
        group, keys = _groups([_encode(c) for c in cols])
        counts = np.bincount(group, minlength=len(keys))
        for key, count in zip(keys, counts.tolist(), strict=True):
            self._cube[key] = self._cube.get(key, 0) + count
        if len(self._cube) > _MAX_COMBINATIONS:
            raise InputError(
                f"{where}: more than {_MAX_COMBINATIONS:,} distinct combinations of the ns_* "
                "columns: they do not look like a screening's output"
            )
        seller = _column(batch, self.seller_column)
        url = _column(batch, self.url_column)
        if seller is not None:
            reasons = _column(batch, "ns_reasons")
            self._add_sellers(seller, group, keys, cols, url, reasons)
        match = cols[_MATCH]
        if pc.any(pc.equal(match, "variant")).as_py():
            self._add_lookalikes(batch, pc.equal(match, "variant"), cols, url)

    # -- sellers
    def _add_sellers(
        self,
        seller: pa.Array,
        group: np.ndarray[Any, np.dtype[np.int64]],
        keys: list[_Key],
        cols: list[pa.Array],
        url: pa.Array | None,
        reasons: pa.Array | None,
    ) -> None:
        codes, values = _encode(seller)
        valid = codes > 0
        if not valid.any():
            return
        hashes = np.zeros(len(values), np.uint64)
        hashes[1:] = _hash_texts(values[1:])
        # Distinct (seller, group) pairs first: far fewer than rows, and every dimension is a
        # function of the group.
        pairs = np.unique(codes[valid] * len(keys) + group[valid])
        pair_seller, pair_group = pairs // len(keys), pairs % len(keys)
        for dim, of in _DIMENSIONS.items():
            ids: dict[Any, int] = {}
            labels = [of(self, key) for key in keys]
            gmap = np.array(
                [ids.setdefault(v, len(ids)) if v is not None else -1 for v in labels], np.int64
            )
            dim_codes = gmap[pair_group]
            keep = dim_codes >= 0
            if not keep.any():
                continue
            names = list(ids)
            # Sorted by value, then seller: each value's sellers are one run, without repeats.
            both = np.unique(dim_codes[keep] * len(values) + pair_seller[keep])
            d, sellers = both // len(values), both % len(values)
            bounds = np.flatnonzero(np.diff(d)) + 1
            for start, stop in zip(
                np.r_[0, bounds].tolist(), np.r_[bounds, len(d)].tolist(), strict=True
            ):
                label = names[int(d[start])]
                found = np.unique(hashes[sellers[start:stop]])
                self._distinct.setdefault((dim, label), _Distinct()).add(found)
        self._add_seller_table(codes, values, cols, url, reasons)

    def _add_seller_table(
        self,
        codes: np.ndarray[Any, np.dtype[np.int64]],
        values: list[Any],
        cols: list[pa.Array],
        url: pa.Array | None,
        reasons: pa.Array | None,
    ) -> None:
        scores = pc.fill_null(cols[_SCORE], -1).to_numpy(zero_copy_only=False).astype(np.int64)
        tiered = cols[_TIER].is_valid().to_numpy(zero_copy_only=False)
        market_codes, market_values = _encode(cols[_M])
        details = (url, cols[_M], cols[_TIER], reasons, cols[_MATCH])
        self._seller_table.add(
            codes, values, scores, tiered, market_codes, market_values, details, self._rows
        )

    # -- lookalikes
    def _add_lookalikes(
        self, batch: pa.RecordBatch, variant: pa.Array, cols: list[pa.Array], url: pa.Array | None
    ) -> None:
        host = _column(batch, "ns_host")
        if host is None and url is not None:
            urls = url.filter(variant)
            # A URL's host depends only on its scheme and authority: normalize each distinct
            # "scheme://authority" once (lookalike rows repeat hosts with many item paths).
            prefix = pc.struct_field(pc.extract_regex(urls, _AUTHORITY), [0])
            codes, values = _encode(pc.coalesce(prefix, urls))
            hosts = [None] + [normalize_url(v).host_unicode for v in values[1:]]
            host_col = pa.array([hosts[c] for c in codes.tolist()], pa.string())
        elif host is not None:
            host_col = host.filter(variant)
        else:
            host_col = pa.nulls(int(pc.sum(variant).as_py() or 0), pa.string())
        imitates = _column(batch, "ns_imitates")
        market = _column(batch, "ns_imitates_market")
        if market is None and imitates is None:
            market = cols[_M]  # files before ns_imitates: ns_market is the imitated market
        similarity = _column(batch, "ns_similarity")
        parts = {
            "host": host_col,
            "imitates": _filtered(imitates, variant),
            "market": _filtered(market, variant),
            "variant": _filtered(_column(batch, "ns_variant"), variant),
        }
        n = len(host_col)
        table = pa.table(
            {
                **{k: v if v is not None else pa.nulls(n, pa.string()) for k, v in parts.items()},
                "score": cols[_SCORE].filter(variant),
                "similarity": (
                    _as_number(
                        similarity.filter(variant), "ns_similarity", self.source, integer=False
                    )
                    if similarity is not None
                    else pa.nulls(n, pa.float64())
                ),
            }
        )
        grouped = table.group_by(
            ["host", "imitates", "market", "variant"], use_threads=False
        ).aggregate([([], "count_all"), ("score", "max"), ("similarity", "max")])
        found = self._lookalikes
        for item in grouped.to_pylist():
            key = (item["host"], item["imitates"], item["market"], item["variant"])
            entry = found.get(key)
            if entry is None:
                entry = found[key] = [0, None, None]
            entry[0] += item["count_all"]
            entry[1] = _max(entry[1], item["score_max"])
            entry[2] = _max(entry[2], item["similarity_max"])
        if len(found) > MAX_LOOKALIKES:
            keep = heapq.nlargest(
                MAX_LOOKALIKES // 2, found.items(), key=lambda kv: (kv[1][0], _text_key(kv[0]))
            )
            self._lookalikes = dict(keep)
            self._lookalikes_complete = False

    # -- result
    def result(self) -> Report:
        """The report of every row added so far."""
        data = self._data if self._data is not None else load_markets()
        columns = self._columns or ()
        have = set(columns)
        missing: dict[str, str] = {}
        seller_note = (
            "no seller column: pass --seller-column (e.g. seller_name) or screen with a "
            "version that writes ns_seller"
        )
        if self.seller_column is None:
            missing["sellers"] = seller_note
        cube = self._cube
        markets_by_name = {m.name: m for m in data.markets.values()}

        def market_of(key: _Key) -> Market | None:
            if key[_MID] is not None:
                return data.markets.get(key[_MID])
            return markets_by_name.get(key[_M]) if key[_M] is not None else None

        def tally(dim: str, label_of: Any, key_of: Any = None) -> tuple[Tally, ...]:
            rows: dict[Any, list[Any]] = {}
            for key, count in cube.items():
                label = label_of(self, key)
                if label is None:
                    continue
                entry = rows.setdefault(label, [0, 0, None, key_of(key) if key_of else None])
                entry[0] += count
                entry[1] += count if key[_TIER] is not None else 0
                entry[2] = _max(entry[2], key[_SCORE])
            out = []
            for label, (count, flagged, top, key) in rows.items():
                distinct = self._distinct.get((dim, label))
                out.append(
                    Tally(
                        label=str(label),
                        rows=count,
                        sellers=(distinct.count() if distinct else 0)
                        if self.seller_column
                        else None,
                        sellers_estimated=bool(distinct and distinct.estimated),
                        flagged=flagged,
                        max_score=top,
                        key=key,
                    )
                )
            return tuple(sorted(out, key=lambda t: (-t.rows, t.label)))

        overall = tally("all", _DIMENSIONS["all"])
        sellers = overall[0] if overall else Tally("all rows", 0, 0 if self.seller_column else None)
        markets = tally("market", _DIMENSIONS["market"], lambda key: key[_MID])
        owners = tally("owner", _DIMENSIONS["owner"])
        countries = tally("country", _DIMENSIONS["country"])
        statuses = tally("status", _DIMENSIONS["status"])
        tiers = tally("tier", _DIMENSIONS["tier"])
        # Tiers in the pack's order: the tier whose rows score higher comes first.
        floor: dict[str, int] = {}
        for key in cube:
            if key[_TIER] is not None and key[_SCORE] is not None:
                floor[key[_TIER]] = min(floor.get(key[_TIER], 101), key[_SCORE])
        tiers = tuple(
            sorted(tiers, key=lambda t: (t.label == NO_TIER, -floor.get(t.label, -1), t.label))
        )
        statuses = tuple(sorted(statuses, key=lambda t: STATUSES.index(t.label)))
        errors = tuple(
            sorted(
                _simple(cube, lambda k: k[_ERR]),
                key=lambda t: (-t.rows, t.label),
            )
        )
        scores = [0] * 11
        for key, count in cube.items():
            if key[_SCORE] is not None:
                scores[min(max(key[_SCORE], 0), 100) // 10] += count
        scores[9] += scores.pop()  # 90-100 is one bin
        if "ns_market" not in have and "ns_market_id" not in have:
            missing["markets"] = "no ns_market or ns_market_id column"
        if "ns_owner" not in have:
            missing["owners"] = "no ns_owner column"
        if "ns_market_id" not in have and "ns_market" not in have:
            missing["countries"] = "no ns_market_id column: the country comes from the market"
        if "ns_tier" not in have:
            missing["tiers"] = "no ns_tier column"
        if "ns_score" not in have:
            missing["scores"] = "no ns_score column"
        if "ns_match" not in have:
            missing["statuses"] = "no ns_match column: lookalikes cannot be told apart"
            missing["lookalikes"] = "no ns_match column"
        elif "ns_listed" not in have:
            missing["statuses"] = "no ns_listed column"
        if "ns_match" in have and "ns_host" not in have and self.url_column is None:
            missing["lookalike hosts"] = (
                f"no ns_host column and no URL column ({self.url_column or 'url'}): "
                "lookalike hosts cannot be named"
            )
        if "ns_match" in have and "ns_imitates" not in have:
            missing["imitated hosts"] = (
                "no ns_imitates column: the imitated market is shown (from ns_market), "
                "not the imitated host"
            )
        if "ns_rules" not in have:
            missing["rule pack"] = (
                "no ns_rules/ns_rules_hash columns: the file does not record the rule pack"
            )
        if "ns_edition" not in have:
            missing["edition"] = "no ns_edition column: the file does not record the edition"
        missing["psl"] = (
            "the file does not record the Public Suffix List snapshot; this installation's is "
            f"{PSL_VERSION}"
        )
        editions = tuple(
            EditionColumn(
                list=e.list,
                year=e.year,
                label=e.label,
                online_complete=e.complete,
                physical_complete=e.physical_complete,
                coverage=e.coverage(),
            )
            for e in sorted(data.editions, key=lambda e: (e.list != "ustr-nml", e.list, e.year))
            if e.year in TIMELINE_YEARS
        )
        found_markets: dict[str, list[Any]] = {}
        for key, count in cube.items():
            if key[_MATCH] == "variant" or (key[_MID] is None and key[_M] is None):
                continue
            market = market_of(key)
            ident = market.id if market is not None else str(key[_MID] or key[_M])
            entry = found_markets.setdefault(ident, [market, key[_M] or ident, 0])
            entry[2] += count
        history = tuple(
            _history(ident, market, name, count, editions, data)
            for ident, (market, name, count) in sorted(
                found_markets.items(), key=lambda kv: (-kv[1][2], kv[1][1])
            )
        )
        top_sellers = self._seller_table.top(_TOP_SELLERS)
        lookalikes = tuple(
            Lookalike(
                host=k[0],
                imitates=k[1],
                market=k[2],
                variant=k[3],
                similarity=v[2],
                rows=v[0],
                max_score=v[1],
            )
            for k, v in sorted(
                self._lookalikes.items(), key=lambda kv: (-kv[1][0], _text_key(kv[0]))
            )
        )
        from . import __version__

        return Report(
            source=self.source,
            rows=self._rows,
            columns=columns,
            seller_column=self.seller_column,
            url_column=self.url_column,
            sellers=sellers,
            tiers=tiers if "ns_tier" in have else (),
            statuses=statuses if "statuses" not in missing else (),
            markets=markets if "markets" not in missing else (),
            owners=owners if "owners" not in missing else (),
            countries=countries if "countries" not in missing else (),
            errors=errors,
            scores=tuple(scores) if "ns_score" in have else (),
            top_sellers=top_sellers,
            sellers_complete=self._seller_table.complete,
            lookalikes=lookalikes if "lookalikes" not in missing else (),
            lookalikes_complete=self._lookalikes_complete,
            editions=editions,
            history=history,
            screened_editions=_simple(cube, lambda k: k[_ED]),
            rule_packs=_simple(
                cube,
                lambda k: None if k[_RULES] is None else f"{k[_RULES]} {k[_HASH] or ''}".strip(),
            ),
            missing=missing,
            psl_version=PSL_VERSION,
            version=__version__,
            generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        )


_TOP_SELLERS = 20


class _SellerTable:
    """Per seller: rows, rows with a tier, worst score, rows per market and the three worst
    rows (highest score, then earliest), held in NumPy arrays by slot.

    Only the rows in some seller's worst three keep their details. Past MAX_SELLERS sellers
    the table keeps the best-ranked half (ranked by worst score, rows with a tier, rows) and
    is no longer complete.
    """

    def __init__(self) -> None:
        self.complete = True
        self._slot: dict[str, int] = {}
        self._names: list[str] = []
        self._rows = np.zeros(0, np.int64)
        self._flagged = np.zeros(0, np.int64)
        self._worst = np.zeros((0, _WORST_PER_SELLER), np.int64)  # score << 40 | ~row: desc
        self._markets: dict[tuple[int, str], int] = {}
        self._details: dict[int, tuple[Any, ...]] = {}

    def _grow(self, n: int) -> None:
        if n <= len(self._rows):
            return
        size = max(n, 2 * len(self._rows), 1024)
        extra = size - len(self._rows)
        self._rows = np.r_[self._rows, np.zeros(extra, np.int64)]
        self._flagged = np.r_[self._flagged, np.zeros(extra, np.int64)]
        self._worst = np.vstack([self._worst, np.full((extra, _WORST_PER_SELLER), -1, np.int64)])

    def add(
        self,
        codes: np.ndarray[Any, np.dtype[np.int64]],
        values: list[Any],
        scores: np.ndarray[Any, np.dtype[np.int64]],
        tiered: np.ndarray[Any, np.dtype[np.bool_]],
        market_codes: np.ndarray[Any, np.dtype[np.int64]],
        market_values: list[Any],
        details: tuple[pa.Array | None, ...],
        offset: int,
    ) -> None:
        k = len(values)
        present = np.flatnonzero(np.bincount(codes, minlength=k))
        present = present[present > 0]
        slot_of = np.full(k, -1, np.int64)
        slots = self._slot
        for code in present.tolist():
            name = values[code]
            slot = slots.get(name)
            if slot is None:
                slot = slots[name] = len(self._names)
                self._names.append(name)
            slot_of[code] = slot
        self._grow(len(self._names))
        at = slot_of[present]
        self._rows[at] += np.bincount(codes, minlength=k)[present]
        self._flagged[at] += np.bincount(codes, weights=tiered, minlength=k).astype(np.int64)[
            present
        ]
        # This batch's worst rows per seller, merged with the ones kept: one sort per row of
        # a (sellers x 6) array of keys that order by score, then by earliest row.
        n = len(codes)
        rank_key = (np.maximum(scores, -1) + 1) << 40 | ((1 << 40) - 1 - (offset + np.arange(n)))
        order = np.lexsort((-rank_key, codes))
        sorted_codes = codes[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_codes)) + 1]
        place = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
        keep = (place < _WORST_PER_SELLER) & (sorted_codes > 0)
        fresh = np.full((k, _WORST_PER_SELLER), -1, np.int64)
        fresh[sorted_codes[keep], place[keep]] = rank_key[order[keep]]
        before = self._worst[at]
        merged = -np.sort(-np.hstack([before, fresh[present]]), axis=1)[:, :_WORST_PER_SELLER]
        self._worst[at] = merged
        entered = np.setdiff1d(merged[merged >= 0], before[before >= 0], assume_unique=True)
        left = np.setdiff1d(before[before >= 0], merged[merged >= 0], assume_unique=True)
        for key in left.tolist():
            self._details.pop((1 << 40) - 1 - (key & ((1 << 40) - 1)), None)
        if len(entered):
            rows = (1 << 40) - 1 - (entered & ((1 << 40) - 1))
            take = pa.array(rows - offset, pa.int64())
            columns = [
                c.take(take).to_pylist() if c is not None else [None] * len(rows) for c in details
            ]
            self._details.update(zip(rows.tolist(), zip(*columns, strict=True), strict=True))
        width = len(market_values)
        pairs, counts = np.unique(codes * width + market_codes, return_counts=True)
        markets = self._markets
        for pair, count in zip(pairs.tolist(), counts.tolist(), strict=True):
            code, m = divmod(pair, width)
            if code and m:
                key = (int(slot_of[code]), market_values[m])
                markets[key] = markets.get(key, 0) + count
        if len(self._names) > MAX_SELLERS:
            self._prune(MAX_SELLERS // 2)

    def _order(self) -> list[int]:
        n = len(self._names)
        worst = self._worst[:n, 0] >> 40
        return sorted(
            range(n),
            key=lambda i: (-int(worst[i]), -int(self._flagged[i]), -int(self._rows[i]),
                           self._names[i]),
        )  # fmt: skip

    def _prune(self, keep: int) -> None:
        self.complete = False
        n = len(self._names)
        worst = self._worst[:n, 0] >> 40
        order = np.lexsort((np.arange(n), -self._rows[:n], -self._flagged[:n], -worst))[:keep]
        order.sort()
        renumber = {int(old): new for new, old in enumerate(order.tolist())}
        self._names = [self._names[i] for i in order.tolist()]
        self._slot = {name: i for i, name in enumerate(self._names)}
        self._rows = self._rows[order].copy()
        self._flagged = self._flagged[order].copy()
        self._worst = self._worst[order].copy()
        live = self._worst[self._worst >= 0]
        rows = set(((1 << 40) - 1 - (live & ((1 << 40) - 1))).tolist())
        self._details = {r: d for r, d in self._details.items() if r in rows}
        self._markets = {
            (renumber[s], m): c for (s, m), c in self._markets.items() if s in renumber
        }

    def top(self, count: int) -> tuple[SellerSummary, ...]:
        chosen = self._order()[:count]
        markets: dict[int, list[tuple[int, str]]] = {}
        wanted = set(chosen)
        for (s, m), c in self._markets.items():
            if s in wanted:
                markets.setdefault(s, []).append((-c, m))
        out = []
        for i in chosen:
            listings = []
            for key in self._worst[i].tolist():
                if key < 0:
                    continue
                row = (1 << 40) - 1 - (key & ((1 << 40) - 1))
                score = (key >> 40) - 1
                url, market, tier, reasons, match = self._details[row]
                listings.append(WorstListing(row + 1, url, market, score if score >= 0 else None,
                                             tier, reasons, match))  # fmt: skip
            worst = listings[0] if listings else None
            out.append(
                SellerSummary(
                    seller=self._names[i],
                    rows=int(self._rows[i]),
                    flagged=int(self._flagged[i]),
                    worst_score=worst.score if worst else None,
                    worst_tier=worst.tier if worst else None,
                    markets=tuple(m for _, m in sorted(markets.get(i, [])))[:_MARKETS_PER_SELLER],
                    listings=tuple(listings),
                )
            )
        return tuple(out)


def _text_key(key: _Key) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in key)


def _max(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _filtered(col: pa.Array | None, mask: pa.Array) -> pa.Array | None:
    return col.filter(mask) if col is not None else None


def _simple(cube: Mapping[_Key, int], label_of: Any) -> tuple[Tally, ...]:
    rows: dict[str, int] = {}
    for key, count in cube.items():
        label = label_of(key)
        if label is not None:
            rows[label] = rows.get(label, 0) + count
    return tuple(
        Tally(label, count) for label, count in sorted(rows.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def _groups(
    encoded: list[tuple[np.ndarray[Any, np.dtype[np.int64]], list[Any]]],
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], list[_Key]]:
    """Each row's group (distinct combination of the columns) and each group's values."""
    n = len(encoded[0][0])
    group = np.zeros(n, np.int64)
    radix = 1
    for codes, values in encoded:
        if radix * len(values) >= 1 << 62:  # compact before the mixed-radix code overflows
            uniq, group = np.unique(group, return_inverse=True)
            radix = len(uniq)
        group = group * len(values) + codes
        radix *= len(values)
    uniq, group = np.unique(group, return_inverse=True)
    size = len(uniq)
    first = np.full(size, n, np.int64)
    np.minimum.at(first, group, np.arange(n))
    keys = [tuple(values[codes[at]] for codes, values in encoded) for at in first.tolist()]
    return group.astype(np.int64).reshape(-1), keys


def _status(key: _Key) -> str | None:
    # What a row was recognised as comes first: a row whose URL could not be used may still
    # have been named by its seller name (it keeps the URL's ns_error).
    if key[_MATCH] is None:
        return None
    if key[_MATCH] == "variant":
        return LOOKALIKE
    if key[_LISTED]:
        return LISTED
    if key[_MATCH] != "none":
        return UNLISTED
    if key[_ERR] is not None:
        return UNUSABLE
    return UNRECOGNISED


def _market_label(builder: ReportBuilder, key: _Key) -> str | None:
    if key[_MATCH] == "variant":
        return None
    label = key[_M] if key[_M] is not None else key[_MID]
    return None if label is None else str(label)


def _country_label(builder: ReportBuilder, key: _Key) -> str | None:
    if key[_MATCH] == "variant" or (key[_MID] is None and key[_M] is None):
        return None
    data = builder._market_data()
    market = data.markets.get(key[_MID]) if key[_MID] is not None else None
    if market is None and key[_M] is not None:
        market = builder._markets_by_name().get(key[_M])
    if market is None or market.country is None:
        return NO_COUNTRY
    return market.country


_DIMENSIONS: Mapping[str, Any] = MappingProxyType(
    {
        "all": lambda b, k: "all rows",
        "market": _market_label,
        "owner": lambda b, k: None if k[_MATCH] == "variant" else k[_OWNER],
        "country": _country_label,
        "tier": lambda b, k: k[_TIER] if k[_TIER] is not None else NO_TIER,
        "status": lambda b, k: _status(k),
    }
)


def _history(
    ident: str,
    market: Market | None,
    name: str,
    rows: int,
    editions: tuple[EditionColumn, ...],
    data: MarketData,
) -> MarketHistory:
    if market is None:
        return MarketHistory(ident, name, False, rows, tuple("?" for _ in editions),
                             tuple(False for _ in editions), known=False)  # fmt: skip
    cells = []
    scoped = []
    for column in editions:
        listing = market.listing(column.list, column.year)
        complete = column.physical_complete if market.physical else column.online_complete
        cells.append(listing.status if listing is not None else ("" if complete else "?"))
        scoped.append(bool(listing is not None and listing.scope))
    return MarketHistory(ident, market.name, market.physical, rows, tuple(cells), tuple(scoped))


def _frame_batch(frame: Any, wanted: Any) -> pa.RecordBatch:
    """The columns of a pandas (or Polars) frame the report reads, as Arrow text."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        to_pandas = getattr(frame, "to_pandas", None)
        if to_pandas is None:
            raise InputError(f"expected a DataFrame or Arrow batch, got {type(frame).__name__}")
        frame = to_pandas()
    names = [str(c) for c in frame.columns]
    arrays = []
    for i, name in enumerate(names):
        if not wanted(name):
            arrays.append(pa.nulls(len(frame), pa.string()))
            continue
        values = frame.iloc[:, i].tolist()
        arrays.append(
            pa.array(
                [
                    None
                    if v is None or (isinstance(v, float) and v != v)
                    else ("true" if v is True else "false" if v is False else _usv(str(v)))
                    for v in values
                ],
                pa.string(),
            )
        )
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _usv(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8") if not text.isascii() else text


# ---- the public function -------------------------------------------------------------------
def report(
    screened: str | Path | pd.DataFrame | Iterable[Any],
    path: str | Path | None = None,
    *,
    url_column: str | None = "url",
    seller_column: str | None = None,
    title: str | None = None,
    input_format: str | None = None,
    encoding: str = "utf-8",
    chunksize: int = 100_000,
    data: MarketData | None = None,
) -> Report:
    """Aggregate a screened table and, with ``path``, write its HTML report there.

    ``screened`` is a screened file (CSV, TSV, JSON Lines, Parquet or XLSX, read in chunks of
    ``chunksize`` rows), a DataFrame, or an iterable of DataFrames or Arrow batches.
    ``seller_column`` names the sellers (default: ``ns_seller`` when the file has it);
    ``url_column`` the listing URLs shown in the tables (default ``url``; ignored when absent).
    Raises :class:`InputError` when the input has no ``ns_*`` columns or cannot be read.
    """
    builder = ReportBuilder(url_column=url_column, seller_column=seller_column, data=data)
    for batch in _batches(screened, builder, input_format, encoding, chunksize):
        builder.add(batch)
    result = builder.result()
    if path is not None:
        result.write(path, title=title)
    return result


def _batches(
    screened: Any, builder: ReportBuilder, input_format: str | None, encoding: str, chunksize: int
) -> Iterator[Any]:
    from contextlib import ExitStack

    if isinstance(screened, (str, Path)):
        from ._files import format_for, read_ahead, read_batches

        path = str(screened)
        builder.source = "<stdin>" if path == "-" else path
        with ExitStack() as stack:
            _, batches = read_batches(
                path,
                fmt=format_for(path, input_format),
                stack=stack,
                encoding=encoding,
                chunksize=chunksize,
            )
            yield from read_ahead(batches)  # the next chunk is read while this one is counted
        return
    if isinstance(screened, (pa.RecordBatch, pa.Table)) or hasattr(screened, "columns"):
        builder.source = "<DataFrame>"
        if isinstance(screened, (pa.RecordBatch, pa.Table)):
            yield screened
            return
        import pandas as pd

        frame = screened if isinstance(screened, pd.DataFrame) else None
        if frame is None:
            yield screened
            return
        for start in range(0, max(len(frame), 1), chunksize):
            yield frame.iloc[start : start + chunksize]
        return
    builder.source = "<stream>"
    yield from screened


def _edition_sort(e: Edition) -> tuple[bool, str, int]:
    return (e.list != "ustr-nml", e.list, e.year)
