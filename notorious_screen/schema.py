"""The data contract: what a rule may read about a row, and what a screened row says.

One room for everything several modules must agree on, so that a new field or column is one
change here (plus the data it comes from; see docs/contributing.md):

* `FIELDS` and `VOCABULARIES`: the closed record vocabulary rule packs are checked against,
  and `RecordBuilder`, the one place that fills it (a test pins that both name the same
  fields);
* `BrandProfile`, `Reason`, `Evaluation`: what a pack knows of the brand and what it answers;
* `ScreenResult`: one screening, as the Python API returns it;
* the ``ns_*`` output columns, each with its type and how it is read off a `ScreenResult`
  (`OUTPUT_COLUMNS`, `row_values`), from which the Arrow, pandas and Spark types derive, and
  `check_columns`, the one check an input's columns must pass.

Nothing here screens anything; it imports no Arrow or pandas until asked for their types.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ._text import is_under
from .errors import InputError
from .markets import KINDS, STATUSES, Edition, Listing, Market, MarketData, Owner
from .match import Match, MatchKind, VariantClass, VariantDetector
from .normalize import ErrorCode, normalize_url

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "FIELDS",
    "OUTPUT_COLUMNS",
    "ROW_COLUMNS",
    "VOCABULARIES",
    "BrandProfile",
    "ColumnType",
    "Evaluation",
    "FieldType",
    "Reason",
    "Record",
    "RecordBuilder",
    "ScreenResult",
    "arrow_type",
    "check_columns",
    "clean_host",
    "edition_tag",
    "format_reasons",
    "pandas_dtype",
    "row_values",
    "spark_type_name",
    "split_path",
    "split_store",
]


# ---- the record vocabulary -----------------------------------------------------------------
class FieldType(str, Enum):
    """The value type of a record field; it decides which operators apply."""

    STR = "string"
    BOOL = "boolean"
    INT = "integer"
    NUMBER = "number"
    INT_LIST = "list of integers"


_S, _B, _I, _N, _L = (
    FieldType.STR,
    FieldType.BOOL,
    FieldType.INT,
    FieldType.NUMBER,
    FieldType.INT_LIST,
)

#: Every field a rule may read, with its type; `RecordBuilder` fills exactly these.
FIELDS: Mapping[str, FieldType] = MappingProxyType(
    {
        "market": _S,
        "market_name": _S,
        "kind": _S,
        "physical": _B,
        "country": _S,
        "owner": _S,
        "owner_name": _S,
        "listed": _B,
        "listed_years": _L,
        "listing_status": _S,
        "listed_before": _B,
        "editions_listed": _I,
        "owner_listed": _B,
        "match": _S,
        "variant": _S,
        "imitates": _S,
        "similarity": _N,
        "host": _S,
        "host_unicode": _S,
        "registrable_domain": _S,
        "path": _S,
        "query": _S,
        "url": _S,
        "name": _S,
        "brand_own_domain": _B,
        "brand_lookalike": _B,
        "brand_authorized": _B,
        "error": _S,
        "name_mentions": _S,
        "name_mentions_name": _S,
        "name_similarity": _N,
    }
)

#: Closed vocabularies: ``equals``/``in``/``not_in`` values of these fields are checked at load,
#: so ``kind: ecommerce`` is an error (did you mean 'e-commerce'?) instead of a silent miss.
VOCABULARIES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "kind": frozenset(KINDS),
        "match": frozenset(k.value for k in MatchKind),
        "variant": frozenset(v.value for v in VariantClass),
        "listing_status": frozenset(STATUSES),
    }
)

#: A record: the value of each of `FIELDS` for one row (None where the row has none).
Record = Mapping[str, Any]

# Fields whose value depends on the whole URL rather than the host: a pack that reads them
# is evaluated per distinct URL instead of per distinct host.
URL_FIELDS = frozenset({"url", "path", "query"})
# Fields that differ between two hosts resolved the same way: a pack that reads none of them
# (and has no brand hosts) gives every storefront of a market the same row.
HOST_FIELDS = URL_FIELDS | {"host", "host_unicode", "registrable_domain"}


# ---- the brand and the pack's answer -----------------------------------------------------------
def clean_host(raw: str) -> str:
    """A host as brand profiles compare it: trimmed, lowercase, no root dot, IDNs in ASCII."""
    host = raw.strip().lower().rstrip(".")
    if host and not host.isascii():
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    return host


def split_store(entry: str) -> tuple[str, str]:
    """A store URL's host and path (lowercase, no trailing slash); empty when it has none."""
    # The project's own WHATWG normalizer, not urlsplit: it never raises on crawler junk
    # (urlsplit does, e.g. on "hxxps://x[.]com") and reads hosts the way matching does.
    url = normalize_url(entry)
    if url.host is None:
        return "", ""
    path = url.path.partition("?")[0]
    return url.host, path.rstrip("/").lower()


@dataclass(frozen=True, slots=True)
class BrandProfile:
    """Who the brand is: its own domains, its authorized sellers and the lists it watches.

    Hosts are compared lowercase and ASCII (IDNs as punycode); a host matches an entry when it
    equals it or is a subdomain of it. Store entries are URL prefixes (``shopee.sg/acme``,
    scheme optional): the host must equal the store's host and the path
    must start with the store's path at a ``/`` boundary, compared case-insensitively; a
    leading ``www.`` is ignored on both sides.
    """

    name: str | None = None
    own_domains: tuple[str, ...] = ()
    authorized_hosts: tuple[str, ...] = ()
    authorized_stores: tuple[str, ...] = ()
    authorized_store_ids: tuple[str, ...] = ()
    watch_lists: tuple[str, ...] = ()

    @property
    def has_url_rules(self) -> bool:
        """True when authorization depends on the URL path, not only the host."""
        return bool(self.authorized_stores)

    def is_own_domain(self, host: str | None) -> bool:
        """True when ``host`` is one of the brand's own domains or a subdomain of one."""
        if not host or not self.own_domains:
            return False
        return is_under(clean_host(host), self.own_domains)

    def is_authorized(
        self, *, host: str | None = None, url: str | None = None, store_id: str | None = None
    ) -> bool:
        """True when the host, the store URL or the store id is an authorized seller's."""
        if store_id is not None and store_id in self.authorized_store_ids:
            return True
        h = clean_host(host) if host else None
        if h and self.authorized_hosts and is_under(h, self.authorized_hosts):
            return True
        if url and self.authorized_stores:
            u_host, u_path = split_store(url) if isinstance(url, str) else ("", "")
            if not u_host:
                return False
            u_host = u_host.removeprefix("www.")
            for entry in self.authorized_stores:
                s_host, s_path = split_store(entry)
                if u_host != s_host.removeprefix("www."):
                    continue
                if not s_path or u_path == s_path or u_path.startswith(s_path + "/"):
                    return True
        return False


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a score: the rule that fired, the points it added and its message."""

    rule_id: str
    points: int
    message: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A pack's verdict on one record: summed and clamped score, tier, reasons in pack order."""

    score: int
    tier: str | None
    reasons: tuple[Reason, ...]
    cleared: bool


# ---- the record ------------------------------------------------------------------------------
def split_path(path: str | None) -> tuple[str | None, str | None]:
    """A URL's path and query (without ``?``), None where empty or absent."""
    if not path:
        return None, None
    p, sep, q = path.partition("?")
    return (p or None), (q if sep else None)


class RecordBuilder:
    """Fills the record of `FIELDS` for one match, against one edition and one brand.

    The listing facts are the edition's (a listing narrower than its platform, "Amazon's
    foreign domains", applies only to the hosts it names); the brand facts are the profile's,
    with lookalikes of the brand's own domains found by the same detector as market ones.
    """

    def __init__(self, data: MarketData, edition: Edition, brand: BrandProfile) -> None:
        self.edition = edition
        self.brand = brand
        own = brand.own_domains
        self._brand_detector = VariantDetector(own) if own else None
        self._owner_listed = {m.owner for m in data.markets_in(edition) if m.owner is not None}

    def _listing(self, market: Market, year: int, host: str | None) -> Listing | None:
        listing = market.listing(self.edition.list, year, host)
        if listing is not None and listing.scope and host is None:
            # A listing narrower than the platform ("Amazon's foreign domains") needs a host
            # to apply: a bare name cannot say which storefront it is.
            return None
        return listing

    def __call__(self, match: Match, *, url: str | None = None, name: str | None = None) -> Record:
        """The record of ``match`` (``url``: the input URL, for packs that read it)."""
        ed = self.edition
        market = match.market
        owner = match.owner
        listing = None
        listed_years: tuple[int, ...] | None = None
        listed_before = None
        editions_listed = None
        if market is not None:
            scope_host = match.imitates if match.kind is MatchKind.VARIANT else match.host
            years = tuple(
                y
                for y in market.listed_years(ed.list)
                if y <= ed.year and self._listing(market, y, scope_host) is not None
            )
            listing = self._listing(market, ed.year, scope_host)
            listed_years = years
            listed_before = any(y < ed.year for y in years)
            editions_listed = len(years)
        host = match.host
        path, query = split_path(match.path) if url is not None else (None, None)
        brand = self.brand
        own = brand.is_own_domain(host) if host else False
        authorized = brand.is_authorized(host=host, url=url, store_id=None)
        lookalike = False
        if not (own or authorized) and self._brand_detector is not None and match.url is not None:
            lookalike = self._brand_detector.detect(match.url) is not None
        return {
            "market": market.id if market else None,
            "market_name": market.name if market else None,
            "kind": market.kind if market else None,
            "physical": market.physical if market else None,
            "country": market.country if market else None,
            "owner": owner.id if owner else None,
            "owner_name": owner.name if owner else None,
            "listed": listing is not None,
            "listed_years": list(listed_years) if listed_years is not None else None,
            "listing_status": listing.status if listing is not None else None,
            "listed_before": listed_before,
            "editions_listed": editions_listed,
            "owner_listed": (owner.id in self._owner_listed) if owner else None,
            "match": match.kind.value,
            "variant": match.variant.value if match.variant else None,
            "imitates": match.imitates,
            "similarity": float(match.similarity),
            "host": host,
            "host_unicode": match.host_unicode,
            "registrable_domain": match.registrable_domain,
            "path": path,
            "query": query,
            "url": url,
            "name": name,
            "brand_own_domain": own,
            "brand_lookalike": lookalike,
            "brand_authorized": authorized,
            "error": match.error.value if match.error else None,
            "name_mentions": match.mentions.id if match.mentions else None,
            "name_mentions_name": match.mentions.name if match.mentions else None,
            "name_similarity": match.mention_similarity if match.mentions else None,
        }


# ---- one screening -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ScreenResult:
    """The screening of one input: what it is, whether it is listed, and what the pack says."""

    match: Match
    market: Market | None
    owner: Owner | None
    listed: bool
    listed_years: tuple[int, ...]
    listing_status: str | None
    edition: Edition
    score: int
    tier: str | None
    reasons: tuple[Reason, ...]
    error: ErrorCode | None
    rules: str
    rules_hash: str
    psl_version: str


def edition_tag(edition: Edition) -> str:
    """The edition as ``ns_edition`` writes it: ``ustr-nml-2021``."""
    return f"{edition.list}-{edition.year}"


def format_reasons(reasons: tuple[Reason, ...]) -> str | None:
    """The reasons as ``ns_reasons`` writes them: ``listed-market (+45); piracy-kind (+5)``."""
    if not reasons:
        return None
    return "; ".join(f"{r.rule_id} ({r.points:+d})" for r in reasons)


# ---- the output columns ----------------------------------------------------------------------
class ColumnType(str, Enum):
    """The type of an output column, the same in every format (text is nullable)."""

    TEXT = "text"
    BOOL = "bool"
    INT = "int"
    FLOAT = "float"


_T, _BOOL, _INT, _FLOAT = ColumnType.TEXT, ColumnType.BOOL, ColumnType.INT, ColumnType.FLOAT
_Column = tuple[str, ColumnType, Callable[[ScreenResult], Any]]

# Every ns_* column: its name, its type and its value for a screening, in output order.
_OUTPUT: tuple[_Column, ...] = (
    ("ns_market", _T, lambda r: r.market.name if r.market else None),
    ("ns_market_id", _T, lambda r: r.market.id if r.market else None),
    ("ns_owner", _T, lambda r: r.owner.name if r.owner else None),
    ("ns_listed", _BOOL, lambda r: r.listed),
    ("ns_listed_years", _T, lambda r: ",".join(map(str, r.listed_years)) or None),
    ("ns_match", _T, lambda r: r.match.kind.value),
    ("ns_variant", _T, lambda r: r.match.variant.value if r.match.variant else None),
    ("ns_similarity", _FLOAT, lambda r: float(r.match.similarity)),
    ("ns_score", _INT, lambda r: r.score),
    ("ns_tier", _T, lambda r: r.tier),
    ("ns_reasons", _T, lambda r: format_reasons(r.reasons)),
    ("ns_error", _T, lambda r: r.error.value if r.error else None),
    ("ns_edition", _T, lambda r: edition_tag(r.edition)),
    ("ns_edition_complete", _BOOL, lambda r: r.edition.complete),
    ("ns_name_mentions", _T, lambda r: r.match.mentions.name if r.match.mentions else None),
)
# Carried beside them by the batch engine, never written: what the summary counts.
_INTERNAL: tuple[_Column, ...] = (("ns_listing_status", _T, lambda r: r.listing_status),)

#: Columns added to every screened frame, in this order.
OUTPUT_COLUMNS: tuple[str, ...] = tuple(name for name, _, _ in _OUTPUT)
#: The batch engine's row: the output columns, then the internal ones.
ROW_COLUMNS: tuple[str, ...] = (*OUTPUT_COLUMNS, *(name for name, _, _ in _INTERNAL))
#: The type of each of `ROW_COLUMNS`.
COLUMN_TYPES: Mapping[str, ColumnType] = MappingProxyType(
    {name: kind for name, kind, _ in (*_OUTPUT, *_INTERNAL)}
)
_VALUES = tuple(get for _, _, get in (*_OUTPUT, *_INTERNAL))


def row_values(result: ScreenResult) -> tuple[Any, ...]:
    """The value of each of `ROW_COLUMNS` for one screening."""
    return tuple(get(result) for get in _VALUES)


def arrow_type(column: str) -> pa.DataType:
    """The Arrow type of an output column."""
    import pyarrow as pa

    return {_T: pa.string(), _BOOL: pa.bool_(), _INT: pa.int64(), _FLOAT: pa.float64()}[
        COLUMN_TYPES[column]
    ]


def pandas_dtype(column: str) -> str:
    """The pandas dtype of an output column in `screen_frame` (text: object, None missing)."""
    return {_T: "object", _BOOL: "bool", _INT: "int64", _FLOAT: "float64"}[COLUMN_TYPES[column]]


def spark_type_name(column: str) -> str:
    """The ``pyspark.sql.types`` class of an output column."""
    names = {_T: "StringType", _BOOL: "BooleanType", _INT: "LongType", _FLOAT: "DoubleType"}
    return names[COLUMN_TYPES[column]]


def check_columns(
    columns: list[str], *, url_column: str, name_column: str | None, where: str | None = None
) -> None:
    """Raise :class:`InputError` unless the input can be screened: the URL and name columns
    exist once each and no column already has an output name. One check for every entry point.
    """
    prefix = f"{where}: " if where else ""
    for col in (url_column, name_column):
        if col is None:
            continue
        if col not in columns:
            have = ", ".join(repr(c) for c in columns) or "none"
            raise InputError(f"{prefix}column {col!r} not found; the input has columns: {have}")
        if columns.count(col) > 1:
            raise InputError(f"{prefix}column {col!r} appears {columns.count(col)} times")
    clash = [c for c in OUTPUT_COLUMNS if c in columns]
    if clash:
        raise InputError(f"{prefix}input already has output column(s) {', '.join(clash)}")
