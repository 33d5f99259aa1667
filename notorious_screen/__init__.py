"""notorious_screen: screen marketplace URLs and seller names against the notorious-markets lists.

Importing the package parses nothing: the market data, the match indexes and the default rule
pack are built on first use (``screen_url``/``screen_frame``) or when you build a ``Screener``.
"""

from __future__ import annotations

from .backtesting import BacktestResult, backtest
from .editions import ImportedEdition, import_edition
from .errors import (
    DataError,
    InputError,
    Location,
    MarketLookupError,
    NotoriousScreenError,
    RulePackError,
)
from .markets import (
    Edition,
    EditionDiff,
    IncompleteEditionWarning,
    Listing,
    Market,
    MarketData,
    Origin,
    Owner,
    load_markets,
)
from .match import Match, Matcher, MatchKind, Variant, VariantClass, VariantDetector
from .normalize import (
    PSL_VERSION,
    ErrorCode,
    NormalizedName,
    NormalizedURL,
    normalize_name,
    normalize_url,
)
from .reporting import Report, ReportBuilder, report
from .rules import RulePack, check_rule_pack, load_rule_pack
from .schema import OUTPUT_COLUMNS, BrandProfile, Evaluation, Reason, ScreenResult
from .screen import Screener, screen_frame, screen_url

__version__ = "0.1.0"

__all__ = [
    "OUTPUT_COLUMNS",
    "PSL_VERSION",
    "BacktestResult",
    "BrandProfile",
    "DataError",
    "Edition",
    "EditionDiff",
    "ErrorCode",
    "Evaluation",
    "ImportedEdition",
    "IncompleteEditionWarning",
    "InputError",
    "Listing",
    "Location",
    "Market",
    "MarketData",
    "MarketLookupError",
    "Match",
    "MatchKind",
    "Matcher",
    "NormalizedName",
    "NormalizedURL",
    "NotoriousScreenError",
    "Origin",
    "Owner",
    "Reason",
    "Report",
    "ReportBuilder",
    "RulePack",
    "RulePackError",
    "ScreenResult",
    "Screener",
    "Variant",
    "VariantClass",
    "VariantDetector",
    "__version__",
    "backtest",
    "check_rule_pack",
    "import_edition",
    "load_markets",
    "load_rule_pack",
    "normalize_name",
    "normalize_url",
    "report",
    "screen_frame",
    "screen_url",
]
