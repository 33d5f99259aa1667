"""Rule packs: parse and validate YAML policy files, then score screening records with reasons.

A match says *what* a seller's platform is; a rule pack says *how much that matters to this
brand*. A pack is a list of additive rules over the closed record vocabulary
(:data:`schema.FIELDS`),
a brand profile and score tiers. Loading checks everything up front (unknown keys, fields,
operators, value types, regular expressions, ``extends`` chains) and reports each problem as
``path:line:column: message``; evaluation then runs pre-compiled closures, so it costs a few
microseconds per record. The format reference is ``docs/rules.md``.

Regular expressions (``matches``) run on the linear-time engine of ``_regex``: every value is
scanned once, whatever the pattern.
"""

from __future__ import annotations

import hashlib
import json
import math
import operator
import os
import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeAlias

from ._regex import REGEX_LIMITS, RegexBudget, RegexError, SafeRegex
from ._text import did_you_mean
from ._yaml import YamlList, YamlMap, load_yaml_bytes, read_capped
from .errors import DataError, Location, RulePackError
from .markets import LISTS
from .schema import (
    FIELDS,
    VOCABULARIES,
    BrandProfile,
    Evaluation,
    FieldType,
    Reason,
    Record,
    clean_host,
    split_store,
)

__all__ = [
    "LIMITS",
    "OPERATORS",
    "AllOf",
    "AnyOf",
    "Condition",
    "Example",
    "ExampleOutcome",
    "FieldTest",
    "Not",
    "Rule",
    "RulePack",
    "bundled_packs",
    "check_rule_pack",
    "load_rule_pack",
    "run_examples",
]


_S, _B, _I, _N, _L = (
    FieldType.STR,
    FieldType.BOOL,
    FieldType.INT,
    FieldType.NUMBER,
    FieldType.INT_LIST,
)

#: Watch lists a brand profile may name.
WATCH_LISTS = frozenset(LISTS)

_COMBINATORS = ("all", "any", "not")


@dataclass(frozen=True, slots=True)
class _Limits:
    """Bounds that keep a hostile or broken pack from costing unbounded time or memory."""

    max_rules: int = 10_000
    max_depth: int = 32  # condition nesting (all/any/not levels)
    max_regex_length: int = REGEX_LIMITS.max_regex_length
    max_regex_states: int = REGEX_LIMITS.max_regex_states
    max_regex_steps: int = REGEX_LIMITS.max_regex_steps
    max_regex_memo: int = REGEX_LIMITS.max_regex_memo
    max_extends_depth: int = 8
    max_list_values: int = 10_000  # values of one in/not_in list
    max_examples: int = 10_000


#: The limits in force (pack files are also capped at 5 MiB by the YAML loader).
LIMITS = _Limits()


@dataclass(frozen=True, slots=True)
class FieldTest:
    """One test of one record field, e.g. ``FieldTest("similarity", "gte", 90)``."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class AllOf:
    """True when every item is true."""

    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """True when at least one item is true."""

    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """Inverts its item, so ``Not(FieldTest("country", "equals", "CN"))`` holds for None too."""

    item: Condition


Condition: TypeAlias = FieldTest | AllOf | AnyOf | Not


@dataclass(frozen=True, slots=True)
class Rule:
    """One additive rule: when ``when`` holds, add ``score`` points and say ``message``.

    A ``clear`` rule adds no points; when it fires the whole evaluation is cleared (score 0,
    no tier): the brand's own domains and authorized stores are never flagged.
    """

    id: str
    description: str
    when: Condition
    score: int = 0
    tags: tuple[str, ...] = ()
    message: str | None = None
    clear: bool = False
    location: Location | None = field(default=None, compare=False)

    @property
    def reason_text(self) -> str:
        """The reason template: ``message``, else the description."""
        return self.message if self.message is not None else self.description


@dataclass(frozen=True, slots=True)
class Example:
    """A pack's own test: screening ``url``/``name`` must give ``tier`` and fire ``rules``.

    ``expect_tier`` is False when the example says nothing about the tier (``tier`` absent);
    then ``tier`` is None and is not checked.
    """

    url: str | None = None
    name: str | None = None
    tier: str | None = None
    expect_tier: bool = False
    rules: tuple[str, ...] = ()
    not_rules: tuple[str, ...] = ()
    location: Location | None = field(default=None, compare=False)


# ---- condition checking and compilation ----------------------------------------------------
_Test = Callable[[Record], bool]


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def _check_scalar(fname: str, ftype: FieldType, value: object) -> str | None:
    """Why ``value`` cannot be compared with field ``fname``, or None when it can."""
    if ftype in (_S,):
        if not isinstance(value, str):
            hint = f" (quote it: '{value}')" if _is_number(value) or isinstance(value, bool) else ""
            return f"'{fname}' is a string field; expected a string, got {_type_name(value)}{hint}"
        vocab = VOCABULARIES.get(fname)
        if vocab is not None and value not in vocab:
            return f"unknown {fname} '{value}'{did_you_mean(value, vocab)}"
        return None
    if ftype is _B:
        if not isinstance(value, bool):
            return f"'{fname}' is a boolean field; expected true or false, got {_type_name(value)}"
        return None
    if ftype in (_I, _N, _L):
        if ftype is _L and not (isinstance(value, int) and not isinstance(value, bool)):
            return f"'{fname}' is a list of integers; expected an integer, got {_type_name(value)}"
        if not _is_number(value):
            return f"'{fname}' is a {ftype.value} field; expected a number, got {_type_name(value)}"
        return None
    return None  # pragma: no cover


def _check_exists(fname: str, ftype: FieldType, value: object) -> tuple[str | None, Any]:
    if not isinstance(value, bool):
        return f"'exists' takes true or false, got {_type_name(value)}", None
    return None, value


def _check_value(fname: str, ftype: FieldType, value: object) -> tuple[str | None, Any]:
    return _check_scalar(fname, ftype, value), value


def _check_values(fname: str, ftype: FieldType, value: object) -> tuple[str | None, Any]:
    if not isinstance(value, list | tuple) or not value:
        return f"'{{op}}' takes a non-empty list, got {_type_name(value)}", None
    if len(value) > LIMITS.max_list_values:
        return f"'{{op}}' list has more than {LIMITS.max_list_values} values", None
    for item in value:
        err = _check_scalar(fname, ftype, item)
        if err:
            return err, None
    return None, tuple(value)


def _check_text(fname: str, ftype: FieldType, value: object) -> tuple[str | None, Any]:
    if ftype is not _S:  # contains on a list field: one integer
        return _check_value(fname, ftype, value)
    if not isinstance(value, str):
        return f"'{{op}}' takes a string, got {_type_name(value)}", None
    return None, value


def _check_affix(fname: str, ftype: FieldType, value: object) -> tuple[str | None, Any]:
    # startswith/endswith take one string or a list of them
    if isinstance(value, list | tuple):
        return _check_values(fname, ftype, value)
    return _check_text(fname, ftype, value)


def _check_regex(fname: str, ftype: FieldType, value: object) -> tuple[str | None, Any]:
    if not isinstance(value, str):
        return f"'matches' takes a regular expression string, got {_type_name(value)}", None
    try:
        SafeRegex(value)
    except RegexError as exc:
        return str(exc), None
    return None, value


def _compile_exists(f: str, ftype: FieldType, v: Any) -> _Test:
    if v:
        return lambda r: r.get(f) is not None
    return lambda r: r.get(f) is None


def _compile_in(f: str, ftype: FieldType, v: Any) -> _Test:
    values = frozenset(v)
    if ftype is _L:  # any of the list's items
        return lambda r: (x := r.get(f)) is not None and not values.isdisjoint(x)
    return lambda r: r.get(f) in values


def _compile_not_in(f: str, ftype: FieldType, v: Any) -> _Test:
    values = frozenset(v)
    if ftype is _L:
        return lambda r: (x := r.get(f)) is not None and values.isdisjoint(x)
    return lambda r: (x := r.get(f)) is not None and x not in values


def _compile_startswith(f: str, ftype: FieldType, v: Any) -> _Test:
    prefixes = v if isinstance(v, str) else tuple(v)
    return lambda r: (x := r.get(f)) is not None and bool(x.startswith(prefixes))


def _compile_endswith(f: str, ftype: FieldType, v: Any) -> _Test:
    suffixes = v if isinstance(v, str) else tuple(v)
    return lambda r: (x := r.get(f)) is not None and bool(x.endswith(suffixes))


def _compile_matches(f: str, ftype: FieldType, v: Any) -> _Test:
    rx = SafeRegex(v)
    return lambda r: (x := r.get(f)) is not None and rx.search(x)


def _comparison(compare: Callable[[Any, Any], bool]) -> Callable[[str, FieldType, Any], _Test]:
    def build(f: str, ftype: FieldType, v: Any) -> _Test:
        return lambda r: (x := r.get(f)) is not None and bool(compare(x, v))

    return build


@dataclass(frozen=True, slots=True)
class _Operator:
    """A condition operator: the field types it applies to, how its value is checked at load
    (an error naming the operator as ``{op}``, and the value as compiled), and the test it
    compiles to."""

    types: frozenset[FieldType]
    check: Callable[[str, FieldType, object], tuple[str | None, Any]]
    compile: Callable[[str, FieldType, Any], _Test]


_ALL_TYPES = frozenset(FieldType)
#: The operators, in the order messages list them: one table for validation and compilation.
_OPERATORS: Mapping[str, _Operator] = MappingProxyType(
    {
        "equals": _Operator(
            frozenset({_S, _B, _I, _N}),
            _check_value,
            lambda f, t, v: lambda r: bool(r.get(f) == v),
        ),
        "in": _Operator(frozenset({_S, _I, _N, _L}), _check_values, _compile_in),
        "not_in": _Operator(frozenset({_S, _I, _N, _L}), _check_values, _compile_not_in),
        "exists": _Operator(_ALL_TYPES, _check_exists, _compile_exists),
        "contains": _Operator(
            frozenset({_S, _L}),
            _check_text,
            lambda f, t, v: lambda r: (x := r.get(f)) is not None and v in x,
        ),
        "startswith": _Operator(frozenset({_S}), _check_affix, _compile_startswith),
        "endswith": _Operator(frozenset({_S}), _check_affix, _compile_endswith),
        "matches": _Operator(frozenset({_S}), _check_regex, _compile_matches),
        "gt": _Operator(frozenset({_I, _N}), _check_value, _comparison(operator.gt)),
        "gte": _Operator(frozenset({_I, _N}), _check_value, _comparison(operator.ge)),
        "lt": _Operator(frozenset({_I, _N}), _check_value, _comparison(operator.lt)),
        "lte": _Operator(frozenset({_I, _N}), _check_value, _comparison(operator.le)),
    }
)
#: Every condition operator.
OPERATORS: tuple[str, ...] = tuple(_OPERATORS)


def _operators_for(ftype: FieldType) -> tuple[str, ...]:
    return tuple(op for op, spec in _OPERATORS.items() if ftype in spec.types)


def _check_test(fname: str, op: str, value: object) -> tuple[str | None, Any]:
    """Validate one field test; return (error, normalised value)."""
    ftype = FIELDS.get(fname)
    if ftype is None:
        return f"unknown field '{fname}'{did_you_mean(fname, FIELDS)}", None
    spec = _OPERATORS.get(op)
    if spec is None:
        return f"unknown operator '{op}'{did_you_mean(op, OPERATORS)}", None
    if ftype not in spec.types:
        return (
            f"operator '{op}' does not apply to {ftype.value} field '{fname}' "
            f"(use {', '.join(_operators_for(ftype))})",
            None,
        )
    err, checked = spec.check(fname, ftype, value)
    return (err.replace("{op}", op) if err else None), checked


def _compile_test(t: FieldTest) -> _Test:
    ftype = FIELDS[t.field]
    return _OPERATORS[t.op].compile(t.field, ftype, t.value)


def _membership(t: Condition) -> tuple[str, frozenset[Any]] | None:
    """(field, allowed values) when ``t`` is equals/in on a scalar field, else None."""
    if not isinstance(t, FieldTest) or FIELDS[t.field] is _L:
        return None
    if t.op == "equals":
        return t.field, frozenset((t.value,))
    if t.op == "in":
        return t.field, frozenset(t.value)
    return None


def _compile(cond: Condition) -> _Test:
    if isinstance(cond, FieldTest):
        return _compile_test(cond)
    if isinstance(cond, Not):
        inner = _compile(cond.item)
        return lambda r: not inner(r)
    if isinstance(cond, AllOf):
        # Most rules are a conjunction of equals/in tests: check those in one loop over
        # (field, allowed values) pairs instead of one closure call each. None is never in
        # the allowed values, so a missing field fails as it should.
        pairs = tuple(m for m in map(_membership, cond.items) if m is not None)
        others = tuple(_compile(c) for c in cond.items if _membership(c) is None)
        if len(pairs) + len(others) == 1:
            return others[0] if others else _compile(cond.items[0])

        def all_of(r: Record) -> bool:
            get = r.get
            for name, allowed in pairs:
                if get(name) not in allowed:
                    return False
            # An explicit loop: all() over a generator costs more than the tests themselves.
            for p in others:  # noqa: SIM110
                if not p(r):
                    return False
            return True

        return all_of
    parts = tuple(_compile(c) for c in cond.items)
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        a, b = parts
        return lambda r: a(r) or b(r)

    def any_of(r: Record) -> bool:
        for p in parts:  # noqa: SIM110
            if p(r):
                return True
        return False

    return any_of


def _validate_condition(cond: object, depth: int = 0) -> str | None:
    """Check a programmatically built condition tree; None when valid."""
    if depth > LIMITS.max_depth:
        return f"condition nested deeper than {LIMITS.max_depth} levels"
    if isinstance(cond, FieldTest):
        err, _ = _check_test(cond.field, cond.op, cond.value)
        return err
    if isinstance(cond, Not):
        return _validate_condition(cond.item, depth + 1)
    if isinstance(cond, AllOf | AnyOf):
        if not cond.items:
            return "an all/any condition needs at least one item"
        for c in cond.items:
            err = _validate_condition(c, depth + 1)
            if err:
                return err
        return None
    return f"not a condition: {cond!r}"


def _fields_of(cond: Condition) -> set[str]:
    if isinstance(cond, FieldTest):
        return {cond.field}
    if isinstance(cond, Not):
        return _fields_of(cond.item)
    out: set[str] = set()
    for c in cond.items:
        out |= _fields_of(c)
    return out


def _canon(cond: Condition) -> Any:
    if isinstance(cond, FieldTest):
        v = list(cond.value) if isinstance(cond.value, tuple) else cond.value
        return [cond.field, cond.op, v]
    if isinstance(cond, Not):
        return {"not": _canon(cond.item)}
    key = "all" if isinstance(cond, AllOf) else "any"
    return {key: [_canon(c) for c in cond.items]}


# Message templates: "{market_name} is listed" -> literal parts and field names. Only bare field
# names are allowed (no attribute access, indexing, conversions or format specs).
_Template = tuple[tuple[str, str | None], ...]


def _parse_template(text: str) -> tuple[_Template | None, str | None]:
    parts: list[tuple[str, str | None]] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        return None, f"message: {exc} (write {{{{ and }}}} for literal braces)"
    for literal, fname, spec, conv in parsed:
        if fname is None:
            parts.append((literal, None))
            continue
        if fname not in FIELDS or spec or conv:
            shown = fname + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "")
            return None, f"message: unknown field '{{{shown}}}'{did_you_mean(fname, FIELDS)}"
        parts.append((literal, fname))
    return tuple(parts), None


def _render_value(value: object) -> str:
    if value is None:
        return "?"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(_render_value(v) for v in value)
    return str(value)


def _renderer(template: _Template) -> Callable[[Record], str]:
    def render(r: Record) -> str:
        out: list[str] = []
        for literal, fname in template:
            out.append(literal)
            if fname is not None:
                out.append(_render_value(r.get(fname)))
        return "".join(out)

    return render


def _reason_factory(rule_id: str, points: int, template: _Template) -> Callable[[Record], Reason]:
    render = _renderer(template)
    names = tuple(dict.fromkeys(f for _, f in template if f is not None))
    cache: dict[tuple[Any, ...], Reason] = {}

    def reason(r: Record) -> Reason:
        get = r.get
        key = tuple([get(f) for f in names])
        try:
            hit = cache.get(key)
        except TypeError:  # a list value (listed_years): not hashable, freeze it
            key = tuple(tuple(v) if isinstance(v, list) else v for v in key)
            hit = cache.get(key)
        if hit is None:
            if len(cache) >= 4096:
                cache.clear()
            hit = cache[key] = Reason(rule_id, points, render(r))
        return hit

    return reason


def _template_fields(template: _Template) -> set[str]:
    return {f for _, f in template if f is not None}


# ---- the pack ------------------------------------------------------------------------------
_CompiledRule = tuple[_Test, int, bool, "Reason | Callable[[Record], Reason]"]


@dataclass(frozen=True, slots=True, eq=False)
class RulePack:
    """A resolved, validated rule pack (``extends`` already merged), ready to evaluate.

    ``content_hash`` is the sha256 of the canonical JSON of everything that can change a
    result (name, brand, rules with their messages, tiers; not examples, comments or layout),
    so a triage decision can be reproduced; :attr:`short_hash` is its first 12 characters.
    Instances pickle by value and recompile on the other side.
    """

    name: str
    rules: tuple[Rule, ...]
    tiers: Mapping[str, int]  # tier name -> threshold, highest threshold first
    brand: BrandProfile = field(default_factory=BrandProfile)
    description: str = ""
    version: int = 1
    examples: tuple[Example, ...] = ()
    source: str | None = None
    extends: tuple[str, ...] = ()  # the sources merged into this pack, base first
    content_hash: str = field(init=False)
    fields_used: frozenset[str] = field(init=False)
    _compiled: tuple[_CompiledRule, ...] = field(init=False, repr=False)
    _tiers_desc: tuple[tuple[str, int], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        compiled: list[_CompiledRule] = []
        used: set[str] = set()
        seen: set[str] = set()
        for rule in self.rules:
            where = rule.location
            if rule.id in seen:
                raise RulePackError(f"duplicate rule id '{rule.id}'", where)
            seen.add(rule.id)
            err = _validate_condition(rule.when)
            if err:
                raise RulePackError(f"rule '{rule.id}': {err}", where)
            template, terr = _parse_template(rule.reason_text)
            if template is None:
                raise RulePackError(f"rule '{rule.id}': {terr}", where)
            fields_in_message = _template_fields(template)
            used |= _fields_of(rule.when) | fields_in_message
            points = 0 if rule.clear else rule.score
            # Reasons are immutable: a static message gives one shared Reason, a template one
            # Reason per distinct combination of the fields it names.
            reason: Reason | Callable[[Record], Reason] = (
                _reason_factory(rule.id, points, template)
                if fields_in_message
                else Reason(rule.id, points, rule.reason_text)
            )
            compiled.append((_compile(rule.when), points, rule.clear, reason))
        thresholds = sorted(((t, n) for n, t in self.tiers.items()), reverse=True)
        if len({t for t, _ in thresholds}) != len(thresholds):
            raise RulePackError("two tiers have the same threshold", None)
        object.__setattr__(self, "tiers", MappingProxyType({n: t for t, n in thresholds}))
        canonical = {
            "version": self.version,
            "name": self.name,
            "brand": {
                "name": self.brand.name,
                "own_domains": list(self.brand.own_domains),
                "authorized_hosts": list(self.brand.authorized_hosts),
                "authorized_stores": list(self.brand.authorized_stores),
                "authorized_store_ids": list(self.brand.authorized_store_ids),
                "watch_lists": list(self.brand.watch_lists),
            },
            "rules": [
                {
                    "id": r.id,
                    "description": r.description,
                    "when": _canon(r.when),
                    "score": r.score,
                    "clear": r.clear,
                    "message": r.reason_text,
                    "tags": list(r.tags),
                }
                for r in self.rules
            ],
            "tiers": [[name, threshold] for threshold, name in thresholds],
        }
        text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        object.__setattr__(self, "content_hash", hashlib.sha256(text.encode()).hexdigest())
        object.__setattr__(self, "fields_used", frozenset(used))
        object.__setattr__(self, "_compiled", tuple(compiled))
        object.__setattr__(self, "_tiers_desc", tuple((n, t) for t, n in thresholds))

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_pack,
            (
                self.name,
                self.rules,
                dict(self.tiers),
                self.brand,
                self.description,
                self.version,
                self.examples,
                self.source,
                self.extends,
            ),
        )

    @property
    def short_hash(self) -> str:
        """The first 12 hex digits of :attr:`content_hash`, enough to name a pack version."""
        return self.content_hash[:12]

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id (KeyError when there is none)."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def tier_for(self, score: int) -> str | None:
        """The highest tier whose threshold is <= ``score``; None below every tier."""
        for name, threshold in self._tiers_desc:
            if score >= threshold:
                return name
        return None

    def evaluate(self, record: Record) -> Evaluation:
        """Score one record: sum the points of the rules that fire, clamp to 0..100, pick a tier.

        Reasons come in pack order. When a ``clear`` rule fires the result is cleared: score 0,
        tier None, ``cleared`` True (the reasons still list every rule that fired).

        Raises :class:`RulePackError` when a ``matches`` pattern needs more than
        ``LIMITS.max_regex_steps`` steps on one value: the pack, not the row, is unusable then,
        and a guessed verdict would claim more (or less) than the rules say.
        """
        reasons: list[Reason] = []
        total = 0
        cleared = False
        try:
            for test, points, clear, reason in self._compiled:
                if test(record):
                    total += points
                    cleared = cleared or clear
                    reasons.append(reason if isinstance(reason, Reason) else reason(record))
        except RegexBudget as exc:
            rule = self.rules[[c[0] for c in self._compiled].index(test)]
            raise RulePackError(
                f"rule '{rule.id}': its regular expression needed more than "
                f"{LIMITS.max_regex_steps:,} steps on one value of {exc.length:,} characters; "
                "simplify it (a large bounded repeat such as {1000} makes every character "
                "cost that many steps)",
                rule.location,
            ) from None
        if cleared:
            return Evaluation(0, None, tuple(reasons), True)
        score = 0 if total < 0 else 100 if total > 100 else total
        tier = None
        for name, threshold in self._tiers_desc:
            if score >= threshold:
                tier = name
                break
        return Evaluation(score, tier, tuple(reasons), False)


def _rebuild_pack(*args: Any) -> RulePack:
    return RulePack(*args)


# ---- parsing YAML into layers --------------------------------------------------------------
_TOP_KEYS = (
    "version",
    "name",
    "description",
    "extends",
    "brand",
    "disable",
    "rules",
    "tiers",
    "examples",
)
_RULE_KEYS = ("id", "description", "when", "score", "tags", "message", "clear")
_BRAND_KEYS = (
    "name",
    "own_domains",
    "authorized_hosts",
    "authorized_stores",
    "authorized_store_ids",
    "watch_lists",
)
_EXAMPLE_KEYS = ("url", "name", "tier", "rules", "not_rules")
_ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}\Z")
_TIER_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}\Z")
_HOST_RE = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\Z")
_MAX_SCORE = 1000


class _Errors:
    """Collects every error, so one run shows everything to fix."""

    def __init__(self) -> None:
        self.items: list[RulePackError] = []
        self.broken_chain = False  # an extends link failed: later gaps are follow-on errors

    def add(self, message: str, where: Location | None) -> None:
        self.items.append(RulePackError(message, where))

    def in_file_order(self) -> list[RulePackError]:
        """Errors grouped by file (in the order files were read), by line and column within."""
        files: dict[str, int] = {}
        for e in self.items:
            files.setdefault(e.location.path if e.location else "", len(files))

        def key(e: RulePackError) -> tuple[int, int, int]:
            loc = e.location
            if loc is None:
                return (files[""], 0, 0)
            return (files[loc.path], loc.line, loc.column)

        return sorted(self.items, key=key)


@dataclass
class _ExampleDraft:
    example: Example
    tier_loc: Location | None
    must: list[tuple[str, Location]]
    must_not: list[tuple[str, Location]]


@dataclass
class _Layer:
    display: str
    path: Path
    loc: Location
    extends: tuple[str, Location] | None = None
    name: str | None = None
    description: str | None = None
    brand: dict[str, Any] = field(default_factory=dict)
    disable: list[tuple[str, Location]] = field(default_factory=list)
    disable_loc: Location | None = None
    rules: list[Rule] = field(default_factory=list)
    tiers: dict[str, int] | None = None
    tiers_given: bool = False
    examples: list[_ExampleDraft] = field(default_factory=list)


def _keys_check(m: YamlMap, allowed: Sequence[str], what: str, errs: _Errors) -> None:
    for key in m:
        if key not in allowed:
            errs.add(f"unknown {what} key '{key}'{did_you_mean(key, allowed)}", m.key_loc(key))


def _str_list(
    m: YamlMap, key: str, errs: _Errors, *, what: str = "string"
) -> list[tuple[str, Location]]:
    value = m[key]
    if not isinstance(value, YamlList):
        errs.add(f"'{key}' must be a list of {what}s, got {_type_name(value)}", m.value_loc(key))
        return []
    out: list[tuple[str, Location]] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            errs.add(
                f"'{key}' items must be non-empty {what}s, got {_type_name(item)}",
                value.item_loc(i),
            )
            continue
        out.append((item, value.item_loc(i)))
    return out


def _parse_condition(node: object, where: Location, depth: int, errs: _Errors) -> Condition | None:
    if depth > LIMITS.max_depth:
        errs.add(f"condition nested deeper than {LIMITS.max_depth} levels", where)
        return None
    if not isinstance(node, YamlMap) or not node:
        errs.add(
            "a condition is a non-empty mapping of field tests and all/any/not, "
            f"got {_type_name(node) if node != {} else 'an empty mapping'}",
            where,
        )
        return None
    items: list[Condition] = []
    ok = True
    for key, value in node.items():
        kloc, vloc = node.key_loc(key), node.value_loc(key)
        if key in ("all", "any"):
            if not isinstance(value, YamlList) or not value:
                errs.add(f"'{key}' takes a non-empty list of conditions", vloc)
                ok = False
                continue
            subs = [
                _parse_condition(v, value.item_loc(i), depth + 1, errs) for i, v in enumerate(value)
            ]
            if any(s is None for s in subs):
                ok = False
                continue
            conds = tuple(s for s in subs if s is not None)
            items.append(AllOf(conds) if key == "all" else AnyOf(conds))
        elif key == "not":
            sub = _parse_condition(value, vloc, depth + 1, errs)
            if sub is None:
                ok = False
            else:
                items.append(Not(sub))
        elif key in FIELDS:
            tests = _parse_field(key, value, kloc, vloc, errs)
            if tests is None:
                ok = False
            else:
                items.extend(tests)
        else:
            if key in OPERATORS:
                msg = f"operator '{key}' needs a field: write 'FIELD: {{{key}: VALUE}}'"
            else:
                msg = f"unknown field '{key}'{did_you_mean(key, (*FIELDS, *_COMBINATORS))}"
            errs.add(msg, kloc)
            ok = False
    if not ok:
        return None
    return items[0] if len(items) == 1 else AllOf(tuple(items))


def _parse_field(
    fname: str, value: object, kloc: Location, vloc: Location, errs: _Errors
) -> list[Condition] | None:
    ftype = FIELDS[fname]
    if value is None:
        errs.add(
            f"'{fname}' has no value; to test for a missing value write "
            f"'{fname}: {{exists: false}}'",
            vloc,
        )
        return None
    if isinstance(value, YamlMap):
        if not value:
            errs.add(f"'{fname}' needs at least one operator", vloc)
            return None
        out: list[Condition] = []
        ok = True
        for op, arg in value.items():
            if op not in _OPERATORS or ftype not in _OPERATORS[op].types:
                err, _ = _check_test(fname, op, arg)
                errs.add(err or f"bad operator '{op}'", value.key_loc(op))
                ok = False
                continue
            err, norm = _check_test(fname, op, arg)
            if err:
                errs.add(err, value.value_loc(op))
                ok = False
                continue
            out.append(FieldTest(fname, op, norm))
        return out if ok else None
    # Shorthands: a scalar means equals, a list means in.
    op = "in" if isinstance(value, YamlList) else "equals"
    err, norm = _check_test(fname, op, list(value) if isinstance(value, YamlList) else value)
    if err:
        if op == "equals" and ftype is _L:
            err = f"'{fname}' is a list of integers: write '{fname}: {{contains: {value}}}'"
        errs.add(err, vloc)
        return None
    return [FieldTest(fname, op, norm)]


def _parse_rule(node: object, where: Location, errs: _Errors) -> Rule | None:
    if not isinstance(node, YamlMap):
        errs.add(
            f"a rule is a mapping with id, description, when and score, got {_type_name(node)}",
            where,
        )
        return None
    n_errors = len(errs.items)
    _keys_check(node, _RULE_KEYS, "rule", errs)
    rid = node.get("id")
    if "id" not in node:
        errs.add("rule is missing 'id'", node.loc)
    elif not isinstance(rid, str) or not _ID_RE.match(rid):
        errs.add(
            f"rule id must be 1-64 characters of a-z, 0-9, '.', '_', '-' starting with a letter "
            f"or digit, got {rid!r}",
            node.value_loc("id"),
        )
    label = f"rule '{rid}'" if isinstance(rid, str) else "rule"
    description = node.get("description")
    if "description" not in node:
        errs.add(f"{label} is missing 'description'", node.loc)
    elif not isinstance(description, str) or not description.strip():
        errs.add("'description' must be a non-empty string", node.value_loc("description"))
    clear = node.get("clear", False)
    if not isinstance(clear, bool):
        errs.add(f"'clear' must be true or false, got {_type_name(clear)}", node.value_loc("clear"))
        clear = False
    score = node.get("score", 0)
    if clear and "score" in node:
        errs.add("a 'clear' rule has no 'score' (it forces the score to 0)", node.key_loc("score"))
    elif "score" not in node and not clear:
        errs.add(f"{label} is missing 'score'", node.loc)
    elif isinstance(score, bool) or not isinstance(score, int):
        errs.add(f"'score' must be an integer, got {_type_name(score)}", node.value_loc("score"))
    elif not -_MAX_SCORE <= score <= _MAX_SCORE:
        errs.add(f"'score' must be between {-_MAX_SCORE} and {_MAX_SCORE}", node.value_loc("score"))
    tags: list[str] = []
    if "tags" in node:
        tags = [t for t, _ in _str_list(node, "tags", errs)]
    message = node.get("message")
    if "message" in node:
        if not isinstance(message, str) or not message.strip():
            errs.add("'message' must be a non-empty string", node.value_loc("message"))
        else:
            _template, terr = _parse_template(message)
            if terr:
                errs.add(terr, node.value_loc("message"))
    elif isinstance(description, str):
        _template, terr = _parse_template(description)
        if terr:
            errs.add(terr.replace("message:", "description:", 1), node.value_loc("description"))
    when: Condition | None = None
    if "when" not in node:
        errs.add(f"{label} is missing 'when'", node.loc)
    else:
        when = _parse_condition(node["when"], node.value_loc("when"), 0, errs)
    if len(errs.items) > n_errors or when is None:
        return None
    assert isinstance(rid, str) and isinstance(description, str)
    return Rule(
        id=rid,
        description=description,
        when=when,
        score=0 if clear else int(score),
        tags=tuple(tags),
        message=message if isinstance(message, str) else None,
        clear=clear,
        location=node.loc,
    )


def _parse_tiers(node: object, where: Location, errs: _Errors) -> dict[str, int] | None:
    if not isinstance(node, YamlMap) or not node:
        errs.add("'tiers' must be a mapping of tier name to threshold (high: 70)", where)
        return None
    tiers: dict[str, int] = {}
    by_threshold: dict[int, str] = {}
    ok = True
    for name, threshold in node.items():
        if not _TIER_RE.match(name):
            errs.add(f"tier name must be a short identifier, got '{name}'", node.key_loc(name))
            ok = False
            continue
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int)
            or not (1 <= threshold <= 100)
        ):
            errs.add(
                f"tier '{name}' threshold must be an integer from 1 to 100, got {threshold!r}",
                node.value_loc(name),
            )
            ok = False
            continue
        if threshold in by_threshold:
            errs.add(
                f"tier '{name}' has the same threshold as tier '{by_threshold[threshold]}'",
                node.value_loc(name),
            )
            ok = False
            continue
        by_threshold[threshold] = name
        tiers[name] = threshold
    return tiers if ok else None


def _parse_brand(node: object, where: Location, errs: _Errors) -> dict[str, Any]:
    if not isinstance(node, YamlMap):
        errs.add(f"'brand' must be a mapping, got {_type_name(node)}", where)
        return {}
    _keys_check(node, _BRAND_KEYS, "brand", errs)
    out: dict[str, Any] = {}
    if "name" in node:
        name = node["name"]
        if not isinstance(name, str) or not name.strip():
            errs.add("brand 'name' must be a non-empty string", node.value_loc("name"))
        else:
            out["name"] = name
    for key in ("own_domains", "authorized_hosts"):
        if key in node:
            hosts: list[str] = []
            for raw, loc in _str_list(node, key, errs, what="host"):
                host = clean_host(raw)
                if not _HOST_RE.match(host) or "." not in host:
                    errs.add(
                        f"'{raw}' is not a host name (write 'acme.com', without scheme or path)",
                        loc,
                    )
                    continue
                hosts.append(host)
            out[key] = tuple(hosts)
    if "authorized_stores" in node:
        stores: list[str] = []
        for raw, loc in _str_list(node, "authorized_stores", errs, what="store URL"):
            host, _path = split_store(raw)
            if not host or not _HOST_RE.match(host) or "." not in host:
                errs.add(f"'{raw}' is not a store URL (write 'shopee.sg/acme_official')", loc)
                continue
            stores.append(raw.strip())
        out["authorized_stores"] = tuple(stores)
    if "authorized_store_ids" in node:
        value = node["authorized_store_ids"]
        ids: list[str] = []
        if not isinstance(value, YamlList):
            errs.add(
                "'authorized_store_ids' must be a list", node.value_loc("authorized_store_ids")
            )
        else:
            for i, item in enumerate(value):
                # Store ids are often numeric: accept integers and keep them as text.
                if isinstance(item, bool) or not isinstance(item, str | int) or item == "":
                    errs.add(
                        f"store ids must be strings or integers, got {_type_name(item)}",
                        value.item_loc(i),
                    )
                    continue
                ids.append(str(item))
        out["authorized_store_ids"] = tuple(ids)
    if "watch_lists" in node:
        lists: list[str] = []
        for raw, loc in _str_list(node, "watch_lists", errs, what="list id"):
            if raw not in WATCH_LISTS:
                errs.add(f"unknown watch list '{raw}'{did_you_mean(raw, WATCH_LISTS)}", loc)
                continue
            lists.append(raw)
        out["watch_lists"] = tuple(lists)
    return out


def _parse_example(node: object, where: Location, errs: _Errors) -> _ExampleDraft | None:
    if not isinstance(node, YamlMap):
        errs.add(
            f"an example is a mapping with url and tier or rules, got {_type_name(node)}", where
        )
        return None
    n_errors = len(errs.items)
    _keys_check(node, _EXAMPLE_KEYS, "example", errs)
    values: dict[str, str | None] = {}
    for key in ("url", "name"):
        v = node.get(key)
        if key in node and not isinstance(v, str):
            errs.add(f"example '{key}' must be a string, got {_type_name(v)}", node.value_loc(key))
        values[key] = v if isinstance(v, str) else None
    if "url" not in node and "name" not in node:
        errs.add("example needs a 'url' or a 'name'", node.loc)
    tier = node.get("tier")
    if "tier" in node and tier is not None and not isinstance(tier, str):
        errs.add(
            f"example 'tier' must be a tier name or null, got {_type_name(tier)}",
            node.value_loc("tier"),
        )
    refs: dict[str, list[tuple[str, Location]]] = {}
    for key in ("rules", "not_rules"):
        refs[key] = _str_list(node, key, errs, what="rule id") if key in node else []
    if not ({"tier", "rules", "not_rules"} & set(node)):
        errs.add("example needs 'tier', 'rules' or 'not_rules' to check", node.loc)
    if len(errs.items) > n_errors:
        return None
    example = Example(
        url=values["url"],
        name=values["name"],
        tier=tier if isinstance(tier, str) else None,
        expect_tier="tier" in node,
        rules=tuple(r for r, _ in refs["rules"]),
        not_rules=tuple(r for r, _ in refs["not_rules"]),
        location=node.loc,
    )
    tier_loc = node.value_loc("tier") if "tier" in node else None
    return _ExampleDraft(example, tier_loc, refs["rules"], refs["not_rules"])


def _parse_layer(display: str, path: Path, errs: _Errors) -> _Layer | None:
    try:
        raw = _read_capped(path, display)
        data = load_yaml_bytes(raw, display)
    except RulePackError as exc:
        errs.add(exc.message, exc.location)
        return None
    except DataError as exc:
        errs.add(exc.message, exc.location)
        return None
    if not isinstance(data, YamlMap):
        errs.add(
            "a rule pack is a mapping with version, name, rules and tiers"
            + (" (the file is empty)" if data is None else f", got {_type_name(data)}"),
            getattr(data, "loc", Location(display, 1, 1)),
        )
        return None
    if not any(key in _TOP_KEYS for key in data):
        # Some other YAML-shaped file (extends: /etc/shadow, a config): say so once and
        # quote none of its keys, so a pack cannot print a readable file into the logs.
        errs.add(
            "not a rule pack: none of its top-level keys is a rule-pack key "
            "(version, name, rules, tiers ...)",
            data.loc,
        )
        return None
    layer = _Layer(display=display, path=path, loc=data.loc)
    for key, value in data.items():
        kloc, vloc = data.key_loc(key), data.value_loc(key)
        if key not in _TOP_KEYS:
            errs.add(f"unknown top-level key '{key}'{did_you_mean(key, _TOP_KEYS)}", kloc)
        elif key == "version":
            if type(value) is not int or value != 1:
                errs.add(
                    f"unsupported rule-pack version {value!r}; this library reads version 1", vloc
                )
        elif key in ("name", "description", "extends"):
            if not isinstance(value, str) or not value.strip():
                errs.add(f"'{key}' must be a non-empty string, got {_type_name(value)}", vloc)
            elif key == "name":
                layer.name = value
            elif key == "description":
                layer.description = value
            else:
                layer.extends = (value, vloc)
        elif key == "brand":
            layer.brand = _parse_brand(value, vloc, errs)
        elif key == "disable":
            layer.disable = _str_list(data, key, errs, what="rule id")
            layer.disable_loc = kloc
        elif key == "rules":
            if not isinstance(value, YamlList):
                errs.add(f"'rules' must be a list of rules, got {_type_name(value)}", vloc)
                continue
            if len(value) > LIMITS.max_rules:
                errs.add(f"more than {LIMITS.max_rules} rules", vloc)
                continue
            first_seen: dict[str, Location] = {}
            for i, item in enumerate(value):
                rule = _parse_rule(item, value.item_loc(i), errs)
                if isinstance(item, YamlMap) and isinstance(item.get("id"), str):
                    rid = item["id"]
                    if rid in first_seen:
                        errs.add(
                            f"duplicate rule id '{rid}' (first defined at line "
                            f"{first_seen[rid].line})",
                            item.value_loc("id"),
                        )
                        continue
                    first_seen[rid] = item.value_loc("id")
                if rule is not None:
                    layer.rules.append(rule)
        elif key == "tiers":
            layer.tiers = _parse_tiers(value, vloc, errs)
            layer.tiers_given = True
        elif key == "examples":
            if not isinstance(value, YamlList):
                errs.add(f"'examples' must be a list, got {_type_name(value)}", vloc)
                continue
            if len(value) > LIMITS.max_examples:
                errs.add(f"more than {LIMITS.max_examples} examples", vloc)
                continue
            for i, item in enumerate(value):
                draft = _parse_example(item, value.item_loc(i), errs)
                if draft is not None:
                    layer.examples.append(draft)
    if "version" not in data:
        errs.add("missing 'version: 1' (the rule-pack format version)", data.loc)
    if "name" not in data:
        errs.add("missing 'name'", data.loc)
    return layer


def _read_capped(path: Path, display: str) -> bytes:
    try:
        return read_capped(path, display)
    except DataError as exc:
        message = exc.message.replace("cannot read file", "cannot read rule pack", 1)
        raise RulePackError(message, exc.location) from None


# ---- resolving names, extends and merging --------------------------------------------------
def _packs_dir() -> Path:
    return Path(str(resources.files("notorious_screen") / "packs"))


def _bundled() -> dict[str, Path]:
    root = _packs_dir()
    found: dict[str, Path] = {}
    for sub in (root, root / "examples"):
        if sub.is_dir():
            for p in sorted(sub.glob("*.yaml")):
                found.setdefault(p.stem, p)
    return found


def bundled_packs() -> tuple[str, ...]:
    """Names of the packs shipped with the library (``default`` and the examples)."""
    return tuple(sorted(_bundled()))


def _is_path_spec(spec: str) -> bool:
    return spec.endswith((".yaml", ".yml")) or "/" in spec or os.sep in spec or spec[:1] == "."


def _resolve(
    spec: str | Path, base: _Layer | None, where: Location | None, errs: _Errors
) -> tuple[str, Path] | None:
    """A pack spec (bundled name or path) -> (display path, file path); None after an error."""
    if isinstance(spec, Path) or _is_path_spec(spec):
        p = Path(spec)
        if base is not None and not p.is_absolute():
            display = os.path.normpath(os.path.join(os.path.dirname(base.display), str(spec)))
            return display, base.path.parent / p
        return str(spec), p
    bundled = _bundled()
    if spec not in bundled:
        errs.add(
            f"unknown bundled rule pack '{spec}'{did_you_mean(spec, bundled)} "
            "(give a path ending in .yaml for a file)",
            where,
        )
        return None
    path = bundled[spec]
    rel = path.relative_to(_packs_dir()).as_posix()
    return f"notorious_screen/packs/{rel}", path


def _chain(spec: str | Path, errs: _Errors) -> list[_Layer]:
    """Load ``spec`` and the packs it extends; base first. Stops at the first broken link."""
    resolved = _resolve(spec, None, None, errs)
    layers: list[_Layer] = []
    keys: list[str] = []
    errs.broken_chain = True
    while resolved is not None:
        display, path = resolved
        # realpath, not Path.resolve: a symlink loop is then an open error, not RuntimeError.
        key = os.path.realpath(path)
        if key in keys:
            names = [layer.display for layer in layers] + [display]
            assert layers[-1].extends is not None
            errs.add("extends cycle: " + " -> ".join(names), layers[-1].extends[1])
            break
        if len(layers) > LIMITS.max_extends_depth:
            assert layers[-1].extends is not None
            errs.add(
                f"extends chain is deeper than {LIMITS.max_extends_depth} packs",
                layers[-1].extends[1],
            )
            break
        layer = _parse_layer(display, path, errs)
        if layer is None:
            break
        layers.append(layer)
        keys.append(key)
        if layer.extends is None:
            errs.broken_chain = False
            break
        value, where = layer.extends
        resolved = _resolve(value, layer, where, errs)
    return list(reversed(layers))


def _build(spec: str | Path, errs: _Errors) -> RulePack | None:
    layers = _chain(spec, errs)
    if not layers:
        return None
    top = layers[-1]
    rules: dict[str, Rule] = {}
    tiers: dict[str, int] | None = None
    brand: dict[str, Any] = {}
    disabled_ids: set[str] = set()
    for i, layer in enumerate(layers):
        disabled = {rid for rid, _ in layer.disable}
        if layer.disable and i == 0:
            assert layer.disable_loc is not None
            errs.add("'disable' removes inherited rules; it needs 'extends'", layer.disable_loc)
        else:
            for rid, where in layer.disable:
                if rid not in rules:
                    hint = did_you_mean(rid, rules)
                    errs.add(f"cannot disable unknown rule '{rid}'{hint}", where)
                else:
                    del rules[rid]
                    disabled_ids.add(rid)
        for rule in layer.rules:
            if rule.id in disabled:
                errs.add(
                    f"rule '{rule.id}' is both disabled and defined in this pack", rule.location
                )
            rules[rule.id] = rule  # same id replaces in place (dict keeps the first position)
        if layer.tiers is not None:
            tiers = layer.tiers
        brand.update(layer.brand)
    if tiers is None:
        if not errs.broken_chain and not any(layer.tiers_given for layer in layers):
            errs.add(
                "no 'tiers': give tiers (high: 70, medium: 40, low: 10) or extend a pack "
                "that has them",
                top.loc,
            )
        return None
    if len(rules) > LIMITS.max_rules:
        errs.add(f"more than {LIMITS.max_rules} rules after merging extends", top.loc)
    tier_names = list(tiers)
    examples: list[Example] = []
    for draft in top.examples:
        ex = draft.example
        ok = True
        if ex.tier is not None and ex.tier not in tier_names:
            hint = did_you_mean(ex.tier, tier_names)
            if not hint and ex.tier.lower() in ("none", "null", "no"):
                hint = "; write 'tier: null' for no tier"
            errs.add(f"unknown tier '{ex.tier}'{hint}", draft.tier_loc)
            ok = False
        # not_rules may name a disabled rule (it documents that the rule must stay off).
        for refs, allowed in ((draft.must, set()), (draft.must_not, disabled_ids)):
            for rid, where in refs:
                if rid in rules or rid in allowed:
                    continue
                if rid in disabled_ids:
                    errs.add(f"rule '{rid}' is disabled in this pack, so it cannot fire", where)
                else:
                    errs.add(f"unknown rule '{rid}'{did_you_mean(rid, rules)}", where)
                ok = False
        if ok:
            examples.append(ex)
    if errs.items:
        return None
    profile = BrandProfile(**brand)
    try:
        return RulePack(
            name=top.name or "",
            rules=tuple(rules.values()),
            tiers=tiers,
            brand=profile,
            description=top.description or "",
            version=1,
            examples=tuple(examples),
            source=top.display,
            extends=tuple(layer.display for layer in layers[:-1]),
        )
    except RulePackError as exc:  # pragma: no cover - everything is validated above
        errs.add(exc.message, exc.location)
        return None


def load_rule_pack(pack: str | Path | RulePack = "default") -> RulePack:
    """Load a rule pack by bundled name (``"default"``, ``"apparel-brand"``) or file path.

    A string is a path when it ends in ``.yaml``/``.yml`` or contains a ``/``; otherwise it is
    a bundled pack name. Raises :class:`RulePackError` (``path:line:column: message``) at the
    first problem; :func:`check_rule_pack` lists them all.
    """
    if isinstance(pack, RulePack):
        return pack
    errs = _Errors()
    built = _build(pack, errs)
    if built is None:
        raise errs.in_file_order()[0]
    return built


def check_rule_pack(pack: str | Path) -> list[RulePackError]:
    """Every problem in a pack and the packs it extends (empty when the pack is valid).

    Validation goes on after an error wherever it can (per key, per rule, per example), so
    one run shows everything to fix.
    """
    errs = _Errors()
    _build(pack, errs)
    return errs.in_file_order()


# ---- examples: a pack's own tests ----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ExampleOutcome:
    """The result of running one example; :attr:`failures` is empty when it passed."""

    index: int  # 1-based position in the pack's examples
    example: Example
    tier: str | None
    fired: tuple[str, ...]
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures

    def __str__(self) -> str:
        where = f"{self.example.location}: " if self.example.location else ""
        status = "; ".join(self.failures) if self.failures else "ok"
        fired = ", ".join(self.fired) if self.fired else "none"
        return f"{where}example {self.index}: {status} (fired: {fired})"


def run_examples(
    pack: RulePack, screen: Callable[[str | None, str | None], object]
) -> list[ExampleOutcome]:
    """Run ``pack.examples`` through ``screen(url, name)``, an object with ``.tier``/``.reasons``.

    ``screen`` is normally ``lambda url, name: Screener(rules=pack).screen_url(url, name=name)``;
    taking a callable keeps this module free of the screener (which depends on it).
    """
    outcomes: list[ExampleOutcome] = []
    for i, ex in enumerate(pack.examples, 1):
        result = screen(ex.url, ex.name)
        tier = getattr(result, "tier", None)
        fired = tuple(r.rule_id for r in getattr(result, "reasons", ()))
        failures: list[str] = []
        if ex.expect_tier and tier != ex.tier:
            failures.append(f"expected tier {ex.tier or 'null'}, got {tier or 'null'}")
        missing = [r for r in ex.rules if r not in fired]
        if missing:
            failures.append("expected rules did not fire: " + ", ".join(missing))
        unwanted = [r for r in ex.not_rules if r in fired]
        if unwanted:
            failures.append("rules fired that must not: " + ", ".join(unwanted))
        outcomes.append(ExampleOutcome(i, ex, tier, fired, tuple(failures)))
    return outcomes
