"""Rule packs: loading errors with their exact location, operators, extends, brand, scoring."""

from __future__ import annotations

import pickle
import re
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notorious_screen import rules as rules_mod
from notorious_screen._regex import SafeRegex
from notorious_screen.cli import main
from notorious_screen.errors import Location, RulePackError
from notorious_screen.rules import (
    AllOf,
    AnyOf,
    FieldTest,
    Not,
    Rule,
    RulePack,
    bundled_packs,
    check_rule_pack,
    load_rule_pack,
    run_examples,
)
from notorious_screen.schema import FIELDS, BrandProfile, Evaluation, Reason

RULES = Path(__file__).resolve().parent / "data" / "rules"


def fixture(name: str) -> str:
    return str(RULES / name)


def write_pack(tmp_path: Path, body: str, name: str = "pack.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return str(path)


def one_rule(tmp_path: Path, when: str, *, extra: str = "") -> RulePack:
    """A pack with a single 10-point rule ``r`` whose ``when`` is the given YAML flow text."""
    return load_rule_pack(
        write_pack(
            tmp_path,
            f"""\
            version: 1
            name: t
            tiers: {{low: 10}}
            rules:
              - id: r
                description: the rule
                when: {when}
                score: 10
            {extra}""",
        )
    )


def fires(pack: RulePack, **record: Any) -> bool:
    return [r.rule_id for r in pack.evaluate(record).reasons] == ["r"]


# ---- errors: each failure mode with its exact location and message ----------------------------
ERROR_CASES = {
    "unknown_keys.yaml": [
        "4:1: unknown top-level key 'rulez'; did you mean 'rules'?",
        "8:12: unknown field 'listd'; did you mean 'listed'?",
        "10:5: unknown rule key 'tag'; did you mean 'tags'?",
        "14:20: unknown operator 'greater'; did you mean 'gte'?",
    ],
    "bad_types.yaml": [
        "7:30: 'country' is a string field; expected a string, got integer (quote it: '5')",
        "11:22: operator 'gt' does not apply to string field 'country' (use equals, in, not_in, "
        "exists, contains, startswith, endswith, matches)",
        "15:18: unknown kind 'ecommerce'; did you mean 'e-commerce'?",
        "20:12: 'score' must be an integer, got string",
    ],
    "duplicate_key.yaml": ["9:5: duplicate key 'score' (first defined at line 8)"],
    "duplicate_id.yaml": ["9:9: duplicate rule id 'same' (first defined at line 5)"],
    "bad_regex.yaml": [
        "7:28: invalid regular expression: missing ), unterminated subpattern at position 0",
        "11:28: regular expression uses a backreference, which the linear-time matcher does "
        "not support",
        "15:28: regular expression uses a lookahead/lookbehind, which the linear-time matcher "
        "does not support",
    ],
    "no_version.yaml": ["1:1: missing 'version: 1' (the rule-pack format version)"],
    "version_2.yaml": ["1:10: unsupported rule-pack version 2; this library reads version 1"],
    "bad_examples.yaml": [
        "11:11: unknown tier 'hihg'; did you mean 'high'?",
        "13:11: unknown tier 'none'; write 'tier: null' for no tier",
        "15:13: unknown rule 'listed-markt'; did you mean 'listed-market'?",
    ],
    "bad_disable.yaml": ["4:11: cannot disable unknown rule 'listd'; did you mean 'listed'?"],
    "no_tiers.yaml": [
        "1:1: no 'tiers': give tiers (high: 70, medium: 40, low: 10) or extend a pack that has them"
    ],
    "bad_brand.yaml": [
        "5:17: 'https://acme.com/' is not a host name (write 'acme.com', without scheme or path)",
        "6:17: unknown watch list 'ustr-nlm'; did you mean 'ustr-nml'?",
        "7:3: unknown brand key 'authorised_hosts'; did you mean 'authorized_hosts'?",
    ],
    "unknown_bundled.yaml": [
        "3:10: unknown bundled rule pack 'defualt'; did you mean 'default'? "
        "(give a path ending in .yaml for a file)"
    ],
}


@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_check_lists_every_error_with_its_location(name: str) -> None:
    path = fixture(name)
    expected = [f"{path}:{tail}" for tail in ERROR_CASES[name]]
    errors = check_rule_pack(path)
    assert [str(e) for e in errors] == expected
    assert all(isinstance(e, RulePackError) for e in errors)


@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_load_raises_the_first_error(name: str) -> None:
    path = fixture(name)
    with pytest.raises(RulePackError) as info:
        load_rule_pack(path)
    assert str(info.value) == f"{path}:{ERROR_CASES[name][0]}"
    assert info.value.location is not None and info.value.location.path == path


def test_yaml_syntax_error_keeps_its_location() -> None:
    # The wording is the YAML parser's (libyaml or pure Python); the location is ours.
    path = fixture("broken_yaml.yaml")
    errors = check_rule_pack(path)
    assert len(errors) == 1
    assert str(errors[0]).startswith(f"{path}:3:1: invalid YAML: ")
    with pytest.raises(RulePackError, match="invalid YAML"):
        load_rule_pack(path)


def test_error_pickles_with_its_location() -> None:
    with pytest.raises(RulePackError) as info:
        load_rule_pack(fixture("duplicate_id.yaml"))
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value)
    assert again.location == Location(fixture("duplicate_id.yaml"), 9, 9)


def test_extends_cycle_names_the_chain_at_the_closing_link() -> None:
    a, b = fixture("cycle_a.yaml"), fixture("cycle_b.yaml")
    errors = [str(e) for e in check_rule_pack(a)]
    assert errors == [f"{b}:3:10: extends cycle: {a} -> {b} -> {a}"]


def test_missing_file_and_unknown_bundled_name() -> None:
    missing = fixture("nope.yaml")
    with pytest.raises(RulePackError, match=r"nope\.yaml: cannot read rule pack"):
        load_rule_pack(missing)
    with pytest.raises(RulePackError) as info:
        load_rule_pack("defualt")
    assert str(info.value) == (
        "unknown bundled rule pack 'defualt'; did you mean 'default'? "
        "(give a path ending in .yaml for a file)"
    )


def test_validation_goes_on_after_an_error_per_rule(tmp_path: Path) -> None:
    path = write_pack(
        tmp_path,
        """\
        version: 1
        name: many
        tiers: {high: 70, medium: 70}
        rules:
          - id: Bad Id
            description: bad id
            when: {listed: true}
            score: 1
          - id: ok
            description: fine
            when: {listed: yes}
            score: 1
          - description: no id, no when, no score
          - id: clear-with-score
            description: both
            when: {brand_own_domain: true}
            clear: true
            score: 5
          - id: empty-when
            description: empty
            when: {}
            score: 1
          - id: null-value
            description: a field with no value
            when: {country: null}
            score: 1
          - id: op-without-field
            description: an operator where a field belongs
            when: {equals: 3}
            score: 1
          - id: list-equals
            description: equals on a list field
            when: {listed_years: 2021}
            score: 1
          - id: bad-message
            description: the message names an unknown field
            message: "{markt} is listed"
            when: {listed: true}
            score: 1
        """,
    )
    got = [str(e).removeprefix(path + ":") for e in check_rule_pack(path)]
    assert got == [
        "3:27: tier 'medium' has the same threshold as tier 'high'",
        "5:9: rule id must be 1-64 characters of a-z, 0-9, '.', '_', '-' starting with a letter "
        "or digit, got 'Bad Id'",
        "11:20: 'listed' is a boolean field; expected true or false, got string",
        "13:5: rule is missing 'id'",
        "13:5: rule is missing 'score'",
        "13:5: rule is missing 'when'",
        "18:5: a 'clear' rule has no 'score' (it forces the score to 0)",
        "21:11: a condition is a non-empty mapping of field tests and all/any/not, got an "
        "empty mapping",
        "25:21: 'country' has no value; to test for a missing value write "
        "'country: {exists: false}'",
        "29:12: operator 'equals' needs a field: write 'FIELD: {equals: VALUE}'",
        "33:26: 'listed_years' is a list of integers: write 'listed_years: {contains: 2021}'",
        "37:14: message: unknown field '{markt}'; did you mean 'market'?",
    ]


def test_values_of_string_fields_stay_strings(tmp_path: Path) -> None:
    # YAML 1.2 core: NO is a string, so a Norwegian country code works unquoted.
    pack = one_rule(tmp_path, "{country: NO}")
    assert fires(pack, country="NO")
    assert not fires(pack, country=False)
    # A number where a string belongs is an error, not a silent coercion.
    errors = check_rule_pack(write_pack(tmp_path, _single("{name: {equals: 5}}"), "n.yaml"))
    assert [e.message for e in errors] == [
        "'name' is a string field; expected a string, got integer (quote it: '5')"
    ]


def _single(when: str) -> str:
    return f"""\
    version: 1
    name: t
    tiers: {{low: 10}}
    rules:
      - id: r
        description: d
        when: {when}
        score: 10
    """


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (
            "{similarity: {gte: '90'}}",
            "'similarity' is a number field; expected a number, got string",
        ),
        (
            "{listed: {in: [true]}}",
            "operator 'in' does not apply to boolean field 'listed' (use equals, exists)",
        ),
        (
            "{listed_years: {gt: 2020}}",
            "operator 'gt' does not apply to list of integers field "
            "'listed_years' (use in, not_in, exists, contains)",
        ),
        (
            "{listed_years: {contains: '2021'}}",
            "'listed_years' is a list of integers; expected an integer, got string",
        ),
        ("{host: {in: []}}", "'in' takes a non-empty list, got list"),
        ("{host: {exists: 1}}", "'exists' takes true or false, got integer"),
        ("{match: {in: [exact, variantt]}}", "unknown match 'variantt'; did you mean 'variant'?"),
        ("{variant: homoglyf}", "unknown variant 'homoglyf'; did you mean 'homoglyph'?"),
        ("{host: {matches: 5}}", "'matches' takes a regular expression string, got integer"),
        ("{host: {contains: [a]}}", "'contains' takes a string, got list"),
        ("{all: []}", "'all' takes a non-empty list of conditions"),
        (
            "{not: [listed: true]}",
            "a condition is a non-empty mapping of field tests and all/any/not, got list",
        ),
        ("{lsited: true}", "unknown field 'lsited'; did you mean 'listed'?"),
    ],
)
def test_operator_and_value_type_errors(tmp_path: Path, when: str, message: str) -> None:
    errors = check_rule_pack(write_pack(tmp_path, _single(when)))
    assert [e.message for e in errors] == [message]
    assert errors[0].location is not None and errors[0].location.line == 7


def test_limits_depth_rules_regex_length(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = "{listed: true}"
    for _ in range(rules_mod.LIMITS.max_depth + 1):
        deep = "{not: " + deep + "}"
    errors = check_rule_pack(write_pack(tmp_path, _single(deep), "deep.yaml"))
    assert [e.message for e in errors] == ["condition nested deeper than 32 levels"]

    long_rx = "{host: {matches: '" + "a" * 1001 + "'}}"
    errors = check_rule_pack(write_pack(tmp_path, _single(long_rx), "long.yaml"))
    assert [e.message for e in errors] == ["regular expression is longer than 1000 characters"]
    big = "{host: {matches: '(?:a{1000}){20}'}}"
    errors = check_rule_pack(write_pack(tmp_path, _single(big), "big.yaml"))
    assert [e.message for e in errors] == [
        "regular expression is too large once repeats are expanded (more than 10000 states)"
    ]

    monkeypatch.setattr(rules_mod, "LIMITS", rules_mod._Limits(max_rules=2))
    three = "".join(
        f"  - {{id: r{i}, description: d, when: {{listed: true}}, score: 1}}\n" for i in range(3)
    )
    path = write_pack(tmp_path, "version: 1\nname: t\ntiers: {low: 1}\nrules:\n" + three, "n.yaml")
    assert [str(e) for e in check_rule_pack(path)] == [f"{path}:5:3: more than 2 rules"]


def test_extends_depth_limit(tmp_path: Path) -> None:
    (tmp_path / "p0.yaml").write_text("version: 1\nname: p0\ntiers: {low: 1}\n")
    for i in range(1, 11):
        (tmp_path / f"p{i}.yaml").write_text(f"version: 1\nname: p{i}\nextends: p{i - 1}.yaml\n")
    load_rule_pack(tmp_path / "p8.yaml")  # 8 extends links: allowed
    errors = check_rule_pack(tmp_path / "p10.yaml")
    assert [str(e) for e in errors] == [
        f"{tmp_path / 'p2.yaml'}:3:10: extends chain is deeper than 8 packs"
    ]


# ---- operators -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("when", "true_record", "false_record"),
    [
        ("{country: {equals: CN}}", {"country": "CN"}, {"country": "cn"}),
        ("{country: CN}", {"country": "CN"}, {"country": "HK"}),
        ("{listed: true}", {"listed": True}, {"listed": False}),
        ("{listed: false}", {"listed": False}, {"listed": True}),
        ("{similarity: {equals: 100}}", {"similarity": 100.0}, {"similarity": 99.5}),
        ("{country: {in: [CN, HK]}}", {"country": "HK"}, {"country": "US"}),
        ("{country: [CN, HK]}", {"country": "CN"}, {"country": "US"}),
        ("{country: {not_in: [CN, HK]}}", {"country": "US"}, {"country": "CN"}),
        ("{host: {contains: taobao}}", {"host": "item.taobao.com"}, {"host": "tmall.com"}),
        ("{host: {startswith: item.}}", {"host": "item.taobao.com"}, {"host": "taobao.com"}),
        ("{host: {startswith: [m., item.]}}", {"host": "m.tb.cn"}, {"host": "tb.cn"}),
        ("{host: {endswith: .ru}}", {"host": "aliexpress.ru"}, {"host": "aliexpress.com"}),
        ("{host: {endswith: [.ru, .cn]}}", {"host": "tb.cn"}, {"host": "tb.com"}),
        ("{path: {matches: '^/s/[0-9a-z]+$'}}", {"path": "/s/1abc"}, {"path": "/s/1abc/x"}),
        ("{path: {matches: '(?i)ITEM'}}", {"path": "/item.htm"}, {"path": "/items"[:3]}),
        ("{similarity: {gt: 90}}", {"similarity": 90.5}, {"similarity": 90.0}),
        ("{similarity: {gte: 90}}", {"similarity": 90.0}, {"similarity": 89.9}),
        ("{editions_listed: {lt: 3}}", {"editions_listed": 2}, {"editions_listed": 3}),
        ("{editions_listed: {lte: 3}}", {"editions_listed": 3}, {"editions_listed": 4}),
        ("{owner: {exists: true}}", {"owner": "alibaba"}, {"owner": None}),
        ("{owner: {exists: false}}", {}, {"owner": "alibaba"}),
        ("{listed_years: {contains: 2021}}", {"listed_years": [2020, 2021]}, {"listed_years": []}),
        ("{listed_years: {in: [2019, 2024]}}", {"listed_years": [2019]}, {"listed_years": [2021]}),
        ("{listed_years: [2019, 2024]}", {"listed_years": [2024]}, {"listed_years": [2021]}),
        ("{listed_years: {not_in: [2019]}}", {"listed_years": []}, {"listed_years": [2019, 2020]}),
        ("{similarity: {gte: 80, lt: 90}}", {"similarity": 85}, {"similarity": 90}),
    ],
)
def test_each_operator_true_and_false(
    tmp_path: Path, when: str, true_record: dict[str, Any], false_record: dict[str, Any]
) -> None:
    pack = one_rule(tmp_path, when)
    assert fires(pack, **true_record)
    assert not fires(pack, **false_record)


@pytest.mark.parametrize(
    "when",
    [
        "{country: CN}",
        "{country: {in: [CN]}}",
        "{country: {not_in: [CN]}}",
        "{country: {contains: C}}",
        "{country: {startswith: C}}",
        "{country: {endswith: N}}",
        "{country: {matches: '.*'}}",
        "{similarity: {gt: -1}}",
        "{similarity: {gte: 0}}",
        "{similarity: {lt: 1000}}",
        "{similarity: {lte: 1000}}",
        "{listed: false}",
        "{listed_years: {contains: 2021}}",
        "{listed_years: {in: [2021]}}",
        "{listed_years: {not_in: [2021]}}",
        "{country: {exists: true}}",
    ],
)
def test_a_field_without_value_never_matches(tmp_path: Path, when: str) -> None:
    pack = one_rule(tmp_path, when)
    assert not fires(pack)  # absent
    field = when.split(":", 1)[0].strip("{ ")
    assert not fires(pack, **{field: None})


def test_only_exists_false_and_not_see_a_missing_value(tmp_path: Path) -> None:
    assert fires(one_rule(tmp_path, "{country: {exists: false}}"), country=None)
    # `not` inverts the result, so it is true for a missing value; not_in is not.
    negated = one_rule(tmp_path, "{not: {country: CN}}")
    assert fires(negated, country=None)
    assert fires(negated, country="US")
    assert not fires(negated, country="CN")


def test_combinators(tmp_path: Path) -> None:
    pack = one_rule(
        tmp_path,
        "{all: [{listed: true}, {any: [{kind: e-commerce}, {kind: b2b}]}], not: {country: US}}",
    )
    assert fires(pack, listed=True, kind="b2b", country="CN")
    assert fires(pack, listed=True, kind="e-commerce")
    assert not fires(pack, listed=True, kind="e-commerce", country="US")
    assert not fires(pack, listed=True, kind="torrent")
    assert not fires(pack, listed=False, kind="b2b")
    many = one_rule(tmp_path, "{any: [{country: A}, {country: B}, {country: C}]}")
    assert [fires(many, country=c) for c in "ABCD"] == [True, True, True, False]
    all3 = one_rule(tmp_path, "{all: [{country: A}, {listed: true}, {owner: x}]}")
    assert fires(all3, country="A", listed=True, owner="x")
    assert not fires(all3, country="A", listed=True, owner="y")


def test_programmatic_pack_matches_the_yaml_one(tmp_path: Path) -> None:
    cond = AllOf(
        (
            FieldTest("listed", "equals", True),
            AnyOf(
                (FieldTest("kind", "in", ("e-commerce",)), Not(FieldTest("owner", "exists", True)))
            ),
        )
    )
    pack = RulePack(name="t", rules=(Rule("r", "the rule", cond, score=10),), tiers={"low": 10})
    yaml_pack = one_rule(
        tmp_path, "{listed: true, any: [{kind: [e-commerce]}, {not: {owner: {exists: true}}}]}"
    )
    assert pack.content_hash == yaml_pack.content_hash
    with pytest.raises(RulePackError, match="unknown field 'lsted'; did you mean 'listed'"):
        RulePack(name="t", rules=(Rule("r", "d", FieldTest("lsted", "equals", True)),), tiers={})


# ---- evaluation: reasons, tiers, clamping, clear ---------------------------------------------
def test_reasons_in_pack_order_with_rendered_messages(tmp_path: Path) -> None:
    pack = load_rule_pack(
        write_pack(
            tmp_path,
            """\
            version: 1
            name: t
            tiers: {high: 70, medium: 40, low: 10}
            rules:
              - id: b-listed
                description: listed
                message: "{market_name} listed in {listed_years} ({similarity}) {{literal}}"
                when: {listed: true}
                score: 50
              - id: a-kind
                description: a shop
                when: {kind: e-commerce}
                score: 30
              - id: zero
                description: explains without points
                when: {owner: {exists: false}}
                score: 0
            """,
        )
    )
    ev = pack.evaluate(
        {
            "listed": True,
            "kind": "e-commerce",
            "market_name": "Taobao",
            "listed_years": [2020, 2021],
            "similarity": 100.0,
        }
    )
    assert ev == Evaluation(
        score=80,
        tier="high",
        reasons=(
            Reason("b-listed", 50, "Taobao listed in 2020, 2021 (100) {literal}"),
            Reason("a-kind", 30, "a shop"),
            Reason("zero", 0, "explains without points"),
        ),
        cleared=False,
    )
    assert pack.fields_used == frozenset(
        {"listed", "kind", "owner", "market_name", "listed_years", "similarity"}
    )
    assert pack.evaluate({}).reasons == (Reason("zero", 0, "explains without points"),)
    missing = pack.evaluate({"listed": True})
    assert missing.reasons[0].message == "? listed in ? (?) {literal}"


@pytest.mark.parametrize(
    ("points", "score", "tier"),
    [
        ([50, 30, 40], 100, "high"),  # clamped at 100
        ([-50, 20], 0, None),  # clamped at 0
        ([70], 70, "high"),  # a threshold is reached when equal
        ([69], 69, "medium"),
        ([40], 40, "medium"),
        ([10], 10, "low"),
        ([9], 9, None),  # below every tier
        ([], 0, None),
    ],
)
def test_tiers_and_clamping(points: list[int], score: int, tier: str | None) -> None:
    rules = tuple(
        Rule(f"r{i}", "d", FieldTest("listed", "equals", True), score=p)
        for i, p in enumerate(points)
    )
    pack = RulePack(name="t", rules=rules, tiers={"low": 10, "high": 70, "medium": 40})
    ev = pack.evaluate({"listed": True})
    assert (ev.score, ev.tier) == (score, tier)
    assert list(pack.tiers) == ["high", "medium", "low"]
    assert pack.tier_for(score) == tier


def test_clear_forces_score_zero_and_no_tier_but_keeps_reasons() -> None:
    pack = RulePack(
        name="t",
        rules=(
            Rule("listed", "listed", FieldTest("listed", "equals", True), score=90),
            Rule("own", "own domain", FieldTest("brand_own_domain", "equals", True), clear=True),
        ),
        tiers={"high": 70},
    )
    ev = pack.evaluate({"listed": True, "brand_own_domain": True})
    assert ev == Evaluation(
        0, None, (Reason("listed", 90, "listed"), Reason("own", 0, "own domain")), True
    )
    assert pack.evaluate({"listed": True}) == Evaluation(
        90, "high", (Reason("listed", 90, "listed"),), False
    )


# ---- extends -------------------------------------------------------------------------------
def test_extends_merges_by_id_disables_and_overrides_brand_fields() -> None:
    child = load_rule_pack(fixture("child.yaml"))
    assert child.name == "child"
    assert child.extends == (fixture("base.yaml"),)
    assert [r.id for r in child.rules] == ["listed", "kind-shop", "new-rule"]
    assert child.rule("kind-shop").score == 25  # replaced in place
    assert child.rule("kind-shop").description == "a shop weighs more here"
    with pytest.raises(KeyError):
        child.rule("lookalike")  # disabled
    assert dict(child.tiers) == {"high": 70, "medium": 40, "low": 10}  # inherited
    # brand fields: own_domains replaced, the others inherited
    assert child.brand == BrandProfile(
        name="Base Brand", own_domains=("child.example",), watch_lists=("ustr-nml",)
    )
    ev = child.evaluate({"listed": True, "kind": "b2b", "country": "NO", "match": "variant"})
    assert [r.rule_id for r in ev.reasons] == ["listed", "kind-shop", "new-rule"]
    assert ev.score == 80


def test_extends_relative_to_the_extending_file_and_tiers_replaced_whole() -> None:
    grand = load_rule_pack(fixture("sub/grandchild.yaml"))
    assert grand.extends == (fixture("base.yaml"), fixture("child.yaml"))
    assert dict(grand.tiers) == {"top": 90}
    assert [r.id for r in grand.rules] == ["listed", "kind-shop", "new-rule"]
    assert grand.evaluate({"listed": True, "kind": "b2b"}).tier is None  # 75 < 90


def test_extends_a_bundled_pack_by_name(tmp_path: Path) -> None:
    default = load_rule_pack("default")
    path = write_pack(
        tmp_path,
        """\
        version: 1
        name: mine
        extends: default
        disable: [piracy-kind]
        brand: {own_domains: [acme.example]}
        rules:
          - {id: listed-market, description: listed weighs more, when: {listed: true}, score: 60}
        """,
    )
    mine = load_rule_pack(path)
    ids = [r.id for r in default.rules]
    ids.remove("piracy-kind")
    assert [r.id for r in mine.rules] == ids
    assert mine.rule("listed-market").score == 60
    assert mine.brand.own_domains == ("acme.example",)
    assert mine.brand.watch_lists == default.brand.watch_lists
    assert mine.examples == ()  # examples are not inherited
    assert mine.content_hash != default.content_hash


def test_disable_needs_extends_and_cannot_also_define(tmp_path: Path) -> None:
    path = write_pack(
        tmp_path,
        """\
        version: 1
        name: t
        tiers: {low: 1}
        disable: [x]
        """,
    )
    assert [str(e) for e in check_rule_pack(path)] == [
        f"{path}:4:1: 'disable' removes inherited rules; it needs 'extends'"
    ]
    path = write_pack(
        tmp_path,
        f"""\
        version: 1
        name: t
        extends: {fixture("base.yaml")}
        disable: [listed]
        rules:
          - {{id: listed, description: again, when: {{listed: true}}, score: 1}}
        examples:
          - {{url: x.example, rules: [lookalike]}}
        """,
    )
    assert [str(e) for e in check_rule_pack(path)] == [
        f"{path}:6:5: rule 'listed' is both disabled and defined in this pack"
    ]


def test_not_rules_may_name_a_disabled_rule_but_rules_may_not(tmp_path: Path) -> None:
    path = write_pack(
        tmp_path,
        f"""\
        version: 1
        name: t
        extends: {fixture("base.yaml")}
        disable: [lookalike]
        examples:
          - {{url: a.example, not_rules: [lookalike]}}
          - {{url: a.example, rules: [lookalike]}}
        """,
    )
    assert [str(e) for e in check_rule_pack(path)] == [
        f"{path}:7:30: rule 'lookalike' is disabled in this pack, so it cannot fire"
    ]


# ---- brand profile ---------------------------------------------------------------------------
def test_brand_profile_own_domains_and_authorized_sellers() -> None:
    brand = BrandProfile(
        name="Acme",
        own_domains=("acme.com",),
        authorized_hosts=("acme.tmall.com",),
        authorized_stores=("shopee.sg/acme_official", "https://www.lazada.sg/shop/acme/"),
        authorized_store_ids=("12345",),
    )
    assert brand.is_own_domain("acme.com")
    assert brand.is_own_domain("shop.ACME.com.")
    assert not brand.is_own_domain("notacme.com")
    assert not brand.is_own_domain(None)
    assert brand.is_authorized(host="acme.tmall.com")
    assert brand.is_authorized(host="m.acme.tmall.com")
    assert not brand.is_authorized(host="tmall.com")
    assert brand.is_authorized(url="https://shopee.sg/acme_official")
    assert brand.is_authorized(url="https://shopee.sg/Acme_Official/item/1?x=1")
    assert brand.is_authorized(url="http://www.shopee.sg/acme_official/")
    assert not brand.is_authorized(url="https://shopee.sg/acme_official2")
    assert not brand.is_authorized(url="https://shopee.com.my/acme_official")
    assert brand.is_authorized(url="lazada.sg/shop/acme")
    assert not brand.is_authorized(url="https://lazada.sg/shop/other")
    assert brand.is_authorized(store_id="12345")
    assert not brand.is_authorized(store_id="1234")
    assert brand.has_url_rules
    assert not BrandProfile(authorized_hosts=("a.b",)).has_url_rules


def test_brand_profile_from_yaml_normalises_hosts(tmp_path: Path) -> None:
    path = write_pack(
        tmp_path,
        """\
        version: 1
        name: t
        tiers: {low: 1}
        brand:
          name: Bücher
          own_domains: [Bücher.example, ACME.com.]
          authorized_store_ids: [880123, "abc"]
        """,
    )
    brand = load_rule_pack(path).brand
    assert brand.own_domains == ("xn--bcher-kva.example", "acme.com")
    assert brand.authorized_store_ids == ("880123", "abc")
    assert brand.is_own_domain("www.bücher.example")


# ---- content hash and pickling ---------------------------------------------------------------
def test_content_hash_is_stable_and_follows_content(tmp_path: Path) -> None:
    a = load_rule_pack(fixture("child.yaml"))
    b = load_rule_pack(fixture("child.yaml"))
    assert a.content_hash == b.content_hash
    assert re.fullmatch(r"[0-9a-f]{64}", a.content_hash)
    assert a.short_hash == a.content_hash[:12]
    first = write_pack(
        tmp_path,
        """\
        version: 1
        name: t
        tiers: {high: 70, low: 10}
        rules:
          - id: r
            description: d
            when: {listed: true, kind: [b2b]}
            score: 10
        examples:
          - {url: a.example, tier: null}
        """,
        "first.yaml",
    )
    # Same policy: comments, key order, flow/block style, tier order and examples differ.
    same = write_pack(
        tmp_path,
        """\
        # a comment
        name: t
        version: 1
        rules:
          - score: 10
            when:
              listed: true
              kind: {in: [b2b]}
            description: d
            id: r
        tiers:
          low: 10
          high: 70
        """,
        "same.yaml",
    )
    changed = Path(first).read_text().replace("score: 10", "score: 11")
    other = write_pack(tmp_path, changed, "changed.yaml")
    assert load_rule_pack(first).content_hash == load_rule_pack(same).content_hash
    assert load_rule_pack(first).content_hash != load_rule_pack(other).content_hash


def test_pack_pickles_and_evaluates_the_same() -> None:
    pack = load_rule_pack("apparel-brand")
    again = pickle.loads(pickle.dumps(pack))
    record = {
        "listed": True,
        "match": "exact",
        "kind": "e-commerce",
        "market_name": "Taobao",
        "listing_status": "continuing",
        "path": "/item.htm",
        "editions_listed": 3,
    }
    assert again.evaluate(record) == pack.evaluate(record)
    assert again.content_hash == pack.content_hash
    assert again.fields_used == pack.fields_used
    assert again.source == pack.source


# ---- regular expressions: linear time, same answers as re --------------------------------------
EVIL = {  # pattern -> does it match "a" * n + "!"
    "(a+)+$": False,
    "(a|a)*$": True,  # the empty match at the end
    "(a|aa)+$": False,
    "(.*a){20}": True,
    ".*a.*a.*a.*b": False,
    r"^(\w+\s?)*$": False,
}


@pytest.mark.parametrize("pattern", sorted(EVIL))
def test_evil_regexes_run_in_linear_time(pattern: str) -> None:
    rx = SafeRegex(pattern)
    small = "a" * 12 + "!"  # short enough for the backtracking engine
    assert rx.search(small) == bool(re.search(pattern, small))
    # 100,000 characters: re would not finish; the work counter (NFA states visited on memo
    # misses, deterministic) shows the cost stays flat however long the subject is.
    big = "a" * 100_000 + "!"
    before = rx.work
    assert rx.search(big) is EVIL[pattern]
    assert rx.work - before < 10_000


def test_unsupported_regex_features_are_refused() -> None:
    for pattern, feature in [
        (r"(a)\1", "a backreference"),
        ("a(?=b)", "a lookahead/lookbehind"),
        ("(?<!a)b", "a negative lookahead/lookbehind"),
        ("(a)?(?(1)a|b)", "a conditional group"),
        ("(?>a+)", "an atomic group"),
        ("a++", "a possessive quantifier"),
    ]:
        with pytest.raises(ValueError, match=f"uses {re.escape(feature)}"):
            SafeRegex(pattern)


PATTERNS = [
    "ab",
    "^ab",
    "ab$",
    r"\bab\b",
    r"\Bb",
    "(?i)AB[c-e]",
    "a{2,3}b",
    "[^a]b$",
    "x?$",
    "(?m)^b",
    "(?s).b",
    r"\d+\w",
    "(ab|a)(c|bcd)",
    "",
    r"[\W_]",
    "(?i:x)y",
    "a|",
    "(a*)*b",
    r"\Ab\Z",
    "^$",
    r"(?m)a$",
    "a.c",
    r"[a-c]{2}\b",
    r"(?a)\w\b",
    r"\s",
    "(?x) a  b # comment",
    "[^\n]*!$",
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PATTERNS), st.text(alphabet="abcxy_!1 \nABé", max_size=12))
def test_safe_regex_agrees_with_re(pattern: str, text: str) -> None:
    assert SafeRegex(pattern).search(text) == bool(re.search(pattern, text))


# ---- the default pack ----------------------------------------------------------------------
def _record(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict.fromkeys(FIELDS)
    base.update(
        listed=False,
        match="none",
        similarity=0.0,
        brand_own_domain=False,
        brand_lookalike=False,
        brand_authorized=False,
    )
    base.update(fields)
    return base


LISTED = _record(
    market="taobao",
    market_name="Taobao",
    kind="e-commerce",
    owner="alibaba",
    listed=True,
    listed_years=[2019, 2020, 2021],
    listing_status="continuing",
    listed_before=True,
    editions_listed=3,
    owner_listed=True,
    match="exact",
    similarity=100.0,
    host="taobao.com",
)
LISTED_PIRACY = _record(
    market="rutracker",
    kind="torrent",
    listed=True,
    match="exact",
    listed_years=[2021],
    listing_status="new",
    listed_before=False,
    editions_listed=1,
    similarity=100.0,
    host="rutracker.org",
)
LOOKALIKE = _record(
    market="aliexpress",
    kind="e-commerce",
    owner="alibaba",
    listed=True,
    listed_years=[2021],
    listing_status="new",
    listed_before=False,
    editions_listed=1,
    owner_listed=True,
    match="variant",
    variant="tld-swap",
    imitates="aliexpress.com",
    similarity=80.0,
    host="aliexpress.biz",
)
SIBLING = _record(
    market="tmall",
    market_name="Tmall",
    kind="e-commerce",
    owner="alibaba",
    owner_name="Alibaba Group",
    listed=False,
    listed_years=[],
    listed_before=False,
    editions_listed=0,
    owner_listed=True,
    match="exact",
    similarity=100.0,
    host="tmall.com",
)
UNRELATED = _record(host="example-shop.de", registrable_domain="example-shop.de")


def test_default_pack_ordering_on_synthetic_records() -> None:
    pack = load_rule_pack("default")
    listed = pack.evaluate(LISTED)
    piracy = pack.evaluate(LISTED_PIRACY)
    lookalike = pack.evaluate(LOOKALIKE)
    sibling = pack.evaluate(SIBLING)
    unrelated = pack.evaluate(UNRELATED)
    assert min(listed.score, piracy.score, lookalike.score) > sibling.score > unrelated.score
    assert unrelated == Evaluation(0, None, (), False)
    assert listed.tier == "high"
    assert [r.rule_id for r in lookalike.reasons] == [
        "lookalike-of-listed-market",
        "counterfeit-kind",
    ]
    assert "listed-market" not in {r.rule_id for r in lookalike.reasons}
    assert [r.rule_id for r in sibling.reasons] == ["owner-listed-sibling", "counterfeit-kind"]
    # counterfeit kinds weigh more than piracy kinds for a consumer-goods brand
    assert pack.rule("counterfeit-kind").score > pack.rule("piracy-kind").score


def test_default_pack_lookalike_weights_and_brand_facts() -> None:
    pack = load_rule_pack("default")
    weak = pack.evaluate(LOOKALIKE)
    strong = pack.evaluate({**LOOKALIKE, "variant": "homoglyph", "similarity": 92.0})
    assert strong.score > weak.score
    brand_lookalike = pack.evaluate({**UNRELATED, "brand_lookalike": True})
    assert brand_lookalike.tier == "high"
    own = pack.evaluate({**LISTED, "brand_own_domain": True})
    authorized = pack.evaluate({**LISTED, "brand_authorized": True})
    assert own.cleared and authorized.cleared
    assert (own.score, own.tier, authorized.score, authorized.tier) == (0, None, 0, None)
    earlier = pack.evaluate({**LISTED, "listed": False, "listing_status": None})
    assert [r.rule_id for r in earlier.reasons] == ["listed-earlier-only", "counterfeit-kind"]
    bad = pack.evaluate(_record(error="unsupported_scheme"))
    assert bad.reasons == (
        Reason("unusable-input", 0, "the URL could not be used (unsupported_scheme)"),
    )


def test_default_pack_scores_a_name_mention_low_and_never_as_the_market() -> None:
    pack = load_rule_pack("default")
    spelled = pack.evaluate(
        {**UNRELATED, "name_mentions": "shopee", "name_mentions_name": "Shopee",
         "name_similarity": 100.0}
    )  # fmt: skip
    assert [r.rule_id for r in spelled.reasons] == ["name-mentions-market"]
    assert spelled.score == 5 and spelled.tier is None
    assert "mentions Shopee" in spelled.reasons[0].message
    misspelt = pack.evaluate(
        {**UNRELATED, "name_mentions": "shopee", "name_mentions_name": "Shopee",
         "name_similarity": 83.3}
    )  # fmt: skip
    assert misspelt.reasons == () and misspelt.score == 0


def test_bundled_packs_load_cleanly() -> None:
    names = bundled_packs()
    assert {"default", "apparel-brand", "media-brand"} <= set(names)
    for name in names:
        assert check_rule_pack(name) == []
        pack = load_rule_pack(name)
        assert pack.examples, f"{name} carries no examples"


# ---- examples ------------------------------------------------------------------------------
def test_run_examples_reports_failures_with_location(tmp_path: Path) -> None:
    path = write_pack(
        tmp_path,
        """\
        version: 1
        name: t
        tiers: {high: 70, medium: 40}
        rules:
          - {id: a, description: a, when: {listed: true}, score: 50}
          - {id: b, description: b, when: {listed: true}, score: 1}
        examples:
          - {url: one.example, tier: medium, rules: [a]}
          - url: two.example
            tier: high
            rules: [a]
            not_rules: [b]
          - {name: Three, tier: null}
        """,
    )
    pack = load_rule_pack(path)

    def screen(url: str | None, name: str | None) -> object:
        reasons = tuple(SimpleNamespace(rule_id=r) for r in ("a", "b"))
        if url is None:
            return SimpleNamespace(tier=None, reasons=())
        return SimpleNamespace(tier="medium", reasons=reasons)

    outcomes = run_examples(pack, screen)
    assert [o.passed for o in outcomes] == [True, False, True]
    assert str(outcomes[1]) == (
        f"{path}:9:5: example 2: expected tier high, got medium; rules fired that must not: b "
        "(fired: a, b)"
    )
    assert outcomes[2].example.name == "Three" and outcomes[2].example.url is None


def test_bundled_examples_pass_through_the_screener() -> None:
    screen_mod = pytest.importorskip("notorious_screen.screen", reason="needs the Screener")
    for name in bundled_packs():
        pack = load_rule_pack(name)
        screener = screen_mod.Screener(rules=pack)
        outcomes = run_examples(pack, lambda u, n, s=screener: s.screen_url(u, name=n))
        failures = [str(o) for o in outcomes if not o.passed]
        assert failures == [], f"{name}: {failures}"


# ---- CLI -----------------------------------------------------------------------------------
def test_cli_rules_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "check", "default", fixture("child.yaml")]) == 0
    out = capsys.readouterr().out.splitlines()
    pack = load_rule_pack("default")
    assert out[0] == (
        f"{pack.source}: OK (default {pack.short_hash}, {len(pack.rules)} rules, "
        f"{len(pack.examples)} examples)"
    )
    assert out[1].startswith(f"{fixture('child.yaml')}: OK (child ")
    assert main(["rules", "check", fixture("bad_examples.yaml"), "default"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [
        f"{fixture('bad_examples.yaml')}:{t}" for t in ERROR_CASES["bad_examples.yaml"]
    ]
    assert out[3].endswith(
        ": OK (default " + pack.short_hash + f", {len(pack.rules)} rules, "
        f"{len(pack.examples)} examples)"
    )
    assert main(["rules"]) == 2


def test_cli_rules_show_and_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "show", fixture("child.yaml")]) == 0
    out = capsys.readouterr().out
    pack = load_rule_pack(fixture("child.yaml"))
    assert f"hash:        {pack.content_hash}" in out
    assert "  kind-shop    +25  a shop weighs more here" in out
    assert main(["rules", "list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(bundled_packs())


def test_cli_rules_test(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("notorious_screen.screen", reason="needs the Screener")
    assert main(["rules", "test", "default", "apparel-brand", "media-brand"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and all(" examples passed (" in line for line in out)
    path = write_pack(
        tmp_path,
        """\
        version: 1
        name: wrong
        extends: default
        examples:
          - url: https://www.example-shop.de/
            tier: high
        """,
    )
    assert main(["rules", "test", path]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{path}:5:5: example 1: expected tier high, got null (fired: none)"
    assert out[1].startswith(f"{path}: 0/1 examples passed (")
    assert main(["rules", "test", fixture("bad_examples.yaml")]) == 1
    assert (
        capsys.readouterr()
        .out.splitlines()[0]
        .endswith("unknown tier 'hihg'; did you mean 'high'?")
    )


# ---- docs/rules.md stays true ---------------------------------------------------------------
DOCS = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)


def test_docs_full_packs_are_valid(tmp_path: Path) -> None:
    packs = [b for b in _blocks("yaml") if b.startswith("version: 1")]
    assert packs
    for i, text in enumerate(packs):
        path = write_pack(tmp_path, text, f"doc{i}.yaml")
        assert check_rule_pack(path) == []


def test_docs_python_blocks_run() -> None:
    for block in _blocks("python"):
        exec(compile(block, str(DOCS), "exec"), {})


def test_docs_acme_pack_examples_pass(tmp_path: Path) -> None:
    screen_mod = pytest.importorskip("notorious_screen.screen", reason="needs the Screener")
    text = next(b for b in _blocks("yaml") if b.startswith("version: 1"))
    pack = load_rule_pack(write_pack(tmp_path, text, "acme.yaml"))
    # one inherited rule disabled, one replaced in place, one added
    assert len(pack.rules) == len(load_rule_pack("default").rules)
    assert "piracy-kind" not in {r.id for r in pack.rules}
    screener = screen_mod.Screener(rules=pack)
    outcomes = run_examples(pack, lambda u, n: screener.screen_url(u, name=n))
    assert [str(o) for o in outcomes if not o.passed] == []
