"""The market knowledge base: loader errors with their place, the bundled data, queries, the CLI."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import notorious_screen.markets as markets_module
from notorious_screen.cli import main
from notorious_screen.errors import DataError
from notorious_screen.markets import (
    KINDS,
    Edition,
    IncompleteEditionWarning,
    MarketData,
    MarketLookupError,
    check_kind,
    load_markets,
)

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
BUNDLED = Path(markets_module.__file__).resolve().parent / "data"
WIDELY = "widely documented; not in the reference fact sheet"


@pytest.fixture(scope="module")
def data() -> MarketData:
    return load_markets()


def fresh() -> MarketData:
    """An uncached load of the bundled files (its warn-once memory starts empty)."""
    return load_markets(BUNDLED / "markets.yaml")


# ---- loader errors, each with its exact file:line:column ---------------------------------------
HEAD = """\
schema: 1
editions:
- {list: "ustr-nml", year: 2020, complete: false}
owners:
- {id: "acme", name: "Acme", hosts: ["acme.example"]}
markets:
"""  # six lines: the markets below start on line 7
SOURCES = 'sources:\n  src-a: {title: "A"}\n  src-b: {title: "B"}\n'


def load_error(tmp_path: Path, body: str, *, head: str = HEAD, sources: str = SOURCES) -> str:
    """Write markets.yaml (+ sources.yaml) and return the DataError text, path made relative."""
    (tmp_path / "markets.yaml").write_text(head + body, encoding="utf-8")
    (tmp_path / "sources.yaml").write_text(sources, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_markets(tmp_path / "markets.yaml")
    return str(info.value).replace(str(tmp_path) + "/", "")


SHOP = '- id: "shop"\n  name: "Shop"\n  kind: "e-commerce"\n'  # lines 7-9


def test_unknown_key_with_did_you_mean(tmp_path: Path) -> None:
    err = load_error(tmp_path, SHOP + '  hostz: ["shop.example"]\n')
    assert err == "markets.yaml:10:3: unknown key 'hostz' in market; did you mean 'hosts'?"


def test_duplicate_key(tmp_path: Path) -> None:
    err = load_error(tmp_path, SHOP + '  name: "Shop again"\n')
    assert err == "markets.yaml:10:3: duplicate key 'name' (first defined at line 8)"


def test_duplicate_market_id(tmp_path: Path) -> None:
    err = load_error(tmp_path, SHOP + SHOP)
    assert err == "markets.yaml:10:7: duplicate market id 'shop' (first defined at line 7)"


def test_host_claimed_by_two_markets(tmp_path: Path) -> None:
    body = (
        SHOP
        + '  hosts: ["shop.example"]\n'
        + '- id: "mirror"\n  name: "Mirror"\n  kind: "e-commerce"\n'
        + '  alias_hosts: ["mirror.example", "shop.example"]\n'
    )
    err = load_error(tmp_path, body)
    assert err == (
        "markets.yaml:14:35: host 'shop.example' is already claimed by market 'shop' (line 10)"
    )


def test_owner_host_claimed_by_a_market(tmp_path: Path) -> None:
    err = load_error(tmp_path, SHOP + '  hosts: ["acme.example"]\n')
    assert (
        err == "markets.yaml:5:38: owner host 'acme.example' is already claimed by 'shop' (line 10)"
    )


def test_listing_without_sources(tmp_path: Path) -> None:
    body = SHOP + '  listings:\n    ustr-nml 2020:\n      status: "new"\n'
    err = load_error(tmp_path, body)
    assert err == "markets.yaml:12:7: listing 'ustr-nml 2020' of market 'shop' has no sources"
    body = SHOP + '  listings:\n    ustr-nml 2020: {status: "new", sources: ""}\n'
    err = load_error(tmp_path, body)
    assert err == "markets.yaml:11:45: listing 'ustr-nml 2020' of market 'shop' has no sources"


def test_unknown_source_id_located_at_the_word(tmp_path: Path) -> None:
    body = SHOP + '  listings:\n    ustr-nml 2020:\n      status: "new"\n'
    err = load_error(tmp_path, body + '      sources: "src-a src-ax"\n')
    assert err == "markets.yaml:13:23: unknown source 'src-ax'; did you mean 'src-a'?"
    err = load_error(tmp_path, body + '      sources: ["src-b", "nope"]\n')
    assert err == "markets.yaml:13:26: unknown source 'nope'"


def test_unknown_owner(tmp_path: Path) -> None:
    err = load_error(tmp_path, SHOP + '  owner: "acne"\n')
    assert err == "markets.yaml:10:10: unknown owner 'acne'; did you mean 'acme'?"


def test_unknown_kind(tmp_path: Path) -> None:
    err = load_error(tmp_path, '- id: "shop"\n  name: "Shop"\n  kind: "ecommerce"\n')
    assert err.startswith(
        "markets.yaml:9:9: unknown kind 'ecommerce'; did you mean 'e-commerce'? "
        "(expected one of: e-commerce, social-commerce, b2b,"
    )


def test_bad_list_id_in_listing_key(tmp_path: Path) -> None:
    body = SHOP + '  listings:\n    ustr 2020: {status: "new", sources: "src-a"}\n'
    err = load_error(tmp_path, body)
    assert err == (
        "markets.yaml:11:5: unknown list 'ustr'; did you mean 'ustr-nml'? "
        "(expected one of: ustr-nml, eu-cpwl)"
    )


def test_bad_list_id_in_edition(tmp_path: Path) -> None:
    head = HEAD.replace('list: "ustr-nml"', 'list: "ustr_nml"')
    err = load_error(tmp_path, SHOP, head=head)
    assert err == (
        "markets.yaml:3:10: unknown list 'ustr_nml'; did you mean 'ustr-nml'? "
        "(expected one of: ustr-nml, eu-cpwl)"
    )


def test_bad_year(tmp_path: Path) -> None:
    listing = '  listings:\n    ustr-nml {}: {{status: "new", sources: "src-a"}}\n'
    err = load_error(tmp_path, SHOP + listing.format("2018"))
    assert err == "markets.yaml:11:14: no ustr-nml edition for 2018 in 'editions' (known: 2020)"
    err = load_error(tmp_path, SHOP + listing.format("20x0"))
    assert err == "markets.yaml:11:14: bad year '20x0': expected a year such as 2021"
    err = load_error(tmp_path, SHOP, head=HEAD.replace("year: 2020", "year: 1890"))
    assert err == "markets.yaml:3:28: bad year 1890: expected a year such as 2021"


def test_bad_status(tmp_path: Path) -> None:
    body = SHOP + '  listings:\n    ustr-nml 2020: {status: "contnuing", sources: "src-a"}\n'
    err = load_error(tmp_path, body)
    assert err == (
        "markets.yaml:11:29: unknown status 'contnuing'; did you mean 'continuing'? "
        "(expected one of: new, continuing, returning, unknown)"
    )


def test_invalid_host_and_scope_outside_the_market(tmp_path: Path) -> None:
    err = load_error(tmp_path, SHOP + '  hosts: ["*.shop.example"]\n')
    assert err.startswith("markets.yaml:10:11: invalid host '*.shop.example': ")
    body = (
        SHOP
        + '  hosts: ["shop.example"]\n  listings:\n'
        + '    ustr-nml 2020: {status: "new", sources: "src-a", scope: ["shop.example.de"]}\n'
    )
    err = load_error(tmp_path, body)
    assert err == "markets.yaml:12:62: scope host 'shop.example.de' is not a host of market 'shop'"


def test_captured_counts_must_match_the_listings(tmp_path: Path) -> None:
    body = SHOP + '  listings:\n    ustr-nml 2020: {status: "new", sources: "src-a"}\n'
    head = HEAD.replace("complete: false}", "complete: false, online_captured: 3}")
    err = load_error(tmp_path, body, head=head)
    assert err == "markets.yaml:3:68: online_captured is 3 but 1 markets list USTR NML 2020"
    head = HEAD.replace("complete: false}", "complete: true, online_official: 2}")
    err = load_error(tmp_path, body, head=head)
    assert err == (
        "markets.yaml:3:44: USTR NML 2020 is marked complete but 1 of 2 online markets are listed"
    )


def test_unknown_basis_key_and_bad_source_file(tmp_path: Path) -> None:
    err = load_error(tmp_path, SHOP + '  basis: {hots: "x"}\n')
    assert err == "markets.yaml:10:11: unknown key 'hots' in basis; did you mean 'hosts'?"
    err = load_error(tmp_path, SHOP, sources='sources:\n  src-a: {titel: "A"}\n')
    assert err == "sources.yaml:2:11: unknown key 'titel' in source 'src-a'; did you mean 'title'?"


def test_schema_and_missing_keys(tmp_path: Path) -> None:
    err = load_error(tmp_path, SHOP, head=HEAD.replace("schema: 1", "schema: 2"))
    assert err == "markets.yaml:1:9: unsupported schema 2; this version reads schema 1"
    err = load_error(tmp_path, '- id: "shop"\n  kind: "e-commerce"\n')
    assert err == "markets.yaml:7:3: market is missing key 'name'"


def test_loader_rejects_yaml_anchors_in_market_data(tmp_path: Path) -> None:
    err = load_error(tmp_path, SHOP + '  names: &n ["Shop"]\n')
    assert err == "markets.yaml:10:10: YAML anchors (&n) are not allowed"


# ---- a tiny valid file ------------------------------------------------------------------------
def test_fixture_loads_with_scope_owner_and_defaults() -> None:
    d = load_markets(DATA / "markets_min.yaml", sources=DATA / "markets_sources.yaml")
    shop = d.markets["shop"]
    assert shop.names == ("Shop", "Shop Marketplace")
    assert shop.listing("ustr-nml", 2020, "shop.example.de").listed_as == "SHOP'S FOREIGN DOMAINS"
    assert shop.listing("ustr-nml", 2020, "shop.example") is None
    assert shop.listing("ustr-nml", 2021, "shop.example").listed_as == "Shop"  # default
    assert shop.listing("ustr-nml", 2021).confidence == "medium"
    assert shop.listed_years("ustr-nml") == (2020, 2021)
    assert d.owners["acme"].platforms == ("shop", "sibling")
    assert d.find_owner("阿克米").id == "acme"
    ed2020 = d.edition(year=2020)
    assert (ed2020.online_captured, ed2020.physical_captured) == (2, 1)
    assert [m.id for m in d.markets_in(ed2020, physical=True)] == ["bazaar-town"]
    assert d.markets_in(ed2020, owner="acme") == [shop]
    assert d.sources["src-b"].supports == "Lists Shop and Locker."


# ---- the bundled knowledge base ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("year", "online", "physical"), [(2019, 38, 34), (2020, 39, 34), (2021, 42, 35)]
)
def test_complete_ustr_editions_hold_every_online_market(
    data: MarketData, year: int, online: int, physical: int
) -> None:
    ed = data.edition("ustr-nml", year)
    assert ed.complete
    assert (ed.online_official, ed.online_captured, ed.physical_official) == (
        online,
        online,
        physical,
    )
    assert len(data.markets_in(ed, physical=False)) == online


def test_incomplete_editions(data: MarketData) -> None:
    expected = {
        ("ustr-nml", 2022): (39, 25, 33, 4),
        ("ustr-nml", 2023): (39, 11, 33, 15),
        ("ustr-nml", 2024): (38, 19, 33, 13),
        ("ustr-nml", 2025): (37, 6, 32, 4),
    }
    for (lst, year), counts in expected.items():
        ed = data.edition(lst, year, warn=False)
        assert not ed.complete
        got = (ed.online_official, ed.online_captured, ed.physical_official, ed.physical_captured)
        assert got == counts
    eu = [e for e in data.editions if e.list == "eu-cpwl"]
    assert [e.year for e in eu] == [2018, 2020, 2022, 2025]  # there is no 2024 edition
    assert not any(e.complete for e in eu)


def test_second_fact_sheet_2024_online_markets(data: MarketData) -> None:
    ed = data.edition("ustr-nml", 2024, warn=False)
    online = {m.id: m.listing("ustr-nml", 2024) for m in data.markets_in(ed, physical=False)}
    added = {
        "dhgate": "high",  # udn-2025-01, a newspaper
        "magistv": "medium",  # the others: undated reposts
        "y2mate": "medium",
        "torrentgalaxy": "medium",
        "rapidgator": "medium",
        "1fichier": "medium",
        "streamtape": "medium",
        "1337x": "medium",
        "geniptv": "medium",
        "vk": "medium",
    }
    assert {mid: online[mid].confidence for mid in added} == added
    assert online["magistv"].status == online["y2mate"].status == "new"  # "neue Namen"
    assert online["the-pirate-bay"].confidence == "high"  # corroboration keeps the best
    assert "digital-eliteboard-2025" in online["the-pirate-bay"].sources
    # Names a source gives without a domain get no host.
    for mid in ("magistv", "torrentgalaxy", "streamtape"):
        assert data.markets[mid].all_hosts == ()
    assert data.markets["y2mate"].hosts == ("y2mate.com",)  # EU 2020: "Y2Mate.com"
    for mid in ("taobao", "pinduoduo", "douyin-mall", "baidu-wangpan"):
        assert "udn-2025-01" in online[mid].sources


def test_second_fact_sheet_2025_edition(data: MarketData) -> None:
    ed = data.edition("ustr-nml", 2025, warn=False)
    assert (ed.released, ed.online_official, ed.physical_official) == ("2026-03-03", 37, 32)
    physical = {m.id for m in data.markets_in(ed, physical=True)}
    assert physical == {
        "tepito-mexico-city",
        "san-juan-de-dios-guadalajara",
        "el-santuario-guadalajara",
        "mbk-center-bangkok",
    }
    online = data.markets_in(ed, physical=False)
    # Only project notes name 2025 online markets: every such listing says it is low.
    assert {m.listing("ustr-nml", 2025).confidence for m in online} == {"low"}
    assert {m.id for m in online} == {
        "the-pirate-bay",
        "1337x",
        "rutracker",
        "yts",
        "libgen",
        "sci-hub",
    }
    assert not any("anna's" in m.name.casefold() for m in data.markets.values())
    assert any("ANNA'S ARCHIVE" in note for note in ed.notes)  # left out, and said so


def test_second_fact_sheet_eu_2020(data: MarketData) -> None:
    ed = data.edition("eu-cpwl", 2020, warn=False)
    named = {m.id for m in data.markets_in(ed) if "ifpi-2020-12-15" in m.listing(*_key(ed)).sources}
    assert named == {
        "wi-to-ddl-to",
        "dbree",
        "y2mate",
        "youtubeconverter-io",
        "flvto",
        "2conv",
        "telegram",
        "rapidgator",
        "savefrom",
        "4shared",
        "uploaded",
        "1337x",
        "rarbg",
        "music-bazaar",
    }
    # Named directly now: the earlier inference from 2022 coverage gave way to the source.
    listing = data.markets["4shared"].listing("eu-cpwl", 2020)
    assert listing.confidence == "high" and "inference" not in (listing.notes or "")
    assert "music-bazaar.mobi" in data.markets["music-bazaar"].alias_hosts
    # Kinds that no sheet states are marked, and cap the market at medium.
    assert (
        data.markets["dbree"].confidence == "medium"
        and WIDELY in data.markets["dbree"].basis["kind"]
    )


def test_second_sheet_sources_carry_their_excerpts(data: MarketData) -> None:
    second = [
        s for s in data.sources.values() if (s.supports or "").endswith("(second fact sheet)")
    ]
    assert len(second) == 11
    assert all(s.excerpts and s.url for s in second)
    assert "敦煌網" in data.sources["udn-2025-01"].excerpts[0]


def _key(ed: Edition) -> tuple[str, int]:
    return ed.list, ed.year


def test_default_edition_is_ustr_2021_without_warning(data: MarketData) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ed = data.edition()
    assert (ed.list, ed.year, ed.label, ed.released) == (
        "ustr-nml",
        2021,
        "USTR NML 2021",
        "2022-02-17",
    )


def test_incomplete_edition_warns_once() -> None:
    d = fresh()
    with pytest.warns(IncompleteEditionWarning, match="USTR NML 2023 is incomplete .*11/39"):
        ed = d.edition("ustr-nml", 2023)
    assert not ed.complete
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d.edition("ustr-nml", 2023)  # second time: silent
        d.edition("ustr-nml", 2022, warn=False)  # opted out
    with pytest.warns(IncompleteEditionWarning, match="EU CPWL 2025"):
        assert d.edition("eu-cpwl").year == 2025  # no complete EU edition: latest, with a warning


def test_unknown_edition_list_and_market(data: MarketData) -> None:
    with pytest.raises(MarketLookupError, match=r"no USTR NML edition for 2017; known years: 2019"):
        data.edition("ustr-nml", 2017)
    with pytest.raises(MarketLookupError, match=r"unknown list 'eu'"):
        data.edition("eu")
    with pytest.raises(MarketLookupError, match=r"unknown market 'taobaoo'; did you mean 'taobao'"):
        data.history("taobaoo")


def test_diff_2021_vs_2020_matches_the_fact_sheet(data: MarketData) -> None:
    diff = data.diff(data.edition(year=2020), data.edition(year=2021))
    added = {m.id for m in diff.added if not m.physical}
    removed = {m.id for m in diff.removed if not m.physical}
    assert added == {
        "2embed",
        "aliexpress",
        "cuevana",
        "egybest",
        "indiamart",
        "istar",
        "libgen",
        "spider",
        "wechat",
    }
    assert removed == {"amazon", "haraj", "mercado-libre", "seasonvar", "snapdeal", "weidian"}
    assert len([m for m in diff.continuing if not m.physical]) == 33
    assert diff.complete


def test_diff_2020_vs_2019_counts_the_registrar_heading_twice(data: MarketData) -> None:
    diff = data.diff(data.edition(year=2019), data.edition(year=2020))
    removed = {m.id for m in diff.removed if not m.physical}
    assert removed == {
        "carousell",
        "cimaclub",
        "openprovider",
        "ru-center",
        "propeller-ads",
        "torrentz2",
        "turbobit",
        "uptobox",
        "warmane",
    }
    assert "amazon" in {m.id for m in diff.continuing}  # scope changed, market stayed


def test_host_precision_baidu_and_wechat(data: MarketData) -> None:
    hosts, owners = data.host_index(), data.owner_host_index()
    assert hosts["pan.baidu.com"] == "baidu-wangpan"
    assert hosts["yun.baidu.com"] == "baidu-wangpan"
    assert "baidu.com" not in hosts and "www.baidu.com" not in hosts
    assert owners["baidu.com"] == "baidu"
    assert hosts["weixin.qq.com"] == "wechat"
    assert hosts["mp.weixin.qq.com"] == "wechat"
    assert "qq.com" not in hosts and owners["qq.com"] == "tencent"
    # No market host is a parent of www.baidu.com or www.qq.com either.
    for host in ("www.baidu.com", "www.qq.com"):
        labels = host.split(".")
        parents = {".".join(labels[i:]) for i in range(len(labels))}
        assert not parents & set(hosts)


def test_alias_hosts_from_the_fact_sheet(data: MarketData) -> None:
    hosts = data.host_index()
    expected = {
        "m.tb.cn": "taobao",
        "mobile.yangkeduo.com": "pinduoduo",
        "aliexpress.ru": "aliexpress",
        "s.click.aliexpress.com": "aliexpress",
        "shopee.co.id": "shopee",
        "v.weidian.com": "weidian",  # from the wildcard *.v.weidian.com
        "k.youshop10.com": "weidian",
        "haohuo.jinritemai.com": "douyin-mall",
        "mercadolivre.com.br": "mercado-libre",
    }
    assert {h: hosts[h] for h in expected} == expected
    assert not any("*" in h for h in hosts)


def test_amazon_scope(data: MarketData) -> None:
    amazon = data.markets["amazon"]
    assert amazon.owner == "amazon" and "amazon.com" in amazon.hosts
    assert amazon.listing("ustr-nml", 2020, "amazon.de") is not None
    assert amazon.listing("ustr-nml", 2020, "www.amazon.de") is not None
    assert amazon.listing("ustr-nml", 2019, "amazon.ca") is not None
    assert amazon.listing("ustr-nml", 2020, "amazon.ca") is None  # dropped in 2020
    assert amazon.listing("ustr-nml", 2020, "amazon.es") is not None  # added in 2020
    assert amazon.listing("ustr-nml", 2021, "amazon.de") is None
    for ed in data.editions:
        assert amazon.listing(ed.list, ed.year, "amazon.com") is None
        assert amazon.listing(ed.list, ed.year, "smile.amazon.com") is None
    assert amazon.listing("ustr-nml", 2019).scope == (
        "amazon.ca",
        "amazon.de",
        "amazon.fr",
        "amazon.in",
        "amazon.co.uk",
    )


def test_tmall_is_alibaba_not_listed(data: MarketData) -> None:
    tmall = data.markets[data.host_index()["tmall.com"]]
    assert tmall.id == "tmall" and tmall.listings == ()
    owner = data.owner_of(tmall)
    assert owner is not None and owner.name == "Alibaba Group"
    assert tmall.confidence == "medium" and WIDELY in tmall.basis["owner"]
    assert set(owner.platforms) >= {"taobao", "tmall", "aliexpress", "1688", "alibaba-com"}
    assert set(data.owners["pdd"].platforms) == {"pinduoduo", "temu"}
    assert data.owners["bytedance"].platforms == ("douyin-mall",)


def test_every_fact_added_beyond_the_fact_sheet_is_medium(data: MarketData) -> None:
    for market in data.markets.values():
        if any(WIDELY in text for text in market.basis.values()):
            assert market.confidence == "medium", market.id


def test_one_market_per_platform_across_years_and_lists(data: MarketData) -> None:
    taobao = data.history("taobao")
    assert [(x.list, x.year) for x in taobao] == [("ustr-nml", y) for y in range(2019, 2025)]
    assert data.markets["the-pirate-bay"].listed_years("eu-cpwl") == (2018, 2020, 2022)
    assert {"淘宝", "淘寶"} <= set(data.markets["taobao"].names)
    assert data.markets["wechat"].listing("ustr-nml", 2021).status == "new"
    assert data.markets["aliexpress"].listing("ustr-nml", 2021).status == "new"
    assert data.markets["douyin-mall"].listing("ustr-nml", 2024).status == "new"
    assert data.markets["wechat"].listed_years("ustr-nml") == (2021, 2022, 2023)


def test_physical_markets(data: MarketData) -> None:
    silk = data.markets["silk-market-beijing"]
    assert (silk.kind, silk.physical, silk.city, silk.country) == (
        "physical",
        True,
        "Beijing",
        "China",
    )
    assert {"秀水市场", "秀水街"} <= set(silk.names)
    assert silk.listing("ustr-nml", 2021).confidence == "medium"
    assert silk.listing("eu-cpwl", 2020) is not None
    greenhills = data.markets["greenhills-san-juan"]
    assert greenhills.listed_years("ustr-nml") == (2021, 2022, 2023, 2024)
    assert greenhills.listing("eu-cpwl", 2022).status == "new"


def test_every_listing_cites_existing_sources(data: MarketData) -> None:
    from notorious_screen._yaml import load_yaml_file

    ids = set(load_yaml_file(BUNDLED / "sources.yaml")["sources"])
    assert ids == set(data.sources)
    for market in data.markets.values():
        for listing in market.listings:
            assert listing.sources, (market.id, listing.year)
            assert set(listing.sources) <= ids, (market.id, listing.year)
        assert set(market.sources) <= ids
    for ed in data.editions:
        assert set(ed.sources) <= ids


def test_derived_statuses_say_so(data: MarketData) -> None:
    palika = data.markets["palika-bazaar-delhi"].listing("ustr-nml", 2021)
    assert palika.status == "continuing"
    assert "Status derived: also listed in USTR NML 2020 in this data." in (palika.notes or "")
    cuevana = data.markets["cuevana"].listing("ustr-nml", 2021)
    assert cuevana.status == "unknown"  # absent from 2020; new or returning cannot be told
    bukalapak = data.markets["bukalapak"].listing("eu-cpwl", 2018)
    assert bukalapak.status == "new" and "first edition" in (bukalapak.notes or "")


def test_queries_filter_by_kind_country_owner(data: MarketData) -> None:
    ed = data.edition()
    china = {m.id for m in data.markets_in(ed, country="china", physical=False)}
    assert china == {"aliexpress", "baidu-wangpan", "dhgate", "pinduoduo", "taobao", "wechat"}
    assert {m.id for m in data.markets_in(ed, owner="alibaba")} == {"aliexpress", "taobao"}
    kinds = {m.kind for m in data.markets.values()}
    assert kinds <= set(KINDS)
    assert all(m.kind == "cyberlocker" for m in data.markets_in(ed, kind="cyberlocker"))
    assert data.find_owner("ALIBABA GROUP").id == "alibaba"
    assert data.find_owner("tencent holdings").id == "tencent"
    with pytest.raises(MarketLookupError, match="unknown owner 'Alibabba'; did you mean 'alibaba'"):
        data.find_owner("Alibabba")
    assert check_kind("b2b") == "b2b"
    with pytest.raises(MarketLookupError, match="did you mean 'e-commerce'"):
        check_kind("ecommerce")


def test_data_pickles_and_markets_hash(data: MarketData) -> None:
    back = pickle.loads(pickle.dumps(data))
    assert back.markets == data.markets and back.editions == data.editions
    assert back.host_index() == data.host_index()
    assert len({*data.markets.values()}) == len(data.markets)


def test_bundled_load_is_cached_and_lazy() -> None:
    assert load_markets() is load_markets()
    code = "import notorious_screen.markets as m; print(m._load_bundled.cache_info().currsize)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == "0"  # importing parsed nothing


def test_module_docstring_examples() -> None:
    import doctest

    result = doctest.testmod(markets_module)
    assert result.attempted > 0 and result.failed == 0


# ---- the CLI -----------------------------------------------------------------------------------
def test_cli_markets_2021(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["markets", "--year", "2021"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "USTR NML 2021 (released 2022-02-17): online 42/42 captured (complete), "
        "physical 14/35 captured (partial)"
    )
    assert "Online markets (42 of 42 known to the data)" in out
    assert "Physical markets (14 of 35 known to the data)" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert rows["aliexpress"][1:5] == ["AliExpress", "e-commerce", "China", "Alibaba"]
    assert "silk-market-beijing" in rows
    assert "note:" not in out


def test_cli_default_is_2021(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["markets", "--online", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["edition"]["year"] == 2021 and doc["edition"]["complete"] is True
    assert len(doc["markets"]) == 42


def test_cli_diff(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["markets", "--year", "2021", "--diff", "2020", "--online", "--format", "json"]) == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert {r["id"] for r in doc["added"]} >= {"aliexpress", "wechat"}
    assert {r["id"] for r in doc["removed"]} == {
        "amazon",
        "haraj",
        "mercado-libre",
        "seasonvar",
        "snapdeal",
        "weidian",
    }
    assert doc["complete"] is True
    assert main(["markets", "--year", "2021", "--diff", "2020"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("USTR NML 2020 -> USTR NML 2021\n")
    lines = out.splitlines()
    assert any(line.split()[:2] == ["added", "wechat"] for line in lines if line.strip())
    assert any(line.split()[:2] == ["removed", "amazon"] for line in lines if line.strip())
    assert "Physical lists are partial in the data" in out


def test_cli_incomplete_edition_notes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["markets", "--year", "2023", "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].startswith("id,name,kind,physical,country,city,owner")
    assert "USTR NML 2023 is incomplete in the data (online 11/39" in captured.err
    assert main(["markets", "--year", "2023"]) == 0
    assert "note: USTR NML 2023 is incomplete" in capsys.readouterr().out


def test_cli_owner_filter_lists_unlisted_siblings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["markets", "--owner", "Alibaba Group"]) == 0
    out = capsys.readouterr().out
    assert "Online markets (2 of 42" in out
    assert "Alibaba Group: not listed in USTR NML 2021: 1688.com, Alibaba.com, Tmall" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--year", "2017"], "no USTR NML edition for 2017; known years: 2019, 2020"),
        (["--list", "eu"], "unknown list 'eu'"),
        (["--owner", "nobody inc"], "unknown owner 'nobody inc'"),
        (["--kind", "ecommerce"], "unknown kind 'ecommerce'; did you mean 'e-commerce'?"),
        (["--list", "eu-cpwl", "--year", "2024"], "no EU CPWL edition for 2024"),
    ],
)
def test_cli_errors_exit_1_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["markets", *argv]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("notorious-screen: error: ")
    assert message in err


def test_cli_with_a_data_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for name in ("markets_min.yaml", "markets_sources.yaml"):
        (tmp_path / name).write_bytes((DATA / name).read_bytes())
    (tmp_path / "markets_sources.yaml").rename(tmp_path / "sources.yaml")
    assert main(["markets", "--data", str(tmp_path / "markets_min.yaml"), "--year", "2020"]) == 0
    out = capsys.readouterr().out
    assert "Online markets (2 of 2 known to the data)" in out and "shop" in out


def test_readme_completeness_table_is_what_the_data_counts(data: MarketData) -> None:
    """Every edition has a row in README's table, and its figures are the loader's counts."""
    import re

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    row = r"^\| (?:\*\*)?((?:USTR NML|EU CPWL) \d{4})(?:\*\*)?[^|]* \| (.+?) \| (.+?) \|$"
    rows = re.findall(row, readme, flags=re.M)
    table = {label: (online, physical) for label, online, physical in rows}
    assert set(table) == {e.label for e in data.editions}
    for ed in data.editions:
        online, physical = table[ed.label]
        want = f"{ed.online_captured}/{ed.online_official}" if ed.online_official else None
        if want is None:
            assert online.startswith(f"{ed.online_captured} (examples"), ed.label
        else:
            assert online.strip("*").split(" ")[0].strip("*") == want, ed.label
        assert ("(complete)" in online) is ed.complete, ed.label
        want = f"{ed.physical_captured}/{ed.physical_official}" if ed.physical_official else None
        assert physical == (want or str(ed.physical_captured)), ed.label
