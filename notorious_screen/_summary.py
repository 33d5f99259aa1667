"""The ``--summary`` report: counts of screened rows per market, owner, tier and listing status.

Aggregated batch by batch while the rows stream past (the CLI and the Dask engine feed it the
``ns_*`` arrays of `Screener.screen_arrays`), so it costs no memory per row.

A service module (private to the package; its public names are imported by `cli`, `dask_engine`,
`screen`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pyarrow.compute as pc

if TYPE_CHECKING:
    import pyarrow as pa

    from .markets import Edition

__all__ = ["Summary"]


class Summary:
    """Counts of screened rows per market, owner, tier and listing status (for ``--summary``)."""

    _KEYS = (
        ("market", "ns_market"),
        ("owner", "ns_owner"),
        ("tier", "ns_tier"),
        ("listing status", "ns_listing_status"),
    )

    def __init__(self) -> None:
        self.rows = 0
        self.max_score = -1
        self.counts: dict[str, dict[str, int]] = {label: {} for label, _ in self._KEYS}

    def update(self, columns: Mapping[str, pa.Array]) -> None:
        scores = columns["ns_score"]
        self.rows += len(scores)
        if len(scores):
            top = pc.max(scores).as_py()
            self.max_score = max(self.max_score, top if top is not None else -1)
        for label, col in self._KEYS:
            counts = self.counts[label]
            for item in pc.value_counts(columns[col]).to_pylist():
                value = item["values"] if item["values"] is not None else "-"
                counts[value] = counts.get(value, 0) + item["counts"]

    def format(self, edition: Edition | None = None, files: tuple[str, ...] = ()) -> str:
        """The report; with ``edition``, it ends with the edition screened against and its
        coverage, and with several ``files``, the market data they make."""
        lines = [f"rows screened: {self.rows:,}"]
        for label, counts in self.counts.items():
            lines.append(f"\nrows per {label}:")
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            width = max((len(k) for k, _ in ranked), default=1)
            lines.extend(f"  {value:<{width}}  {count:>10,}" for value, count in ranked)
        if edition is not None:
            lines.append(f"\nedition: {edition.label} ({edition.coverage()})")
        if len(files) > 1:
            lines.append("data: " + " + ".join(files))
        return "\n".join(lines)
