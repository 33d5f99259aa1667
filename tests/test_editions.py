"""CSV editions: every validation error with its path:line:col (and a did-you-mean where one
helps), recognition of known markets, and the shipped example that cannot rot."""

from __future__ import annotations

from pathlib import Path

import pytest

from notorious_screen._yaml import load_yaml
from notorious_screen.editions import import_edition
from notorious_screen.errors import DataError
from notorious_screen.markets import load_markets

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
HEADER = "list,year,name,kind,country,hosts,owner,status,source_title,source_url"
ROW = (
    "ustr-nml,2031,Test Shop,e-commerce,Utopia,test-shop.example,,new,Fiction,https://example.org/f"
)
#     1        10   15        25         36     43                61 62  66      74 (96 next)


def write(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "e.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def error(tmp_path: Path, *rows: str, header: str = HEADER) -> str:
    path = write(tmp_path, *rows, header=header)
    with pytest.raises(DataError) as info:
        import_edition(path)
    return str(info.value).replace(str(tmp_path) + "/", "")


def row(**cells: str) -> str:
    """ROW with some cells replaced, by column name."""
    values = dict(zip(HEADER.split(","), ROW.split(","), strict=True))
    values.update(cells)
    return ",".join(values.values())


# ---- the shipped example ----------------------------------------------------------------------
def test_the_example_overlay_is_what_importing_the_example_csv_makes() -> None:
    imported = import_edition(EXAMPLES / "edition-2030.csv")
    assert imported.to_yaml() == (EXAMPLES / "edition-2030.yaml").read_text(encoding="utf-8")
    assert imported.recognised == {
        "taobao": "by host taobao.com (line 2)",
        "the-pirate-bay": "by name 'THE PIRATE BAY' (line 3)",
        "dhgate": "by name 'DUNHUANG.COM' (line 4)",  # a name variant of DHgate
    }
    assert imported.new_markets == ("shadow-bazaar", "phantom-locker", "mirage-night-market")
    assert imported.editions == (("ustr-nml", 2030),)


def test_the_example_is_clearly_fictional() -> None:
    doc = load_yaml((EXAMPLES / "edition-2030.yaml").read_text(encoding="utf-8"))
    assert all("FICTIONAL" in s["title"] for s in doc["sources"].values())
    assert doc["editions"][0]["year"] == 2030
    for market in doc["markets"]:
        assert all(h.endswith(".example") for h in market.get("hosts", []))  # reserved TLD


# ---- recognition and corrections --------------------------------------------------------------
def test_known_markets_by_host_name_alias_and_id(tmp_path: Path) -> None:
    header = HEADER + ",aliases,id"
    rows = [
        row(name="Taobao Marketplace", kind="", country="", hosts="m.tb.cn") + ",,",
        row(name="ALIEXPRESS", kind="", country="", hosts="") + ",,",
        row(name="The Bay", kind="", country="", hosts="") + ",TPB; the pirate bay,",
        row(name="Shop of Mine", kind="", country="", hosts="") + ",,dhgate",
    ]
    imported = import_edition(write(tmp_path, *rows, header=header))
    assert imported.recognised == {
        "taobao": "by host m.tb.cn (line 2)",
        "aliexpress": "by name 'ALIEXPRESS' (line 3)",
        "the-pirate-bay": "by name 'the pirate bay' (line 4)",  # an alias
        "dhgate": "by its id (line 5)",
    }
    markets = {m["id"]: m for m in imported.document["markets"]}
    assert markets["taobao"]["listings"]["ustr-nml 2031"]["listed_as"] == "Taobao Marketplace"
    assert "name" not in markets["taobao"]  # a known market keeps its name
    assert markets["the-pirate-bay"]["names"] == ["TPB"]  # the new alias only


def test_rows_added_to_a_bundled_edition_with_corrections(tmp_path: Path) -> None:
    header = HEADER + ",official_online"
    rows = [
        row(year="2025", name="Test Shop") + ",38",
        row(year="2025", name="DHGATE", kind="b2b", country="China", hosts="dhgate.example")
        + ",38",
    ]
    imported = import_edition(write(tmp_path, *rows, header=header))
    notes = [n.replace(str(tmp_path) + "/", "") for n in imported.notes]
    assert notes == [
        "e.csv:2: corrects online_official of USTR NML 2025: 37 -> 38",
        "e.csv:3: adds hosts to 'dhgate': dhgate.example",
    ]
    out = tmp_path / "o.yaml"
    out.write_text(imported.to_yaml(), encoding="utf-8")
    data = load_markets(overlays=[out])
    ed = data.edition("ustr-nml", 2025, warn=False)
    assert (ed.online_captured, ed.online_official) == (8, 38)  # 6 bundled + 2
    assert data.markets["dhgate"].hosts == ("dhgate.com", "dhgate.example")


def test_a_correction_of_a_known_market_is_said(tmp_path: Path) -> None:
    imported = import_edition(write(tmp_path, row(name="Taobao", kind="b2b", hosts="")))
    assert [n.replace(str(tmp_path) + "/", "") for n in imported.notes] == [
        "e.csv:2: corrects kind of 'taobao': 'e-commerce' -> 'b2b'",
        "e.csv:2: corrects country of 'taobao': 'China' -> 'Utopia'",
    ]


def test_one_new_market_across_editions(tmp_path: Path) -> None:
    imported = import_edition(write(tmp_path, ROW, row(year="2032", hosts="")))
    (market,) = imported.document["markets"]
    assert set(market["listings"]) == {"ustr-nml 2031", "ustr-nml 2032"}
    assert market["hosts"] == ["test-shop.example"]
    # Named by an id on one row and by its name on the next: still one market.
    path = write(
        tmp_path, ROW + ",my-shop", row(year="2032", hosts="") + ",", header=HEADER + ",id"
    )
    (market,) = import_edition(path).document["markets"]
    assert market["id"] == "my-shop" and len(market["listings"]) == 2


# ---- errors, each at its place ----------------------------------------------------------------
def test_unknown_and_missing_columns(tmp_path: Path) -> None:
    err = error(tmp_path, ROW, header=HEADER.replace("hosts", "hostz"))
    assert err.startswith("e.csv:1:29: unknown column 'hostz'; did you mean 'hosts'? (columns: ")
    err = error(tmp_path, ROW, header=HEADER.replace(",status", ""))
    assert err == (
        "e.csv:1:1: missing column 'status' (the header needs: list, year, name, kind, country, "
        "hosts, owner, status, source_title, source_url)"
    )
    err = error(tmp_path, ROW + ",x", header=HEADER + ",Name")
    assert err == "e.csv:1:72: column 'name' appears twice"


def test_ragged_rows_and_quotes(tmp_path: Path) -> None:
    assert error(tmp_path, ROW + ",extra") == (
        "e.csv:2:1: expected 10 fields (as in the header), got 11"
    )
    assert error(tmp_path, row(name='Test "Shop"')) == (
        'e.csv:2:20: a quote inside an unquoted field: quote the whole field ("...") and double '
        'the quote ("")'
    )
    assert error(tmp_path, row(name='"Test Shop')) == "e.csv:2:15: a quoted field is not closed"
    assert error(tmp_path, row(name='"Test" Shop')).startswith("e.csv:2:21: text after a closing")


def test_quoted_fields_are_located_inside_their_quotes(tmp_path: Path) -> None:
    err = error(tmp_path, row(name='"Shop, ""the"" Best"', kind="ecommerce"))
    # The name takes 20 characters from column 15, so kind starts at column 36.
    assert err.startswith("e.csv:2:36: unknown kind 'ecommerce'; did you mean 'e-commerce'?")
    imported = import_edition(write(tmp_path, row(name='"Shop, ""the"" Best"')))
    assert imported.document["markets"][0]["name"] == 'Shop, "the" Best'


def test_list_year_and_name(tmp_path: Path) -> None:
    assert error(tmp_path, row(list="ustr")) == (
        "e.csv:2:1: unknown list 'ustr'; did you mean 'ustr-nml'? (expected one of: ustr-nml, "
        "eu-cpwl)"
    )
    assert error(tmp_path, row(year="20310")) == (
        "e.csv:2:10: bad year '20310': expected a year such as 2030"
    )
    assert error(tmp_path, row(name=" ")) == (
        "e.csv:2:15: 'name' is empty: write the market's name as the list prints it"
    )


def test_kind_status_and_confidence(tmp_path: Path) -> None:
    assert error(tmp_path, row(kind="ecommerce")).startswith(
        "e.csv:2:25: unknown kind 'ecommerce'; did you mean 'e-commerce'? (expected one of: "
    )
    assert error(tmp_path, row(status="continueing")) == (
        "e.csv:2:62: unknown status 'continueing'; did you mean 'continuing'? (expected one of: "
        "new, continuing, returning, unknown)"
    )
    err = error(tmp_path, ROW + ",hihg", header=HEADER + ",confidence")
    assert err == (
        "e.csv:2:96: unknown confidence 'hihg'; did you mean 'high'? (expected one of: high, "
        "medium, low)"
    )
    assert error(tmp_path, row(kind="")).startswith(
        "e.csv:2:25: 'kind' is empty: 'Test Shop' is a new market (not in the data), so its kind "
        "is needed (one of: e-commerce,"
    )


def test_physical_and_kind_must_agree(tmp_path: Path) -> None:
    err = error(tmp_path, ROW + ",yes", header=HEADER + ",physical")
    assert err == "e.csv:2:96: 'physical' is 'yes' but kind is 'e-commerce'"
    err = error(tmp_path, ROW + ",maybe", header=HEADER + ",physical")
    assert err == "e.csv:2:96: 'physical' must be yes or no, not 'maybe'"
    imported = import_edition(write(tmp_path, row(kind="") + ",yes", header=HEADER + ",physical"))
    assert imported.document["markets"][0]["kind"] == "physical"


def test_unknown_owner_with_did_you_mean(tmp_path: Path) -> None:
    err = error(tmp_path, row(owner="Alibabba Group"))
    assert err.startswith(
        "e.csv:2:61: unknown owner 'Alibabba Group'; did you mean 'alibaba'? (known: alibaba, "
    )
    imported = import_edition(write(tmp_path, row(owner="alibaba group")))  # a name works too
    assert imported.document["markets"][0]["owner"] == "alibaba"


def test_hosts_each_located_at_its_word(tmp_path: Path) -> None:
    err = error(tmp_path, row(hosts="test-shop.example; https://m.test-shop.example/shop"))
    assert err == (
        "e.csv:2:62: invalid host 'https://m.test-shop.example/shop': write the host name only, "
        "e.g. 'm.test-shop.example'"
    )
    err = error(tmp_path, row(hosts="test-shop.example bücher.example"))
    assert err == (
        "e.csv:2:61: invalid host 'bücher.example': write a host name such as 'shop.example' "
        "(in ASCII: 'xn--bcher-kva.example')"
    )


def test_host_claimed_by_a_bundled_market(tmp_path: Path) -> None:
    data = load_markets()
    origin = data.origin(data.markets["taobao"])
    assert origin is not None
    err = error(tmp_path, row(hosts="test-shop.example taobao.com") + ",test-shop",
                header=HEADER + ",id")  # fmt: skip
    assert err == (
        "e.csv:2:61: host 'taobao.com' is already claimed by market 'taobao' "
        f"({origin.hosts['taobao.com']})"
    )


def test_host_claimed_by_two_rows(tmp_path: Path) -> None:
    err = error(tmp_path, ROW, row(name="Other Shop", hosts="other.example test-shop.example"))
    assert err == "e.csv:3:58: host 'test-shop.example' is already claimed by 'Test Shop' (line 2)"


def test_host_of_an_owner(tmp_path: Path) -> None:
    err = error(tmp_path, row(hosts="qq.com"))
    assert err == "e.csv:2:43: host 'qq.com' is a corporate host of owner 'tencent', not a market's"


def test_a_row_naming_two_known_markets(tmp_path: Path) -> None:
    err = error(tmp_path, row(name="Taobao", hosts="dhgate.com"))
    assert err == (
        "e.csv:2:15: this row names two markets of the data: 'dhgate' (by host dhgate.com) and "
        "'taobao' (by name 'Taobao'); one row is one market"
    )


def test_a_known_market_under_another_name_gets_its_id_proposed(tmp_path: Path) -> None:
    err = error(tmp_path, row(name="Taobaoo", hosts=""))
    assert err == (
        "e.csv:2:15: 'Taobaoo' is not a known name, but looks like market 'taobao' (Taobao): if "
        "it is that market, add an 'id' column and write 'taobao'; if it is another market, give "
        "it an id of its own there"
    )
    imported = import_edition(write(tmp_path, row(name="Taobaoo", hosts="") + ",taobaoo-shop",
                                    header=HEADER + ",id"))  # fmt: skip
    assert imported.new_markets == ("taobaoo-shop",)


def test_invalid_id(tmp_path: Path) -> None:
    err = error(tmp_path, ROW + ",Test Shop!", header=HEADER + ",id")
    assert err == "e.csv:2:96: invalid id 'Test Shop!': use lowercase letters, digits and hyphens"


def test_a_market_listed_twice_on_one_edition(tmp_path: Path) -> None:
    err = error(tmp_path, ROW, row(hosts=""))
    assert err == "e.csv:3:15: 'Test Shop' is already listed on USTR NML 2031 (line 2)"


def test_edition_values_agree_across_rows(tmp_path: Path) -> None:
    header = HEADER + ",official_online"
    err = error(tmp_path, ROW + ",2", row(name="Other", hosts="") + ",3", header=header)
    assert err == ("e.csv:3:75: official_online is 3 here but 2 on line 2 (one edition, one value)")
    err = error(tmp_path, ROW + ",two", header=header)
    assert err == "e.csv:2:96: 'two' is not a count (a whole number >= 0)"
    err = error(tmp_path, ROW + ",31/1/2031", header=HEADER + ",released")
    assert err == "e.csv:2:96: 'released' must be a date such as 2030-01-31, not '31/1/2031'"


def test_more_markets_than_the_official_count(tmp_path: Path) -> None:
    header = HEADER + ",official_online"
    err = error(tmp_path, ROW + ",1", row(name="Other", hosts="") + ",1", header=header)
    assert (
        err == "e.csv:3:1: 2 online markets list USTR NML 2031 but its official online count is 1"
    )
    # Against a bundled edition, its own markets count too: 2025 has 6 of 37.
    rows = [row(year="2025", name=f"Shop {i}", hosts="") for i in range(32)]
    err = error(tmp_path, *rows)
    assert (
        err
        == "e.csv:33:1: 38 online markets list USTR NML 2025 but its official online count is 37"
    )


def test_source_title_is_required(tmp_path: Path) -> None:
    assert error(tmp_path, row(source_title="")) == (
        "e.csv:2:66: 'source_title' is empty: every listing needs a source"
    )


def test_encoding_and_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes((HEADER + "\n" + row(name="Caf\xe9")).encode("latin-1"))
    with pytest.raises(DataError) as info:
        import_edition(path)
    assert str(info.value) == f"{path}:2:18: not valid UTF-8: save the CSV as UTF-8"
    path.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match=r"e\.csv:1:1: empty file: expected a header line"):
        import_edition(path)
    path.write_text(HEADER + "\n\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"e\.csv:2:1: no rows after the header"):
        import_edition(path)
    with pytest.raises(DataError, match="cannot read file"):
        import_edition(tmp_path / "missing.csv")


def test_a_bom_and_crlf_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + "\r\n" + ROW + "\r\n").encode("utf-8"))
    assert import_edition(path).new_markets == ("test-shop",)


def test_a_host_under_another_markets_host_is_noted(tmp_path: Path) -> None:
    imported = import_edition(write(tmp_path, row(hosts="shop1.taobao.com")))
    assert [n.replace(str(tmp_path) + "/", "") for n in imported.notes] == [
        "e.csv:2: host 'shop1.taobao.com' sits under 'taobao.com' of market 'taobao': it becomes "
        "'test-shop''s (the most specific host wins)"
    ]
    # A known market's host under its own hosts adds nothing.
    imported = import_edition(write(tmp_path, row(name="Taobao", kind="", country="",
                                                  hosts="shop1.taobao.com")))  # fmt: skip
    assert "hosts" not in imported.document["markets"][0] and imported.notes == ()
