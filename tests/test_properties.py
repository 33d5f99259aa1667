"""Property tests across the pipeline: nothing raises, nothing is lost, nothing depends on company.

The normalizers' own properties (never raise, idempotent, fast path == slow path) live in
tests/test_normalize.py; these go one level up, to ``Matcher.match``, ``Screener.screen_url``,
``Screener.screen_frame`` and the ``screen`` command, with hostile text: lone surrogates, NULs,
controls, mixed scripts, formulas, huge values, and non-string cells.
"""

from __future__ import annotations

import copy
import csv
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from notorious_screen.cli import main
from notorious_screen.errors import DataError
from notorious_screen.match import Matcher, MatchKind
from notorious_screen.normalize import ErrorCode
from notorious_screen.rules import check_rule_pack
from notorious_screen.screen import OUTPUT_COLUMNS, Screener, ScreenResult

SCREENER = Screener()
MATCHER = Matcher()
TIERS = set(SCREENER.rules.tiers)

# ---- strategies ------------------------------------------------------------------------------
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=60)  # surrogates, NUL, Cc, Cf
NAME_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)  # pandas' Index
HOSTS = st.sampled_from(
    [
        "taobao.com", "item.taobao.com", "shop123.taobao.com", "TAOBAO.COM.", "m.tb.cn",
        "aliexpress.com", "aliexpress.ru", "a1iexpress.com", "aliexpress-shop.com", "tmall.com",
        "pan.baidu.com", "baidu.com", "qq.com", "weixin.qq.com", "amazon.com", "amazon.co.uk",
        "shopee.co.id", "dhgate.com", "dhgαte.com", "淘宝.com", "xn--fiq228c.com", "аliexpress.com",
        "example.org", "shop.example.com", "192.168.0.1", "[::1]", "0x7f.1", "localhost", "com",
        "", " ", ".", "..", "a..b", "-x-.com", "x" * 70 + ".com", "taobao[.]com", "taobao(dot)com",
    ]
)  # fmt: skip
SCHEMES = st.sampled_from(
    ["", "http://", "https://", "HTTPS://", "hxxps://", "//", "ftp://", "javascript:", "data:",
     "mailto:", "file:///", "ws://", "https:\\\\", " https://", "\thttp://"]
)  # fmt: skip
TAILS = st.sampled_from(
    ["", "/", "/item.htm?id=1", ":8080/x", ":99999", "?q=淘宝", "#frag", "/\x00", "/a b", "\\p",
     "@evil.example", "/=HYPERLINK(\"x\")", "/" + "a" * 300]
)  # fmt: skip
URLISH = st.builds(lambda s, h, t: s + h + t, SCHEMES, HOSTS, TAILS)
FORMULAS = st.sampled_from(["=1+1", "+cmd", "-2", "@SUM(A1)", "\t=x", "\r=x", '=HYPERLINK("u")'])
NAMES = st.one_of(
    st.sampled_from(
        ["Taobao", "淘宝网", "Tao Bao", "AliExpress Official", "Silk Market", "ACME Ltd"]
    ),
    ANY_TEXT,
    FORMULAS,
)
HUGE = st.sampled_from(
    [
        "https://taobao.com/" + "a" * 70_000,
        "taobao.com" * 7_000,
        "http://" + "a." * 40_000 + "com",
        "\x00" * 70_000,
        "淘宝" * 40_000,
        "http://" + "\ud800" * 5_000,
    ]
)
TEXTLIKE = st.one_of(ANY_TEXT, URLISH, FORMULAS)
CELL = st.one_of(
    TEXTLIKE,
    st.none(),
    st.just(math.nan),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.binary(max_size=12),
)


def _check(result: ScreenResult) -> None:
    assert isinstance(result, ScreenResult)
    assert result.error is None or isinstance(result.error, ErrorCode)
    assert isinstance(result.match.kind, MatchKind)
    assert result.tier is None or result.tier in TIERS
    if result.error is not None:
        # A URL that cannot be used keeps its reason; only a name can then say what it is,
        # and a misspelt name only mentions a market (it never is one without a URL).
        assert result.match.kind in (MatchKind.NONE, MatchKind.NAME)
        assert result.match.kind is MatchKind.NAME or result.market is None
        if result.match.mentions is not None:
            assert result.market is None and result.match.name_input
    assert result.listed == (result.market is not None and result.listed)


# ---- single values never raise ------------------------------------------------------------
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(TEXTLIKE, HUGE, CELL), st.one_of(st.none(), NAMES, HUGE, CELL))
def test_match_and_screen_url_never_raise(url: Any, name: Any) -> None:
    match = MATCHER.match(url, name=name)
    assert isinstance(match.kind, MatchKind)
    result = SCREENER.screen_url(url, name=name)
    _check(result)
    assert result.match == match  # the screener adds nothing to the match
    assert SCREENER.screen_url(url, name=name) == result  # deterministic, caches included


# ---- frames: exactly their rows, in order, originals untouched --------------------------
def _index(kind: str, n: int, draw: st.DrawFn) -> pd.Index:
    if kind == "range":
        return pd.RangeIndex(n)
    if kind == "shuffled":
        return pd.Index(draw(st.permutations(list(range(100, 100 + n)))), name="row")
    if kind == "strings":
        return pd.Index([f"=r{i}" for i in range(n)], name="=id")
    if kind == "duplicates":
        return pd.Index([i // 2 for i in range(n)])
    if kind == "datetime":
        return pd.date_range("2021-01-01", periods=n, freq="h")
    if kind == "float":
        return pd.Index([i + 0.5 for i in range(n)])
    return pd.MultiIndex.from_arrays([[i % 3 for i in range(n)], [f"k{i}" for i in range(n)]])


@st.composite
def frames(draw: st.DrawFn) -> tuple[pd.DataFrame, str | None]:
    n = draw(st.integers(0, 20))
    kind = draw(st.sampled_from(["range", "shuffled", "strings", "duplicates", "datetime",
                                 "float", "multi"]))  # fmt: skip
    columns: dict[str, list[Any]] = {}
    extra = draw(
        st.lists(
            st.one_of(NAME_TEXT, FORMULAS).filter(
                lambda c: c not in ("url", "name") and c not in OUTPUT_COLUMNS
            ),
            max_size=3,
            unique=True,
        )
    )
    for col in extra[:1]:
        columns[col] = draw(st.lists(CELL, min_size=n, max_size=n))
    columns["url"] = draw(st.lists(st.one_of(URLISH, CELL), min_size=n, max_size=n))
    for col in extra[1:]:
        columns[col] = draw(st.lists(CELL, min_size=n, max_size=n))
    name_column = None
    if draw(st.booleans()):
        name_column = "name"
        columns["name"] = draw(st.lists(st.one_of(NAMES, CELL), min_size=n, max_size=n))
    index = _index(kind, n, draw)
    # Object columns: pandas' own string dtype cannot hold lone surrogates, object can.
    df = pd.DataFrame({c: pd.Series(v, index=index, dtype=object) for c, v in columns.items()})
    if n and draw(st.booleans()):  # typed columns next to the object ones
        df["count"] = np.arange(n, dtype="int64")
    texts = df["url"].map(lambda v: v is None or (isinstance(v, str) and v.isascii()))
    if n and texts.all() and draw(st.booleans()):
        df["url"] = df["url"].astype(draw(st.sampled_from(["string", "str", "category"])))
    return df, name_column


def _same(a: Any, b: Any) -> bool:
    if a is b:  # also pd.NA, whose == is NA
        return True
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and bool(a == b)


def _cell_text(v: Any) -> Any:
    """What screen_frame hands the engine for a cell (its text; None for missing)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return v


def _expected(result: ScreenResult) -> dict[str, Any]:
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


def _ns(row: pd.Series) -> dict[str, Any]:
    out = {c: row[c] for c in OUTPUT_COLUMNS}
    for c, v in out.items():
        if isinstance(v, float) and math.isnan(v):
            out[c] = None
        elif isinstance(v, np.generic):
            out[c] = v.item()
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_screen_frame_returns_exactly_its_rows_untouched(
    case: tuple[pd.DataFrame, str | None],
) -> None:
    df, name_column = case
    before = copy.deepcopy(df)
    out = SCREENER.screen_frame(df, url_column="url", name_column=name_column)
    # the input frame is not modified
    assert df.index.equals(before.index) and list(df.columns) == list(before.columns)
    for col in df.columns:
        assert all(_same(a, b) for a, b in zip(df[col], before[col], strict=True)), col
    # same rows, same order, same index, original columns first and untouched
    assert out.index.equals(df.index) and out.index.names == df.index.names
    assert list(out.columns) == [*df.columns, *OUTPUT_COLUMNS]
    for col in df.columns:
        assert out[col].dtype == df[col].dtype
        assert all(_same(a, b) for a, b in zip(out[col], df[col], strict=True)), col
    # every row is what screen_url says for its cells
    names = df[name_column] if name_column else [None] * len(df)
    for i, (url, name) in enumerate(zip(df["url"], names, strict=True)):
        expected = _expected(SCREENER.screen_url(_cell_text(url), name=_cell_text(name)))
        assert _ns(out.iloc[i]) == expected, (i, url, name)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames(), st.randoms(use_true_random=False))
def test_a_row_does_not_depend_on_its_company(
    case: tuple[pd.DataFrame, str | None], rnd: Any
) -> None:
    """Alone, in the whole frame, shuffled, or split in two: the same ns_* values."""
    df, name_column = case
    assume(len(df) > 0)
    whole = SCREENER.screen_frame(df, name_column=name_column)
    fresh = Screener()  # empty caches
    order = list(range(len(df)))
    rnd.shuffle(order)
    shuffled = fresh.screen_frame(df.iloc[order], name_column=name_column)
    cut = rnd.randrange(len(df) + 1)
    halves = [
        fresh.screen_frame(part, name_column=name_column) for part in (df.iloc[:cut], df.iloc[cut:])
    ]
    split = [_ns(r) for part in halves for _, r in part.iterrows()]
    for pos in range(len(df)):
        alone = fresh.screen_frame(df.iloc[[pos]], name_column=name_column)
        expected = _ns(whole.iloc[pos])
        assert _ns(alone.iloc[0]) == expected
        assert _ns(shuffled.iloc[order.index(pos)]) == expected
        assert split[pos] == expected


# ---- the command: chunk size, and every byte of every original cell -----------------------
CSV_TEXT = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\r"), max_size=30
)  # lone CR: see test_hardening's line-ending tests; surrogates cannot be UTF-8
CSV_CELL = st.one_of(
    CSV_TEXT, URLISH.filter(lambda u: "\r" not in u), FORMULAS.filter(lambda f: "\r" not in f)
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(st.tuples(CSV_CELL, CSV_CELL, CSV_CELL), max_size=25),
    chunk=st.integers(1, 7),
)
def test_cli_output_is_independent_of_chunk_size_and_keeps_every_cell(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    rows: list[tuple[str, str, str]],
    chunk: int,
) -> None:
    monkeypatch.setattr("notorious_screen.screen.Screener", lambda **kw: SCREENER)
    tmp = tmp_path_factory.mktemp("chunks")
    src = tmp / "in.csv"
    with src.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(["url", "seller", "=note"])
        w.writerows(rows)
    outputs = []
    for size in (chunk, 100_000):
        dst = tmp / f"out{size}.csv"
        options = ["--name-column", "seller", "--no-neutralize", "--progress", "never"]
        code = main(["screen", str(src), "-o", str(dst), "--chunksize", str(size), *options])
        assert code == 0, capsys.readouterr().err
        outputs.append(dst.read_bytes())
    assert outputs[0] == outputs[1]
    with (tmp / "out100000.csv").open(newline="", encoding="utf-8") as f:
        header, *back = list(csv.reader(f))
    assert header == ["url", "seller", "=note", *OUTPUT_COLUMNS]
    # Nothing lost: every original cell comes back byte for byte, in order, and the ns_*
    # columns are what screen_url says.
    assert [tuple(r[:3]) for r in back] == rows
    for (url, seller, _), r in zip(rows, back, strict=True):
        expected = _expected(SCREENER.screen_url(url, name=seller))
        assert r[3 + OUTPUT_COLUMNS.index("ns_market_id")] == (expected["ns_market_id"] or "")
        assert r[3 + OUTPUT_COLUMNS.index("ns_error")] == (expected["ns_error"] or "")
        assert r[3 + OUTPUT_COLUMNS.index("ns_score")] == str(expected["ns_score"])


# ---- rule packs: random edits of a valid pack give errors, never exceptions ---------------
PACK = """\
version: 1
name: fuzz
description: a pack to mutate
tiers: {high: 70, low: 10}
brand:
  name: ACME
  own_domains: [acme.example]
rules:
  - id: listed
    description: listed market
    when: {listed: true}
    score: 50
  - id: lookalike
    description: lookalike of a listed host
    when: {all: [{match: variant}, {similarity: {gte: 80}}, {host: {matches: '^a.*x$'}}]}
    score: 30
examples:
  - url: https://item.taobao.com/x
    tier: low
"""
SNIPPETS = st.sampled_from(
    [":", "- ", "{", "}", "[", "]", "&a ", "*a", "!!python/object:os.system ", "'", '"', "\n",
     "  ", "\t", "#", "~", "null", "true", "NO", "1e9", "-1", "0x10", "(a+)+$", "\\1", "(?=x)",
     "extends: default\n", "extends: fuzz.yaml\n", "disable: [listed]\n", "\x00", "\ufeff",
     "\ud800", "not: ", "any: ", "in: [", "matches: ", "score: 99999", "id: X Y"]
)  # fmt: skip


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.integers(0, len(PACK)), st.integers(0, 8), SNIPPETS), max_size=4))
def test_mutated_rule_packs_give_located_errors_not_exceptions(
    tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[int, int, str]]
) -> None:
    text = PACK
    for at, cut, snippet in edits:
        text = text[:at] + snippet + text[at + cut :]
    path = tmp_path_factory.mktemp("packs") / "fuzz.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    errors = check_rule_pack(path)  # must return, whatever the text
    for err in errors:
        assert isinstance(err, DataError) and err.location is not None
        assert str(err).startswith(str(path))
