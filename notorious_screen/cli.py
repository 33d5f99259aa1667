"""The ``notorious-screen`` command: the only module that prints, reads argv or sets exit codes.

Exit codes: 0 done; 1 the input (file, column, rule pack, data) is unusable; 2 usage;
3 ``--fail-on`` tier reached; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from .errors import NotoriousScreenError, _printable

if TYPE_CHECKING:
    import pyarrow as pa

    from .screen import Screener, Summary

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


def _add_markets(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "markets",
        help="list the markets of a watch-list edition, or what changed between two",
        description="List the markets one edition of a watch list names (default: the latest "
        "USTR edition whose online list is complete) with kind, country and owner, and say how "
        "complete the edition is in the data; with --diff Y0, what changed since year Y0.",
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
    p.add_argument("--data", default=None, metavar="FILE", help="markets YAML file to use instead")
    p.set_defaults(func=_cmd_markets)


def _cmd_markets(args: argparse.Namespace) -> int:
    from .markets import check_kind, load_markets

    data = load_markets(args.data)
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


# ---- end markets ---------------------------------------------------------------------------


# ---- rules (owner: rules developer) --------------------------------------------------------
def _add_rules(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "rules",
        help="check, test, show or list rule packs",
        description="Work with YAML rule packs: validate them (check), run their own examples "
        "through the screener (test), print the resolved pack (show) or name the bundled ones "
        "(list). PACK is a bundled name (default, apparel-brand, media-brand) or a .yaml path.",
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
    t.set_defaults(func=_cmd_rules_test)
    s = rsub.add_parser("show", help="print a resolved pack: hash, tiers, brand, rules")
    s.add_argument("pack", metavar="PACK")
    s.set_defaults(func=_cmd_rules_show)
    ls = rsub.add_parser("list", help="name the bundled packs")
    ls.set_defaults(func=_cmd_rules_list)


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
    from .screen import Screener  # lazily: the screener builds the market indexes

    status = EXIT_OK
    for spec in args.packs:
        errors = check_rule_pack(spec)
        if errors:
            for err in errors:
                _say(str(err))
            status = EXIT_INPUT
            continue
        pack = load_rule_pack(spec)
        screener = Screener(rules=pack, year=args.year, list=args.list)
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
    print(_printable(text))


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


def _cmd_screen(args: argparse.Namespace) -> int:
    if args.engine == "dask":
        from .dask_engine import run_dask_cli

        return run_dask_cli(args)
    from .errors import InputError
    from .screen import Screener

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
    with Screener(year=args.year, list=args.list, rules=args.rules, workers=workers) as screener:
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
    from ._files import format_for, open_table, read_ahead
    from .errors import InputError

    tiers = screener.pack.tiers
    if args.fail_on is not None and args.fail_on not in tiers:
        known = ", ".join(tiers) or "none"
        raise InputError(f"--fail-on: unknown tier {args.fail_on!r}; the pack has: {known}")
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
        screener._start_workers()  # fork before the reading and writing threads start
        batches = read_ahead(batches)
        summary = _write_screened(args, screener, names, batches, out_fmt, progress)
    progress.update(0, final=True)
    if args.summary:
        print(summary.format(), file=sys.stderr)
    if args.fail_on is not None and summary.max_score >= tiers[args.fail_on]:
        return EXIT_FAIL_ON
    return EXIT_OK


def _warn(message: str) -> None:
    print(_printable(f"notorious-screen: warning: {message}"), file=sys.stderr)


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
    from .screen import Summary, check_columns

    where = "<stdin>" if args.input == "-" else args.input
    check_columns(names, url_column=args.url_column, name_column=args.name_column, where=where)

    summary = Summary()
    counted = summary if args.summary or args.fail_on is not None else None  # else skip counting
    screened = screener.iter_batches(
        batches, url_column=args.url_column, name_column=args.name_column, summary=counted
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


def _cmd_explain(args: argparse.Namespace) -> int:
    from .screen import Screener

    screener = Screener(year=args.year, list=args.list, rules=args.rules)
    # The pack's messages are its author's text: no terminal escapes reach the screen.
    print(_printable(screener.explain(args.url, name=args.name)))
    return EXIT_OK


# ---- end screen ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="notorious-screen",
        description="Screen seller URLs and names against the notorious-markets watch lists.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_screen(sub)
    _add_markets(sub)
    _add_rules(sub)
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
