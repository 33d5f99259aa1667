"""Overlays: editions, markets and corrections merged onto the bundled data, like bundled ones.

Every overlay error is asserted with its exact place (path:line:col); merged facts keep the file
they came from; an edition from an overlay takes part in --year, --diff, history,
ns_listed_years and the listed-new / listed-persistent rules exactly like a bundled one.
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import pandas as pd
import pytest

from notorious_screen.errors import DataError
from notorious_screen.markets import MarketData, load_markets, resolve_data
from notorious_screen.screen import Screener

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "edition-2030.yaml"
BUNDLED = "notorious_screen/data/markets.yaml"

HEAD = """\
overlay: 1
sources:
  fiction-2031: {title: "FICTIONAL 2031 test edition", url: "https://example.org/2031"}
editions:
- {list: "ustr-nml", year: 2031, online_official: 3}
markets:
"""  # six lines: the markets start on line 7


def write(tmp_path: Path, body: str, *, head: str = HEAD, name: str = "o.yaml") -> Path:
    path = tmp_path / name
    path.write_text(head + body, encoding="utf-8")
    return path


def error(tmp_path: Path, body: str, *, head: str = HEAD) -> str:
    path = write(tmp_path, body, head=head)
    with pytest.raises(DataError) as info:
        load_markets(overlays=[path])
    return str(info.value).replace(str(tmp_path) + "/", "")


def bundled_line(
    market: str, host: str | None = None, listing: tuple[str, int] | None = None
) -> str:
    """Where the bundled data writes a fact (asked of the data, not hard-coded)."""
    data = load_markets()
    origin = data.origin(data.markets[market])
    assert origin is not None
    where = origin.hosts[host] if host else origin.listings[listing] if listing else origin.defined
    assert where.path == BUNDLED
    return f"{BUNDLED}:{where.line}"


LISTED = '  listings:\n    ustr-nml 2031: {status: "new", sources: "fiction-2031"}\n'
SHOP = '- id: "shop"\n  name: "Shop"\n  kind: "e-commerce"\n  hosts: ["shop.example"]\n' + LISTED


@pytest.fixture(scope="module")
def example() -> MarketData:
    return load_markets(overlays=[EXAMPLE])


# ---- the merge --------------------------------------------------------------------------------
def test_a_new_edition_with_new_and_bundled_markets(example: MarketData) -> None:
    ed = example.edition("ustr-nml", 2030)
    assert ed.label == "USTR NML 2030 (fictional test edition)"
    assert (ed.online_captured, ed.online_official, ed.physical_captured, ed.physical_official) == (
        5,
        5,
        1,
        2,
    )
    assert ed.complete and not ed.physical_complete  # derived, as for bundled editions
    online = {m.id for m in example.markets_in(ed, physical=False)}
    assert online == {"taobao", "the-pirate-bay", "dhgate", "shadow-bazaar", "phantom-locker"}
    assert example.markets["taobao"].listing("ustr-nml", 2030).listed_as == "TAOBAO"
    assert example.host_index()["m.shadow-bazaar.example"] == "shadow-bazaar"
    # The bundled data itself is untouched by a merge.
    assert load_markets().markets["taobao"].listed_years("ustr-nml")[-1] == 2024
    assert example.files == (BUNDLED, str(EXAMPLE))


def test_a_complete_overlay_edition_is_the_default_like_a_bundled_one(example: MarketData) -> None:
    assert example.edition().year == 2030  # the latest complete USTR edition
    assert load_markets().edition().year == 2021


def test_corrections_new_hosts_and_replaced_listings(tmp_path: Path) -> None:
    body = (
        '- id: "dhgate"\n'
        '  country: "Utopia"\n'  # line 8: a correction
        '  hosts: ["dhgate.example"]\n'  # line 9: added to the bundled hosts
        "  basis:\n"
        '    country: "A fictional correction for the test."\n'
        "  listings:\n"
        '    ustr-nml 2023: {status: "unknown", sources: "fiction-2031", confidence: "low"}\n'
    )
    path = write(tmp_path, body)
    data = load_markets(overlays=[path])
    dhgate = data.markets["dhgate"]
    assert dhgate.country == "Utopia"
    assert dhgate.hosts == ("dhgate.com", "dhgate.example")  # lists gain, nothing lost
    assert "m.dhgate.com" in dhgate.alias_hosts
    assert dhgate.basis["country"] == "A fictional correction for the test."
    assert "hosts" in dhgate.basis  # other basis notes stay
    listing = dhgate.listing("ustr-nml", 2023)
    assert (listing.status, listing.sources, listing.confidence) == (
        "unknown",
        ("fiction-2031",),
        "low",
    )
    origin = data.origin(dhgate)
    assert origin is not None
    name = str(path)
    assert str(origin.fields["country"]) == f"{name}:8:12"
    assert str(origin.hosts["dhgate.example"]) == f"{name}:9:11"
    assert origin.hosts["dhgate.com"].path == BUNDLED
    assert str(origin.listings[("ustr-nml", 2023)]) == f"{name}:13:5"
    assert origin.listings[("ustr-nml", 2022)].path == BUNDLED
    assert origin.fields["kind"].path == BUNDLED and origin.defined.path == BUNDLED


def test_overlays_merge_in_order_later_wins(tmp_path: Path) -> None:
    first = write(tmp_path, SHOP, name="a.yaml")
    second = write(
        tmp_path,
        '- id: "shop"\n  kind: "b2b"\n',
        head="overlay: 1\nmarkets:\n",
        name="b.yaml",
    )
    data = load_markets(overlays=[first, second])
    assert data.markets["shop"].kind == "b2b"
    origin = data.origin(data.markets["shop"])
    assert origin is not None
    assert str(origin.fields["kind"]) == f"{second}:4:9"
    assert str(origin.fields["name"]) == f"{first}:8:9"
    edition = data.edition("ustr-nml", 2031, warn=False)
    assert str(data.origin(edition).defined) == f"{first}:5:3"  # type: ignore[union-attr]


def test_a_complete_base_then_overlays(tmp_path: Path) -> None:
    base = REPO / "tests" / "data" / "markets_min.yaml"
    (tmp_path / "markets.yaml").write_bytes(base.read_bytes())
    (tmp_path / "sources.yaml").write_bytes((base.parent / "markets_sources.yaml").read_bytes())
    overlay = write(
        tmp_path,
        '- id: "locker"\n  listings:\n'
        '    ustr-nml 2021: {status: "continuing", sources: "src-b"}\n',
        head="overlay: 1\nmarkets:\n",
    )
    data = resolve_data([tmp_path / "markets.yaml", overlay])
    assert set(data.markets) == {"shop", "locker", "sibling", "bazaar-town"}  # no bundled data
    assert data.markets["locker"].listed_years("ustr-nml") == (2020, 2021)


def test_loads_are_cached_until_a_file_changes(tmp_path: Path) -> None:
    path = write(tmp_path, SHOP)
    first = load_markets(overlays=[path])
    assert load_markets(overlays=[path]) is first
    path.write_text(HEAD + SHOP.replace('"Shop"', '"Shop Two"'), encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a different modification time, whatever the clock
    assert load_markets(overlays=[path]).markets["shop"].name == "Shop Two"


def test_merged_data_and_its_screener_pickle(example: MarketData) -> None:
    back = pickle.loads(pickle.dumps(example))
    assert back.markets == example.markets and back.files == example.files
    assert back.origin(back.markets["taobao"]) == example.origin(example.markets["taobao"])
    screener = pickle.loads(pickle.dumps(Screener(data=example, year=2030)))
    assert screener.screen_url("https://shadow-bazaar.example/").listed


# ---- taking part like a bundled edition -------------------------------------------------------
def test_overlay_edition_in_year_diff_and_history(example: MarketData) -> None:
    diff = example.diff(example.edition(year=2021), example.edition("ustr-nml", 2030))
    added = {m.id for m in diff.added if not m.physical}
    assert added == {"shadow-bazaar", "phantom-locker"}
    assert {m.id for m in diff.continuing} == {"taobao", "the-pirate-bay", "dhgate"}
    assert "aliexpress" in {m.id for m in diff.removed}
    assert diff.complete  # both online lists complete
    history = example.history("taobao")
    assert [(x.list, x.year) for x in history][-1] == ("ustr-nml", 2030)


def test_overlay_edition_in_listed_years_and_the_rules(example: MarketData) -> None:
    screener = Screener(data=example, year=2030)
    new = screener.screen_url("https://m.shadow-bazaar.example/item/1")
    assert (new.market.id, new.listed, new.listing_status) == ("shadow-bazaar", True, "new")  # type: ignore[union-attr]
    assert new.listed_years == (2030,)
    assert "listed-new" in {r.rule_id for r in new.reasons}
    old = screener.screen_url("https://item.taobao.com/item.htm?id=1")
    assert old.listed_years == (2019, 2020, 2021, 2022, 2023, 2024, 2030)
    persistent = next(r for r in old.reasons if r.rule_id == "listed-persistent")
    assert "7 editions" in persistent.message
    assert "listed-new" not in {r.rule_id for r in old.reasons}  # continuing on 2030
    frame = screener.screen_frame(
        pd.DataFrame({"url": ["https://item.taobao.com/x", "https://phantom-locker.example/f"]})
    )
    assert list(frame["ns_listed_years"]) == ["2019,2020,2021,2022,2023,2024,2030", "2030"]
    assert list(frame["ns_edition"]) == ["ustr-nml-2030"] * 2
    assert list(frame["ns_edition_complete"]) == [True, True]


def test_every_result_says_whether_its_edition_is_complete() -> None:
    for year, complete in ((2021, True), (2024, False)):
        screener = Screener(year=year) if complete else _quiet(year)
        frame = screener.screen_frame(pd.DataFrame({"url": ["https://taobao.com/"]}))
        assert frame["ns_edition_complete"].tolist() == [complete]
        assert screener.screen_url("https://taobao.com/").edition.complete is complete


def _quiet(year: int) -> Screener:
    import warnings

    from notorious_screen.markets import IncompleteEditionWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IncompleteEditionWarning)
        return Screener(year=year)


def test_the_environment_names_the_default_overlays(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other = write(tmp_path, SHOP)
    monkeypatch.setenv("NOTORIOUS_SCREEN_DATA", os.pathsep.join([str(EXAMPLE), str(other)]))
    data = Screener(year=2030).data
    assert {"shadow-bazaar", "shop"} <= set(data.markets)
    assert resolve_data().files == (BUNDLED, str(EXAMPLE), str(other))
    # Data given explicitly is used instead of the environment's.
    assert "shop" not in Screener(data=[EXAMPLE], year=2030).data.markets
    monkeypatch.setenv("NOTORIOUS_SCREEN_DATA", "")
    assert resolve_data() is load_markets()


# ---- errors, each at its place ----------------------------------------------------------------
def test_unknown_section_with_did_you_mean(tmp_path: Path) -> None:
    err = error(tmp_path, "", head="overlay: 1\neditons: []\n")
    assert err == "o.yaml:2:1: unknown key 'editons' in overlay file; did you mean 'editions'?"


def test_overlay_header(tmp_path: Path) -> None:
    assert error(tmp_path, "", head="markets: []\n") == (
        "o.yaml:1:1: overlay file is missing key 'overlay'"
    )
    assert error(tmp_path, "", head="overlay: 2\n") == (
        "o.yaml:1:10: unsupported overlay version 2; this version reads overlay: 1"
    )
    assert error(tmp_path, "", head="schema: 1\neditions: []\nmarkets: []\n").startswith(
        "o.yaml:1:1: this is a complete knowledge base (schema: 1), not an overlay: give it first"
    )


def test_a_csv_edition_given_as_an_overlay(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("list,year,name\nustr-nml,2031,X\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_markets(overlays=[path])
    assert str(info.value) == (
        f"{path}:1:1: a CSV edition is not an overlay: turn it into one with "
        f"'notorious-screen markets import {path} -o OVERLAY.yaml'"
    )


def test_an_overlay_given_as_the_base(tmp_path: Path) -> None:
    path = write(tmp_path, SHOP)
    (tmp_path / "sources.yaml").write_text("sources: {}\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_markets(path)
    assert (
        str(info.value)
        .replace(str(tmp_path) + "/", "")
        .startswith("o.yaml:1:1: this is an overlay (overlay: 1), not a complete knowledge base")
    )


def test_host_claimed_by_a_bundled_market(tmp_path: Path) -> None:
    err = error(tmp_path, SHOP.replace('["shop.example"]', '["shop.example", "taobao.com"]'))
    assert err == (
        "o.yaml:10:27: host 'taobao.com' is already claimed by market 'taobao' "
        f"({bundled_line('taobao', host='taobao.com')})"
    )


def test_host_added_to_a_bundled_market_that_another_has(tmp_path: Path) -> None:
    # aliexpress comes before taobao in the data: the error still points into the overlay.
    err = error(tmp_path, '- id: "aliexpress"\n  alias_hosts: ["taobao.com"]\n')
    assert err == (
        "o.yaml:8:17: host 'taobao.com' is already claimed by market 'taobao' "
        f"({bundled_line('taobao', host='taobao.com')})"
    )


def test_host_that_is_an_owners(tmp_path: Path) -> None:
    err = error(tmp_path, SHOP.replace('["shop.example"]', '["qq.com"]'))
    assert err.startswith("o.yaml:10:11: host 'qq.com' is already claimed by 'owner tencent' (")


def test_unknown_owner_kind_and_key_with_did_you_mean(tmp_path: Path) -> None:
    err = error(tmp_path, SHOP + '  owner: "alibabba"\n')
    assert err == "o.yaml:13:10: unknown owner 'alibabba'; did you mean 'alibaba'?"
    err = error(tmp_path, SHOP.replace('"e-commerce"', '"ecommerce"'))
    assert err.startswith("o.yaml:9:9: unknown kind 'ecommerce'; did you mean 'e-commerce'? (")
    err = error(tmp_path, '- id: "taobao"\n  hostz: ["taobao.example"]\n')
    assert err == "o.yaml:8:3: unknown key 'hostz' in market; did you mean 'hosts'?"


def test_new_market_without_name(tmp_path: Path) -> None:
    err = error(tmp_path, '- id: "shop"\n  kind: "e-commerce"\n')
    assert err == "o.yaml:7:3: market is missing key 'name'"


def test_listing_of_an_edition_nobody_defines(tmp_path: Path) -> None:
    err = error(tmp_path, SHOP.replace("ustr-nml 2031", "ustr-nml 2032"))
    assert err == (
        "o.yaml:12:14: no ustr-nml edition for 2032 in 'editions' "
        "(known: 2019, 2020, 2021, 2022, 2023, 2024, 2025, 2031)"
    )
    err = error(tmp_path, SHOP.replace("ustr-nml 2031", "ustr 2031"))
    assert err.startswith("o.yaml:12:5: unknown list 'ustr'; did you mean 'ustr-nml'?")


def test_edition_list_and_year_checked_in_the_overlay(tmp_path: Path) -> None:
    err = error(tmp_path, "", head=HEAD.replace('"ustr-nml", year: 2031', '"ustrnml", year: 2031'))
    assert err.startswith("o.yaml:5:10: unknown list 'ustrnml'; did you mean 'ustr-nml'?")
    err = error(tmp_path, "", head=HEAD.replace("year: 2031", "year: 20310"))
    assert err == "o.yaml:5:28: bad year 20310: expected a year such as 2021"


def test_duplicate_entries_in_one_overlay(tmp_path: Path) -> None:
    err = error(tmp_path, SHOP + SHOP)
    assert err == "o.yaml:13:3: duplicate market 'shop' in this overlay (first at line 7)"
    head = HEAD + '- {list: "ustr-nml", year: 2031}\n'
    err = error(tmp_path, "", head=head.replace("markets:\n", "") + "markets:\n")
    assert err == "o.yaml:6:3: duplicate edition ustr-nml 2031 in this overlay (first at line 5)"


def test_bad_ids(tmp_path: Path) -> None:
    err = error(tmp_path, SHOP.replace('id: "shop"', 'id: "Shop!"'))
    assert err == "o.yaml:7:7: invalid market id 'Shop!': use lowercase letters, digits and hyphens"


def test_sources_unknown_and_redefined(tmp_path: Path) -> None:
    err = error(tmp_path, SHOP.replace('sources: "fiction-2031"', 'sources: "fiction-2013"'))
    assert err == "o.yaml:12:46: unknown source 'fiction-2013'; did you mean 'fiction-2031'?"
    head = HEAD.replace(
        "  fiction-2031:", '  sicpa-2019: {title: "Another title"}\n  fiction-2031:'
    )
    err = error(tmp_path, SHOP, head=head)
    assert err.startswith(
        "o.yaml:3:3: source 'sicpa-2019' is already defined differently "
        "(notorious_screen/data/sources.yaml:"
    )


def test_more_listings_than_the_official_count(tmp_path: Path) -> None:
    body = (
        '- id: "mega"\n  listings:\n'
        '    ustr-nml 2021: {status: "unknown", sources: "fiction-2031"}\n'
    )
    err = error(tmp_path, body)
    official = load_markets().origin(load_markets().edition())
    assert official is not None
    line = official.fields["online_official"].line
    assert err == (
        "o.yaml:9:5: 43 online markets list USTR NML 2021 but its online_official is 42 "
        f"({BUNDLED}:{line})"
    )


def test_complete_is_an_assertion_checked_against_the_counts(tmp_path: Path) -> None:
    head = HEAD + '- {list: "ustr-nml", year: 2024, complete: true}\n'
    err = error(tmp_path, "", head=head.replace("markets:\n", "") + "markets:\n")
    assert err == (
        "o.yaml:6:44: USTR NML 2024 is marked complete but 19 of 38 online markets are listed"
    )
    head = HEAD.replace("online_official: 3}", "online_official: 1, complete: false}")
    err = error(tmp_path, SHOP, head=head)
    assert err.startswith("o.yaml:5:64: USTR NML 2031 is marked incomplete but all 1 of its")


def test_readme_correction_overlay(tmp_path: Path) -> None:
    """README's hand-written overlay loads on top of the example and does what it says."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", readme, flags=re.S) if "fix.yaml" in b]
    fix = tmp_path / "fix.yaml"
    fix.write_text(block, encoding="utf-8")
    data = load_markets(overlays=[EXAMPLE, fix])
    locker = data.markets["phantom-locker"]
    assert locker.country == "Atlantis"
    assert locker.hosts == ("phantom-locker.example", "phantom-cdn.example")
    listing = locker.listing("ustr-nml", 2030)
    assert (listing.status, listing.confidence, listing.sources) == (
        "returning",
        "medium",
        ("our-review-2030",),
    )
