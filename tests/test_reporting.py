"""The analyst's report: figures from any screened table, streamed; a page that is inert text."""

from __future__ import annotations

import dataclasses
import html.parser
import json
import random
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import notorious_screen as ns
from notorious_screen import reporting
from notorious_screen.cli import main
from notorious_screen.reporting import NO_TIER, ReportBuilder, _Distinct, _hash_texts

REPO = Path(__file__).resolve().parents[1]
SELLERS = REPO / "examples" / "sellers.csv"
HOSTILE = '<script>alert("x")</script>'
IMG = '"><img src=x onerror=alert(1)>'


def _planned(rows: int = 400, seed: int = 3) -> pd.DataFrame:
    """A screened frame with the planned columns (ns_seller, ns_imitates, ns_host, ns_rules...)."""
    rng = random.Random(seed)
    markets = [
        ("taobao", "Taobao", "Alibaba Group", True),
        ("aliexpress", "AliExpress", "Alibaba Group", True),
        ("dhgate", "DHgate", "DHgate.com Inc.", True),
        ("tmall", "Tmall", "Alibaba Group", False),
        ("silk-market", "Silk Market", None, True),
    ]
    out = []
    for i in range(rows):
        kind = rng.random()
        seller = rng.choice(["Shop A", "Shop B", "潮流服饰旗舰店", HOSTILE, "Shop C", ""])
        row: dict[str, object] = {
            "url": f"https://host{i % 37}.example/item/{i}",
            "ns_seller": f"m:{seller}" if seller else None,
            "ns_host": f"host{i % 37}.example",
            "ns_imitates": None,
            "ns_imitates_market": None,
            "ns_market": None,
            "ns_market_id": None,
            "ns_owner": None,
            "ns_listed": False,
            "ns_match": "none",
            "ns_variant": None,
            "ns_similarity": 0.0,
            "ns_error": None,
            "ns_rules": "default",
            "ns_rules_hash": "7e099e3cb7fc",
            "ns_edition": "ustr-nml-2021",
        }
        if kind < 0.5:
            mid, name, owner, listed = rng.choice(markets)
            row.update(
                ns_market=name, ns_market_id=mid, ns_owner=owner, ns_listed=listed,
                ns_match=rng.choice(["exact", "subdomain", "alias"]), ns_similarity=100.0,
            )  # fmt: skip
        elif kind < 0.65:
            imitated = rng.choice(["aliexpress.com", "taobao.com"])
            host = rng.choice(["a1iexpress.com", "taobaos.com", "aliexpres.com"])
            row.update(
                url=f"https://{host}/item/{i}", ns_host=host, ns_imitates=imitated,
                ns_imitates_market="AliExpress" if "ali" in imitated else "Taobao",
                ns_listed=True, ns_match="variant", ns_variant="homoglyph", ns_similarity=90.0,
            )  # fmt: skip
        elif kind < 0.7:
            row.update(url="javascript:alert(1)", ns_host=None, ns_error="unsupported_scheme")
        score = (
            70 + rng.randrange(0, 20)
            if row["ns_listed"] and row["ns_match"] != "none"
            else rng.choice([0, 20, 45])
        )
        row["ns_score"] = score
        row["ns_tier"] = (
            "high" if score >= 70 else "medium" if score >= 40 else "low" if score >= 10 else None
        )
        row["ns_reasons"] = f"rule-{score} (+{score})" if score else None
        out.append(row)
    return pd.DataFrame(out)


def _figures(report: ns.Report) -> dict[str, object]:
    """Everything but the clock."""
    return {
        f.name: getattr(report, f.name) for f in dataclasses.fields(report) if f.name != "generated"
    }


# ---- figures -------------------------------------------------------------------------------
def test_counts_agree_with_pandas_on_a_frame_with_the_planned_columns() -> None:
    df = _planned()
    r = ns.report(df)
    assert r.rows == len(df)
    assert r.seller_column == "ns_seller"  # picked up without being asked
    direct = df[df.ns_match != "variant"]
    expected = direct.ns_market.dropna().value_counts().to_dict()
    assert {t.label: t.rows for t in r.markets} == expected
    sellers = (
        direct.dropna(subset=["ns_market", "ns_seller"]).groupby("ns_market").ns_seller.nunique()
    )
    assert {t.label: t.sellers for t in r.markets} == sellers.to_dict()
    assert {t.label: t.rows for t in r.owners} == direct.ns_owner.dropna().value_counts().to_dict()
    tiers = df.ns_tier.fillna(NO_TIER).value_counts().to_dict()
    assert {t.label: t.rows for t in r.tiers} == tiers
    assert [t.label for t in r.tiers] == ["high", "medium", "low", NO_TIER][: len(tiers)]
    assert r.sellers.sellers == df.ns_seller.dropna().nunique()
    status = {t.label: t.rows for t in r.statuses}
    assert status["lookalike"] == (df.ns_match == "variant").sum()
    # a row whose URL was unusable but whose name decided counts as what it was found to be
    assert status["unusable"] == (df.ns_error.notna() & (df.ns_match == "none")).sum()
    assert status["listed"] == (df.ns_listed & (df.ns_match != "variant")).sum()
    assert sum(status.values()) == len(df)
    assert r.scores == tuple(
        np.bincount(np.minimum(df.ns_score.to_numpy() // 10, 9), minlength=10).tolist()
    )
    # Countries come from the market data: Silk Market is in China, like Taobao.
    china = direct[
        direct.ns_market_id.isin(["taobao", "aliexpress", "dhgate", "tmall", "silk-market"])
    ]
    assert {t.label: t.rows for t in r.countries}["China"] == len(china)


def test_lookalikes_use_ns_imitates_and_ns_host_when_present() -> None:
    df = _planned()
    r = ns.report(df)
    variants = df[df.ns_match == "variant"]
    expected = variants.groupby(["ns_host", "ns_imitates", "ns_imitates_market"]).size().to_dict()
    got = {(x.host, x.imitates, x.market): x.rows for x in r.lookalikes}
    assert got == expected
    assert "imitated hosts" not in r.missing and "lookalike hosts" not in r.missing
    # Lookalikes are never counted as rows "on" the market they imitate.
    assert (
        sum(t.rows for t in r.markets) == (df.ns_market.notna() & (df.ns_match != "variant")).sum()
    )


def test_top_sellers_rank_by_worst_score_and_keep_their_worst_listings() -> None:
    df = _planned()
    r = ns.report(df)
    per = df.dropna(subset=["ns_seller"]).groupby("ns_seller")
    worst = per.ns_score.max()
    rows = per.size()
    flagged = per.ns_tier.count()
    ranked = sorted(worst.index, key=lambda s: (-worst[s], -flagged[s], -rows[s], s))
    assert [s.seller for s in r.top_sellers] == ranked[: len(r.top_sellers)]
    for s in r.top_sellers:
        assert (s.rows, s.flagged, s.worst_score) == (
            rows[s.seller],
            flagged[s.seller],
            worst[s.seller],
        )
        mine = df[df.ns_seller == s.seller].reset_index()
        mine["row"] = mine["index"] + 1
        best = mine.sort_values(["ns_score", "row"], ascending=[False, True]).head(3)
        assert [x.row for x in s.listings] == best.row.tolist()
        assert [x.url for x in s.listings] == best.url.tolist()


def test_aggregation_does_not_depend_on_the_chunk_size() -> None:
    df = _planned(rows=600, seed=11)
    whole = _figures(ns.report(df))
    for size in (1, 7, 64, 599):
        assert _figures(ns.report(df, chunksize=size)) == whole, size
    # Batches fed by hand, as a pandas pipeline would, give the same figures too.
    builder = ReportBuilder()
    for start in range(0, len(df), 50):
        builder.add(df.iloc[start : start + 50])
    assert _figures(builder.result()) | {"source": None} == whole | {"source": None}


def test_a_file_report_does_not_depend_on_the_chunk_size(tmp_path: Path) -> None:
    screened = tmp_path / "screened.csv"
    assert main(["screen", str(SELLERS), "--name-column", "seller_name", "-o", str(screened)]) == 0
    reports = [
        _figures(ns.report(screened, seller_column="seller_name", chunksize=size))
        for size in (3, 50, 100_000)
    ]
    assert reports[0] == reports[1] == reports[2]


def test_distinct_sellers_are_exact_then_estimated_and_order_free() -> None:
    hashes = np.unique(_hash_texts([f"seller {i}" for i in range(200_000)]))
    assert len(hashes) == 200_000
    small = _Distinct()
    small.add(hashes[:1000])
    small.add(hashes[500:1500])
    assert small.count() == 1500 and not small.estimated
    whole, parts = _Distinct(), _Distinct()
    whole.add(hashes)
    for chunk in np.array_split(hashes[::-1].copy(), 37):
        parts.add(np.sort(chunk))
    assert whole.estimated and parts.estimated
    assert whole.count() == parts.count()
    assert abs(whole.count() - len(hashes)) / len(hashes) < 0.03


def test_seller_table_is_bounded_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reporting, "MAX_SELLERS", 10)
    df = pd.DataFrame(
        {
            "url": [f"https://s{i}.example/" for i in range(60)],
            "ns_seller": [f"seller {i}" for i in range(60)],
            "ns_score": [i % 50 for i in range(60)],
            "ns_tier": [None] * 60,
            "ns_match": ["none"] * 60,
        }
    )
    r = ns.report(df, chunksize=20)
    assert not r.sellers_complete
    assert r.top_sellers[0].seller == "seller 49" and r.top_sellers[0].worst_score == 49
    assert r.sellers.sellers == 60  # counting sellers is not affected
    assert 'data-missing="sellers-bounded"' in r.html()


# ---- files that lack columns ---------------------------------------------------------------
def test_todays_columns_only(tmp_path: Path) -> None:
    """A file screened before ns_seller, ns_host and ns_imitates: the report says what it lacks."""
    screened = tmp_path / "screened.csv"
    assert main(["screen", str(SELLERS), "--name-column", "seller_name", "-o", str(screened)]) == 0
    df = pd.read_csv(screened, dtype=str, keep_default_na=False)
    r = ns.report(screened)
    assert r.seller_column is None and r.sellers.sellers is None
    assert "seller" in r.missing["sellers"] and "--seller-column" in r.missing["sellers"]
    assert "ns_imitates" in r.missing["imitated hosts"]
    assert "ns_rules" in r.missing["rule pack"]
    page = r.html()
    assert 'data-missing="sellers"' in page
    # Lookalike hosts come from the URL column; what they imitate from ns_market.
    variants = df[df.ns_match == "variant"]
    hosts = variants.url.map(lambda u: ns.normalize_url(u).host_unicode)
    assert {(x.host, x.market): x.rows for x in r.lookalikes} == (
        variants.assign(host=hosts).groupby(["host", "ns_market"]).size().to_dict()
    )
    assert {t.label: t.rows for t in r.screened_editions} == {"ustr-nml-2021": len(df)}
    # Here ns_market of a lookalike names the market it imitates: it is not a row on it.
    assert (variants.ns_market != "").all()
    direct = df[(df.ns_match != "variant") & (df.ns_market != "")]
    assert {t.label: t.rows for t in r.markets} == direct.ns_market.value_counts().to_dict()
    assert {t.label: t.rows for t in r.owners} == (
        df[(df.ns_match != "variant") & (df.ns_owner != "")].ns_owner.value_counts().to_dict()
    )


def test_a_frame_with_few_columns_still_reports() -> None:
    df = pd.DataFrame({"url": ["https://a.example/"] * 3, "ns_score": [0, 10, 70]})
    r = ns.report(df)
    assert r.rows == 3 and r.scores[0] == 1 and r.scores[7] == 1
    for section in ("markets", "owners", "countries", "tiers", "statuses", "lookalikes"):
        assert section in r.missing, section
    page = r.html()
    for section in ("markets", "owners", "countries", "tiers", "statuses", "lookalikes"):
        assert f'data-missing="{section}"' in page, section
    assert 'data-chart="scores"' in page and 'data-chart="markets"' not in page


def test_not_a_screened_table_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(SELLERS), "-o", str(tmp_path / "r.html")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no ns_* columns" in err and str(SELLERS) in err
    assert not (tmp_path / "r.html").exists()


def test_unknown_seller_column_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    screened = tmp_path / "s.csv"
    assert main(["screen", str(SELLERS), "-o", str(screened)]) == 0
    capsys.readouterr()
    assert (
        main(["report", str(screened), "--seller-column", "seller", "-o", str(tmp_path / "r")]) == 1
    )
    err = capsys.readouterr().err
    assert "seller column 'seller' not found" in err and "'seller_name'" in err


def test_a_hand_edited_score_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "url,ns_score,ns_match\nhttps://a.example/,70,none\nhttps://b.example/,lots,none\n"
    )
    assert main(["report", str(bad), "-o", str(tmp_path / "r.html")]) == 1
    assert "column ns_score holds 'lots', not a whole number" in capsys.readouterr().err


# ---- the page ------------------------------------------------------------------------------
class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_text_from_the_input_stays_text() -> None:
    df = _planned()
    df.loc[0, "url"] = f"https://x.example/{IMG}"
    df.loc[0, "ns_seller"] = IMG
    df.loc[0, "ns_score"] = 99
    page = ns.report(df).html(title=HOSTILE)
    parsed = _Tags()
    parsed.feed(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert not any(name.startswith("on") for name, _ in parsed.attrs)
    text = "".join(parsed.text)
    assert "m:" + HOSTILE in text and IMG in text and HOSTILE in text  # shown, as text
    assert 'http-equiv="Content-Security-Policy"' in page and "default-src 'none'" in page


def test_the_page_is_self_contained_and_printable() -> None:
    page = ns.report(_planned()).html()
    parsed = _Tags()
    parsed.feed(page)
    for name, value in parsed.attrs:
        if name in ("src", "href") and value:
            assert value.startswith("#"), (name, value)  # only in-page links
    assert "link" not in parsed.tags and "script" not in parsed.tags and "iframe" not in parsed.tags
    assert "@media print" in page and "@page" in page
    assert "url(" not in page.replace("url(#partial)", "")  # no fetched CSS resource


def test_report_writes_the_file_and_cli_agrees(tmp_path: Path) -> None:
    screened = tmp_path / "screened.parquet"
    assert main(["screen", str(SELLERS), "--name-column", "seller_name", "-o", str(screened)]) == 0
    api = ns.report(screened, tmp_path / "api.html", seller_column="seller_name")
    assert (tmp_path / "api.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    out = tmp_path / "cli.html"
    assert main(["report", str(screened), "--seller-column", "seller_name", "-o", str(out)]) == 0
    cli = out.read_text(encoding="utf-8")
    assert f"{api.rows:,} rows" in cli
    # The same figures from CSV: the format of the screened file does not matter.
    as_csv = tmp_path / "screened.csv"
    assert main(["screen", str(SELLERS), "--name-column", "seller_name", "-o", str(as_csv)]) == 0
    again = ns.report(as_csv, seller_column="seller_name")
    assert _figures(again) | {"source": ""} == _figures(api) | {"source": ""}


def test_report_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    import io

    data = b"url,ns_match,ns_score,ns_tier\nhttps://a.example/,none,0,\nhttps://b.example/,exact,70,high\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["report", "-"]) == 0
    page = capsysbinary.readouterr().out.decode()
    assert page.startswith("<!DOCTYPE html>") and 'data-label="high" data-value="1"' in page


def test_the_output_may_not_replace_the_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    screened = tmp_path / "s.csv"
    assert main(["screen", str(SELLERS), "-o", str(screened)]) == 0
    assert main(["report", str(screened), "-o", str(screened)]) == 1
    assert "overwrite its input" in capsys.readouterr().err


def test_timeline_marks_incomplete_editions_as_unknown() -> None:
    df = pd.DataFrame(
        {
            "url": ["https://item.taobao.com/", "https://x.example/"],
            "ns_market": ["Taobao", "Nowhere Market"],
            "ns_market_id": ["taobao", "nowhere"],
            "ns_match": ["exact", "exact"],
        }
    )
    r = ns.report(df)
    data = ns.load_markets()
    assert [c.label for c in r.editions] == [
        e.label
        for e in sorted(data.editions, key=lambda e: (e.list != "ustr-nml", e.year))
        if 2019 <= e.year <= 2024
    ]
    taobao = next(h for h in r.history if h.market_id == "taobao")
    for col, cell in zip(r.editions, taobao.cells, strict=True):
        listing = data.markets["taobao"].listing(col.list, col.year)
        if listing is not None:
            assert cell == listing.status
        else:
            assert cell == ("" if col.online_complete else "?")
    unknown = next(h for h in r.history if h.market_id == "nowhere")
    assert not unknown.known and set(unknown.cells) == {"?"}


def test_report_json_of_the_figures_is_plain_data() -> None:
    r = ns.report(_planned(rows=50))
    doc = json.loads(json.dumps(dataclasses.asdict(r)))
    assert doc["rows"] == 50


def test_an_arrow_table_is_accepted() -> None:
    df = _planned(rows=30)
    table = pa.Table.from_pandas(
        df.astype(str).replace({"None": None, "nan": None}), preserve_index=False
    )
    assert ns.report(table).rows == 30


def test_lookalike_hosts_read_from_the_authority_agree_with_the_whole_url() -> None:
    """The report normalizes "scheme://authority" once per distinct value: same host."""
    import pyarrow.compute as pc

    from notorious_screen.reporting import _AUTHORITY

    data = json.loads((REPO / "tests" / "data" / "wpt" / "urltestdata.json").read_text("utf-8"))
    urls = [d["input"] for d in data if isinstance(d, dict)]
    urls += pd.read_csv(SELLERS, dtype=str, keep_default_na=False).url.tolist()
    urls += [
        "https://a1iexpress[.]com/item",
        "HTTPS://TaoBao.com:443/x",
        "https://a.com\\b.com/x",
        "https://user:pw@taobao.com/x",
        "https://аррӏе.com/x",
        "https://a.com.:80/",
    ]
    urls = [u for u in urls if not any("\ud800" <= c <= "\udfff" for c in u)]
    prefixes = pc.struct_field(pc.extract_regex(pa.array(urls), _AUTHORITY), [0]).to_pylist()
    compared = 0
    for url, prefix in zip(urls, prefixes, strict=True):
        if prefix is not None:
            whole, part = ns.normalize_url(url), ns.normalize_url(prefix)
            assert (part.host_unicode, part.error) == (whole.host_unicode, whole.error), url
            compared += 1
    assert compared > 500
