"""User editions: a watch-list edition written as a CSV file, checked and turned into an overlay.

One job: read the CSV a brand team writes the day a list is published, validate every cell
against the data it will be merged onto (every error ``path:line:col`` with a did-you-mean),
recognise the markets that data already has, and produce the overlay document that
``load_markets(overlays=...)``, ``Screener(data=...)`` and ``--data`` read.

The columns (a header line first, UTF-8, commas, RFC 4180 quoting)::

    list,year,name,kind,country,hosts,owner,status,source_title,source_url
    optional: aliases, physical, confidence, official_online, official_physical, id, city, notes

``hosts`` and ``aliases`` hold several values separated by ``;`` (or, when there is no ``;``,
by spaces). A row whose name, alias or host is a known market's is that market and keeps its id
(an ``id`` column says so explicitly); any other row is a new market, which needs a ``kind``.
``official_online``/``official_physical`` state the edition's official counts, ``edition_label``
and ``released`` (YYYY-MM-DD) its name and date: each the same on every row of one edition (or
empty). An edition is complete when the data then holds all its online markets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from ._text import closest, did_you_mean
from .errors import DataError, Location, MarketLookupError
from .markets import (
    CONFIDENCES,
    HOST_SYNTAX,
    ID_SYNTAX,
    KINDS,
    LIST_LABELS,
    LISTS,
    STATUSES,
    Market,
    MarketData,
    name_key,
    resolve_data,
)

__all__ = ["COLUMNS", "OPTIONAL_COLUMNS", "ImportedEdition", "import_edition"]

COLUMNS: tuple[str, ...] = (
    "list",
    "year",
    "name",
    "kind",
    "country",
    "hosts",
    "owner",
    "status",
    "source_title",
    "source_url",
)
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "aliases",
    "physical",
    "confidence",
    "official_online",
    "official_physical",
    "id",
    "city",
    "notes",
    "edition_label",
    "released",
)
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}
# A name this close to a known market's name (folded, difflib ratio) is asked about, not taken.
_LOOKALIKE_CUTOFF = 0.8


@dataclass(frozen=True, slots=True)
class ImportedEdition:
    """The overlay made from a CSV edition, and what the import decided on the way."""

    source: str
    document: Mapping[str, Any]
    editions: tuple[tuple[str, int], ...]
    recognised: Mapping[str, str] = field(default_factory=dict)  # market id -> how
    new_markets: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def to_yaml(self) -> str:
        """The overlay file's text (what ``markets import -o`` writes)."""
        from ._yaml import dump_yaml

        head = (
            f"# Overlay made by `notorious-screen markets import` from {Path(self.source).name}:\n"
            "# edit the CSV and import it again rather than this file. Use it with --data FILE,\n"
            "# Screener(data=[FILE]) or NOTORIOUS_SCREEN_DATA=FILE.\n"
        )
        return head + dump_yaml(dict(self.document))


@dataclass
class _Cell:
    value: str
    where: Location

    def words(self, *, names: bool = False) -> list[tuple[str, Location]]:
        """The values of a multi-valued cell, each with its own column."""
        sep = ";" if ";" in self.value or names else None
        out = []
        at = 0
        for part in self.value.split(sep) if sep else self.value.split():
            at = self.value.index(part, at)
            text = part.strip()
            if text:
                offset = at + (len(part) - len(part.lstrip()))
                loc = Location(self.where.path, self.where.line, self.where.column + offset)
                out.append((text, loc))
            at += len(part)
        return out


@dataclass
class _Market:
    """One market as the CSV describes it, across its rows."""

    id: str
    bundled: Market | None
    line: int
    name: str
    fields: dict[str, Any] = field(default_factory=dict)
    hosts: list[str] = field(default_factory=list)
    alias_names: list[str] = field(default_factory=list)
    listings: dict[str, dict[str, Any]] = field(default_factory=dict)
    listing_lines: dict[tuple[str, int], int] = field(default_factory=dict)


def import_edition(
    path: str | PathLike[str],
    *,
    data: MarketData | str | PathLike[str] | Iterable[str | PathLike[str]] | None = None,
) -> ImportedEdition:
    """Read and check a CSV edition against ``data`` (the bundled data by default, with
    ``$NOTORIOUS_SCREEN_DATA``'s overlays) and make its overlay document.

    Raises :class:`DataError` (``path:line:col: message``) for the first problem.
    """
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", Location(name)) from None
    return _Importer(name, resolve_data(data)).run(_decode(raw, name))


def _decode(raw: bytes, path: str) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataError(
            "not valid UTF-8: save the CSV as UTF-8", Location(path, line, col)
        ) from None


def _records(text: str, path: str) -> list[list[_Cell]]:
    """RFC 4180 records, each field located at its first character (inside its quotes)."""
    out: list[list[_Cell]] = []
    i, n, line, col = 0, len(text), 1, 1
    while i < n:
        fields: list[_Cell] = []
        while True:
            if i < n and text[i] == '"':
                start = Location(path, line, col + 1)
                i, col = i + 1, col + 1
                buf = []
                while True:
                    if i >= n:
                        raise DataError(
                            "a quoted field is not closed",
                            Location(path, start.line, start.column - 1),
                        )
                    ch = text[i]
                    if ch == '"' and text[i + 1 : i + 2] == '"':
                        buf.append('"')
                        i, col = i + 2, col + 2
                    elif ch == '"':
                        i, col = i + 1, col + 1
                        break
                    else:
                        buf.append(ch)
                        i += 1
                        line, col = (line + 1, 1) if ch == "\n" else (line, col + 1)
                if i < n and text[i] not in ",\r\n":
                    raise DataError(
                        "text after a closing quote: quote the whole field and double any quote "
                        'inside it ("")',
                        Location(path, line, col),
                    )
                fields.append(_Cell("".join(buf), start))
            else:
                j = i
                while j < n and text[j] not in ",\r\n":
                    j += 1
                value = text[i:j]
                if '"' in value:
                    raise DataError(
                        'a quote inside an unquoted field: quote the whole field ("...") and '
                        'double the quote ("")',
                        Location(path, line, col + value.index('"')),
                    )
                fields.append(_Cell(value, Location(path, line, col)))
                col += j - i
                i = j
            if i < n and text[i] == ",":
                i, col = i + 1, col + 1
                continue
            if i < n and text[i] == "\r":
                i += 1
            if i < n and text[i] == "\n":
                i += 1
            line, col = line + 1, 1
            break
        out.append(fields)
    return out


class _Importer:
    def __init__(self, path: str, data: MarketData) -> None:
        self.path = path
        self.data = data
        self.markets: dict[str, _Market] = {}
        self.by_name: dict[str, str] = {}  # folded name of a new market -> its id
        self.hosts: dict[str, tuple[str, int]] = {}  # host -> (market id, line)
        self.sources: dict[tuple[str, str | None], str] = {}
        self.source_docs: dict[str, dict[str, str]] = {}
        self.editions: dict[tuple[str, int], dict[str, Any]] = {}
        self.counts: dict[tuple[str, int, str], tuple[Any, int]] = {}  # (value, line)
        self.recognised: dict[str, str] = {}
        self.how = ""  # how the current row's market was found
        self.notes: list[str] = []

    def run(self, text: str) -> ImportedEdition:
        records = _records(text, self.path)
        if not records or all(not c.value.strip() for c in records[0]):
            raise DataError(
                f"empty file: expected a header line ({','.join(COLUMNS)})",
                Location(self.path, 1, 1),
            )
        header = self._header(records[0])
        rows = 0
        for cells in records[1:]:
            if len(cells) == 1 and not cells[0].value.strip():
                continue  # a blank line
            if len(cells) != len(header):
                raise DataError(
                    f"expected {len(header)} fields (as in the header), got {len(cells)}",
                    cells[0].where,
                )
            self._row(dict(zip(header, cells, strict=True)))
            rows += 1
        if not rows:
            raise DataError("no rows after the header", Location(self.path, 2, 1))
        self._check_counts()
        return self._result()

    # ---- header and cells ------------------------------------------------------------------
    def _header(self, cells: list[_Cell]) -> list[str]:
        names: list[str] = []
        known = (*COLUMNS, *OPTIONAL_COLUMNS)
        for cell in cells:
            col = cell.value.strip().lower()
            if col not in known:
                raise DataError(
                    f"unknown column {cell.value.strip()!r}{did_you_mean(col, known)} "
                    f"(columns: {', '.join(COLUMNS)}; optional: {', '.join(OPTIONAL_COLUMNS)})",
                    cell.where,
                )
            if col in names:
                raise DataError(f"column {col!r} appears twice", cell.where)
            names.append(col)
        for col in COLUMNS:
            if col not in names:
                raise DataError(
                    f"missing column {col!r} (the header needs: {', '.join(COLUMNS)})",
                    cells[0].where,
                )
        return names

    def _choice(self, cell: _Cell, choices: tuple[str, ...], what: str, default: str) -> str:
        value = cell.value.strip().lower() or default
        if value not in choices:
            raise DataError(
                f"unknown {what} {cell.value.strip()!r}{did_you_mean(value, choices)} "
                f"(expected one of: {', '.join(choices)})",
                cell.where,
            )
        return value

    @staticmethod
    def _count(cell: _Cell | None) -> int | None:
        if cell is None or not cell.value.strip():
            return None
        text = cell.value.strip()
        if not text.isdigit():
            raise DataError(f"{text!r} is not a count (a whole number >= 0)", cell.where)
        return int(text)

    def _hosts(self, cell: _Cell) -> list[tuple[str, Location]]:
        out = []
        for word, where in cell.words():
            host = word.lower().rstrip(".")
            if "/" in host or ":" in host:
                bare = re.sub(r"^[a-z][a-z0-9+.-]*://", "", host).split("/")[0].split(":")[0]
                raise DataError(
                    f"invalid host {word!r}: write the host name only, e.g. {bare!r}", where
                )
            if not HOST_SYNTAX.match(host):
                hint = ""
                if not host.isascii():
                    try:
                        hint = f" (in ASCII: {host.encode('idna').decode('ascii')!r})"
                    except UnicodeError:
                        hint = ""
                raise DataError(
                    f"invalid host {word!r}: write a host name such as 'shop.example'{hint}",
                    where,
                )
            out.append((host, where))
        return out

    # ---- one row -----------------------------------------------------------------------------
    def _row(self, row: dict[str, _Cell]) -> None:
        line = row["list"].where.line
        lst = self._choice(row["list"], LISTS, "list", "")
        year_text = row["year"].value.strip()
        if not (year_text.isdigit() and 1990 <= int(year_text) <= 2100):
            raise DataError(
                f"bad year {year_text!r}: expected a year such as 2030", row["year"].where
            )
        year = int(year_text)
        name = row["name"].value.strip()
        if not name:
            raise DataError("'name' is empty: write the market's name as the list prints it",
                            row["name"].where)  # fmt: skip
        kind = self._choice(row["kind"], KINDS, "kind", "-") if row["kind"].value.strip() else None
        physical_cell = row.get("physical")
        physical = None
        if physical_cell is not None and physical_cell.value.strip():
            flag = physical_cell.value.strip().lower()
            if flag not in _TRUE | _FALSE:
                raise DataError(
                    f"'physical' must be yes or no, not {physical_cell.value.strip()!r}",
                    physical_cell.where,
                )
            physical = flag in _TRUE
            if kind is None and physical:
                kind = "physical"
            if kind is not None and (kind == "physical") != physical:
                raise DataError(
                    f"'physical' is {physical_cell.value.strip()!r} but kind is {kind!r}",
                    physical_cell.where,
                )
        status = self._choice(row["status"], STATUSES, "status", "unknown")
        conf_cell = row.get("confidence")
        confidence = (
            self._choice(conf_cell, CONFIDENCES, "confidence", "high") if conf_cell else "high"
        )
        hosts = self._hosts(row["hosts"])
        aliases = [w for w, _ in row["aliases"].words(names=True)] if "aliases" in row else []
        owner = self._owner(row["owner"])
        market = self._market(row, line, name, kind, hosts, aliases)
        self._facts(market, row, line, kind, hosts, aliases, owner)
        self._edition(lst, year, row, line)
        key = f"{lst} {year}"
        if (lst, year) in market.listing_lines:
            first = market.listing_lines[(lst, year)]
            who = repr(market.name)
            if name_key(name) != name_key(market.name):
                who = f"{name!r} is market {market.id!r} ({self.how}), which"
            raise DataError(
                f"{who} is already listed on {LIST_LABELS[lst]} {year} (line {first})",
                row["name"].where,
            )
        bundled = market.bundled.listing(lst, year) if market.bundled is not None else None
        if bundled is not None:
            self.notes.append(
                f"{self.path}:{line}: replaces the listing of {market.id!r} already on "
                f"{LIST_LABELS[lst]} {year} (its sources become this row's)"
            )
        market.listing_lines[(lst, year)] = line
        listing: dict[str, Any] = {"status": status}
        if name != market.name:
            listing["listed_as"] = name
        listing["sources"] = self._source(row, year)
        if confidence != "high":
            listing["confidence"] = confidence
        note = row["notes"].value.strip() if "notes" in row else ""
        where = f"From {Path(self.path).name} line {line}."
        listing["notes"] = f"{note} ({where[:-1]})." if note else where
        market.listings[key] = listing

    def _owner(self, cell: _Cell) -> str | None:
        text = cell.value.strip()
        if not text:
            return None
        if text in self.data.owners:
            return text
        try:
            return self.data.find_owner(text).id
        except MarketLookupError:
            choices = {o.id: o.id for o in self.data.owners.values()}
            choices.update((n.casefold(), o.id) for o in self.data.owners.values() for n in o.names)
            close = closest(text.casefold(), choices)
            hint = f"; did you mean {choices[close]!r}?" if close else ""
            raise DataError(
                f"unknown owner {text!r}{hint} (known: {', '.join(sorted(self.data.owners))})",
                cell.where,
            ) from None

    def _market(
        self,
        row: dict[str, _Cell],
        line: int,
        name: str,
        kind: str | None,
        hosts: list[tuple[str, Location]],
        aliases: list[str],
    ) -> _Market:
        """The market this row is: named by its id, recognised, met on an earlier row, or new."""
        id_cell = row.get("id")
        given = id_cell.value.strip() if id_cell is not None else ""
        self.how = "by its name"
        if given:
            self.how = "by its id"
            if not ID_SYNTAX.match(given):
                raise DataError(
                    f"invalid id {given!r}: use lowercase letters, digits and hyphens",
                    id_cell.where if id_cell else row["name"].where,
                )
            if given in self.markets:
                return self.markets[given]
            bundled = self.data.markets.get(given)
            if bundled is not None:
                self.recognised[given] = f"by its id (line {line})"
            return self._new(given, bundled, line, name, kind, row)
        found = self._recognise(row, line, name, hosts, aliases)
        if found is not None:
            return found
        folded = name_key(name)
        if folded in self.by_name:
            return self.markets[self.by_name[folded]]
        mid = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-") or "market"
        known = {name_key(n): m for m in self.data.markets.values() for n in m.names}
        close = closest(folded, known) if len(folded) >= 4 else None
        if mid in self.data.markets or (
            close is not None and _ratio(folded, close) >= _LOOKALIKE_CUTOFF
        ):
            other = self.data.markets[mid] if mid in self.data.markets else known[str(close)]
            raise DataError(
                f"{name!r} is not a known name, but looks like market {other.id!r} "
                f"({other.name}): if it is that market, add an 'id' column and write "
                f"{other.id!r}; if it is another market, give it an id of its own there",
                row["name"].where,
            )
        while mid in self.markets:
            mid += "-2"
        if kind is None:
            raise DataError(
                f"'kind' is empty: {name!r} is a new market (not in the data), so its kind is "
                f"needed (one of: {', '.join(KINDS)})",
                row["kind"].where,
            )
        return self._new(mid, None, line, name, kind, row)

    def _new(
        self,
        mid: str,
        bundled: Market | None,
        line: int,
        name: str,
        kind: str | None,
        row: dict[str, _Cell],
    ) -> _Market:
        if bundled is None and kind is None:
            raise DataError(
                f"'kind' is empty: {name!r} is a new market (not in the data), so its kind is "
                f"needed (one of: {', '.join(KINDS)})",
                row["kind"].where,
            )
        market = _Market(id=mid, bundled=bundled, line=line, name=bundled.name if bundled else name)
        self.markets[mid] = market
        if bundled is None:  # later rows of the same name are this market, with or without id
            self.by_name.setdefault(name_key(name), mid)
        return market

    def _recognise(
        self,
        row: dict[str, _Cell],
        line: int,
        name: str,
        hosts: list[tuple[str, Location]],
        aliases: list[str],
    ) -> _Market | None:
        """A market the data has, by host (exact) or by name or alias (ignoring case and
        punctuation); two different ones is an error."""
        by_host: dict[str, tuple[str, Location]] = {}
        for host, where in hosts:
            mid = self.data.host_index().get(host)
            if mid is not None:
                by_host.setdefault(mid, (host, where))
        by_name: dict[str, str] = {}
        for text in (name, *aliases):
            key = name_key(text)
            for m in self.data.markets.values():
                if key and key in {name_key(n) for n in m.names}:
                    by_name.setdefault(m.id, text)
        found = {**{m: f"by host {h}" for m, (h, _) in by_host.items()}}
        for mid, text in by_name.items():
            found.setdefault(mid, f"by name {text!r}")
        if len(found) > 1:
            first, second = sorted(found)[:2]
            where = by_host[second][1] if second in by_host else row["name"].where
            raise DataError(
                f"this row names two markets of the data: {first!r} ({found[first]}) and "
                f"{second!r} ({found[second]}); one row is one market",
                where,
            )
        if not found:
            return None
        mid, how = next(iter(found.items()))
        self.how = how
        self.recognised.setdefault(mid, f"{how} (line {line})")
        if mid in self.markets:
            return self.markets[mid]
        return self._new(mid, self.data.markets[mid], line, name, None, row)

    def _facts(
        self,
        market: _Market,
        row: dict[str, _Cell],
        line: int,
        kind: str | None,
        hosts: list[tuple[str, Location]],
        aliases: list[str],
        owner: str | None,
    ) -> None:
        """The market-level cells: a new market's facts, or a known market's new hosts, names
        and corrections (each correction said in a note)."""
        values = {
            "kind": kind,
            "country": row["country"].value.strip() or None,
            "owner": owner,
            "city": row["city"].value.strip() or None if "city" in row else None,
        }
        for key, value in values.items():
            if value is None:
                continue
            have = market.fields.get(key)
            if have is None and market.bundled is not None:
                have = getattr(market.bundled, key)
            if key in market.fields and market.fields[key] != value:
                raise DataError(
                    f"{key} {value!r} contradicts {market.fields[key]!r} on an earlier row of "
                    f"{market.name!r}",
                    row[key].where,
                )
            if have != value:
                market.fields[key] = value
                if market.bundled is not None:
                    self.notes.append(
                        f"{self.path}:{line}: corrects {key} of {market.id!r}: "
                        f"{have!r} -> {value!r}"
                    )
            elif market.bundled is None:
                market.fields[key] = value
        own = set(market.bundled.all_hosts) if market.bundled is not None else set()
        for host, where in hosts:
            claim = self.hosts.get(host)
            if claim is not None and claim[0] != market.id:
                raise DataError(
                    f"host {host!r} is already claimed by {self.markets[claim[0]].name!r} "
                    f"(line {claim[1]})",
                    where,
                )
            other = self.data.host_index().get(host)
            if other is not None and other != market.id:
                at = self.data.origin(self.data.markets[other])
                place = at.hosts.get(host) if at is not None else None
                raise DataError(
                    f"host {host!r} is already claimed by market {other!r}"
                    + (f" ({place})" if place else ""),
                    where,
                )
            owner_of = self.data.owner_host_index().get(host)
            if owner_of is not None:
                raise DataError(
                    f"host {host!r} is a corporate host of owner {owner_of!r}, not a market's",
                    where,
                )
            self.hosts.setdefault(host, (market.id, line))
            if host in market.hosts or any(host == p or host.endswith("." + p) for p in own):
                continue  # the market has it, or a host it sits under
            labels = host.split(".")
            for parent in (".".join(labels[i:]) for i in range(1, len(labels) - 1)):
                under = self.data.host_index().get(parent)
                if under is not None and under != market.id:
                    self.notes.append(
                        f"{self.path}:{line}: host {host!r} sits under {parent!r} of market "
                        f"{under!r}: it becomes {market.id!r}'s (the most specific host wins)"
                    )
                    break
            market.hosts.append(host)
        names = {name_key(n) for n in (market.bundled.names if market.bundled else (market.name,))}
        for text in aliases:
            if name_key(text) not in names | {name_key(a) for a in market.alias_names}:
                market.alias_names.append(text)

    def _edition(self, lst: str, year: int, row: dict[str, _Cell], line: int) -> None:
        """The edition-level cells: the same on every row of one edition, or empty."""
        ed = self.editions.setdefault((lst, year), {"list": lst, "year": year})
        base = next((e for e in self.data.editions if (e.list, e.year) == (lst, year)), None)
        for column, key in (
            ("edition_label", "label"),
            ("released", "released"),
            ("official_online", "online_official"),
            ("official_physical", "physical_official"),
        ):
            cell = row.get(column)
            if cell is None or not cell.value.strip():
                continue
            value: Any = cell.value.strip()
            if column.startswith("official_"):
                value = self._count(cell)
            elif column == "released" and not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value):
                raise DataError(f"'released' must be a date such as 2030-01-31, not {value!r}",
                                cell.where)  # fmt: skip
            seen = self.counts.get((lst, year, column))
            if seen is not None and seen[0] != value:
                raise DataError(
                    f"{column} is {value!r} here but {seen[0]!r} on line {seen[1]} (one edition, "
                    "one value)",
                    cell.where,
                )
            self.counts[(lst, year, column)] = (value, line)
            have = getattr(base, key) if base is not None else None
            if have != value:
                ed[key] = value
                if have is not None and seen is None:
                    self.notes.append(
                        f"{self.path}:{line}: corrects {key} of {LIST_LABELS[lst]} {year}: "
                        f"{have!r} -> {value!r}"
                    )

    def _source(self, row: dict[str, _Cell], year: int) -> str:
        title = row["source_title"].value.strip()
        if not title:
            raise DataError(
                "'source_title' is empty: every listing needs a source", row["source_title"].where
            )
        url = row["source_url"].value.strip() or None
        key = (title, url)
        if key in self.sources:
            return self.sources[key]
        host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", url.lower()).split("/")[0] if url else ""
        stem = host.removeprefix("www.") or " ".join(title.split()[:4])
        base = re.sub(r"[^a-z0-9]+", "-", stem.casefold()).strip("-")[:40].strip("-") or "source"
        sid = f"{base}-{year}"
        n = 2
        taken = set(self.source_docs) | set(self.data.sources)
        while sid in taken:
            sid = f"{base}-{year}-{n}"
            n += 1
        self.sources[key] = sid
        self.source_docs[sid] = {"title": title, **({"url": url} if url else {})}
        return sid

    # ---- the whole -----------------------------------------------------------------------
    def _check_counts(self) -> None:
        """No edition lists more markets than its official count says it has."""
        for (lst, year), _ in self.editions.items():
            base = next((e for e in self.data.editions if (e.list, e.year) == (lst, year)), None)
            for side in ("online", "physical"):
                official = self.counts.get((lst, year, f"official_{side}"), (None, 0))[0]
                if official is None and base is not None:
                    official = getattr(base, f"{side}_official")
                if official is None:
                    continue
                physical = side == "physical"
                ids = {
                    m.id
                    for m in self.markets.values()
                    if (lst, year) in m.listing_lines and self._is_physical(m) is physical
                }
                if base is not None:
                    ids |= {m.id for m in self.data.markets_in(base, physical=physical)}
                if len(ids) > official:
                    last = max(
                        (m.listing_lines[(lst, year)], m)
                        for m in self.markets.values()
                        if (lst, year) in m.listing_lines and self._is_physical(m) is physical
                    )
                    raise DataError(
                        f"{len(ids)} {side} markets list {LIST_LABELS[lst]} {year} but its "
                        f"official {side} count is {official}",
                        Location(self.path, last[0], 1),
                    )

    @staticmethod
    def _is_physical(m: _Market) -> bool:
        kind = m.fields.get("kind") or (m.bundled.kind if m.bundled else None)
        return kind == "physical"

    def _result(self) -> ImportedEdition:
        markets = []
        for m in self.markets.values():
            doc: dict[str, Any] = {"id": m.id}
            if m.bundled is None:
                doc["name"] = m.name
            for key in ("kind", "country", "city", "owner"):
                if key in m.fields:
                    doc[key] = m.fields[key]
            if m.hosts:
                doc["hosts"] = m.hosts
            if m.alias_names:
                doc["names"] = m.alias_names
            if m.bundled is not None and m.hosts:
                self.notes.append(
                    f"{self.path}:{m.line}: adds hosts to {m.id!r}: {', '.join(m.hosts)}"
                )
            doc["listings"] = m.listings
            markets.append(doc)
        editions = []
        for (lst, year), ed in self.editions.items():
            known = any((e.list, e.year) == (lst, year) for e in self.data.editions)
            if not known or len(ed) > 2:
                editions.append(ed)
        document: dict[str, Any] = {"overlay": 1, "sources": self.source_docs}
        if editions:
            document["editions"] = editions
        document["markets"] = markets
        return ImportedEdition(
            source=self.path,
            document=document,
            editions=tuple(self.editions),
            recognised=dict(self.recognised),
            new_markets=tuple(m.id for m in self.markets.values() if m.bundled is None),
            notes=tuple(self.notes),
        )


def _ratio(a: str, b: str) -> float:
    import difflib

    return difflib.SequenceMatcher(None, a, b).ratio()
