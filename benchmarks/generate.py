"""Deterministic generator of realistic seller-URL tables for benchmarks and examples.

    python benchmarks/generate.py ROWS OUT.csv [--seed 7] [--distinct-shops 40000]

The mix (by row share): listed platforms with their subdomains, short links, mobile and
country domains and realistic item paths (45%); distinct unrelated shop domains (40%);
lookalikes of listed hosts (8%); unlisted sister platforms (4%); junk and dirty input (2%);
name-only rows naming a platform or physical market (1%).
Every row has a seller name, English or Chinese, and the other columns of a crawl export
(title, price, currency, capture time; see ``COLUMNS``). The generator knows nothing of the library:
its host lists are written out here, so the benchmark does not test the library against itself.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack

Row = tuple[str, str]

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def _token(rng: random.Random, n: int, alphabet: str = _ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _listed(rng: random.Random) -> str:
    """A URL on a listed platform, as crawlers capture them."""
    n = rng.randrange(10**9, 10**12)
    choices: list[Callable[[], str]] = [
        lambda: f"https://item.taobao.com/item.htm?id={n}",
        lambda: f"https://shop{rng.randrange(10**5, 10**8)}.taobao.com/",
        lambda: f"https://m.tb.cn/h.{_token(rng, 7)}",
        lambda: f"https://world.taobao.com/item/{n}.htm",
        lambda: f"https://www.aliexpress.com/item/{n}.html",
        lambda: f"https://aliexpress.ru/item/{n}.html",
        lambda: f"https://s.click.aliexpress.com/e/_{_token(rng, 7)}",
        lambda: f"https://www.dhgate.com/product/{_token(rng, 12)}/{n}.html",
        lambda: f"https://m.dhgate.com/product/{n}.html",
        lambda: f"https://mobile.yangkeduo.com/goods.html?goods_id={n}",
        lambda: f"https://pan.baidu.com/s/1{_token(rng, 22)}",
        lambda: f"https://mp.weixin.qq.com/s/{_token(rng, 22)}",
        lambda: f"https://shopee.co.id/product/{rng.randrange(10**6, 10**9)}/{n}",
        lambda: f"https://shopee.vn/{_token(rng, 10)}-i.{rng.randrange(10**6, 10**9)}.{n}",
        lambda: f"https://www.tokopedia.com/{_token(rng, 8)}/{_token(rng, 12)}",
        lambda: f"https://www.bukalapak.com/p/{_token(rng, 10)}",
        lambda: f"https://www.amazon.de/dp/B0{_token(rng, 8).upper()}",
        lambda: f"https://www.amazon.co.uk/dp/B0{_token(rng, 8).upper()}",
        lambda: f"https://weidian.com/item.html?itemID={n}",
        lambda: f"https://www.indiamart.com/proddetail/{_token(rng, 10)}-{n}.html",
    ]
    return rng.choice(choices)()


def _sister(rng: random.Random) -> str:
    """Unlisted platforms of owners that have a listed platform."""
    n = rng.randrange(10**9, 10**12)
    return rng.choice(
        [
            f"https://detail.tmall.com/item.htm?id={n}",
            f"https://{_token(rng, 6)}.tmall.com/",
            f"https://www.amazon.com/dp/B0{_token(rng, 8).upper()}",
            f"https://www.temu.com/goods.html?goods_id={n}",
        ]
    )


_LOOKALIKES = (
    "a1iexpress.com",
    "aliexpres.com",
    "aliexpress-outlet.shop",
    "aliexpress.shop",
    "taobao-official-store.com",
    "tao-bao.com",
    "taobaos.com",
    "dhgate.shop",
    "dhgatte.com",
    "buy-dhgate.com",
    "pinduoduo.top",
    "pindoudou.com",
    "xn--aliexpres-u9h.com",
    "taobao.com.login-verify.xyz",
    "tokopedia-sale.com",
    "shopee-official.net",
)

_ADJ = (
    "blue",
    "green",
    "red",
    "happy",
    "sunny",
    "urban",
    "little",
    "royal",
    "golden",
    "silver",
    "wild",
    "fresh",
    "bright",
    "quiet",
    "rapid",
    "smart",
    "noble",
    "lucky",
    "cozy",
    "prime",
    "simple",
    "modern",
    "classic",
    "vintage",
    "pure",
)
_NOUN = (
    "fox",
    "river",
    "stone",
    "garden",
    "market",
    "studio",
    "harbor",
    "forest",
    "lamp",
    "kitchen",
    "bike",
    "shoe",
    "bag",
    "watch",
    "boutique",
    "closet",
    "corner",
    "bazaar",
    "atelier",
    "loft",
    "works",
    "supply",
    "trading",
    "goods",
    "outlet",
)
_TLDS = (
    "com",
    "com",
    "com",
    "net",
    "shop",
    "store",
    "de",
    "co.uk",
    "fr",
    "it",
    "es",
    "nl",
    "com.br",
)
_SHOP_PATHS = ("/", "/products/", "/collections/sale/", "/item/", "/p/")


def _shop_domain(i: int) -> str:
    a = _ADJ[i % len(_ADJ)]
    b = _NOUN[(i // len(_ADJ)) % len(_NOUN)]
    k = i // (len(_ADJ) * len(_NOUN))
    tld = _TLDS[(i * 7) % len(_TLDS)]
    return f"{a}{b}{k if k else ''}.{tld}"


_JUNK = (
    "",
    "N/A",
    "javascript:alert(1)",
    "mailto:seller@example.com",
    "http://",
    "not a url",
    "hxxps://dhgate[.]com/product/x.html",
    "ＴＡＯＢＡＯ．ＣＯＭ/item",
    "  HTTPS://ITEM.TAOBAO.COM/item.htm?id=1  ",
    "http://user:pass@www.aliexpress.com:8080/item/1.html",
    "http://1.2.3.08/",
    '=HYPERLINK("http://evil.example")',
    "www.dhgate.com.",
    "http://[::1]/",
)

_NAMES_EN = (
    "Sunny Trading Co., Ltd",
    "Best Deals Official Store",
    "Shenzhen Lucky Electronics",
    "Fashion Outlet",
    "Guangzhou Bags Factory",
    "Global Sourcing Ltd",
    "Happy Shoes Shop",
    "Yiwu Market Supplier",
    "Trendy Watches",
    "Northwind Traders",
)
_NAMES_ZH = (
    "潮流服饰旗舰店",
    "深圳电子有限公司",
    "义乌小商品",
    "品牌专卖店",
    "时尚鞋包",
    "广州皮具厂",
)
# Rows with no URL at all: a platform or physical market named by an investigator.
_NAME_ONLY = (
    "Ali Express",
    "淘宝网",
    "拼多多",
    "百度网盘",
    "微信小店",
    "Silk Market, Beijing",
    "Huaqiangbei electronics mall",
    "DHgate",
    "Tepito, Mexico City",
)


def generate(rows: int, *, seed: int = 7, distinct_shops: int = 40_000) -> Iterator[Row]:
    rng = random.Random(seed)
    for _ in range(rows):
        r = rng.random()
        if r < 0.45:
            url = _listed(rng)
        elif r < 0.85:
            shop = _shop_domain(rng.randrange(distinct_shops))
            url = f"https://www.{shop}{rng.choice(_SHOP_PATHS)}{rng.randrange(10**6)}"
        elif r < 0.93:
            url = f"https://{rng.choice(_LOOKALIKES)}/item/{rng.randrange(10**6)}"
        elif r < 0.97:
            url = _sister(rng)
        elif r < 0.99:
            url = rng.choice(_JUNK)
        else:
            yield "", rng.choice(_NAME_ONLY)
            continue
        name = rng.choice(_NAMES_ZH) if rng.random() < 0.4 else rng.choice(_NAMES_EN)
        yield url, name


# The other columns of a crawl export: the listing's title, its price and currency, and when
# it was captured. They carry no signal for screening; they give rows the width of real
# exports (about 150 bytes, like the 1M-row, 150 MB reference file of the benchmark's issue),
# which every stage, from reading to writing, has to carry along.
COLUMNS = ("row_id", "url", "seller_name", "title", "price", "currency", "crawled_at")
_TITLE_WORDS = (
    "Original", "New", "2024", "Hot Sale", "Men's", "Women's", "Kids", "Luxury", "Designer",
    "Genuine", "Leather", "Cotton", "Running", "Sports", "Casual", "Shoes", "Sneakers",
    "Handbag", "Wallet", "Watch", "Sunglasses", "Wireless", "Earbuds", "Phone Case", "Hoodie",
    "T-Shirt", "Cap", "Belt", "Perfume", "Free Shipping", "Black", "White", "Size 42", "XL",
    "正品", "新款", "男士", "女士", "运动鞋", "手提包", "钱包", "手表", "太阳镜", "包邮",
)  # fmt: skip
_CURRENCIES = ("USD", "CNY", "EUR", "IDR", "VND", "RUB", "GBP", "INR")


def extra_columns(rng: random.Random) -> tuple[str, str, str, str]:
    """Title, price, currency and capture time for one row."""
    title = " ".join(rng.choice(_TITLE_WORDS) for _ in range(rng.randrange(4, 9)))
    price = f"{rng.randrange(1, 100_000) / 100:.2f}"
    day, second = rng.randrange(1, 29), rng.randrange(86_400)
    stamp = f"2026-11-{day:02d}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"
    return title, price, rng.choice(_CURRENCIES), stamp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("output", help="CSV path, or - for stdout")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--distinct-shops", type=int, default=40_000)
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        out = (
            sys.stdout
            if args.output == "-"
            else stack.enter_context(open(args.output, "w", newline="", encoding="utf-8"))
        )
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        rows = generate(args.rows, seed=args.seed, distinct_shops=args.distinct_shops)
        other = random.Random(args.seed + 1)  # its own stream: URLs and names stay the same
        for i, (url, name) in enumerate(rows):
            writer.writerow([i, url, name, *extra_columns(other)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
