"""Backtesting a rule pack: screen a labelled table, measure how well its tiers match the verdicts.

One job: before an analyst changes a weight, say how the pack does on the cases already decided.
A row is *positive* when its label is one of ``positive`` (``counterfeit``, ``infringing``),
*negative* for any other label, and *unlabelled* when the label is empty (those are screened
but not scored). A row is *flagged* at a tier when its tier is that one or a higher one.

The result gives precision, recall and F1 at each tier, a confusion table (rows per tier and
verdict), the score threshold that maximises F1, and per rule how often it fires on positives
and negatives and what removing it would change at the operating tier: a removed rule's points
leave every row it fired on (and a removed ``clear`` rule no longer clears), the score is
clamped again and the tier looked up again, exactly as the pack evaluates.

The labelled input streams: rows are counted per distinct (reasons, score, tier, label), a few
hundred combinations whatever the row count, so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from .errors import InputError, renamed
from .rules import RulePack

if TYPE_CHECKING:
    import pandas as pd

    from .screen import Screener

__all__ = [
    "DEFAULT_POSITIVE",
    "BacktestResult",
    "Confusion",
    "RuleEffect",
    "Threshold",
    "TierCounts",
    "backtest",
]

#: Labels that count as positive unless told otherwise.
DEFAULT_POSITIVE: tuple[str, ...] = ("counterfeit", "infringing")
_MAX_LABELS = 1_000  # distinct labels; more means the label column is not a verdict
_MAX_COMBINATIONS = 1_000_000


@dataclass(frozen=True, slots=True)
class Confusion:
    """Flagged or not against positive or not, with the rates (None when undefined: 0/0)."""

    tp: int
    fp: int
    fn: int
    tn: int
    precision: float | None
    recall: float | None
    f1: float | None

    @classmethod
    def of(cls, tp: int, fp: int, fn: int, tn: int) -> Confusion:
        precision = tp / (tp + fp) if tp + fp else None
        recall = tp / (tp + fn) if tp + fn else None
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision is not None and recall is not None and precision + recall
            else (0.0 if precision is not None and recall is not None else None)
        )
        return cls(tp, fp, fn, tn, precision, recall, f1)

    @property
    def flagged(self) -> int:
        return self.tp + self.fp


@dataclass(frozen=True, slots=True)
class Threshold:
    """A decision threshold: flagged when the score is at least ``score`` (``tier``: that tier)."""

    score: int
    tier: str | None
    counts: Confusion


@dataclass(frozen=True, slots=True)
class TierCounts:
    """One line of the confusion table: rows with this tier (None: no tier) per verdict."""

    tier: str | None
    positives: int
    negatives: int
    unlabelled: int


@dataclass(frozen=True, slots=True)
class RuleEffect:
    """How one rule behaves on the labelled rows, and the operating tier without it."""

    rule_id: str
    points: int
    clear: bool
    fires_positive: int
    fires_negative: int
    fires_unlabelled: int
    without: Confusion

    @property
    def fires(self) -> int:
        return self.fires_positive + self.fires_negative


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """The backtest of one pack on one labelled table (see the module docstring)."""

    pack: str
    pack_hash: str
    source: str
    edition: str
    label_column: str
    positive: tuple[str, ...]
    rows: int
    positives: int
    negatives: int
    unlabelled: int
    labels: tuple[tuple[str, int], ...]
    tier: str
    counts: Confusion
    tiers: tuple[Threshold, ...]
    confusion: tuple[TierCounts, ...]
    best: Threshold | None
    rules: tuple[RuleEffect, ...]

    def threshold(self, tier: str) -> Threshold:
        """The metrics at one tier (KeyError when the pack has no such tier)."""
        for item in self.tiers:
            if item.tier == tier:
                return item
        raise KeyError(tier)

    def rule(self, rule_id: str) -> RuleEffect:
        """The effect of one rule (KeyError when the pack has no such rule)."""
        for item in self.rules:
            if item.rule_id == rule_id:
                return item
        raise KeyError(rule_id)

    def gate(
        self, *, min_precision: float | None = None, min_recall: float | None = None
    ) -> list[str]:
        """Why the pack fails the gate at the operating tier (empty when it passes).

        An undefined rate (nothing flagged, or no positive row) fails: it proves nothing.
        """
        failures = []
        for name, floor, value in (
            ("precision", min_precision, self.counts.precision),
            ("recall", min_recall, self.counts.recall),
        ):
            if floor is None:
                continue
            if value is None:
                failures.append(f"{name} is undefined at tier {self.tier} (0/0), below {floor:g}")
            elif value < floor:
                failures.append(f"{name} {value:.3f} at tier {self.tier} is below {floor:g}")
        return failures

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (rates rounded to 4 decimals)."""

        def counts(c: Confusion) -> dict[str, Any]:
            return {
                "tp": c.tp,
                "fp": c.fp,
                "fn": c.fn,
                "tn": c.tn,
                "precision": _round(c.precision),
                "recall": _round(c.recall),
                "f1": _round(c.f1),
            }

        def threshold(t: Threshold | None) -> dict[str, Any] | None:
            if t is None:
                return None
            return {"tier": t.tier, "score": t.score, **counts(t.counts)}

        return {
            "pack": self.pack,
            "pack_hash": self.pack_hash,
            "source": self.source,
            "edition": self.edition,
            "label_column": self.label_column,
            "positive": list(self.positive),
            "rows": self.rows,
            "positives": self.positives,
            "negatives": self.negatives,
            "unlabelled": self.unlabelled,
            "labels": dict(self.labels),
            "tier": self.tier,
            "at_tier": counts(self.counts),
            "tiers": [threshold(t) for t in self.tiers],
            "confusion": [
                {
                    "tier": c.tier,
                    "positives": c.positives,
                    "negatives": c.negatives,
                    "unlabelled": c.unlabelled,
                }
                for c in self.confusion
            ],
            "best_threshold": threshold(self.best),
            "rules": [
                {
                    "rule": r.rule_id,
                    "points": r.points,
                    "clear": r.clear,
                    "fires_positive": r.fires_positive,
                    "fires_negative": r.fires_negative,
                    "fires_unlabelled": r.fires_unlabelled,
                    "without": counts(r.without),
                    "change": {
                        "precision": _delta(r.without.precision, self.counts.precision),
                        "recall": _delta(r.without.recall, self.counts.recall),
                        "f1": _delta(r.without.f1, self.counts.f1),
                        "tp": r.without.tp - self.counts.tp,
                        "fp": r.without.fp - self.counts.fp,
                    },
                }
                for r in self.rules
            ],
        }

    def format(self) -> str:
        """A plain-text account: labels, tiers, best threshold, confusion table, rules."""
        c = self.counts
        lines = [
            f"backtest: {self.pack} ({self.pack_hash[:12]}) on {self.source}, {self.edition}",
            f"labels in {self.label_column!r}: "
            + (", ".join(f"{label} {n:,}" for label, n in self.labels) or "none")
            + (f"; {self.unlabelled:,} rows unlabelled (not scored)" if self.unlabelled else ""),
            f"positive: {', '.join(self.positive)} ({self.positives:,} rows); "
            f"negative: every other label ({self.negatives:,} rows)",
        ]
        seen = {label.casefold() for label, _ in self.labels}
        absent = [p for p in self.positive if p not in seen]
        if absent:
            lines.append(f"note: no row is labelled {', '.join(map(repr, absent))}")
        lines += [
            "",
            "flagged at tier   score>=     TP     FP     FN     TN  precision  recall     F1",
        ]
        for t in self.tiers:
            lines.append(_metrics_line(f"{t.tier}", t.score, t.counts))
        if self.best is not None:
            lines.append(_metrics_line("best F1 score", self.best.score, self.best.counts))
        lines += ["", "confusion (rows per tier)", "  tier        positive  negative  unlabelled"]
        for row in self.confusion:
            lines.append(
                f"  {row.tier or '(no tier)':<10}  {row.positives:>8,}  {row.negatives:>8,}  "
                f"{row.unlabelled:>10,}"
            )
        width = max((len(r.rule_id) for r in self.rules), default=4)
        lines += [
            "",
            f"rules, flagged at tier {self.tier} (precision {_rate(c.precision)}, recall "
            f"{_rate(c.recall)}, F1 {_rate(c.f1)})",
            f"  {'':<{width}}          fires on            without the rule: change in",
            f"  {'rule':<{width}}  points  positive  negative  precision  recall      F1    "
            "TP    FP",
        ]
        for r in self.rules:
            points = "clear" if r.clear else f"{r.points:+d}"
            w = r.without
            lines.append(
                f"  {r.rule_id:<{width}}  {points:>6}  {r.fires_positive:>8,}  "
                f"{r.fires_negative:>8,}  {_change(w.precision, c.precision):>9}  "
                f"{_change(w.recall, c.recall):>6}  {_change(w.f1, c.f1):>6}  "
                f"{w.tp - c.tp:>+4,}  {w.fp - c.fp:>+4,}"
            )
        return "\n".join(lines)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _delta(new: float | None, old: float | None) -> float | None:
    return None if new is None or old is None else round(new - old, 4)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _change(new: float | None, old: float | None) -> str:
    if new is None or old is None:
        return "-" if new == old else "n/a"
    delta = new - old
    return "0" if abs(delta) < 5e-4 else f"{delta:+.3f}"


def _metrics_line(label: str, score: int, c: Confusion) -> str:
    return (
        f"  {label:<15} {score:>7}  {c.tp:>5,}  {c.fp:>5,}  {c.fn:>5,}  {c.tn:>5,}  "
        f"{_rate(c.precision):>9}  {_rate(c.recall):>6}  {_rate(c.f1):>5}"
    )


# ---- evaluation --------------------------------------------------------------------------
_Fired = tuple[tuple[str, int], ...]


def _parse_reasons(text: str | None) -> _Fired:
    """``"listed-market (+45); counterfeit-kind (+15)"`` -> ``(("listed-market", 45), ...)``."""
    if not text:
        return ()
    fired = []
    for part in text.split("; "):
        rule_id, _, points = part.rpartition(" (")
        fired.append((rule_id, int(points.rstrip(")"))))
    return tuple(fired)


def _rescore(pack: RulePack, fired: _Fired, clears: frozenset[str]) -> tuple[int, str | None]:
    """Score and tier from the rules that fired, as :meth:`RulePack.evaluate` sums them."""
    if any(rule_id in clears for rule_id, _ in fired):
        return 0, None
    total = sum(points for _, points in fired)
    score = 0 if total < 0 else 100 if total > 100 else total
    return score, pack.tier_for(score)


@dataclass(frozen=True, slots=True)
class _Cell:
    fired: _Fired
    score: int
    tier: str | None
    verdict: int  # 1 positive, 0 negative, -1 unlabelled
    rows: int


def _evaluate(
    pack: RulePack,
    cells: Sequence[_Cell],
    *,
    tier: str,
    meta: Mapping[str, Any],
) -> BacktestResult:
    order = list(pack.tiers)  # highest threshold first
    rank = {name: i for i, name in enumerate(order)}
    clears = frozenset(r.id for r in pack.rules if r.clear)

    def flagged_at(row_tier: str | None, at: str) -> bool:
        return row_tier is not None and rank.get(row_tier, len(order)) <= rank[at]

    def confusion(flag: Iterable[tuple[bool, _Cell]]) -> Confusion:
        tp = fp = fn = tn = 0
        for is_flagged, cell in flag:
            if cell.verdict == 1:
                tp, fn = (tp + cell.rows, fn) if is_flagged else (tp, fn + cell.rows)
            elif cell.verdict == 0:
                fp, tn = (fp + cell.rows, tn) if is_flagged else (fp, tn + cell.rows)
        return Confusion.of(tp, fp, fn, tn)

    labelled = [c for c in cells if c.verdict >= 0]
    tiers = tuple(
        Threshold(
            pack.tiers[name], name, confusion((flagged_at(c.tier, name), c) for c in labelled)
        )
        for name in order
    )
    counts = next(t.counts for t in tiers if t.tier == tier)
    best: Threshold | None = None
    if any(c.verdict == 1 for c in labelled):
        for score in sorted({c.score for c in labelled if c.score > 0}, reverse=True):
            item = Threshold(score, None, confusion((c.score >= score, c) for c in labelled))
            if best is None or (item.counts.f1 or 0) > (best.counts.f1 or 0):
                best = item
    confusion_rows = []
    for name in [*order, None]:
        in_tier = [c for c in cells if c.tier == name]
        confusion_rows.append(
            TierCounts(
                name,
                sum(c.rows for c in in_tier if c.verdict == 1),
                sum(c.rows for c in in_tier if c.verdict == 0),
                sum(c.rows for c in in_tier if c.verdict < 0),
            )
        )
    effects = []
    for rule in pack.rules:

        def without(cell: _Cell, rule_id: str = rule.id) -> bool:
            if all(r != rule_id for r, _ in cell.fired):
                return flagged_at(cell.tier, tier)
            rest = tuple(f for f in cell.fired if f[0] != rule_id)
            return flagged_at(_rescore(pack, rest, clears)[1], tier)

        def fires(verdict: int, rule_id: str = rule.id) -> int:
            return sum(
                c.rows
                for c in cells
                if c.verdict == verdict and any(r == rule_id for r, _ in c.fired)
            )

        effects.append(
            RuleEffect(
                rule_id=rule.id,
                points=0 if rule.clear else rule.score,
                clear=rule.clear,
                fires_positive=fires(1),
                fires_negative=fires(0),
                fires_unlabelled=fires(-1),
                without=confusion((without(c), c) for c in labelled),
            )
        )
    return BacktestResult(
        counts=counts,
        tiers=tiers,
        confusion=tuple(confusion_rows),
        best=best,
        rules=tuple(effects),
        tier=tier,
        **meta,
    )


# ---- reading and screening ---------------------------------------------------------------
def _text(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if not pa.types.is_string(col.type):
        col = pc.cast(col, pa.string())
    return col


def _frame_batches(frame: Any, columns: list[str], chunksize: int) -> Iterator[pa.RecordBatch]:
    for start in range(0, len(frame), chunksize):
        part = frame.iloc[start : start + chunksize]
        arrays = [
            pa.array(
                [
                    None
                    if v is None or (isinstance(v, float) and v != v)
                    else (v if isinstance(v, str) else str(v))
                    for v in part[name].tolist()
                ],
                pa.string(),
            )
            for name in columns
        ]
        yield pa.RecordBatch.from_arrays(arrays, names=columns)


def backtest(
    labelled: str | Path | pd.DataFrame,
    *,
    rules: str | Path | RulePack = "default",
    label_column: str = "verdict",
    positive: Iterable[str] = DEFAULT_POSITIVE,
    url_column: str = "url",
    name_column: str | None = None,
    tier: str | None = None,
    year: int | None = None,
    watch_list: str = "ustr-nml",
    screener: Screener | None = None,
    input_format: str | None = None,
    encoding: str = "utf-8",
    chunksize: int = 100_000,
    list: str | None = None,
) -> BacktestResult:
    """Screen a labelled table with a pack and measure the pack against the labels.

    ``labelled`` is a file (CSV, TSV, JSON Lines, Parquet, XLSX; streamed) or a DataFrame with
    a URL column, optionally a name column, and ``label_column``. Labels are compared without
    surrounding spaces and case; an empty label leaves the row unlabelled. ``tier`` is the
    operating tier for the gate and the per-rule effects (default: the pack's lowest tier,
    i.e. a row is flagged when it has any tier). Columns ``ns_*`` of an earlier screening are
    ignored: the rows are screened again with ``rules``. ``screener`` replaces ``rules``,
    ``year`` and ``watch_list`` with a ready one (``list=`` is its deprecated spelling).
    """
    from .schema import check_columns
    from .screen import Screener

    watch_list = renamed("list", list, "watch_list", watch_list)
    if screener is None:
        screener = Screener(rules=rules, year=year, watch_list=watch_list)
    pack = screener.rules
    if not pack.tiers:
        raise InputError(f"rule pack {pack.name!r} has no tiers: nothing to backtest")
    tier = tier if tier is not None else [*pack.tiers][-1]
    if tier not in pack.tiers:
        raise InputError(f"unknown tier {tier!r}; the pack has: {', '.join(pack.tiers)}")
    wanted = {p.strip().casefold() for p in positive if p.strip()}
    if not wanted:
        raise InputError("no positive label given (e.g. counterfeit,infringing)")
    cells: dict[tuple[Any, ...], int] = {}
    labels: dict[str, int] = {}
    rows = 0
    with ExitStack() as stack:
        if isinstance(labelled, (str, Path)):
            from ._files import format_for, read_ahead, read_batches

            path = str(labelled)
            source = "<stdin>" if path == "-" else path
            names, batches = read_batches(
                path,
                fmt=format_for(path, input_format),
                stack=stack,
                encoding=encoding,
                chunksize=chunksize,
            )
            batches = read_ahead(batches)
        else:
            source = "<DataFrame>"
            frame = labelled
            if not hasattr(frame, "iloc"):
                to_pandas = getattr(frame, "to_pandas", None)
                if to_pandas is None:
                    raise InputError(f"expected a file or a DataFrame, got {type(frame).__name__}")
                frame = to_pandas()
            names = [str(c) for c in frame.columns]
            batches = None
        original = [n for n in names if not n.startswith("ns_")]
        check_columns(original, url_column=url_column, name_column=name_column, where=source)
        if label_column not in original:
            have = ", ".join(repr(c) for c in names) or "none"
            raise InputError(
                f"{source}: label column {label_column!r} not found; the input has columns: {have}"
            )
        use = [c for c in (url_column, name_column, label_column) if c is not None]
        if batches is None:
            batches = _frame_batches(frame, use, chunksize)
        for batch in batches:
            table = {n: batch.column(batch.schema.get_field_index(n)) for n in use}
            urls = _text(table[url_column])
            names_col = _text(table[name_column]) if name_column is not None else None
            added = screener.screen_arrays(urls, names_col)
            label = pc.utf8_trim_whitespace(_text(table[label_column]))
            label = pc.if_else(pc.equal(label, ""), pa.scalar(None, pa.string()), label)
            grouped = (
                pa.table(
                    {
                        "reasons": added["ns_reasons"],
                        "score": added["ns_score"],
                        "tier": added["ns_tier"],
                        "label": label,
                    }
                )
                .group_by(["reasons", "score", "tier", "label"], use_threads=False)
                .aggregate([([], "count_all")])
            )
            for item in grouped.to_pylist():
                key = (item["reasons"], item["score"], item["tier"], item["label"])
                cells[key] = cells.get(key, 0) + item["count_all"]
                if item["label"] is not None:
                    labels[item["label"]] = labels.get(item["label"], 0) + item["count_all"]
            if len(labels) > _MAX_LABELS:
                raise InputError(
                    f"{source}: column {label_column!r} has more than {_MAX_LABELS:,} distinct "
                    "labels; is it the verdict column? (--label-column)"
                )
            if len(cells) > _MAX_COMBINATIONS:  # pragma: no cover - needs a pathological pack
                raise InputError(f"{source}: too many distinct screening outcomes to backtest")
            rows += batch.num_rows

    def verdict(label: str | None) -> int:
        if label is None:
            return -1
        return 1 if label.casefold() in wanted else 0

    parsed = [
        _Cell(_parse_reasons(reasons), int(score), tier_, verdict(label), count)
        for (reasons, score, tier_, label), count in cells.items()
    ]
    seen = {label.casefold() for label in labels}
    meta = {
        "pack": pack.name,
        "pack_hash": pack.content_hash,
        "source": source,
        "edition": screener.edition.label,
        "label_column": label_column,
        "positive": tuple(sorted(wanted, key=lambda p: (p not in seen, p))),
        "rows": rows,
        "positives": sum(c.rows for c in parsed if c.verdict == 1),
        "negatives": sum(c.rows for c in parsed if c.verdict == 0),
        "unlabelled": sum(c.rows for c in parsed if c.verdict < 0),
        "labels": tuple(
            sorted(labels.items(), key=lambda kv: (verdict(kv[0]) != 1, -kv[1], kv[0]))
        ),
    }
    return _evaluate(pack, parsed, tier=tier, meta=meta)
