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
    pass


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
