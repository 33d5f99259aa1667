"""Lookalike-domain detection on plain strings: the reverse of dnstwist.

dnstwist generates the typos of *one* domain; here we are handed an observed host and ask which
of many target domains it imitates. Everything a host is compared with is precomputed per
target label, so a host costs a few dozen dict/set lookups whatever the number of targets:

* ``_exact``: target label -> targets (TLD swap, dot insertion, combosquatting tokens);
* ``_deletes``: the symmetric-delete neighbourhood (SymSpell): every target label with one
  character removed. A candidate within one edit of a target shares a key with it, which
  catches omission, insertion, repetition, replacement (and so bitsquatting, vowel swap and
  one-character homoglyphs) and transposition;
* ``_glyphs``: up to two ASCII homoglyph substitutions of every target label (``rn``/``m``,
  ``vv``/``w``, ``cl``/``d``, ``0``/``o``, ``1``/``l``...), generated like dnstwist's
  ``homoglyph`` fuzzer but from the target side;
* ``_plurals``: ``s``/``es`` appended or inserted;
* ``_anchors``: the first three characters of every label eligible for combosquatting, so a
  scan of the candidate finds embedded target labels in one pass;
* ``_vowels``: every copy of one vowel changed to another (``tukupedia``); ``_shorts``: the
  short-label budget (``vkk``, ``v-k``, ``16888``, ``l688``); ``_dotless``: target registrables
  without their dots (``wwwtaobaocom.com``, ``shopee.coid``). A moved letter falls out of the
  deletes index (the same key, different places); two substitutions in a long label are
  rapidfuzz's Hamming distance over the few long labels.

Unicode homographs are folded first with the UTS #39-style skeleton (``_confusables``), so an
all-Cyrillic spelling, or accented letters mixed with an ASCII typo, meet the same indexes.
rapidfuzz only scores the similarity of a pair already found.

Which targets take part in which step is a matter of how distinctive the label is: a label
in ``GENERIC_LABELS`` only matches homographs; one shorter than ``MIN_EDIT_LEN`` gets the
short-label budget only (``vk`` has thousands of one-edit neighbours that are real sites, so
never another letter or a letter left out), and two edits need ``MIN_TWO_EDIT_LEN`` letters.

A service module (private to the package; its public names are imported by `_names`, `match`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from rapidfuzz import process
from rapidfuzz.distance import Hamming, Indel

from ._confusables import skeleton

__all__ = [
    "AFFIX_WORDS",
    "GENERIC_LABELS",
    "MIN_COMBO_LEN",
    "MIN_EDIT_LEN",
    "MIN_SHORT_LEN",
    "MIN_TWO_EDIT_LEN",
    "SHORT_INSERT_LEN",
    "SHORT_WORD_LABELS",
    "WORD_LABELS",
    "Candidate",
    "Target",
    "Variant",
    "VariantClass",
    "VariantIndex",
]


class VariantClass(str, Enum):
    """How a lookalike host differs from the host it imitates."""

    TLD_SWAP = "tld-swap"
    OMISSION = "omission"
    INSERTION = "insertion"
    REPLACEMENT = "replacement"
    TRANSPOSITION = "transposition"
    REPETITION = "repetition"
    BITSQUATTING = "bitsquatting"
    HOMOGLYPH = "homoglyph"
    HOMOGRAPH = "homograph"
    HYPHENATION = "hyphenation"
    PLURAL = "plural"
    COMBOSQUATTING = "combosquatting"
    SUBDOMAIN_ABUSE = "subdomain-abuse"
    VOWEL_SWAP = "vowel-swap"
    #: extension of the contract: ``tao.bao.com`` (a dot typed inside the label, so the
    #: registrable domain is ``bao.com`` and the subdomain completes the brand)
    DOT_INSERTION = "dot-insertion"
    #: one letter taken out and put back elsewhere (``alexipress``, ``toaoba``); a move to the
    #: neighbouring place is a transposition
    MOVED_LETTER = "moved-letter"
    #: two edits in a long label (``aliggpress``, ``tokopediqq``, ``aliexpres77``): two
    #: substitutions, or one and a doubled character; ``MIN_TWO_EDIT_LEN`` letters or more, and
    #: no other long target label as close
    TWO_EDITS = "two-edits"
    #: a dot left out between labels (``wwwtaobao.com``, ``taobaocom.com``, ``shopee.coid``)
    MISSING_DOT = "missing-dot"


@dataclass(frozen=True, slots=True)
class Variant:
    """One lookalike finding: which class, which target host, how similar, and why."""

    variant_class: VariantClass
    imitates: str
    similarity: float
    explanation: str


@dataclass(frozen=True, slots=True)
class Target:
    """A host to protect, split at its public suffix (``pan.baidu.com`` -> ``baidu``/``com``)."""

    host: str
    registrable: str
    label: str
    suffix: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """An observed host, split the same way; ``label`` and ``subdomain`` in Unicode."""

    host: str
    registrable: str
    label: str
    suffix: str
    subdomain: tuple[str, ...]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Labels shorter than this take part only in homograph matching and the short-label budget.
MIN_EDIT_LEN = 5
#: Labels this long also match with two characters substituted.
MIN_TWO_EDIT_LEN = 9
#: Short labels (2 to MIN_EDIT_LEN - 1 characters, or all digits) of this length or more get
#: the short-label budget: the same label under another suffix, a doubled character, a hyphen
#: between two characters, homographs; from SHORT_INSERT_LEN on also one inserted character.
MIN_SHORT_LEN = 2
SHORT_INSERT_LEN = 2
#: Labels shorter than this are never looked for inside longer labels.
MIN_COMBO_LEN = 5
#: Embedded anywhere (not only next to a hyphen, digit or affix word) from this length on.
MIN_FREE_COMBO_LEN = 8
#: A coined label (not in WORD_LABELS) this long may start or end a label with any word of at
#: least MIN_FREE_AFFIX letters glued to it ("avitokids" no, "dhgatebeauty" yes).
MIN_FREE_EDGE_LEN = 6
MIN_FREE_AFFIX = 3

#: Target labels that are ordinary words: a typo or a combination of them says nothing.
GENERIC_LABELS = _words(
    """
    mega uploaded express best shop store market mall online news mail web cloud music movie
    movies video videos tv game games play live app apps free home world global china city
    square central pacific silk golden star king queen royal club centre center plaza trade
    zone book books file files share link links stream streams torrent torrents download
    downloads search pirate bay cinema film films series anime sport sports iptv host hosting
    embed
    """
)

#: Target labels that are dictionary words or common names: they keep typo and TLD-swap
#: matching, but are found inside a longer label only next to a hyphen, digit or affix word,
#: because real sites glue them to other words ("amazonwatch.org" is an NGO).
WORD_LABELS = _words(
    """
    amazon apple target shell orange delta united alibaba avito carousel carousell temu
    wish joom vinted etsy ebay indeed monster
    """
)

#: Words that combosquatters put next to a brand (``buy-dhgate``, ``taobaoofficialstore``).
#: Only used when a brand sits in a label *without* a hyphen or digit boundary; with a boundary
#: any word goes. Kept generic on purpose: no brand names, nothing tuned to one market.
AFFIX_WORDS = _words(
    """
    shop shops shopping store stores official outlet outlets online sale sales deal deals buy
    cheap discount discounts login signin sign secure security account accounts verify
    verification support help service services customer care pay payment payments wallet app
    apps mobile web site world global intl international mall market markets marketplace
    fast free best top vip plus pro club center centre hub zone hq my the get go new now
    live hot sell seller sellers wholesale factory direct brand brands luxury replica replicas
    fashion style goods item items product products order orders track tracking delivery
    shipping ship gift gifts coupon coupons promo code codes bonus reward rewards prize win
    winner lucky event events black friday cyber week day days mega super big china asia
    agent agents proxy mirror mirrors download downloads movie movies tv stream streaming
    unblock unblocked torrent torrents us uk usa eu en cn de fr it es jp kr in br ru au ca
    mx id ph sg th vn tw hk com net org info biz co inc ltd group corp team staff admin
    panel portal home page pages link links mail email update updates refund refunds claim
    claims bill billing invoice invoices auth access member members user users id cash money
    bank card cards credit gift review reviews rating ratings clearance warehouse stock
    lite dot
    """
)

#: Short target labels that are words or common abbreviations: a lookalike of them says
#: nothing (``nic`` is every registry's name, ``sea`` a word, ``tb`` a unit), so they get no
#: short-label budget and keep only homograph matching.
SHORT_WORD_LABELS = _words("nic sea wi ddl egy tb shp")

_COMMON_WORDS = AFFIX_WORDS | GENERIC_LABELS
_VOWELS = frozenset("aeiou")
#: Vowels for "every copy of a vowel changed" (``tukupedia``): y reads as one there.
_SWAP_VOWELS = "aeiouy"

# dnstwist's keyboard layouts (qwerty, qwertz, azerty): a key and its neighbours.
_KEYBOARDS: tuple[Mapping[str, str], ...] = (
    {
        "1": "2q", "2": "3wq1", "3": "4ew2", "4": "5re3", "5": "6tr4", "6": "7yt5", "7": "8uy6",
        "8": "9iu7", "9": "0oi8", "0": "po9", "q": "12wa", "w": "3esaq2", "e": "4rdsw3",
        "r": "5tfde4", "t": "6ygfr5", "y": "7uhgt6", "u": "8ijhy7", "i": "9okju8", "o": "0plki9",
        "p": "lo0", "a": "qwsz", "s": "edxzaw", "d": "rfcxse", "f": "tgvcdr", "g": "yhbvft",
        "h": "ujnbgy", "j": "ikmnhu", "k": "olmji", "l": "kop", "z": "asx", "x": "zsdc",
        "c": "xdfv", "v": "cfgb", "b": "vghn", "n": "bhjm", "m": "njk",
    },
    {
        "6": "7zt5", "t": "6zgfr5", "z": "7uhgt6", "u": "8ijhz7", "a": "qwsy", "s": "edxyaw",
        "g": "zhbvft", "h": "ujnbgz", "y": "asx", "x": "ysdc",
    },
    {
        "1": "2a", "2": "3za1", "3": "4ez2", "a": "2zq1", "z": "3esqa2", "e": "4rdsz3",
        "p": "lo0m", "q": "zswa", "s": "edxwqz", "j": "iknhu", "k": "olji", "l": "kopm",
        "m": "lp", "w": "sxq", "x": "wsdc", "n": "bhj",
    },
)  # fmt: skip
_ADJACENT = frozenset((k, n) for layout in _KEYBOARDS for k, ns in layout.items() for n in ns)

# ASCII homoglyphs: target text -> what a lookalike shows instead (and the reverse below).
_ASCII_GLYPHS: Mapping[str, tuple[str, ...]] = {
    "0": ("o",), "1": ("l", "i"), "3": ("8",), "5": ("s",), "6": ("9", "b"), "8": ("3",),
    "9": ("6", "g", "q"), "2": ("z",), "b": ("d", "lb", "6"), "c": ("e",),
    "d": ("b", "cl", "dl"), "e": ("c",), "g": ("q", "9"), "h": ("lh", "b"), "i": ("1", "l"),
    "k": ("lc", "lk"), "l": ("1", "i"), "m": ("n", "nn", "rn", "rr"), "n": ("m", "r", "ri"),
    "o": ("0",), "q": ("g", "9"), "s": ("5",), "u": ("v",), "v": ("u",), "w": ("vv", "uu"),
    "z": ("2",), "rn": ("m",), "cl": ("d",), "vv": ("w",), "nn": ("m",), "ri": ("n",),
}  # fmt: skip
_SINGLE_GLYPH_PAIRS = frozenset(
    (a, b) for a, bs in _ASCII_GLYPHS.items() for b in bs if len(a) == 1 and len(b) == 1
)

_SPLIT = re.compile(r"[-0-9]+")


def _is_distinctive(label: str, generic: frozenset[str], min_len: int) -> bool:
    return len(label) >= min_len and label not in generic and not label.isdigit()


def _glyph_mix(text: str) -> Iterable[tuple[str, str]]:
    """Every single glyph substitution of ``text``, with a note ``shown→meant``."""
    for i, char in enumerate(text):
        for glyph in _ASCII_GLYPHS.get(char, ()):
            yield text[:i] + glyph + text[i + 1 :], f"{glyph}→{char}"
    for i in range(len(text) - 1):
        pair = text[i : i + 2]
        for glyph in _ASCII_GLYPHS.get(pair, ()):
            yield text[:i] + glyph + text[i + 2 :], f"{glyph}→{pair}"


def _segmentable(text: str, words: frozenset[str], max_word: int) -> bool:
    """True when ``text`` is a sequence of ``words`` (digits and hyphens may separate them)."""
    text = _SPLIT.sub(" ", text)
    for piece in text.split():
        n = len(piece)
        ok = [True] + [False] * n
        for end in range(1, n + 1):
            for start in range(max(0, end - max_word), end):
                if ok[start] and piece[start:end] in words:
                    ok[end] = True
                    break
        if not ok[n]:
            return False
    return True


def _similarity(a: str, b: str) -> float:
    return round(float(Indel.normalized_similarity(a, b)) * 100.0, 1)


_CLASS_RANK = {cls: i for i, cls in enumerate(VariantClass)}


class VariantIndex:
    """Precomputed lookalike indexes over a set of target hosts.

    ``targets`` are already split (the caller owns the public-suffix list); ``generic`` adds
    labels to ``GENERIC_LABELS`` and ``words`` to ``WORD_LABELS``; ``no_short`` names short
    labels that get no short-label budget (a corporate host such as ``qq.com`` is no platform
    a squatter copies, and its label is a common chat word).
    """

    def __init__(
        self,
        targets: Iterable[Target],
        *,
        generic: Iterable[str] = (),
        words: Iterable[str] = (),
        no_short: Iterable[str] = (),
    ) -> None:
        self._generic = GENERIC_LABELS | frozenset(g.lower() for g in generic)
        no_short_labels = frozenset(skeleton(x.lower()) for x in no_short)
        self._word_labels = WORD_LABELS | frozenset(w.lower() for w in words)
        by_label: dict[str, list[Target]] = {}
        registrables: set[str] = set()
        hosts: set[str] = set()
        for target in targets:
            key = skeleton(target.label)
            by_label.setdefault(key, []).append(target)
            registrables.add(target.registrable)
            hosts.add(target.host)
        self._targets: dict[str, tuple[Target, ...]] = {
            label: tuple(sorted(ts, key=lambda t: (t.registrable != t.host, t.host)))
            for label, ts in sorted(by_label.items())
        }
        self._registrables = frozenset(registrables)
        self._hosts = frozenset(hosts)
        self._homograph_labels = frozenset(lb for lb in self._targets if len(lb) >= MIN_SHORT_LEN)
        edit = sorted(
            lb for lb in self._targets if _is_distinctive(lb, self._generic, MIN_EDIT_LEN)
        )
        self._edit_labels = frozenset(edit)
        short = sorted(
            lb
            for lb in self._targets
            if lb not in self._edit_labels
            and (len(lb) < MIN_EDIT_LEN or lb.isdigit())
            and len(lb) >= MIN_SHORT_LEN
            and lb not in self._generic
            and lb not in _COMMON_WORDS
            and lb not in SHORT_WORD_LABELS
            and lb not in no_short_labels
            and lb.isascii()
        )
        self._short_labels = frozenset(short)
        self._long_labels = tuple(lb for lb in edit if len(lb) >= MIN_TWO_EDIT_LEN)
        self._combo_labels = frozenset(
            lb for lb in self._targets if _is_distinctive(lb, self._generic, MIN_COMBO_LEN)
        )
        self._combo_lengths = tuple(sorted({len(lb) for lb in self._combo_labels}, reverse=True))
        self._anchors = frozenset(lb[:3] for lb in self._combo_labels)

        deletes: dict[str, list[tuple[str, int]]] = {}
        glyphs: dict[str, tuple[str, str]] = {}
        plurals: dict[str, tuple[str, str]] = {}
        for label in edit:
            for i in range(len(label)):
                deletes.setdefault(label[:i] + label[i + 1 :], []).append((label, i))
            first = dict(_glyph_mix(label))
            for text, note in sorted(first.items()):
                glyphs.setdefault(text, (label, note))
            for text, note in sorted(first.items()):
                for text2, note2 in _glyph_mix(text):
                    glyphs.setdefault(text2, (label, f"{note}, {note2}"))
            plurals.setdefault(label + "s", (label, "plural 's' added"))
            plurals.setdefault(label + "es", (label, "plural 'es' added"))
            for i in range(1, len(label)):
                plurals.setdefault(label[:i] + "es" + label[i:], (label, "'es' inserted"))
        vowels: dict[str, tuple[str, str]] = {}
        for label in edit:
            for v in sorted(set(label) & set(_SWAP_VOWELS)):
                if label.count(v) < 2:
                    continue  # one copy changed is a one-edit vowel swap already
                for w in _SWAP_VOWELS:
                    if w != v:
                        vowels.setdefault(label.replace(v, w), (label, f"every '{v}'→'{w}'"))
        shorts: dict[str, tuple[str, VariantClass, str]] = {}
        for label in short:
            for i, char in enumerate(label):
                shorts.setdefault(
                    label[: i + 1] + char + label[i + 1 :],
                    (label, VariantClass.REPETITION, f"repetition of '{char}'"),
                )
                if i:
                    shorts.setdefault(
                        label[:i] + "-" + label[i:],
                        (label, VariantClass.HYPHENATION, "hyphen inserted"),
                    )
            if len(label) >= SHORT_INSERT_LEN:
                for i in range(len(label) + 1):
                    for char in "abcdefghijklmnopqrstuvwxyz0123456789":
                        shorts.setdefault(
                            label[:i] + char + label[i:],
                            (label, VariantClass.INSERTION, f"insertion of '{char}'"),
                        )
            for text, note in sorted(_glyph_mix(label)):
                changed = [c for a, c in zip(label, text, strict=False) if a != c]
                if len(text) == len(label) and all(c.isdigit() for c in changed):
                    continue  # a digit for a digit is another number, not a lookalike
                if len(label) >= 3:
                    shorts.setdefault(text, (label, VariantClass.HOMOGLYPH, f"homoglyph {note}"))
        for label in (*edit, *short):
            glyphs.pop(label, None)
            vowels.pop(label, None)
            shorts.pop(label, None)
        for taken in (*self._targets, *glyphs, *plurals):
            vowels.pop(taken, None)
            shorts.pop(taken, None)
        dotless: dict[str, Target] = {}
        for target in sorted(
            (t for ts in self._targets.values() for t in ts), key=lambda t: t.registrable
        ):
            if target.label in self._edit_labels or target.label in self._short_labels:
                dotless.setdefault(target.registrable.replace(".", ""), target)
        self._deletes = {k: tuple(v) for k, v in deletes.items()}
        self._glyphs = glyphs
        self._plurals = plurals
        self._vowels = vowels
        self._shorts = shorts
        self._dotless = dotless
        self._max_affix = max(len(w) for w in AFFIX_WORDS)

    # ---- public ------------------------------------------------------------------------
    def ascii_lookalike_labels(self) -> frozenset[str]:
        """Every ASCII label `detect` can call a lookalike by its label alone: the target labels
        (TLD swaps), each label within one edit of an edit label over the letters, digits and
        hyphen of host names, the homoglyph and plural spellings. With `hyphenated`,
        `combo_labels` and the host spellings for subdomains, a batch engine can tell in bulk
        which ASCII hosts `detect` has nothing to say about."""
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-"
        out: set[str] = set(self._targets)
        for label in self._edit_labels:
            for i in range(len(label) + 1):
                head, tail = label[:i], label[i:]
                out.update(head + c + tail for c in alphabet)  # insertions
                if tail:
                    out.add(head + tail[1:])  # omission
                    out.update(head + c + tail[1:] for c in alphabet)  # replacements
                if len(tail) > 1:
                    out.add(head + tail[1] + tail[0] + tail[2:])  # transposition
            for i, char in enumerate(label):  # a letter moved anywhere
                rest = label[:i] + label[i + 1 :]
                out.update(rest[:j] + char + rest[j:] for j in range(len(rest) + 1))
        out.update(self._glyphs)
        out.update(self._plurals)
        out.update(self._vowels)
        out.update(self._shorts)
        return frozenset(out)

    @property
    def long_labels(self) -> tuple[str, ...]:
        """Edit labels of `MIN_TWO_EDIT_LEN` characters or more: `detect` also finds them with
        two characters substituted (same length, Hamming distance 2), or one substituted and
        one doubled (one character longer, Hamming distance 1 once the double is undone)."""
        return self._long_labels

    @property
    def dotted_labels(self) -> frozenset[str]:
        """Labels that dot insertion restores (``tao.bao.com``): edit and short labels."""
        return self._edit_labels | self._short_labels

    @property
    def dotless_hosts(self) -> frozenset[str]:
        """Target registrable domains with their dots taken out: a host whose dotless form,
        ``www`` in front left aside, starts with one of them may be a missing-dot lookalike."""
        return frozenset(self._dotless)

    @property
    def target_labels(self) -> frozenset[str]:
        """The registrable labels (skeletons) of every target."""
        return frozenset(self._targets)

    @property
    def edit_labels(self) -> frozenset[str]:
        """Target labels distinctive enough for typo matching (hyphenation, dot insertion)."""
        return self._edit_labels

    @property
    def combo_labels(self) -> frozenset[str]:
        """Target labels that combosquatting and subdomain abuse look for inside labels."""
        return self._combo_labels

    @property
    def hosts(self) -> frozenset[str]:
        """Every target host."""
        return self._hosts

    @property
    def registrables(self) -> frozenset[str]:
        """The registrable domains of the targets."""
        return self._registrables

    def targets_for_label(self, label: str) -> tuple[Target, ...]:
        """Targets whose registrable label (skeleton) is ``label``."""
        return self._targets.get(skeleton(label), ())

    def is_distinctive(self, label: str) -> bool:
        """Whether ``label`` is long and specific enough for typo/TLD-swap matching."""
        return skeleton(label) in self._edit_labels

    def detect(self, cand: Candidate) -> Variant | None:
        """The lookalike finding for one candidate host, or None. Deterministic."""
        if cand.registrable in self._registrables:
            return None
        folded = skeleton(cand.label)
        raw = cand.label.lower()
        homograph = folded != raw
        found = self._same_label(cand, folded, homograph) or self._dot_insertion(cand, folded)
        if found is None and folded not in _COMMON_WORDS and not _word_and_letter(folded):
            # A label that is itself a common word ("mall", "shop"), or one with a letter in
            # front ("tmail", a mail service), is a site of its own, not a typo of a brand
            # one edit away.
            found = (
                self._edit(cand, folded, homograph)
                or self._glyph(cand, folded, homograph)
                or self._hyphen_plural(cand, folded, homograph)
                or self._vowel_short(cand, folded, homograph)
                or self._two_edits(cand, folded, homograph)
            )
        return (
            found
            or self._missing_dot(cand.host, cand)
            or self._combo(cand, folded)
            or self._subdomain_abuse(cand)
        )

    def detect_unsplit(self, host: str) -> Variant | None:
        """The finding for an ASCII host without a known public suffix (``shopee.coid``): only
        a missing dot can be said of it."""
        return self._missing_dot(host, None)

    # ---- steps -------------------------------------------------------------------------
    def _pick(self, label: str, cand: Candidate) -> Target:
        """The target a lookalike of ``label`` imitates: same suffix, else .com, else first."""
        targets = self._targets[label]
        if len(targets) == 1:
            return targets[0]
        for target in targets:
            if target.suffix == cand.suffix and target.registrable == target.host:
                return target
        for target in targets:
            if target.suffix == cand.suffix:
                return target
        for target in targets:
            if target.suffix == "com":
                return target
        return targets[0]

    def _imitated_host(self, target: Target, cand: Candidate) -> str:
        """The most specific target host the candidate's subdomain points at."""
        if cand.subdomain:
            sub = cand.subdomain
            for i in range(len(sub)):
                host = ".".join((*sub[i:], target.registrable))
                if host in self._hosts:
                    return host
        return target.registrable

    def _result(
        self, cls: VariantClass, label: str, cand: Candidate, note: str, seen: str
    ) -> Variant:
        target = self._pick(label, cand)
        imitates = self._imitated_host(target, cand)
        sim = _similarity(seen, label)
        return Variant(cls, imitates, sim, f"lookalike of {imitates}: {note}")

    def _same_label(self, cand: Candidate, folded: str, homograph: bool) -> Variant | None:
        if folded not in self._targets:
            return None
        if homograph and folded in self._homograph_labels:
            return self._result(
                VariantClass.HOMOGRAPH, folded, cand, _homograph_note(cand.label), folded
            )
        if folded in self._edit_labels or folded in self._short_labels:
            target = self._pick(folded, cand)
            if target.suffix != cand.suffix:
                return self._result(
                    VariantClass.TLD_SWAP,
                    folded,
                    cand,
                    f"same label under .{cand.suffix} instead of .{target.suffix}",
                    folded,
                )
        return None

    def _glyph(self, cand: Candidate, folded: str, homograph: bool) -> Variant | None:
        hit = self._glyphs.get(folded)
        if hit is None:
            return None
        label, note = hit
        if homograph:
            note = f"{note}; {_homograph_note(cand.label)}"
        return self._result(VariantClass.HOMOGLYPH, label, cand, f"homoglyph {note}", folded)

    def _edit(self, cand: Candidate, folded: str, homograph: bool) -> Variant | None:
        best: tuple[int, str, VariantClass, str] | None = None

        def offer(cls: VariantClass, label: str, note: str) -> None:
            nonlocal best
            key = (_CLASS_RANK[cls], label, cls, note)
            if best is None or key < best:
                best = key

        deletes = self._deletes
        for label, i in deletes.get(folded, ()):
            offer(VariantClass.OMISSION, label, f"omission of '{label[i]}'")
        labels = self._edit_labels
        for j in range(len(folded)):
            shorter = folded[:j] + folded[j + 1 :]
            if shorter in labels:
                offer(*_classify_insertion(folded, j, shorter))
            for label, i in deletes.get(shorter, ()):
                if i == j:
                    offer(*_classify_replacement(label[i], folded[j], label))
                elif abs(i - j) == 1 and _is_transposition(folded, label):
                    lo = min(i, j)
                    offer(
                        VariantClass.TRANSPOSITION,
                        label,
                        f"transposition '{label[lo : lo + 2]}'→'{folded[lo : lo + 2]}'",
                    )
                elif label[i] == folded[j]:
                    offer(
                        VariantClass.MOVED_LETTER,
                        label,
                        f"'{label[i]}' moved from place {i + 1} to place {j + 1}",
                    )
        if best is None:
            return None
        _, label, cls, note = best
        if homograph:
            note = f"{note}; {_homograph_note(cand.label)}"
        return self._result(cls, label, cand, note, folded)

    def _hyphen_plural(self, cand: Candidate, folded: str, homograph: bool) -> Variant | None:
        if "-" in folded:
            joined = folded.replace("-", "")
            if joined in self._edit_labels:
                return self._result(
                    VariantClass.HYPHENATION, joined, cand, f"hyphenated as {folded}", folded
                )
        hit = self._plurals.get(folded)
        if hit is not None:
            label, note = hit
            return self._result(VariantClass.PLURAL, label, cand, note, folded)
        return None

    def _vowel_short(self, cand: Candidate, folded: str, homograph: bool) -> Variant | None:
        hit = self._vowels.get(folded)
        if hit is not None:
            label, note = hit
            if homograph:
                note = f"{note}; {_homograph_note(cand.label)}"
            return self._result(VariantClass.VOWEL_SWAP, label, cand, f"vowel swap {note}", folded)
        short = self._shorts.get(folded)
        if short is not None:
            label, cls, note = short
            if homograph:
                note = f"{note}; {_homograph_note(cand.label)}"
            return self._result(cls, label, cand, f"{note} (short label)", folded)
        return None

    def _two_edits(self, cand: Candidate, folded: str, homograph: bool) -> Variant | None:
        """Two edits in a long label, when exactly one long label is that close: two
        substitutions (``aliggpress``, ``tokopediqq``), or one and a doubled character
        (``aliexpres77``).

        Other pairs (two insertions, a deletion and an insertion) are left out on purpose:
        they turn a long brand into ordinary compounds ("indiankart", "runetracker")."""
        n = len(folded)
        if n < MIN_TWO_EDIT_LEN or not self._long_labels:
            return None
        found: dict[str, str] = {}
        for label, _, _ in process.extract(
            folded, self._long_labels, scorer=Hamming.distance, score_cutoff=2, limit=3
        ):
            if len(label) == n:
                found.setdefault(label, "two substitutions")
        for j in range(1, n):
            if folded[j] != folded[j - 1]:
                continue
            text = folded[:j] + folded[j + 1 :]
            for label, _, _ in process.extract(
                text, self._long_labels, scorer=Hamming.distance, score_cutoff=1, limit=3
            ):
                if len(label) == n - 1:
                    found.setdefault(label, f"a substitution and a doubled '{folded[j]}'")
        labels = sorted(found)
        if not labels or any(Hamming.distance(labels[0], other) > 1 for other in labels[1:]):
            return None  # none, or ambiguous between two long labels (one name spelt two
            # ways, mercadolibre/mercadolivre, is not ambiguous)
        label = labels[0]
        how = found[label]
        note = f"two edits in '{label}' ({how})"
        if homograph:
            note = f"{note}; {_homograph_note(cand.label)}"
        return self._result(VariantClass.TWO_EDITS, label, cand, note, folded)

    def _missing_dot(self, host: str, cand: Candidate | None) -> Variant | None:
        """A dot left out: the host without its dots (``www`` in front left aside) is a target
        registrable without its dots, alone or with the host's own suffix glued on."""
        if not host.isascii():
            return None
        flat = host.replace(".", "")
        bare = flat[3:] if flat.startswith("www") else flat
        tail = cand.suffix.replace(".", "") if cand is not None else ""
        for text in (flat, bare):
            target = self._dotless.get(text)
            if target is None and tail and text.endswith(tail):
                target = self._dotless.get(text[: -len(tail)])
            if target is not None:
                reg = target.registrable
                imitates = self._imitated_host(target, cand) if cand is not None else reg
                note = f"dot left out: {host} for {reg}"
                return Variant(
                    VariantClass.MISSING_DOT,
                    imitates,
                    _similarity(flat, reg.replace(".", "")),
                    f"lookalike of {imitates}: {note}",
                )
        return None

    def _dot_insertion(self, cand: Candidate, folded: str) -> Variant | None:
        if not cand.subdomain:
            return None
        joined = skeleton(cand.subdomain[-1]) + folded
        if joined in self._edit_labels or joined in self._short_labels:
            note = f"dot inserted: {cand.subdomain[-1]}.{cand.label}"
            return self._result(VariantClass.DOT_INSERTION, joined, cand, note, joined)
        return None

    def _find_embedded(self, text: str) -> tuple[str, int] | None:
        """The longest combosquatting-eligible target label inside ``text`` and its start."""
        anchors = self._anchors
        labels = self._combo_labels
        best: tuple[int, int, str] | None = None
        n = len(text)
        for i in range(n - 2):
            if text[i : i + 3] not in anchors:
                continue
            for length in self._combo_lengths:
                if i + length <= n and text[i : i + length] in labels:
                    key = (-length, i, text[i : i + length])
                    if best is None or key < best:
                        best = key
                    break
        if best is None:
            return None
        return best[2], best[1]

    def _combo_ok(self, text: str, label: str, start: int) -> bool:
        left, right = text[:start], text[start + len(label) :]
        if len(label) >= MIN_FREE_COMBO_LEN and label not in self._word_labels:
            return True
        if (
            len(label) >= MIN_FREE_EDGE_LEN
            and label not in self._word_labels
            and (not left or not right)
            and len(left or right) >= MIN_FREE_AFFIX
        ):
            return True
        for part, bounded in ((left, not left or left[-1] in "-0123456789"),
                              (right, not right or right[0] in "-0123456789")):  # fmt: skip
            if bounded:
                continue
            if not _segmentable(part, AFFIX_WORDS, self._max_affix):
                return False
        return True

    def _combo(self, cand: Candidate, folded: str) -> Variant | None:
        hit = self._find_embedded(folded)
        if hit is None:
            return None
        label, start = hit
        if label == folded or not self._combo_ok(folded, label, start):
            return None
        others = _SPLIT.split(folded[:start] + "-" + folded[start + len(label) :])
        words = ", ".join(repr(p) for p in others if p) or "digits"
        note = f"'{label}' combined with {words}"
        return self._result(VariantClass.COMBOSQUATTING, label, cand, note, folded)

    def _subdomain_abuse(self, cand: Candidate) -> Variant | None:
        if not cand.subdomain:
            return None
        sub = tuple(skeleton(s) for s in cand.subdomain)
        # A whole target host spelled inside the subdomain ("taobao.com.login-verify.xyz").
        for i in range(len(sub) - 1):
            for j in range(i + 2, len(sub) + 1):
                spelled = ".".join(sub[i:j])
                if spelled in self._hosts or spelled in self._registrables:
                    note = f"'{spelled}' used as a subdomain of {cand.registrable}"
                    return Variant(
                        VariantClass.SUBDOMAIN_ABUSE,
                        spelled,
                        _similarity(".".join(sub[i:]), spelled),
                        f"lookalike of {spelled}: {note}",
                    )
        for part in sub:
            for token in _SPLIT.split(part):
                if token in self._combo_labels:
                    target = self._pick(token, cand)
                    note = f"'{token}' used as a subdomain of {cand.registrable}"
                    return Variant(
                        VariantClass.SUBDOMAIN_ABUSE,
                        target.registrable,
                        _similarity(part, token),
                        f"lookalike of {target.registrable}: {note}",
                    )
        return None


def _word_and_letter(text: str) -> bool:
    """``tmail``, ``emall``: one letter in front of a common word of four letters or more, the
    way real services name themselves. (A letter behind one is left to the typo steps:
    ``shope`` is Shopee without an ``e``.)"""
    return len(text) >= 5 and text[0].isalpha() and text[1:] in _COMMON_WORDS


def _homograph_note(label: str) -> str:
    chars = sorted({c for c in label if not c.isascii()})
    shown = ", ".join(f"{c}→{skeleton(c)}" for c in chars[:4])
    more = "…" if len(chars) > 4 else ""
    return f"homograph {shown}{more}"


def _classify_insertion(folded: str, j: int, label: str) -> tuple[VariantClass, str, str]:
    char = folded[j]
    if (j > 0 and folded[j - 1] == char) or (j + 1 < len(folded) and folded[j + 1] == char):
        return VariantClass.REPETITION, label, f"repetition of '{char}'"
    if char == "-":
        return VariantClass.HYPHENATION, label, "hyphen inserted"
    if char == "s" and j == len(folded) - 1:
        return VariantClass.PLURAL, label, "plural 's' added"
    return VariantClass.INSERTION, label, f"insertion of '{char}'"


def _classify_replacement(meant: str, shown: str, label: str) -> tuple[VariantClass, str, str]:
    if (meant, shown) in _SINGLE_GLYPH_PAIRS:
        return VariantClass.HOMOGLYPH, label, f"homoglyph {shown}→{meant}"
    if meant in _VOWELS and shown in _VOWELS:
        return VariantClass.VOWEL_SWAP, label, f"vowel swap {meant}→{shown}"
    if (meant, shown) in _ADJACENT:
        return VariantClass.REPLACEMENT, label, f"replacement {meant}→{shown} (adjacent key)"
    if (ord(meant) ^ ord(shown)).bit_count() == 1:
        return VariantClass.BITSQUATTING, label, f"bitsquatting {meant}→{shown} (one bit)"
    return VariantClass.REPLACEMENT, label, f"replacement {meant}→{shown}"


def _is_transposition(a: str, b: str) -> bool:
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and a[diff[1]] == b[diff[0]]
    )
