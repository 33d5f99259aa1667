"""A regular-expression matcher whose time is linear in the subject's length.

Rule packs come from anyone, and Python's ``re`` backtracks: no pattern check short of a full
ambiguity analysis stops polynomial blow-ups such as ``.*a.*a.*b`` (minutes on a 2 KB string).
This engine takes the syntax (and its error messages) from ``re``'s own parser, compiles the
parse tree to a Thompson NFA and simulates it with memoised steps, so every value is scanned
once whatever the pattern. Features with no linear-time simulation are refused. The bounds
(pattern length, states, steps and memo per value) are ``rules.LIMITS``'s, set here.

A service module (private to the package; its public names are imported by `rules`).
"""

from __future__ import annotations

import importlib
import re
import string
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["REGEX_LIMITS", "RegexBudget", "RegexError", "RegexLimits", "SafeRegex"]


@dataclass(frozen=True, slots=True)
class RegexLimits:
    """Bounds on one pattern and on matching one value."""

    max_regex_length: int = 1_000
    max_regex_states: int = 10_000  # NFA states once bounded repeats are expanded
    max_regex_steps: int = 1_000_000  # NFA states visited while scanning one value
    max_regex_memo: int = 1_000_000  # NFA state ids held in one pattern's step memo


REGEX_LIMITS = RegexLimits()
LIMITS = REGEX_LIMITS  # the name the engine below reads


# Python's re parser gives us the syntax (and its error messages) for free; we compile its parse
# tree to a Thompson NFA and simulate it (Pike-VM style, no captures) with memoised steps, so
# the matcher is in effect a lazily built DFA: one dict lookup per input character after warm-up,
# and never more than O(len(value) * states) work. Features with no linear-time simulation
# (backreferences, lookaround, conditionals, atomic groups, possessive quantifiers) are refused.
if sys.version_info >= (3, 11):
    _sre_parse: Any = importlib.import_module("re._parser")
    _sre: Any = importlib.import_module("re._constants")
else:  # pragma: no cover - exercised on 3.10 only
    _sre_parse = importlib.import_module("sre_parse")
    _sre = importlib.import_module("sre_constants")

_CHAR, _SPLIT, _ASSERT, _MATCH, _EPS = range(5)
_ASCII_WORD = frozenset(string.ascii_letters + string.digits + "_")
_ASCII_SPACE = frozenset(" \t\n\r\f\v")
_UNSUPPORTED = {
    "GROUPREF": "a backreference",
    "GROUPREF_EXISTS": "a conditional group",
    "ASSERT": "a lookahead/lookbehind",
    "ASSERT_NOT": "a negative lookahead/lookbehind",
    "ATOMIC_GROUP": "an atomic group",
    "POSSESSIVE_REPEAT": "a possessive quantifier",
}


class RegexError(ValueError):
    """A pattern that does not parse or that the linear-time matcher cannot run."""


class RegexBudget(Exception):
    """One value needed more than :attr:`RegexLimits.max_regex_steps` steps (see RulePack)."""

    def __init__(self, length: int = 0) -> None:
        super().__init__(length)
        self.length = length


def _is_word(ch: str | None, ascii_only: bool) -> bool:
    if ch is None:
        return False
    if ascii_only:
        return ch in _ASCII_WORD
    return ch.isalnum() or ch == "_"


def _category(cat: Any, ascii_only: bool) -> Callable[[str], bool]:
    name = str(cat)
    if ascii_only:
        table: dict[str, Callable[[str], bool]] = {
            "CATEGORY_DIGIT": lambda c: "0" <= c <= "9",
            "CATEGORY_NOT_DIGIT": lambda c: not ("0" <= c <= "9"),
            "CATEGORY_SPACE": lambda c: c in _ASCII_SPACE,
            "CATEGORY_NOT_SPACE": lambda c: c not in _ASCII_SPACE,
            "CATEGORY_WORD": lambda c: c in _ASCII_WORD,
            "CATEGORY_NOT_WORD": lambda c: c not in _ASCII_WORD,
        }
    else:
        table = {
            "CATEGORY_DIGIT": str.isdecimal,
            "CATEGORY_NOT_DIGIT": lambda c: not c.isdecimal(),
            "CATEGORY_SPACE": str.isspace,
            "CATEGORY_NOT_SPACE": lambda c: not c.isspace(),
            "CATEGORY_WORD": lambda c: c.isalnum() or c == "_",
            "CATEGORY_NOT_WORD": lambda c: not (c.isalnum() or c == "_"),
        }
    if name not in table:  # pragma: no cover - categories of bytes/locale patterns only
        raise RegexError(f"unsupported character category {name}")
    return table[name]


def _case_variants(ch: str, ignore_case: bool) -> tuple[str, ...]:
    if not ignore_case:
        return (ch,)
    return tuple(dict.fromkeys((ch, ch.lower(), ch.upper())))


class SafeRegex:
    """A compiled pattern whose :meth:`search` takes time linear in the subject's length.

    Semantics follow ``re.search`` for the supported syntax; case-insensitive matching compares
    the simple lower- and upper-case forms of each character.

    Time and memory are bounded whatever the pattern and the value: the memo of steps holds at
    most :attr:`_Limits.max_regex_memo` state ids (it starts afresh when full), and one value
    may cost at most :attr:`RegexLimits.max_regex_steps` NFA states visited on memo misses, else
    :class:`RegexBudget` is raised. Ordinary patterns stay far below it, because their state
    sets repeat; a large bounded repeat after a loop (``[ab]*a[ab]{1000}$``) makes every
    character a miss costing a thousand states.
    """

    __slots__ = ("_assertions", "_memo", "_memo_size", "_start", "_states", "pattern", "work")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        if len(pattern) > LIMITS.max_regex_length:
            raise RegexError(
                f"regular expression is longer than {LIMITS.max_regex_length} characters"
            )
        try:
            parsed = _sre_parse.parse(pattern, 0)
        except re.error as exc:
            where = f" at position {exc.pos}" if exc.pos is not None else ""
            raise RegexError(f"invalid regular expression: {exc.msg}{where}") from None
        except RecursionError:
            raise RegexError("regular expression is nested too deeply") from None
        flags = int(parsed.state.flags)
        # [kind, a, b]: CHAR a=predicate b=next; SPLIT a,b=next; ASSERT a=(name, flags) b=next;
        # EPS b=next; MATCH.
        self._states: list[list[Any]] = [[_MATCH, None, None]]
        self._assertions = False
        try:
            self._start = self._seq(list(parsed), 0, flags)
        except RecursionError:
            raise RegexError("regular expression is nested too deeply") from None
        self._memo: dict[tuple[Any, ...], frozenset[int] | bool] = {}
        self._memo_size = 0  # state ids held by the memo's keys and values
        self.work = 0  # NFA states visited on memo misses: a deterministic cost measure

    # -- compilation (backwards, each piece knows its continuation) --
    def _emit(self, kind: int, a: Any, b: Any) -> int:
        if len(self._states) >= LIMITS.max_regex_states:
            raise RegexError(
                f"regular expression is too large once repeats are expanded "
                f"(more than {LIMITS.max_regex_states} states)"
            )
        self._states.append([kind, a, b])
        return len(self._states) - 1

    def _seq(self, items: Sequence[Any], nxt: int, flags: int) -> int:
        for op, av in reversed(items):
            nxt = self._node(op, av, nxt, flags)
        return nxt

    def _node(self, op: Any, av: Any, nxt: int, flags: int) -> int:
        name = str(op)
        icase = bool(flags & _sre.SRE_FLAG_IGNORECASE)
        ascii_only = bool(flags & _sre.SRE_FLAG_ASCII)
        if name in _UNSUPPORTED:
            raise RegexError(
                f"regular expression uses {_UNSUPPORTED[name]}, which the linear-time "
                "matcher does not support"
            )
        if name == "LITERAL":
            chars = frozenset(_case_variants(chr(av), icase))
            return self._emit(_CHAR, chars.__contains__, nxt)
        if name == "NOT_LITERAL":
            chars = frozenset(_case_variants(chr(av), icase))
            return self._emit(_CHAR, lambda c: c not in chars, nxt)
        if name == "ANY":
            if flags & _sre.SRE_FLAG_DOTALL:
                return self._emit(_CHAR, lambda c: True, nxt)
            return self._emit(_CHAR, lambda c: c != "\n", nxt)
        if name == "IN":
            return self._emit(_CHAR, self._charset(av, icase, ascii_only), nxt)
        if name == "BRANCH":
            starts = [self._seq(list(alt), nxt, flags) for alt in av[1]]
            head = starts[-1]
            for s in reversed(starts[:-1]):
                head = self._emit(_SPLIT, s, head)
            return head
        if name == "SUBPATTERN":
            _group, add, remove, body = av
            return self._seq(list(body), nxt, (flags | add) & ~remove)
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            lo, hi, body = av
            items = list(body)
            if hi == _sre.MAXREPEAT:
                loop = self._emit(_SPLIT, None, nxt)
                self._states[loop][1] = self._seq(items, loop, flags)
                tail = loop
            else:
                tail = nxt
                for _ in range(hi - lo):
                    tail = self._emit(_SPLIT, self._seq(items, tail, flags), nxt)
            for _ in range(lo):
                tail = self._seq(items, tail, flags)
            return tail
        if name == "AT":
            self._assertions = True
            multiline = bool(flags & _sre.SRE_FLAG_MULTILINE)
            return self._emit(_ASSERT, (str(av), multiline, ascii_only), nxt)
        raise RegexError(f"unsupported regular-expression construct {name}")  # pragma: no cover

    def _charset(self, items: Any, icase: bool, ascii_only: bool) -> Callable[[str], bool]:
        negate = False
        singles: set[str] = set()
        ranges: list[tuple[int, int]] = []
        cats: list[Callable[[str], bool]] = []
        for op, av in items:
            name = str(op)
            if name == "NEGATE":
                negate = True
            elif name == "LITERAL":
                singles.add(chr(av))
            elif name == "RANGE":
                ranges.append((av[0], av[1]))
            elif name == "CATEGORY":
                cats.append(_category(av, ascii_only))
            else:  # pragma: no cover - bytes/locale-only set items
                raise RegexError(f"unsupported character-set item {name}")
        frozen = frozenset(singles)

        def one(c: str) -> bool:
            if c in frozen:
                return True
            o = ord(c)
            for lo, hi in ranges:
                if lo <= o <= hi:
                    return True
            return any(cat(c) for cat in cats)

        def test(c: str) -> bool:
            hit = any(one(v) for v in _case_variants(c, icase))
            return hit != negate

        return test

    # -- simulation --
    def _holds(
        self, spec: tuple[str, bool, bool], prev: str | None, cur: str | None, last: bool
    ) -> bool:
        name, multiline, ascii_only = spec
        if name == "AT_BEGINNING_STRING":
            return prev is None
        if name == "AT_END_STRING":
            return cur is None
        if name == "AT_BEGINNING":
            return prev is None or (multiline and prev == "\n")
        if name == "AT_END":
            if cur is None:
                return True
            return cur == "\n" and (multiline or last)
        if name == "AT_BOUNDARY":
            return _is_word(prev, ascii_only) != _is_word(cur, ascii_only)
        if name == "AT_NON_BOUNDARY":
            # re's \B never matches in an empty string; elsewhere it is the negation of \b.
            if prev is None and cur is None:
                return False
            return _is_word(prev, ascii_only) == _is_word(cur, ascii_only)
        raise RegexError(f"unsupported anchor {name}")  # pragma: no cover

    def _step(
        self, current: frozenset[int], prev: str | None, cur: str | None, last: bool
    ) -> frozenset[int] | bool:
        states = self._states
        seen: set[int] = set()
        stack = [*current, self._start]
        nxt: set[int] = set()
        while stack:
            s = stack.pop()
            if s in seen:
                continue
            seen.add(s)
            kind, a, b = states[s]
            if kind == _CHAR:
                if cur is not None and a(cur):
                    nxt.add(b)
            elif kind == _SPLIT:
                stack.append(b)
                stack.append(a)
            elif kind == _ASSERT:
                if self._holds(a, prev, cur, last):
                    stack.append(b)
            elif kind == _EPS:  # pragma: no cover - not emitted today
                stack.append(b)
            else:
                self.work += len(seen)
                return True
        self.work += len(seen)
        return frozenset(nxt)

    def search(self, value: str) -> bool:
        """True when the pattern matches anywhere in ``value`` (``re.search`` semantics)."""
        memo = self._memo
        current: frozenset[int] = frozenset()
        prev: str | None = None
        n = len(value)
        assertions = self._assertions
        budget = self.work + LIMITS.max_regex_steps
        for i in range(n + 1):
            cur = value[i] if i < n else None
            key: tuple[Any, ...] = (
                (current, prev, cur, i == n - 1) if assertions else (current, cur)
            )
            hit = memo.get(key)
            if hit is None:
                hit = self._step(current, prev, cur, i == n - 1)
                if self.work > budget:
                    raise RegexBudget(n)
                size = len(current) + (0 if isinstance(hit, bool) else len(hit)) + 1
                if self._memo_size + size > LIMITS.max_regex_memo:
                    memo.clear()
                    self._memo_size = 0
                memo[key] = hit
                self._memo_size += size
            if isinstance(hit, bool):
                return True
            current = hit
            prev = cur
        return False


# ---- the pack model ------------------------------------------------------------------------
