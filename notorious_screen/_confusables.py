"""A compact UTS #39-style skeleton: fold characters that look like ASCII letters/digits to them.

Python ships no UTS #39 ``confusables.txt`` and a new core dependency for one table is not worth
it, so the table is generated into ``data/confusables.txt`` (regenerate with
``python -m notorious_screen._confusables``) from two sources:

* every code point whose NFKD decomposition, once combining marks are dropped, is one ASCII
  letter or digit (accented Latin ``é``, ``ḃ``, ``ǎ``...), chained through the hand list below
  (``ё`` -> ``е`` -> ``e``). Forms that NFKC already maps to ASCII (fullwidth ``ａ``,
  mathematical ``𝐚``, circled ``ⓐ``) get no row: ``skeleton`` applies NFKC first;
* a hand-checked list of the well-known lookalikes that have no decomposition: Cyrillic and
  Greek letters that render like Latin ones (``а``, ``о``, ``р``, ``с``, ``ο``, ``ν``...),
  Armenian ``օ``/``ս``/``ո``, IPA and small-capital letters, and stroke/hook letters
  (``ł``, ``đ``, ``ɓ``). It covers the lists dnstwist uses (``glyphs_unicode`` and
  ``latin_to_cyrillic``) and the Latin-target rows of UTS #39 for those scripts.

It deliberately does not cover CJK, Arabic, Hebrew or Indic lookalikes (their targets are not
Latin), nor ASCII-to-ASCII confusion (``rn``/``m``, ``0``/``o``): that lives in ``_variants``.
The file is generated once and committed, so results do not depend on the running Python's
Unicode version.

A service module (private to the package; its public names are imported by `_variants`,
`match`).
"""

from __future__ import annotations

import importlib.resources
import sys
import unicodedata
from functools import lru_cache

__all__ = ["confusable_table", "skeleton"]

# Hand-checked lookalikes without a canonical/compatibility decomposition. Lowercase only:
# hosts are case-folded before they get here, and skeleton() lowercases its input.
HAND_CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "а": "a", "ь": "b", "с": "c", "ԁ": "d", "е": "e", "ԍ": "g", "һ": "h", "і": "i",
    "ј": "j", "к": "k", "ӏ": "l", "м": "m", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s",
    "т": "t", "ѵ": "v", "ԝ": "w", "х": "x", "у": "y", "ү": "y", "ɜ": "3", "з": "3",
    "ҽ": "e", "ԑ": "e", "ԃ": "d", "ԏ": "t", "ӡ": "3", "ѡ": "w",
    # Greek
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "υ": "u", "ι": "i", "κ": "k", "τ": "t",
    "χ": "x", "γ": "y", "ϲ": "c", "ϳ": "j", "ω": "w", "η": "n", "ϱ": "p", "ϰ": "k",
    "ε": "e",
    # Armenian
    "օ": "o", "ս": "u", "ո": "n", "ց": "g", "հ": "h", "զ": "q", "ւ": "l",
    # Latin letters with a stroke, hook or bar (no decomposition in Unicode)
    "đ": "d", "ħ": "h", "ł": "l", "ø": "o", "ŧ": "t", "ƀ": "b", "ɨ": "i", "ɉ": "j",
    "ɍ": "r", "ɏ": "y", "ƶ": "z", "ǥ": "g", "ɇ": "e", "ʉ": "u", "ƒ": "f", "ɦ": "h",
    "ⱨ": "h", "ʝ": "j", "ĸ": "k", "ⱪ": "k", "ɫ": "l", "ɱ": "m", "ꞑ": "n", "ŋ": "n",
    "ƿ": "p", "ƥ": "p", "ʠ": "q", "ɾ": "r", "ɽ": "r", "ɼ": "r", "ʂ": "s", "ƫ": "t",
    "ᶌ": "v", "ⱴ": "v", "ⱱ": "v", "ⱳ": "w", "ƴ": "y", "ỿ": "y", "ⱬ": "z", "ʐ": "z",
    "ɓ": "b", "ƅ": "b", "ɖ": "d", "ɗ": "d", "ƈ": "c", "ɠ": "g", "ƙ": "k", "ɲ": "n",
    "ƭ": "t", "ʋ": "v", "ȥ": "z", "ɵ": "o", "ɔ": "c", "ʈ": "t", "ɭ": "l", "ɬ": "l",
    # IPA and small capitals
    "ɑ": "a", "ə": "a", "ɡ": "g", "ɩ": "i", "ı": "i", "ȷ": "j", "ɪ": "i", "ʟ": "l",
    "ᴏ": "o", "ᴄ": "c", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ᴢ": "z", "ʀ": "r", "ʙ": "b",
    "ɢ": "g", "ʜ": "h", "ᴋ": "k", "ᴍ": "m", "ɴ": "n", "ᴘ": "p", "ꜱ": "s", "ᴛ": "t",
    "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ᴊ": "j", "ᴀ": "a", "ʏ": "y",
    # digit lookalikes
    "ƻ": "2", "ʒ": "3", "ƽ": "5", "ꝫ": "3",
    # ligatures that read as two letters
    "æ": "ae", "œ": "oe", "ꜳ": "aa", "ĳ": "ij",
}  # fmt: skip

_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_DATA_NAME = "confusables.txt"


def _strip_marks(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def generate_table() -> dict[str, str]:
    """Build the table from unicodedata and ``HAND_CONFUSABLES`` (only used to regenerate)."""
    table: dict[str, str] = {}
    for cp in range(0x80, 0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        char = chr(cp)
        if char in HAND_CONFUSABLES:
            table[char] = HAND_CONFUSABLES[char]
            continue
        if unicodedata.normalize("NFKC", char).lower() in _ASCII_ALNUM:
            # skeleton() applies NFKC first, so fullwidth, mathematical, circled and
            # superscript forms need no row of their own.
            continue
        folded = _strip_marks(char).lower()
        folded = "".join(HAND_CONFUSABLES.get(c, c) for c in folded)
        # Single-character targets only: a decomposition to several letters ("㎏" -> "kg",
        # "ǆ" -> "dž") is not a visual lookalike of one letter.
        if len(folded) == 1 and folded in _ASCII_ALNUM:
            table[char] = folded
    return table


def render_table(table: dict[str, str]) -> str:
    """The data-file text: ``HEX<TAB>target<TAB># NAME``, sorted by code point."""
    lines = [
        "# Confusable characters -> ASCII skeleton (generated by notorious_screen._confusables;",
        "# do not edit by hand). Source: NFKD with combining marks stripped, plus the hand-checked",
        f"# list in _confusables.HAND_CONFUSABLES. Unicode {unicodedata.unidata_version}.",
    ]
    for char in sorted(table):
        name = unicodedata.name(char, "?")
        lines.append(f"{ord(char):04X}\t{table[char]}\t# {name}")
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=1)
def confusable_table() -> dict[int, str]:
    """The bundled table as a ``str.translate`` mapping (code point -> ASCII replacement)."""
    text = (importlib.resources.files("notorious_screen") / "data" / _DATA_NAME).read_text(
        encoding="utf-8"
    )
    table: dict[int, str] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        hexcode, target, _ = line.split("\t", 2)
        table[int(hexcode, 16)] = target
    return table


def skeleton(text: str) -> str:
    """Lowercase ``text`` and replace every known lookalike by its ASCII prototype.

    Characters without an entry stay as they are, so a skeleton that is still non-ASCII cannot
    equal an ASCII target.
    """
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKC", text).lower().translate(confusable_table())


def main() -> int:
    """Regenerate ``data/confusables.txt`` next to this module."""
    from pathlib import Path

    path = Path(__file__).resolve().parent / "data" / _DATA_NAME
    path.write_text(render_table(generate_table()), encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
