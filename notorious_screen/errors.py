"""The exception tree and the source location that every data error carries.

    NotoriousScreenError            base of everything this library raises
    ├── DataError                   a YAML file (market data, rule pack) is invalid; has .location
    │   └── RulePackError           a rule pack is invalid (field, operator, regex, extends cycle)
    └── InputError                  a whole input (file, column, frame) is unusable

A bad *row* never raises: it gets an error code in its result. Exceptions carry defaults for
every field so they pickle across process pools.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DataError", "InputError", "Location", "NotoriousScreenError", "RulePackError"]


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a text file, 1-based, printed like a compiler does: ``path:line:column``."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        return f"{self.path}:{self.line}:{self.column}"


class NotoriousScreenError(Exception):
    """Base class of every error raised by notorious_screen."""

    def __str__(self) -> str:
        return _printable(super().__str__())


# C0/C1 controls (but tab and newline) and bidi overrides: a message may quote a hostile file
# or pack, and raw ESC sequences in it would drive the terminal that shows the error.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _printable(text: str) -> str:
    """``text`` with control and bidi-override characters written as ``\\x1b``-style escapes."""
    return _UNPRINTABLE.sub(
        lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text
    )


class DataError(NotoriousScreenError):
    """A YAML data file or rule pack failed to load or validate.

    ``str(err)`` is ``path:line:column: message``; ``message`` and ``location`` are kept apart
    for programs that want them.
    """

    def __init__(self, message: str = "", location: Location | None = None) -> None:
        self.message = message
        self.location = location
        super().__init__(message, location)

    def __str__(self) -> str:
        if self.location is None:
            return _printable(self.message)
        return _printable(f"{self.location}: {self.message}")

    def __reduce__(self) -> tuple[type[DataError], tuple[str, Location | None]]:
        return (type(self), (self.message, self.location))


class RulePackError(DataError):
    """A rule pack is invalid."""


class InputError(NotoriousScreenError):
    """An input as a whole cannot be screened (missing column, unreadable file, bad encoding)."""
