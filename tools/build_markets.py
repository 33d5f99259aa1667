#!/usr/bin/env python3
"""Build ``notorious_screen/data/markets.yaml`` and ``sources.yaml`` from the reference fact sheets.

The first fact sheet (``notorious-markets-facts.yaml``) is organised by report: one block per
list and year, each repeating the facts of every market it names. The second
(``notorious-markets-facts-2.yaml``, facts found later) has one entry per fact, each with its
source and the exact excerpt. The package wants the opposite shape: one record per market (the
same platform across years and lists is ONE market with several listings), a closed ``kind``
vocabulary, stable ids and owner ids. This script does that regrouping with the small
hand-written mapping below, so the shipped data can be rebuilt and reviewed:
``python tools/build_markets.py`` writes the files, ``python tools/build_markets.py --check``
fails when the committed files are stale. Both sheets live outside the repository, in
``../shared/reference/`` beside it (``--reference DIR`` or ``$NOTORIOUS_SCREEN_REFERENCE``
point elsewhere); without them the script says so in one line and exits 2.

Rules the mapping follows:

* Nothing is invented. Facts that are not in the fact sheets (Tmall, Temu, 1688.com,
  Alibaba.com, amazon.com, the owners' corporate hosts, the kind of a market a sheet names
  without one) carry ``basis: "widely documented; not in the reference fact sheet"`` and cap
  the market at ``confidence: medium``. A name a sheet gives with no domain gets no host.
* Uncertainty is carried, not dropped: ``*_basis`` fields become ``basis`` notes, a
  ``confidence: medium (...)`` on an entry becomes the listing's confidence plus a note. A
  second-sheet fact from an undated repost is medium, one from project notes is low.
* A status the fact sheet leaves ``unknown`` is derived only from the data itself (also listed
  in the previous edition of the same list -> ``continuing``; first edition of a list ->
  ``new``), and the listing's notes say so.
* Captured counts and completeness are not written: the loader counts them from the listings
  (``check_completeness`` holds the result to the sheet's ``COMPLETE`` editions).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TOOL = "tools/build_markets.py"

try:
    from notorious_screen._yaml import dump_yaml, load_yaml_file
    from notorious_screen.errors import DataError
except ImportError as exc:  # run with a Python that lacks the package's dependencies
    print(
        f"{TOOL}: needs {exc.name or 'PyYAML'} (a dependency of notorious_screen): run it with "
        "the project's environment, e.g. .venv/bin/python tools/build_markets.py",
        file=sys.stderr,
    )
    raise SystemExit(2) from None

# The fact sheets live outside the repository: beside it in CI (../shared/reference/), anywhere
# else through --reference or this variable.
REFERENCE_ENV = "NOTORIOUS_SCREEN_REFERENCE"
DEFAULT_REFERENCE = REPO.parent / "shared" / "reference"
SHEETS = ("notorious-markets-facts.yaml", "notorious-markets-facts-2.yaml")
OUT_DIR = REPO / "notorious_screen" / "data"

WIDELY = "widely documented; not in the reference fact sheet"

LISTS = {"USTR-NML": "ustr-nml", "EU-CPWL": "eu-cpwl"}
LABELS = {"ustr-nml": "USTR NML", "eu-cpwl": "EU CPWL"}
# Editions whose online list is complete in the fact sheet (README "Completeness"). The data does
# not store it: the loader derives it from the counts, and build() checks the two agree.
COMPLETE = {("ustr-nml", 2019), ("ustr-nml", 2020), ("ustr-nml", 2021)}

# ---------------------------------------------------------------------------------------------
# Owners (parent companies). ``parent`` strings of the fact sheet map to these ids.
OWNERS: dict[str, dict[str, Any]] = {
    "alibaba": {
        "name": "Alibaba Group",
        "names": ["Alibaba Group", "Alibaba", "阿里巴巴集团", "阿里巴巴"],
        "hosts": ["alibabagroup.com"],
        "basis": "Parent of Taobao (wikimili-taobao, theregister-2022-02-18) and AliExpress "
        "(sourcingjournal-2022-02, chinaiplawupdate-2022-02-17). The Chinese names, the "
        "corporate host alibabagroup.com and the platforms Tmall, 1688.com and Alibaba.com: "
        f"{WIDELY}. EU CPWL 2025: Alibaba platforms nominated but not listed (eog-2025-05).",
    },
    "tencent": {
        "name": "Tencent Holdings Ltd.",
        "names": ["Tencent Holdings Ltd.", "Tencent Holdings", "Tencent", "腾讯"],
        "hosts": ["qq.com", "tencent.com"],
        "basis": "Owner of WeChat/Weixin (benzinga-2022-02-17, theregister-2022-02-18, "
        "investorinsights-wechat). Corporate/portal hosts qq.com and tencent.com and the "
        f"Chinese name: {WIDELY}. qq.com itself is not the listed WeChat ecosystem; "
        "weixin.qq.com and mp.weixin.qq.com are.",
    },
    "baidu": {
        "name": "Baidu, Inc.",
        "names": ["Baidu, Inc.", "Baidu Inc", "Baidu", "百度"],
        "hosts": ["baidu.com"],
        "basis": "Operator of Baidu Wangpan (yicai-baidu, benzinga-2022-02-17: 'Baidu Inc "
        "(NASDAQ: BIDU)'). Corporate host baidu.com and the Chinese name: "
        f"{WIDELY}. Only the netdisk hosts (pan/yun/eyun.baidu.com) are the listed market.",
    },
    "pdd": {
        "name": "PDD Holdings",
        "names": ["PDD Holdings", "Pinduoduo Inc.", "PDD"],
        "hosts": ["pddholdings.com"],
        "basis": "Pinduoduo Inc. (NASDAQ: PDD) per benzinga-2022-02-17; the rename to PDD "
        "Holdings is widely documented (not checked against NML text), as the fact sheet notes. "
        f"Temu and the corporate host pddholdings.com: {WIDELY}.",
    },
    "bytedance": {
        "name": "ByteDance",
        "names": ["ByteDance", "字节跳动"],
        "hosts": ["bytedance.com"],
        "basis": "Owner of Douyin Mall (marketscreener-wsj-2025-01, bambooworks-2025-01). "
        f"Corporate host bytedance.com and the Chinese name: {WIDELY}.",
    },
    "sea": {
        "name": "Sea Limited",
        "names": ["Sea Limited", "Sea Ltd", "Sea Ltd."],
        "hosts": ["sea.com"],
        "basis": "Shopee Pte. Ltd. is a subsidiary of Sea Limited (wikipedia-shopee-mirror). "
        f"Corporate host sea.com: {WIDELY}.",
    },
    "amazon": {
        "name": "Amazon.com, Inc.",
        "names": ["Amazon.com, Inc.", "Amazon.com Inc", "Amazon"],
        "hosts": ["payments-amazon.com", "assoc-amazon.com"],
        "basis": "Parent of the storefronts listed as 'Amazon's foreign domains' "
        "(tradelawdaily-2020-04-29, financialpost-2020-04-29). EU CPWL 2025: Amazon nominated "
        "but not listed (eog-2025-05). Service hosts payments-amazon.com (Amazon Pay) and "
        f"assoc-amazon.com (Amazon Associates): {WIDELY}.",
    },
    "dhgate": {
        "name": "DHgate.com Inc.",
        "names": ["DHgate.com Inc.", "DHgate.com Inc"],
        "hosts": [],
        "basis": "Named as DHgate's operator by benzinga-2022-02-17.",
    },
}

PARENTS = {
    "Alibaba Group": "alibaba",
    "Tencent Holdings Ltd.": "tencent",
    "Baidu, Inc. (NASDAQ: BIDU)": "baidu",
    "Pinduoduo Inc. (NASDAQ: PDD; now PDD Holdings)": "pdd",
    "ByteDance": "bytedance",
    "Sea Limited": "sea",
    "Amazon.com, Inc.": "amazon",
    "DHgate.com Inc. (as named by Benzinga)": "dhgate",
}

# ---------------------------------------------------------------------------------------------
# Online markets: id -> display name, kind (closed vocabulary) and per-market overrides.
# Keys allowed in a row: name, kind, names (extra), hosts, alias_hosts, country, owner,
# basis (field -> note), confidence, sources (market-level).
ONLINE: dict[str, dict[str, Any]] = {
    "1337x": {"name": "1337x", "kind": "torrent"},
    "1fichier": {"name": "1fichier", "kind": "cyberlocker"},
    "amazon": {
        "name": "Amazon",
        "kind": "e-commerce",
        "names": ["Amazon.com"],
        "hosts": ["amazon.com"],
        "alias_hosts": [
            "amazon.ca",
            "amazon.de",
            "amazon.fr",
            "amazon.in",
            "amazon.co.uk",
            "amazon.it",
            "amazon.es",
        ],
        "country": "United States",
        "owner": "amazon",
        "description": "e-commerce marketplace; only the non-US storefronts were listed",
        "confidence": "medium",
        "basis": {
            "hosts": f"amazon.com: {WIDELY}. It is the same platform but was never listed.",
            "alias_hosts": "The listed storefronts: amazon.ca/.de/.fr/.in/.co.uk for 2019 "
            "(financialpost-2020-04-29, tradelawdaily-2020-04-29, sicpa-2019: 'domains are the "
            "corresponding Amazon storefronts') and amazon.co.uk/.de/.fr/.it/.es for 2020 "
            "(iptwins-2021-02-03, ecd-2021-01-14).",
            "country": "tradelawdaily-2020-04-29: the 2019 listing was the first time a US "
            "company was listed.",
            "owner": "Fact sheet parent: Amazon.com, Inc.",
        },
        "sources": ["tradelawdaily-2020-04-29", "iptwins-2021-02-03"],
    },
    "bestbuyiptv": {"name": "BestBuyIPTV", "kind": "iptv"},
    "bukalapak": {"name": "Bukalapak", "kind": "e-commerce"},
    "carousell": {
        "name": "Carousell",
        "kind": "classifieds",
        "alias_hosts": ["thecarousell.com"],
        "basis": {
            "alias_hosts": f"thecarousell.com, Carousell's earlier and still-used domain: {WIDELY}"
        },
    },
    "chomikuj": {"name": "Chomikuj", "kind": "cyberlocker"},
    "cimaclub": {"name": "CimaClub", "kind": "streaming"},
    "dhgate": {"name": "DHgate", "kind": "b2b"},
    "dytt8": {"name": "DYTT8", "kind": "linking"},
    "flokinet": {"name": "FlokiNET", "kind": "hosting"},
    "flvto": {"name": "Flvto", "kind": "stream-ripping"},
    "fmovies": {"name": "Fmovies", "kind": "streaming", "country": "Singapore"},
    "openprovider": {
        "name": "Openprovider",
        "kind": "registrar",
        "names": ["Hosting Concepts B.V.", "Hosting Concepts B.V. d/b/a Openprovider"],
        "hosts": ["openprovider.com"],
        "country": "Netherlands",
        "basis": {
            "market": "One 2019 TOC heading names two registrars (Openprovider and Regional "
            "Network Information Center JSC); counting them as two markets reconciles the 37 "
            "headings with the official 38 (the fact sheet's inference).",
            "hosts": "widely documented (not checked against NML text)",
            "country": "widely documented (not checked against NML text)",
        },
    },
    "ru-center": {
        "name": "RU-CENTER",
        "kind": "registrar",
        "names": ["Regional Network Information Center JSC", "Regional Network Information Center"],
        "hosts": ["nic.ru"],
        "country": "Russia",
        "basis": {
            "market": "One 2019 TOC heading names two registrars (Openprovider and Regional "
            "Network Information Center JSC); counting them as two markets reconciles the 37 "
            "headings with the official 38 (the fact sheet's inference).",
            "names": "Regional Network Information Center JSC = RU-CENTER: widely documented "
            "(not checked against NML text)",
            "hosts": "widely documented (not checked against NML text)",
            "country": "widely documented (not checked against NML text)",
        },
    },
    "mp3juices": {"name": "MP3Juices", "kind": "stream-ripping"},
    "mpgh": {"name": "MPGH", "kind": "forum", "names": ["Multi Player Game Hacking"]},
    "newalbumreleases": {"name": "NewAlbumReleases", "kind": "linking"},
    "phimmoi": {"name": "Phimmoi", "kind": "streaming"},
    "pinduoduo": {"name": "Pinduoduo", "kind": "social-commerce"},
    "private-layer": {"name": "Private Layer", "kind": "hosting"},
    "propeller-ads": {"name": "Propeller Ads", "kind": "ad-network", "names": ["PropellerAds"]},
    "rapidgator": {
        "name": "Rapidgator",
        "kind": "cyberlocker",
        "alias_hosts": ["rg.to"],
        "basis": {"alias_hosts": f"rg.to, Rapidgator's short host: {WIDELY}"},
    },
    "rarbg": {"name": "RARBG", "kind": "torrent"},
    "rutracker": {"name": "RuTracker", "kind": "torrent"},
    "sci-hub": {"name": "Sci-Hub", "kind": "other"},
    "seasonvar": {"name": "Seasonvar", "kind": "streaming"},
    "shopee": {
        "name": "Shopee",
        "kind": "e-commerce",
        "alias_hosts": [
            "shp.ee",
            "shopee.com.mx",
            "shopee.com.co",
            "shopee.cl",
            "shopee.com.ar",
            "shopee.pl",
            "shopee.es",
            "shopee.fr",
            "shopee.in",
        ],
        "basis": {
            "alias_hosts": "shp.ee (the short-link host; id.shp.ee is in gh-shopee-domains) and "
            "the country sites Shopee ran and closed in 2021-2023 (Mexico, Colombia, Chile, "
            f"Argentina, Poland, Spain, France, India): {WIDELY}"
        },
    },
    "snapdeal": {"name": "Snapdeal", "kind": "e-commerce"},
    "taobao": {"name": "Taobao", "kind": "e-commerce"},
    "the-pirate-bay": {"name": "The Pirate Bay", "kind": "torrent"},
    "tokopedia": {
        "name": "Tokopedia",
        "kind": "e-commerce",
        "basis": {
            "owner": "Not recorded: later corporate ownership (GoTo; TikTok majority from 2024) "
            "is widely documented (not checked against NML text) per the fact sheet."
        },
    },
    "torrentz2": {"name": "Torrentz2", "kind": "torrent"},
    "turbobit": {"name": "Turbobit", "kind": "cyberlocker"},
    "uploaded": {
        "name": "Uploaded",
        "kind": "cyberlocker",
        "alias_hosts": ["ul.to", "uploaded.to"],
        "basis": {"alias_hosts": f"ul.to (short host) and uploaded.to (older host): {WIDELY}"},
    },
    "uptobox": {"name": "Uptobox", "kind": "cyberlocker"},
    "vk": {
        "name": "VK",
        "kind": "other",
        "alias_hosts": ["vk.ru", "vk.cc", "vkontakte.ru"],
        "basis": {
            "alias_hosts": "vk.ru (VK's Russian domain), vk.cc (its link shortener) and "
            f"vkontakte.ru (the original domain, VKontakte): {WIDELY}"
        },
    },
    "warmane": {"name": "Warmane", "kind": "other"},
    "baidu-wangpan": {"name": "Baidu Wangpan", "kind": "cyberlocker"},
    "blueangelhost": {"name": "BlueAngelHost", "kind": "hosting"},
    "chaloos": {"name": "Chaloos", "kind": "iptv"},
    "haraj": {"name": "Haraj", "kind": "classifieds"},
    "mercado-libre": {
        "name": "Mercado Libre",
        "kind": "e-commerce",
        "names": ["Mercado Livre", "MercadoLibre"],
        "basis": {
            "country": "Not recorded: HQ Argentina/Uruguay is widely documented (not checked "
            "against NML text) per the fact sheet.",
            "names": "Mercado Livre/MercadoLibre from the gh-mercadolibre-domains hosts.",
        },
    },
    "pelisplus": {"name": "Pelisplus", "kind": "streaming"},
    "popcorn-time": {"name": "Popcorn Time", "kind": "other"},
    "revenuehits": {"name": "RevenueHits", "kind": "ad-network"},
    "shabakaty": {
        "name": "Shabakaty",
        "kind": "unknown",
        "basis": {"kind": "No verified kind or operator (fact sheet README)."},
    },
    "weidian": {"name": "Weidian", "kind": "social-commerce"},
    "2embed": {"name": "2embed", "kind": "piracy-as-a-service"},
    "aliexpress": {"name": "AliExpress", "kind": "e-commerce"},
    "cuevana": {"name": "Cuevana", "kind": "streaming"},
    "egybest": {"name": "EgyBest", "kind": "streaming", "names": ["Egy Best"]},
    "indiamart": {"name": "IndiaMART", "kind": "b2b"},
    "istar": {
        "name": "ISTAR",
        "kind": "unknown",
        "basis": {"kind": "No verified kind or operator (fact sheet README)."},
    },
    "libgen": {"name": "Libgen", "kind": "other"},
    "spider": {
        "name": "SPIDER",
        "kind": "unknown",
        "basis": {"kind": "No verified kind or operator (fact sheet README)."},
    },
    "wechat": {
        "name": "WeChat (Weixin)",
        "kind": "social-commerce",
        "alias_hosts": ["wx.qq.com"],
        "basis": {"alias_hosts": f"wx.qq.com, the web client of WeChat: {WIDELY}"},
    },
    "yts": {"name": "YTS", "kind": "torrent"},
    "avito": {"name": "Avito", "kind": "classifieds"},
    "amarutu": {"name": "Amarutu", "kind": "hosting"},
    "lalastreams": {"name": "Lalastreams", "kind": "streaming"},
    "vegamovies": {"name": "Vegamovies", "kind": "streaming", "country": "India"},
    "whmcs-smarters": {
        "name": "WHMCS Smarters",
        "kind": "unknown",
        "country": "India",
        "basis": {
            "kind": "Fact sheet: 'IPTV-related software/services provider', kind not verified; "
            "the README lists it among the markets with no verified kind.",
        },
    },
    "douyin-mall": {"name": "Douyin Mall", "kind": "social-commerce"},
    # EU CPWL only.
    "evo-company-group": {
        "name": "EVO Company Group websites",
        "kind": "e-commerce",
        "basis": {
            "country": "securingindustry-2018-12 says 'Eastern Europe'; no country recorded.",
            "hosts": "Individual domains stripped in the stored source text.",
        },
    },
    "pharmacy-xl": {"name": "pharmacy-xl.com", "kind": "e-commerce"},
    "pharmaweb": {"name": "PharmaWeb", "kind": "e-commerce"},
    "h2converter": {"name": "H2converter", "kind": "stream-ripping"},
    "cloudflare": {"name": "Cloudflare", "kind": "hosting"},
    "music-bazaar": {"name": "Music-Bazaar", "kind": "other"},
    "rlsbb": {"name": "Rlsbb", "kind": "linking", "names": ["rlsbb.ru"]},
    "eva-pharmacy": {"name": "EVA Pharmacy", "kind": "e-commerce"},
    "pharmcash": {"name": "PharmCash", "kind": "other"},
    "telegram": {"name": "Telegram", "kind": "other"},
    "mega": {"name": "Mega", "kind": "cyberlocker", "names": ["mega.nz"]},
    "ddos-guard": {"name": "DDoS-Guard", "kind": "hosting"},
    "fembed": {"name": "Fembed", "kind": "cyberlocker"},
    "snappea": {"name": "Snappea", "kind": "stream-ripping"},
    "3lib": {"name": "3lib (Bookfi)", "kind": "other", "names": ["3lib.net", "Bookfi"]},
    "youtubeconverter-io": {"name": "Youtubeconverter.io", "kind": "stream-ripping"},
    "electrotv-sat": {
        "name": "Electrotv-sat",
        "kind": "unknown",
        "basis": {"kind": "No kind in the fact sheet (named only as a 2022 removal)."},
    },
    "4shared": {"name": "4shared", "kind": "cyberlocker"},
    "geniptv": {"name": "GenIPTV", "kind": "iptv"},
    "dark-iptv": {"name": "Dark IPTV", "kind": "iptv"},
    "biptv-best": {"name": "BIPTV.best", "kind": "iptv"},
    "theking365tv": {"name": "TheKing365TV", "kind": "iptv"},
    "istq": {"name": "ISTQ", "kind": "hosting"},
    "virtual-systems": {"name": "Virtual Systems", "kind": "hosting"},
    "njalla": {"name": "Njalla", "kind": "registrar"},
    # Second fact sheet only. No domain is given for MagisTV, TorrentGalaxy and Streamtape, so
    # they have none; the EU 2020 names that are domains give the others theirs (NAMED_HOSTS_2).
    "magistv": {
        "name": "MagisTV",
        "kind": "iptv",
        "basis": {
            "kind": "dayfr-2025-01: 'Auch mehrere IPTV-Dienste sind auf der Liste: GenIPTV zum "
            "Beispiel, aber auch MagisTV'."
        },
    },
    "y2mate": {"name": "Y2Mate", "kind": "stream-ripping"},
    "torrentgalaxy": {"name": "TorrentGalaxy", "kind": "torrent"},
    "streamtape": {"name": "Streamtape", "kind": "cyberlocker"},
    # IFPI prints "wi.to/Ddl.to" as one service: its name is kept as printed.
    "wi-to-ddl-to": {"name": "wi.to / Ddl.to", "kind": "cyberlocker", "names": ["wi.to", "Ddl.to"]},
    "dbree": {"name": "Dbree", "kind": "cyberlocker", "names": ["Dbree.org"]},
    "2conv": {"name": "2Conv", "kind": "stream-ripping", "names": ["2Conv.com"]},
    "savefrom": {"name": "Savefrom.net", "kind": "stream-ripping"},
}

# Kind notes for markets whose fact-sheet kind has no exact place in the closed vocabulary.
KIND_NOTES = {
    "sci-hub": "shadow library: no such kind in the closed vocabulary, filed as 'other'",
    "libgen": "shadow library: no such kind in the closed vocabulary, filed as 'other'",
    "3lib": "shadow library (Bookfi): filed as 'other'",
    "vk": "social network used for sharing infringing files: filed as 'other'",
    "warmane": "unlicensed game server: filed as 'other'",
    "popcorn-time": "piracy app (BitTorrent-based streaming client): filed as 'other'",
    "telegram": "messaging app / social media: filed as 'other'",
    "music-bazaar": "pirate music download site: filed as 'other'",
    "pharmcash": "online pharmacy affiliate network: filed as 'other'",
    "pharmacy-xl": "online pharmacy: filed as 'e-commerce'",
    "pharmaweb": "online pharmacy: filed as 'e-commerce'",
    "eva-pharmacy": "online pharmacy network: filed as 'e-commerce'",
    "cloudflare": "CDN / reverse-proxy intermediary: filed as 'hosting'",
    "fembed": "video hosting used by pirate streaming sites: filed as 'cyberlocker'",
    "youtubeconverter-io": f"stream-ripping (a YouTube converter): {WIDELY}",
    "4shared": f"file-sharing service: {WIDELY}",
    "y2mate": f"stream-ripping (a YouTube converter): {WIDELY}",
    "torrentgalaxy": f"torrent index site: {WIDELY}",
    "streamtape": f"video hosting used by pirate streaming sites, filed as 'cyberlocker': {WIDELY}",
    "wi-to-ddl-to": f"cyberlocker (file hosting): {WIDELY}",
    "dbree": f"cyberlocker (file hosting): {WIDELY}",
    "2conv": f"stream-ripping (a YouTube converter): {WIDELY}",
    "savefrom": f"stream-ripping (a video downloader): {WIDELY}",
}

# Platforms that no list names, added so that a row on them resolves to the owner.
ADDITIONS: dict[str, dict[str, Any]] = {
    "tmall": {
        "name": "Tmall",
        "kind": "e-commerce",
        "names": ["Tmall", "天猫"],
        "hosts": ["tmall.com"],
        "country": "China",
        "owner": "alibaba",
        "description": "B2C e-commerce marketplace",
        "confidence": "medium",
        "sources": ["gh-taobao-hosts", "gh-weidian-links"],
        "basis": {
            "hosts": "gh-taobao-hosts treats *.tmall.com as a Taobao/Alibaba link host and "
            "gh-weidian-links handles detail.tmall.com item pages.",
            "market": "Tmall as a separate Alibaba platform, its names, kind and country: "
            + WIDELY,
            "owner": f"{WIDELY} (gh-taobao-hosts groups it with Taobao as an Alibaba link host)",
        },
    },
    "1688": {
        "name": "1688.com",
        "kind": "b2b",
        "names": ["1688"],
        "hosts": ["1688.com"],
        "country": "China",
        "owner": "alibaba",
        "description": "B2B wholesale marketplace",
        "confidence": "medium",
        "basis": {"market": WIDELY, "hosts": WIDELY, "owner": WIDELY},
    },
    "alibaba-com": {
        "name": "Alibaba.com",
        "kind": "b2b",
        "hosts": ["alibaba.com"],
        "country": "China",
        "owner": "alibaba",
        "description": "B2B cross-border wholesale marketplace",
        "confidence": "medium",
        "basis": {"market": WIDELY, "hosts": WIDELY, "owner": WIDELY},
    },
    "temu": {
        "name": "Temu",
        "kind": "e-commerce",
        "hosts": ["temu.com"],
        "owner": "pdd",
        "description": "cross-border e-commerce marketplace",
        "confidence": "medium",
        "basis": {"market": WIDELY, "hosts": WIDELY, "owner": WIDELY},
    },
}

# Fact-sheet online names (casefolded) -> market id(s). One heading may name two markets.
ONLINE_NAMES: dict[str, tuple[str, ...]] = {
    "amazon's foreign domains": ("amazon",),
    "hosting concepts b.v. (d/b/a openprovider) and regional network information center jsc": (
        "openprovider",
        "ru-center",
    ),
    "private layer-hosted sites": ("private-layer",),
    "propeller ads": ("propeller-ads",),
    "thepiratebay": ("the-pirate-bay",),
    "thepiratebay.org": ("the-pirate-bay",),
    "the pirate bay": ("the-pirate-bay",),
    "baidu wangpan": ("baidu-wangpan",),
    "mercado libre": ("mercado-libre",),
    "popcorntime": ("popcorn-time",),
    "popcorn time": ("popcorn-time",),
    "egy.best": ("egybest",),
    "wechat (weixin) e-commerce ecosystem": ("wechat",),
    "whmcs smarters": ("whmcs-smarters",),
    "douyin mall": ("douyin-mall",),
    "evo company group websites": ("evo-company-group",),
    "pharmacy-xl.com": ("pharmacy-xl",),
    "music-bazaar.com": ("music-bazaar",),
    "rlsbb (rlsbb.ru)": ("rlsbb",),
    "eva pharmacy": ("eva-pharmacy",),
    "rarbg.to": ("rarbg",),
    "rutracker.org": ("rutracker",),
    "1337x.to": ("1337x",),
    "uptobox.com": ("uptobox",),
    "rapidgator.net": ("rapidgator",),
    "fmovies.to": ("fmovies",),
    "fembed.com": ("fembed",),
    "2embed.ru": ("2embed",),
    "snappea.com": ("snappea",),
    "dark iptv": ("dark-iptv",),
    "biptv.best": ("biptv-best",),
    "bestbuyiptv.store": ("bestbuyiptv",),
    "virtual systems": ("virtual-systems",),
    "private layer": ("private-layer",),
    # Second fact sheet.
    "wi.to / ddl.to": ("wi-to-ddl-to",),
    "dbree.org": ("dbree",),
    "y2mate.com": ("y2mate",),
    "flvto.biz": ("flvto",),
    "2conv.com": ("2conv",),
    "savefrom.net": ("savefrom",),
    "4shared.com": ("4shared",),
    "uploaded.net": ("uploaded",),
    "music-bazaar.mobi": ("music-bazaar",),
}

# Hosts per market for the split heading (the fact sheet lists both registrars' domains).
SPLIT_HOSTS = {"openprovider": ["openprovider.com"], "ru-center": ["nic.ru"]}

# Hosts taken from EU names that are themselves domains (like the fact sheet does for EGY.BEST).
NAME_HOSTS: dict[str, tuple[str, str]] = {
    "music-bazaar": ("music-bazaar.com", "EU CPWL 2020 lists it as 'Music-bazaar.com'"),
    "rlsbb": ("rlsbb.ru", "EU CPWL 2020 lists it as 'Rlsbb (rlsbb.ru)'"),
    "pharmacy-xl": ("pharmacy-xl.com", "EU CPWL 2018 lists it as 'pharmacy-xl.com'"),
    "fembed": ("fembed.com", "EU CPWL 2022 lists it as 'Fembed.com'"),
    "snappea": ("snappea.com", "EU CPWL 2022 lists it as 'Snappea.com'"),
    "2embed": ("2embed.ru", "EU CPWL 2022 lists it as '2embed.ru'"),
    "biptv-best": ("biptv.best", "EU CPWL 2025 lists it as 'BIPTV.best'"),
    "bestbuyiptv": ("bestbuyiptv.store", "EU CPWL 2025 lists it as 'BestBuyIPTV.store'"),
    "mega": ("mega.nz", "the fact sheet's kind text for the EU CPWL 2022 entry names mega.nz"),
    "3lib": ("3lib.net", "EU CPWL 2022 coverage names it '3lib.net (Bookfi)'"),
    "youtubeconverter-io": (
        "youtubeconverter.io",
        "EU CPWL 2022 coverage names it 'Youtubeconverter.io'",
    ),
    "electrotv-sat": ("electrotv-sat.com", "EU CPWL 2022 coverage names it 'Electrotv-sat.com'"),
}

# EU 2022 removals (fact sheet strings) -> market id; they imply an EU 2020 listing.
EU_REMOVED_2022 = {
    "3lib.net (Bookfi) - offline": ("3lib", "3lib.net (Bookfi)"),
    "Youtubeconverter.io - offline": ("youtubeconverter-io", "Youtubeconverter.io"),
    "Electrotv-sat.com - offline": ("electrotv-sat", "Electrotv-sat.com"),
    "4shared - dropped while still active": ("4shared", "4shared"),
    "Telegram - dropped while still active": ("telegram", "Telegram"),
}

# ---------------------------------------------------------------------------------------------
# Physical markets: (fact-sheet name casefolded, country) -> id; then id -> facts.
PHYSICAL_NAMES: dict[tuple[str, str], str] = {
    ("millennium centre", "India"): "millennium-centre-aizawl",
    ("palika bazaar", "India"): "palika-bazaar-delhi",
    ("tank road (karol bagh)", "India"): "tank-road-delhi",
    ("heera panna", "India"): "heera-panna-mumbai",
    ("kidderpore", "India"): "kidderpore-kolkata",
    ("kidderpore (fancy market)", "India"): "kidderpore-kolkata",
    ("sadar patrappa road market (sp road)", "India"): "sp-road-bengaluru",
    ("anfu market", "China"): "anfu-market-putian",
    ("huaqiangbei electronics mall(s)", "China"): "huaqiangbei-shenzhen",
    ("huaqiangbei electronics malls", "China"): "huaqiangbei-shenzhen",
    ("huaqiangbei electronics market", "China"): "huaqiangbei-shenzhen",
    ("silk market", "China"): "silk-market-beijing",
    ("ritan office building", "China"): "ritan-office-building-beijing",
    ("wu'ai market", "China"): "wuai-market-shenyang",
    ("yiwu international trade city", "China"): "yiwu-international-trade-city",
    (
        "asia-pacific xinyang clothing and gift market (fashion and gift plaza)",
        "China",
    ): "asia-pacific-xinyang-shanghai",
    ("luohu commercial city", "China"): "luohu-commercial-city-shenzhen",
    ("ben thanh market", "Vietnam"): "ben-thanh-market-hcmc",
    ("dong xuan market", "Vietnam"): "dong-xuan-market-hanoi",
    ("tan thanh market", "Vietnam"): "tan-thanh-market-lang-son",
    ("saigon square", "Vietnam"): "saigon-square-hcmc",
    ("gamarra", "Peru"): "gamarra-lima",
    ("polvos azules", "Peru"): "polvos-azules-lima",
    ("la pulga río", "Mexico"): "la-pulga-rio-monterrey",
    ("tepito", "Mexico"): "tepito-mexico-city",
    ("mercado san juan de dios (mercado libertad)", "Mexico"): "san-juan-de-dios-guadalajara",
    ("mercado san juan de dios", "Mexico"): "san-juan-de-dios-guadalajara",
    ("la cuchilla", "Mexico"): "la-cuchilla-puebla",
    ("el santuario", "Mexico"): "el-santuario-guadalajara",
    ("central market", "Cambodia"): "central-market-phnom-penh",
    ("pacific mall", "Canada"): "pacific-mall-markham",
    ("dubrovka market", "Russia"): "dubrovka-market-moscow",
    ("greenhills shopping center", "Philippines"): "greenhills-san-juan",
    ("greenhills", "Philippines"): "greenhills-san-juan",
    ("baclaran", "Philippines"): "baclaran-manila",
    ("divisoria", "Philippines"): "divisoria-manila",
    ("cartimar", "Philippines"): "cartimar-manila",
    ("petaling street", "Malaysia"): "petaling-street-kuala-lumpur",
    ("mangga dua market", "Indonesia"): "mangga-dua-jakarta",
    ("mbk center", "Thailand"): "mbk-center-bangkok",
    ("rua 25 de março region", "Brazil"): "rua-25-de-marco-sao-paulo",
    ("7th km market", "Ukraine"): "7th-km-market-odesa",
    ("el santuario (neighbourhood)", "Mexico"): "el-santuario-guadalajara",
}

# id -> display name, city (the most specific the fact sheet gives), extra names.
PHYSICAL: dict[str, dict[str, Any]] = {
    "millennium-centre-aizawl": {"name": "Millennium Centre", "city": "Aizawl, Mizoram"},
    "palika-bazaar-delhi": {"name": "Palika Bazaar", "city": "New Delhi"},
    "tank-road-delhi": {
        "name": "Tank Road (Karol Bagh)",
        "city": "New Delhi",
        "names": ["Tank Road", "Karol Bagh Tank Road"],
    },
    "heera-panna-mumbai": {"name": "Heera Panna", "city": "Mumbai"},
    "kidderpore-kolkata": {
        "name": "Kidderpore (Fancy Market)",
        "city": "Kolkata",
        "names": ["Kidderpore", "Kidderpore Fancy Market"],
    },
    "sp-road-bengaluru": {
        "name": "Sadar Patrappa Road Market (SP Road)",
        "city": "Bengaluru",
        "names": ["Sadar Patrappa Road Market", "SP Road Market", "SP Road"],
    },
    "anfu-market-putian": {"name": "Anfu Market", "city": "Putian, Fujian"},
    "huaqiangbei-shenzhen": {
        "name": "Huaqiangbei Electronics Malls",
        "city": "Shenzhen",
        "names": ["Huaqiangbei"],
    },
    "silk-market-beijing": {
        "name": "Silk Market",
        "city": "Beijing",
        "names": ["Beijing Silk Market", "Xiushui"],
    },
    "ritan-office-building-beijing": {"name": "Ritan Office Building", "city": "Beijing"},
    "wuai-market-shenyang": {"name": "Wu'ai Market", "city": "Shenyang"},
    "yiwu-international-trade-city": {
        "name": "Yiwu International Trade City",
        "city": "Yiwu, Zhejiang",
    },
    "asia-pacific-xinyang-shanghai": {
        "name": "Asia-Pacific Xinyang Clothing and Gift Market",
        "city": "Shanghai",
        "names": ["Asia-Pacific Xinyang Fashion and Gift Plaza", "Asia-Pacific Xinyang"],
    },
    "luohu-commercial-city-shenzhen": {"name": "Luohu Commercial City", "city": "Shenzhen"},
    "ben-thanh-market-hcmc": {"name": "Ben Thanh Market", "city": "Ho Chi Minh City"},
    "dong-xuan-market-hanoi": {"name": "Dong Xuan Market", "city": "Hanoi"},
    "tan-thanh-market-lang-son": {"name": "Tan Thanh Market", "city": "Lang Son"},
    "saigon-square-hcmc": {"name": "Saigon Square", "city": "Ho Chi Minh City"},
    "gamarra-lima": {"name": "Gamarra", "city": "Lima"},
    "polvos-azules-lima": {"name": "Polvos Azules", "city": "Lima"},
    "la-pulga-rio-monterrey": {"name": "La Pulga Río", "city": "Monterrey, Nuevo León"},
    "tepito-mexico-city": {"name": "Tepito", "city": "Mexico City"},
    "san-juan-de-dios-guadalajara": {
        "name": "Mercado San Juan de Dios",
        "city": "Guadalajara",
        "names": ["Mercado Libertad", "San Juan de Dios"],
    },
    "la-cuchilla-puebla": {"name": "La Cuchilla", "city": "Puebla"},
    "el-santuario-guadalajara": {"name": "El Santuario", "city": "Guadalajara"},
    "central-market-phnom-penh": {"name": "Central Market", "city": "Phnom Penh"},
    "pacific-mall-markham": {"name": "Pacific Mall", "city": "Markham (Toronto area), Ontario"},
    "dubrovka-market-moscow": {"name": "Dubrovka Market", "city": "Moscow"},
    "greenhills-san-juan": {
        "name": "Greenhills Shopping Center",
        "city": "San Juan, Metro Manila",
        "names": ["Greenhills"],
        "basis": {"city": "The EU CPWL 2022 coverage places it in Manila (Metro Manila)."},
    },
    "baclaran-manila": {"name": "Baclaran", "city": "Manila"},
    "divisoria-manila": {"name": "Divisoria", "city": "Manila"},
    "cartimar-manila": {"name": "Cartimar", "city": "Manila"},
    "petaling-street-kuala-lumpur": {"name": "Petaling Street", "city": "Kuala Lumpur"},
    "mangga-dua-jakarta": {"name": "Mangga Dua Market", "city": "Jakarta"},
    "mbk-center-bangkok": {"name": "MBK Center", "city": "Bangkok"},
    "rua-25-de-marco-sao-paulo": {
        "name": "Rua 25 de Março region",
        "city": "São Paulo",
        "names": ["Rua 25 de Março"],
        "basis": {
            "names": "The 2024 entry groups seven sub-markets (saopaulonews-2025-01-08); their "
            "names are kept as name variants. Whether USTR counts the entry as 1 or 7 of the 33 "
            "is not verified."
        },
    },
    "7th-km-market-odesa": {"name": "7th km Market", "city": "Odesa"},
}

# Listing-level corrections that the fact sheet supports but does not encode as a field.
LISTING_FIX: dict[tuple[str, str, int], dict[str, str]] = {
    ("pacific-mall-markham", "ustr-nml", 2021): {
        "status": "returning",
        "note": "Status derived: the celebcluster-2022 transcript says 'back on the list' and "
        "Canada is absent from the 2019 and 2020 TOCs.",
    },
    ("el-santuario-guadalajara", "ustr-nml", 2024): {
        "status": "new",
        "note": "Status from the source's 'first appearance in 2024'.",
    },
    ("bestbuyiptv", "eu-cpwl", 2025): {
        "confidence": "medium",
        "note": "The EU list names 'BestBuyIPTV.store'; that it is the BESTBUYIPTV service of "
        "the USTR lists is inferred from the name.",
    },
}

STATUSES = ("new", "continuing", "returning", "unknown")
# Lists whose first-ever edition is in the data: every entry of it is necessarily new. (The CPWL
# began in 2018 per gizguide-2023-01; the USTR list is much older than the 2019 review.)
FIRST_EDITION = {"eu-cpwl": 2018}
CONFIDENCES = ("high", "medium", "low")


# ---------------------------------------------------------------------------------------------
@dataclass
class Build:
    """One market being assembled from every fact-sheet entry that names it."""

    id: str
    name: str
    kind: str
    physical: bool
    country: str | None = None
    city: str | None = None
    owner: str | None = None
    hosts: list[str] = field(default_factory=list)
    alias_hosts: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    description: str | None = None
    basis: dict[str, list[str]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    listings: list[dict[str, Any]] = field(default_factory=list)
    confidence: str | None = None
    notes: list[str] = field(default_factory=list)

    def add_basis(self, key: str, text: str | None) -> None:
        if text and text not in self.basis.setdefault(key, []):
            self.basis[key].append(text)


def _add(seq: list[str], items: Iterable[str]) -> None:
    seen = {s.casefold() for s in seq}
    for item in items:
        if item and item.casefold() not in seen:
            seq.append(item)
            seen.add(item.casefold())


def split_variant(raw: str) -> tuple[list[str], str | None]:
    """'淘宝 / 淘寶' -> two names; '速卖通 (Sumaitong)' -> both; 'X (former name)' -> X + a note."""
    out: list[str] = []
    note = None
    for part in raw.split(" / "):
        m = re.fullmatch(r"(.+?) \((.+)\)", part.strip())
        if m is None:
            out.append(part.strip())
        elif m.group(2) == "former name":
            out.append(m.group(1))
            note = f"'{m.group(1)}' is a former name"
        else:
            out.extend([m.group(1), m.group(2)])
    return out, note


def split_confidence(raw: object) -> tuple[str, str | None]:
    """'medium (single low-quality transcript source)' -> ('medium', 'single low-...')."""
    if raw is None:
        return "high", None
    m = re.fullmatch(r"(high|medium|low)(?: \((.+)\))?", str(raw).strip(), re.S)
    if m is None:
        raise SystemExit(f"cannot read confidence {raw!r}")
    return m.group(1), m.group(2)


def clean_country(raw: object) -> str | None:
    if raw is None:
        return None
    text = str(raw)
    for suffix in (" (per ECD summary)", " (named as an Indian online market by PTI)"):
        text = text.removesuffix(suffix)
    return text


def clean_status(raw: object) -> str:
    if raw is None:
        return "unknown"
    text = str(raw).removesuffix(" (per sources)")
    if text not in STATUSES:
        raise SystemExit(f"unknown status {raw!r}")
    return text


def parent_host(host: str) -> str:
    """'*.v.weidian.com' -> 'v.weidian.com': the loader matches subdomains of a parent host."""
    return host.removeprefix("*.").lower()


def online_ids(name: str) -> tuple[str, ...]:
    key = name.casefold()
    if key in ONLINE_NAMES:
        return ONLINE_NAMES[key]
    slug = re.sub(r"[^a-z0-9]+", "-", key).strip("-")
    if slug in ONLINE:
        return (slug,)
    raise SystemExit(f"no market id for online entry {name!r}: add it to ONLINE_NAMES")


def new_online(mid: str) -> Build:
    row = ONLINE[mid]
    b = Build(id=mid, name=row["name"], kind=row["kind"], physical=False)
    b.country = row.get("country")
    b.owner = row.get("owner")
    b.description = row.get("description")
    _add(b.names, [row["name"], *row.get("names", [])])
    _add(b.hosts, row.get("hosts", []))
    _add(b.alias_hosts, row.get("alias_hosts", []))
    b.confidence = row.get("confidence")
    _add(b.sources, row.get("sources", []))
    for key, text in row.get("basis", {}).items():
        b.add_basis(key, text)
    if mid in KIND_NOTES:
        b.add_basis("kind", KIND_NOTES[mid])
    if mid in NAME_HOSTS:
        host, why = NAME_HOSTS[mid]
        _add(b.hosts, [host])
        b.add_basis("hosts", f"{host}: {why} (the listed name is itself a domain)")
    return b


def merge_online(b: Build, entry: dict[str, Any], *, eu: bool) -> None:
    """Fold one fact-sheet entry's market-level facts into the market."""
    hosts = SPLIT_HOSTS.get(b.id, entry.get("domains") or [])
    if b.id != "amazon":  # Amazon's entries list only the listed storefronts (alias hosts).
        _add(b.hosts, [parent_host(h) for h in hosts])
    alias = [parent_host(h) for h in entry.get("alternate_domains") or []]
    _add(b.alias_hosts, [h for h in alias if h not in b.hosts])
    if b.id not in SPLIT_HOSTS:
        b.add_basis("hosts", entry.get("domains_basis"))
        country = clean_country(entry.get("country"))
        if country and b.id != "amazon" and not eu:
            if b.country is None:
                b.country = country
            elif b.country != country:
                raise SystemExit(f"{b.id}: country {country!r} vs {b.country!r}")
        if country and eu and b.country is None and b.id not in ONLINE_NO_EU_COUNTRY:
            b.country = country
        b.add_basis("country", entry.get("country_basis"))
        b.add_basis("kind", entry.get("kind_basis"))
    b.add_basis("alias_hosts", entry.get("alternate_domains_basis"))
    b.add_basis("alias_hosts", entry.get("alternate_domains_notes"))
    kind_text = entry.get("kind")
    if (
        kind_text
        and b.id != "amazon"
        and (b.description is None or (not eu and len(kind_text) > len(b.description)))
    ):
        b.description = kind_text
    parent = entry.get("parent")
    if parent:
        owner = PARENTS[parent]
        if b.owner not in (None, owner):
            raise SystemExit(f"{b.id}: owner {owner!r} vs {b.owner!r}")
        b.owner = owner
        b.add_basis("owner", f"Fact sheet parent: {parent}")
    for raw in entry.get("name_variants") or []:
        names, note = split_variant(raw)
        _add(b.names, names)
        b.add_basis("names", note)


ONLINE_NO_EU_COUNTRY = {"evo-company-group"}  # "Eastern Europe (per source)" is not a country


def listing_for(entry: dict[str, Any], list_id: str, year: int, *, name: str) -> dict[str, Any]:
    confidence, why = split_confidence(entry.get("confidence"))
    notes = []
    if why:
        notes.append(f"Confidence {confidence}: {why}.")
    if entry.get("notes"):
        notes.append(str(entry["notes"]).strip())
    return {
        "list": list_id,
        "year": year,
        "status": clean_status(entry.get("status")),
        "listed_as": name,
        "sources": list(entry["sources"]),
        "scope": [],
        "confidence": confidence,
        "notes": notes,
    }


# ---------------------------------------------------------------------------------------------
# The second fact sheet (notorious-markets-facts-2.yaml): one entry per fact found after the first
# sheet, each with its source (title and address, no id) and the exact excerpt. Source ids are
# given here, by address; the excerpts are kept with the source in sources.yaml.
SOURCES_2: dict[str, str] = {
    "https://expansion.mx/economia/2026/03/03/tepito-san-juan-de-dios-santuario-lista-negra-"
    "pirateria-eu": "expansion-2026-03-03",
    "https://pulsoslp.com.mx/opinion/pirateria-sabemos-donde-esta/2025937": "pulsoslp-2026-03-10",
    "https://pulsoslp.com.mx/nacional/mexico-en-lista-de-eu-de-mercados-de-pirateria/2023874": (
        "eluniversal-pulsoslp-2026-03-04"
    ),
    "https://mgronline.com/business/detail/9690000021831": "mgronline-2026-03-05",
    "https://www.nationthailand.com/business/economy/40063744": "nationthailand-2026-03-13",
    "https://udn.com/news/story/7333/8478954": "udn-2025-01",
    "https://digital-eliteboard.com/threads/trotz-abschaltungen-streaming-piraterie-boomt.536976": (
        "digital-eliteboard-2025"
    ),
    "https://de.dayfr.com/technology/2364123.html": "dayfr-2025-01",
    "https://www.mondaq.com/unitedstates/trademark/1757298/piracy-moves-in-real-time-your-"
    "enforcement-strategy-should-too-a-review-of-notorious-markets-for-counterfeiting-and-piracy": (
        "mondaq-2026-03-12"
    ),
    "github:csiejimmyliu/ad-piracy-watcher/CLAUDE.md": "gh-ad-piracy-watcher",
    "https://ifpi.org/ifpi-welcomes-european-commissions-counterfeit-and-piracy-watch-list": (
        "ifpi-2020-12-15"
    ),
}

# Editions the second sheet adds, with what its fact texts say but do not encode as fields.
EDITIONS_2: dict[tuple[str, int], dict[str, str]] = {
    ("ustr-nml", 2025): {
        "released": "2026-03-03",
        "released_basis": "3 March 2026, US time (mgronline-2026-03-05); Expansión reported it "
        "the same day (expansion-2026-03-03).",
        "issue_focus": "Piracy of live events, with live sports broadcasts as the example "
        "(pulsoslp-2026-03-10, mondaq-2026-03-12).",
    },
}

# Names the second sheet gives that are left out of the data, and why.
LEFT_OUT_2 = {
    "anna's archive": "not entered: named only by the low-confidence GitHub notes, with no "
    "domain, and it may sit inside the LibGen or Sci-Hub entry (the first sheet's README says "
    "the same of its 2023 mention)",
}

# Listings a second-sheet source also names in its excerpt, beyond the entry it is cited for.
ALSO_NAMED_2: dict[str, tuple[tuple[str, str, int], ...]] = {
    # 除了淘寶和拼多多,抖音商城今年首次被列入,而百度網盤和敦煌網...也仍然在名單上
    "udn-2025-01": (
        ("taobao", "ustr-nml", 2024),
        ("pinduoduo", "ustr-nml", 2024),
        ("douyin-mall", "ustr-nml", 2024),
        ("baidu-wangpan", "ustr-nml", 2024),
    ),
}


def edition_key_2(text: str) -> tuple[str, int]:
    """'USTR-NML 2025' -> ('ustr-nml', 2025)."""
    m = re.fullmatch(r"(USTR-NML|EU-CPWL) (\d{4})", text.strip())
    if m is None:
        raise SystemExit(f"facts-2: cannot read edition {text!r}")
    return LISTS[m.group(1)], int(m.group(2))


def source_id_2(entry: dict[str, Any]) -> str:
    url = entry["source"]["url"]
    if url not in SOURCES_2:
        raise SystemExit(f"facts-2: no source id for {url!r}: add it to SOURCES_2")
    return SOURCES_2[url]


def confidence_2(entry: dict[str, Any]) -> tuple[str, str | None]:
    """An entry's confidence: stated ('LOW (...)'), or medium for a repost whose year the sheet
    infers from its content ('Medium-high confidence'), else high."""
    raw = entry.get("confidence")
    if raw is not None:
        return split_confidence(re.sub(r"^[A-Za-z]+", lambda m: m[0].lower(), str(raw)))
    basis = str(entry.get("year_basis") or "")
    if re.search(r"(?i)\bmedium", basis):
        return "medium", "an undated repost; its year is inferred from what it reports"
    return "high", None


def names_2(entry: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(name as printed, qualifier): 'MAGISTV (new)' -> ('MAGISTV', 'new')."""
    raw = entry.get("names") or entry.get("names_domains") or [entry["name"]]
    out = []
    for text in raw:
        m = re.fullmatch(r"(.+?) \((.+)\)", str(text).strip())
        out.append((m.group(1), m.group(2)) if m else (str(text).strip(), None))
    return out


def sources_2(facts2: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """sources.yaml records for the second sheet: title, address, what it supports, excerpts."""
    out: dict[str, dict[str, Any]] = {}
    for entry in facts2:
        sid = source_id_2(entry)
        list_id, year = edition_key_2(entry["edition"])
        row = out.setdefault(
            sid, {"title": "", "url": entry["source"]["url"], "supports": [], "excerpts": []}
        )
        title = str(entry["source"]["title"])
        if len(title) > len(row["title"]):  # later mentions of a source shorten its title
            row["title"] = title
        what = entry.get("fact") or ", ".join(n for n, _ in names_2(entry))
        side = f" {str(entry['list']).split()[0]}" if entry.get("list") else ""
        row["supports"].append(f"{LABELS[list_id]} {year}{side}: {what}")
        row["excerpts"].append(str(entry["excerpt"]))
    return {
        sid: {**row, "supports": "; ".join(row["supports"]) + " (second fact sheet)"}
        for sid, row in out.items()
    }


def add_listing(b: Build, new: dict[str, Any], sid: str) -> None:
    """Add a listing, or fold a further source into the one already there."""
    old = next(
        (x for x in b.listings if (x["list"], x["year"]) == (new["list"], new["year"])), None
    )
    if old is None:
        b.listings.append(new)
        return
    if sid in old["sources"]:  # one source naming the market twice (Music-Bazaar .com and .mobi)
        return
    _add(old["sources"], new["sources"])
    if old["status"] == "unknown" and new["status"] != "unknown":
        old["status"] = new["status"]
    level = new["confidence"]
    note = f"Also named by {sid}" + (f" ({level} confidence)" if level != "high" else "")
    old["notes"].append(note)
    old["confidence"] = min(old["confidence"], level, key=CONFIDENCES.index)


def apply_facts_2(
    facts2: list[dict[str, Any]], markets: dict[str, Build], editions: list[dict[str, Any]]
) -> None:
    """Fold the second sheet's facts into the markets and editions built from the first."""
    by_key = {(ed["list"], ed["year"]): ed for ed in editions}

    def edition(key: tuple[str, int]) -> dict[str, Any]:
        if key not in by_key:
            extra = EDITIONS_2.get(key)
            if extra is None:
                raise SystemExit(f"facts-2: new edition {key}: add it to EDITIONS_2")
            by_key[key] = {
                "list": key[0],
                "year": key[1],
                "label": f"{LABELS[key[0]]} {key[1]}",
                "released": extra["released"],
                "online_official": None,
                "physical_official": None,
                "physical_countries": [],
                "sources": [],
                "notes": [
                    f"Release date: {extra['released_basis']}",
                    f"Issue focus: {extra['issue_focus']}",
                ],
            }
            editions.append(by_key[key])
        return by_key[key]

    for entry in facts2:
        sid = source_id_2(entry)
        key = edition_key_2(entry["edition"])
        ed = edition(key)
        if "list" not in entry:  # a fact about the edition
            _add(ed["sources"], [sid])
            counts = entry.get("counts")
            if counts:
                for side in ("online", "physical"):
                    have = ed[f"{side}_official"]
                    if have not in (None, counts[side]):
                        raise SystemExit(f"facts-2: {key} {side} count {counts[side]} vs {have}")
                    ed[f"{side}_official"] = counts[side]
            text = str(entry["fact"])
            if counts:
                text += f": {counts['online']} online, {counts['physical']} physical"
            if entry.get("countries"):
                text += ": " + ", ".join(entry["countries"])
            ed["notes"].append(f"{text[0].upper()}{text[1:]} ({sid}).")
            if entry.get("note"):
                ed["notes"].append(f"{sid}: {entry['note']}")
            continue
        if entry.get("note"):
            ed["notes"].append(f"{sid}: {entry['note']}")
        level, why = confidence_2(entry)
        physical = str(entry["list"]).startswith("physical")
        for name, qualifier in names_2(entry):
            if name.casefold() in LEFT_OUT_2:
                ed["notes"].append(
                    f"{name} ({sid}, {level} confidence): {LEFT_OUT_2[name.casefold()]}."
                )
                continue
            notes = [f"Confidence {level}: {why}."] if why else []
            if entry.get("year_basis"):
                notes.append(f"Year: {entry['year_basis']}")
            status = clean_status(entry.get("status"))
            if qualifier == "new":
                status = "new"
                notes.append(
                    f"Status from the source, which names it among the new entries ({sid})."
                )
            elif qualifier is not None:
                notes.append(f"The source writes '{name} ({qualifier})'.")
            if physical:
                mid = PHYSICAL_NAMES.get((str(entry["name"]).casefold(), entry["country"]))
                if mid is None or mid not in markets:
                    raise SystemExit(f"facts-2: no physical market for {entry['name']!r}")
                b = markets[mid]
                if entry.get("city") and entry["city"] != b.city:
                    notes.append(f"City as the source gives it: {entry['city']}.")
                ids: tuple[str, ...] = (mid,)
            else:
                ids = online_ids(name)
            for mid in ids:
                b = markets[mid] if mid in markets else markets.setdefault(mid, new_online(mid))
                merge_facts_2(b, entry, name, sid)
                listing = {
                    "list": key[0],
                    "year": key[1],
                    "status": status,
                    "listed_as": name,
                    "sources": [sid],
                    "scope": [],
                    "confidence": level,
                    "notes": list(notes),
                }
                add_listing(b, listing, sid)
    for sid, named in ALSO_NAMED_2.items():
        for mid, list_id, year in named:
            b = markets[mid]
            lst = next(x for x in b.listings if (x["list"], x["year"]) == (list_id, year))
            _add(lst["sources"], [sid])
            lst["notes"].append(f"Also named by {sid}")
    editions.sort(key=lambda ed: (ed["list"] != "ustr-nml", ed["year"]))


def merge_facts_2(b: Build, entry: dict[str, Any], name: str, sid: str) -> None:
    """Market-level facts of a second-sheet entry: hosts named by the entry, stated countries."""
    if entry.get("names_domains"):
        # Domains of a market that has none yet are its hosts; further ones are alias hosts.
        key = "alias_hosts" if b.hosts else "hosts"
        for host in re.findall(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+", name.lower()):
            if host in b.hosts or host in b.alias_hosts:
                continue
            _add(getattr(b, key), [host])
            b.add_basis(
                key, f"{host}: {sid} names it '{name}' (the listed name is itself a domain)"
            )
    _add(b.hosts, [parent_host(h) for h in entry.get("domains") or [] if h not in b.alias_hosts])
    stated = {**(entry.get("countries_stated") or {}), **(entry.get("country_stated") or {})}
    for who, where in stated.items():
        if who.casefold() == name.casefold():
            b.add_basis("country", f"{sid}: {where}")
    country = clean_country(entry.get("country"))
    if country and not b.physical:
        if b.country is None:
            b.country = country
        elif b.country != country:
            raise SystemExit(f"{b.id}: country {country!r} vs {b.country!r} ({sid})")


# ---------------------------------------------------------------------------------------------
def build(
    facts: dict[str, Any], facts2: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    markets: dict[str, Build] = {}
    editions: list[dict[str, Any]] = []

    def market(mid: str) -> Build:
        if mid not in markets:
            markets[mid] = new_online(mid)
        return markets[mid]

    for report in facts["reports"]:
        list_id = LISTS[report["list"]]
        year = int(report["year"])
        eu = list_id == "eu-cpwl"
        for entry in report.get("online") or []:
            for mid in online_ids(entry["name"]):
                b = market(mid)
                merge_online(b, entry, eu=eu)
                lst = listing_for(entry, list_id, year, name=entry["name"])
                if mid == "amazon":
                    lst["scope"] = list(entry["domains"])
                b.listings.append(lst)
        for entry in report.get("physical") or []:
            key = (entry["name"].casefold(), entry["country"])
            mid = PHYSICAL_NAMES.get(key)
            if mid is None:
                raise SystemExit(f"no market id for physical entry {key!r}")
            if mid not in markets:
                row = PHYSICAL[mid]
                b = Build(id=mid, name=row["name"], kind="physical", physical=True)
                b.city = row["city"]
                b.country = entry["country"]
                _add(b.names, [row["name"], *row.get("names", [])])
                for k, text in row.get("basis", {}).items():
                    b.add_basis(k, text)
                markets[mid] = b
            b = markets[mid]
            if b.country != entry["country"]:
                raise SystemExit(f"{mid}: country mismatch")
            _add(b.names, [entry["name"]])
            for raw in entry.get("name_variants") or []:
                names, note = split_variant(raw)
                _add(b.names, names)
                b.add_basis("names", note)
            _add(b.names, entry.get("sub_markets") or [])
            lst = listing_for(entry, list_id, year, name=entry["name"])
            if entry.get("sub_markets"):
                lst["notes"].append("Sub-markets: " + ", ".join(entry["sub_markets"]) + ".")
            b.listings.append(lst)
        editions.append(edition_of(report, list_id, year))

    apply_facts_2(facts2, markets, editions)
    add_eu_2020_implied(facts, markets)
    for mid, row in ADDITIONS.items():
        b = Build(id=mid, name=row["name"], kind=row["kind"], physical=False)
        b.country = row.get("country")
        b.owner = row["owner"]
        b.description = row["description"]
        b.confidence = row["confidence"]
        _add(b.names, [row["name"], *row.get("names", [])])
        _add(b.hosts, row["hosts"])
        _add(b.sources, row.get("sources", []))
        for k, text in row["basis"].items():
            b.add_basis(k, text)
        markets[mid] = b

    for (mid, list_id, year), fix in LISTING_FIX.items():
        lst = next(x for x in markets[mid].listings if (x["list"], x["year"]) == (list_id, year))
        lst["status"] = fix.get("status", lst["status"])
        lst["confidence"] = fix.get("confidence", lst["confidence"])
        lst["notes"].append(fix["note"])

    derive_statuses(markets, editions)
    for b in markets.values():
        b.listings.sort(key=lambda x: (x["list"] != "ustr-nml", x["year"]))
        if b.confidence is None:
            levels = [x["confidence"] for x in b.listings] or ["medium"]
            b.confidence = min(levels, key=CONFIDENCES.index)
            if b.confidence == "high" and any(WIDELY in t for v in b.basis.values() for t in v):
                b.confidence = "medium"  # a fact beyond the fact sheets caps the market's

    check_completeness(markets, editions)
    check_against_fact_sheet(facts, markets)
    doc_markets = {
        "schema": 1,
        "editions": editions,
        "owners": [owner_doc(oid, row) for oid, row in OWNERS.items()],
        "markets": [market_doc(b) for b in sorted(markets.values(), key=sort_key)],
    }
    doc_sources = {
        "sources": {
            s["id"]: {"title": s["title"], "url": s["url"], "supports": s["supports"]}
            for s in facts["sources"]
        }
    }
    for sid, row in sources_2(facts2).items():
        if sid in doc_sources["sources"]:
            raise SystemExit(f"facts-2: source id {sid!r} is already in the first sheet")
        doc_sources["sources"][sid] = row
    return doc_markets, doc_sources


def sort_key(b: Build) -> tuple[int, str]:
    return (1 if b.physical else 0, b.id)


def add_eu_2020_implied(facts: dict[str, Any], markets: dict[str, Build]) -> None:
    """EU 2022 removals and 'continuing' entries imply an EU 2020 listing (medium confidence)."""
    eu2022 = next(r for r in facts["reports"] if r["list"] == "EU-CPWL" and r["year"] == 2022)
    removed_sources = re.findall(r"[a-z0-9-]+-\d{4}-\d{2}", eu2022["removed_basis"])
    implied: list[tuple[str, str, list[str], str]] = []
    for text in eu2022["removed_since_previous"]:
        mid, listed_as = EU_REMOVED_2022[text]
        why = text.split(" - ", 1)[1]
        implied.append(
            (
                mid,
                listed_as,
                removed_sources,
                "Not named by a 2020 source here: EU CPWL 2022 coverage says it is no longer "
                f"listed ({why}), so it was on the 2020 list (inference).",
            )
        )
    for entry in eu2022["online"]:
        if entry.get("status") == "continuing (per sources)":
            for mid in online_ids(entry["name"]):
                implied.append(
                    (
                        mid,
                        entry["name"],
                        list(entry["sources"]),
                        "Not named by a 2020 source here: EU CPWL 2022 coverage says the list "
                        "still names it (status continuing), so it was on the 2020 list "
                        "(inference); listed_as is the 2022 name.",
                    )
                )
    for mid, listed_as, sources, note in implied:
        b = markets[mid] if mid in markets else markets.setdefault(mid, new_online(mid))
        if any((x["list"], x["year"]) == ("eu-cpwl", 2020) for x in b.listings):
            continue
        b.listings.append(
            {
                "list": "eu-cpwl",
                "year": 2020,
                "status": "unknown",
                "listed_as": listed_as,
                "sources": sources,
                "scope": [],
                "confidence": "medium",
                "notes": [note],
            }
        )


def derive_statuses(markets: dict[str, Build], editions: list[dict[str, Any]]) -> None:
    """Fill 'unknown' statuses that the data itself settles; say so in the listing notes."""
    years: dict[str, list[int]] = {}
    for ed in editions:
        years.setdefault(ed["list"], []).append(ed["year"])
    for b in markets.values():
        have = {(x["list"], x["year"]) for x in b.listings}
        for lst in b.listings:
            if lst["status"] != "unknown":
                continue
            order = sorted(years[lst["list"]])
            i = order.index(lst["year"])
            if lst["year"] == FIRST_EDITION.get(lst["list"]):
                lst["status"] = "new"
                lst["notes"].append(
                    f"Status derived: {LABELS[lst['list']]} {lst['year']} is the first edition "
                    "of the list."
                )
            elif i > 0 and (lst["list"], order[i - 1]) in have:
                prev = order[i - 1]
                lst["status"] = "continuing"
                lst["notes"].append(
                    f"Status derived: also listed in {LABELS[lst['list']]} {prev} in this data."
                )
            elif i > 0 and (lst["list"], order[i - 1]) in COMPLETE and not b.physical:
                earlier = [y for (li, y) in have if li == lst["list"] and y < order[i - 1]]
                if earlier:
                    lst["status"] = "returning"
                    lst["notes"].append(
                        f"Status derived: absent from the complete {LABELS[lst['list']]} "
                        f"{order[i - 1]} online list, listed in {min(earlier)}."
                    )


def strip_section(name: str) -> str | None:
    if name.startswith("["):
        return None
    name = re.sub(r" \((blank|blank in extraction|TOC typo [^)]*)\)$", "", name)
    return None if name.startswith("(") else name


def edition_of(report: dict[str, Any], list_id: str, year: int) -> dict[str, Any]:
    counts = report.get("counts") or {}
    released = str(report["released"])
    notes: list[str] = []
    m = re.fullmatch(r"(\d{4}-\d{2}) \((.+)\)", released)
    if m:
        released = m.group(1)
        notes.append(f"Release date: {m.group(2)}.")
    if "online_services" in counts:
        online = int(str(counts["online_services"]).split()[0])
        notes.append(f"Online count: {counts['online_services']}.")
    else:
        online = counts.get("online")
    captured = report.get("captured") or {}
    for key in ("online", "physical"):
        if key in captured:
            notes.append(f"Captured {key} (fact sheet): {captured[key]}.")
    if report.get("issue_focus"):
        notes.append(f"Issue focus: {report['issue_focus']}.")
    if report.get("document"):
        notes.append(f"Document: {report['document']}.")
    if report.get("official_pdf"):
        notes.append(f"Official report: {report['official_pdf']}")
    if report.get("notes"):
        notes.append(str(report["notes"]))
    for fact in report.get("physical_other_facts") or []:
        notes.append(str(fact))
    summary = report.get("china_summary")
    if summary:
        notes.append(
            f"China: {len(summary['online'])} online markets, "
            f"{summary['physical_count_in_china']} physical markets "
            f"({', '.join(summary['sources'])})."
        )
    for key in ("added_since_previous", "removed_since_previous"):
        block = report.get(key)
        if isinstance(block, dict):
            notes.append(f"{key.replace('_', ' ').capitalize()}: {block['basis']}.")
        elif isinstance(block, list):
            notes.append(f"Removed since the previous edition: {'; '.join(block)}.")
    if report.get("removed_basis"):
        notes.append(f"Removals per {report['removed_basis']}.")
    for item in report.get("not_listed") or []:
        notes.append(f"Not listed: {item}.")
    sections = report.get("physical_country_sections_in_toc") or report.get(
        "physical_countries_mentioned"
    )
    countries = [c for c in (strip_section(s) for s in sections or []) if c]
    raw_sections = [s for s in sections or [] if strip_section(s) is None]
    for s in raw_sections:
        notes.append(f"Physical-market countries, not recorded as a country: {s}.")
    sources = list(report.get("count_sources") or []) + list(report.get("sources") or [])
    sources += list(report.get("physical_country_sections_sources") or [])
    return {
        "list": list_id,
        "year": year,
        "label": f"{LABELS[list_id]} {year}",
        "released": released,
        "online_official": online,
        "physical_official": counts.get("physical"),
        "physical_countries": countries,
        "sources": list(dict.fromkeys(sources)),
        "notes": notes,
    }


def check_completeness(markets: dict[str, Build], editions: list[dict[str, Any]]) -> None:
    """The editions whose online list the data holds in full must be the sheet's COMPLETE ones.

    The loader derives completeness the same way (captured online == official online).
    """
    complete = set()
    for ed in editions:
        key = (ed["list"], ed["year"])
        online = sum(
            1
            for b in markets.values()
            if not b.physical and any((x["list"], x["year"]) == key for x in b.listings)
        )
        if ed["online_official"] is not None and online > ed["online_official"]:
            raise SystemExit(
                f"{ed['label']}: {online} online listings, {ed['online_official']} official"
            )
        if online == ed["online_official"]:
            complete.add(key)
    if complete != COMPLETE:
        raise SystemExit(
            f"complete editions {sorted(complete)} differ from COMPLETE {sorted(COMPLETE)}"
        )


def check_against_fact_sheet(facts: dict[str, Any], markets: dict[str, Build]) -> None:
    """The 2020 and 2021 online diffs must equal the fact sheet's added/removed headings."""
    for report in facts["reports"]:
        if report["list"] != "USTR-NML" or "added_since_previous" not in report:
            continue
        year = report["year"]

        def online_in(y: int) -> set[str]:
            return {
                b.id
                for b in markets.values()
                if not b.physical
                and any((x["list"], x["year"]) == ("ustr-nml", y) for x in b.listings)
            }

        new, old = online_in(year), online_in(year - 1)
        want_added = {i for h in report["added_since_previous"]["headings"] for i in online_ids(h)}
        want_removed = {
            i for h in report["removed_since_previous"]["headings"] for i in online_ids(h)
        }
        if new - old != want_added or old - new != want_removed:
            raise SystemExit(
                f"{year}: diff mismatch: added {sorted(new - old)} vs {sorted(want_added)}, "
                f"removed {sorted(old - new)} vs {sorted(want_removed)}"
            )


def owner_doc(oid: str, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": oid,
        "name": row["name"],
        "names": row["names"],
        "hosts": row["hosts"],
        "basis": row["basis"],
    }


def market_doc(b: Build) -> dict[str, Any]:
    """One market; fields at their default (null, empty, confidence high) are left out."""
    doc: dict[str, Any] = {"id": b.id, "name": b.name, "kind": b.kind}
    optional: dict[str, Any] = {
        "country": b.country,
        "city": b.city,
        "owner": b.owner,
        "hosts": b.hosts,
        "alias_hosts": b.alias_hosts,
        "names": [n for n in b.names if n != b.name],
        "description": b.description,
        "confidence": None if b.confidence == "high" else b.confidence,
        "basis": {k: sentences(v) for k, v in b.basis.items()},
        "sources": b.sources,
    }
    doc.update({k: v for k, v in optional.items() if v})
    doc["listings"] = {f"{x['list']} {x['year']}": listing_doc(x, b.name) for x in b.listings}
    return doc


def sentences(parts: list[str]) -> str:
    """Join notes into one text, each ending with a full stop."""
    return " ".join(p if p.endswith((".", "?", "!")) else p + "." for p in parts)


def listing_doc(x: dict[str, Any], name: str) -> dict[str, Any]:
    # Source ids as one space-separated string: a listing cites up to 16 of them and one scalar
    # parses an order of magnitude faster than a sequence of 16 (load time is per YAML event).
    doc = {"status": x["status"]}
    if x["listed_as"] != name:
        doc["listed_as"] = x["listed_as"]
    doc["sources"] = " ".join(x["sources"])
    if x["scope"]:
        doc["scope"] = x["scope"]
    if x["confidence"] != "high":
        doc["confidence"] = x["confidence"]
    if x["notes"]:
        doc["notes"] = sentences(x["notes"])
    return doc


HEADER = """\
# GENERATED by tools/build_markets.py from notorious-markets-facts.yaml and -facts-2.yaml: edit a
# fact sheet or the mapping in the script, then rerun it. Never edit this file by hand.
"""


def render(doc: dict[str, Any], comment: str) -> str:
    return HEADER + comment + dump_yaml(doc)


MARKETS_COMMENT = """\
# The notorious-markets knowledge base: editions (list + year and the official counts; the loader
# counts the captured markets from the listings, and an edition is complete when its online list
# is all there), owners (parent companies) and markets (one record per platform or physical
# market, with its listings). Every listing names its sources (sources.yaml). 'basis' notes say
# where a fact comes from when it is not the listings' sources; 'confidence' carries doubt.
# Listings are keyed "<list> <year>"; their 'sources' are space-separated source ids and their
# 'listed_as' (the name as the list printed it) is left out when it is the market's name.
# Left out when at their default: country/city/owner/description (null), hosts/alias_hosts/
# names/scope (empty; 'names' never repeats 'name'), notes (none), confidence ("high").
"""
SOURCES_COMMENT = """\
# Sources cited by markets.yaml, copied from the reference fact sheets: id -> title, url, supports
# and, for the second sheet, the exact excerpts the facts rest on.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--reference",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"folder holding {' and '.join(SHEETS)} (default: ${REFERENCE_ENV}, else "
        "../shared/reference beside the repository)",
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output directory")
    parser.add_argument("--check", action="store_true", help="fail if the outputs are stale")
    args = parser.parse_args(argv)
    folder = reference_dir(args.reference)
    missing = [name for name in SHEETS if not (folder / name).is_file()]
    if missing:
        what = "the reference fact sheets" if len(missing) > 1 else "the reference fact sheet"
        print(
            f"{TOOL}: needs {what} {' and '.join(missing)}, not found in {folder}; pass "
            f"--reference DIR or set {REFERENCE_ENV}=DIR (default: ../shared/reference beside "
            "the repository)",
            file=sys.stderr,
        )
        return 2
    try:
        facts = load_yaml_file(folder / SHEETS[0])
        facts2 = load_yaml_file(folder / SHEETS[1])
    except DataError as exc:
        print(f"{TOOL}: {exc}", file=sys.stderr)
        return 1
    doc_markets, doc_sources = build(facts, facts2)
    outputs = {
        args.out / "markets.yaml": render(doc_markets, MARKETS_COMMENT),
        args.out / "sources.yaml": render(doc_sources, SOURCES_COMMENT),
    }
    stale = []
    for path, text in outputs.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(path)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    if args.check and stale:
        for path in stale:
            print(f"stale: {path} (rerun tools/build_markets.py)", file=sys.stderr)
        return 1
    if args.check:
        print(f"up to date with the fact sheets in {folder}: {', '.join(p.name for p in outputs)}")
    for path in stale:
        print(f"wrote {path}")
    return 0


def reference_dir(given: Path | None = None) -> Path:
    """Where the fact sheets are read from: ``given``, else $NOTORIOUS_SCREEN_REFERENCE, else
    ../shared/reference beside the repository."""
    import os

    if given is not None:
        return given
    env = os.environ.get(REFERENCE_ENV)
    return Path(env) if env else DEFAULT_REFERENCE


if __name__ == "__main__":
    sys.exit(main())
