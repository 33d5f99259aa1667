"""The ``notorious-screen`` command: the only module that prints, reads argv or sets exit codes.

Exit codes: 0 done; 1 the input (file, column, rule pack, data) is unusable; 2 usage;
3 ``--fail-on`` tier reached.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .errors import NotoriousScreenError

__all__ = ["main"]

EXIT_OK = 0
EXIT_INPUT = 1
EXIT_USAGE = 2
EXIT_FAIL_ON = 3


# ---- markets (owner: data developer) -------------------------------------------------------
def _add_markets(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("markets", help="list the markets of a watch-list edition")
    p.set_defaults(func=_cmd_markets)


def _cmd_markets(args: argparse.Namespace) -> int:
    raise NotImplementedError


# ---- end markets ---------------------------------------------------------------------------


# ---- rules (owner: rules developer) --------------------------------------------------------
def _add_rules(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("rules", help="check or test rule packs")
    p.set_defaults(func=lambda args: EXIT_USAGE)


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
    p.add_argument("--sort", choices=("score",), default=None,
                   help="sort rows by score, highest first (holds all rows in memory)")
    p.add_argument("--fail-on", default=None, metavar="TIER",
                   help="exit 3 when any row reaches this tier")
    p.add_argument("--summary", action="store_true",
                   help="print rows per market, owner, tier and listing status to stderr")
    p.add_argument("--encoding", default="utf-8",
                   help="input text encoding: utf-8 (default), auto, latin-1, cp1252, utf-16 ...")
    p.add_argument("--encoding-errors", choices=("strict", "replace"), default="strict",
                   help="what to do with bytes that are invalid in the encoding")
    p.add_argument("--no-neutralize", dest="neutralize", action="store_false",
                   help="do not defuse spreadsheet formulas (=, +, -, @) in CSV/TSV/XLSX cells")
    p.add_argument("--progress", choices=("auto", "always", "never"), default="auto")
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
        print(f"\r{self.rows:,} rows, {rate:,.0f} rows/s{eta}   ", end=end, file=sys.stderr,
              flush=True)


def _cmd_screen(args: argparse.Namespace) -> int:
    import pyarrow as pa

    from ._files import TableWriter, atomic_output, format_for, read_batches
    from .errors import InputError
    from .screen import OUTPUT_COLUMNS, Screener, Summary

    screener = Screener(year=args.year, list=args.list, rules=args.rules)
    tiers = screener.pack.tiers
    if args.fail_on is not None and args.fail_on not in tiers:
        names = ", ".join(tiers) or "none"
        raise InputError(f"--fail-on: unknown tier {args.fail_on!r}; the pack has: {names}")
    in_fmt = format_for(args.input, args.input_format)
    out_fmt = format_for(args.output, args.format)
    show = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())
    progress = _Progress(show)
    names, batches = read_batches(
        args.input, fmt=in_fmt, encoding=args.encoding, encoding_errors=args.encoding_errors,
        chunksize=args.chunksize, progress=progress.bytes_read,
    )
    where = "<stdin>" if args.input == "-" else args.input
    for col in (args.url_column, args.name_column):
        if col is None:
            continue
        if col not in names:
            have = ", ".join(repr(n) for n in names) or "none"
            raise InputError(f"{where}: column {col!r} not found; the input has columns: {have}")
        if names.count(col) > 1:
            raise InputError(f"{where}: column {col!r} appears {names.count(col)} times")
    clash = [c for c in OUTPUT_COLUMNS if c in names]
    if clash:
        raise InputError(f"{where}: input already has output column(s) {', '.join(clash)}")

    summary = Summary()
    screened = screener.iter_batches(
        batches, url_column=args.url_column, name_column=args.name_column, summary=summary
    )
    schema = screener.output_schema(names)
    with atomic_output(args.output) as sink:
        writer = TableWriter(sink, out_fmt, schema, neutralize=args.neutralize)
        if args.sort == "score":
            table = pa.Table.from_batches(list(screened), schema=schema)
            progress.update(table.num_rows)
            order = pa.compute.sort_indices(
                pa.table({"s": table.column("ns_score"), "i": pa.array(range(table.num_rows))}),
                sort_keys=[("s", "descending"), ("i", "ascending")],
            )
            for batch in table.take(order).to_batches(max_chunksize=args.chunksize):
                writer.write(batch)
        else:
            for batch in screened:
                writer.write(batch)
                progress.update(batch.num_rows)
        writer.close()
    progress.update(0, final=True)
    if args.summary:
        print(summary.format(), file=sys.stderr)
    if args.fail_on is not None and summary.max_score >= tiers[args.fail_on]:
        return EXIT_FAIL_ON
    return EXIT_OK


def _cmd_explain(args: argparse.Namespace) -> int:
    from .screen import Screener

    screener = Screener(year=args.year, list=args.list, rules=args.rules)
    print(screener.explain(args.url, name=args.name))
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
