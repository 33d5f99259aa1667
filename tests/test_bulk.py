"""The batch engine's bulk shortcuts decide only what the full path would decide the same way."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from notorious_screen import normalize_url
from notorious_screen._arrow import first_byte_in, prefixed
from notorious_screen._hosts import HostResolver, fast_hosts
from notorious_screen.markets import load_markets
from notorious_screen.match import Matcher
from notorious_screen.normalize import MAX_URL_LENGTH, normalize_clean_host, normalize_host

# The specification of a clean URL, written as one regular expression (the implementation
# works on the bytes with NumPy instead, several times faster on a million rows).
_SPEC = re.compile(
    r"(?:[hH][tT][tT][pP][sS]?://)?"
    r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"\.[A-Za-z][A-Za-z0-9-]*)"
    r"(?:[/?#].*)?",
    re.DOTALL,
)


def _spec(value: str | None) -> str | None:
    if value is None or len(value) > MAX_URL_LENGTH:
        return None
    m = _SPEC.fullmatch(value)
    if m is None:
        return None
    host = m.group("host").lower()
    return None if "xn--" in host else host


_PIECES = st.sampled_from(
    [
        "http://", "https://", "HTTPS://", "hTtP://", "http:/", "https:", "ftp://", "//",
        "www.", "shop1.", "taobao", "TaoBao", ".com", ".co.uk", ".", "..", "-", "a-", "-b",
        "xn--", "XN--p1ai", "9", "1.2.3.4", "/", "?", "#", "/item?id=1", ":8080", "@", "\\",
        " ", "\t", "\n", "é", "淘宝", "．", "[::1]", "%2e", "=", "a", "z0",
    ]
)  # fmt: skip
_URLS = st.one_of(
    st.none(),
    st.lists(_PIECES, max_size=8).map("".join),
    st.text(max_size=30),
)


@settings(max_examples=400, deadline=None)
@given(values=st.lists(_URLS, max_size=30), skip=st.integers(0, 3))
@example(values=["https://shop1.taobao.com/x", "", None, "TAOBAO.COM", "a.b-"], skip=0)
@example(values=["", ""], skip=0)
@example(values=["http://a.com", "https://b.co", "http://c.d"], skip=1)
def test_fast_hosts_follows_the_specification(values: list[str | None], skip: int) -> None:
    # Arrow slices carry an offset into shared buffers: exercise that too.
    array = pa.array(["pad"] * skip + values, pa.string()).slice(skip)
    assert fast_hosts(array).to_pylist() == [_spec(v) for v in values]


def test_fast_hosts_length_limit_counts_characters() -> None:
    path = "/" + "é" * (MAX_URL_LENGTH - 20)  # fewer characters than the limit, more bytes
    over = "/" + "a" * MAX_URL_LENGTH
    got = fast_hosts(pa.array([f"https://a.com{path}", f"https://a.com{over}"])).to_pylist()
    assert got == ["a.com", None]


@settings(max_examples=300, deadline=None)
@given(value=st.lists(_PIECES, max_size=8).map("".join))
def test_a_fast_host_is_what_the_normalizer_finds(value: str) -> None:
    host = fast_hosts(pa.array([value])).to_pylist()[0]
    if host is not None:
        url = normalize_url(value)
        assert url.error is None and url.host == host and url.host_unicode == host
        # and the engine's shortcut for such a host gives the normalizer's whole answer
        assert normalize_clean_host(host) == normalize_host(host)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher()


def _hosts_near_the_tables(matcher: Matcher) -> list[str]:
    primary, alias, owner = matcher.host_tables()
    hosts: list[str] = []
    for host in sorted({*primary, *alias, *owner}):
        labels = host.split(".")
        hosts += [host, f"www.{host}", f"shop7.{host}", f"a.b.{host}", f"x{host}"]
        hosts += [".".join(labels[1:]) or host, f"{labels[0]}x.{'.'.join(labels[1:])}"]
    return [*hosts, "example.com", "www.example.org", "com", "www.com"]


def test_host_groups_agree_with_the_matcher(matcher: Matcher) -> None:
    resolver = HostResolver(matcher, load_markets())
    hosts = _hosts_near_the_tables(matcher)
    groups = resolver.groups(pa.array([*hosts, None], pa.string())).tolist()
    assert groups[-1] == -1
    members: dict[int, set[tuple[str, str, str]]] = {}
    for host, group in zip(hosts, groups, strict=False):
        found = matcher._resolve_host(host)
        if group < 0:
            # unresolved here: the matcher finds nothing either, or the market is scoped
            assert found is None or found[1] == "amazon", host
            continue
        assert found is not None, host
        members.setdefault(group, set()).add((found[0], found[1], found[2].value))
    assert members, "nothing resolved"
    assert all(len(kinds) == 1 for kinds in members.values()), members
    # several groups per market: exact, subdomain, alias and owner hosts stay apart
    assert {next(iter(k))[2] for k in members.values()} >= {"exact", "subdomain", "alias", "owner"}


_TEXT = st.one_of(st.none(), st.text(max_size=8), st.sampled_from(["=1+1", "-5", "@x", "\tx"]))


@settings(max_examples=300, deadline=None)
@given(values=st.lists(_TEXT, max_size=20), skip=st.integers(0, 3), large=st.booleans())
def test_first_byte_and_prefix_agree_with_python(
    values: list[str | None], skip: int, large: bool
) -> None:
    kind = pa.large_string() if large else pa.string()
    array = pa.array(["pad"] * skip + values, kind).slice(skip)
    risky = first_byte_in(array, b"=+-@\t\r")
    assert risky.tolist() == [
        v is not None and v[:1] in ("=", "+", "-", "@", "\t", "\r") for v in values
    ]
    fixed = prefixed(array, risky, "'")
    assert fixed.type == kind
    fixed.validate(full=True)
    expected = [
        ("'" + v if r else v) if v is not None else None for v, r in zip(values, risky, strict=True)
    ]
    assert fixed.to_pylist() == expected


def test_matching_a_host_known_to_be_under_no_table_host_skips_nothing_else(
    matcher: Matcher,
) -> None:
    resolver = HostResolver(matcher, load_markets())
    hosts = [
        *_hosts_near_the_tables(matcher),
        "a1iexpress.com", "taobao.shop", "shop.taobao.evil.com", "amaz0n.de", "example.com",
    ]  # fmt: skip
    groups = resolver.groups(pa.array(hosts, pa.string())).tolist()
    checked = 0
    for host, group in zip(hosts, groups, strict=True):
        url = normalize_clean_host(host) if fast_hosts(pa.array([host])).to_pylist()[0] else None
        if group == -1 and url is not None:
            found = matcher.find_beyond_tables(url)
            assert matcher.build_match(url, url.input, None, *found) == matcher.match(url), host
            checked += 1
    assert checked > 20


def test_each_distinct_name_goes_through_the_name_gate_once_across_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import notorious_screen as ns

    screener = ns.Screener()
    gated: list[int] = []
    real = Matcher.name_hits

    def counting(self: Matcher, names: pa.Array) -> list[tuple[int, object]]:
        gated.append(len(names))
        return real(self, names)  # type: ignore[return-value]

    monkeypatch.setattr(Matcher, "name_hits", counting)
    # names that name nothing (most of a crawl) and names that name a market, both remembered
    names = [f"Happy Shop {i}" for i in range(300)] + ["Taobao Outlet", "拼多多"]
    urls = pa.array(["https://www.example.org/"] * len(names), pa.string())
    first = screener.screen_arrays(urls, pa.array(names, pa.string()))
    again = screener.screen_arrays(urls, pa.array(names[::-1], pa.string()))
    assert sum(gated) == len(names)  # the second batch looked every name up, gated none
    assert first["ns_name_mentions"].to_pylist() == again["ns_name_mentions"].to_pylist()[::-1]
    assert first["ns_name_mentions"].to_pylist()[-2:] == ["Taobao", "Pinduoduo"]


def test_a_string_index_refuses_the_unknown_mark() -> None:
    import numpy as np

    from notorious_screen._arrow import StringIndex

    index = StringIndex()
    with pytest.raises(ValueError, match="unknown mark"):
        index.add(pa.array(["a", "b"]), np.array([0, -1]))
    index.add(pa.array(["a", "b"]), np.array([-2, 5]))
    assert index.lookup(pa.array(["b", "a", "c"])).tolist() == [5, -2, -1]
