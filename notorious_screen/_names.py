"""Seller and platform names -> the market or owner they name, one name or a whole batch.

A key is a market's or owner's name or alias, folded like any name (`normalize_name`). A name
names a key when:

* exact: its core or its folded text equals the key's (``Nike Official Store`` is ``nike``);
* a CJK key (no spaces in CJK text) is contained in it (``淘宝网官方旗舰店`` contains ``淘宝``);
* the key's tokens occur as a run of the name's tokens, each token within its typo budget
  (none below 5 letters, else one edit, the shorter of the two words deciding), or the run
  glued or split differently but spelled exactly (``ali express`` / ``aliexpress``).

A match is then rescored on what else the name says (`_rescore`): shop words and the market's
city and country may surround a key; other words only surround a distinctive key; a key that
is a common word (``mega``, ``spider``) names its market only when nothing else is said.

Crawl exports hold hundreds of thousands of distinct seller names and a few percent name a
platform, so the work is split in two. `NameIndex.gate` looks at a whole Arrow array of names
in a few vectorised passes (fold, split into words, a set lookup per word and per one-letter
deletion, one literal regex over the names with spaces removed) and keeps only the names that
can name a key at all; `NameIndex._lookup` decides those in Python. The gate is part of what
a name means, applied to a single name too, so every entry point gives the same answer.

A service module (private to the package; its public names are imported by `_engine`, `match`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from ._text import SURROGATES
from ._variants import GENERIC_LABELS
from .markets import Market, MarketData
from .normalize import MAX_NAME_LENGTH, NormalizedName, as_text, normalize_name

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

__all__ = ["NameHit", "NameIndex"]

#: Tokens a name may carry besides the market's own name without changing what it names.
NAME_FILLER = frozenset(
    str.split(
        """
    store shop shops official flagship outlet online seller sellers vendor the of and on in at
    mall market markets marketplace center centre plaza city street road electronics electronic
    inc ltd llc co company group limited corp corporation holdings
    """
    )
)

#: Market names that are ordinary words besides (the cyberlocker Mega, the Spider IPTV
#: service): in a seller name the word means what it says ("Mega Store", "Spider Man Toys"),
#: so such a key names its market only when the name says nothing else.
COMMON_NAME_WORDS = GENERIC_LABELS | frozenset({"spider", "center", "centre", "market", "mall"})

# CJK as `normalize` draws it (kana, hangul, ideographs): a change of script between these and
# other letters separates words, as a space does.
_CJK_RANGES = (
    (0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
    (0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x20000, 0x3FFFF),
)  # fmt: skip
_CJK_CLASS = "".join(f"\\x{{{lo:X}}}-\\x{{{hi:X}}}" for lo, hi in _CJK_RANGES)
# Folding for the gate, in Arrow: separators (neither letter, digit nor mark) become a space
# and every CJK run (with the marks that follow it) a word of its own, as `normalize_name`
# splits them. Two passes: one alternation with a capture group costs RE2 six times more.
_GATE_SEPARATORS = r"[^\p{L}\p{N}\p{M}]+"
_GATE_CJK_RUN = rf"([{_CJK_CLASS}][{_CJK_CLASS}\p{{M}}]*)"
_GATE_CJK = f"[{_CJK_CLASS}]"
# Where `normalize_name` folds by context, not by character: characters it drops ("Nike™Store"
# is one word), apostrophes other than ASCII ones, and an ASCII apostrophe after a mark or
# another apostrophe (elsewhere the gate removes it as `normalize_name` does between letters,
# or it stands beside a separator, where removing it changes no word).
_GATE_UNSURE = "[™®©℠℗’ʼ`´]|[\\p{M}']'"


def _is_cjk_text(text: str) -> bool:
    return any(lo <= ord(c) <= hi for c in text for lo, hi in _CJK_RANGES)


def edit_budget(length: int) -> int:
    """Typos allowed in a word of this many letters: none below 5, else one."""
    return 0 if length < 5 else 1


def token_eq(a: str, b: str) -> bool:
    """Whether two words are the same within the budget of the shorter one."""
    if a == b:
        return True
    budget = edit_budget(min(len(a), len(b)))
    return budget > 0 and Levenshtein.distance(a, b, score_cutoff=budget) <= budget


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass(frozen=True, slots=True)
class NameKey:
    """One name a market or owner goes by, folded, with what the rescoring needs."""

    key: NormalizedName
    market: str | None
    owner: str | None
    distinctive: bool
    common: bool
    cjk: bool
    context: frozenset[str]
    anchor: str


@dataclass(frozen=True, slots=True)
class NameHit:
    """The key a name names, how well (0-100, lower when the name says more than the key),
    how it was found, and how closely the key is spelled in it (100: exactly)."""

    key: NameKey
    score: float
    how: str
    spelled: float = 100.0


_MISS = object()
_CACHE = 1 << 16
_ANY = 1 << 30  # no limit on the number of words


class NameIndex:
    """Every market and owner name as keys, with the indexes of the Python lookup and the
    sets and patterns of the vectorised gate. Thread-safe (the cache holds complete values)."""

    def __init__(self, data: MarketData) -> None:
        keys: list[NameKey] = []
        for market in sorted(data.markets.values(), key=lambda m: m.id):
            context = _context_tokens(market)
            for raw in (market.name, *market.names):
                self._add(keys, raw, market.id, market.owner, context)
        for owner in sorted(data.owners.values(), key=lambda o: o.id):
            for raw in (owner.name, *owner.names):
                self._add(keys, raw, None, owner.id, frozenset())
        self.keys = tuple(keys)
        exact: dict[str, list[int]] = {}
        folded_exact: dict[str, list[int]] = {}
        for i, k in enumerate(keys):
            if not k.common:
                exact.setdefault(k.key.compact, []).append(i)
            folded_exact.setdefault(k.key.folded.replace(" ", ""), []).append(i)
        self._exact = {c: tuple(v) for c, v in exact.items()}
        self._folded_exact = {c: tuple(v) for c, v in folded_exact.items()}
        # Python candidates: a key's anchor word within its budget of a name's word (symmetric
        # deletions), or its spelling without spaces inside the name's (glued, split or CJK).
        near: dict[str, set[int]] = {}
        for i, k in enumerate(keys):
            if k.cjk:
                continue
            near.setdefault(k.anchor, set()).add(i)
            if edit_budget(len(k.anchor)):
                for d in _deletions(k.anchor):
                    near.setdefault(d, set()).add(i)
        self._near = {w: tuple(sorted(v)) for w, v in near.items()}
        literals: dict[str, set[int]] = {}
        for i, k in enumerate(keys):
            for lit in {k.key.compact, k.key.folded.replace(" ", "")}:
                literals.setdefault(lit, set()).add(i)
        self._literals = tuple((lit, tuple(sorted(v))) for lit, v in sorted(literals.items()))
        # The gate: words (anchors, and what one deletion on either side of a word meets), each
        # with the most words a name may have to match through it (a common-word key names its
        # market only with nothing else said: "Mega", not "Mega Store 12"), and one regex of
        # every key spelled without spaces.
        words: dict[str, int] = {}
        deleted: dict[str, int] = {}
        for k in keys:
            if k.cjk:
                continue
            limit = len(k.key.folded.split(" ")) + len(k.context) if k.common else _ANY
            a = k.anchor
            for table, entries in (
                (words, {a} | (_deletions(a) if len(a) >= 6 else set())),
                (deleted, {a} | _deletions(a) if edit_budget(len(a)) else set()),
            ):
                for entry in entries:
                    table[entry] = max(table.get(entry, 0), limit)
        self._gate_words = words
        self._gate_deleted = deleted
        edited = {k.anchor for k in keys if not k.cjk and edit_budget(len(k.anchor))}
        self._gate_lengths = tuple(sorted({n for a in edited for n in (len(a), len(a) + 1)}))
        self._gate_literal = "|".join(sorted({_gate_literal(k) for k in keys}))
        self._gate_arrays: tuple[Any, ...] | None = None
        # Per code point: checked yet, and whether the gate's folding could hide a match.
        self._char_known: Any = None
        self._char_unsure: Any = None
        self._cache: dict[str, NameHit | None] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _add(
        keys: list[NameKey],
        raw: str,
        market: str | None,
        owner: str | None,
        context: frozenset[str],
    ) -> None:
        key = normalize_name(raw)
        if key.error is not None or not key.compact:
            return
        tokens = [t for t in key.folded.split(" ") if t]
        meaningful = [t for t in key.tokens if t not in NAME_FILLER]
        core = "".join(meaningful)
        cjk = _is_cjk_text(key.compact)
        distinctive = (len(core) >= 2 if cjk else len(core) >= 5) and core not in GENERIC_LABELS
        common = not cjk and all(t in COMMON_NAME_WORDS or t in NAME_FILLER for t in tokens)
        # The word the gate looks for: every word of a key must be met, so take the most telling.
        anchor = max(
            tokens, key=lambda t: (t not in COMMON_NAME_WORDS, t not in NAME_FILLER, len(t))
        )
        keys.append(NameKey(key, market, owner, distinctive, common, cjk, context, anchor))

    # ---- one name ----------------------------------------------------------------------
    def lookup(self, name: object) -> NameHit | None:
        """The key ``name`` names best, or None (also for unusable names). Cached."""
        text = as_text(name)
        if text is None:
            return None
        cached = self._cache.get(text, _MISS)
        if cached is not _MISS:
            return cast("NameHit | None", cached)
        found = self._lookup(normalize_name(text))
        self._remember([(text, found)])
        return found

    def lookup_many(self, names: Sequence[str]) -> list[NameHit | None]:
        """`lookup` for many distinct names: the gate drops, in bulk, every name that cannot
        name a key, so only the few it keeps are looked up in Python. Same answers."""
        import numpy as np
        import pyarrow as pa

        from ._arrow import column

        cache = self._cache
        found: list[NameHit | None] = [None] * len(names)
        todo: list[int] = []
        for i, text in enumerate(names):
            hit = cache.get(text, _MISS)
            if hit is _MISS:
                todo.append(i)
            else:
                found[i] = cast("NameHit | None", hit)
        # Longer names are never used (`normalize_name` gives TOO_LONG): no gate for them.
        usable = [i for i in todo if len(names[i]) <= MAX_NAME_LENGTH]
        if usable:
            values = column([SURROGATES.sub("\ufffd", names[i]) for i in usable], pa.string())
            for j in np.flatnonzero(self.gate(values)).tolist():
                found[usable[j]] = self._lookup(normalize_name(names[usable[j]]))
        self._remember([(names[i], found[i]) for i in todo])
        return found

    def _remember(self, items: list[tuple[str, NameHit | None]]) -> None:
        with self._lock:
            if len(self._cache) + len(items) > _CACHE:
                self._cache.clear()
            self._cache.update(items)

    def _lookup(self, name: NormalizedName) -> NameHit | None:
        if name.error is not None or not name.folded:
            return None
        folded_ns = name.folded.replace(" ", "")
        # Exact on the core only when the key is spelled in one piece in the name: "Nike
        # Official Store" is nike; "Ali Official Baba" is nobody.
        exact = tuple(
            i for i in self._exact.get(name.compact, ()) if self.keys[i].key.compact in folded_ns
        ) + self._folded_exact.get(folded_ns, ())
        if exact:
            # markets before owners, then data order: deterministic
            idx = min(exact, key=lambda i: (self.keys[i].market is None, i))
            return NameHit(self.keys[idx], 100.0, "exact name")
        q_tokens = [t for t in name.folded.split(" ") if t]
        candidates: set[int] = set()
        near = self._near
        for token in q_tokens:
            candidates.update(near.get(token, ()))
            if edit_budget(len(token)):
                for d in _deletions(token):
                    candidates.update(near.get(d, ()))
        for lit, ids in self._literals:
            if lit in folded_ns:
                candidates.update(ids)
        scored: list[tuple[float, int, int, str, float]] = []
        for idx in candidates:
            key = self.keys[idx]
            result = _rescore(q_tokens, folded_ns, key)
            if result is not None:
                score, how, spelled = result
                scored.append((-score, -len(key.key.compact), idx, how, spelled))
        if not scored:
            return None
        neg, _, idx, how, spelled = min(scored)
        return NameHit(self.keys[idx], -neg, how, spelled)

    # ---- many names --------------------------------------------------------------------
    def gate(self, names: pa.Array) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Per name (a string array), whether it can name a key: False means `lookup` finds
        nothing, decided in a few passes over the whole array (False for null too).

        The passes fold as `normalize_name` does (NFKC, lower case, separators to spaces, CJK
        runs as words of their own), then keep a name when a key spelled without spaces is in
        it (exact, glued, split and CJK matches), or one of its words is within one edit of a
        key's anchor word (word matches: every word of a key must be met). A name holding a
        character on which this folding and `normalize_name` could disagree is always kept
        (`_unsure`), so the gate never drops a name `lookup` would match.
        """
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        from ._arrow import Ints, bools, column, indices, take

        n = len(names)
        if n == 0:
            return np.zeros(0, dtype=bool)
        if self._gate_arrays is None:
            tables = []
            for table in (self._gate_words, self._gate_deleted):
                entries = sorted(table)
                tables.append(column(entries, pa.string()))
                tables.append(np.array([table[e] for e in entries], dtype=np.int64))
            self._gate_arrays = tuple(tables)
        words, word_limits, deleted, deleted_limits = self._gate_arrays
        folded = _gate_fold(names)
        compact = pc.replace_substring(folded, " ", "")
        hit = bools(pc.match_substring_regex(compact, self._gate_literal))
        hit |= self._unsure(names)
        lists = pc.utf8_split_whitespace(folded)
        flat = pc.list_flatten(lists)
        parents = indices(pc.list_parent_indices(lists))
        counts = indices(pc.list_value_length(lists))
        encoded = pc.dictionary_encode(flat)
        vocab, at = encoded.dictionary, indices(encoded.indices)
        found = indices(pc.index_in(vocab, value_set=words))
        limit = np.where(found >= 0, word_limits[np.maximum(found, 0)], -1)
        # One deletion at each place of each word of a length that can meet an anchor: all
        # the cuts in one array, so the anchor table is hashed once per batch.
        lengths = indices(pc.utf8_length(vocab))
        cuts: list[pa.Array] = []
        owners: list[Ints] = []
        for length in self._gate_lengths:
            where = np.flatnonzero((lengths == length) & (limit < _ANY))
            if len(where):
                subset = take(vocab, where)
                cuts.extend(pc.utf8_replace_slice(subset, i, i + 1, "") for i in range(length))
                owners.extend([where] * length)
        if cuts:
            met = indices(pc.index_in(pa.concat_arrays(cuts), value_set=deleted))
            hits = met >= 0
            np.maximum.at(limit, np.concatenate(owners)[hits], deleted_limits[met[hits]])
        keep = limit[at] >= counts[parents]
        hit[parents[keep]] = True
        if names.null_count:
            hit &= bools(names.is_valid())
        return hit

    def usable(self, names: pa.Array) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Per name (a string array), whether `normalize_name` finds a usable name in it
        (letters, digits or marks, within `MAX_NAME_LENGTH`): in bulk, with the names the
        gate's folding is unsure of, and long ones, asked one by one."""
        import numpy as np
        import pyarrow.compute as pc

        from ._arrow import bools, indices, take

        folded = pc.replace_substring(_gate_fold(names), " ", "")
        out = indices(pc.utf8_length(folded)) > 0
        unsure = self._unsure(names) | (indices(pc.utf8_length(names)) > MAX_NAME_LENGTH // 2)
        ask = np.flatnonzero(unsure)
        if len(ask):
            texts = take(names, ask).to_pylist()
            out[ask] = [normalize_name(t).error is None for t in texts]
        if names.null_count:
            out &= bools(names.is_valid())
        return out

    def _unsure(self, names: pa.Array) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Names holding a character on which the gate's folding and `normalize_name` could
        disagree: `_GATE_UNSURE`, and any non-ASCII character found so (each is tried once, in
        context, the first time a batch holds it)."""
        import numpy as np
        import pyarrow.compute as pc

        from ._arrow import bools

        out = bools(pc.match_substring_regex(names, _GATE_UNSURE))
        chars, owners = _non_ascii(names)
        if len(chars):
            if self._char_known is None:
                self._char_known = np.zeros(0x110000, dtype=bool)
                self._char_unsure = np.zeros(0x110000, dtype=bool)
            known, unsure = self._char_known, self._char_unsure
            chars = np.minimum(chars, 0x10FFFF)
            new = np.unique(chars[~known[chars]])
            if len(new):
                unsure[new] = _disagree(new.tolist())
                known[new] = True
            out[owners[unsure[chars]]] = True
        return out


def _gate_literal(key: NameKey) -> str:
    """The regex over a folded name without spaces that every exact, glued, split or CJK
    match of ``key`` meets: the key spelled in it, or for a common-word key, the key and only
    its market's city and country words."""
    spelled = "|".join(
        sorted({re.escape(key.key.compact), re.escape(key.key.folded.replace(" ", ""))})
    )
    if not key.common:
        return spelled
    context = "|".join(sorted(re.escape(w) for w in key.context))
    around = f"(?:{context})*" if context else ""
    return f"^{around}(?:{spelled}){around}$"


def _gate_fold(names: pa.Array) -> pa.Array:
    """`normalize_name`'s folding in Arrow: NFKC, lower case, NFKC; separators (neither letter,
    digit nor mark) to spaces, every CJK run a word of its own (inner spaces may repeat)."""
    import pyarrow.compute as pc

    folded = pc.utf8_normalize(pc.utf8_lower(pc.utf8_normalize(names, "NFKC")), "NFKC")
    folded = pc.replace_substring(pc.replace_substring(folded, "ß", "ss"), "'", "")
    folded = pc.replace_substring_regex(folded, _GATE_SEPARATORS, " ")
    # The capture costs RE2 dearly: only names holding CJK need it.
    cjk = pc.match_substring_regex(folded, _GATE_CJK)
    if pc.any(cjk).as_py():
        spaced = pc.replace_substring_regex(folded.filter(cjk), _GATE_CJK_RUN, r" \1 ")
        folded = pc.replace_with_mask(folded, cjk, spaced)
    return pc.utf8_trim(folded, " ")


def _non_ascii(names: pa.Array) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The code point of every non-ASCII character in a string array, and its name's position
    (decoded from the UTF-8 buffer in NumPy: no Python per character)."""
    import numpy as np
    import pyarrow as pa

    n = len(names)
    buffers = names.buffers()
    empty = np.zeros(0, dtype=np.int64)
    if n == 0 or buffers[2] is None:
        return empty, empty
    dtype = np.int64 if pa.types.is_large_string(names.type) else np.int32
    offsets = np.frombuffer(buffers[1], dtype=dtype)[names.offset : names.offset + n + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    lead = np.flatnonzero(data >= 0xC0)  # the first byte of each multi-byte character
    if not len(lead):
        return empty, empty
    pad = np.concatenate([data, np.zeros(3, dtype=np.uint8)]).astype(np.int64)
    b0, b1, b2, b3 = pad[lead], pad[lead + 1] & 0x3F, pad[lead + 2] & 0x3F, pad[lead + 3] & 0x3F
    chars = np.where(
        b0 < 0xE0,
        ((b0 & 0x1F) << 6) | b1,
        np.where(
            b0 < 0xF0,
            ((b0 & 0x0F) << 12) | (b1 << 6) | b2,
            ((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3,
        ),
    )
    owners = np.searchsorted(offsets - offsets[0], lead, side="right") - 1
    return chars, owners.astype(np.int64)


def _disagree(chars: list[int]) -> list[bool]:
    """For each code point, whether the gate's folding could hide a match `normalize_name`'s
    would find, alone or next to letters and CJK: the texts without spaces differ (literal
    matches), or a word without CJK is not a word of the gate (word matches)."""
    import pyarrow as pa

    from ._arrow import column
    from .normalize import normalize_name

    contexts = ("{}", "a{}b", "{}{}", "中{}a", "a{}中", "{}中", "a{}")
    texts = [ctx.format(chr(c), chr(c)) for c in chars for ctx in contexts]
    gated = _gate_fold(column(texts, pa.string())).to_pylist()
    differ = []
    for g, text in zip(gated, texts, strict=True):
        words, gate_words = normalize_name(text).folded.split(), str(g).split()
        differ.append(
            "".join(words) != "".join(gate_words)
            or any(w not in gate_words for w in words if not _is_cjk_text(w))
        )
    k = len(contexts)
    return [any(differ[i * k : (i + 1) * k]) for i in range(len(chars))]


def _rescore(q_tokens: list[str], folded_ns: str, key: NameKey) -> tuple[float, str, float] | None:
    k = key.key
    if key.cjk:
        # CJK has no spaces: a distinctive name inside the query (微信小店 -> 微信).
        if key.distinctive and k.compact in folded_ns:
            surplus = len(folded_ns) - len(k.compact)
            return 100.0 - 30.0 * surplus / len(folded_ns), "name contained", 100.0
        return None
    k_tokens = [t for t in k.folded.split(" ") if t]
    span = _find_span(q_tokens, k_tokens)
    if span is None:
        return None
    start, end = span
    rest = q_tokens[:start] + q_tokens[end:]
    if key.common and any(t not in key.context for t in rest):
        return None  # "Mega Store" is a store, not the cyberlocker
    extra = [t for t in rest if t not in NAME_FILLER and t not in key.context]
    if extra and not key.distinctive:
        return None
    matched = sum(len(t) for t in q_tokens[start:end])
    total = matched + sum(len(t) for t in extra)
    ratio = fuzz.ratio("".join(q_tokens[start:end]), k.folded.replace(" ", ""))
    score = ratio * (0.7 + 0.3 * matched / total)
    how = "name tokens" if not extra else "name inside a longer name"
    return round(score, 1), how, round(ratio, 1)


def _find_span(query: list[str], key: list[str]) -> tuple[int, int] | None:
    """Where the key's tokens occur in the query as a contiguous run: word by word within
    each word's budget, or glued or split differently and spelled exactly."""
    key_compact = "".join(key)
    n = len(query)
    for start in range(n):
        if start + len(key) <= n and all(
            token_eq(query[start + i], key[i]) for i in range(len(key))
        ):
            return start, start + len(key)
        glued = ""
        for end in range(start, n):
            glued += query[end]
            if len(glued) >= len(key_compact):
                if (end > start or len(key) > 1) and glued == key_compact:
                    return start, end + 1
                break
    return None


def _context_tokens(market: Market) -> frozenset[str]:
    words: set[str] = set()
    for text in (market.city, market.country):
        if text:
            words.update(normalize_name(text).folded.split(" "))
    return frozenset(w for w in words if w)
