"""Seller names: the vectorised gate keeps every name the lookup would match, batch and single
lookups agree, and what a name means (word budgets, glue, CJK, common words)."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from notorious_screen._arrow import column
from notorious_screen._names import NameIndex, edit_budget
from notorious_screen.markets import load_markets
from notorious_screen.normalize import normalize_name

INDEX = NameIndex(load_markets())
KEY_WORDS = sorted({t for k in INDEX.keys for t in k.key.folded.split(" ") if t})
KEY_TEXTS = sorted({k.key.input for k in INDEX.keys})


def _gate(names: list[str]) -> list[bool]:
    return INDEX.gate(column(names, pa.string())).tolist()


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 2:
        return word
    i = rng.randrange(len(word))
    c = rng.choice("abcdefghijklmnopqrstuvwxyzéñ1")
    head, tail = word[:i], word[i:]
    return rng.choice([head + tail[1:], head + c + tail, head + c + tail[1:]])


_AROUND = ["Official Store", "Shop 8729", "有限公司", "旗舰店", "Co., Ltd", "🔥", "【", "】",
           "™", "Deals", "Mall", "Beijing", "’s", "'s", "-", "...", "  ", "\u0301", "ß", "Ⅳ",
           "ﬁ"]  # fmt: skip


@st.composite
def _names_around_keys(draw: st.DrawFn) -> str:
    rng = random.Random(draw(st.integers(0, 10**9)))
    key = draw(st.sampled_from(KEY_TEXTS))
    words = key.split()
    words = [(_typo(w, rng) if rng.random() < 0.3 else w) for w in words]
    joiner = draw(st.sampled_from([" ", "", "-", "  ", "·", "'"]))
    text = joiner.join(words)
    case = draw(st.sampled_from([str.lower, str.upper, str.title, str]))
    text = case(text)
    before = draw(st.lists(st.sampled_from(_AROUND), max_size=2))
    after = draw(st.lists(st.sampled_from(_AROUND), max_size=2))
    glue = draw(st.sampled_from([" ", ""]))
    return glue.join([*before, text, *after])


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_names_around_keys(), min_size=1, max_size=20))
@example(["Sho™pe Outlet", "Tabao小店", "Ali Express", "ali'express", "MEGA", "Taobao\u0301 shop"])
@example(["Alibaba Group", "淘 宝", "Silk Market, Beijing", "shopeé", "ＴＡＯＢＡＯ"])
def test_the_gate_keeps_every_name_the_lookup_matches(names: list[str]) -> None:
    kept = _gate(names)
    for name, keep in zip(names, kept, strict=True):
        if INDEX._lookup(normalize_name(name)) is not None:
            assert keep, name


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=24), max_size=15))
def test_the_gate_keeps_every_matching_name_among_random_text(names: list[str]) -> None:
    names = [n.encode("utf-8", "replace").decode("utf-8") for n in names]
    for name, keep in zip(names, _gate(names), strict=True):
        if INDEX._lookup(normalize_name(name)) is not None:
            assert keep, name


def _company_names(n: int) -> list[str]:
    rng = random.Random(4)
    cities = ["Shenzhen", "Yiwu", "Jakarta", "Hanoi", "Lagos", "Lima", "Moscow", "Putian"]
    words = ["Lucky", "Golden", "Harmony", "Jade", "Ocean", "Pioneer", "Unity", "Noble"]
    trades = ["Electronics", "Garments", "Leather", "Footwear", "Bags", "Cosmetics", "Toys"]
    forms = ["Co., Ltd", "Limited", "LLC", "Trading Co., Ltd", "Store", "Factory"]
    zh = ["深圳市华盛电子有限公司", "义乌小商品", "潮流服饰旗舰店", "广州皮具厂"]
    out = []
    for i in range(n):
        if i % 5 == 0:
            out.append(f"{rng.choice(zh)}{i}")
        else:
            parts = [rng.choice(x) for x in (cities, words, trades, forms)]
            out.append(" ".join([*parts, str(i)]))
    return out


def test_the_gate_drops_what_names_no_market() -> None:
    names = _company_names(3000)
    kept = _gate(names)
    assert not any(INDEX._lookup(normalize_name(n)) for n in names)
    assert sum(kept) / len(names) < 0.02  # the point of the gate: almost nothing reaches Python


def test_batch_and_single_lookups_agree() -> None:
    names = [*_company_names(200), *KEY_TEXTS, "Shopee Shop 8729", "Shoppe Deals", "Mega Store"]
    fresh = NameIndex(load_markets())
    batch = fresh.lookup_many(names)
    single = NameIndex(load_markets())
    assert batch == [single.lookup(n) for n in names]
    assert sum(h is not None for h in batch) > len(KEY_TEXTS) * 0.9


@pytest.mark.parametrize(
    "name",
    ["Nike™Store", "Maria’s Boutique", "d''arc", "Ꭰ shop", "x\u0345y"],
)
def test_names_the_gate_folds_unsurely_are_kept(name: str) -> None:
    # characters whose folding in Arrow differs from normalize_name's (a dropped ™, curly or
    # doubled apostrophes, Cherokee and Greek letters whose case folding differs from their
    # lower case) are never dropped by the gate
    assert INDEX._unsure(column([name], pa.string())).tolist() == [True]


def test_plain_names_are_not_unsure() -> None:
    names = ["Lucky Electronics", "深圳市华盛电子有限公司", "Cửa hàng Minh Anh", "ООО «Ромашка»",
             "中\u0301a", "ΣΊΣΥΦΟΣ", "ǅemal", "Raj's"]  # fmt: skip
    assert INDEX._unsure(column(names, pa.string())).tolist() == [False] * len(names)


@pytest.mark.parametrize(
    "name",
    ["", "   ", "---", "™", "'", "🔥🔥", "a", "淘宝", "x" * 3000, "Nike™", "\u0301", "ß"],
)
def test_usable_names_in_bulk_are_normalize_names(name: str) -> None:
    got = INDEX.usable(column([name], pa.string())).tolist()
    assert got == [normalize_name(name).error is None]


def test_word_budgets() -> None:
    assert [edit_budget(n) for n in (1, 4, 5, 8, 9, 20)] == [0, 0, 1, 1, 1, 1]
    hit = INDEX.lookup("Aliexpres Store")
    assert hit is not None and hit.key.market == "aliexpress" and hit.spelled < 100
    assert INDEX.lookup("Alixpres Store") is None  # two typos in one word: not AliExpress
    assert INDEX.lookup("Tmal Deals") is None  # words under five letters must be spelt exactly
    near = INDEX.lookup("Tabao")  # five letters against six: one edit allowed
    assert near is not None and near.key.market == "taobao"
    glued = INDEX.lookup("TAOBAO OUTLET")
    assert glued is not None and glued.key.market == "taobao" and glued.spelled == 100


def test_a_word_glued_inside_another_is_not_a_mention() -> None:
    assert INDEX.lookup("Orientmall Deals") is None  # "tmall" inside "orientmall"
    assert INDEX.lookup("Ali Official Baba") is None  # the key is not spelt in one piece


def test_the_gate_array_may_be_sliced_and_hold_nulls() -> None:
    values = pa.array(["x", "Taobao Shop", None, "Lucky Bags"]).slice(1)
    assert INDEX.gate(values).tolist() == [True, False, False]
    assert np.asarray(INDEX.usable(values)).tolist() == [True, False, True]
