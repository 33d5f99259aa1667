"""The notorious-markets knowledge base: typed records, the bundled data, queries and diffs.

One job: turn ``data/markets.yaml`` and ``data/sources.yaml`` (generated from the reference fact
sheets by ``tools/build_markets.py``), and any overlays a user adds on top of them, into
validated, immutable records, and answer questions about them: which markets an edition of a
list names, what changed between two editions, who owns a platform, which hosts belong to which
market, and which file each fact was read from.

An overlay (``overlay: 1``) has the shape of the data file plus its own ``sources``; it is merged
onto the data as YAML, before validation, so every value keeps its ``file:line:col`` and the
merged whole is checked as one (:func:`load_markets`, :func:`resolve_data`).

Nothing is parsed at import. :func:`load_markets` parses on first use and caches the bundled
data. Some editions are only partly known (see :attr:`Edition.complete`, counted from the
listings); asking for one through :meth:`MarketData.edition` emits
:class:`IncompleteEditionWarning` once, because a market's absence from an incomplete edition
proves nothing.

>>> data = load_markets()
>>> ed = data.edition()                # latest USTR edition whose online list is complete
>>> ed.label, ed.online_captured, ed.complete
('USTR NML 2021', 42, True)
>>> data.markets["amazon"].listing("ustr-nml", 2020, "www.amazon.de").scope[:2]
('amazon.co.uk', 'amazon.de')
>>> data.markets["amazon"].listing("ustr-nml", 2020, "amazon.com") is None
True
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ._text import closest, did_you_mean
from .errors import DataError, Location, MarketLookupError, renamed

if TYPE_CHECKING:  # _yaml imports PyYAML (~30 ms): loading needs it, importing does not
    from ._yaml import YamlList, YamlMap

__all__ = [
    "CONFIDENCES",
    "HOST_SYNTAX",
    "ID_SYNTAX",
    "KINDS",
    "LISTS",
    "LIST_LABELS",
    "STATUSES",
    "Edition",
    "EditionDiff",
    "IncompleteEditionWarning",
    "Listing",
    "Market",
    "MarketData",
    "Origin",
    "Owner",
    "Source",
    "check_kind",
    "env_data_files",
    "load_markets",
    "name_key",
    "resolve_data",
]

LISTS: tuple[str, ...] = ("ustr-nml", "eu-cpwl")
LIST_LABELS: Mapping[str, str] = {"ustr-nml": "USTR NML", "eu-cpwl": "EU CPWL"}
KINDS: tuple[str, ...] = (
    "e-commerce",
    "social-commerce",
    "b2b",
    "classifieds",
    "cyberlocker",
    "streaming",
    "torrent",
    "iptv",
    "hosting",
    "registrar",
    "ad-network",
    "piracy-as-a-service",
    "stream-ripping",
    "linking",
    "forum",
    "physical",
    "other",
    "unknown",
)
STATUSES: tuple[str, ...] = ("new", "continuing", "returning", "unknown")
CONFIDENCES: tuple[str, ...] = ("high", "medium", "low")
BASIS_KEYS: tuple[str, ...] = (
    "market",
    "name",
    "names",
    "hosts",
    "alias_hosts",
    "kind",
    "country",
    "city",
    "owner",
    "description",
)

#: What a market, owner or source id looks like (``baidu-wangpan``).
ID_SYNTAX = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
#: What a host in the market data looks like (lowercase ASCII, dotted, a TLD of 2+ letters).
HOST_SYNTAX = re.compile(
    r"(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}\Z"
)
_LISTING_KEY = re.compile(r"(\S+) (\S+)\Z")


class IncompleteEditionWarning(UserWarning):
    """The chosen edition is only partly known: a market missing from it may still be listed."""


# ---- records -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Source:
    """A document that supports listings or facts (``data/sources.yaml``)."""

    id: str
    title: str
    url: str | None = None
    supports: str | None = None
    excerpts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Listing:
    """One appearance of a market on one edition of a list."""

    list: str
    year: int
    status: str
    listed_as: str
    sources: tuple[str, ...]
    scope: tuple[str, ...] = ()
    confidence: str = "high"
    notes: str | None = None

    def covers(self, host: str | None) -> bool:
        """Whether the listing covers ``host``; any host when the listing has no scope.

        ``host=None`` (a name-only match) is covered too: the listing exists, but check
        :attr:`scope` before saying the whole platform is listed.
        """
        if not self.scope or host is None:
            return True
        return _under_any(_clean_host(host), self.scope)


@dataclass(frozen=True, slots=True)
class Market:
    """A platform or physical market; the same platform across years and lists is one Market."""

    id: str
    name: str
    kind: str
    physical: bool
    country: str | None
    city: str | None
    owner: str | None
    hosts: tuple[str, ...]
    alias_hosts: tuple[str, ...]
    names: tuple[str, ...]
    listings: tuple[Listing, ...]
    basis: Mapping[str, str] = field(default_factory=dict, hash=False)
    confidence: str = "high"
    description: str | None = None
    sources: tuple[str, ...] = ()

    def listing(self, list: str, year: int, host: str | None = None) -> Listing | None:
        """The listing on that edition, or None; with ``host``, only if the listing covers it.

        ``amazon.de`` is listed in 2020 through the scope of "Amazon's foreign domains";
        ``amazon.com`` never is.
        """
        for item in self.listings:
            if item.list == list and item.year == year:
                return item if item.covers(host) else None
        return None

    def listed_years(self, list: str) -> tuple[int, ...]:
        """Years of that list that name the market (whatever the scope), ascending."""
        return tuple(sorted(item.year for item in self.listings if item.list == list))

    @property
    def all_hosts(self) -> tuple[str, ...]:
        return self.hosts + self.alias_hosts


@dataclass(frozen=True, slots=True)
class Owner:
    """A parent company; ``hosts`` are corporate hosts that mean the owner, not a platform."""

    id: str
    name: str
    names: tuple[str, ...]
    hosts: tuple[str, ...]
    platforms: tuple[str, ...]
    basis: str | None = None


@dataclass(frozen=True, slots=True)
class Edition:
    """One edition of a list, with official and captured (known in the data) counts.

    Captured counts are counted from the listings, never stored, and ``complete`` follows from
    them: the online list is complete when its official count is known and every one of its
    markets is in the data. Bundled editions and editions from overlays work the same way.
    """

    list: str
    year: int
    released: str | None
    online_official: int | None
    online_captured: int
    physical_official: int | None
    physical_captured: int
    complete: bool
    label: str
    physical_countries: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def physical_complete(self) -> bool:
        return (
            self.physical_official is not None and self.physical_captured == self.physical_official
        )

    def coverage(self) -> str:
        """'online 42/42, physical 14/35' (captured/official; '?' when the count is unknown)."""

        def part(captured: int, official: int | None) -> str:
            return f"{captured}/{official if official is not None else '?'}"

        return (
            f"online {part(self.online_captured, self.online_official)}, "
            f"physical {part(self.physical_captured, self.physical_official)}"
        )


@dataclass(frozen=True, slots=True)
class EditionDiff:
    """Markets added, removed and continuing from ``old`` to ``new`` (online first, by name).

    When an edition is incomplete, ``added``/``removed`` may reflect gaps in the data rather
    than changes in the list: check :attr:`complete`.
    """

    old: Edition
    new: Edition
    added: tuple[Market, ...]
    removed: tuple[Market, ...]
    continuing: tuple[Market, ...]

    @property
    def complete(self) -> bool:
        """True when both online lists are complete (physical lists never are in the data)."""
        return self.old.complete and self.new.complete


@dataclass(frozen=True, slots=True)
class Origin:
    """Where the facts of a market, edition or owner were written (file:line:column each).

    With overlays, a fact comes from the last file that set it: ``fields`` maps each key
    (``kind``, ``country`` ...) to its place, ``hosts`` and ``names`` each host and name,
    ``listings`` each ``(list, year)``.
    """

    defined: Location
    fields: Mapping[str, Location] = field(default_factory=dict)
    hosts: Mapping[str, Location] = field(default_factory=dict)
    names: Mapping[str, Location] = field(default_factory=dict)
    listings: Mapping[tuple[str, int], Location] = field(default_factory=dict)


# ---- the data set ------------------------------------------------------------------------------
class MarketData:
    """The knowledge base: markets, owners, editions and sources, with queries over them.

    Treat the mappings as read-only. Instances pickle (plain dicts inside). ``files`` names
    the files the data was read from, the base first, then the overlays in merge order.
    """

    __slots__ = (
        "_by_edition",
        "_host_index",
        "_origins",
        "_owner_host_index",
        "_warned",
        "editions",
        "files",
        "markets",
        "owners",
        "sources",
    )

    def __init__(
        self,
        *,
        markets: Mapping[str, Market],
        owners: Mapping[str, Owner],
        editions: Iterable[Edition],
        sources: Mapping[str, Source],
        origins: Mapping[str, Origin] | None = None,
        files: Iterable[str] = (),
    ) -> None:
        self.markets: Mapping[str, Market] = dict(markets)
        self.owners: Mapping[str, Owner] = dict(owners)
        self.editions: tuple[Edition, ...] = tuple(sorted(editions, key=_edition_key))
        self.sources: Mapping[str, Source] = dict(sources)
        self.files: tuple[str, ...] = tuple(files)
        self._origins: dict[str, Origin] = dict(origins or {})
        by_edition: dict[tuple[str, int], list[Market]] = {}
        for market in sorted(self.markets.values(), key=_market_key):
            for item in market.listings:
                by_edition.setdefault((item.list, item.year), []).append(market)
        self._by_edition = {k: tuple(v) for k, v in by_edition.items()}
        self._host_index = {h: m.id for m in self.markets.values() for h in m.all_hosts}
        self._owner_host_index = {h: o.id for o in self.owners.values() for h in o.hosts}
        self._warned: set[tuple[str, int]] = set()

    # -- editions
    def editions_of(self, watch_list: str) -> tuple[Edition, ...]:
        """The editions of one watch list, oldest first."""
        self._check_list(watch_list)
        return tuple(e for e in self.editions if e.list == watch_list)

    def edition(
        self,
        watch_list: str = "ustr-nml",
        year: int | None = None,
        *,
        warn: bool = True,
        list: str | None = None,
    ) -> Edition:
        """One edition; ``year=None`` means the latest one whose online list is complete.

        An incomplete edition (``Edition.complete`` is False) emits
        :class:`IncompleteEditionWarning` once per edition and MarketData, unless
        ``warn=False`` (for callers that report completeness themselves). For a list with no
        complete edition, ``year=None`` picks the latest edition (and warns). ``list=`` is the
        deprecated spelling of ``watch_list``.
        """
        watch_list = renamed("list", list, "watch_list", watch_list)
        editions = self.editions_of(watch_list)
        if not editions:
            raise MarketLookupError(f"the data has no {LIST_LABELS[watch_list]} edition")
        if year is None:
            complete = [e for e in editions if e.complete]
            chosen = (complete or list_(editions))[-1]
        else:
            found = [e for e in editions if e.year == year]
            if not found:
                years = ", ".join(str(e.year) for e in editions)
                raise MarketLookupError(
                    f"no {LIST_LABELS[watch_list]} edition for {year}; known years: {years}"
                )
            chosen = found[0]
        key = (chosen.list, chosen.year)
        if warn and not chosen.complete and key not in self._warned:
            self._warned.add(key)
            warnings.warn(
                IncompleteEditionWarning(
                    f"{chosen.label} is incomplete in the data ({chosen.coverage()}): "
                    "a market's absence from it proves nothing"
                ),
                stacklevel=2,
            )
        return chosen

    # -- markets
    def market(self, market_id: str) -> Market:
        """The market with that id; :class:`MarketLookupError` (with a suggestion) otherwise."""
        try:
            return self.markets[market_id]
        except KeyError:
            raise MarketLookupError(
                f"unknown market {market_id!r}{did_you_mean(market_id, self.markets)}"
            ) from None

    def markets_in(
        self,
        edition: Edition,
        *,
        kind: str | None = None,
        country: str | None = None,
        owner: str | None = None,
        physical: bool | None = None,
    ) -> list[Market]:
        """Markets the edition names (whatever the scope), online first, then by name.

        ``country`` compares case-insensitively; ``owner`` is an owner id.
        """
        found = self._by_edition.get((edition.list, edition.year), ())
        folded = country.casefold() if country is not None else None
        return [
            m
            for m in found
            if (kind is None or m.kind == kind)
            and (folded is None or (m.country or "").casefold() == folded)
            and (owner is None or m.owner == owner)
            and (physical is None or m.physical == physical)
        ]

    def history(self, market_id: str) -> tuple[Listing, ...]:
        """Every listing of a market: USTR editions first, then EU, each by year."""
        return self.market(market_id).listings

    def find_market(self, query: str) -> Market:
        """A market by id, host or URL (``shop1.taobao.com`` is Taobao), or name (any case).

        Exact only: a close spelling is a :class:`MarketLookupError` that suggests the id.

        >>> load_markets().find_market("https://m.tb.cn/x").id
        'taobao'
        """
        text = query.strip()
        if text in self.markets:
            return self.markets[text]
        host = _host_of(text)
        labels = host.split(".") if host else []
        for i in range(max(len(labels) - 1, 0)):
            found = self._host_index.get(".".join(labels[i:]))
            if found is not None:
                return self.markets[found]
        key = name_key(text)
        for market in sorted(self.markets.values(), key=lambda m: m.id):
            if key and key in {name_key(n) for n in market.names}:
                return market
        choices = {m.id: m.id for m in self.markets.values()}
        choices.update((n.casefold(), m.id) for m in self.markets.values() for n in m.names)
        close = closest(text.casefold(), choices)
        hint = f"; did you mean {choices[close]!r}?" if close else ""
        raise MarketLookupError(f"no market with the id, host or name {query!r}{hint}")

    def origin(self, item: Market | Edition | Owner) -> Origin | None:
        """Where the facts of a market, edition or owner were written (None if not recorded)."""
        if isinstance(item, Market):
            return self._origins.get(f"market {item.id}")
        if isinstance(item, Edition):
            return self._origins.get(f"edition {item.list} {item.year}")
        return self._origins.get(f"owner {item.id}")

    def diff(self, old: Edition, new: Edition) -> EditionDiff:
        """What changed from ``old`` to ``new`` (by market, so a heading rename is no change)."""
        before = {m.id: m for m in self.markets_in(old)}
        after = {m.id: m for m in self.markets_in(new)}
        return EditionDiff(
            old=old,
            new=new,
            added=tuple(m for i, m in after.items() if i not in before),
            removed=tuple(m for i, m in before.items() if i not in after),
            continuing=tuple(m for i, m in after.items() if i in before),
        )

    # -- owners
    def owner_of(self, market: Market) -> Owner | None:
        return self.owners.get(market.owner) if market.owner is not None else None

    def find_owner(self, query: str) -> Owner:
        """An owner by id or any of its names, ignoring case and punctuation.

        >>> load_markets().find_owner("alibaba group").id
        'alibaba'
        """
        key = name_key(query)
        for owner in self.owners.values():
            if key in {name_key(n) for n in (owner.id, owner.name, *owner.names)}:
                return owner
        raise MarketLookupError(
            f"unknown owner {query!r}{did_you_mean(query.casefold(), self.owners)}"
            f" (known: {', '.join(sorted(self.owners))})"
        )

    # -- hosts
    def host_index(self) -> Mapping[str, str]:
        """Every market host (``hosts`` and ``alias_hosts``) -> market id."""
        return self._host_index

    def owner_host_index(self) -> Mapping[str, str]:
        """Owner corporate hosts (``qq.com``, ``baidu.com``) -> owner id."""
        return self._owner_host_index

    def _check_list(self, list: str) -> None:
        if list not in LISTS:
            raise MarketLookupError(
                f"unknown list {list!r}{did_you_mean(list, LISTS)} (known: {', '.join(LISTS)})"
            )


def check_kind(kind: str) -> str:
    """``kind`` if it is in :data:`KINDS`, else :class:`MarketLookupError` with a suggestion."""
    if kind not in KINDS:
        raise MarketLookupError(
            f"unknown kind {kind!r}{did_you_mean(kind, KINDS)} (known: {', '.join(KINDS)})"
        )
    return kind


list_ = list  # the builtin, for methods whose parameter is called ``list`` like the field


def _edition_key(e: Edition) -> tuple[int, int]:
    return (LISTS.index(e.list), e.year)


def _market_key(m: Market) -> tuple[bool, str]:
    return (m.physical, m.name.casefold())


def name_key(text: str) -> str:
    """A market or owner name folded for comparison: case and everything but letters and
    digits gone (``Tao-Bao`` and ``taobao`` meet)."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _clean_host(host: str) -> str:
    return host.strip().rstrip(".").lower()


def _host_of(text: str) -> str | None:
    """The host of a URL or bare host name, lower case; None for text that is neither."""
    import urllib.parse

    if " " in text.strip() or "." not in text:
        return None
    parsed = urllib.parse.urlsplit(text if "//" in text else "//" + text)
    return _clean_host(parsed.hostname or "") or None


def _under_any(host: str, parents: Iterable[str]) -> bool:
    return any(host == p or host.endswith("." + p) for p in parents)


# ---- loading -----------------------------------------------------------------------------------
#: Overlay files merged onto the bundled data wherever the data is not given explicitly
#: (``Screener()``, ``screen_url``, every CLI command without ``--data``); separated by
#: ``os.pathsep``.
DATA_ENV = "NOTORIOUS_SCREEN_DATA"


def load_markets(
    path: str | PathLike[str] | None = None,
    *,
    sources: str | PathLike[str] | None = None,
    overlays: Iterable[str | PathLike[str]] = (),
) -> MarketData:
    """Load and validate the knowledge base; the bundled data by default (parsed once, cached).

    ``path`` is a complete markets YAML file (``schema: 1``) that replaces the bundled data; its
    sources file defaults to ``sources.yaml`` next to it. ``overlays`` are overlay files
    (``overlay: 1``), merged onto that base in order by market id, edition and owner: new
    entries are added; in an entry already there, lists (hosts, names, sources, notes) gain
    items, other fields and whole listings are replaced. The merged data is validated as one
    (a host claimed by two markets in two files is an error), every problem a
    :class:`DataError` reading ``file:line:column: message``.
    """
    overlay_files = tuple(str(p) for p in overlays)
    if path is None and sources is None and not overlay_files:
        return _load_bundled()
    if path is None and sources is not None:
        raise ValueError("sources= needs path= (the markets file)")
    base = None
    if path is not None:
        sources_path = (
            Path(sources) if sources is not None else Path(path).with_name("sources.yaml")
        )
        base = (str(path), str(sources if sources is not None else sources_path))
    return _load_files(base, overlay_files, _stamp(base, overlay_files))


def resolve_data(data: Any = None) -> MarketData:
    """The data a Screener or command uses: ``data`` as given, else the bundled data plus the
    overlays named by ``$NOTORIOUS_SCREEN_DATA``.

    ``data`` is a :class:`MarketData`, a file, or a list of files: overlays (``overlay: 1``)
    merged onto the bundled data, or a complete knowledge base (``schema: 1``, first in the
    list) that replaces it and takes the overlays after it.
    """
    if isinstance(data, MarketData):
        return data
    if data is None:
        files = env_data_files()
    elif isinstance(data, (str, PathLike)):
        files = [str(data)]
    else:
        files = [str(p) for p in data]
    if not files:
        return _load_bundled()
    if _is_complete_file(files[0]):
        return load_markets(files[0], overlays=files[1:])
    return load_markets(overlays=files)


def env_data_files() -> list[str]:
    """The files ``$NOTORIOUS_SCREEN_DATA`` names (``os.pathsep``-separated), in order."""
    import os

    return [p for p in os.environ.get(DATA_ENV, "").split(os.pathsep) if p.strip()]


def _is_complete_file(path: str) -> bool:
    """Whether ``path`` is a complete knowledge base (its first key is ``schema``), cheaply."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096).decode("utf-8", "replace")
    except OSError:
        return False  # the overlay loader reports it
    for line in head.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return line.startswith("schema:")
    return False


def _stamp(base: tuple[str, str] | None, overlays: tuple[str, ...]) -> tuple[object, ...]:
    """What a cached load depends on: each file's size and modification time."""
    import os

    def one(path: str) -> object:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return (st.st_size, st.st_mtime_ns)

    return tuple(one(p) for p in (*(base or ()), *overlays))


class _Doc:
    """One YAML file: its root, its display name and its lines (for word columns)."""

    __slots__ = ("lines", "name", "root")

    def __init__(self, raw: bytes, name: str) -> None:
        from ._yaml import load_yaml_bytes

        self.name = name
        self.root = load_yaml_bytes(raw, name)
        self.lines = raw.decode("utf-8", "replace").lstrip("\ufeff").splitlines()


@functools.lru_cache(maxsize=8)
def _load_files(
    base: tuple[str, str] | None, overlays: tuple[str, ...], stamp: tuple[object, ...]
) -> MarketData:
    if base is None:
        markets_doc, sources_doc = _bundled_docs()
    else:
        markets_doc = _Doc(_read(Path(base[0])), base[0])
        sources_doc = _Doc(_read(Path(base[1])), base[1])
        _not_an_overlay(markets_doc)
    return _build(markets_doc, sources_doc, [_Doc(_read(Path(p)), p) for p in overlays])


@functools.lru_cache(maxsize=1)
def _bundled_docs() -> tuple[_Doc, _Doc]:
    from importlib import resources

    folder = resources.files("notorious_screen") / "data"
    return (
        _Doc((folder / "markets.yaml").read_bytes(), "notorious_screen/data/markets.yaml"),
        _Doc((folder / "sources.yaml").read_bytes(), "notorious_screen/data/sources.yaml"),
    )


@functools.lru_cache(maxsize=1)
def _load_bundled() -> MarketData:
    markets_doc, sources_doc = _bundled_docs()
    return _build(markets_doc, sources_doc, [])


def _read(path: Path) -> bytes:
    from ._yaml import read_capped  # capped and regular files only, like the rule packs

    return read_capped(path, str(path))


def _not_an_overlay(doc: _Doc) -> None:
    if isinstance(doc.root, dict) and "overlay" in doc.root and "schema" not in doc.root:
        raise DataError(
            "this is an overlay (overlay: 1), not a complete knowledge base: pass it as an "
            "overlay (--data FILE, data=[FILE], load_markets(overlays=[FILE]))",
            cast("YamlMap", doc.root).key_loc("overlay"),
        )


def _build(markets_doc: _Doc, sources_doc: _Doc, overlays: list[_Doc]) -> MarketData:
    top = _mapping(sources_doc.root, Location(sources_doc.name, 1, 1), "sources file")
    _keys(top, "sources file", required=("sources",), optional=())
    sources, source_rows = _parse_sources(
        _mapping(top["sources"], top.value_loc("sources"), "'sources'")
    )
    root = markets_doc.root
    lines = {markets_doc.name: markets_doc.lines}
    for doc in overlays:
        overlay = _overlay_top(doc)
        lines[doc.name] = doc.lines
        if overlay.get("sources") is not None:
            block = _mapping(overlay["sources"], overlay.value_loc("sources"), "'sources'")
            added, rows = _parse_sources(block)
            for sid, source in added.items():
                if sid in sources and sources[sid] != source:
                    first = source_rows[sid].loc
                    raise DataError(
                        f"source {sid!r} is already defined differently ({first}); give this "
                        "one another id",
                        block.key_loc(sid),
                    )
            sources.update(added)
            source_rows.update(rows)
        root = _Merger(doc.name, lines).merge(root, overlay)
    files = [markets_doc.name, *(d.name for d in overlays)]
    return _Parser(markets_doc.name, lines, sources, files).parse(root)


def _parse_sources(block: YamlMap) -> tuple[dict[str, Source], dict[str, YamlMap]]:
    """A ``sources:`` mapping (of sources.yaml or of an overlay) -> records, and their rows."""
    out: dict[str, Source] = {}
    rows: dict[str, YamlMap] = {}
    for sid, value in block.items():
        if not ID_SYNTAX.match(sid):
            raise DataError(
                f"invalid source id {sid!r}: use lowercase letters, digits and hyphens",
                block.key_loc(sid),
            )
        item = _mapping(value, block.value_loc(sid), f"source {sid!r}")
        _keys(
            item,
            f"source {sid!r}",
            required=("title",),
            optional=("url", "supports", "excerpts"),
        )
        excerpts = item.get("excerpts")
        if excerpts is not None:
            seq = _sequence(excerpts, item.value_loc("excerpts"), "'excerpts'")
            for i, text in enumerate(seq):
                if not isinstance(text, str) or not text.strip():
                    raise DataError("'excerpts' must be a list of strings", seq.item_loc(i))
        out[sid] = Source(
            id=sid,
            title=_text(item, "title"),
            url=_opt_text(item, "url"),
            supports=_opt_text(item, "supports"),
            excerpts=tuple(excerpts or ()),
        )
        rows[sid] = item
    return out, rows


OVERLAY_SECTIONS = ("sources", "editions", "owners", "markets")


def _overlay_top(doc: _Doc) -> YamlMap:
    """The frame of an overlay file: ``overlay: 1`` and the sections it may hold."""
    if not isinstance(doc.root, dict) and doc.name.lower().endswith((".csv", ".tsv")):
        raise DataError(
            "a CSV edition is not an overlay: turn it into one with "
            f"'notorious-screen markets import {doc.name} -o OVERLAY.yaml'",
            Location(doc.name, 1, 1),
        )
    top = _mapping(doc.root, Location(doc.name, 1, 1), "overlay file")
    if "schema" in top and "overlay" not in top:
        raise DataError(
            "this is a complete knowledge base (schema: 1), not an overlay: give it first "
            "(it replaces the bundled data) or make it an overlay ('overlay: 1')",
            top.key_loc("schema"),
        )
    _keys(top, "overlay file", required=("overlay",), optional=OVERLAY_SECTIONS)
    if top["overlay"] != 1:
        raise DataError(
            f"unsupported overlay version {top['overlay']!r}; this version reads overlay: 1",
            top.value_loc("overlay"),
        )
    return top


# Keys whose values are lists: an overlay adds to them. Every other key, and each listing and
# basis note as a whole, an overlay replaces.
_UNION_KEYS = frozenset({"hosts", "alias_hosts", "names", "sources", "notes", "physical_countries"})
_MERGED_MAPS = frozenset({"listings", "basis"})


class _Merger:
    """Merges one overlay onto a document; every value keeps the place it was written."""

    def __init__(self, path: str, lines: Mapping[str, list[str]]) -> None:
        self.path = path
        self.lines = lines

    def merge(self, root: Any, overlay: YamlMap) -> YamlMap:
        out = cast("YamlMap", root).copy_located()
        for section in ("editions", "owners", "markets"):
            if overlay.get(section) is not None:  # an empty section is no section
                self._section(out, overlay, section)
        return out

    def _section(self, out: YamlMap, overlay: YamlMap, section: str) -> None:
        from ._yaml import YamlList

        rows = _sequence(overlay[section], overlay.value_loc(section), f"{section!r}")
        base = out.get(section)
        merged = YamlList(out.value_loc(section) if section in out else rows.loc)
        if isinstance(base, list):
            base_rows = cast("YamlList", base)
            for i, row in enumerate(base_rows):
                merged.add(row, base_rows.item_loc(i))
        index = {
            self._key(section, cast("YamlMap", r)): i
            for i, r in enumerate(merged)
            if isinstance(r, dict)
        }
        seen: dict[object, int] = {}
        what = section[:-1]
        for i, item in enumerate(rows):
            row = _mapping(item, rows.item_loc(i), f"an overlay {what}")
            key = self._overlay_key(section, row)
            if key in seen:
                raise DataError(
                    f"duplicate {what} {_key_text(key)} in this overlay (first at line "
                    f"{seen[key]})",
                    row.loc,
                )
            seen[key] = row.loc.line
            at = index.get(key)
            if at is None:
                index[key] = len(merged)
                merged.add(row, rows.item_loc(i))
            else:
                merged.replace_at(at, self._patch(merged[at], row), merged.item_loc(at))
        out.put(
            section,
            merged,
            out.key_loc(section) if section in out else overlay.key_loc(section),
            merged.loc,
        )

    @staticmethod
    def _key(section: str, row: YamlMap) -> object:
        if section == "editions":
            return (row.get("list"), str(row.get("year")))
        return row.get("id")

    def _overlay_key(self, section: str, row: YamlMap) -> object:
        """The merge key, checked here so an overlay's error points into the overlay."""
        if section == "editions":
            _keys(row, "edition", required=("list", "year"), optional=_EDITION_KEYS)
            _choice(row, "list", LISTS, "list")
            return (row["list"], str(_year(row["year"], row.value_loc("year"))))
        if "id" not in row:
            raise DataError(f"{section[:-1]} is missing key 'id'", row.loc)
        value = row["id"]
        if not isinstance(value, str) or not ID_SYNTAX.match(value):
            raise DataError(
                f"invalid {section[:-1]} id {value!r}: use lowercase letters, digits and hyphens",
                row.value_loc("id"),
            )
        return value

    def _patch(self, base: YamlMap, over: YamlMap) -> YamlMap:
        out = base.copy_located()
        for key in over:
            if key in ("id", "list", "year"):
                continue
            if key in _UNION_KEYS and out.get(key) is not None:
                out.put(key, self._union(out, over, key), out.key_loc(key), out.value_loc(key))
            elif key in _MERGED_MAPS and isinstance(out.get(key), dict) and over.get(key):
                inner = cast("YamlMap", out[key]).copy_located()
                block = _mapping(over[key], over.value_loc(key), f"{key!r}")
                for sub in block:
                    inner.put(sub, block[sub], block.key_loc(sub), block.value_loc(sub))
                out.put(key, inner, out.key_loc(key), out.value_loc(key))
            else:
                out.put(key, over[key], over.key_loc(key), over.value_loc(key))
        return out

    def _union(self, base: YamlMap, over: YamlMap, key: str) -> Any:
        from ._yaml import YamlList

        merged = YamlList(base.value_loc(key))
        seen: set[str] = set()
        for m in (base, over):
            for word, where in self._words(m, key):
                if word not in seen:
                    seen.add(word)
                    merged.add(word, where)
        return merged

    def _words(self, m: YamlMap, key: str) -> list[tuple[str, Location]]:
        from ._yaml import scalar_words

        value = m[key]
        if isinstance(value, str):
            where = m.value_loc(key)
            lines = self.lines.get(where.path, [])
            line = lines[where.line - 1] if 0 < where.line <= len(lines) else ""
            return scalar_words(value, where, line)
        seq = _sequence(value, m.value_loc(key), f"{key!r} (a list of strings)")
        out = []
        for i, item in enumerate(seq):
            if not isinstance(item, str) or not item.strip():
                raise DataError(f"{key!r} must be a list of strings", seq.item_loc(i))
            out.append((item, seq.item_loc(i)))
        return out


_EDITION_KEYS = (
    "complete",
    "label",
    "released",
    "online_official",
    "online_captured",
    "physical_official",
    "physical_captured",
    "physical_countries",
    "sources",
    "notes",
)


def _line_of(first: Location, here: Location) -> str:
    """'line 12' in the same file, else 'path:12': how a message points back at a first place."""
    return f"line {first.line}" if first.path == here.path else f"{first.path}:{first.line}"


def _key_text(key: object) -> str:
    if isinstance(key, tuple):
        return " ".join(map(str, key))
    return repr(key)


# The loader returns YamlMap/YamlList for every mapping/sequence, so dict/list checks suffice.
def _mapping(value: Any, where: Location, what: str) -> YamlMap:
    if not isinstance(value, dict):
        raise DataError(f"{what} must be a mapping", where)
    return cast("YamlMap", value)


def _sequence(value: Any, where: Location, what: str) -> YamlList:
    if not isinstance(value, list):
        raise DataError(f"{what} must be a list", where)
    return cast("YamlList", value)


def _keys(m: YamlMap, what: str, *, required: Iterable[str], optional: Iterable[str]) -> None:
    required = tuple(required)
    allowed = (*required, *optional)
    for key in m:
        if key not in allowed:
            raise DataError(
                f"unknown key {key!r} in {what}{did_you_mean(key, allowed)}", m.key_loc(key)
            )
    for key in required:
        if key not in m:
            raise DataError(f"{what} is missing key {key!r}", m.loc)


def _text(m: YamlMap, key: str) -> str:
    value = m[key]
    if not isinstance(value, str) or not value.strip():
        raise DataError(f"{key!r} must be a non-empty string", m.value_loc(key))
    return value


def _opt_text(m: YamlMap, key: str) -> str | None:
    if m.get(key) is None:
        return None
    return _text(m, key)


def _choice(m: YamlMap, key: str, choices: tuple[str, ...], what: str) -> str:
    value = m[key]
    if not isinstance(value, str) or value not in choices:
        raise DataError(
            f"unknown {what} {value!r}{did_you_mean(str(value), choices)}"
            f" (expected one of: {', '.join(choices)})",
            m.value_loc(key),
        )
    return value


def _count(m: YamlMap, key: str, *, optional: bool) -> int | None:
    value = m.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DataError(f"{key!r} must be a count (an integer >= 0)", m.value_loc(key))
    return value


def _year(value: Any, where: Location) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1990 <= value <= 2100:
        raise DataError(f"bad year {value!r}: expected a year such as 2021", where)
    return value


class _Parser:
    """Validates a markets document (one file, or a base merged with overlays) into records;
    every error points at the offending text, in whichever file it was written."""

    def __init__(
        self,
        path: str,
        lines: Mapping[str, list[str]],
        sources: Mapping[str, Source],
        files: Iterable[str] = (),
    ) -> None:
        self.path = path
        self.lines = lines
        self.sources = sources
        self.files = tuple(files) or (path,)
        self.rows: dict[str, YamlMap] = {}
        self.origins: dict[str, Origin] = {}
        # (market id, list, year) -> where the listing key was written
        self.listing_locs: dict[tuple[str, str, int], Location] = {}

    def parse(self, root: Any) -> MarketData:
        top = _mapping(root, Location(self.path, 1, 1), "markets file")
        _keys(top, "markets file", required=("schema", "editions", "markets"), optional=("owners",))
        if top["schema"] != 1:
            raise DataError(
                f"unsupported schema {top['schema']!r}; this version reads schema 1",
                top.value_loc("schema"),
            )
        editions = self._editions(top)
        owner_rows = self._owners(top)
        markets = self._markets(top, editions, owner_rows)
        self._check_hosts(markets, owner_rows)
        counted = self._check_counts(markets, editions)
        owners = {
            oid: Owner(
                id=oid,
                name=o.name,
                names=o.names,
                hosts=o.hosts,
                platforms=tuple(m.id for m in markets.values() if m.owner == oid),
                basis=o.basis,
            )
            for oid, (o, _) in owner_rows.items()
        }
        for oid, (_, row) in owner_rows.items():
            self.origins[f"owner {oid}"] = Origin(
                defined=row.value_loc("id"), fields={k: row.value_loc(k) for k in row}
            )
        return MarketData(
            markets=markets,
            owners=owners,
            editions=counted,
            sources=self.sources,
            origins=self.origins,
            files=self.files,
        )

    # -- small helpers that need the file text
    def _list(self, m: YamlMap, key: str, what: str) -> list[tuple[str, Location]]:
        """A list of strings, or (for source ids) one space-separated string; with locations."""
        value = m.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            return self._split(value, m.value_loc(key))
        value = _sequence(value, m.value_loc(key), f"{what} (a list of strings)")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise DataError(f"{what} must be a list of strings", value.item_loc(i))
            out.append((item, value.item_loc(i)))
        return out

    def _split(self, value: str, where: Location) -> list[tuple[str, Location]]:
        """Words of a one-line scalar, each located at its own column when that is knowable."""
        from ._yaml import scalar_words

        lines = self.lines.get(where.path, [])
        line = lines[where.line - 1] if 0 < where.line <= len(lines) else ""
        return scalar_words(value, where, line)

    def _source_ids(self, m: YamlMap, key: str, what: str) -> tuple[str, ...]:
        ids = self._list(m, key, what)
        for sid, where in ids:
            if sid not in self.sources:
                raise DataError(f"unknown source {sid!r}{did_you_mean(sid, self.sources)}", where)
        return tuple(sid for sid, _ in ids)

    # -- sections
    def _editions(self, top: YamlMap) -> dict[tuple[str, int], tuple[Edition, YamlMap]]:
        rows = _sequence(top["editions"], top.value_loc("editions"), "'editions'")
        out: dict[tuple[str, int], tuple[Edition, YamlMap]] = {}
        for i, row in enumerate(rows):
            e = _mapping(row, rows.item_loc(i), "an edition")
            _keys(e, "edition", required=("list", "year"), optional=_EDITION_KEYS)
            lst = _choice(e, "list", LISTS, "list")
            year = _year(e["year"], e.value_loc("year"))
            if (lst, year) in out:
                first = _line_of(out[(lst, year)][1].loc, e.loc)
                raise DataError(f"duplicate edition {lst} {year} (first defined at {first})", e.loc)
            if "complete" in e and not isinstance(e["complete"], bool):
                raise DataError("'complete' must be true or false", e.value_loc("complete"))
            released = e.get("released")
            if released is not None and not isinstance(released, str):
                raise DataError("'released' must be a quoted date string", e.value_loc("released"))
            edition = Edition(
                list=lst,
                year=year,
                released=released,
                online_official=_count(e, "online_official", optional=True),
                online_captured=_count(e, "online_captured", optional=True) or 0,
                physical_official=_count(e, "physical_official", optional=True),
                physical_captured=_count(e, "physical_captured", optional=True) or 0,
                complete=False,  # follows from the counts (_check_counts)
                label=_opt_text(e, "label") or f"{LIST_LABELS[lst]} {year}",
                physical_countries=tuple(
                    s for s, _ in self._list(e, "physical_countries", "'physical_countries'")
                ),
                sources=self._source_ids(e, "sources", "'sources'"),
                notes=tuple(s for s, _ in self._list(e, "notes", "'notes'")),
            )
            out[(lst, year)] = (edition, e)
            self.origins[f"edition {lst} {year}"] = Origin(
                defined=e.loc, fields={k: e.value_loc(k) for k in e}
            )
        return out

    def _owners(self, top: YamlMap) -> dict[str, tuple[Owner, YamlMap]]:
        out: dict[str, tuple[Owner, YamlMap]] = {}
        if top.get("owners") is None:
            return out
        rows = _sequence(top["owners"], top.value_loc("owners"), "'owners'")
        for i, row in enumerate(rows):
            o = _mapping(row, rows.item_loc(i), "an owner")
            _keys(o, "owner", required=("id", "name"), optional=("names", "hosts", "basis"))
            oid = self._id(o, "owner")
            if oid in out:
                first = out[oid][1].value_loc("id").line
                raise DataError(
                    f"duplicate owner id {oid!r} (first defined at line {first})",
                    o.value_loc("id"),
                )
            out[oid] = (
                Owner(
                    id=oid,
                    name=_text(o, "name"),
                    names=tuple(s for s, _ in self._list(o, "names", "'names'")),
                    hosts=self._hosts(o, "hosts"),
                    platforms=(),
                    basis=_opt_text(o, "basis"),
                ),
                o,
            )
        return out

    def _id(self, m: YamlMap, what: str) -> str:
        value = m["id"]
        if not isinstance(value, str) or not ID_SYNTAX.match(value):
            raise DataError(
                f"invalid {what} id {value!r}: use lowercase letters, digits and hyphens",
                m.value_loc("id"),
            )
        return value

    def _hosts(self, m: YamlMap, key: str) -> tuple[str, ...]:
        hosts = self._list(m, key, f"{key!r}")
        for host, where in hosts:
            if not HOST_SYNTAX.match(host):
                raise DataError(
                    f"invalid host {host!r}: write a lowercase ASCII host name without scheme, "
                    "path or wildcard ('*.v.weidian.com' is written 'v.weidian.com')",
                    where,
                )
        return tuple(h for h, _ in hosts)

    def _markets(
        self,
        top: YamlMap,
        editions: Mapping[tuple[str, int], tuple[Edition, YamlMap]],
        owners: Mapping[str, tuple[Owner, YamlMap]],
    ) -> dict[str, Market]:
        rows = _sequence(top["markets"], top.value_loc("markets"), "'markets'")
        out: dict[str, Market] = {}
        first_line: dict[str, int] = {}
        for i, row in enumerate(rows):
            m = _mapping(row, rows.item_loc(i), "a market")
            _keys(
                m,
                "market",
                required=("id", "name", "kind"),
                optional=(
                    "country",
                    "city",
                    "owner",
                    "hosts",
                    "alias_hosts",
                    "names",
                    "description",
                    "confidence",
                    "basis",
                    "sources",
                    "listings",
                ),
            )
            mid = self._id(m, "market")
            if mid in out:
                raise DataError(
                    f"duplicate market id {mid!r} (first defined at line {first_line[mid]})",
                    m.value_loc("id"),
                )
            first_line[mid] = m.value_loc("id").line
            self.rows[mid] = m
            kind = _choice(m, "kind", KINDS, "kind")
            owner = _opt_text(m, "owner")
            if owner is not None and owner not in owners:
                raise DataError(
                    f"unknown owner {owner!r}{did_you_mean(owner, owners)}", m.value_loc("owner")
                )
            hosts = self._hosts(m, "hosts")
            alias_hosts = self._hosts(m, "alias_hosts")
            name = _text(m, "name")
            names = (name, *(s for s, _ in self._list(m, "names", "'names'") if s != name))
            listings = self._listings(m, mid, name, hosts + alias_hosts, editions)
            out[mid] = Market(
                id=mid,
                name=name,
                kind=kind,
                physical=kind == "physical",
                country=_opt_text(m, "country"),
                city=_opt_text(m, "city"),
                owner=owner,
                hosts=hosts,
                alias_hosts=alias_hosts,
                names=names,
                listings=listings,
                basis=self._basis(m),
                confidence=_choice(m, "confidence", CONFIDENCES, "confidence")
                if "confidence" in m
                else "high",
                description=_opt_text(m, "description"),
                sources=self._source_ids(m, "sources", "'sources'"),
            )
            self.origins[f"market {mid}"] = Origin(
                defined=m.value_loc("id"),
                fields={
                    **{k: m.value_loc(k) for k in m if k not in ("id", "listings")},
                    **self._basis_locs(m),
                },
                hosts={
                    h: at for key in ("hosts", "alias_hosts") for h, at in self._list(m, key, key)
                },
                names={name: m.value_loc("name"), **dict(self._list(m, "names", "'names'"))},
                listings={
                    (lst, year): at for (i, lst, year), at in self.listing_locs.items() if i == mid
                },
            )
        return out

    @staticmethod
    def _basis_locs(m: YamlMap) -> dict[str, Location]:
        """'basis <key>' -> where that note was written (an overlay may replace one)."""
        block = m.get("basis")
        if not isinstance(block, dict):
            return {}
        located = cast("YamlMap", block)
        return {f"basis {k}": located.value_loc(k) for k in located}

    def _basis(self, m: YamlMap) -> dict[str, str]:
        if m.get("basis") is None:
            return {}
        b = _mapping(m["basis"], m.value_loc("basis"), "'basis'")
        _keys(b, "basis", required=(), optional=BASIS_KEYS)
        return {k: _text(b, k) for k in b}

    def _listings(
        self,
        m: YamlMap,
        mid: str,
        market_name: str,
        market_hosts: tuple[str, ...],
        editions: Mapping[tuple[str, int], tuple[Edition, YamlMap]],
    ) -> tuple[Listing, ...]:
        if m.get("listings") is None:
            return ()
        block = _mapping(m["listings"], m.value_loc("listings"), "'listings'")
        out: list[Listing] = []
        for key, value in block.items():
            where = block.key_loc(key)
            lst, year = self._listing_key(key, where, editions)
            self.listing_locs[(mid, lst, year)] = where
            x = _mapping(value, block.value_loc(key), f"listing {key!r}")
            _keys(
                x,
                f"listing {key!r}",
                required=("status",),
                optional=("listed_as", "sources", "scope", "confidence", "notes"),
            )
            if not self._list(x, "sources", "'sources'"):
                raise DataError(
                    f"listing {key!r} of market {mid!r} has no sources",
                    x.value_loc("sources") if "sources" in x else x.loc,
                )
            scope = self._hosts(x, "scope")
            for host, host_loc in self._list(x, "scope", "'scope'"):
                if not _under_any(host, market_hosts):
                    raise DataError(
                        f"scope host {host!r} is not a host of market {mid!r}", host_loc
                    )
            out.append(
                Listing(
                    list=lst,
                    year=year,
                    status=_choice(x, "status", STATUSES, "status"),
                    listed_as=_text(x, "listed_as") if "listed_as" in x else market_name,
                    sources=self._source_ids(x, "sources", "'sources'"),
                    scope=scope,
                    confidence=_choice(x, "confidence", CONFIDENCES, "confidence")
                    if "confidence" in x
                    else "high",
                    notes=_opt_text(x, "notes"),
                )
            )
        return tuple(sorted(out, key=lambda item: (LISTS.index(item.list), item.year)))

    def _listing_key(
        self,
        key: str,
        where: Location,
        editions: Mapping[tuple[str, int], tuple[Edition, YamlMap]],
    ) -> tuple[str, int]:
        """``"ustr-nml 2021"`` -> ("ustr-nml", 2021), located at the bad word when it is bad."""
        match = _LISTING_KEY.match(key)
        if match is None:
            raise DataError(
                f"listing key {key!r} must read '<list> <year>', e.g. 'ustr-nml 2021'", where
            )
        (lst, lst_loc), (year_text, year_loc) = self._split(key, where)
        if lst not in LISTS:
            raise DataError(
                f"unknown list {lst!r}{did_you_mean(lst, LISTS)} (expected one of: "
                f"{', '.join(LISTS)})",
                lst_loc,
            )
        year = _year(year_text, year_loc)
        if (lst, year) not in editions:
            known = ", ".join(str(y) for (li, y) in sorted(editions) if li == lst)
            raise DataError(f"no {lst} edition for {year} in 'editions' (known: {known})", year_loc)
        return lst, year

    def _check_hosts(
        self, markets: Mapping[str, Market], owners: Mapping[str, tuple[Owner, YamlMap]]
    ) -> None:
        """A host belongs to one market (or one owner): a second claim is an error. Across
        files the claim in the later file (an overlay, not the data under it) is the one
        reported, so the error points at what to fix."""
        claimed: dict[str, tuple[str, Location, bool]] = {}
        order = {path: i for i, path in enumerate(self.files)}

        def claim(host: str, who: str, where: Location, owner: bool) -> None:
            if host not in claimed:
                claimed[host] = (who, where, owner)
                return
            earlier, later = claimed[host], (who, where, owner)
            if earlier[1].path != where.path and order.get(earlier[1].path, 0) > order.get(
                where.path, 0
            ):
                earlier, later = later, earlier
            (other, first, other_owner), (_, at, owner) = earlier, later
            what = "owner host" if owner else "host"
            by = repr(other) if other_owner or owner else f"market {other!r}"
            raise DataError(
                f"{what} {host!r} is already claimed by {by} ({_line_of(first, at)})", at
            )

        for mid, market in markets.items():
            row = self.rows[mid]
            for key in ("hosts", "alias_hosts"):
                for host, where in self._list(row, key, key):
                    claim(host, market.id, where, False)
        for oid, (_, row) in owners.items():
            for host, where in self._list(row, "hosts", "hosts"):
                claim(host, f"owner {oid}", where, True)

    def _check_counts(
        self,
        markets: Mapping[str, Market],
        editions: Mapping[tuple[str, int], tuple[Edition, YamlMap]],
    ) -> list[Edition]:
        """Captured counts come from the listings and ``complete`` from the counts; a stated
        count or ``complete`` is an assertion that must agree."""
        out = []
        for (lst, year), (edition, row) in editions.items():
            online = sum(
                1 for m in markets.values() if not m.physical and m.listing(lst, year) is not None
            )
            physical = sum(
                1 for m in markets.values() if m.physical and m.listing(lst, year) is not None
            )
            for key, have in (("online_captured", online), ("physical_captured", physical)):
                stated = row.get(key)
                if stated is not None and stated != have:
                    raise DataError(
                        f"{key} is {stated} but {have} markets list {edition.label}",
                        row.value_loc(key),
                    )
            for key, have, side in (
                ("online_official", online, False),
                ("physical_official", physical, True),
            ):
                official = row.get(key)
                if isinstance(official, int) and have > official:
                    # Point at a listing from another file than the count (an overlay adding
                    # one too many) when there is one: that is what to fix.
                    count_at = row.value_loc(key)
                    where = max(
                        (
                            at
                            for (mid, li, y), at in self.listing_locs.items()
                            if (li, y) == (lst, year)
                            and markets[mid].physical is side
                            and at.path != count_at.path
                        ),
                        key=lambda at: (at.path, at.line, at.column),
                        default=count_at,
                    )
                    raise DataError(
                        f"{have} {key.split('_')[0]} markets list {edition.label} but its "
                        f"{key} is {official} ({_line_of(count_at, where)})",
                        where,
                    )
            complete = edition.online_official is not None and online == edition.online_official
            stated = row.get("complete")
            if stated is True and not complete:
                counts = (
                    f"{online} of {edition.online_official} online markets are listed"
                    if edition.online_official is not None
                    else "it has no online_official count"
                )
                raise DataError(
                    f"{edition.label} is marked complete but {counts}", row.value_loc("complete")
                )
            if stated is False and complete:
                raise DataError(
                    f"{edition.label} is marked incomplete but all {online} of its online markets "
                    "are listed (leave 'complete' out: it follows from the counts)",
                    row.value_loc("complete"),
                )
            out.append(
                replace(
                    edition,
                    online_captured=online,
                    physical_captured=physical,
                    complete=complete,
                )
            )
        return out
