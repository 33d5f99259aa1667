"""Turn seller URLs, hosts and names into the keys the matcher compares.

Pure functions: no network, and no file I/O beyond tldextract loading its bundled PSL snapshot
once, on first use. Hosts are parsed the way a browser parses them (the WHATWG URL Standard's
host parser, with UTS #46 IDNA as its "domain to ASCII" specifies), so a URL that reaches a
seller in a browser gets the same host here. Registrable domains come from the Public Suffix
List snapshot bundled with tldextract, through the single offline extractor in this module.
Bad rows come back with an `ErrorCode`; nothing here raises on any input.
"""

from __future__ import annotations

import functools
import math
import re
import threading
import unicodedata
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, Final

import idna

from ._text import SURROGATES

if TYPE_CHECKING:
    import tldextract

__all__ = [
    "LEGAL_SUFFIXES",
    "MAX_HOST_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_URL_LENGTH",
    "PSL_VERSION",
    "SHOP_WORDS",
    "ErrorCode",
    "NormalizedName",
    "NormalizedURL",
    "as_text",
    "normalize_clean_host",
    "normalize_host",
    "normalize_name",
    "normalize_url",
    "suffix_rules",
]

MAX_URL_LENGTH: Final = 65_536
"""Longest URL (in code points) accepted; longer input is `ErrorCode.TOO_LONG`."""
MAX_HOST_LENGTH: Final = 1_024
"""Longest host (code points, after percent-decoding, and again in its ASCII form) accepted.
DNS stops at 253 octets, and the bound keeps IDNA work per host small and inside the `idna`
package's own input limit."""
MAX_NAME_LENGTH: Final = 2_048
"""Longest seller/platform name (code points) accepted."""

_HOST_CACHE_SIZE: Final = 1 << 18
_PUBLIC_HOST_CACHE_SIZE: Final = 1 << 16
_MAX_CACHED_KEY: Final = 512  # longer keys bypass the caches so a cache cannot hold huge strings


class ErrorCode(str, Enum):
    """Why an input row gives no usable key (a value in a column, never an exception)."""

    EMPTY = "empty"
    """None, NaN, pandas NA, or only whitespace."""
    UNSUPPORTED_SCHEME = "unsupported_scheme"
    """A scheme other than http, https, ws, wss, ftp (javascript:, data:, mailto:, file:, ...)."""
    INVALID_HOST = "invalid_host"
    """The WHATWG host parser fails: forbidden code points, bad IPv4/IPv6, IDNA errors."""
    NO_HOST = "no_host"
    """No host: a relative path, an empty authority (``http://``), or only dots (``http://./``)."""
    INVALID_PORT = "invalid_port"
    """The port is not digits or exceeds 65535; browsers reject the whole URL."""
    TOO_LONG = "too_long"
    """Longer than `MAX_URL_LENGTH`, `MAX_HOST_LENGTH` or `MAX_NAME_LENGTH`."""


@dataclass(frozen=True, slots=True)
class NormalizedURL:
    """A URL (or bare host) reduced to the parts screening needs.

    `host` is the ASCII serialization a browser shows in ``new URL(x).hostname`` minus the
    trailing root dot (kept only in the odd ``0..``, which would otherwise read as an IPv4
    address); `host_unicode` is the same host with IDN labels decoded. The PSL split is
    ICANN-based (``shop123.taobao.com`` -> ``taobao.com``); `private_suffix` names the PSL
    private suffix (``blogspot.com``) when the host sits strictly under one.
    """

    input: str
    scheme: str | None
    host: str | None
    host_unicode: str | None
    registrable_domain: str | None
    domain_label: str | None
    suffix: str | None
    subdomain: str
    private_suffix: str | None
    is_ip: bool
    path: str
    error: ErrorCode | None
    steps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NormalizedName:
    """A seller or platform name folded for comparison.

    `folded` keeps every word; `core` drops legal forms and generic shop words so that
    ``Nike Official Store Inc.`` and ``NIKE`` meet; `compact` is `core` without spaces so that
    pinyin spacing (``Tao Bao`` / ``Taobao``) does not matter.
    """

    input: str
    folded: str
    core: str
    tokens: tuple[str, ...]
    compact: str
    error: ErrorCode | None


# --------------------------------------------------------------------------------------------
# Input coercion and pre-processing shared by URLs, hosts and names


def as_text(value: object) -> str | None:
    """Text of a cell, or None for a missing one (None, NaN, pandas NA/NaT)."""
    if isinstance(value, str):
        return value
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, float):
        return None if math.isnan(value) else str(value)
    try:
        missing = bool(value != value)  # NaN-likes: numpy.nan, Decimal("NaN"), pandas.NaT
    except Exception:  # pandas.NA refuses bool(); anything else odd is treated the same
        missing = type(value).__name__ in {"NAType", "NaTType"}
    if missing:
        return None
    try:
        return str(value)
    except Exception:
        return None


# The URL Standard trims C0 controls and space; pasted cells also carry NBSP, ideographic
# space, zero-width space and BOM at their ends, which no URL legitimately starts or ends with.
_TRIM_CHARS: Final = "".join(chr(c) for c in range(0x21)) + (
    "\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_TAB_NEWLINE_RE: Final = re.compile("[\t\n\r]")

# Defanged indicators as threat-intel feeds and analysts write them.
_REFANG_SCHEME_RE: Final = re.compile(r"^h(?:xx|\*\*)p(s?)(?=[:\[])", re.IGNORECASE)
_REFANG_RE: Final = re.compile(
    r"\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\}"
    r"|\[:\]|\[://\]|\[/\]|(?<=\w) +dot +(?=\w)",
    re.IGNORECASE,
)


def _refang_replacement(token: str) -> str:
    if token.startswith("[:") and token.endswith("/]"):
        return "://"
    if token == "[:]":
        return ":"
    if token == "[/]":
        return "/"
    return "."


def _clean(text: str, steps: list[str]) -> str:
    """Surrogates, trimming, tab/newline removal and refanging, each recorded in `steps`."""
    if not text.isascii() and SURROGATES.search(text):
        # A browser sees a USVString: lone surrogates become U+FFFD before parsing.
        text = SURROGATES.sub("\ufffd", text)
        steps.append("replaced lone surrogates with U+FFFD")
    trimmed = text.strip(_TRIM_CHARS)
    if trimmed != text:
        steps.append("trimmed leading/trailing whitespace and control characters")
        text = trimmed
    if "\t" in text or "\n" in text or "\r" in text:
        text = _TAB_NEWLINE_RE.sub("", text)
        steps.append("removed tab/newline characters")
    m = _REFANG_SCHEME_RE.match(text)
    if m:
        fixed = "http" + m.group(1).lower()
        steps.append(f"refanged {m.group(0)}->{fixed}")
        text = fixed + text[m.end() :]
    return _refang(text, steps)


def _refang(text: str, steps: list[str]) -> str:
    """Replace defang tokens ([.], (dot), [:], [://], " dot " ...), one step per token seen."""
    if not _REFANG_RE.search(text):
        return text
    seen: dict[str, str] = {}

    def _sub(match: re.Match[str]) -> str:
        token = match.group(0)
        seen.setdefault(token, _refang_replacement(token.replace(" ", "").lower()))
        return seen[token]

    text = _REFANG_RE.sub(_sub, text)
    steps.extend(f"refanged {token.strip()}->{fixed}" for token, fixed in seen.items())
    return text


# --------------------------------------------------------------------------------------------
# WHATWG host parser: IPv4, IPv6, domain to ASCII (UTS #46)

_FORBIDDEN_DOMAIN_RE: Final = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")
_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")
_OCT_DIGITS: Final = frozenset("01234567")
_DEC_DIGITS: Final = frozenset("0123456789")
_BIDI_RTL: Final = frozenset({"R", "AL", "AN"})
_BIDI_RTL_ALLOWED: Final = frozenset({"R", "AL", "AN", "EN", "ES", "CS", "ET", "ON", "BN", "NSM"})
_BIDI_RTL_END: Final = frozenset({"R", "AL", "EN", "AN"})


class _HostError(Exception):
    """Internal: the host parser failed with this code and reason."""

    def __init__(self, code: ErrorCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _ipv4_number(part: str) -> int | None:
    """WHATWG IPv4 number parser: decimal, 0x hex or 0-prefixed octal; None on failure."""
    if not part:
        return None
    digits = _DEC_DIGITS
    radix = 10
    if len(part) >= 2 and part[0] == "0" and part[1] in "xX":
        part, radix, digits = part[2:], 16, _HEX_DIGITS
    elif len(part) >= 2 and part[0] == "0":
        part, radix, digits = part[1:], 8, _OCT_DIGITS
    if not part:
        return 0
    if not all(c in digits for c in part):
        return None
    return int(part, radix)


def _ends_in_number(host: str) -> bool:
    parts = host.split(".")
    if parts[-1] == "":
        if len(parts) == 1:
            return False
        parts.pop()
    last = parts[-1]
    if last and all(c in _DEC_DIGITS for c in last):
        return True
    return _ipv4_number(last) is not None


def _parse_ipv4(host: str) -> str:
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4:
        raise _HostError(ErrorCode.INVALID_HOST, "IPv4 address with more than four parts")
    numbers: list[int] = []
    for part in parts:
        number = _ipv4_number(part)
        if number is None:
            raise _HostError(ErrorCode.INVALID_HOST, f"IPv4 part {_short(part)!r} is not a number")
        numbers.append(number)
    if any(n > 255 for n in numbers[:-1]):
        raise _HostError(ErrorCode.INVALID_HOST, "IPv4 part out of range")
    if numbers[-1] >= 256 ** (5 - len(numbers)):
        raise _HostError(ErrorCode.INVALID_HOST, "IPv4 address out of range")
    address = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        address += number * 256 ** (3 - index)
    return ".".join(str((address >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def _parse_ipv6(text: str) -> str:
    """WHATWG IPv6 parser and serializer (compressed, lowercase, with brackets)."""

    def fail(reason: str) -> _HostError:
        return _HostError(ErrorCode.INVALID_HOST, f"invalid IPv6 address: {reason}")

    address = [0] * 8
    piece = 0
    compress: int | None = None
    i = 0
    n = len(text)
    if text[:1] == ":":
        if text[1:2] != ":":
            raise fail("starts with a single colon")
        i = 2
        piece = 1
        compress = 1
    while i < n:
        if piece == 8:
            raise fail("too many pieces")
        if text[i] == ":":
            if compress is not None:
                raise fail("more than one '::'")
            i += 1
            piece += 1
            compress = piece
            continue
        value = length = 0
        while length < 4 and i < n and text[i] in _HEX_DIGITS:
            value = value * 16 + int(text[i], 16)
            i += 1
            length += 1
        if i < n and text[i] == ".":
            if length == 0:
                raise fail("IPv4 part without digits")
            i -= length
            if piece > 6:
                raise fail("IPv4 part too late")
            seen = 0
            while i < n:
                ipv4_piece: int | None = None
                if seen > 0:
                    if text[i] == "." and seen < 4:
                        i += 1
                    else:
                        raise fail("bad IPv4 part")
                if i >= n or text[i] not in _DEC_DIGITS:
                    raise fail("bad IPv4 part")
                while i < n and text[i] in _DEC_DIGITS:
                    number = int(text[i])
                    if ipv4_piece is None:
                        ipv4_piece = number
                    elif ipv4_piece == 0:
                        raise fail("leading zero in IPv4 part")
                    else:
                        ipv4_piece = ipv4_piece * 10 + number
                    if ipv4_piece > 255:
                        raise fail("IPv4 part out of range")
                    i += 1
                address[piece] = address[piece] * 0x100 + (ipv4_piece or 0)
                seen += 1
                if seen in (2, 4):
                    piece += 1
            if seen != 4:
                raise fail("IPv4 part too short")
            break
        if i < n and text[i] == ":":
            i += 1
            if i >= n:
                raise fail("ends with a single colon")
        elif i < n:
            raise fail(f"unexpected {text[i]!r}")
        address[piece] = value
        piece += 1
    if compress is not None:
        swaps = piece - compress
        piece = 7
        while piece != 0 and swaps > 0:
            other = compress + swaps - 1
            address[piece], address[other] = address[other], address[piece]
            piece -= 1
            swaps -= 1
    elif piece != 8:
        raise fail("too few pieces")
    # Serializer: compress the first longest run (length >= 2) of zero pieces.
    best_start, best_len, run_start, run_len = -1, 1, -1, 0
    for index, part in enumerate(address):
        if part == 0:
            if run_len == 0:
                run_start = index
            run_len += 1
            if run_len > best_len:
                best_start, best_len = run_start, run_len
        else:
            run_len = 0
    out: list[str] = []
    index = 0
    while index < 8:
        if index == best_start:
            out.append("::" if index == 0 else ":")
            index += best_len
            continue
        out.append(format(address[index], "x"))
        if index != 7:
            out.append(":")
        index += 1
    return "[" + "".join(out) + "]"


def _percent_decode(text: str) -> str:
    """Percent-decode, then UTF-8 decode with replacement, as the host parser does."""
    raw = text.encode("utf-8", "surrogatepass")
    out = bytearray()
    i = 0
    n = len(raw)
    while i < n:
        byte = raw[i]
        if (
            byte == 0x25
            and i + 2 < n
            and chr(raw[i + 1]) in _HEX_DIGITS
            and chr(raw[i + 2]) in _HEX_DIGITS
        ):
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(byte)
            i += 1
    return out.decode("utf-8", "replace")


def _uts46_valid(label: str) -> bool:
    """UTS #46 validity criterion 6 (nontransitional): every code point valid or deviation."""
    try:
        return idna.uts46_remap(label, std3_rules=False, transitional=False) == label
    except (idna.IDNAError, ValueError):
        return False


def _joiners_ok(label: str) -> bool:
    for index, char in enumerate(label):
        if char in "\u200c\u200d":
            try:
                if not idna.valid_contextj(label, index):
                    return False
            except (idna.IDNAError, ValueError):
                return False
    return True


def _bidi_ok(label: str) -> bool:
    """RFC 5893 rules for a label that holds right-to-left characters.

    Applied per label, as ada and the web-platform-tests expectations do (``1.\\u064A`` is
    valid), rather than to every label of a domain that contains one RTL label.
    """
    directions = [unicodedata.bidirectional(char) for char in label]
    if not _BIDI_RTL.intersection(directions):
        return True
    if directions[0] not in ("R", "AL"):
        return False
    if any(d not in _BIDI_RTL_ALLOWED for d in directions):
        return False
    last = next((d for d in reversed(directions) if d != "NSM"), "")
    if last not in _BIDI_RTL_END:
        return False
    return not ("EN" in directions and "AN" in directions)


def _check_label(label: str) -> str | None:
    """UTS #46 validity criteria with CheckHyphens=false, CheckJoiners=true; reason or None."""
    if not label:
        return None
    if not unicodedata.is_normalized("NFC", label):
        return "label is not in NFC"
    if unicodedata.category(label[0]).startswith("M"):
        return "label starts with a combining mark"
    if not label.isascii() and not _joiners_ok(label):
        return "ZWJ/ZWNJ outside its allowed context (CheckJoiners)"
    return None


def _domain_to_ascii(domain: str) -> str:
    """WHATWG "domain to ASCII" with beStrict=false: UTS #46 ToASCII, then forbidden checks."""
    lowered = domain.lower() if domain.isascii() else ""
    if lowered and not any(label.startswith("xn--") for label in lowered.split(".")):
        # The standard's own shortcut: for ASCII without xn-- labels ToASCII is lowercasing.
        result = lowered
    else:
        result = _uts46_to_ascii(domain)
    if not result:
        raise _HostError(ErrorCode.INVALID_HOST, "host is empty after IDNA mapping")
    bad = _FORBIDDEN_DOMAIN_RE.search(result)
    if bad:
        raise _HostError(ErrorCode.INVALID_HOST, f"forbidden code point {bad.group(0)!r} in host")
    return result


def _uts46_to_ascii(domain: str) -> str:
    try:
        mapped = idna.uts46_remap(domain, std3_rules=False, transitional=False)
    except (idna.IDNAError, ValueError) as exc:
        code_point = getattr(exc, "codepoint", None)
        where = f" U+{code_point:04X}" if isinstance(code_point, int) else ""
        raise _HostError(
            ErrorCode.INVALID_HOST, f"disallowed code point{where} (UTS #46)"
        ) from None
    labels = mapped.split(".")
    unicode_labels: list[str] = []
    out: list[str] = []
    for label in labels:
        if label.startswith("xn--"):
            if not label.isascii():
                raise _HostError(ErrorCode.INVALID_HOST, f"non-ASCII in A-label {_short(label)!r}")
            try:
                decoded = label[4:].encode("ascii").decode("punycode")
            except (UnicodeError, ValueError, OverflowError):
                raise _HostError(
                    ErrorCode.INVALID_HOST, f"invalid Punycode {_short(label)!r}"
                ) from None
            if not decoded or decoded.isascii():
                raise _HostError(
                    ErrorCode.INVALID_HOST, f"A-label {_short(label)!r} decodes to ASCII"
                )
            if not _uts46_valid(decoded):
                raise _HostError(
                    ErrorCode.INVALID_HOST, f"A-label {_short(label)!r} is not valid IDNA"
                )
            reason = _check_label(decoded)
            if reason:
                raise _HostError(ErrorCode.INVALID_HOST, f"{reason}: {_short(label)!r}")
            unicode_labels.append(decoded)
            out.append("xn--" + decoded.encode("punycode").decode("ascii"))
        else:
            reason = _check_label(label)
            if reason:
                raise _HostError(ErrorCode.INVALID_HOST, f"{reason}: {_short(label)!r}")
            unicode_labels.append(label)
            out.append(label if label.isascii() else "xn--" + _punycode(label))
    for label in unicode_labels:
        if not label.isascii() and not _bidi_ok(label):
            raise _HostError(
                ErrorCode.INVALID_HOST, f"label {_short(label)!r} breaks the Bidi rule"
            )
    return ".".join(out)


def _punycode(label: str) -> str:
    return label.encode("punycode").decode("ascii")


def _to_unicode(host: str) -> str:
    """ToUnicode of a host whose A-labels were already validated by `_uts46_to_ascii`.

    A label whose Unicode form itself starts with "xn--" (valid in the Unicode 15.0 UTS #46
    that the WPT data pins) stays an A-label: that Unicode form would not parse back.
    """
    if "xn--" not in host:
        return host
    return ".".join(_label_to_unicode(label) for label in host.split("."))


def _label_to_unicode(label: str) -> str:
    if not label.startswith("xn--"):
        return label
    decoded = label[4:].encode("ascii").decode("punycode")
    return label if decoded.startswith("xn--") else decoded


def _short(text: str) -> str:
    """Text for a step message: long hosts are cut so a step stays readable."""
    return text if len(text) <= 80 else text[:77] + "..."


def _parse_host(text: str, steps: list[str]) -> tuple[str, bool]:
    """WHATWG host parser for special schemes: (serialized host, is_ip). Raises _HostError.

    The serialization is the browser's, trailing dot included; callers strip it.
    """
    if text.startswith("["):
        if not text.endswith("]"):
            raise _HostError(ErrorCode.INVALID_HOST, "unclosed IPv6 address")
        host = _parse_ipv6(text[1:-1])
        if host != text:
            steps.append(f"serialized IPv6 {_short(text)}->{host}")
        return host, True
    domain = text
    if "%" in text:
        domain = _percent_decode(text)
        if domain != text:
            steps.append("percent-decoded host")
            # Refang what percent-encoding hid, so that a normalized host never holds a
            # defang token and normalizing it again changes nothing.
            domain = _refang(domain, steps)
    if len(domain) > MAX_HOST_LENGTH:
        raise _HostError(ErrorCode.TOO_LONG, f"host longer than {MAX_HOST_LENGTH} code points")
    written = domain
    ascii_host = _domain_to_ascii(domain)
    for _ in range(8):
        # UTS #46 can spell a defang token the input did not: fullwidth "（dot）" maps to
        # "(dot)", a dropped soft hyphen joins "{." and "}", punycode exposes "(dot)" from
        # "(оdot)". Refang the mapped form (Unicode, else ASCII) too, for the same reason as
        # above: neither host nor host_unicode may hold a token.
        shown = _to_unicode(ascii_host)
        if _REFANG_RE.search(shown):
            domain = _refang(shown, steps)
        elif _REFANG_RE.search(ascii_host):
            domain = _refang(ascii_host, steps)
        else:
            break
        ascii_host = _domain_to_ascii(domain)
    else:
        raise _HostError(ErrorCode.INVALID_HOST, "defang tokens keep reappearing in the host")
    if len(ascii_host) > MAX_HOST_LENGTH:
        # Punycode can be four times the Unicode text: bound the form that is returned, or
        # the returned host would be too_long when normalized again.
        raise _HostError(ErrorCode.TOO_LONG, f"host longer than {MAX_HOST_LENGTH} code points")
    if _ends_in_number(ascii_host):
        host = _parse_ipv4(ascii_host)
        if host != domain:
            steps.append(f"parsed IPv4 {_short(domain)}->{host}")
        return host, True
    if ascii_host != written:
        if written.isascii() and ascii_host == written.lower():
            steps.append("lowercased host")
        else:
            steps.append(f"mapped host to ASCII (UTS #46) {_short(written)}->{_short(ascii_host)}")
    return ascii_host, False


# --------------------------------------------------------------------------------------------
# Public Suffix List through one offline tldextract instance

_EXTRACTOR: tldextract.TLDExtract | None = None
_EXTRACTOR_LOCK: Final = threading.Lock()


def _extractor() -> tldextract.TLDExtract:
    """The module's only TLDExtract: bundled snapshot, no cache directory, no fetching."""
    global _EXTRACTOR
    if _EXTRACTOR is None:
        with _EXTRACTOR_LOCK:
            if _EXTRACTOR is None:
                import tldextract  # deferred: it imports requests, which screening never uses

                extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
                extractor("example.com", include_psl_private_domains=True)  # load the trie once
                _EXTRACTOR = extractor
    return _EXTRACTOR


def suffix_rules() -> tuple[frozenset[str], frozenset[str]]:
    """The ICANN and the private rules of the bundled Public Suffix List snapshot: the rules
    every split here uses (`PSL_VERSION` names the snapshot)."""
    rules = _extractor()._get_tld_extractor()
    return frozenset(rules.public_tlds), frozenset(rules.private_tlds)


def _psl_version() -> str:
    """Name the snapshot without importing tldextract (it pulls in requests): the installed
    version plus the VERSION/COMMIT header of the ``.tld_set_snapshot`` file it loads."""
    import importlib.metadata
    import importlib.util
    import os

    try:
        version = importlib.metadata.version("tldextract")
    except importlib.metadata.PackageNotFoundError:
        version = "(version unknown)"
    detail = ""
    spec = importlib.util.find_spec("tldextract")
    if spec is not None and spec.origin:
        snapshot = os.path.join(os.path.dirname(spec.origin), ".tld_set_snapshot")
        try:
            with open(snapshot, "rb") as handle:
                head = handle.read(2048).decode("utf-8", "replace")
        except OSError:
            head = ""
        found = re.search(r"^// VERSION: (\S+)", head, re.MULTILINE)
        commit = re.search(r"^// COMMIT: (\w+)", head, re.MULTILINE)
        if found:
            detail = f" (PSL {found.group(1)}"
            detail += f", commit {commit.group(1)[:12]})" if commit else ")"
    return f"tldextract {version} bundled snapshot{detail}"


@functools.lru_cache(maxsize=1)
def _cached_psl_version() -> str:
    return _psl_version()


PSL_VERSION: str
"""Which Public Suffix List snapshot the registrable domains come from (computed on first use),
e.g. ``tldextract 5.4.0 bundled snapshot (PSL 2025-04-07_15-51-09_UTC, commit 5fc8d12c1624)``."""


def __getattr__(name: str) -> str:
    # PSL_VERSION is computed on first use so importing this module stays cheap and pure.
    if name == "PSL_VERSION":
        return _cached_psl_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True, slots=True)
class _PSLSplit:
    registrable_domain: str | None
    domain_label: str | None
    suffix: str | None
    subdomain: str
    private_suffix: str | None


def _psl_split(host: str) -> _PSLSplit:
    result = _extractor()(host, include_psl_private_domains=True)
    icann = getattr(result, "registry_suffix", None)
    if icann is None:  # tldextract < 5.3 has no registry_suffix: ask again without private rules
        icann = _extractor()(host, include_psl_private_domains=False).suffix
    private = result.suffix if result.is_private and result.domain else None
    if not icann:
        return _PSLSplit(None, None, None, "", private)
    labels = host.split(".")
    size = icann.count(".") + 1
    if len(labels) <= size:
        return _PSLSplit(None, None, icann, "", private)
    label = labels[-size - 1]
    if not label:  # "a..com": the label left of the suffix is empty; no registrable domain
        return _PSLSplit(None, None, icann, ".".join(labels[: -size - 1]), private)
    return _PSLSplit(f"{label}.{icann}", label, icann, ".".join(labels[: -size - 1]), private)


@dataclass(frozen=True, slots=True)
class _HostInfo:
    error: ErrorCode | None
    host: str | None
    host_unicode: str | None
    psl: _PSLSplit | None
    is_ip: bool
    steps: tuple[str, ...]


_NO_PSL: Final = _PSLSplit(None, None, None, "", None)


def _host_info_uncached(text: str) -> _HostInfo:
    steps: list[str] = []
    try:
        host, is_ip = _parse_host(text, steps)
        if not is_ip and host.endswith("."):
            stripped = host.rstrip(".")
            if not stripped:
                # "http://./" parses in a browser, but once the root dot goes no host is left.
                raise _HostError(ErrorCode.NO_HOST, "host is only dots")
            # "0.." is a domain to a browser only because of its dots: without them it would be
            # read as an IPv4 address, so such a host keeps them (and stays stable).
            if not _ends_in_number(stripped):
                host = stripped
                steps.append("removed trailing dot")
    except _HostError as exc:
        return _HostInfo(exc.code, None, None, None, False, (*steps, exc.reason))
    if is_ip:
        return _HostInfo(None, host, host, _NO_PSL, True, tuple(steps))
    try:
        psl = _psl_split(host)
    except Exception as exc:  # third-party code must not turn one odd host into a crash
        psl = _NO_PSL
        steps.append(f"no PSL split: {type(exc).__name__}")
    return _HostInfo(None, host, _to_unicode(host), psl, False, tuple(steps))


_host_info_cached = functools.lru_cache(maxsize=_HOST_CACHE_SIZE)(_host_info_uncached)


def _host_info(text: str) -> _HostInfo:
    if len(text) > _MAX_CACHED_KEY:
        return _host_info_uncached(text)
    return _host_info_cached(text)


# --------------------------------------------------------------------------------------------
# URL splitting

_WEB_SCHEMES: Final = frozenset({"http", "https", "ws", "wss", "ftp"})
# Schemes that are never read as "host:port" even when digits follow the colon.
_KNOWN_SCHEMES: Final = frozenset(
    {
        "about", "blob", "callto", "chrome", "chrome-extension", "data", "fax", "file", "geo",
        "git", "gopher", "im", "intent", "irc", "ircs", "itms", "itms-apps", "javascript",
        "ldap", "magnet", "mailto", "market", "mms", "moz-extension", "news", "nntp", "sftp",
        "sip", "sips", "skype", "sms", "smsto", "ssh", "svn", "tel", "telnet", "urn",
        "view-source", "webcal", "ws+unix", "xmpp",
    }
)  # fmt: skip
_SCHEME_RE: Final = re.compile(r"([A-Za-z][A-Za-z0-9+\-.]*):")
_PORT_LIKE_RE: Final = re.compile(r"[0-9]+(?:[/\\?#]|\Z)|\Z")
_AUTHORITY_END_RE: Final = re.compile(r"[/\\?#]")
_HOST_LIKE_RE: Final = re.compile(r"[.\u3002\uff0e\uff61]|%2e|^\[", re.IGNORECASE)
_FAST_URL_RE: Final = re.compile(
    r"(https?|wss?|ftp)://([A-Za-z0-9.\-]+)(?::([0-9]{1,5}))?([/?#][!-\[\]-~]*)?",
    re.ASCII | re.IGNORECASE,
)


def _split_path(rest: str, steps: list[str]) -> str:
    """Path plus ``?query`` from what follows the authority; fragment dropped."""
    if not rest:
        return ""
    if "#" in rest:
        rest = rest.split("#", 1)[0]
        steps.append("dropped fragment")
    path, question, query = rest.partition("?")
    if "\\" in path:
        path = path.replace("\\", "/")
        steps.append("read backslash in path as slash")
    return path + (question + query if query else "")


def _port_step(port: str, steps: list[str]) -> ErrorCode | None:
    if not port:
        return None
    # Leading zeros are fine ("00000000000000000000080" is 80); the length test keeps int()
    # away from huge digit strings, which it refuses beyond 4300 digits.
    digits = port.lstrip("0") or "0"
    if port.isascii() and port.isdigit() and len(digits) <= 5 and int(digits) <= 65535:
        steps.append(f"dropped port {int(digits)}")
        return None
    steps.append(f"invalid port {_short(port)!r}")
    return ErrorCode.INVALID_PORT


def _failure(
    text: str, scheme: str | None, steps: list[str], error: ErrorCode | None
) -> NormalizedURL:
    return NormalizedURL(
        text, scheme, None, None, None, None, None, "", None, False, "", error, tuple(steps)
    )


def _success(
    text: str, scheme: str | None, info: _HostInfo, path: str, steps: list[str]
) -> NormalizedURL:
    psl = info.psl or _NO_PSL
    return NormalizedURL(
        input=text,
        scheme=scheme,
        host=info.host,
        host_unicode=info.host_unicode,
        registrable_domain=psl.registrable_domain,
        domain_label=psl.domain_label,
        suffix=psl.suffix,
        subdomain=psl.subdomain,
        private_suffix=psl.private_suffix,
        is_ip=info.is_ip,
        path=path,
        error=None,
        steps=tuple(steps),
    )


def _finish(
    text: str, scheme: str | None, host_text: str, port: str, rest: str, steps: list[str]
) -> NormalizedURL:
    """Host, then port, then path, in the URL parser's order."""
    info = _host_info(host_text)
    steps.extend(info.steps)
    if info.error is not None:
        return _failure(text, scheme, steps, info.error)
    port_error = _port_step(port, steps)
    if port_error is not None:
        return _failure(text, scheme, steps, port_error)
    return _success(text, scheme, info, _split_path(rest, steps), steps)


def _fast_url(text: str) -> NormalizedURL | None:
    """Plain ASCII ``scheme://host[:port][/path]`` without defanging; None when not that shape."""
    if not text.isascii() or "[" in text or "(" in text or "{" in text:
        return None
    m = _FAST_URL_RE.fullmatch(text)
    if m is None:
        return None
    scheme, host, port, rest = m.groups()
    return _finish(text, scheme.lower(), host, port or "", rest or "", [])


# URLs pasted with text around them: quotes, brackets, share text, emoji, punctuation.
_WEB_URL_RE: Final = re.compile(r"(?<![A-Za-z0-9+.\-])https?://", re.IGNORECASE)
_STARTS_WEB_RE: Final = re.compile(r"(?:https?|wss?|ftp)://", re.IGNORECASE)
# A scheme-less host in text: dotted LDH labels ending in a letter TLD, not inside a word.
_BARE_HOST_RE: Final = re.compile(
    r"(?<![A-Za-z0-9.\-@])(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]*"
    r"(?![A-Za-z0-9-]|\.[A-Za-z0-9])"
)
# In an authority, a CJK bracket or quote, an emoji, or a space before non-ASCII text ends
# the URL: no host holds them. (A space before ASCII text keeps the browser's answer, an
# invalid host: "http://example example.com" is a failure in the web-platform tests.)
_TEXT_IN_AUTHORITY_RE: Final = re.compile(
    "[「」『』《》【】〈〉〔〕（）［］｛｝“”‘’«»\U0001f000-\U0001faff\u2600-\u27bf]"
    "|\\s+(?=[^\\x00-\\x7f\\s])"
)
# What must come before such a cut: a plain ASCII host (with a port), so that a Unicode host
# with a symbol in it stays the parser's to judge.
_PLAIN_AUTHORITY_RE: Final = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\.?(?::[0-9]*)?")
_IPV6_START_RE: Final = re.compile(r"\[[0-9A-Fa-f:.]*\]")
_OPENERS: Final = "\"'<([{「『《【〈«“‘（［｛〔"
_CLOSERS: Final = "\"'>)]}」』》】〉»”’）］｝〕"
_TRAILING: Final = ".,;:!?" + _CLOSERS
_GLUED: Final = ",;!?" + _CLOSERS


def _url_end(text: str) -> int:
    """Where a URL found in text stops: whitespace, a quote or bracket, or a character of text
    (CJK punctuation, emoji, symbols) that a typed URL does not carry."""
    for index, char in enumerate(text):
        if char.isspace() or char in _CLOSERS or char in '<>"':
            return index
        if not char.isascii():
            category = unicodedata.category(char)
            if category[0] in "PSZC":
                return index
    return len(text)


def _trim_trailing(url: str, trailing: str = _TRAILING) -> str:
    """Sentence punctuation and unbalanced closing brackets after a URL are not part of it."""
    while url and url[-1] in trailing:
        char = url[-1]
        opener = {")": "(", "]": "[", "}": "{"}.get(char)
        if opener is not None and url.count(opener) >= url.count(char):
            break  # balanced: a path like /wiki/A_(b)
        url = url[:-1]
    return url


def _extract_url(s: str, steps: list[str]) -> str:
    """The URL inside a cell of text (the first http(s) URL, else the first scheme-less host);
    the cell itself when it is a URL already or holds none. Each change is a step."""
    scheme = _SCHEME_RE.match(s)
    found = _WEB_URL_RE.search(s)
    if found is not None:
        before = s[: found.start()]
        if "//" in before or _BARE_HOST_RE.search(before):
            found = None  # the cell starts with a URL of its own ("x.com/?u=https://y.com")
    if (
        _STARTS_WEB_RE.match(s)
        or s[0] in "/\\?#"
        or _IPV6_START_RE.match(s)
        or (scheme is not None and scheme.group(1).lower() in _WEB_SCHEMES | _KNOWN_SCHEMES)
        or (s[:1].isascii() and s[:1].isalnum() and not _has_space(s) and found is None)
    ):
        # A URL already: text after it ("https://shopee.sg\u3000官方旗舰店", "...（热卖）") and
        # a closing bracket or punctuation glued to a bare authority at the very end
        # ("https://shopee.sg)", "shop.taobao.com,") go.
        authority = s.find("//") + 2 if "//" in s else 0
        stop = _AUTHORITY_END_RE.search(s, authority)
        end = stop.start() if stop else len(s)
        cut = _TEXT_IN_AUTHORITY_RE.search(s, authority, end)
        if cut is not None and (
            "@" in s[cut.start() : end]  # userinfo may hold anything ("http://foo:💩@x.com")
            or not _PLAIN_AUTHORITY_RE.fullmatch(s, authority, cut.start())
        ):
            cut = None
        if cut is not None and cut.start() > authority:
            steps.append(f"dropped text after the URL: {_short(s[cut.start() :])!r}")
            s = s[: cut.start()]
            end = len(s)
        if end == len(s):
            trimmed = _trim_trailing(s, _GLUED)  # a trailing dot is the root label's
            if trimmed != s and trimmed:
                steps.append(f"dropped trailing {_short(s[len(trimmed) :])!r}")
                return trimmed
        return s
    if found is None:
        bare = _BARE_HOST_RE.search(s)
        # A scheme-less host only after a space or punctuation: glued to another character
        # ("\ufffdx.com", "€shop.com") it is part of one odd host, which the parser judges.
        while bare is not None and bare.start() > 0:
            before = s[bare.start() - 1]
            if before != "\ufffd" and unicodedata.category(before)[0] in "PZS":
                break
            bare = _BARE_HOST_RE.search(s, bare.end())
        if bare is None:
            return s
        start = bare.start()
    else:
        start = found.start()
    rest = s[start:]
    url = _trim_trailing(rest[: _url_end(rest)])
    if not url or url == s:
        return s
    steps.append(f"extracted URL from text: {_short(url)}")
    return url


def _has_space(text: str) -> bool:
    return any(char.isspace() for char in text)


def _slow_url(text: str) -> NormalizedURL:
    """The full algorithm: cleaning, refanging, URL extraction, scheme detection, WHATWG
    authority parsing."""
    steps: list[str] = []
    s = _clean(text, steps)
    if not s:
        return _failure(text, None, steps, ErrorCode.EMPTY)
    s = _extract_url(s, steps)
    scheme: str | None = None
    bare = False  # scheme-less, no "//", no port: only "something.tld" is read as a host
    m = _SCHEME_RE.match(s)
    if m is not None:
        candidate = m.group(1).lower()
        rest = s[m.end() :]
        if candidate in _WEB_SCHEMES:
            scheme = candidate
        elif candidate not in _KNOWN_SCHEMES and _PORT_LIKE_RE.match(rest):
            steps.append("no scheme: read host:port as http://")
            rest = s
        else:
            return _failure(text, candidate, steps, ErrorCode.UNSUPPORTED_SCHEME)
    elif s[0] in "/\\" and s[1:2] in ("/", "\\"):
        steps.append("scheme-relative URL: read as http:")
        rest = s
    elif s[0] in "/\\?#":
        return _failure(text, None, steps, ErrorCode.NO_HOST)
    else:
        steps.append("no scheme: read as http://")
        rest = s
        bare = True
    # Special authority: any run of / or \ before it is ignored, as browsers do.
    start = 0
    while start < len(rest) and rest[start] in "/\\":
        start += 1
    end_match = _AUTHORITY_END_RE.search(rest, start)
    end = end_match.start() if end_match else len(rest)
    authority = rest[start:end]
    if "@" in authority:
        authority = authority.rpartition("@")[2]
        steps.append("dropped userinfo")
    host_text, port = _split_host_port(authority)
    if not host_text:
        return _failure(text, scheme, steps, ErrorCode.NO_HOST)
    if bare and not _HOST_LIKE_RE.search(host_text):
        # "N/A", "none", "淘宝网": a cell that is not a URL, not the single-label host "none".
        steps.append("no scheme and no dot: not read as a host")
        return _failure(text, None, steps, ErrorCode.NO_HOST)
    return _finish(text, scheme, host_text, port, rest[end:], steps)


def _split_host_port(authority: str) -> tuple[str, str]:
    """Split at the first ':' outside brackets, as the host state of the URL parser does."""
    if "[" not in authority:
        host, _, port = authority.partition(":")
        return host, port
    inside = False
    for index, char in enumerate(authority):
        if char == "[":
            inside = True
        elif char == "]":
            inside = False
        elif char == ":" and not inside:
            return authority[:index], authority[index + 1 :]
    return authority, ""


def normalize_url(value: object) -> NormalizedURL:
    """Normalize a seller URL (or scheme-less ``host/path``) to its browser host and PSL split.

    Never raises. Missing values give `ErrorCode.EMPTY`; input longer than `MAX_URL_LENGTH`
    (64 KiB) gives `ErrorCode.TOO_LONG`.

    >>> u = normalize_url("hxxps://shop123.taobao[.]com:8080/item?id=1#x")
    >>> u.host, u.registrable_domain, u.subdomain, u.path
    ('shop123.taobao.com', 'taobao.com', 'shop123', '/item?id=1')
    """
    text = as_text(value)
    if text is None:
        return _failure("", None, [], ErrorCode.EMPTY)
    if len(text) > MAX_URL_LENGTH:
        return _failure(text, None, [], ErrorCode.TOO_LONG)
    fast = _fast_url(text)
    return fast if fast is not None else _slow_url(text)


def _normalize_host_str(raw: str) -> NormalizedURL:
    steps: list[str] = []
    s = _clean(raw, steps)
    if not s:
        return _failure(raw, None, steps, ErrorCode.EMPTY)
    m = _SCHEME_RE.match(s)
    if _AUTHORITY_END_RE.search(s) or (
        m is not None and m.group(1).lower() in _WEB_SCHEMES | _KNOWN_SCHEMES
    ):
        # Given a URL after all: take its host, keep no path.
        parsed = _slow_url(s)
        return replace(parsed, input=raw, path="", steps=(*steps, *parsed.steps))
    if "@" in s:
        s = s.rpartition("@")[2]
        steps.append("dropped userinfo")
    if s.count(":") >= 2 and "[" not in s:
        s = f"[{s}]"
        steps.append("bracketed bare IPv6 address")
    host_text, port = _split_host_port(s)
    if not host_text:
        return _failure(raw, None, steps, ErrorCode.NO_HOST)
    return _finish(raw, None, host_text, port, "", steps)


def normalize_clean_host(host: str) -> NormalizedURL:
    """`normalize_host` for a host the caller has already checked to be lowercase dotted
    letter-digit-hyphen labels, the last starting with a letter, no ``xn--`` label: such a host
    is its own WHATWG parse, so only the PSL split is left (the Screener's bulk path)."""
    try:
        psl = _psl_split(host)
    except Exception:  # same fallback as _host_info_uncached
        return normalize_host(host)
    return NormalizedURL(
        input=host,
        scheme=None,
        host=host,
        host_unicode=host,
        registrable_domain=psl.registrable_domain,
        domain_label=psl.domain_label,
        suffix=psl.suffix,
        subdomain=psl.subdomain,
        private_suffix=psl.private_suffix,
        is_ip=False,
        path="",
        error=None,
        steps=(),
    )


_normalize_host_cached = functools.lru_cache(maxsize=_PUBLIC_HOST_CACHE_SIZE)(_normalize_host_str)


def normalize_host(raw: object) -> NormalizedURL:
    """Normalize a bare host (``userinfo@`` and ``:port`` tolerated and dropped). Cached.

    Same cleaning, refanging and WHATWG host parsing as `normalize_url`, but a dotless name
    (``localhost``) is a host here and a bare IPv6 address needs no brackets. `path` is always
    ""; `scheme` is None unless a whole URL was passed, whose host is then taken. Never raises.

    >>> normalize_host("ＷＷＷ．Amazon．co．uk.").host
    'www.amazon.co.uk'
    """
    text = as_text(raw)
    if text is None:
        return _failure("", None, [], ErrorCode.EMPTY)
    if len(text) > MAX_URL_LENGTH:
        return _failure(text, None, [], ErrorCode.TOO_LONG)
    if len(text) > _MAX_CACHED_KEY:
        return _normalize_host_str(text)
    return _normalize_host_cached(text)


# --------------------------------------------------------------------------------------------
# Names

# Kept as module constants rather than a data file: normalization stays free of I/O and import
# order, the lists are short enough to review in a diff, and mypy sees their type.
LEGAL_SUFFIXES: Final = frozenset(
    {
        # English and common international legal forms (dots and spaces already folded)
        "inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "llc",
        "l l c", "llp", "lp", "plc", "p l c", "pllc", "gmbh", "mbh", "ag", "kg", "ug", "ohg",
        "sa", "s a", "sas", "s a s", "sarl", "s a r l", "srl", "s r l", "s p a", "spa s p a",
        "bv", "b v", "nv", "n v", "oy", "oyj", "aps", "a s", "ab", "pty", "pty ltd", "pte",
        "pte ltd", "sdn bhd", "bhd", "tbk", "kk", "k k", "jsc", "pjsc", "ooo", "ltda",
        "s l", "sl", "s de r l", "sa de cv", "s a de c v", "de cv", "cv", "co ltd", "coltd",
        "holdings", "holding", "group", "intl",
        # Pinyin spellings of Chinese legal forms, as sellers transliterate them
        "youxian gongsi", "youxiangongsi", "gongsi", "jituan", "youxian zeren gongsi",
        # Chinese, Japanese and Korean forms (simplified and traditional)
        "有限公司", "股份有限公司", "有限责任公司", "有限責任公司", "责任有限公司", "集团",
        "集團", "集团有限公司", "集團有限公司", "控股", "控股集团", "控股集團", "公司",
        "株式会社", "有限会社", "合同会社", "주식회사", "유한회사",
    }
)  # fmt: skip
"""Legal-form words and phrases dropped from the end of a name's `core`."""

SHOP_WORDS: Final = frozenset(
    {
        "store", "stores", "shop", "shops", "official", "flagship", "outlet", "outlets",
        "online", "eshop", "e shop", "webshop", "web shop", "webstore", "onlineshop",
        "onlinestore", "official store", "flagship store", "official shop",
        "旗舰店", "旗艦店", "官方旗舰店", "官方旗艦店", "专卖店", "專賣店", "专营店",
        "專營店", "直营店", "直營店", "官方", "官方店", "官网", "官網", "授权店", "授權店",
        "网店", "網店", "店铺", "店舖", "店鋪", "小店", "体验店", "體驗店", "工厂店",
        "工廠店", "折扣店", "店", "公式", "公式ストア", "公式ショップ", "ストア", "ショップ",
        "공식", "스토어",
    }
)  # fmt: skip
"""Generic shop words dropped anywhere from a name's `core`.

Deliberately absent: "mall"/商城 and "market"/市场, because they are part of platform names on
the lists (淘宝商城 was Tmall's name, 抖音商城 is Douyin's mall, Silk Market); stripping them
would turn a platform into its sibling (淘宝商城 -> 淘宝 = Taobao, not Tmall).
"""

_CJK_WORDS: Final = frozenset(w for w in LEGAL_SUFFIXES | SHOP_WORDS if not w.isascii())
_CJK_SUFFIXES: Final = tuple(
    sorted(
        (w for w in LEGAL_SUFFIXES | SHOP_WORDS if not w.isascii() and " " not in w),
        key=len,
        reverse=True,
    )
)


def _phrase_index(
    words: frozenset[str], *, by_last: bool
) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Phrases keyed by their first (or last) token, longest first, so that "official store"
    goes as one phrase before "official" alone and each token costs one dict lookup."""
    index: dict[str, list[tuple[str, ...]]] = {}
    for phrase in sorted((tuple(w.split()) for w in words), key=len, reverse=True):
        index.setdefault(phrase[-1] if by_last else phrase[0], []).append(phrase)
    return {key: tuple(phrases) for key, phrases in index.items()}


_SHOP_BY_FIRST: Final = _phrase_index(SHOP_WORDS, by_last=False)
_LEGAL_BY_LAST: Final = _phrase_index(LEGAL_SUFFIXES, by_last=True)
_NAME_DROP_CHARS: Final = dict.fromkeys(map(ord, "™®©℠℗"), None)
_APOSTROPHES_RE: Final = re.compile(r"(?<=\w)['’ʼ`´](?=\w)")
_ASCII_SEPARATORS_RE: Final = re.compile(r"[^0-9a-z]+")


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF  # kana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xAC00 <= code <= 0xD7AF  # hangul syllables
        or 0x1100 <= code <= 0x11FF
        or 0x20000 <= code <= 0x3FFFF
    )


def _fold_once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text.translate(_NAME_DROP_CHARS))
    text = unicodedata.normalize("NFKC", text.casefold())
    text = _APOSTROPHES_RE.sub("", text)
    out: list[str] = []
    previous_cjk: bool | None = None
    for char in text:
        category = unicodedata.category(char)
        if category[0] in "LNM" and category != "Cs":
            cjk = _is_cjk(char)
            # A change between CJK and other scripts separates words: "nike耐克" -> "nike 耐克".
            if previous_cjk is not None and cjk != previous_cjk and category[0] != "M":
                out.append(" ")
            out.append(char)
            if category[0] != "M":
                previous_cjk = cjk
        else:
            out.append(" ")
            previous_cjk = None
    return " ".join("".join(out).split())


def _fold(text: str) -> str:
    if text.isascii():
        # What the general path does to ASCII (NFKC and casefold are lowercasing; letters and
        # digits stay, everything else is a separator), without a Python loop per character.
        return " ".join(
            _ASCII_SEPARATORS_RE.sub(" ", _APOSTROPHES_RE.sub("", text.lower())).split()
        )
    return _fold_unicode(text)


def _fold_unicode(text: str) -> str:
    for _ in range(4):  # casefold and NFKC may feed each other; stop at the fixed point
        folded = _fold_once(text)
        if folded == text:
            break
        text = folded
    return text


def _strip_cjk(token: str) -> str:
    """Strip CJK legal and shop words from the end of an unspaced token: 淘宝网官方旗舰店 -> 淘宝网.

    A token that is one whole word (有限公司, 旗舰店) is left for the phrase rules, so that
    有限公司 is not read as 有限 + 公司.
    """
    while token not in _CJK_WORDS:
        for word in _CJK_SUFFIXES:
            if token.endswith(word) and len(token) > len(word):
                rest = token[: -len(word)]
                # A bare 店 only goes when a real name stays: 书店 (bookshop) is kept.
                if word == "店" and len(rest) < 2:
                    continue
                token = rest
                break
        else:
            break
    return token


def _core_tokens(tokens: list[str]) -> list[str]:
    """Drop shop words anywhere and legal forms at the end; linear in the number of tokens."""
    tokens = [t if t.isascii() else _strip_cjk(t) for t in tokens]
    kept: list[str] = []
    index = 0
    while index < len(tokens):
        for phrase in _SHOP_BY_FIRST.get(tokens[index], ()):
            if tuple(tokens[index : index + len(phrase)]) == phrase:
                index += len(phrase)
                break
        else:
            kept.append(tokens[index])
            index += 1
    while kept:
        for phrase in _LEGAL_BY_LAST.get(kept[-1], ()):
            if len(kept) >= len(phrase) and tuple(kept[-len(phrase) :]) == phrase:
                del kept[-len(phrase) :]
                break
        else:
            break
    return kept


def normalize_name(value: object) -> NormalizedName:
    """Fold a seller or platform name for matching. Never raises.

    NFKC and casefold; punctuation, symbols and whitespace become single spaces; CJK is kept
    as written (no pinyin). Names longer than `MAX_NAME_LENGTH`, as given or once folded, give
    `ErrorCode.TOO_LONG`.

    >>> n = normalize_name("Nike Official Store Inc.")
    >>> n.folded, n.core
    ('nike official store inc', 'nike')
    >>> normalize_name("淘宝网官方旗舰店").core
    '淘宝网'
    """
    text = as_text(value)
    if text is None:
        return NormalizedName("", "", "", (), "", ErrorCode.EMPTY)
    if len(text) > MAX_NAME_LENGTH:
        return NormalizedName(text, "", "", (), "", ErrorCode.TOO_LONG)
    clean = SURROGATES.sub(" ", text) if not text.isascii() else text
    folded = _fold(clean)
    if not folded:
        return NormalizedName(text, "", "", (), "", ErrorCode.EMPTY)
    if len(folded) > MAX_NAME_LENGTH:
        # Folding can grow a name (casefolded İ is two code points, scripts get a space
        # between them): bound the folded form too, so that folding it again is stable.
        return NormalizedName(text, "", "", (), "", ErrorCode.TOO_LONG)
    tokens = _core_tokens(folded.split(" "))
    core = " ".join(tokens) or folded
    core_tokens = tuple(core.split(" "))
    return NormalizedName(text, folded, core, core_tokens, "".join(core_tokens), None)
