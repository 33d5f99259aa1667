"""The naive baseline: the screening script a user would write in an afternoon.

    python benchmarks/naive.py IN.csv OUT.csv [--rows 20000] [--facts PATH]

pandas ``apply`` per row; tldextract (offline instance, never the network) for the host;
RapidFuzz ``process.extractOne`` with its default scorer (WRatio) over every market name and
host, once for the host and once for the seller name; then if/else scoring. It reads only the
first ``--rows`` rows (it runs at about a thousand rows a second) and prints one JSON line with
its timings, so the harness can extrapolate per row.

The market names and hosts come from the library's bundled data (``load_markets()``) when it
loads, else from the reference facts file the data was compiled from; the JSON says which.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import tldextract
from rapidfuzz import process

EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
DEFAULT_FACTS = (
    Path(__file__).resolve().parent.parent.parent / "shared/reference/notorious-markets-facts.yaml"
)


def choices_from_library() -> list[str]:
    from notorious_screen import load_markets

    data = load_markets()
    out: set[str] = set()
    for m in data.markets.values():
        out.update(m.hosts)
        out.update(m.alias_hosts)
        out.add(m.name)
        out.update(m.names)
    return sorted(x for x in out if x)


def choices_from_facts(path: Path) -> list[str]:
    import yaml

    facts = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for report in facts["reports"]:
        for section in ("online", "physical"):
            for entry in report.get(section) or []:
                out.add(str(entry["name"]))
                out.update(str(v) for v in entry.get("name_variants") or [])
                out.update(str(v) for v in entry.get("domains") or [])
                out.update(str(v) for v in entry.get("alternate_domains") or [])
    return sorted(x for x in out if x)


def load_choices(facts: Path) -> tuple[list[str], str]:
    try:
        choices = choices_from_library()
        if len(choices) >= 50:
            return choices, "notorious_screen.load_markets()"
    except Exception:  # the library may not be complete yet: fall back to the raw facts
        pass
    shown = facts.resolve()
    root = Path(__file__).resolve().parent.parent.parent
    return choices_from_facts(facts), str(
        shown.relative_to(root) if shown.is_relative_to(root) else shown
    )


def make_screen_row(choices: list[str]) -> Any:
    def screen_row(row: pd.Series) -> pd.Series:
        url = row["url"]
        name = row["seller_name"]
        domain = ""
        if isinstance(url, str) and url.strip():
            ext = EXTRACT(url.strip())
            domain = f"{ext.domain}.{ext.suffix}" if ext.suffix else ext.domain
        host_match, host_score = None, 0.0
        if domain:
            found = process.extractOne(domain, choices)
            if found is not None:
                host_match, host_score = found[0], found[1]
        name_match, name_score = None, 0.0
        if isinstance(name, str) and name.strip():
            found = process.extractOne(name, choices)
            if found is not None:
                name_match, name_score = found[0], found[1]
        if host_score == 100:
            verdict, score = "listed", 100
        elif host_score >= 90:
            verdict, score = "lookalike", 80
        elif name_score >= 90:
            verdict, score = "name", 60
        elif host_score >= 80 or name_score >= 80:
            verdict, score = "review", 30
        else:
            verdict, score = "clear", 0
        return pd.Series(
            {
                "domain": domain,
                "host_match": host_match,
                "host_score": host_score,
                "name_match": name_match,
                "name_score": name_score,
                "verdict": verdict,
                "score": score,
            }
        )

    return screen_row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--rows", type=int, default=20_000, help="rows read from the top")
    parser.add_argument("--facts", type=Path, default=DEFAULT_FACTS)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    choices, source = load_choices(args.facts)
    t1 = time.perf_counter()
    df = pd.read_csv(args.input, nrows=args.rows, dtype=str, keep_default_na=False)
    t2 = time.perf_counter()
    result = df.join(df.apply(make_screen_row(choices), axis=1))
    t3 = time.perf_counter()
    result.to_csv(args.output, index=False)
    t4 = time.perf_counter()
    print(
        json.dumps(
            {
                "rows": len(df),
                "choices": len(choices),
                "choices_from": source,
                "setup_s": t1 - t0,
                "read_s": t2 - t1,
                "apply_s": t3 - t2,
                "write_s": t4 - t3,
                "listed_rows": int((result["verdict"] == "listed").sum()),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
