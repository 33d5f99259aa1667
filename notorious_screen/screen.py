"""The Screener: normalize -> match -> rules, for one URL, a DataFrame or a stream of Arrow batches.

The facade of the package. All three entry points share one engine so they cannot disagree:
`screen_url` matches one input and scores it; `screen_frame`, `screen_arrays` and
`iter_batches` hand whole columns to the batch engine (`_engine.BatchEngine`), which screens
each distinct host and name once and maps the rows back. What a row says is the contract of
`schema`. A Screener travels to worker processes pickled (its caches dropped); `OneProcess`,
`Shipped` and `unwrap` are how the Dask and Spark engines ship it once per worker.
"""

from __future__ import annotations

import operator
import pickle
import threading
import uuid
import warnings
from collections.abc import Iterable, Iterator
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ._arrow import as_string_array
from ._engine import CACHE_ROWS, BatchEngine, Prepared, columns_of
from ._summary import Summary
from ._text import SURROGATES
from .errors import InputError, renamed
from .markets import MarketData, resolve_data
from .match import Match, Matcher, MatchKind
from .normalize import PSL_VERSION, as_text
from .rules import RulePack, load_rule_pack
from .schema import (
    OUTPUT_COLUMNS,
    ROW_COLUMNS,
    Evaluation,
    Record,
    RecordBuilder,
    ScreenResult,
    arrow_type,
    check_columns,
    pandas_dtype,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "OUTPUT_COLUMNS",
    "OneProcess",
    "ScreenResult",
    "Screener",
    "Shipped",
    "default_screener",
    "screen_frame",
    "screen_url",
    "unwrap",
]


class Screener:
    """Screens URLs and names against one watch-list edition with one rule pack.

    ``watch_list`` and ``year`` choose the edition (the latest complete one by default);
    ``rules`` is a bundled pack's name, a pack file or a `RulePack` (kept as `rules`).
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
        watch_list: str = "ustr-nml",
        rules: str | Path | RulePack = "default",
        data: MarketData | str | PathLike[str] | Iterable[str | PathLike[str]] | None = None,
        legitimate: tuple[str, ...] = (),
        workers: int = 1,
        list: str | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self._year = year
        self._list = renamed("list", list, "watch_list", watch_list)
        self._legitimate = tuple(legitimate)
        self.data = resolve_data(data)
        self.edition = self.data.edition(self._list, year)
        self.rules = rules if isinstance(rules, RulePack) else load_rule_pack(rules)
        self._init_derived()

    @property
    def pack(self) -> RulePack:
        """Deprecated: `rules`."""
        warnings.warn("Screener.pack is deprecated; use Screener.rules", DeprecationWarning, 2)
        return self.rules

    def _init_derived(self) -> None:
        self.matcher = Matcher(self.data, legitimate=self._legitimate or None)
        self.record = RecordBuilder(self.data, self.edition, self.rules.brand)
        fields = tuple(sorted(self.rules.fields_used)) or ("match",)
        # itemgetter always returns a tuple when given two names or more.
        self._signature = operator.itemgetter(*fields, *fields[:1])
        self._list_at = fields.index("listed_years") if "listed_years" in fields else None
        self._eval_cache: dict[tuple[Any, ...], Evaluation] = {}
        self._engine = BatchEngine(
            self.matcher, self.data, self.rules, self._result, workers=self.workers
        )

    def __getstate__(self) -> dict[str, Any]:
        return {
            "workers": self.workers,
            "year": self._year,
            "list": self._list,
            "legitimate": self._legitimate,
            "data": self.data,
            "rules": self.rules,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.workers = state.get("workers", 1)
        self._year = state["year"]
        self._list = state["list"]
        self._legitimate = state["legitimate"]
        self.data = state["data"]
        self.edition = self.data.edition(self._list, self._year)
        self.rules = state["rules"] if "rules" in state else state["pack"]
        self._init_derived()

    # ---- one input ---------------------------------------------------------------------
    def screen_url(self, url: object = None, *, name: object = None) -> ScreenResult:
        """Screen one URL (and optionally a seller or platform name)."""
        match = self.matcher.match(url, name=name)
        return self._result(match, url if isinstance(url, str) else None, name)

    def _result(self, match: Match, url: str | None, name: object) -> ScreenResult:
        record = self.record(match, url=url, name=name if isinstance(name, str) else None)
        evaluation = self._evaluate(record)
        return ScreenResult(
            match=match,
            market=match.market,
            owner=match.owner,
            listed=bool(record["listed"]),
            listed_years=tuple(record["listed_years"] or ()),
            listing_status=record["listing_status"],
            edition=self.edition,
            score=evaluation.score,
            tier=evaluation.tier,
            reasons=evaluation.reasons,
            error=match.error,
            rules=self.rules.name,
            rules_hash=self.rules.content_hash,
            psl_version=PSL_VERSION,
        )

    def _evaluate(self, record: Record) -> Evaluation:
        # Many distinct hosts give the same record on the fields the pack reads (every
        # unrelated shop, every storefront of one market): evaluate each signature once.
        signature = self._signature(record)
        if self._list_at is not None and signature[self._list_at] is not None:
            signature = (*signature[: self._list_at], tuple(signature[self._list_at]),
                         *signature[self._list_at + 1 :])  # fmt: skip
        found = self._eval_cache.get(signature)
        if found is None:
            found = self.rules.evaluate(record)
            if len(self._eval_cache) >= CACHE_ROWS:
                self._eval_cache.clear()
            self._eval_cache[signature] = found
        return found

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
        rows, final = self._engine.screen(self._engine.prepare(urls, names))
        out: pd.DataFrame = df.copy(deep=False)
        for col, distinct in zip(ROW_COLUMNS, columns_of(rows), strict=True):
            if col not in OUTPUT_COLUMNS:
                continue
            # One NumPy value per distinct row, then taken per row: text cells share their
            # str objects instead of a new one per row. A NumPy array carries no index, so the
            # values land on the frame's rows by position whatever its index; text columns are
            # object dtype with None for missing on every pandas version.
            dtype = pandas_dtype(col)
            table = np.empty(len(distinct), dtype=object if dtype == "object" else dtype)
            table[:] = distinct
            out[col] = pd.Series(table[final], index=df.index, name=col, dtype=dtype)
        return out

    def screen_arrays(
        self, urls: pa.Array | pa.ChunkedArray, names: pa.Array | pa.ChunkedArray | None = None
    ) -> dict[str, pa.Array]:
        """The batch engine: Arrow string arrays in, one Arrow array per output column out
        (and the internal ``ns_listing_status``, which `Summary` counts)."""
        return self._engine.arrays(urls, names)

    def iter_batches(
        self,
        batches: Iterator[pa.RecordBatch],
        *,
        url_column: str = "url",
        name_column: str | None = None,
        summary: Summary | None = None,
        ahead: bool = False,
    ) -> Iterator[pa.RecordBatch]:
        """Screen a stream of record batches; each comes back with the ``ns_*`` columns.

        ``ahead=True`` reads the next batch on a second thread while this one is screened,
        and does its row-wise work there too (hosts cut out, keys and names encoded), as the
        command line does; ``batches`` must then tolerate being read from another thread.
        """
        from ._files import read_ahead

        engine = self._engine

        def column(batch: pa.RecordBatch, name: str) -> pa.Array:
            # get_field_index says -1 for a missing column, which column() reads as the last.
            at = batch.schema.get_field_index(name)
            if at < 0:
                raise InputError(
                    f"no column {name!r} in the batches; columns: {', '.join(batch.schema.names)}"
                )
            return batch.column(at)

        def columns(batch: pa.RecordBatch) -> tuple[pa.Array, pa.Array | None]:
            urls = column(batch, url_column)
            return urls, None if name_column is None else column(batch, name_column)

        def prepared(early: bool) -> Iterator[tuple[pa.RecordBatch, Prepared | None]]:
            for batch in batches:
                yield batch, engine.prepare(*columns(batch)) if early else None

        # The row-wise work moves to the reading thread only where threads are safe.
        stream = prepared(ahead and engine.threads_allowed)
        for batch, ready in read_ahead(stream) if ahead else stream:
            added = engine.arrays_of(ready or engine.prepare(*columns(batch)))
            if summary is not None:
                summary.update(added)
            arrays = list(batch.columns) + [added[c] for c in OUTPUT_COLUMNS]
            fields = list(batch.schema) + [pa.field(c, arrow_type(c)) for c in OUTPUT_COLUMNS]
            yield pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))

    def output_schema(self, names: list[str]) -> pa.Schema:
        """The schema of screened batches: the input's text columns, then the ns_* columns."""
        fields = [pa.field(n, pa.string()) for n in names]
        return pa.schema(fields + [pa.field(c, arrow_type(c)) for c in OUTPUT_COLUMNS])

    def start_workers(self) -> None:
        """Fork the worker processes now (``workers > 1``), before threads hold locks."""
        self._engine.start_workers()

    def close(self) -> None:
        """Stop the worker processes (``workers > 1``) and the name thread, if started."""
        self._engine.close()

    def __enter__(self) -> Screener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        lines.append(f"rules:        {self.rules.name} ({self.rules.content_hash[:12]})")
        lines.extend(f"  {r.points:+4d}  {r.rule_id}: {r.message}" for r in result.reasons)
        lines.append(f"score:        {result.score}   tier: {result.tier or '-'}")
        return "\n".join(lines)


class OneProcess:
    """Pickles as its Screener with ``workers=1``; unpickles as that Screener.

    ``Screener(workers=N)`` matches in forked child processes, but Dask's worker processes
    are daemonic (they may not have children) and are themselves the parallelism. Rewriting
    the pickled state costs nothing on the client; copying the Screener would rebuild its
    indexes there.
    """

    __slots__ = ("screener",)

    def __init__(self, screener: Screener) -> None:
        self.screener = screener

    def __reduce__(self) -> tuple[Any, ...]:
        state = self.screener.__getstate__()
        if "workers" in state:
            state = {**state, "workers": 1}
        return (_rebuild, (type(self.screener), state))


def _rebuild(cls: type[Screener], state: dict[str, Any]) -> Screener:
    screener = cls.__new__(cls)
    screener.__setstate__(state)
    return screener


class Shipped:
    """A Screener that unpickles at most once per process (for non-distributed schedulers).

    The multiprocessing scheduler pickles every task's arguments; rebuilding the match indexes
    per partition would cost more than the screening. The pickled bytes are made once and the
    receiving process keeps the rebuilt Screener under a token.
    """

    __slots__ = ("_payload", "screener", "token")

    def __init__(self, screener: Screener) -> None:
        self.screener = screener
        self.token = uuid.uuid4().hex
        self._payload: bytes | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        if self._payload is None:
            self._payload = pickle.dumps(
                OneProcess(self.screener), protocol=pickle.HIGHEST_PROTOCOL
            )
        return (_load_shipped, (self.token, self._payload))


_LOADED: dict[str, Shipped] = {}


def _load_shipped(token: str, payload: bytes) -> Shipped:
    shipped = _LOADED.get(token)
    if shipped is None:
        shipped = Shipped.__new__(Shipped)
        shipped.screener = pickle.loads(payload)
        shipped.token = token
        shipped._payload = payload
        while len(_LOADED) >= 4:  # a long-lived worker sees few screeners; keep the newest
            del _LOADED[next(iter(_LOADED))]
        _LOADED[token] = shipped
    return shipped


def unwrap(screener: Screener | Shipped | OneProcess) -> Screener:
    # A wrapper arrives unpickled only when nothing was pickled (threads, in-process workers).
    return screener.screener if isinstance(screener, (Shipped, OneProcess)) else screener


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
            return as_string_array(pa.array(series))
        except UnicodeEncodeError:  # a Python-backed string column holding surrogates
            pass
    values = [v if isinstance(v, str) else as_text(v) for v in series.tolist()]
    try:
        return pa.array(values, type=pa.string())
    except UnicodeEncodeError:
        return pa.array([_usv(v) for v in values], type=pa.string())


def _usv(text: str | None) -> str | None:
    return None if text is None else SURROGATES.sub("\ufffd", text)


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
