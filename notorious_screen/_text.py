"""Small text helpers every module shares: did-you-mean suggestions, terminal-safe text, lone
surrogates, and a host's parent hosts. The module serves the rest of the package (its names
are imported across modules); it depends on nothing else in it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

__all__ = ["SURROGATES", "closest", "did_you_mean", "is_under", "parents", "printable"]

#: Lone surrogates: Arrow and UTF-8 cannot hold them; they become U+FFFD (or a separator).
SURROGATES = re.compile("[\ud800-\udfff]")

# C0/C1 controls (but tab and newline) and bidi overrides: a message may quote a hostile file
# or pack, and raw ESC sequences in it would drive the terminal that shows the error.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with control and bidi-override characters written as ``\\x1b``-style escapes."""
    return _UNPRINTABLE.sub(
        lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text
    )


def closest(word: object, choices: Iterable[str]) -> str | None:
    """The choice a misspelt ``word`` most likely meant, or None."""
    if not isinstance(word, str):
        return None
    import difflib  # error paths only

    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``""``: the tail of an error."""
    close = closest(word, choices)
    return f"; did you mean '{close}'?" if close else ""


def parents(host: str) -> Iterator[str]:
    """``host`` and each host above it: ``a.b.c``, ``b.c``, ``c``."""
    labels = host.split(".")
    for i in range(len(labels)):
        yield ".".join(labels[i:])


def is_under(host: str, ancestors: Iterable[str]) -> bool:
    """Whether ``host`` is one of ``ancestors`` or a subdomain of one."""
    return any(host == p or host.endswith("." + p) for p in ancestors)
