"""Host and name -> which listed market this really is, who owns it, and how it was recognised.

A URL is tried in this order; the first step that recognises it decides (``Match.kind``):

1. ``exact``: the host is a market host (``www.`` in front is ignored); ``subdomain``: the most
   specific known parent host is a market host (``shop123.taobao.com``; ``pan.baidu.com`` wins
   over ``baidu.com``); ``owner``: the most specific known parent is an owner's corporate host
   (``www.baidu.com``, ``qq.com``).
2. ``alias``: an alias host of a market (short links, mobile, country sites) or a subdomain of
   one, or any host under a brand TLD that spells a market or owner label (``x.taobao``).
3. same label under another public suffix: when the market already runs that label under two or
   more suffixes (``amazon.de``, ``amazon.fr``...) and the new suffix is a country code, the host
   is taken as one more country site of the *owner* (``amazon.com.mx`` -> owner Amazon, kind
   ``owner``); a market without an owner gets ``variant``/``tld-swap``. Otherwise a distinctive
   label is a ``variant``/``tld-swap`` lookalike (``aliexpress.shop``, ``taobao.net``); short or
   generic labels (``vk``, ``nic``, ``mega``) are not matched at all.
4. ``variant``: a lookalike of a market or owner host (``_variants``), unless the host is on the
   legitimate-lookalike list.
5. ``name``: only when the URL is missing, unusable, or recognised by none of the above.

The name step is two-stage: an exact dictionary hit on the compact key, else a rapidfuzz
``process.extract`` prefilter over every folded name, rescored token by token with
length-relative edit budgets so a short name only matches whole tokens.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from ._confusables import skeleton
from ._variants import (
    GENERIC_LABELS,
    Candidate,
    Target,
    Variant,
    VariantClass,
    VariantIndex,
)
from .markets import Market, MarketData, Owner, load_markets
from .normalize import (
    ErrorCode,
    NormalizedName,
    NormalizedURL,
    normalize_host,
    normalize_name,
    normalize_url,
)

__all__ = [
    "Match",
    "MatchKind",
    "Matcher",
    "Variant",
    "VariantClass",
    "VariantDetector",
    "bundled_legitimate",
]


class MatchKind(str, Enum):
    """Which step recognised the input (see the module docstring for the order)."""

    EXACT = "exact"
    SUBDOMAIN = "subdomain"
    ALIAS = "alias"
    VARIANT = "variant"
    NAME = "name"
    OWNER = "owner"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Match:
    """The answer for one URL and/or name.

    ``host``/``host_unicode``/``registrable_domain``/``path`` describe the URL whatever matched.
    ``market`` and ``owner`` are what the input really is (``owner`` is filled from the market
    when it has one). ``variant`` and ``imitates`` are set for ``kind`` ``variant`` only.
    ``similarity`` is 100 for exact, subdomain, alias and owner hits; for variants it is the
    rapidfuzz Indel similarity of the folded label and the imitated label; for names, the
    rescored name similarity. ``error`` is set only when no input was usable (the URL's own
    code stays in ``url.error`` when a name matched instead).
    """

    input: str | None
    name_input: str | None
    host: str | None
    host_unicode: str | None
    registrable_domain: str | None
    path: str
    market: Market | None
    owner: Owner | None
    kind: MatchKind
    variant: VariantClass | None
    imitates: str | None
    similarity: float
    explanation: str
    error: ErrorCode | None
    url: NormalizedURL | None


def bundled_legitimate() -> tuple[str, ...]:
    """The bundled list of real domains that look like market hosts but are not lookalikes."""
    text = (
        importlib.resources.files("notorious_screen") / "data" / "legitimate_lookalikes.txt"
    ).read_text(encoding="utf-8")
    out: list[str] = []
    for line in text.splitlines():
        entry = line.split("#", 1)[0].strip().lower()
        if entry:
            out.append(entry)
    return tuple(out)


def _ascii_host(raw: str) -> str | None:
    url = normalize_host(raw)
    return url.host if url.error is None and not url.is_ip else None


def _candidate(url: NormalizedURL) -> Candidate | None:
    """Split a normalized URL for the variant index, in Unicode, honouring private suffixes.

    Under a private suffix (``blogspot.com``, ``myshopify.com``) the label left of it is what a
    user registered, so it plays the part of the registrable label.
    """
    if url.error is not None or url.is_ip or not url.host or not url.suffix:
        return None
    labels = (url.host_unicode or url.host).split(".")
    ascii_labels = url.host.split(".")
    suffix = url.suffix
    if url.private_suffix and url.host.endswith("." + url.private_suffix):
        suffix = url.private_suffix
    n_suffix = suffix.count(".") + 1
    if len(labels) <= n_suffix or len(labels) != len(ascii_labels):
        return None
    label = labels[-n_suffix - 1]
    registrable = ".".join(ascii_labels[-n_suffix - 1 :])
    return Candidate(url.host, registrable, label, suffix, tuple(labels[: -n_suffix - 1]))


def _parents(host: str) -> Iterable[str]:
    labels = host.split(".")
    for i in range(len(labels)):
        yield ".".join(labels[i:])


class VariantDetector:
    """Lookalike detection for arbitrary target domains (market hosts, a brand's own domains).

    ``legitimate`` hosts (and everything under them) are never reported. Build once, reuse:
    construction precomputes the indexes; ``detect`` is a few dozen dict lookups.
    """

    def __init__(self, targets: Iterable[str], *, legitimate: Iterable[str] = ()) -> None:
        self._targets = tuple(sorted({t.strip().lower() for t in targets if t and t.strip()}))
        self._legitimate_in = tuple(sorted({x.strip().lower() for x in legitimate if x}))
        split: list[Target] = []
        for raw in self._targets:
            url = normalize_host(raw)
            cand = _candidate(url)
            if cand is None or url.host is None:
                continue
            split.append(Target(url.host, cand.registrable, skeleton(cand.label), cand.suffix))
        self._index = VariantIndex(split)
        legit = {_ascii_host(x) for x in self._legitimate_in}
        self._legitimate = frozenset(h for h in legit if h)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_detector, (self._targets, self._legitimate_in))

    @property
    def index(self) -> VariantIndex:
        """The underlying string-level index."""
        return self._index

    def is_legitimate(self, host: str) -> bool:
        """Whether ``host`` or one of its parents is on the legitimate list."""
        legit = self._legitimate
        if host in legit:
            return True
        dot = host.find(".")
        while dot >= 0:
            if host[dot + 1 :] in legit:
                return True
            dot = host.find(".", dot + 1)
        return False

    def detect(self, url: NormalizedURL) -> Variant | None:
        """The lookalike finding for a normalized URL, or None (also for unusable input)."""
        cand = _candidate(url)
        if cand is None or self.is_legitimate(cand.host):
            return None
        return self._index.detect(cand)


def _rebuild_detector(targets: tuple[str, ...], legitimate: tuple[str, ...]) -> VariantDetector:
    return VariantDetector(targets, legitimate=legitimate)


# ---- names ----------------------------------------------------------------------------------

#: Tokens a name may carry besides the market's own name without changing what it names.
_NAME_FILLER = frozenset(
    str.split(
        """
    store shop shops official flagship outlet online seller sellers vendor the of and on in at
    mall market markets marketplace center centre plaza city street road electronics electronic
    inc ltd llc co company group limited corp corporation holdings
    """
    )
)


@dataclass(frozen=True, slots=True)
class _NameKey:
    key: NormalizedName
    market: str | None
    owner: str | None
    distinctive: bool
    cjk: bool
    context: frozenset[str]


def _is_cjk_text(text: str) -> bool:
    return any(ord(c) >= 0x2E80 for c in text)


def _edit_budget(length: int) -> int:
    return 0 if length < 5 else 1 if length < 9 else 2


def _token_eq(a: str, b: str) -> bool:
    if a == b:
        return True
    budget = _edit_budget(min(len(a), len(b)))
    return budget > 0 and Levenshtein.distance(a, b, score_cutoff=budget) <= budget


_MISS = object()
_NAME_CACHE = 1 << 16


class _NameIndex:
    def __init__(self, data: MarketData) -> None:
        keys: list[_NameKey] = []
        for market in sorted(data.markets.values(), key=lambda m: m.id):
            context = _context_tokens(market)
            for raw in (market.name, *market.names):
                self._add(keys, raw, market.id, market.owner, context)
        for owner in sorted(data.owners.values(), key=lambda o: o.id):
            for raw in (owner.name, *owner.names):
                self._add(keys, raw, None, owner.id, frozenset())
        self._keys = tuple(keys)
        self._choices = [k.key.folded for k in keys]
        exact: dict[str, list[int]] = {}
        for i, k in enumerate(keys):
            exact.setdefault(k.key.compact, []).append(i)
            exact.setdefault(k.key.folded.replace(" ", ""), []).append(i)
        self._exact = {c: tuple(dict.fromkeys(v)) for c, v in exact.items()}
        self._cache: dict[NormalizedName, tuple[_NameKey, float, str] | None] = {}

    @staticmethod
    def _add(
        keys: list[_NameKey],
        raw: str,
        market: str | None,
        owner: str | None,
        context: frozenset[str],
    ) -> None:
        key = normalize_name(raw)
        if key.error is not None or not key.compact:
            return
        meaningful = [t for t in key.tokens if t not in _NAME_FILLER]
        core = "".join(meaningful)
        cjk = _is_cjk_text(key.compact)
        distinctive = (len(core) >= 2 if cjk else len(core) >= 5) and core not in GENERIC_LABELS
        keys.append(_NameKey(key, market, owner, distinctive, cjk, context))

    def lookup(self, name: NormalizedName) -> tuple[_NameKey, float, str] | None:
        # Seller names repeat heavily across rows; the prefilter is the costly part.
        cached = self._cache.get(name, _MISS)
        if cached is not _MISS:
            return cached  # type: ignore[return-value]
        found = self._lookup(name)
        if len(self._cache) < _NAME_CACHE:
            self._cache[name] = found
        return found

    def _lookup(self, name: NormalizedName) -> tuple[_NameKey, float, str] | None:
        exact = self._exact.get(name.compact, ()) + self._exact.get(
            name.folded.replace(" ", ""), ()
        )
        if exact:
            # markets before owners, then the longest key, then data order: deterministic
            idx = min(exact, key=lambda i: (self._keys[i].market is None, i))
            return self._keys[idx], 100.0, "exact name"
        hits = process.extract(
            name.folded, self._choices, scorer=fuzz.WRatio, score_cutoff=60, limit=12
        )
        scored: list[tuple[float, int, int, str]] = []
        for _, _, idx in hits:
            result = self._rescore(name, self._keys[idx])
            if result is not None:
                score, how = result
                scored.append((-score, -len(self._keys[idx].key.compact), idx, how))
        if not scored:
            return None
        scored.sort()
        neg, _, idx, how = scored[0]
        return self._keys[idx], -neg, how

    @staticmethod
    def _rescore(query: NormalizedName, key: _NameKey) -> tuple[float, str] | None:
        k = key.key
        if key.cjk:
            # CJK has no spaces: a distinctive name inside the query (微信小店 -> 微信).
            if key.distinctive and k.compact in query.compact:
                surplus = len(query.compact) - len(k.compact)
                return 100.0 - 30.0 * surplus / len(query.compact), "name contained"
            return None
        q_tokens = [t for t in query.folded.split(" ") if t]
        k_tokens = [t for t in k.folded.split(" ") if t]
        span = _find_span(q_tokens, k_tokens)
        if span is None:
            return None
        start, end = span
        rest = q_tokens[:start] + q_tokens[end:]
        extra = [t for t in rest if t not in _NAME_FILLER and t not in key.context]
        if extra and not key.distinctive:
            return None
        matched = sum(len(t) for t in q_tokens[start:end])
        total = matched + sum(len(t) for t in extra)
        ratio = fuzz.ratio("".join(q_tokens[start:end]), k.folded.replace(" ", ""))
        score = ratio * (0.7 + 0.3 * matched / total)
        return round(score, 1), "name tokens" if not extra else "name inside a longer name"


def _find_span(query: list[str], key: list[str]) -> tuple[int, int] | None:
    """Where the key's tokens occur in the query as a contiguous run (tokens may be glued)."""
    key_compact = "".join(key)
    n = len(query)
    for start in range(n):
        # token-by-token, each within its length-relative edit budget
        if start + len(key) <= n and all(
            _token_eq(query[start + i], key[i]) for i in range(len(key))
        ):
            return start, start + len(key)
        # glued or split differently: "ali express" vs "aliexpress"
        glued = ""
        for end in range(start, n):
            glued += query[end]
            if len(glued) > len(key_compact) + 2:
                break
            if (end > start or len(key) > 1) and _token_eq(glued, key_compact):
                return start, end + 1
    return None


def _context_tokens(market: Market) -> frozenset[str]:
    words: set[str] = set()
    for text in (market.city, market.country):
        if text:
            words.update(normalize_name(text).folded.split(" "))
    return frozenset(w for w in words if w)


# ---- the matcher ----------------------------------------------------------------------------


def _is_country_suffix(suffix: str) -> bool:
    last = suffix.rsplit(".", 1)[-1]
    return len(last) == 2 and last.isascii() and last.isalpha()


_Found = tuple[Market | None, Owner | None, MatchKind, VariantClass | None, str | None, float, str]


class Matcher:
    """Matches URLs and names against the market data. Picklable, thread-safe, deterministic.

    ``legitimate`` adds hosts to the bundled legitimate-lookalike list (never reported as
    variants: ``express.com`` is not AliExpress).
    """

    def __init__(
        self, data: MarketData | None = None, *, legitimate: Iterable[str] | None = None
    ) -> None:
        self._data = data if data is not None else load_markets()
        self._extra_legitimate = tuple(legitimate or ())
        data = self._data
        primary: dict[str, str] = {}
        alias: dict[str, str] = {}
        for market in sorted(data.markets.values(), key=lambda m: m.id):
            for raw in market.hosts:
                host = _ascii_host(raw)
                if host:
                    primary.setdefault(host, market.id)
            for raw in market.alias_hosts:
                host = _ascii_host(raw)
                if host:
                    alias.setdefault(host, market.id)
        owner_hosts: dict[str, str] = {}
        for owner in sorted(data.owners.values(), key=lambda o: o.id):
            for raw in owner.hosts:
                host = _ascii_host(raw)
                if host:
                    owner_hosts.setdefault(host, owner.id)
        self._primary = primary
        self._alias = alias
        self._owner_hosts = owner_hosts
        legit = (*bundled_legitimate(), *self._extra_legitimate)
        self._detector = VariantDetector((*primary, *alias, *owner_hosts), legitimate=legit)
        index = self._detector.index
        # label -> markets/owners that use it, and the suffixes each market uses it under
        label_markets: dict[str, dict[str, set[str]]] = {}
        label_owner: dict[str, str] = {}
        for host, mid in sorted((*primary.items(), *alias.items())):
            url = normalize_host(host)
            if url.domain_label and url.suffix:
                entry = label_markets.setdefault(url.domain_label, {})
                entry.setdefault(mid, set()).add(url.suffix)
        for host, oid in sorted(owner_hosts.items()):
            url = normalize_host(host)
            if url.domain_label:
                label_owner.setdefault(url.domain_label, oid)
        registrable_owner: dict[str, tuple[str, str]] = {}
        for host, mid in sorted((*primary.items(), *alias.items())):
            reg = normalize_host(host).registrable_domain
            if reg:
                registrable_owner.setdefault(reg, ("market", mid))
        for host, oid in sorted(owner_hosts.items()):
            reg = normalize_host(host).registrable_domain
            if reg:
                registrable_owner.setdefault(reg, ("owner", oid))
        self._registrable_owner = registrable_owner
        self._label_markets = label_markets
        self._label_owner = label_owner
        self._index = index
        self._names = _NameIndex(data)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_matcher, (self._data, self._extra_legitimate))

    @property
    def data(self) -> MarketData:
        """The market data this matcher was built from."""
        return self._data

    @property
    def detector(self) -> VariantDetector:
        """The lookalike detector over every market and owner host."""
        return self._detector

    def host_tables(self) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        """Copies of the host tables behind the exact, subdomain, alias and owner steps.

        Primary market hosts, alias hosts (market ids) and corporate hosts (owner ids), all
        ASCII: the Screener resolves whole batches of hosts against them in Arrow.
        """
        return dict(self._primary), dict(self._alias), dict(self._owner_hosts)

    # ---- public ------------------------------------------------------------------------
    def match(self, url: object = None, *, name: object = None) -> Match:
        """Match one URL (or bare host) and/or one name. Never raises on bad input.

        The URL decides whenever it is recognised (exact, subdomain, alias, owner or
        variant); the name is used only when the URL is absent, unusable or unrecognised.
        """
        if isinstance(url, NormalizedURL):
            norm: NormalizedURL | None = url
        else:
            norm = normalize_url(url) if url is not None else None
        name_input = name if isinstance(name, str) else None
        url_input = norm.input if norm is not None else None
        if norm is not None and norm.error is None:
            found = self._match_url(norm)
            if found is not None:
                market, owner, kind, variant, imitates, sim, why = found
                return self._build(
                    norm, url_input, name_input, market, owner, kind, variant, imitates, sim, why
                )
        nname = normalize_name(name) if name is not None else None
        if nname is not None and nname.error is None:
            hit = self._names.lookup(nname)
            if hit is not None:
                key, score, how = hit
                market = self._data.markets[key.market] if key.market else None
                owner = self._owner_of(market, key.owner)
                label = market.name if market else owner.name if owner else "?"
                why = f"{how}: {nname.input!r} matches {label} ({key.key.input!r})"
                return self._build(
                    norm, url_input, name_input, market, owner, MatchKind.NAME, None, None,
                    score, why,
                )  # fmt: skip
        error: ErrorCode | None = None
        url_usable = norm is not None and norm.error is None
        name_usable = nname is not None and nname.error is None
        if not url_usable and not name_usable:
            if norm is not None and norm.error is not None:
                error = norm.error
            elif nname is not None and nname.error is not None:
                error = nname.error
            else:
                error = ErrorCode.EMPTY
        why = "no input" if error is ErrorCode.EMPTY else (
            f"unusable input ({error.value})" if error else "no listed market recognised"
        )  # fmt: skip
        return self._build(
            norm, url_input, name_input, None, None, MatchKind.NONE, None, None, 0.0, why,
            error=error,
        )  # fmt: skip

    # ---- steps -------------------------------------------------------------------------
    def _owner_of(self, market: Market | None, owner_id: str | None) -> Owner | None:
        oid = market.owner if market is not None and market.owner else owner_id
        return self._data.owners.get(oid) if oid else None

    def _resolve_host(self, host: str) -> tuple[str, str, MatchKind] | None:
        """Steps 1-2 for one ASCII host: ("market"|"owner", id, kind) of the most specific hit."""
        exact_host = host[4:] if host.startswith("www.") else host
        if exact_host in self._primary:
            return "market", self._primary[exact_host], MatchKind.EXACT
        for parent in _parents(host):
            if parent in self._primary:
                kind = MatchKind.EXACT if parent == host else MatchKind.SUBDOMAIN
                return "market", self._primary[parent], kind
            if parent in self._alias:
                return "market", self._alias[parent], MatchKind.ALIAS
            if parent in self._owner_hosts:
                return "owner", self._owner_hosts[parent], MatchKind.OWNER
        return None

    def _brand_tld(self, url: NormalizedURL) -> tuple[str, str] | None:
        """A host under a brand TLD that spells a market or owner label (``x.taobao``)."""
        if not url.suffix or "." in url.suffix:
            return None
        markets = self._label_markets.get(url.suffix)
        if markets and self._index.is_distinctive(url.suffix):
            return "market", sorted(markets)[0]
        owner = self._label_owner.get(url.suffix)
        if owner and len(url.suffix) >= 4:
            return "owner", owner
        return None

    def _found_unresolved(self, url: NormalizedURL) -> _Found:
        """What `match` finds for a usable URL whose host the caller has already looked up in
        the host tables and found under none of them (the Screener does that for whole
        batches); ``self._build(url, url.input, None, *found)`` is the Match."""
        found = self._match_url(url, tables_checked=True)
        if found is None:
            return None, None, MatchKind.NONE, None, None, 0.0, "no listed market recognised"
        return found

    def _match_url(self, url: NormalizedURL, *, tables_checked: bool = False) -> _Found | None:
        host = url.host
        if host is None:
            return None
        hit = None if tables_checked else self._resolve_host(host)
        if hit is not None:
            what, ident, kind = hit
            return self._resolved(what, ident, kind, host)
        brand = self._brand_tld(url)
        if brand is not None:
            what, ident = brand
            return self._resolved(
                what, ident, MatchKind.ALIAS, host, f"{host}: under the brand TLD .{url.suffix}"
            )
        if url.is_ip or self._detector.is_legitimate(host):
            return None
        swap = self._country_site(url)
        if swap is not None:
            return swap
        variant = self._detector.detect(url)
        if variant is None:
            return None
        resolved = self._resolve_host(variant.imitates)
        if resolved is None:
            # imitates a registrable domain only known through a subdomain (k.youshop10.com)
            reg = normalize_host(variant.imitates).registrable_domain
            fallback = self._registrable_owner.get(reg or "")
            if fallback is not None:
                resolved = (fallback[0], fallback[1], MatchKind.VARIANT)
        market: Market | None = None
        owner: Owner | None = None
        if resolved is not None:
            what, ident, _ = resolved
            market = self._data.markets[ident] if what == "market" else None
            owner = self._owner_of(market, ident if what == "owner" else None)
        sim = variant.similarity
        return (
            market, owner, MatchKind.VARIANT, variant.variant_class, variant.imitates, sim,
            variant.explanation,
        )  # fmt: skip

    def _resolved(
        self, what: str, ident: str, kind: MatchKind, host: str, why: str | None = None
    ) -> _Found:
        if what == "market":
            market = self._data.markets[ident]
            owner = self._owner_of(market, None)
            text = why or {
                MatchKind.EXACT: f"{host} is a host of {market.name}",
                MatchKind.SUBDOMAIN: f"{host} is under a host of {market.name}",
                MatchKind.ALIAS: f"{host} is an alias host of {market.name}",
            }.get(kind, f"{host}: {market.name}")
            return market, owner, kind, None, None, 100.0, text
        owner_obj = self._data.owners[ident]
        text = why or f"{host} is a corporate host of {owner_obj.name} (no listed platform)"
        return None, owner_obj, MatchKind.OWNER, None, None, 100.0, text

    def _country_site(self, url: NormalizedURL) -> _Found | None:
        """Step 3 for labels a market already uses under several suffixes (see module doc)."""
        label = url.domain_label
        suffix = url.suffix
        if not label or not suffix or url.private_suffix or not _is_country_suffix(suffix):
            return None
        markets = self._label_markets.get(label)
        if not markets or not self._index.is_distinctive(label):
            return None
        for mid in sorted(markets):
            if len(markets[mid]) < 2:
                continue
            market = self._data.markets[mid]
            owner = self._owner_of(market, None)
            if owner is None:
                return None  # no owner to roll up to: let the variant step call it a tld-swap
            why = (
                f"{url.registrable_domain}: {label} under another country suffix (.{suffix}),"
                f" not in the data; taken as a country site of {owner.name}"
            )
            return None, owner, MatchKind.OWNER, None, None, 100.0, why
        return None

    def _build(
        self,
        norm: NormalizedURL | None,
        url_input: str | None,
        name_input: str | None,
        market: Market | None,
        owner: Owner | None,
        kind: MatchKind,
        variant: VariantClass | None,
        imitates: str | None,
        similarity: float,
        explanation: str,
        *,
        error: ErrorCode | None = None,
    ) -> Match:
        return Match(
            input=url_input,
            name_input=name_input,
            host=norm.host if norm else None,
            host_unicode=norm.host_unicode if norm else None,
            registrable_domain=norm.registrable_domain if norm else None,
            path=norm.path if norm else "",
            market=market,
            owner=owner,
            kind=kind,
            variant=variant,
            imitates=imitates,
            similarity=float(similarity),
            explanation=explanation,
            error=error,
            url=norm,
        )


def _rebuild_matcher(data: MarketData, legitimate: tuple[str, ...]) -> Matcher:
    return Matcher(data, legitimate=legitimate)
