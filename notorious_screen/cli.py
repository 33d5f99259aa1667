"""The ``notorious-screen`` command: the only module that prints, reads argv or sets exit codes.

Exit codes: 0 done; 1 the input (file, column, rule pack, data) is unusable; 2 usage;
3 ``--fail-on`` tier reached, or ``rules backtest`` below ``--min-precision``/``--min-recall``;
130 interrupted (Ctrl-C); 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import stat
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from ._text import printable
from .errors import NotoriousScreenError

if TYPE_CHECKING:
    import pyarrow as pa

    from ._summary import Summary
    from .screen import Screener

__all__ = ["main"]

EXIT_OK = 0
EXIT_INPUT = 1
EXIT_USAGE = 2
EXIT_FAIL_ON = 3


# ---- markets (owner: data developer) -------------------------------------------------------
# Imported here, not at the top, to keep this block self-contained; importing markets parses
# nothing (the data loads on first use).
from .markets import Edition, Market, MarketData, Owner  # noqa: E402

_Row = dict[str, object]


def _add_data_option(p: argparse.ArgumentParser, *, sub: bool = False) -> None:
    """``--data FILE`` (repeatable). A subcommand (``markets show``) keeps its own list, which
    follows the parent's (argparse would replace the parent's with it): see _data_files."""
    p.add_argument(
        "--data",
        action="append",
        dest="sub_data" if sub else "data",
        default=argparse.SUPPRESS if sub else None,
        metavar="FILE",
        help="market data to use: an overlay (overlay: 1, e.g. from 'markets import') merged "
        "onto the bundled data; repeat to merge several in order. A complete knowledge base "
        "(schema: 1) given first replaces the bundled data. Default: the overlays in "
        "$NOTORIOUS_SCREEN_DATA (separated by ':')",
    )


def _add_markets(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "markets",
        help="list the markets of a watch-list edition, or what changed between two",
        description="List the markets one edition of a watch list names (default: the latest "
        "USTR edition whose online list is complete) with kind, country and owner, and say how "
        "complete the edition is in the data; with --diff Y0, what changed since year Y0. "
        "'markets import' adds an edition of your own from a CSV; 'markets show' and "
        "'markets history' tell one market's facts and listings.",
    )
    p.add_argument(
        "--list",
        dest="watch_list",
        default="ustr-nml",
        metavar="LIST",
        help="ustr-nml (USTR Notorious Markets List, default) or eu-cpwl (EU Counterfeit and "
        "Piracy Watch List)",
    )
    p.add_argument("--year", type=int, default=None, metavar="Y", help="edition year")
    p.add_argument("--diff", type=int, default=None, metavar="Y0", help="compare with year Y0")
    p.add_argument("--owner", default=None, metavar="NAME", help="only this owner's platforms")
    p.add_argument("--kind", default=None, metavar="K", help="only this kind (e.g. e-commerce)")
    p.add_argument("--country", default=None, metavar="C", help="only this country")
    side = p.add_mutually_exclusive_group()
    side.add_argument("--online", action="store_true", help="only online markets")
    side.add_argument("--physical", action="store_true", help="only physical markets")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    _add_data_option(p)
    p.set_defaults(func=_cmd_markets)
    msub = p.add_subparsers(dest="markets_command", metavar="ACTION")
    imp = msub.add_parser(
        "import",
        help="check a CSV edition and write it as an overlay",
        description="Check an edition written as CSV (header: list,year,name,kind,country,"
        "hosts,owner,status,source_title,source_url; optional: aliases, physical, confidence, "
        "official_online, official_physical, id, city, notes) against the market data, and "
        "write the overlay that --data reads. Markets the data has are recognised by name, "
        "alias or host and keep their id.",
    )
    imp.add_argument("file", metavar="FILE", help="the CSV edition")
    imp.add_argument("-o", "--output", default="-", help="overlay YAML to write (default: stdout)")
    _add_data_option(imp, sub=True)
    imp.set_defaults(func=_cmd_markets_import)
    show = msub.add_parser(
        "show",
        help="every fact of one market, and the file and line each comes from",
        description="Print one market (by id, host or name): its facts, hosts, names, every "
        "listing with its sources, and for each the file:line it was read from (the bundled "
        "data or an overlay).",
    )
    show.add_argument("market", metavar="ID", help="market id (or a host or name)")
    show.add_argument("--format", dest="show_format", choices=("table", "json"), default="table")
    _add_data_option(show, sub=True)
    show.set_defaults(func=_cmd_markets_show)
    hist = msub.add_parser(
        "history",
        help="one market's listings across every edition of every list",
        description="Print a market's listings in every edition of both lists, bundled or from "
        "overlays, and for each edition it is absent from whether that absence proves anything.",
    )
    hist.add_argument("market", metavar="NAME_OR_HOST", help="market id, name, host or URL")
    hist.add_argument(
        "--format", dest="history_format", choices=("table", "csv", "json"), default="table"
    )
    _add_data_option(hist, sub=True)
    hist.set_defaults(func=_cmd_markets_history)


def _data_files(args: argparse.Namespace) -> list[str] | None:
    """The --data files given before and after a subcommand, in order; None if none."""
    files = [*(getattr(args, "data", None) or ()), *getattr(args, "sub_data", ())]
    return files or None


def _markets_data(args: argparse.Namespace) -> MarketData:
    from .markets import resolve_data

    return resolve_data(_data_files(args))


def _cmd_markets(args: argparse.Namespace) -> int:
    from .markets import check_kind

    data = _markets_data(args)
    data.editions_of(args.watch_list)  # an unknown list raises MarketLookupError (exit 1)
    if args.kind is not None:
        check_kind(args.kind)
    owner = data.find_owner(args.owner) if args.owner is not None else None
    new = data.edition(args.watch_list, args.year, warn=False)
    old = data.edition(args.watch_list, args.diff, warn=False) if args.diff is not None else None
    physical = True if args.physical else False if args.online else None
    if owner is not None and physical is None:
        physical = False  # owners own platforms; no physical market has one

    def keep(m: Market) -> bool:
        country = args.country.casefold() if args.country else None
        return (
            (args.kind is None or m.kind == args.kind)
            and (country is None or (m.country or "").casefold() == country)
            and (owner is None or m.owner == owner.id)
            and (physical is None or m.physical == physical)
        )

    if old is None:
        markets = [m for m in data.markets_in(new) if keep(m)]
        rows = [_market_row(data, m, new) for m in markets]
        if args.format == "table":
            sys.stdout.write(_markets_table(data, new, rows, physical, owner))
    else:
        diff = data.diff(old, new)
        groups = (("added", diff.added), ("removed", diff.removed), ("continuing", diff.continuing))
        rows = [
            {"change": change, **_market_row(data, m, None)}
            for change, group in groups
            for m in group
            if keep(m)
        ]
        if args.format == "table":
            sys.stdout.write(_diff_table(old, new, rows, physical))
    if args.format == "json":
        import json

        if old is None:
            doc: dict[str, object] = {"edition": _edition_json(new), "markets": rows}
        else:
            doc = {"old": _edition_json(old), "new": _edition_json(new)}
            doc["complete"] = old.complete and new.complete
            for change in ("added", "removed", "continuing"):
                doc[change] = [r for r in rows if r["change"] == change]
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    elif args.format == "csv":
        _write_csv(rows)
    for edition in (old, new):
        if edition is not None and not edition.complete:
            note = (
                f"{edition.label} is incomplete in the data ({edition.coverage()}): "
                "a market's absence from it proves nothing"
            )
            if args.format == "table":
                sys.stdout.write(f"\nnote: {note}\n")
            else:
                print(f"notorious-screen: note: {note}", file=sys.stderr)
    if args.format == "table" and len(data.files) > 1:
        sys.stdout.write(f"\n{_data_line(data)}\n")
    return EXIT_OK


def _markets_table(
    data: MarketData, edition: Edition, rows: list[_Row], physical: bool | None, owner: Owner | None
) -> str:
    out = [_edition_header(edition)]
    for side in (False, True):
        if physical is not None and physical is not side:
            continue
        part = [r for r in rows if r["physical"] is side]
        official = edition.physical_official if side else edition.online_official
        known = f"{len(part)} of {official}" if official is not None else str(len(part))
        out.append(f"\n{'Physical' if side else 'Online'} markets ({known} known to the data)")
        cols = ["id", "name", "kind", "country", "owner_name", "status", "confidence"]
        if side:
            cols = ["id", "name", "city", "country", "status", "confidence"]
        out.append(_table(cols, part) if part else "(none)")
    if edition.physical_countries and physical is not False:
        out.append(f"\nPhysical-market country sections: {', '.join(edition.physical_countries)}")
    if owner is not None:
        listed = {r["id"] for r in rows}
        others = [data.markets[i].name for i in owner.platforms if i not in listed]
        if others:
            how = "not listed" if edition.complete else "not known to be listed"
            out.append(f"\n{owner.name}: {how} in {edition.label}: {', '.join(others)}")
    return "\n".join(out) + "\n"


def _diff_table(old: Edition, new: Edition, rows: list[_Row], physical: bool | None) -> str:
    counts = ", ".join(
        f"{c} {sum(1 for r in rows if r['change'] == c)}"
        for c in ("added", "removed", "continuing")
    )
    out = [
        f"{old.label} -> {new.label}",
        _edition_header(old),
        _edition_header(new),
        f"\nChanges ({counts})",
        _table(["change", "id", "name", "kind", "country", "owner_name"], rows)
        if rows
        else "(none)",
    ]
    if physical is not False:
        out.append(
            "\nPhysical lists are partial in the data: a physical market added or removed may "
            "only be a gap."
        )
    return "\n".join(out) + "\n"


def _edition_header(edition: Edition) -> str:
    def part(captured: int, official: int | None) -> str:
        return f"{captured}/{official if official is not None else '?'}"

    released = f"released {edition.released}" if edition.released else "release date unknown"
    online = "complete" if edition.complete else "partial: absence proves nothing"
    physical = "complete" if edition.physical_complete else "partial"
    return (
        f"{edition.label} ({released}): "
        f"online {part(edition.online_captured, edition.online_official)} captured ({online}), "
        f"physical {part(edition.physical_captured, edition.physical_official)} captured "
        f"({physical})"
    )


def _edition_json(edition: Edition) -> _Row:
    return {
        "list": edition.list,
        "year": edition.year,
        "label": edition.label,
        "released": edition.released,
        "complete": edition.complete,
        "online_official": edition.online_official,
        "online_captured": edition.online_captured,
        "physical_official": edition.physical_official,
        "physical_captured": edition.physical_captured,
    }


def _market_row(data: MarketData, market: Market, edition: Edition | None) -> _Row:
    owner = data.owner_of(market)
    row: _Row = {
        "id": market.id,
        "name": market.name,
        "kind": market.kind,
        "physical": market.physical,
        "country": market.country,
        "city": market.city,
        "owner": market.owner,
        "owner_name": owner.name if owner else None,
    }
    listing = market.listing(edition.list, edition.year) if edition is not None else None
    if listing is not None:
        row["status"] = listing.status
        row["listed_as"] = listing.listed_as
        row["confidence"] = listing.confidence
        row["scope"] = list(listing.scope)
    return row


def _write_csv(rows: list[_Row]) -> None:
    import csv

    if not rows:
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: " ".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()}
        )


def _table(columns: list[str], rows: list[_Row]) -> str:
    """Plain aligned text: upper-case headers, '-' for empty cells, no trailing spaces."""
    head = [c.removesuffix("_name").upper() for c in columns]
    body = [["-" if r.get(c) in (None, "") else str(r[c]) for c in columns] for r in rows]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(columns))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in [head, *body]
    )


def _data_line(data: MarketData) -> str:
    return "data: " + " + ".join(data.files)


def _incomplete_note(edition: Edition) -> str:
    return (
        f"{edition.label} is incomplete in the data ({edition.coverage()}): "
        "a market's absence from it proves nothing"
    )


def _cmd_markets_import(args: argparse.Namespace) -> int:
    """Check the CSV, write the overlay (atomically, only once the merged data validates)."""
    import tempfile
    from pathlib import Path

    from .editions import import_edition
    from .markets import env_data_files, resolve_data

    base = _data_files(args)
    imported = import_edition(args.file, data=base)
    text = imported.to_yaml()
    files = list(base) if base is not None else env_data_files()
    out = None if args.output == "-" else Path(args.output)
    folder = out.parent if out is not None else Path(tempfile.gettempdir())
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=folder, prefix=".overlay.", suffix=".part", delete=False
    ) as tmp:
        tmp.write(text)
    try:
        merged = resolve_data([*files, tmp.name])
        if out is not None:
            os.replace(tmp.name, out)
    finally:
        if os.path.exists(tmp.name):
            os.unlink(tmp.name)
    if out is None:
        sys.stdout.write(text)
    for note in imported.notes:
        print(f"notorious-screen: note: {note}", file=sys.stderr)
    for lst, year in imported.editions:
        ed = merged.edition(lst, year, warn=False)
        known = any((e.list, e.year) == (lst, year) for e in resolve_data(base).editions)
        print(
            f"notorious-screen: {ed.label}{'' if known else ' (new edition)'}: {ed.coverage()}, "
            f"{'complete' if ed.complete else 'incomplete'}",
            file=sys.stderr,
        )
    recognised = ", ".join(f"{mid} {how}" for mid, how in imported.recognised.items())
    print(
        f"notorious-screen: {len(imported.recognised)} known markets"
        + (f" ({recognised})" if recognised else "")
        + f", {len(imported.new_markets)} new"
        + (f" ({', '.join(imported.new_markets)})" if imported.new_markets else "")
        + (f"; wrote {out}" if out is not None else ""),
        file=sys.stderr,
    )
    return EXIT_OK


def _cmd_markets_show(args: argparse.Namespace) -> int:
    data = _markets_data(args)
    try:
        market = data.market(args.market)
    except LookupError:
        market = data.find_market(args.market)  # a host or name; its error suggests the id
    origin = data.origin(market)
    owner = data.owner_of(market)

    def at(where: object) -> str:
        return str(where) if where is not None else "(default)"

    fields = origin.fields if origin is not None else {}
    if args.show_format == "json":
        import json

        doc = {
            **_market_row(data, market, None),
            "hosts": list(market.hosts),
            "alias_hosts": list(market.alias_hosts),
            "names": list(market.names),
            "confidence": market.confidence,
            "description": market.description,
            "basis": dict(market.basis),
            "defined": at(origin.defined if origin else None),
            "origins": {k: str(v) for k, v in fields.items()},
            "host_origins": {h: str(v) for h, v in (origin.hosts if origin else {}).items()},
            "listings": [_listing_json(data, market, x) for x in market.listings],
        }
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    out = [f"{market.id}: {market.name}  ({at(origin.defined if origin else None)})"]
    facts: list[tuple[str, str, object]] = [
        ("kind", market.kind, fields.get("kind")),
        ("country", market.country or "-", fields.get("country")),
        ("city", market.city or "-", fields.get("city")),
        ("owner", f"{owner.name} ({owner.id})" if owner else "-", fields.get("owner")),
        ("confidence", market.confidence, fields.get("confidence")),
        ("description", market.description or "-", fields.get("description")),
    ]
    for key, hosts in (("hosts", market.hosts), ("alias hosts", market.alias_hosts)):
        for i, host in enumerate(hosts or ("-",)):
            where = origin.hosts.get(host) if origin is not None else None
            facts.append((key if i == 0 else "", host, where))
    for i, name in enumerate(market.names):
        facts.append(("names" if i == 0 else "", name, origin.names.get(name) if origin else None))
    for key, text in market.basis.items():
        facts.append((f"basis {key}", text, fields.get(f"basis {key}")))
    facts = [f for f in facts if f[0] != "city" or market.physical]
    keys = max(len(k) for k, _, _ in facts)
    width = max(len(v) for _, v, _ in facts if len(v) <= 60)
    for key, value, place in facts:
        out.append(f"  {key:<{keys}}  {value:<{width}}  {at(place)}".rstrip())
    out.append("\nListings")
    rows = [_listing_json(data, market, x) for x in market.listings]
    for r in rows:
        r["sources"] = _short_ids(r["sources"])  # type: ignore[arg-type]
    out.append(
        _table(["edition", "status", "listed_as", "confidence", "sources", "from"], rows)
        if rows
        else "(none)"
    )
    notes = [(r["edition"], r["notes"]) for r in rows if r["notes"]]
    if notes:
        out.append("\nListing notes")
        out.extend(f"  {edition}: {text}" for edition, text in notes)
    sources = sorted({s for x in market.listings for s in x.sources} | set(market.sources))
    if sources:
        out.append("\nSources")
        for sid in sources:
            source = data.sources[sid]
            out.append(f"  {sid}: {source.title}" + (f" <{source.url}>" if source.url else ""))
            out.extend(f"      \u201c{text}\u201d" for text in source.excerpts)
    sys.stdout.write(printable("\n".join(out)) + "\n")
    return EXIT_OK


def _listing_json(data: MarketData, market: Market, listing: object) -> _Row:
    from .markets import Listing

    assert isinstance(listing, Listing)
    origin = data.origin(market)
    where = origin.listings.get((listing.list, listing.year)) if origin is not None else None
    return {
        "edition": data.edition(listing.list, listing.year, warn=False).label,
        "list": listing.list,
        "year": listing.year,
        "status": listing.status,
        "listed_as": listing.listed_as,
        "confidence": listing.confidence,
        "scope": list(listing.scope),
        "sources": list(listing.sources),
        "notes": listing.notes,
        "from": str(where) if where is not None else None,
    }


def _short_ids(ids: list[str], keep: int = 2) -> str:
    """'a b (+3)': a table cell for many source ids (``markets show`` lists them all)."""
    more = f" (+{len(ids) - keep})" if len(ids) > keep else ""
    return " ".join(ids[:keep]) + more


def _cmd_markets_history(args: argparse.Namespace) -> int:
    data = _markets_data(args)
    market = data.find_market(args.market)
    rows: list[_Row] = []
    for edition in data.editions:
        listing = market.listing(edition.list, edition.year)
        if listing is not None:
            row = _listing_json(data, market, listing)
            row["listed"] = True
        else:
            row = {
                "edition": edition.label,
                "list": edition.list,
                "year": edition.year,
                "listed": False,
                "status": "not listed" if edition.complete else "not in the data",
            }
        row["edition_complete"] = edition.complete
        rows.append(row)
    if args.history_format == "json":
        import json

        doc = {"market": _market_row(data, market, None), "editions": rows}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    if args.history_format == "csv":
        cols = ["list", "year", "listed", "status", "listed_as", "confidence", "sources", "from"]
        _write_csv([{c: r.get(c) for c in ["edition_complete", *cols]} for r in rows])
        return EXIT_OK
    listed = sum(1 for r in rows if r["listed"])
    out = [f"{market.name} ({market.id}): listed in {listed} of {len(rows)} editions in the data"]
    for r in rows:
        r["listed?"] = "yes" if r["listed"] else "no" if r["edition_complete"] else "?"
        if not r["listed"]:
            r["status"] = None
        r["sources"] = _short_ids(r.get("sources") or [])  # type: ignore[arg-type]
    cols = ["edition", "listed?", "status", "listed_as", "confidence", "sources", "from"]
    out.append(_table(cols, rows))
    if any(r["listed?"] == "?" for r in rows):
        out.append(
            "\n? = not in the data, but the data holds only part of that edition: absence from it "
            "proves nothing."
        )
    sys.stdout.write(printable("\n".join(out)) + "\n")
    return EXIT_OK


# ---- end markets ---------------------------------------------------------------------------


# ---- rules (owner: rules developer) --------------------------------------------------------
def _add_rules(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "rules",
        help="check, test, show, list or backtest rule packs",
        description="Work with YAML rule packs: validate them (check), run their own examples "
        "through the screener (test), print the resolved pack (show) or name the bundled ones "
        "(list), or measure it against labelled rows (backtest). PACK is a bundled name "
        "(default, apparel-brand, media-brand) or a .yaml path.",
    )
    rsub = p.add_subparsers(dest="rules_command", metavar="ACTION")

    def usage(args: argparse.Namespace) -> int:
        p.print_help(sys.stderr)
        return EXIT_USAGE

    p.set_defaults(func=usage)
    c = rsub.add_parser("check", help="list every error in the packs (exit 1 if any)")
    c.add_argument("packs", nargs="+", metavar="PACK")
    c.set_defaults(func=_cmd_rules_check)
    t = rsub.add_parser("test", help="run the packs' examples (exit 1 if one fails)")
    t.add_argument("packs", nargs="+", metavar="PACK")
    t.add_argument("--year", type=int, default=None, help="watch-list edition year")
    t.add_argument("--list", default="ustr-nml", help="watch list (default: ustr-nml)")
    t.add_argument("-v", "--verbose", action="store_true", help="print passing examples too")
    _add_data_option(t)
    t.set_defaults(func=_cmd_rules_test)
    s = rsub.add_parser("show", help="print a resolved pack: hash, tiers, brand, rules")
    s.add_argument("pack", metavar="PACK")
    s.set_defaults(func=_cmd_rules_show)
    ls = rsub.add_parser("list", help="name the bundled packs")
    ls.set_defaults(func=_cmd_rules_list)
    _add_backtest(rsub)


import functools  # noqa: E402
from typing import Any  # noqa: E402


def _cmd_rules_check(args: argparse.Namespace) -> int:
    from .rules import check_rule_pack, load_rule_pack

    status = EXIT_OK
    for spec in args.packs:
        errors = check_rule_pack(spec)
        for err in errors:
            _say(str(err))
        if errors:
            status = EXIT_INPUT
            continue
        pack = load_rule_pack(spec)
        _say(
            f"{pack.source}: OK ({pack.name} {pack.short_hash}, {len(pack.rules)} rules, "
            f"{len(pack.examples)} examples)"
        )
    return status


def _screen_example(screener: Any, url: str | None, name: str | None) -> object:
    return screener.screen_url(url, name=name)


def _cmd_rules_test(args: argparse.Namespace) -> int:
    from .rules import check_rule_pack, load_rule_pack, run_examples

    status = EXIT_OK
    for spec in args.packs:
        errors = check_rule_pack(spec)
        if errors:
            for err in errors:
                _say(str(err))
            status = EXIT_INPUT
            continue
        pack = load_rule_pack(spec)
        screener = _screener(rules=pack, year=args.year, watch_list=args.list, data=args.data)
        outcomes = run_examples(pack, functools.partial(_screen_example, screener))
        failed = [o for o in outcomes if not o.passed]
        for o in outcomes:
            if not o.passed or args.verbose:
                _say(str(o))
        _say(
            f"{pack.source}: {len(outcomes) - len(failed)}/{len(outcomes)} examples passed "
            f"({screener.edition.label})"
        )
        if failed:
            status = EXIT_INPUT
    return status


def _cmd_rules_show(args: argparse.Namespace) -> int:
    from .rules import load_rule_pack

    pack = load_rule_pack(args.pack)
    _say(f"name:        {pack.name}")
    _say(f"source:      {pack.source}")
    if pack.extends:
        _say(f"extends:     {' <- '.join(reversed(pack.extends))}")
    _say(f"hash:        {pack.content_hash}")
    _say("tiers:       " + ", ".join(f"{n} >= {t}" for n, t in pack.tiers.items()))
    b = pack.brand
    for label, value in (
        ("brand", b.name),
        ("own domains", ", ".join(b.own_domains)),
        ("authorized", ", ".join((*b.authorized_hosts, *b.authorized_stores))),
        ("store ids", ", ".join(b.authorized_store_ids)),
        ("watch lists", ", ".join(b.watch_lists)),
    ):
        if value:
            _say(f"{label + ':':<13}{value}")
    _say(f"fields used: {', '.join(sorted(pack.fields_used))}")
    print("rules:")
    width = max((len(r.id) for r in pack.rules), default=0)
    for r in pack.rules:
        points = "clear" if r.clear else f"{r.score:+d}"
        _say(f"  {r.id:<{width}}  {points:>5}  {r.description}")
    return EXIT_OK


def _cmd_rules_list(args: argparse.Namespace) -> int:
    from .rules import bundled_packs, load_rule_pack

    for name in bundled_packs():
        pack = load_rule_pack(name)
        _say(f"{name:<16} {pack.short_hash}  {pack.description}")
    return EXIT_OK


def _say(text: str) -> None:
    """Print a line holding a pack's text or a path: control and bidi characters escaped."""
    print(printable(text))


# ---- end rules -----------------------------------------------------------------------------


# ---- screen / explain (owner: lead) --------------------------------------------------------
def _add_screen(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ._files import FORMATS

    p = sub.add_parser(
        "screen",
        help="screen a table of seller URLs (CSV, TSV, JSONL, Parquet, XLSX)",
        description="Screen every row of INPUT; rows come out in order with their columns "
        "untouched plus the ns_* columns.",
    )
    p.add_argument("input", metavar="INPUT", help="input file, or - for stdin")
    p.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    p.add_argument("--url-column", default="url", metavar="C", help="column of URLs (default: url)")
    p.add_argument("--name-column", default=None, metavar="C", help="column of seller names")
    p.add_argument("--rules", default="default", metavar="PACK", help="rule pack: name or path")
    p.add_argument("--year", type=int, default=None, metavar="Y", help="watch-list edition year")
    p.add_argument("--list", default="ustr-nml", choices=("ustr-nml", "eu-cpwl"))
    p.add_argument("--format", choices=FORMATS, default=None, help="output format")
    p.add_argument("--input-format", choices=FORMATS, default=None, help="input format")
    p.add_argument("--chunksize", type=_positive_int, default=100_000, metavar="N")
    p.add_argument(
        "--sort",
        choices=("score",),
        default=None,
        help="sort rows by score, highest first (holds all rows in memory)",
    )
    p.add_argument(
        "--fail-on", default=None, metavar="TIER", help="exit 3 when any row reaches this tier"
    )
    p.add_argument(
        "--summary",
        action="store_true",
        help="print rows per market, owner, tier and listing status to stderr",
    )
    p.add_argument(
        "--encoding",
        default="utf-8",
        help="input text encoding: utf-8 (default), auto, latin-1, cp1252, utf-16 ...",
    )
    p.add_argument(
        "--encoding-errors",
        choices=("strict", "replace"),
        default="strict",
        help="what to do with bytes that are invalid in the encoding",
    )
    p.add_argument(
        "--no-neutralize",
        dest="neutralize",
        action="store_false",
        help="do not defuse spreadsheet formulas (=, +, -, @) in CSV/TSV/XLSX cells",
    )
    p.add_argument("--progress", choices=("auto", "always", "never"), default="auto")
    _add_data_option(p)
    p.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="local: this process (default); dask: a Dask cluster, writing -o OUTDIR "
        "as a folder of parts (pip install 'notorious-screen[dask]')",
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        metavar="N",
        help="processes. local: this one plus N-1 forked ones that share the matching of new "
        "distinct hosts when a chunk brings thousands (default: the CPUs, at most 4); dask: "
        "the size of the local cluster to start (default: the CPUs)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="--engine dask: use the running cluster at this scheduler address",
    )
    p.set_defaults(func=_cmd_screen)

    e = sub.add_parser("explain", help="show the full reasoning for one URL")
    e.add_argument("url", metavar="URL")
    e.add_argument("--name", default=None, metavar="N", help="seller or platform name")
    e.add_argument("--rules", default="default", metavar="PACK")
    e.add_argument("--year", type=int, default=None, metavar="Y")
    e.add_argument("--list", default="ustr-nml", choices=("ustr-nml", "eu-cpwl"))
    _add_data_option(e)
    e.set_defaults(func=_cmd_explain)


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


class _Progress:
    """A one-line progress display on stderr: rows, rows/s and, for files, an ETA."""

    def __init__(self, enabled: bool) -> None:
        import time

        self.enabled = enabled
        self.rows = 0
        self._start = time.monotonic()
        self._last = 0.0
        self._fraction: float | None = None

    def bytes_read(self, done: int, total: int | None) -> None:
        self._fraction = done / total if total else None

    def update(self, rows: int, *, final: bool = False) -> None:
        import time

        self.rows += rows
        if not self.enabled:
            return
        now = time.monotonic()
        if not final and now - self._last < 0.2:
            return
        self._last = now
        elapsed = max(now - self._start, 1e-9)
        rate = self.rows / elapsed
        eta = ""
        if self._fraction and 0 < self._fraction < 1 and not final:
            eta = f", ETA {elapsed * (1 - self._fraction) / self._fraction:.0f}s"
        end = "\n" if final else ""
        print(
            f"\r{self.rows:,} rows, {rate:,.0f} rows/s{eta}   ",
            end=end,
            file=sys.stderr,
            flush=True,
        )


def _screen_dask(args: argparse.Namespace) -> int:
    """``screen INPUT --engine dask``: check the options, run `dask_engine.screen_files` on a
    local cluster or the user's scheduler, then print its progress, summary and verdict."""
    import importlib
    from typing import cast

    from .dask_engine import local_cluster, screen_files
    from .errors import InputError

    workers: int | None = args.workers
    if args.sort is not None:
        raise InputError("--sort needs every row in one process; not available with --engine dask")
    if args.output in ("-", None):
        raise InputError("--engine dask writes a folder of parts: give -o OUTDIR")
    if workers is not None and args.scheduler is not None:
        raise InputError("--workers starts a local cluster; with --scheduler the cluster is yours")
    if args.input_format in ("jsonl", "xlsx"):
        raise InputError("--engine dask reads CSV, TSV or Parquet")
    screener = _screener(year=args.year, watch_list=args.list, rules=args.rules, data=args.data)
    tiers = _fail_on_tiers(args, screener)
    show = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())
    start = time.monotonic()

    def report(done: int, total: int, rows: int) -> None:
        if show:
            rate = rows / max(time.monotonic() - start, 1e-9)
            print(
                f"\r{done}/{total} parts, {rows:,} rows, {rate:,.0f} rows/s   ",
                end="",
                file=sys.stderr,
                flush=True,
            )

    options: dict[str, Any] = {
        "url_column": args.url_column,
        "name_column": args.name_column,
        "screener": screener,
        "input_format": args.input_format,
        "output_format": args.format,
        "blocksize": getattr(args, "blocksize", "auto"),
        "encoding": args.encoding,
        "encoding_errors": args.encoding_errors,
        "neutralize": args.neutralize,
        "chunksize": args.chunksize,
        "progress": report,
    }
    if args.scheduler is not None:
        distributed = cast(Any, importlib.import_module("distributed"))
        try:
            client = distributed.Client(args.scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise InputError(
                f"cannot reach the Dask scheduler at {args.scheduler}: {exc}"
            ) from None
        try:
            result = screen_files(args.input, args.output, client=client, **options)
        finally:
            client.close()
    else:
        with local_cluster(workers) as client:
            result = screen_files(args.input, args.output, client=client, **options)
    if show:
        print(file=sys.stderr)
    if args.summary:
        print(result.summary.format(screener.edition, screener.data.files), file=sys.stderr)
    return _verdict(args, tiers, result.summary.max_score)


def _fail_on_tiers(args: argparse.Namespace, screener: Screener) -> Mapping[str, int]:
    """The pack's tiers, once ``--fail-on`` names one of them (else one error line)."""
    from .errors import InputError

    tiers = screener.rules.tiers
    if args.fail_on is not None and args.fail_on not in tiers:
        known = ", ".join(tiers) or "none"
        raise InputError(f"--fail-on: unknown tier {args.fail_on!r}; the pack has: {known}")
    return tiers


def _verdict(args: argparse.Namespace, tiers: Mapping[str, int], max_score: int) -> int:
    """The exit code of a screening: 3 when a row reached the ``--fail-on`` tier, else 0."""
    if args.fail_on is not None and max_score >= tiers[args.fail_on]:
        return EXIT_FAIL_ON
    return EXIT_OK


def _cmd_screen(args: argparse.Namespace) -> int:
    if args.engine == "dask":
        return _screen_dask(args)
    from .errors import InputError

    if args.scheduler is not None:
        raise InputError("--scheduler needs --engine dask")

    if _same_file(args.input, args.output):
        # The output replaces its path only at the end, but then the input is gone for good.
        if args.output == "-":
            source = "<stdin>" if args.input == "-" else args.input
            raise InputError(
                f"{source}: standard output is the input file; send the output elsewhere"
            )
        raise InputError(f"{args.output}: the output would overwrite the input; choose another -o")
    workers = args.workers if args.workers is not None else min(os.cpu_count() or 1, 4)
    screener = _screener(
        year=args.year, watch_list=args.list, rules=args.rules, workers=workers, data=args.data
    )
    if not screener.edition.complete and not args.summary:
        print(f"notorious-screen: note: {_incomplete_note(screener.edition)}", file=sys.stderr)
    with screener:
        # The screener's indexes and caches are long-lived and acyclic: keep the cyclic
        # collector from rescanning them for every chunk (14% CPU on a million rows).
        gc.freeze()
        gc.disable()
        try:
            return _screen_with(args, screener)
        finally:
            gc.enable()
            gc.unfreeze()


def _screen_with(args: argparse.Namespace, screener: Screener) -> int:
    from ._files import format_for, open_table

    tiers = _fail_on_tiers(args, screener)
    in_fmt = format_for(args.input, args.input_format)
    out_fmt = format_for(args.output, args.format)
    show = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())
    progress = _Progress(show)
    with open_table(
        args.input,
        fmt=in_fmt,
        encoding=args.encoding,
        encoding_errors=args.encoding_errors,
        chunksize=args.chunksize,
        progress=progress.bytes_read,
        warn=_warn,
    ) as (names, batches):
        screener.start_workers()  # fork before the reading and writing threads start
        summary = _write_screened(args, screener, names, batches, out_fmt, progress)
    progress.update(0, final=True)
    if args.summary:
        edition = screener.edition
        print(summary.format(edition, screener.data.files), file=sys.stderr)
        if not edition.complete:  # the one warning of the run
            print(f"notorious-screen: note: {_incomplete_note(edition)}", file=sys.stderr)
    return _verdict(args, tiers, summary.max_score)


def _warn(message: str) -> None:
    print(printable(f"notorious-screen: warning: {message}"), file=sys.stderr)


def _same_file(a: str, b: str) -> bool:
    """True when input ``a`` and output ``b`` are one file, ``-`` being stdin and stdout.

    ``screen - -o in.csv < in.csv`` and ``-o /dev/stdin`` would replace the input at the end;
    ``screen in.csv >> in.csv`` and ``screen - < in.csv >> in.csv`` would read their own
    output forever.
    """
    import os

    def identity(path: str, fd: int) -> tuple[int, int] | None:
        try:
            st = os.fstat(fd) if path == "-" else os.stat(path)
        except (OSError, ValueError):  # the output does not exist yet, or no stdin
            return None
        if not stat.S_ISREG(st.st_mode):  # a pipe or a terminal is never the other end
            return None
        return st.st_dev, st.st_ino

    source, sink = identity(a, _fileno(sys.stdin)), identity(b, _fileno(sys.stdout))
    return source is not None and source == sink


def _fileno(stream: object) -> int:
    try:
        return int(stream.fileno())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return -1


def _write_screened(
    args: argparse.Namespace,
    screener: Screener,
    names: list[str],
    batches: Iterator[pa.RecordBatch],
    out_fmt: str,
    progress: _Progress,
) -> Summary:
    import pyarrow as pa
    import pyarrow.compute as pc

    from ._files import TableWriter, atomic_output, write_behind
    from ._summary import Summary
    from .schema import check_columns

    where = "<stdin>" if args.input == "-" else args.input
    check_columns(names, url_column=args.url_column, name_column=args.name_column, where=where)

    summary = Summary()
    counted = summary if args.summary or args.fail_on is not None else None  # else skip counting
    screened = screener.iter_batches(
        batches,
        url_column=args.url_column,
        name_column=args.name_column,
        summary=counted,
        ahead=True,  # read and prepare the next batch on the reading thread
    )
    schema = screener.output_schema(names)
    with atomic_output(args.output) as sink:
        writer = TableWriter(sink, out_fmt, schema, neutralize=args.neutralize)
        if args.sort == "score":
            table = pa.Table.from_batches(list(screened), schema=schema)
            progress.update(table.num_rows)
            keys = pa.table({"s": table.column("ns_score"), "i": pa.array(range(table.num_rows))})
            order = pc.sort_indices(keys, sort_keys=[("s", "descending"), ("i", "ascending")])
            for batch in table.take(order).to_batches(max_chunksize=args.chunksize):
                writer.write(batch)
        else:
            write_behind(writer, screened, progress.update)
        writer.close()
    return summary


def _screener(**options: Any) -> Screener:
    """A Screener whose incomplete-edition warning the command words itself (explain and
    rules test print the edition; screen notes it once)."""
    import warnings

    from .markets import IncompleteEditionWarning
    from .screen import Screener

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IncompleteEditionWarning)
        return Screener(**options)


def _cmd_explain(args: argparse.Namespace) -> int:
    screener = _screener(year=args.year, watch_list=args.list, rules=args.rules, data=args.data)
    # The pack's messages are its author's text: no terminal escapes reach the screen.
    print(printable(screener.explain(args.url, name=args.name)))
    return EXIT_OK


# ---- end screen ----------------------------------------------------------------------------


# ---- report / rules backtest (owner: issue 14) ---------------------------------------------
def _add_report(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ._files import FORMATS

    p = sub.add_parser(
        "report",
        help="write an HTML report of a screened file (charts, sellers, lookalikes, editions)",
        description="Read a screened file (the output of notorious-screen screen) in chunks and "
        "write one self-contained HTML page: rows and sellers by market, owner, country and "
        "tier; listed, unlisted and lookalike rows; top sellers and their worst listings; "
        "lookalike hosts; the editions that list each market found. No script, no network.",
    )
    p.add_argument("input", metavar="SCREENED", help="screened file, or - for stdin")
    p.add_argument("-o", "--output", default="-", help="HTML file to write (default: stdout)")
    p.add_argument(
        "--seller-column",
        default=None,
        metavar="C",
        help="column naming the seller (default: ns_seller when the file has it)",
    )
    p.add_argument(
        "--url-column", default="url", metavar="C", help="column of listing URLs (default: url)"
    )
    p.add_argument("--title", default=None, help="the page title")
    p.add_argument("--input-format", choices=FORMATS, default=None, help="input format")
    p.add_argument("--encoding", default="utf-8", help="input text encoding (default: utf-8)")
    p.add_argument("--chunksize", type=_positive_int, default=100_000, metavar="N")
    p.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from ._files import atomic_output
    from .errors import InputError
    from .reporting import report

    if _same_file(args.input, args.output):
        raise InputError(f"{args.output}: the report would overwrite its input; choose another -o")
    result = report(
        args.input,
        url_column=args.url_column,
        seller_column=args.seller_column,
        input_format=args.input_format,
        encoding=args.encoding,
        chunksize=args.chunksize,
    )
    page = result.html(title=args.title).encode("utf-8", "replace")
    with atomic_output(args.output) as sink:
        sink.write(page)
    if args.output != "-":
        lookalikes = sum(t.rows for t in result.lookalikes)
        found = f"{len(result.markets)} markets, {lookalikes:,} lookalike rows"
        print(
            f"notorious-screen: {args.output}: report of {result.rows:,} rows ({found})",
            file=sys.stderr,
        )
    return EXIT_OK


def _add_backtest(rsub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ._files import FORMATS

    b = rsub.add_parser(
        "backtest",
        help="measure a pack against labelled rows (precision, recall, F1; exit 3 below a floor)",
        description="Screen LABELLED with PACK and compare the tiers with the verdicts: "
        "precision, recall and F1 per tier, a confusion table, the F1-maximising score "
        "threshold, and per rule how often it fires on positives and negatives and what "
        "removing it would change.",
    )
    b.add_argument("pack", metavar="PACK")
    b.add_argument("labelled", metavar="LABELLED", help="labelled file, or - for stdin")
    b.add_argument("--label-column", default="verdict", metavar="C", help="default: verdict")
    b.add_argument(
        "--positive",
        default="counterfeit,infringing",
        metavar="L,L",
        help="labels that count as positive, comma-separated (default: counterfeit,infringing); "
        "every other non-empty label is negative",
    )
    b.add_argument("--url-column", default="url", metavar="C", help="default: url")
    b.add_argument("--name-column", default=None, metavar="C", help="column of seller names")
    b.add_argument(
        "--tier",
        default=None,
        metavar="TIER",
        help="operating tier: a row is flagged at this tier or above (default: the lowest)",
    )
    b.add_argument("--year", type=int, default=None, metavar="Y", help="watch-list edition year")
    b.add_argument("--list", default="ustr-nml", choices=("ustr-nml", "eu-cpwl"))
    b.add_argument("--format", choices=("text", "json"), default="text")
    b.add_argument("--min-precision", type=_rate, default=None, metavar="P", help="exit 3 below P")
    b.add_argument("--min-recall", type=_rate, default=None, metavar="R", help="exit 3 below R")
    b.add_argument("--input-format", choices=FORMATS, default=None, help="input format")
    b.add_argument("--encoding", default="utf-8", help="input text encoding (default: utf-8)")
    b.set_defaults(func=_cmd_backtest)


def _rate(text: str) -> float:
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a rate: {text!r} (e.g. 0.8 or 80%)") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (or 0% and 100%): {text!r}")
    return value


def _cmd_backtest(args: argparse.Namespace) -> int:
    import json

    from .backtesting import backtest

    result = backtest(
        args.labelled,
        rules=args.pack,
        label_column=args.label_column,
        positive=args.positive.split(","),
        url_column=args.url_column,
        name_column=args.name_column,
        tier=args.tier,
        year=args.year,
        watch_list=args.list,
        input_format=args.input_format,
        encoding=args.encoding,
    )
    failures = result.gate(min_precision=args.min_precision, min_recall=args.min_recall)
    if args.format == "json":
        doc = result.to_dict()
        doc["gate"] = {
            "min_precision": args.min_precision,
            "min_recall": args.min_recall,
            "passed": not failures,
            "failures": failures,
        }
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    else:
        print(printable(result.format()))
        if args.min_precision is not None or args.min_recall is not None:
            print("\ngate: " + ("; ".join(failures) if failures else "passed"))
    for failure in failures:
        print(f"notorious-screen: gate failed: {failure}", file=sys.stderr)
    return EXIT_FAIL_ON if failures else EXIT_OK


# ---- end report / rules backtest -----------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="notorious-screen",
        description="Screen seller URLs and names against the notorious-markets watch lists.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_screen(sub)
    _add_markets(sub)
    _add_rules(sub)
    _add_report(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    previous = _catch_sigterm()
    try:
        return int(args.func(args))
    except NotoriousScreenError as exc:
        print(f"notorious-screen: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        print("notorious-screen: interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        print("notorious-screen: terminated", file=sys.stderr)
        return 143
    finally:
        if previous is not None:
            import signal

            signal.signal(signal.SIGTERM, previous)


def run() -> None:
    """The console entry point: :func:`main`, then exit with its code.

    When a CSV reading stopped early (an error), pyarrow's I/O threads may still be about to
    call into Python, and an interpreter shutting down under them aborts the process
    ("terminate called", exit 134) after the error line. Then the process ends without the
    interpreter's shutdown: by then main() has closed every file, removed the partial output
    and stopped the workers.
    """
    code = main()
    files = sys.modules.get("notorious_screen._files")
    if files is not None and files.readers_abandoned():
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
    sys.exit(code)


class _Terminated(BaseException):
    """SIGTERM as an exception, so the output's temporary file is removed on the way out."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


def _catch_sigterm() -> Any:
    # kill, timeout, CI cancellation and container stops send SIGTERM, whose default action
    # ends the process at once and strands the hidden .part file. Only the main thread may
    # set handlers, and a handler someone else installed is left alone.
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None
    return signal.signal(signal.SIGTERM, _on_sigterm)


if __name__ == "__main__":  # pragma: no cover
    run()
