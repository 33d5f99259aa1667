"""notorious_screen: screen marketplace URLs and seller names against the notorious-markets lists.

Importing the package parses nothing: the market data, the match indexes and the default rule
pack are built on first use (``screen_url``/``screen_frame``) or when you build a ``Screener``.
"""

from __future__ import annotations

from .errors import DataError, InputError, Location, NotoriousScreenError, RulePackError
from .markets import Edition, Listing, Market, MarketData, Owner, load_markets
from .match import Match, Matcher, MatchKind, VariantClass
from .normalize import ErrorCode, NormalizedName, NormalizedURL, normalize_name, normalize_url
from .rules import Evaluation, Reason, RulePack, load_rule_pack
from .screen import OUTPUT_COLUMNS, ScreenResult, Screener, screen_frame, screen_url

__version__ = "0.1.0"

__all__ = [
    "OUTPUT_COLUMNS",
    "DataError",
    "Edition",
    "ErrorCode",
    "Evaluation",
    "InputError",
    "Listing",
    "Location",
    "Market",
    "MarketData",
    "Match",
    "MatchKind",
    "Matcher",
    "NormalizedName",
    "NormalizedURL",
    "NotoriousScreenError",
    "Owner",
    "Reason",
    "RulePack",
    "RulePackError",
    "ScreenResult",
    "Screener",
    "VariantClass",
    "__version__",
    "load_markets",
    "load_rule_pack",
    "normalize_name",
    "normalize_url",
    "screen_frame",
    "screen_url",
]
