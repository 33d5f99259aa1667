"""Deterministic generator of realistic crawl exports for benchmarks and examples.

    python benchmarks/generate.py ROWS OUT.csv [--seed 7] [--distinct-shops 600000]
                                  [--distinct-sellers 400000] [--distinct-names 400000]

A brand's crawl export is a table of listings: who sells (a seller name, as the crawler read
it), where (a URL), and what (title, price, currency, capture time). What makes such a file
hard is its cardinality, not its length: a million listings come from a few hundred thousand
sellers and web shops, whose popularity is very skewed (a few big sellers list thousands of
items, most sellers a handful), so the file has hundreds of thousands of distinct hosts and
seller names. This generator models that:

* Two populations, each drawn from with a Zipf law (exponent ``ZIPF_S``): marketplace sellers
  (``--distinct-sellers``; each has a platform, a store id and a name) and independent web
  shops (``--distinct-shops``; each has its own domain and a name). Entity attributes are
  derived from the entity's number alone, so a row depends only on the seed.
* Row mix (by share): a seller on a listed platform (45%), an independent web shop (40%,
  some on hosted-shop platforms: myshopify, eBay, Etsy), a lookalike domain of a listed
  platform (8%), a seller on an unlisted sister platform (Tmall, 1688, amazon.com, Temu: 4%),
  junk and dirty URLs (2%), rows with no URL that name a platform or physical market (1%).
* A URL is an item page or a store page, the host as crawlers capture it (storefront
  subdomains such as ``shop123.taobao.com``, ``www.`` or bare or ``shop.`` in front of a web
  shop's domain, short links, mobile and country sites).
* Names are company-style names in English, Chinese, Indonesian, Vietnamese, Russian, Thai,
  Korean, Japanese, Arabic, Turkish, Portuguese and Spanish, with cities, numbers, legal
  suffixes and shop words, marketplace user names, a few percent naming a platform (some
  misspelt, some on another platform than the one named: "Taobao Outlet" on eBay), names that
  use a market's name as a common word ("Mega Store"), and the mess of real exports (case,
  spacing, emoji, brackets, empty cells). A name comes from a pool of ``--distinct-names``
  names by the entity's number, so several entities may share one, as they do in real data.

The generator knows nothing of the library: its hosts, names and paths are written out here,
so the benchmark does not test the library against itself.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import itertools
import random
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack

Row = tuple[str, str]

#: Popularity skew of sellers and shops (row share of the entity of rank r ~ r ** -ZIPF_S).
ZIPF_S = 0.9
#: Web shops have a longer tail than marketplace sellers: rogue shops come and go.
SHOP_ZIPF_S = 0.7
DEFAULT_SHOPS = 1_500_000
DEFAULT_SELLERS = 1_000_000
DEFAULT_NAMES = 400_000

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_LOWER = "abcdefghijklmnopqrstuvwxyz"


def _token(rng: random.Random, n: int, alphabet: str = _ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


class Zipf:
    """Draws 0..n-1 with P(k) ~ (k + 1) ** -s by inverse transform (one bisect per draw)."""

    def __init__(self, n: int, s: float = ZIPF_S) -> None:
        self.cum = list(itertools.accumulate((k + 1) ** -s for k in range(n)))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> int:
        return min(bisect.bisect(self.cum, rng.random() * self.total), len(self.cum) - 1)


def _entity_rng(seed: int, kind: int, number: int) -> random.Random:
    # An entity's attributes depend on its number only, not on when it is first drawn.
    return random.Random(seed * 1_000_000_007 + kind * 100_000_000_003 + number)


# ---- names --------------------------------------------------------------------------------
_CITIES = (
    "Shenzhen", "Guangzhou", "Yiwu", "Dongguan", "Ningbo", "Hangzhou", "Xiamen", "Quanzhou",
    "Putian", "Wenzhou", "Jinjiang", "Foshan", "Hong Kong", "Jakarta", "Surabaya", "Bandung",
    "Ho Chi Minh", "Hanoi", "Manila", "Bangkok", "Kuala Lumpur", "Mumbai", "Delhi", "Istanbul",
    "Dubai", "Sao Paulo", "Mexico", "Lagos", "Moscow", "Almaty", "Lima", "Bogota",
)  # fmt: skip
_WORDS = (
    "Lucky", "Golden", "Sunny", "Bright", "Star", "Rising", "Harmony", "Prosper", "Ever", "Royal",
    "Grand", "Fortune", "Jade", "Dragon", "Phoenix", "Ocean", "Crystal", "Silver", "Pioneer",
    "Victory", "Unity", "Blue", "Green", "Red", "Happy", "Smart", "Prime", "Noble", "Elite",
    "Joy", "Wise", "Swift", "Trend", "Urban", "Modern", "Classic", "Vintage", "Pure", "Fresh",
    "Alpha", "Nova", "Zen", "Peak", "Summit", "Delta", "Orient", "Pacific", "Atlas", "Apex",
)  # fmt: skip
_INDUSTRY = (
    "Electronics", "Trading", "Garments", "Textile", "Leather", "Footwear", "Bags", "Watches",
    "Cosmetics", "Sporting Goods", "Apparel", "Accessories", "Import & Export", "Technology",
    "Industrial", "Handbags", "Shoes", "Jewelry", "Optical", "Toys", "Digital", "Fashion",
)  # fmt: skip
_LEGAL = (
    "Co., Ltd", "Co.,Ltd.", "Ltd", "Limited", "LLC", "Inc.", "Trading Co., Ltd",
    "Industrial Co., Ltd", "Technology Co., Limited", "Corp.", "Group",
)  # fmt: skip
_SHOPWORDS = ("Store", "Shop", "Official Store", "Flagship Store", "Outlet", "Boutique",
              "Mall", "Factory Store", "Direct", "Wholesale", "Online", "Deals")  # fmt: skip
_FIRST = ("Maria", "Anna", "John", "Ali", "Wei", "Li", "Chen", "Nguyen", "Budi", "Siti",
          "Raj", "Olga", "Ivan", "Carlos", "Ana", "Mehmet", "Fatima", "Kim", "Yuki",
          "Somchai")  # fmt: skip

_ZH_CITY = ("深圳", "广州", "义乌", "东莞", "宁波", "杭州", "厦门", "泉州", "莆田", "温州",
            "晋江", "佛山", "上海", "北京", "苏州", "福州")  # fmt: skip
_ZH_WORD = tuple("金华鑫盛达兴恒利隆丰顺宏嘉瑞祥源腾博创优美佳星辉龙凤新天")
_ZH_INDUSTRY = ("电子", "服饰", "鞋业", "皮具", "箱包", "手表", "化妆品", "贸易", "科技",
                "体育用品", "饰品", "眼镜", "玩具", "数码", "时尚", "针织")  # fmt: skip
_ZH_SUFFIX = ("有限公司", "贸易有限公司", "商行", "旗舰店", "专卖店", "专营店", "工厂店",
              "精品店", "小店", "官方旗舰店", "服饰店", "")  # fmt: skip

_ID_WORDS = ("Sumber", "Rejeki", "Jaya", "Makmur", "Berkah", "Abadi", "Sentosa", "Mandiri",
             "Sejahtera", "Murah", "Grosir", "Original", "Bintang", "Cahaya")  # fmt: skip
_VI_WORDS = ("Minh Anh", "Thảo Nguyên", "Hoàng Gia", "Phúc Lộc", "Thiên Long", "Bảo Ngọc",
             "Hạnh Phúc", "Đông Á", "Sài Gòn", "Hà Nội", "Việt Tiến", "Kim Cương")  # fmt: skip
_RU_WORDS = ("Ромашка", "Восток", "Меридиан", "Стиль", "Сибирь", "Альфа", "Гранит", "Мода",
             "Звезда", "Северный", "Торговый дом", "Лидер")  # fmt: skip
_RU_SURNAMES = ("Иванов", "Петрова", "Смирнов", "Кузнецова", "Попов", "Соколов")
_TH_WORDS = ("แฟชั่น", "กระเป๋า", "รองเท้า", "นาฬิกา", "เสื้อผ้า", "ของแท้", "ราคาถูก", "สยาม")
_KO_WORDS = ("패션", "명품", "스타일", "가방", "신발", "시계", "코리아", "트렌드")
_JA_WORDS = ("ファッション", "ブランド", "スタイル", "バッグ", "シューズ", "東京", "大阪")
_AR_WORDS = ("الأناقة", "النجمة", "الخليج", "الموضة", "الذهبي", "الشرق")
_TR_WORDS = ("Yıldız", "Güneş", "Öztürk", "Çelik", "Ağaoğlu", "Şahin", "Doğan")
_PT_ES_WORDS = ("Estrela", "Sol", "Moda", "Elegância", "Bonita", "Luz", "Imperio", "Mañana",
                "Dorado", "Fénix", "Estilo", "Corazón")  # fmt: skip

# Names that name a platform (as written by sellers: spacing, case and spelling vary).
_PLATFORM_WORDS = (
    "Taobao", "TaoBao", "Tao Bao", "AliExpress", "Ali Express", "Aliexpress", "DHgate",
    "DH Gate", "Shopee", "Tokopedia", "Bukalapak", "Pinduoduo", "Amazon", "Tmall", "1688",
    "Alibaba", "WeChat", "Weidian", "IndiaMART", "Mercado Libre", "Temu", "淘宝", "天猫",
    "拼多多", "速卖通", "微店", "阿里巴巴",
)  # fmt: skip
_PLATFORM_TYPOS = ("Aliexpres", "Alliexpress", "Aliexpresss", "Taobo", "Tabao", "Shoppe",
                   "Shoppee", "Tokopedi", "Dhgat", "Pindoudou", "Amazone", "Bukalpak")  # fmt: skip
# Market names that are common words: the word in its ordinary sense, not the platform.
_COMMON_WORD_NAMES = ("Mega Store", "Mega Deals", "Mega Mall Outlet", "Spider Man Toys",
                      "Spider Outdoor Gear", "Red Spider Shop", "Mega Sale Center")  # fmt: skip
_EMOJI = ("🔥", "⭐", "✨", "💯", "🛍️", "👟", "❤️")


def _name(rng: random.Random) -> str:
    """One seller name, as a marketplace or web shop shows it."""
    r = rng.random()
    w = rng.choice
    n = rng.randrange(1, 10_000)
    if r < 0.30:
        return rng.choice(
            (
                f"{w(_CITIES)} {w(_WORDS)} {w(_INDUSTRY)} {w(_LEGAL)}",
                f"{w(_WORDS)} {w(_WORDS)} {w(_INDUSTRY)} {w(_LEGAL)}",
                f"{w(_WORDS)} {w(_INDUSTRY)} {w(_SHOPWORDS)}",
                f"{w(_WORDS)}{w(_WORDS).lower()} {w(_SHOPWORDS)}",
                f"{w(_FIRST)}'s {w(_INDUSTRY)} {w(_SHOPWORDS)}",
                f"{w(_WORDS)} {w(_INDUSTRY)} {n}",
            )
        )
    if r < 0.52:
        return rng.choice(
            (
                f"{w(_ZH_CITY)}市{w(_ZH_WORD)}{w(_ZH_WORD)}{w(_ZH_INDUSTRY)}{w(_ZH_SUFFIX)}",
                f"{w(_ZH_WORD)}{w(_ZH_WORD)}{w(_ZH_INDUSTRY)}{w(_ZH_SUFFIX)}",
                f"{w(_ZH_CITY)}{w(_ZH_WORD)}{w(_ZH_WORD)}{w(_ZH_SUFFIX)}",
                f"{w(_ZH_WORD)}{w(_ZH_WORD)}{w(_ZH_WORD)}的店{n}",
            )
        )
    if r < 0.70:
        return rng.choice(
            (
                f"Toko {w(_ID_WORDS)} {w(_ID_WORDS)}",
                f"{w(_ID_WORDS)} {w(_ID_WORDS)} Official Shop",
                f"Shop {w(_VI_WORDS)} {n}",
                f"Cửa hàng {w(_VI_WORDS)}",
                f"ООО «{w(_RU_WORDS)}»",
                f"ИП {w(_RU_SURNAMES)}",
                f"ร้าน{w(_TH_WORDS)}{w(_TH_WORDS)}",
                f"{w(_KO_WORDS)}{w(_KO_WORDS)} 샵",
                f"{w(_JA_WORDS)}{w(_JA_WORDS)}ストア",
                f"متجر {w(_AR_WORDS)}",
                f"{w(_TR_WORDS)} Tekstil Ltd. Şti.",
                f"Loja {w(_PT_ES_WORDS)} Ltda",
                f"Tienda {w(_PT_ES_WORDS)} S.A. de C.V.",
            )
        )
    if r < 0.94:
        # Marketplace user names and numbered stores.
        return rng.choice(
            (
                f"shop{rng.randrange(10**4, 10**9)}",
                f"Store {n}",
                f"{w(_WORDS).lower()}{w(_INDUSTRY).split()[0].lower()}{rng.randrange(100)}",
                f"{_token(rng, rng.randrange(5, 11), _LOWER)}{rng.randrange(10, 9999)}",
                f"{w(_FIRST).lower()}_{_token(rng, 4)}",
                f"{w(_WORDS)} {w(_SHOPWORDS)} {n}",
            )
        )
    if r < 0.97:
        platform = w(_PLATFORM_TYPOS) if rng.random() < 0.25 else w(_PLATFORM_WORDS)
        return rng.choice(
            (
                f"{platform} {w(_SHOPWORDS)} {n}",
                f"{platform} {w(_SHOPWORDS)}",
                f"Official {platform} {w(_SHOPWORDS)}",
                f"{w(_WORDS)} {platform} {w(_SHOPWORDS)}",
                f"{platform}{w(_ZH_SUFFIX)}",
            )
        )
    return f"{w(_COMMON_WORD_NAMES)} {n}" if rng.random() < 0.5 else w(_COMMON_WORD_NAMES)


def _messy(rng: random.Random, name: str) -> str:
    """What crawlers do to a name now and then."""
    r = rng.random()
    if r < 0.02:
        return name.upper()
    if r < 0.035:
        return f"  {name} "
    if r < 0.045:
        return f"{rng.choice(_EMOJI)} {name} {rng.choice(_EMOJI)}"
    if r < 0.05:
        return f"【{name}】"
    if r < 0.08:
        return ""  # no seller name captured
    return name


class Names:
    """The pool of seller names: name k is fixed by the seed and k alone."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.seed = seed
        self._cache: dict[int, str] = {}

    def __getitem__(self, entity: int) -> str:
        k = (entity * 2_654_435_761) % self.size  # entities spread over the pool
        found = self._cache.get(k)
        if found is None:
            found = self._cache[k] = _name(_entity_rng(self.seed, 1, k))
        return found


# ---- marketplace sellers ------------------------------------------------------------------
def _slug(rng: random.Random) -> str:
    return rng.choice(
        (
            _token(rng, rng.randrange(6, 14), _LOWER),
            f"{rng.choice(_WORDS).lower()}{rng.choice(_INDUSTRY).split()[0].lower()}",
            f"{rng.choice(_WORDS).lower()}-{rng.choice(_INDUSTRY).split()[0].lower()}"
            f"-{rng.randrange(1000)}",
        )
    )


class _Fields(dict[str, str]):
    """The placeholders of a URL template, each drawn only when the template names it."""

    def __init__(self, rng: random.Random, store: int, slug: str) -> None:
        super().__init__(store=str(store), slug=slug, flat=slug.replace("-", ""))
        self.rng = rng

    def __missing__(self, key: str) -> str:
        r = self.rng
        if key.startswith("n"):  # n9: a 9-to-10-digit number, n12: 12-to-13 ...
            digits = int(key[1:])
            return str(r.randrange(10 ** (digits - 1), 10**digits))
        if key.startswith("tok"):
            return _token(r, int(key[3:]))
        if key == "asin":
            return "B0" + _token(r, 8, _UPPER)
        if key == "seller":
            return "A" + _token(r, 13, _UPPER)
        if key == "item":
            return _token(r, 12, _LOWER)
        raise KeyError(key)


_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
# A platform: (weight among its sellers, item URL templates, store URL templates). {store} and
# {slug} are the seller's; the other placeholders are drawn per row (see `_Fields`).
Platform = tuple[int, tuple[str, ...], tuple[str, ...]]
_LISTED: tuple[Platform, ...] = (
    (20, ("https://item.taobao.com/item.htm?id={n12}", "https://m.tb.cn/h.{tok7}",
          "https://world.taobao.com/item/{n12}.htm"),
         ("https://shop{store}.taobao.com/", "https://shop{store}.taobao.com/search.htm?search=y",
          "https://shop{store}.world.taobao.com/")),
    (15, ("https://www.aliexpress.com/item/{n13}.html", "https://aliexpress.ru/item/{n13}.html",
          "https://s.click.aliexpress.com/e/_{tok7}", "https://m.aliexpress.com/item/{n13}.html"),
         ("https://www.aliexpress.com/store/{store}",
          "https://aliexpress.com/store/{store}/search?SortType=bestmatch")),
    (8, ("https://www.dhgate.com/product/{slug}/{n9}.html", "https://m.dhgate.com/product/{n9}.html"),
        ("https://www.dhgate.com/store/{store}",)),
    (10, ("https://shopee.co.id/product/{store}/{n11}", "https://shopee.vn/{slug}-i.{store}.{n11}",
          "https://shopee.ph/{slug}-i.{store}.{n11}"),
         ("https://shopee.co.id/{slug}", "https://shopee.com.my/shop/{store}")),
    (5, ("https://www.tokopedia.com/{slug}/{item}-{n6}",), ("https://www.tokopedia.com/{slug}",)),
    (2, ("https://www.bukalapak.com/p/{item}-{n6}",), ("https://www.bukalapak.com/u/{slug}",)),
    (5, ("https://mobile.yangkeduo.com/goods.html?goods_id={n11}",),
        ("https://mobile.yangkeduo.com/mall_page.html?mall_id={store}",)),
    (4, ("https://www.amazon.de/dp/{asin}", "https://www.amazon.co.uk/dp/{asin}",
         "https://www.amazon.fr/dp/{asin}", "https://www.amazon.it/dp/{asin}"),
        ("https://www.amazon.de/sp?seller={seller}",)),
    (2, ("https://weidian.com/item.html?itemID={n11}",), ("https://weidian.com/?userid={store}",)),
    (3, ("https://www.indiamart.com/proddetail/{slug}-{n11}.html",),
        ("https://www.indiamart.com/{slug}/",)),
    (2, ("https://pan.baidu.com/s/1{tok22}",), ("https://pan.baidu.com/share/home?uk={store}",)),
    (3, ("https://mp.weixin.qq.com/s/{tok22}",), ("https://mp.weixin.qq.com/s/{tok22}",)),
    (2, ("https://vk.com/wall-{store}_{n5}",), ("https://vk.com/{slug}",)),
)  # fmt: skip
_SISTER: tuple[Platform, ...] = (
    (8, ("https://detail.tmall.com/item.htm?id={n12}",), ("https://{flat}.tmall.com/",)),
    (4, ("https://detail.1688.com/offer/{n12}.html",), ("https://{flat}.1688.com/",)),
    (4, ("https://www.amazon.com/dp/{asin}",), ("https://www.amazon.com/sp?seller={seller}",)),
    (3, ("https://www.temu.com/goods.html?goods_id={n12}",),
        ("https://www.temu.com/{slug}-m-{store}.html",)),
)  # fmt: skip


# ---- independent web shops ----------------------------------------------------------------
_ADJ = ("blue", "green", "red", "happy", "sunny", "urban", "little", "royal", "golden",
        "silver", "wild", "fresh", "bright", "quiet", "rapid", "smart", "noble", "lucky", "cozy",
        "prime", "simple", "modern", "classic", "vintage", "pure", "best", "cheap", "top",
        "super", "mega", "star", "nova", "city", "eco", "my", "the")  # fmt: skip
_NOUN = ("fox", "river", "stone", "garden", "market", "studio", "harbor", "forest", "lamp",
         "kitchen", "bike", "shoe", "bag", "watch", "boutique", "closet", "corner", "bazaar",
         "atelier", "loft", "works", "supply", "trading", "goods", "outlet", "sneaker", "kicks",
         "style", "wear", "fashion", "deals", "store", "shop", "mall", "brand", "luxe")  # fmt: skip
_TLDS = ("com", "com", "com", "com", "net", "shop", "store", "online", "top", "xyz", "de",
         "co.uk", "fr", "it", "es", "nl", "com.br", "com.au", "ca", "ru", "in", "co", "us",
         "jp", "pl", "com.mx", "vip", "club")  # fmt: skip
_SHOP_PATHS = ("/", "/products/", "/collections/sale/", "/item/", "/p/", "/product-page/",
               "/shop/", "/index.php?route=product/product&product_id=")  # fmt: skip


def _shop_domain(rng: random.Random, number: int) -> str:
    a, b = rng.choice(_ADJ), rng.choice(_NOUN)
    sep = rng.choice(("", "", "", "-"))
    tail = str(number // (len(_ADJ) * len(_NOUN))) if number >= 2000 else ""
    return f"{a}{sep}{b}{tail}.{rng.choice(_TLDS)}"


def _web_shop(rng: random.Random, number: int, slug: str) -> Callable[[random.Random], str]:
    """A URL maker for one independent shop: its own domain, or a hosted shop."""
    r = rng.random()
    flat = slug.replace("-", "")
    if r < 0.12:
        return lambda row: f"https://{flat}.myshopify.com/products/{_token(row, 8, _LOWER)}"
    if r < 0.17:
        user = f"{flat}{number % 1000}"
        return lambda row: row.choice(
            (
                f"https://www.ebay.co.uk/itm/{row.randrange(10**11, 10**12)}",
                f"https://www.ebay.com/usr/{user}",
                f"https://www.ebay.com/str/{user}",
            )
        )
    if r < 0.20:
        shop = slug.title().replace("-", "")
        return lambda row: f"https://www.etsy.com/shop/{shop}"
    domain = _shop_domain(rng, number)
    prefixes = rng.choice((("www.",), ("",), ("www.", ""), ("shop.",), ("www.", "m.")))
    return lambda row: (
        f"https://{row.choice(prefixes)}{domain}{row.choice(_SHOP_PATHS)}{row.randrange(10**6)}"
    )


# ---- lookalikes, junk, name-only rows -----------------------------------------------------
_LOOKALIKE_LABELS = ("aliexpress", "taobao", "dhgate", "pinduoduo", "tokopedia", "shopee",
                     "bukalapak", "indiamart", "weidian", "amazon")  # fmt: skip
_LOOKALIKE_WORDS = ("outlet", "sale", "official", "store", "shop", "deals", "buy", "mall",
                    "cheap", "vip", "online", "global")  # fmt: skip


def _lookalike_domain(rng: random.Random) -> str:
    """A domain a squatter might register: edits, combinations, other suffixes."""
    label = rng.choice(_LOOKALIKE_LABELS)
    r = rng.random()
    if r < 0.25:
        i = rng.randrange(len(label))
        label = label[:i] + label[i + 1 :]
    elif r < 0.45:
        i = rng.randrange(len(label))
        label = label[:i] + rng.choice(_LOWER) + label[i:]
    elif r < 0.6:
        i = rng.randrange(len(label))
        label = label[:i] + rng.choice(_LOWER) + label[i + 1 :]
    elif r < 0.85:
        word = rng.choice(_LOOKALIKE_WORDS)
        label = f"{label}-{word}" if rng.random() < 0.6 else f"{word}{label}"
    else:  # the label itself under a suffix no platform uses
        return f"{label}.{rng.choice(('shop', 'top', 'xyz', 'vip', 'online', 'store'))}"
    tld = rng.choice(("com", "net", "shop", "top", "xyz", "store", "online", "vip", "cc"))
    return f"{label}.{tld}"


_JUNK = (
    "", "N/A", "-", "null", "javascript:alert(1)", "mailto:seller@example.com", "http://",
    "not a url", "see listing", "hxxps://dhgate[.]com/product/x.html", "ＴＡＯＢＡＯ．ＣＯＭ/item",
    "  HTTPS://ITEM.TAOBAO.COM/item.htm?id=1  ", "http://user:pass@www.aliexpress.com:8080/item/1",
    "http://1.2.3.08/", '=HYPERLINK("http://evil.example")', "www.dhgate.com.", "http://[::1]/",
    "【淘宝】https://m.tb.cn/h.5DzQnKp 「正品运动鞋」点击链接直接打开", "taobao://item.taobao.com/item.htm?id=1",
)  # fmt: skip
# Rows with no URL at all: a platform or physical market named by an investigator.
_NAME_ONLY = (
    "Ali Express", "淘宝网", "拼多多", "百度网盘", "微信小店", "Silk Market, Beijing",
    "Huaqiangbei electronics mall", "DHgate", "Tepito, Mexico City", "Shopee", "Taobao seller",
)  # fmt: skip


class Generator:
    """The row stream for one seed and population sizes."""

    def __init__(self, *, seed: int, shops: int, sellers: int, names: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.names = Names(names, seed)
        self.shop_zipf = Zipf(shops, SHOP_ZIPF_S)
        self.seller_zipf = Zipf(sellers)
        self._sellers: dict[int, tuple[int, int, str, bool]] = {}
        self._shops: dict[int, Callable[[random.Random], str]] = {}
        self._listed_cum = list(itertools.accumulate(w for w, _, _ in _LISTED))
        self._sister_cum = list(itertools.accumulate(w for w, _, _ in _SISTER))
        self._lookalikes = [_lookalike_domain(_entity_rng(seed, 3, k)) for k in range(3000)]
        self._lookalike_zipf = Zipf(len(self._lookalikes))

    def _seller(self, number: int, sister: bool) -> tuple[int, int, str, bool]:
        key = number * 2 + sister
        found = self._sellers.get(key)
        if found is None:
            rng = _entity_rng(self.seed, 2 + 10 * sister, number)
            cum = self._sister_cum if sister else self._listed_cum
            platform = bisect.bisect(cum, rng.random() * cum[-1])
            store = rng.randrange(10**5, 10**10)
            found = self._sellers[key] = (platform, store, _slug(rng), rng.random() < 0.35)
        return found

    def _shop(self, number: int) -> Callable[[random.Random], str]:
        found = self._shops.get(number)
        if found is None:
            rng = _entity_rng(self.seed, 4, number)
            found = self._shops[number] = _web_shop(rng, number, _slug(rng))
        return found

    def rows(self, count: int) -> Iterator[Row]:
        rng = self.rng
        for _ in range(count):
            r = rng.random()
            if r < 0.45 or 0.93 <= r < 0.97:
                sister = r >= 0.93
                number = self.seller_zipf(rng)
                platform, store, slug, store_page = self._seller(number, sister)
                _, items, stores = (_SISTER if sister else _LISTED)[platform]
                templates = stores if store_page and rng.random() < 0.7 else items
                url = rng.choice(templates).format_map(_Fields(rng, store, slug))
                entity = number * 4 + sister
            elif r < 0.85:
                number = self.shop_zipf(rng)
                url = self._shop(number)(rng)
                entity = number * 4 + 2
            elif r < 0.93:
                k = self._lookalike_zipf(rng)
                url = f"https://{self._lookalikes[k]}/item/{rng.randrange(10**6)}"
                entity = k * 4 + 3
            elif r < 0.99:
                url = rng.choice(_JUNK)
                entity = rng.randrange(10**6) * 4 + 2
            else:
                yield "", rng.choice(_NAME_ONLY)
                continue
            yield url, _messy(rng, self.names[entity])


def generate(
    rows: int,
    *,
    seed: int = 7,
    distinct_shops: int = DEFAULT_SHOPS,
    distinct_sellers: int = DEFAULT_SELLERS,
    distinct_names: int = DEFAULT_NAMES,
) -> Iterator[Row]:
    """``rows`` (url, seller name) pairs; the same arguments give the same rows."""
    gen = Generator(seed=seed, shops=distinct_shops, sellers=distinct_sellers, names=distinct_names)
    return gen.rows(rows)


# The other columns of a crawl export: the listing's title, its price and currency, and when
# it was captured. They give rows the width of real exports (about 150 bytes), which every
# stage, from reading to writing, has to carry along.
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("output", help="CSV path, or - for stdout")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--distinct-shops", type=int, default=DEFAULT_SHOPS,
        help=f"independent web shops to draw from (default {DEFAULT_SHOPS:,})",
    )  # fmt: skip
    parser.add_argument(
        "--distinct-sellers", type=int, default=DEFAULT_SELLERS,
        help=f"marketplace sellers to draw from (default {DEFAULT_SELLERS:,})",
    )  # fmt: skip
    parser.add_argument(
        "--distinct-names", type=int, default=DEFAULT_NAMES,
        help=f"seller names in the pool (default {DEFAULT_NAMES:,})",
    )  # fmt: skip
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        out = (
            sys.stdout
            if args.output == "-"
            else stack.enter_context(open(args.output, "w", newline="", encoding="utf-8"))
        )
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        rows = generate(
            args.rows,
            seed=args.seed,
            distinct_shops=args.distinct_shops,
            distinct_sellers=args.distinct_sellers,
            distinct_names=args.distinct_names,
        )
        other = random.Random(args.seed + 1)  # its own stream: URLs and names stay the same
        for i, (url, name) in enumerate(rows):
            writer.writerow([i, url, name, *extra_columns(other)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
