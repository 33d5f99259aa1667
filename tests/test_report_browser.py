"""The report rendered in a real browser (headless Chromium): charts carry the input's numbers,
no console error, nothing fetched, hostile text stays text, and it prints."""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import notorious_screen as ns
from notorious_screen.cli import main

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
from chromium import Browser, find_chromium  # noqa: E402

CHROMIUM = find_chromium()
# CI sets NS_REQUIRE_CHROMIUM (after installing it): there a missing browser fails the test.
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("NS_REQUIRE_CHROMIUM"),
    reason="chromium not installed (apt-get install chromium)",
)
HOSTILE = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'

# What the page shows, read from the rendered DOM and its layout (getBBox: the drawn size).
_CHARTS_JS = """
Array.from(document.querySelectorAll('figure[data-chart]')).map(f => ({
  chart: f.dataset.chart,
  bars: Array.from(f.querySelectorAll('g.bar')).map(g => ({
    label: g.dataset.label,
    value: Number(g.dataset.value),
    shown: g.querySelector('text.value').textContent,
    size: (r => f.dataset.bars === 'vertical' ? r.height : r.width)(
      g.querySelector('rect').getBBox()),
    visible: g.querySelector('rect').getBoundingClientRect().width > 0,
  })),
  cells: Array.from(f.querySelectorAll('g.market')).map(g => ({
    market: g.dataset.market,
    states: Array.from(g.querySelectorAll('g.cell')).map(c => c.dataset.state),
  })),
}))
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if CHROMIUM is None:
        pytest.fail("NS_REQUIRE_CHROMIUM is set but no chromium is on PATH")
    tmp = tmp_path_factory.mktemp("browser")
    sellers = tmp / "sellers.csv"
    with (REPO / "examples" / "sellers.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows.append(["9999", "https://item.taobao.com/item.htm?id=7", HOSTILE])
    with sellers.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    screened = tmp / "screened.csv"
    report = tmp / "report.html"
    args = ["screen", str(sellers), "--name-column", "seller_name", "-o", str(screened)]
    assert main([*args, "--no-neutralize"]) == 0
    assert main(["report", str(screened), "--seller-column", "seller_name", "-o", str(report)]) == 0
    with Browser(CHROMIUM) as browser:
        browser.open(report)
        found = {
            "charts": {c["chart"]: c for c in browser.evaluate(_CHARTS_JS)},
            "title": browser.evaluate("document.title"),
            "scripts": browser.evaluate("document.scripts.length"),
            "images": browser.evaluate("document.images.length"),
            "text": browser.evaluate("document.body.innerText"),
            "resources": browser.evaluate("performance.getEntriesByType('resource').length"),
        }
        browser.call("Emulation.setEmulatedMedia", {"media": "print"})
        found["nav_in_print"] = browser.evaluate(
            "getComputedStyle(document.querySelector('nav')).display"
        )
        found["pdf"] = browser.print_pdf()
        found["errors"] = browser.errors()
        found["requests"] = browser.requests()
    found["url"] = report.resolve().as_uri()
    found["screened"] = pd.read_csv(screened, dtype=str, keep_default_na=False)
    return found


def _bars(page: dict[str, Any], chart: str) -> dict[str, int]:
    bars = page["charts"][chart]["bars"]
    for bar in bars:
        assert bar["shown"] == f"{bar['value']:,}", bar  # the number written is the number drawn
        assert bar["visible"], bar
    peak = max(b["value"] for b in bars)
    longest = max(b["size"] for b in bars)
    for bar in bars:  # drawn in proportion to the value
        assert bar["size"] == pytest.approx(longest * bar["value"] / peak, abs=1.0), bar
    return {b["label"]: b["value"] for b in bars}


def test_no_console_error_and_nothing_fetched(page: dict[str, Any]) -> None:
    assert page["errors"] == []
    assert page["requests"] == [page["url"]]  # the document itself, nothing else
    assert page["resources"] == 0


def test_hostile_text_is_shown_as_text(page: dict[str, Any]) -> None:
    assert page["scripts"] == 0 and page["images"] == 0
    assert page["title"] == "Where the brand is sold: screening report"
    assert HOSTILE in page["text"]


def test_tier_and_status_charts_have_the_input_numbers(page: dict[str, Any]) -> None:
    df = page["screened"]
    tiers = df.ns_tier.replace("", "(no tier)").value_counts().to_dict()
    assert _bars(page, "tiers") == tiers
    variant = df.ns_match == "variant"
    listed = (df.ns_listed == "true") & ~variant
    statuses = {
        "listed": int(listed.sum()),
        "lookalike": int(variant.sum()),
        "unlisted": int((~listed & ~variant & (df.ns_match != "none")).sum()),
        "unrecognised": int(((df.ns_match == "none") & (df.ns_error == "")).sum()),
        "unusable": int(((df.ns_match == "none") & (df.ns_error != "")).sum()),
    }
    assert _bars(page, "statuses") == {k: v for k, v in statuses.items() if v}
    scores = df.ns_score.astype(int).clip(upper=99) // 10
    got = _bars(page, "scores")
    assert list(got.values()) == [int((scores == i).sum()) for i in range(10)]


def test_market_owner_and_country_charts_have_the_input_numbers(page: dict[str, Any]) -> None:
    df = page["screened"]
    direct = df[(df.ns_match != "variant") & (df.ns_market != "")]
    markets = _bars(page, "markets")
    counts = direct.ns_market.value_counts()
    top = counts.sort_index().sort_values(ascending=False, kind="stable")
    assert len(markets) == min(len(counts), 15) + (len(counts) > 15)
    for name, value in markets.items():
        if name.endswith("other markets"):
            assert value == top.iloc[15:].sum()
        else:
            assert value == counts[name], name
    owners = df[(df.ns_match != "variant") & (df.ns_owner != "")].ns_owner.value_counts()
    assert _bars(page, "owners") == owners.to_dict()
    data = ns.load_markets()
    country = direct.ns_market_id.map(lambda m: data.markets[m].country or "(country not recorded)")
    assert _bars(page, "countries") == country.value_counts().to_dict()


def test_seller_and_lookalike_charts_have_the_input_numbers(page: dict[str, Any]) -> None:
    df = page["screened"]
    sellers = _bars(page, "sellers")
    per_seller = df[df.seller_name != ""].seller_name.value_counts()
    assert len(sellers) == 20
    assert all(per_seller[name] == rows for name, rows in sellers.items())
    variants = df[df.ns_match == "variant"]
    assert _bars(page, "lookalikes") == variants.ns_market.value_counts().to_dict()


def test_timeline_has_every_market_found(page: dict[str, Any]) -> None:
    df = page["screened"]
    found = set(df[(df.ns_match != "variant") & (df.ns_market_id != "")].ns_market_id)
    timeline = page["charts"]["timeline"]["cells"]
    assert {m["market"] for m in timeline} == found
    data = ns.load_markets()
    editions = [e for e in data.editions if 2019 <= e.year <= 2024]
    for item in timeline:
        assert len(item["states"]) == len(editions)
        listed = sum(state not in ("not-listed", "not-captured") for state in item["states"])
        market = data.markets[item["market"]]
        assert listed == sum(market.listing(e.list, e.year) is not None for e in editions)


def test_it_prints(page: dict[str, Any]) -> None:
    assert page["nav_in_print"] == "none"
    pdf: bytes = page["pdf"]
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page/") > 1
