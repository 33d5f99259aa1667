"""An enforcement triage queue from a screened file.

    notorious-screen screen examples/sellers.csv -o screened.csv
    python examples/triage.py screened.csv [--top 20]

Reads the output of ``notorious-screen screen`` and prints the rows worth an analyst's time,
highest score first, each with its reasons. Uses only the standard library: the screened CSV
is all a triage script needs.
"""

from __future__ import annotations

import argparse
import csv
import sys


def queue(path: str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["ns_tier"]]
    # Stable: equal scores keep the input order.
    rows.sort(key=lambda r: -int(r["ns_score"] or 0))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print a prioritized enforcement queue.")
    parser.add_argument("screened", help="a CSV written by notorious-screen screen")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    rows = queue(args.screened)
    print(f"{len(rows)} rows need review; top {min(args.top, len(rows))}:")
    for r in rows[: args.top]:
        where = r["ns_market"] or r["ns_owner"] or "-"
        print(f"{r['ns_score']:>4} {r['ns_tier']:<7} {where:<28} {r['url'][:60]}")
        print(f"     {r['ns_reasons']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
