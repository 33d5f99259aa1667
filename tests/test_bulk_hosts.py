"""The bulk host steps of the batch engine answer exactly what the per-host path answers.

`_psl.PSLTable.split` must give tldextract's split host by host, and `_hosts.UnknownHosts`
may only drop hosts the matcher recognises nothing in; `_arrow.StringIndex` must hand every
remembered string its own number and no other.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notorious_screen._arrow import StringIndex, column
from notorious_screen._hosts import HostResolver, UnknownHosts, fast_hosts
from notorious_screen._psl import LabelView, PSLTable
from notorious_screen.markets import load_markets
from notorious_screen.match import Matcher, MatchKind, VariantClass
from notorious_screen.normalize import _extractor, _psl_split, normalize_clean_host

DATA = Path(__file__).parent / "data" / "match"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher()


@pytest.fixture(scope="module")
def unknown(matcher: Matcher) -> UnknownHosts:
    return UnknownHosts(matcher)


def _clean(hosts: list[str]) -> list[str]:
    """The hosts the bulk steps are for: what `fast_hosts` takes out of a clean URL."""
    taken = fast_hosts(column(hosts, pa.string())).to_pylist()
    return sorted({h for h in taken if h is not None})


def _psl_hosts() -> list[str]:
    """Hosts on, under and beside every ASCII suffix rule (wildcards and exceptions too)."""
    rules = _extractor()._get_tld_extractor()
    rng = random.Random(5)
    out: list[str] = []
    for rule in (*rules.public_tlds, *rules.private_tlds):
        if not rule.isascii():
            continue
        bare = rule.lstrip("!*.")
        out += [bare, f"a.{bare}", f"www.shop{rng.randrange(99)}.{bare}", f"x-1.y.z.{bare}"]
    return _clean(out)


def _expected_split(host: str) -> tuple[str | None, str | None, str | None]:
    psl = _psl_split(host)
    return psl.registrable_domain, psl.suffix, psl.private_suffix


def _bulk_split(table: PSLTable, hosts: list[str]) -> list[tuple[str | None, ...] | None]:
    split = table.split(column(hosts, pa.string()))
    out: list[tuple[str | None, ...] | None] = []
    for i, host in enumerate(hosts):
        if split.fallback[i]:
            out.append(None)
            continue
        labels = host.split(".")
        icann, suffix, n = int(split.icann[i]), int(split.suffix[i]), int(split.labels[i])
        out.append(
            (
                ".".join(labels[-icann - 1 :]) if icann and n > icann else None,
                ".".join(labels[-icann:]) if icann else None,
                ".".join(labels[-suffix:]) if split.private[i] and n > suffix else None,
            )
        )
    return out


def test_psl_split_in_bulk_is_tldextracts_for_every_rule() -> None:
    hosts = _psl_hosts()
    table = PSLTable()
    bulk = _bulk_split(table, hosts)
    decided = [(h, b) for h, b in zip(hosts, bulk, strict=True) if b is not None]
    assert len(decided) > 0.95 * len(hosts)  # only wildcard paths are left to tldextract
    wrong = [(h, b, _expected_split(h)) for h, b in decided if b != _expected_split(h)]
    assert wrong == []
    # what is left to tldextract is exactly the hosts with a wildcard rule on their path
    rules = _extractor()._get_tld_extractor()
    wild = {r[2:] for r in (*rules.public_tlds, *rules.private_tlds) if r.startswith("*.")}
    for host, got in zip(hosts, bulk, strict=True):
        labels = host.split(".")
        on_path = any(".".join(labels[i:]) in wild for i in range(len(labels)))
        assert (got is None) == on_path, host


_LABEL = st.sampled_from(
    ["com", "co", "uk", "jp", "shop", "www", "a", "b-1", "blogspot", "github", "io", "ck",
     "kawasaki", "compute", "amazonaws", "taobao", "tmall", "cn", "xn", "1", "z9"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_LABEL, min_size=1, max_size=6).map(".".join), min_size=1, max_size=40))
def test_psl_split_in_bulk_agrees_on_random_hosts(hosts: list[str]) -> None:
    clean = _clean(hosts)
    if not clean:
        return
    for host, got in zip(clean, _bulk_split(PSLTable(), clean), strict=True):
        if got is not None:
            assert got == _expected_split(host), host


def test_label_view_cuts_suffixes_from_sliced_arrays() -> None:
    hosts = column(["skip.me", "a.b.c", "d.e", "f"], pa.string()).slice(1)
    view = LabelView(hosts)
    rows = np.arange(3)
    assert view.labels.tolist() == [3, 2, 1]
    assert view.cut(view.starts(1, rows), view.end).to_pylist() == ["c", "e", "f"]
    assert view.cut(view.starts(2, rows), view.end).to_pylist() == ["b.c", "d.e", "f"]
    assert view.cut(view.starts(9, rows), view.end).to_pylist() == ["a.b.c", "d.e", "f"]


def _under_no_table_host(matcher: Matcher, hosts: list[str]) -> list[str]:
    resolver = HostResolver(matcher, load_markets())
    groups = resolver.groups(column(hosts, pa.string()))
    return [h for h, g in zip(hosts, groups.tolist(), strict=True) if g == -1]


def _check_sound(matcher: Matcher, unknown: UnknownHosts, hosts: list[str]) -> np.ndarray:
    hosts = _under_no_table_host(matcher, _clean(hosts))
    none = unknown.none(column(hosts, pa.string()))
    missed = [
        (h, matcher.find_beyond_tables(normalize_clean_host(h))[-1])
        for h, dropped in zip(hosts, none.tolist(), strict=True)
        if dropped and matcher.find_beyond_tables(normalize_clean_host(h))[2] is not MatchKind.NONE
    ]
    assert missed == []
    return none


@pytest.mark.parametrize("name", ["positives.tsv", "positives_ail.tsv"])
def test_unknown_hosts_never_drops_a_labelled_lookalike(
    matcher: Matcher, unknown: UnknownHosts, name: str
) -> None:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    hosts = [line.split("\t")[0] for line in lines if line and not line.startswith("#")]
    none = _check_sound(matcher, unknown, hosts)
    assert len(none) > 5000


def _mutations(label: str, rng: random.Random) -> list[str]:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-"
    out = []
    for _ in range(6):
        i = rng.randrange(len(label))
        c = rng.choice(alphabet)
        head, tail = label[:i], label[i:]
        out += [head + tail[1:], head + c + tail, head + c + tail[1:]]
    out += [label + "-" + rng.choice(["shop", "sale", "x1"]), "my" + label, label + "s"]
    third = max(1, len(label) // 3)
    out += [label[:third] + "-" + label[third : 2 * third] + "-" + label[2 * third :]]
    for _ in range(8):
        # two substitutions anywhere, and one with a doubled character (the two-edit class)
        i, j = sorted(rng.sample(range(len(label)), min(2, len(label))) * 2)[::2][:2]
        a, b = rng.choice(alphabet), rng.choice(alphabet)
        two = label[:i] + a + label[i + 1 :]
        two = two[:j] + b + two[j + 1 :]
        out.append(two)
        k = rng.randrange(len(two))
        out.append(two[: k + 1] + two[k] + two[k + 1 :])
        # a letter moved anywhere
        m = rng.randrange(len(label))
        rest = label[:m] + label[m + 1 :]
        n = rng.randrange(len(rest) + 1)
        out.append(rest[:n] + label[m] + rest[n:])
    for v in sorted(set(label) & set("aeiouy")):  # every copy of a vowel changed
        out.append(label.replace(v, rng.choice([w for w in "aeiouy" if w != v])))
    out += [label[:1] + label, label + label[-1:], label + "com", "www" + label]  # short budget
    return out


def test_unknown_hosts_never_drops_what_the_matcher_recognises_near_every_target(
    matcher: Matcher, unknown: UnknownHosts
) -> None:
    rng = random.Random(11)
    index = matcher.detector.index
    hosts: list[str] = []
    for label in sorted(index.target_labels):
        for variant in _mutations(label, rng):
            tld = rng.choice(["com", "net", "shop", "co.uk", "de", "xyz", "github.io"])
            hosts += [f"{variant}.{tld}", f"www.{variant}.{tld}"]
            hosts += [f"{label}.com.login-{rng.randrange(9)}.xyz", f"x.{label}.{tld}.evil.top"]
            hosts += [f"{label[:3]}.{label[3:]}.com", f"shop.{label}"]
        for reg in sorted(index.registrables):  # dots left out, under a suffix or none
            flat = reg.replace(".", "")
            hosts += [f"{flat}.com", f"www{flat}.net", f"www{reg}", reg.replace(".", "", 1)]
            hosts += [f"{reg.rsplit('.', 1)[0]}{reg.rsplit('.', 1)[1]}.com"]
            hosts += [f"{reg}.{rng.choice(['nz', 'com.au', 'xyz', 'io'])}"]
    none = _check_sound(matcher, unknown, hosts)
    # the mutations really reach the new classes: the matcher recognises each of them
    hits = {
        matcher.find_beyond_tables(normalize_clean_host(h))[3]
        for h in _under_no_table_host(matcher, _clean(hosts))
    }
    assert {VariantClass.TWO_EDITS, VariantClass.MOVED_LETTER} <= hits
    assert {VariantClass.MISSING_DOT, VariantClass.VOWEL_SWAP} <= hits
    assert len(none) > 5000


def test_unknown_hosts_decides_unrelated_shops_in_bulk(
    matcher: Matcher, unknown: UnknownHosts
) -> None:
    rng = random.Random(2)
    words = ["blue", "river", "stone", "garden", "lamp", "kitchen", "bike", "watch", "cozy"]
    hosts = [
        f"www.{rng.choice(words)}{rng.choice(words)}{i}.{rng.choice(['com', 'de', 'co.uk'])}"
        for i in range(2000)
    ]
    none = _check_sound(matcher, unknown, hosts)
    assert none.mean() > 0.95  # the point of the step: unrelated shops never reach Python


def test_string_index_numbers_each_string_and_no_other() -> None:
    index = StringIndex()
    first = column(["a.com", "", "b.com", "é.cn"], pa.string())
    index.add(first, np.array([10, 11, 12, 13]))
    query = column(["x", "b.com", "", "a.com", "é.cn", "a.co"], pa.string()).slice(1)
    assert index.lookup(query).tolist() == [12, 11, 10, 13, -1]
    index.add(column(["a.co"], pa.string()), np.array([7]))
    assert index.lookup(column(["a.co", "a.com"], pa.string())).tolist() == [7, 10]
    assert len(index) == 5


def test_string_index_survives_hash_collisions(monkeypatch: pytest.MonkeyPatch) -> None:
    from notorious_screen import _arrow

    real = _arrow.string_hashes

    def same_first_hash(values: pa.Array) -> _arrow.Hashes:
        _, h2, lengths = real(values)
        return np.zeros(len(values), dtype=np.uint64), h2, lengths

    monkeypatch.setattr(_arrow, "string_hashes", same_first_hash)
    index = StringIndex()
    index.add(column(["one", "two"], pa.string()), np.array([1, 2]))
    # every string hashes alike: a string is only ever given a number it was added with
    found = index.lookup(column(["one", "two", "three"], pa.string())).tolist()
    assert found[2] == -1 and set(found[:2]) <= {1, 2, -1}
    assert all(f in (-1, n) for f, n in zip(found[:2], [1, 2], strict=True))
