"""The Screener: the frame API, the single-URL API and the batch engine agree and lose nothing."""

from __future__ import annotations

import pickle
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import notorious_screen as ns
from notorious_screen.screen import OUTPUT_COLUMNS, Screener

REPO = Path(__file__).resolve().parents[1]
SELLERS = REPO / "examples" / "sellers.csv"
sys.path.insert(0, str(REPO / "benchmarks"))
from generate import generate  # noqa: E402


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener()


@pytest.fixture(scope="module")
def sellers() -> pd.DataFrame:
    return pd.read_csv(SELLERS, dtype=str, keep_default_na=False)


def _generated(rows: int, seed: int) -> pd.DataFrame:
    data = list(generate(rows, seed=seed, distinct_shops=500))
    return pd.DataFrame(data, columns=["url", "seller_name"])


def _expected_row(result: ns.ScreenResult) -> dict[str, object]:
    """What screen_frame must put in the ns_* columns for this single-URL result."""
    m = result.match
    return {
        "ns_market": result.market.name if result.market else None,
        "ns_market_id": result.market.id if result.market else None,
        "ns_owner": result.owner.name if result.owner else None,
        "ns_listed": result.listed,
        "ns_listed_years": ",".join(map(str, result.listed_years)) or None,
        "ns_match": m.kind.value,
        "ns_variant": m.variant.value if m.variant else None,
        "ns_similarity": float(m.similarity),
        "ns_score": result.score,
        "ns_tier": result.tier,
        "ns_reasons": "; ".join(f"{r.rule_id} ({r.points:+d})" for r in result.reasons) or None,
        "ns_error": result.error.value if result.error else None,
        "ns_edition": f"{result.edition.list}-{result.edition.year}",
        "ns_edition_complete": result.edition.complete,
        "ns_name_mentions": m.mentions.name if m.mentions else None,
    }


def _frame_row(row: pd.Series) -> dict[str, object]:
    out = {}
    for col in OUTPUT_COLUMNS:
        value = row[col]
        out[col] = None if value is None or (isinstance(value, float) and value != value) else value
    out["ns_listed"] = bool(out["ns_listed"])
    out["ns_edition_complete"] = bool(out["ns_edition_complete"])
    return out


@pytest.mark.parametrize("source", ["examples", "generated"])
def test_frame_agrees_with_screen_url_row_by_row(
    screener: Screener, sellers: pd.DataFrame, source: str
) -> None:
    df = sellers if source == "examples" else _generated(1500, seed=3)
    out = screener.screen_frame(df, url_column="url", name_column="seller_name")
    for i, (url, name) in enumerate(zip(df["url"], df["seller_name"], strict=True)):
        expected = _expected_row(screener.screen_url(url, name=name))
        assert _frame_row(out.iloc[i]) == expected, (i, url, name)


def test_frame_keeps_index_order_columns_and_values(screener: Screener) -> None:
    df = pd.DataFrame(
        {
            "id": ["007", "1.50", "true", ""],
            "url": ["https://item.taobao.com/item.htm?id=1", None, "NA", "  "],
            "note": ["=1+1", "x", None, "n/a"],
        },
        index=pd.Index([40, 10, 30, 20], name="row"),
    )
    before = df.copy()
    out = df.pipe(screener.screen_frame)
    pd.testing.assert_frame_equal(df, before)  # the input is not modified
    assert list(out.index) == [40, 10, 30, 20]
    assert out.index.name == "row"
    assert list(out.columns) == ["id", "url", "note", *OUTPUT_COLUMNS]
    pd.testing.assert_frame_equal(out[["id", "url", "note"]], before)
    assert out.loc[40, "ns_market_id"] == "taobao"
    assert out.loc[10, "ns_error"] == "empty"
    assert out.loc[20, "ns_error"] == "empty"
    assert out["ns_score"].dtype == "int64"
    assert out["ns_listed"].dtype == "bool"


def test_frame_missing_column_names_the_columns_that_exist(screener: Screener) -> None:
    df = pd.DataFrame({"link": ["x.com"], "seller": ["a"]})
    with pytest.raises(ns.InputError, match=r"column 'url' not found.*'link', 'seller'"):
        screener.screen_frame(df)


def test_empty_frame(screener: Screener) -> None:
    out = screener.screen_frame(pd.DataFrame({"url": pd.Series([], dtype=str)}))
    assert len(out) == 0
    assert list(out.columns) == ["url", *OUTPUT_COLUMNS]


def test_results_do_not_depend_on_batch_or_order(screener: Screener) -> None:
    df = _generated(600, seed=9)
    whole = screener.screen_frame(df, name_column="seller_name")
    shuffled = df.sample(frac=1.0, random_state=1)
    again = Screener().screen_frame(shuffled, name_column="seller_name").loc[df.index]
    pd.testing.assert_frame_equal(whole, again)
    halves = pd.concat(
        [
            Screener().screen_frame(df.iloc[:250], name_column="seller_name"),
            Screener().screen_frame(df.iloc[250:], name_column="seller_name"),
        ]
    )
    pd.testing.assert_frame_equal(whole, halves)


def test_arrow_engine_counts_each_distinct_key_once(
    screener: Screener, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = Screener()
    calls: list[object] = []
    original = fresh.matcher.match

    def counting(url: object = None, *, name: object = None) -> ns.Match:
        calls.append((url, name))
        return original(url, name=name)

    unresolved = fresh.matcher.find_beyond_tables

    def counting_unresolved(url: ns.NormalizedURL) -> object:
        calls.append((url, None))
        return unresolved(url)

    monkeypatch.setattr(fresh.matcher, "match", counting)
    monkeypatch.setattr(fresh.matcher, "find_beyond_tables", counting_unresolved)
    urls = pa.array(
        [f"https://item.taobao.com/item.htm?id={i}" for i in range(1000)]
        + ["https://www.example.org/a"] * 1000
        + [f"https://shop{i}.taobao.com/" for i in range(1000)]
    )
    out = fresh.screen_arrays(urls)
    assert len(out["ns_match"]) == 3000
    # 2000 distinct URLs, 1002 distinct hosts, but the 1001 hosts under taobao.com make two
    # groups (the exact host and its subdomains): three hosts are matched.
    assert len(calls) == 3
    # and a second batch with the same hosts matches nothing new
    fresh.screen_arrays(urls.slice(500))
    assert len(calls) == 3


def test_screener_pickles_and_threads(screener: Screener) -> None:
    clone = pickle.loads(pickle.dumps(screener))
    urls = ["https://a1iexpress.com/x", "https://pan.baidu.com/s/1x", "tmall.com", "junk"]
    assert [clone.screen_url(u).score for u in urls] == [screener.screen_url(u).score for u in urls]
    with ThreadPoolExecutor(4) as pool:
        scores = list(pool.map(lambda u: screener.screen_url(u).score, urls * 50))
    assert scores == [screener.screen_url(u).score for u in urls] * 50


def test_batches_screened_from_many_threads_agree_with_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The engine's memory across batches is shared by threads (Dask runs partitions on
    # threads); a tiny bound makes it start afresh many times while they run.
    import notorious_screen._engine as engine_module

    monkeypatch.setattr(engine_module, "CACHE_ROWS", 64)
    parts = [_generated(300, seed=s) for s in range(12)]
    expected = [Screener().screen_frame(p, name_column="seller_name") for p in parts]
    shared = Screener()
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda p: shared.screen_frame(p, name_column="seller_name"), parts))
    for want, have in zip(expected, got, strict=True):
        pd.testing.assert_frame_equal(want, have)


def test_screen_result_is_frozen_and_reproducible(screener: Screener) -> None:
    r = screener.screen_url("https://item.taobao.com/item.htm?id=1")
    assert r.listed and r.market is not None and r.market.id == "taobao"
    assert r.owner is not None and r.owner.id == "alibaba"
    assert r.edition.year == 2021 and r.rules == screener.rules.name
    assert r.rules_hash == screener.rules.content_hash
    with pytest.raises(AttributeError):
        r.score = 0  # type: ignore[misc]


def test_import_parses_nothing() -> None:
    code = (
        "import sys, notorious_screen, notorious_screen.screen as s\n"
        "assert s._default is None\n"
        "assert 'pandas' not in sys.modules, 'pandas imported at import time'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.stdout.strip() == "ok", out.stderr


def test_polars_frame_is_accepted(screener: Screener) -> None:
    pl = pytest.importorskip("polars")
    df = pl.DataFrame({"url": ["https://item.taobao.com/x", "example.org"]})
    out = screener.screen_frame(df)
    assert list(out["ns_market_id"]) == ["taobao", None]


def test_worker_processes_give_the_same_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    import notorious_screen._engine as engine_module

    monkeypatch.setattr(engine_module, "_PARALLEL_MIN", 10)  # force the pool on a small batch
    df = _generated(2000, seed=21)
    serial = Screener().screen_frame(df, name_column="seller_name")
    with Screener(workers=2) as parallel:
        out = parallel.screen_frame(df, name_column="seller_name")
        assert parallel._engine._pool is not None  # the pool really ran
    pd.testing.assert_frame_equal(serial, out)


def test_deprecated_spellings_warn_and_still_work() -> None:
    with pytest.warns(DeprecationWarning, match="list= is deprecated; use watch_list="):
        old = ns.Screener(list="ustr-nml", year=2021)
    assert old.edition == ns.Screener(watch_list="ustr-nml", year=2021).edition
    with pytest.warns(DeprecationWarning, match="Screener.pack is deprecated"):
        assert old.pack is old.rules
    with pytest.warns(DeprecationWarning, match="list= is deprecated"):
        assert ns.load_markets().edition(list="ustr-nml", year=2021).year == 2021
