"""The exception tree and the source location that every data error carries.

    NotoriousScreenError            base of everything this library raises
    ├── DataError                   a YAML file (market data, rule pack) is invalid; has .location
    │   └── RulePackError           a rule pack is invalid (field, operator, regex, extends cycle)
    ├── InputError                  a whole input (file, column, frame) is unusable
    └── MarketLookupError           an unknown list, edition, market or owner was asked for
                                    (also a LookupError)

A bad *row* never raises: it gets an error code in its result. Exceptions carry defaults for
every field so they pickle across process pools.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TypeVar

from ._text import printable

__all__ = [
    "DataError",
    "InputError",
    "Location",
    "MarketLookupError",
    "NotoriousScreenError",
    "RulePackError",
    "renamed",
]


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
        return printable(super().__str__())


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
            return printable(self.message)
        return printable(f"{self.location}: {self.message}")

    def __reduce__(self) -> tuple[type[DataError], tuple[str, Location | None]]:
        return (type(self), (self.message, self.location))


class RulePackError(DataError):
    """A rule pack is invalid."""


class InputError(NotoriousScreenError):
    """An input as a whole cannot be screened (missing column, unreadable file, bad encoding)."""


class MarketLookupError(NotoriousScreenError, LookupError):
    """An unknown list, edition year, market or owner was asked for (the CLI exits 1)."""


_T = TypeVar("_T")


def renamed(old: str, old_value: _T | None, new: str, new_value: _T) -> _T:
    """The value of a renamed keyword argument: ``new_value``, or the deprecated ``old`` one
    when given (with a :class:`DeprecationWarning` naming the new spelling)."""
    if old_value is None:
        return new_value
    warnings.warn(f"{old}= is deprecated; use {new}=", DeprecationWarning, stacklevel=3)
    return old_value
