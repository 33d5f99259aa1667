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
   may be one more country site of the market, or a squat on one: offline nobody can tell, so
   it is kind ``unverified-country-domain`` with the market and its owner filled in
   (``aliexpress.nz``, ``amazon.com.mx``). Otherwise a distinctive label is a
   ``variant``/``tld-swap`` lookalike (``aliexpress.shop``, ``taobao.net``); short labels get a
   budget of their own (``vk.xyz``, ``vkk.com``, ``16888.com``) and generic ones (``mega``,
   ``nic``) are not matched at all.
4. ``variant``: a lookalike of a market or owner host (``_variants``), unless the host is on the
   legitimate-lookalike list.
5. ``name``: only when there is no usable URL (missing, empty or unusable). What the URL
   proves outranks what a seller's name suggests: with a usable URL the name never decides,
   and a name that names another market is kept as ``Match.mentions`` (``_names`` says when a
   name names a market).
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from ._confusables import skeleton
from ._names import NameHit, NameIndex
from ._text import parents
from ._variants import (
    Candidate,
    Target,
    Variant,
    VariantClass,
    VariantIndex,
)
from .markets import Market, MarketData, Owner, load_markets
from .normalize import ErrorCode, NormalizedURL, normalize_host, normalize_name, normalize_url

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

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
    #: a market's own label under a country suffix the data does not know (``aliexpress.nz``):
    #: the market's own country site or a squat, which cannot be told offline
    UNVERIFIED_COUNTRY = "unverified-country-domain"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Match:
    """The answer for one URL and/or name.

    ``host``/``host_unicode``/``registrable_domain``/``path`` describe the URL whatever matched.
    ``market`` and ``owner`` are what the input really is (``owner`` is filled from the market
    when it has one). ``variant`` and ``imitates`` are set for ``kind`` ``variant`` only.
    ``similarity`` is 100 for exact, subdomain, alias and owner hits; for variants it is the
    rapidfuzz Indel similarity of the folded label and the imitated label; for names, the
    rescored name similarity. ``error`` says why a URL could not be used: set for a non-empty
    URL that is not usable (even when the name then decided), and when no input was usable.
    ``mentions`` is the market a name names when the name did not decide (the URL was usable)
    and the URL does not prove it: a seller trading on a platform's name, not a row on that
    platform. ``mention_similarity`` says how closely the name spells it (100: exactly).
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
    mentions: Market | None = None
    mention_similarity: float = 0.0


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


class VariantDetector:
    """Lookalike detection for arbitrary target domains (market hosts, a brand's own domains).

    ``legitimate`` hosts (and everything under them) are never reported. Build once, reuse:
    construction precomputes the indexes; ``detect`` is a few dozen dict lookups.
    """

    def __init__(
        self,
        targets: Iterable[str],
        *,
        legitimate: Iterable[str] = (),
        no_short: Iterable[str] = (),
    ) -> None:
        self._targets = tuple(sorted({t.strip().lower() for t in targets if t and t.strip()}))
        self._legitimate_in = tuple(sorted({x.strip().lower() for x in legitimate if x}))
        self._no_short = tuple(sorted({x.strip().lower() for x in no_short if x}))
        split: list[Target] = []
        for raw in self._targets:
            url = normalize_host(raw)
            cand = _candidate(url)
            if cand is None or url.host is None:
                continue
            split.append(Target(url.host, cand.registrable, skeleton(cand.label), cand.suffix))
        self._index = VariantIndex(split, no_short=self._no_short)
        legit = {_ascii_host(x) for x in self._legitimate_in}
        self._legitimate = frozenset(h for h in legit if h)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_detector, (self._targets, self._legitimate_in, self._no_short))

    @property
    def index(self) -> VariantIndex:
        """The underlying string-level index."""
        return self._index

    def is_legitimate(self, host: str) -> bool:
        """Whether ``host`` or one of its parents is on the legitimate list."""
        legit = self._legitimate
        return any(parent in legit for parent in parents(host))

    def detect(self, url: NormalizedURL) -> Variant | None:
        """The lookalike finding for a normalized URL, or None (also for unusable input)."""
        cand = _candidate(url)
        if cand is None:
            # No public suffix to split at ("shopee.coid"): only a dropped dot can be said.
            usable = url.error is None and not url.is_ip and url.host and not url.suffix
            if usable and url.host and not self.is_legitimate(url.host):
                return self._index.detect_unsplit(url.host)
            return None
        if self.is_legitimate(cand.host):
            return None
        return self._index.detect(cand)


def _rebuild_detector(
    targets: tuple[str, ...], legitimate: tuple[str, ...], no_short: tuple[str, ...] = ()
) -> VariantDetector:
    return VariantDetector(targets, legitimate=legitimate, no_short=no_short)


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
        # The short-label budget (vk.xyz, vkk.com) is for a platform's own name: labels of
        # corporate domains (qq.com; weixin.qq.com does not make "qq" a platform's) and of
        # short-link or alias hosts only (rg.to, tb.cn) get none.
        owner_regs = {normalize_host(h).registrable_domain for h in owner_hosts}
        market_labels = {
            u.domain_label
            for u in (normalize_host(h) for h in primary)
            if u.registrable_domain not in owner_regs
        }
        no_short = sorted(
            {lb for lb in (normalize_host(h).domain_label for h in (*alias, *owner_hosts)) if lb}
            - market_labels
        )
        self._detector = VariantDetector(
            (*primary, *alias, *owner_hosts), legitimate=legit, no_short=no_short
        )
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
        self._owner_registrables = frozenset(
            r for r in (normalize_host(h).registrable_domain for h in owner_hosts) if r
        )
        self._label_markets = label_markets
        self._label_owner = label_owner
        self._index = index
        self._names = NameIndex(data)

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

        Evidence has an order: a usable URL decides what the input is, recognised or not;
        the name decides only when there is no usable URL. A name that names a market the URL
        does not prove is kept as `Match.mentions`, never as the market.
        """
        if isinstance(url, NormalizedURL):
            norm: NormalizedURL | None = url
        else:
            norm = normalize_url(url) if url is not None else None
        name_input = name if isinstance(name, str) else None
        url_input = norm.input if norm is not None else None
        hit = self._names.lookup(name) if name is not None else None
        if norm is not None and norm.error is None:
            found = self._match_url(norm) or _NOT_FOUND
            return self.build_match(norm, url_input, name_input, *found, mention=hit)
        # No usable URL. A non-empty one that could not be used keeps its reason either way.
        url_error: ErrorCode | None = None
        if norm is not None and norm.error is not ErrorCode.EMPTY:
            url_error = norm.error
        if hit is not None:
            return self.by_name(hit, norm, url_input, name_input, error=url_error)
        error = url_error
        if error is None:
            name_error = normalize_name(name).error if name is not None else ErrorCode.EMPTY
            if name_error is not None:
                error = norm.error if norm is not None else name_error
        why = "no input" if error is ErrorCode.EMPTY else (
            f"unusable input ({error.value})" if error else "no listed market recognised"
        )  # fmt: skip
        return self.build_match(
            norm, url_input, name_input, None, None, MatchKind.NONE, None, None, 0.0, why,
            error=error,
        )  # fmt: skip

    def by_name(
        self,
        hit: NameHit,
        norm: NormalizedURL | None,
        url_input: str | None,
        name_input: str | None,
        *,
        error: ErrorCode | None,
    ) -> Match:
        """The match of a name where there is no usable URL (``error``: the URL's reason).

        A name that spells a market or owner exactly decides; a misspelt one ("Shoppe Deals")
        is at most a mention of the market, never the market: a typo in a shop name is no
        proof of the platform."""
        market = self._data.markets[hit.key.market] if hit.key.market else None
        if hit.spelled < 100:
            return self.build_match(
                norm, url_input, name_input, None, None, MatchKind.NONE, None, None, 0.0,
                "no listed market recognised", error=error, mention=hit,
            )  # fmt: skip
        owner = self.owner_of(market, hit.key.owner)
        label = market.name if market else owner.name if owner else "?"
        why = f"{hit.how}: {name_input!r} matches {label} ({hit.key.key.input!r})"
        return self.build_match(
            norm, url_input, name_input, market, owner, MatchKind.NAME, None, None,
            hit.score, why, error=error,
        )  # fmt: skip

    def name_hits(self, names: pa.Array) -> list[tuple[int, NameHit]]:
        """The names of a string array that name a market or owner, by position, with what
        each names: one vectorised gate for all of them (`_names`), Python for the few it
        keeps. The Screener's batch path; `match` gives the same answer name by name."""
        import numpy as np

        from ._arrow import take

        kept = np.flatnonzero(self._names.gate(names))
        texts: list[str] = take(names, kept).to_pylist()
        found = ((int(at), self._names.lookup(text)) for at, text in zip(kept, texts, strict=True))
        return [(at, hit) for at, hit in found if hit is not None]

    def names_usable(self, names: pa.Array) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Per name, whether `normalize_name` finds anything in it (the batch path; see
        `NameIndex.usable`)."""
        return self._names.usable(names)

    # ---- steps -------------------------------------------------------------------------
    def owner_of(self, market: Market | None, owner_id: str | None) -> Owner | None:
        oid = market.owner if market is not None and market.owner else owner_id
        return self._data.owners.get(oid) if oid else None

    def _resolve_host(self, host: str) -> tuple[str, str, MatchKind] | None:
        """Steps 1-2 for one ASCII host: ("market"|"owner", id, kind) of the most specific hit."""
        exact_host = host[4:] if host.startswith("www.") else host
        if exact_host in self._primary:
            return "market", self._primary[exact_host], MatchKind.EXACT
        for parent in parents(host):
            if parent in self._primary:
                kind = MatchKind.EXACT if parent == host else MatchKind.SUBDOMAIN
                return "market", self._primary[parent], kind
            if parent in self._alias:
                return "market", self._alias[parent], MatchKind.ALIAS
            if parent in self._owner_hosts:
                return "owner", self._owner_hosts[parent], MatchKind.OWNER
        return None

    def _brand_tld(self, url: NormalizedURL) -> tuple[str, str] | None:
        """A host under a brand TLD that spells a market or owner label (``x.taobao``).

        The TLD belongs to whoever owns the label: an owner's corporate label (``.baidu``) is
        the owner, not a platform of it that merely lives under its domain (Baidu Wangpan on
        pan.baidu.com), and never the market a subdomain spells (``taobao.com.baidu``)."""
        if not url.suffix or "." in url.suffix:
            return None
        owner = self._label_owner.get(url.suffix)
        markets = self._label_markets.get(url.suffix)
        if markets and self._index.is_distinctive(url.suffix):
            own = sorted(
                mid for mid, suffixes in markets.items()
                if any(f"{url.suffix}.{sfx}" not in self._owner_registrables for sfx in suffixes)
            )  # fmt: skip
            if own:
                return "market", own[0]
        if owner and len(url.suffix) >= 4:
            return "owner", owner
        return None

    def find_beyond_tables(self, url: NormalizedURL) -> _Found:
        """What `match` finds for a usable URL whose host the caller has already looked up in
        the host tables and found under none of them (the Screener does that for whole
        batches); ``self.build_match(url, url.input, None, *found)`` is the Match."""
        return self._match_url(url, tables_checked=True) or _NOT_FOUND

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
            owner = self.owner_of(market, ident if what == "owner" else None)
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
            owner = self.owner_of(market, None)
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
            # A label run under several suffixes, a country code among them, is a family of
            # country sites (aliexpress.ru, amazon.de); tokopedia.com + tokopedia.link is not.
            if len(markets[mid]) < 2 or not any(_is_country_suffix(x) for x in markets[mid]):
                continue
            market = self._data.markets[mid]
            owner = self.owner_of(market, None)
            known = ", ".join(f".{sfx}" for sfx in sorted(markets[mid]))
            why = (
                f"{url.registrable_domain}: {market.name}'s label under a country suffix the"
                f" data does not know (.{suffix}; known: {known}): its own country site or a"
                " squat, unverified offline"
            )
            return market, owner, MatchKind.UNVERIFIED_COUNTRY, None, None, 100.0, why
        return None

    def build_match(
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
        mention: NameHit | None = None,
    ) -> Match:
        mentions: Market | None = None
        mention_similarity = 0.0
        if mention is not None and mention.key.market is not None:
            named = self._data.markets[mention.key.market]
            if market is None or named.id != market.id:
                mentions, mention_similarity = named, mention.spelled
                spelling = "spelled exactly" if mention.spelled == 100 else "misspelt"
                proves = (
                    "which the URL does not prove"
                    if market is not None or (norm is not None and norm.error is None)
                    else "not enough to name the platform"
                )
                explanation = (
                    f"{explanation}; the name {name_input!r} mentions {named.name}"
                    f" ({spelling}, similarity {mention.spelled:.0f}), {proves}"
                )
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
            mentions=mentions,
            mention_similarity=float(mention_similarity),
        )


_NOT_FOUND: _Found = (None, None, MatchKind.NONE, None, None, 0.0, "no listed market recognised")


def _rebuild_matcher(data: MarketData, legitimate: tuple[str, ...]) -> Matcher:
    return Matcher(data, legitimate=legitimate)
