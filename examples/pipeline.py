"""A brand-protection pipeline step: pandas in, pandas out.

    python examples/pipeline.py [examples/sellers.csv]

Reads the sellers table, screens it with ``screen_frame`` (through ``DataFrame.pipe``), and
prints where the brand's products are being sold, per owner and per tier.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import notorious_screen as ns


def main(path: str) -> int:
    sellers = pd.read_csv(path, dtype=str, keep_default_na=False)
    screened = sellers.pipe(ns.screen_frame, url_column="url", name_column="seller_name")
    listed = screened[screened["ns_listed"]]
    print(
        f"{len(screened)} rows screened, {len(listed)} on a listed market "
        f"({screened['ns_edition'].iloc[0]})"
    )
    print("\nrows per owner (listed or not):")
    print(screened["ns_owner"].value_counts().to_string())
    print("\nrows per tier:")
    print(screened["ns_tier"].fillna("-").value_counts().to_string())
    return 0


if __name__ == "__main__":
    default = Path(__file__).with_name("sellers.csv")
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(default)))
