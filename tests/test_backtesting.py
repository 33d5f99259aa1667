"""Backtesting a rule pack: metrics from the labels, two ways of removing a rule agree, the gate."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pandas as pd
import pytest

import notorious_screen as ns
from notorious_screen.backtesting import Confusion, _parse_reasons
from notorious_screen.cli import main

REPO = Path(__file__).resolve().parents[1]
LABELLED = REPO / "examples" / "labelled.csv"
APPAREL = REPO / "rules" / "examples" / "apparel-brand.yaml"
README = (REPO / "README.md").read_text(encoding="utf-8")
# A pack whose sums leave 0..100 both ways: rescoring must clamp as the pack does.
CLAMPED = """\
version: 1
name: clamped
extends: default
rules:
  - id: listed-market
    description: platform on the selected watch-list edition, weighed heavily
    when:
      listed: true
      match: [exact, subdomain, alias, name]
    score: 95
  - id: home-page
    description: a home page, not a listing
    when: {path: {equals: /}}
    score: -60
"""


@pytest.fixture
def clamped(tmp_path: Path) -> Path:
    path = tmp_path / "clamped.yaml"
    path.write_text(CLAMPED, encoding="utf-8")
    return path


def _screened(pack: str | Path | ns.RulePack = "default") -> pd.DataFrame:
    df = pd.read_csv(LABELLED, dtype=str, keep_default_na=False)
    return ns.Screener(rules=pack).screen_frame(df, name_column="seller_name")


def _by_hand(df: pd.DataFrame, flagged: pd.Series, positive: set[str]) -> Confusion:
    labelled = df.verdict.str.strip() != ""
    pos = df.verdict.str.strip().str.casefold().isin(positive)
    f = flagged & labelled
    return Confusion.of(
        int((f & pos).sum()),
        int((f & ~pos).sum()),
        int((~flagged & labelled & pos).sum()),
        int((~flagged & labelled & ~pos).sum()),
    )


@pytest.mark.parametrize("pack", ["default", APPAREL])
def test_tier_metrics_agree_with_a_count_by_hand(pack: str | Path) -> None:
    result = ns.backtest(LABELLED, rules=pack, name_column="seller_name")
    df = _screened(pack)
    screener = ns.Screener(rules=pack)
    order = list(screener.rules.tiers)
    positive = {"counterfeit", "infringing"}
    for name in order:
        flagged = df.ns_tier.isin(order[: order.index(name) + 1])
        assert result.threshold(name).counts == _by_hand(df, flagged, positive), name
    assert result.tier == order[-1] and result.counts == result.threshold(order[-1]).counts
    labelled = df[df.verdict != ""]
    assert result.rows == len(df)
    assert result.unlabelled == (df.verdict == "").sum()
    assert result.positives == labelled.verdict.isin(positive).sum()
    assert result.negatives == len(labelled) - result.positives
    assert dict(result.labels) == labelled.verdict.value_counts().to_dict()
    for row in result.confusion:
        in_tier = df[df.ns_tier.isna()] if row.tier is None else df[df.ns_tier == row.tier]
        assert row.positives == in_tier.verdict.isin(positive).sum()
        assert row.unlabelled == (in_tier.verdict == "").sum()
    # The best threshold is the best of every threshold from 1 to 100, tried by hand.
    best_f1 = max((_by_hand(df, df.ns_score >= t, positive).f1 or 0.0, t) for t in range(1, 101))
    assert result.best is not None
    assert result.best.counts.f1 == pytest.approx(best_f1[0])
    assert result.best.counts == _by_hand(df, df.ns_score >= result.best.score, positive)


@pytest.mark.parametrize("pack", ["default", APPAREL, "clamped"])
def test_removing_a_rule_agrees_with_screening_with_a_pack_without_it(
    pack: str | Path, clamped: Path
) -> None:
    """Two code paths: rescoring from ns_reasons, and a real pack with the rule taken out."""
    pack = clamped if pack == "clamped" else pack
    result = ns.backtest(LABELLED, rules=pack, name_column="seller_name")
    full = ns.load_rule_pack(pack)
    changed = 0
    for rule in full.rules:
        smaller = ns.RulePack(
            name=full.name,
            rules=tuple(r for r in full.rules if r.id != rule.id),
            tiers=dict(full.tiers),
            brand=full.brand,
        )
        again = ns.backtest(LABELLED, rules=smaller, name_column="seller_name", tier=result.tier)
        assert result.rule(rule.id).without == again.counts, rule.id
        changed += result.rule(rule.id).without != result.counts
    assert changed >= 1  # the example data has rules that matter


def test_rule_firing_counts() -> None:
    result = ns.backtest(LABELLED, rules=APPAREL, name_column="seller_name")
    df = _screened(APPAREL)
    fired = df.ns_reasons.fillna("").map(lambda t: {r for r, _ in _parse_reasons(t)})
    pos = df.verdict.isin(["counterfeit", "infringing"])
    neg = (df.verdict != "") & ~pos
    for effect in result.rules:
        hits = fired.map(lambda s, rid=effect.rule_id: rid in s)
        assert effect.fires_positive == (hits & pos).sum(), effect.rule_id
        assert effect.fires_negative == (hits & neg).sum(), effect.rule_id
    # The apparel pack clears the brand's authorized stores, all labelled "authorized".
    authorized = result.rule("brand-authorized")
    assert authorized.clear and authorized.fires_negative > 0 and authorized.fires_positive == 0
    assert authorized.without.fp > result.counts.fp


def test_rescoring_reproduces_the_screened_score(clamped: Path) -> None:
    from notorious_screen.backtesting import _rescore

    for pack in ("default", APPAREL, clamped):
        loaded = ns.load_rule_pack(pack)
        clears = frozenset(r.id for r in loaded.rules if r.clear)
        df = _screened(pack)
        for reasons, score, tier in zip(df.ns_reasons, df.ns_score, df.ns_tier, strict=True):
            got = _rescore(loaded, _parse_reasons(reasons), clears)
            assert got == (score, tier), reasons
    sums = [sum(p for _, p in _parse_reasons(r)) for r in _screened(clamped).ns_reasons]
    assert min(sums) < 0 and max(sums) > 100  # the clamp was exercised both ways


def test_chunk_size_and_input_form_do_not_change_the_result() -> None:
    base = dataclasses.replace(ns.backtest(LABELLED, name_column="seller_name"), source="")
    small = dataclasses.replace(
        ns.backtest(LABELLED, name_column="seller_name", chunksize=7), source=""
    )
    frame = pd.read_csv(LABELLED, dtype=str, keep_default_na=False)
    from_frame = dataclasses.replace(ns.backtest(frame, name_column="seller_name"), source="")
    assert base == small == from_frame


def test_an_earlier_screening_is_ignored_and_redone(tmp_path: Path) -> None:
    screened = tmp_path / "screened.csv"
    assert main(["screen", str(LABELLED), "--name-column", "seller_name", "-o", str(screened),
                 "--rules", str(APPAREL)]) == 0  # fmt: skip
    again = ns.backtest(screened, name_column="seller_name")  # the default pack this time
    fresh = ns.backtest(LABELLED, name_column="seller_name")
    assert dataclasses.replace(again, source="") == dataclasses.replace(fresh, source="")


def test_labels_ignore_case_and_spaces_and_positive_is_configurable() -> None:
    df = pd.DataFrame(
        {
            "url": [
                "https://item.taobao.com/item.htm?id=1",
                "https://x.example/",
                "a1iexpress.com",
            ],
            "verdict": [" Counterfeit ", "fine", "FAKE"],
        }
    )
    r = ns.backtest(df, positive=["fake", "counterfeit"])
    assert (r.positives, r.negatives) == (2, 1)
    assert r.counts == Confusion.of(2, 0, 0, 1)
    assert r.positive == ("counterfeit", "fake")
    nothing = ns.backtest(df, positive=["stolen"])
    assert nothing.positives == 0 and nothing.best is None and nothing.counts.recall is None
    assert "note: no row is labelled 'stolen'" in nothing.format()
    assert nothing.gate(min_recall=0.5) == [
        f"recall is undefined at tier {nothing.tier} (0/0), below 0.5"
    ]


def test_confusion_rates() -> None:
    c = Confusion.of(3, 1, 1, 5)
    assert (c.precision, c.recall, c.f1) == (0.75, 0.75, 0.75)
    assert Confusion.of(0, 0, 4, 2).precision is None
    assert Confusion.of(0, 2, 4, 2).f1 == 0.0


# ---- the command ---------------------------------------------------------------------------
def test_cli_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["rules", "backtest", "default", str(LABELLED), "--name-column", "seller_name"]
    assert main([*args, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    api = ns.backtest(LABELLED, name_column="seller_name")
    assert doc == json.loads(json.dumps(api.to_dict())) | {"gate": doc["gate"]}
    assert doc["gate"]["passed"] is True
    assert main(args) == 0
    text = capsys.readouterr().out
    assert text.strip() == api.format()


def test_cli_gate_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    api = ns.backtest(LABELLED, name_column="seller_name", tier="high")
    assert api.counts.precision is not None and api.counts.recall is not None
    args = ["rules", "backtest", "default", str(LABELLED), "--name-column", "seller_name",
            "--tier", "high"]  # fmt: skip
    below = f"{api.counts.precision + 0.01:.3f}"
    assert main([*args, "--min-precision", below]) == 3
    out, err = capsys.readouterr()
    assert f"precision {api.counts.precision:.3f} at tier high is below" in err
    assert "gate: precision" in out
    at = f"{api.counts.precision - 0.001:.3f}"
    assert main([*args, "--min-precision", at, "--min-recall", "0%"]) == 0
    assert "gate: passed" in capsys.readouterr().out
    assert main([*args, "--min-recall", "100%", "--format", "json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert doc["gate"]["passed"] is False and doc["gate"]["failures"]


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--label-column", "label"], 1, "label column 'label' not found; the input has columns:"),
        (["--tier", "urgent"], 1, "unknown tier 'urgent'; the pack has: high, medium, low"),
        (["--min-precision", "1.5"], 2, "must be between 0 and 1"),
        (["--url-column", "link"], 1, "column 'link' not found"),
    ],
)
def test_cli_errors_are_one_line(
    extra: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) if code == 2 else _nothing():
        assert main(["rules", "backtest", "default", str(LABELLED), *extra]) == code
    err = capsys.readouterr().err
    assert message in err
    if code == 1:
        assert err.count("\n") == 1


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_readme_shows_the_real_backtests(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's backtest transcripts are what the command prints today."""
    monkeypatch.chdir(REPO)
    for pack in ("default", "rules/examples/apparel-brand.yaml"):
        command = (
            f"notorious-screen rules backtest {pack} examples/labelled.csv "
            "--name-column seller_name"
        )
        shown = re.search(re.escape("$ " + command) + r"\n(.*?)```", README, flags=re.S)
        assert shown is not None, command
        assert main(command.split()[1:]) == 0
        printed = capsys.readouterr().out
        assert shown.group(1).strip() == printed.strip()
