"""Fuzz targets: each takes raw bytes and raises only when a property of the library breaks.

The targets are engine-agnostic: ``run.py`` drives them with atheris (coverage-guided
libFuzzer) when it is installed, else with a seeded random mutator. A target must never
raise for any input; the exceptions the library documents (``DataError`` for a bad rule pack,
``InputError`` for an unusable file) are caught here, and anything else is a finding.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError(f"network access attempted: {args[:2]!r}")


def block_network() -> None:
    """Refuse every way out, as tests/conftest.py does: a fuzz input must never go online."""
    for name in ("connect", "connect_ex", "sendto", "sendmsg"):
        setattr(socket.socket, name, _refuse)
    socket.create_connection = _refuse  # type: ignore[assignment]
    socket.getaddrinfo = _refuse  # type: ignore[assignment]
    socket.gethostbyname = _refuse  # type: ignore[assignment]


def import_heavy_dependencies() -> None:
    """Import third-party modules before instrumenting, so only our code is instrumented."""
    import idna  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow
    import pyarrow.compute
    import pyarrow.csv  # noqa: F401
    import tldextract  # noqa: F401
    import yaml  # noqa: F401


_STATE: dict[str, Any] = {}
_SURROGATES = re.compile("[\ud800-\udfff]")


def _usv(text: str) -> str:
    return _SURROGATES.sub("\ufffd", text)


def setup(*, catch_unraisable: bool = True) -> None:
    """Build the shared screener and a scratch directory (once per process).

    ``catch_unraisable`` records "Exception ignored" reports (from pyarrow callbacks, say) so
    the files target can fail on them; the test suite leaves the hook to pytest.
    """
    if _STATE:
        return
    from notorious_screen.match import Matcher
    from notorious_screen.screen import Screener

    _STATE["screener"] = Screener()
    _STATE["matcher"] = Matcher()
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    work = Path(tempfile.mkdtemp(prefix="ns-fuzz-", dir=shm))
    _STATE["work"] = work
    unraisable: list[str] = []
    _STATE["unraisable"] = unraisable
    if catch_unraisable:
        sys.unraisablehook = lambda u: unraisable.append(f"{u.exc_type.__name__}: {u.exc_value}")


def _text(data: bytes) -> str:
    # Invalid UTF-8 bytes become lone surrogates: the normalizers must take those too.
    return data.decode("utf-8", "surrogateescape")


def _agree(text: str, name: str | None) -> None:
    """The batch engine and screen_url give the same answer for one row."""
    import pyarrow as pa

    screener = _STATE["screener"]
    one = screener.screen_url(text, name=name)
    names = pa.array([_usv(name)]) if name is not None else None
    row = screener.screen_arrays(pa.array([_usv(text)]), names)
    got = {k: row[k][0].as_py() for k in ("ns_market_id", "ns_error", "ns_match", "ns_score")}
    want = {
        "ns_market_id": one.market.id if one.market else None,
        "ns_error": one.error.value if one.error else None,
        "ns_match": one.match.kind.value,
        "ns_score": one.score,
    }
    assert got == want, (text, name, got, want)


# ---- targets -----------------------------------------------------------------------------------
def target_normalize(data: bytes) -> None:
    """URL/host normalization: never raises, well-formed hosts, idempotent, engines agree."""
    from notorious_screen.normalize import normalize_host, normalize_url

    text = _text(data)
    u = normalize_url(text)
    h = normalize_host(text)
    for r in (u, h):
        assert (r.error is None) == (r.host is not None), (text, r)
        if r.host is not None:
            assert r.host.isascii() and r.host == r.host.lower(), (text, r.host)
    if u.host is not None:
        again = normalize_host(u.host)
        assert again.host == u.host, (text, u.host, again.host)
        assert again.registrable_domain == u.registrable_domain, (text, u, again)
        if u.host_unicode is not None:
            assert normalize_host(u.host_unicode).host == u.host, (text, u.host_unicode)
    _STATE["matcher"].match(text)
    _agree(text, None)


def target_names(data: bytes) -> None:
    """Name folding: never raises, stable, no stray spaces; name matching agrees across engines."""
    from notorious_screen.normalize import normalize_name

    text = _text(data)
    n = normalize_name(text)
    if n.error is None:
        assert n.core, (text, n)
        assert normalize_name(n.folded).folded == n.folded, (text, n.folded)
        assert normalize_name(n.core).core == n.core, (text, n.core)
        assert " " not in n.compact and "  " not in n.folded, (text, n)
    _STATE["matcher"].match(None, name=text)
    _agree("", text)
    _agree("https://shop.example.com/x", text)


_RECORDS: list[dict[str, Any]] = []


def target_rules(data: bytes) -> None:
    """Rule packs: any bytes give located DataErrors or a pack whose evaluation never raises."""
    from notorious_screen.errors import DataError
    from notorious_screen.rules import check_rule_pack, load_rule_pack

    path = _STATE["work"] / "fuzz.yaml"
    path.write_bytes(data)
    errors = check_rule_pack(path)
    for err in errors:
        assert isinstance(err, DataError) and err.location is not None, repr(err)
        assert str(err).startswith(str(err.location)), str(err)
    # The same file as the base of another pack: errors stay located and never raise.
    child = _STATE["work"] / "child.yaml"
    if not child.exists():
        child.write_text("version: 1\nname: child\nextends: fuzz.yaml\n")
    for err in check_rule_pack(child):
        assert isinstance(err, DataError) and err.location is not None, repr(err)
    if errors:
        return
    pack = load_rule_pack(path)  # check said it is valid: loading must agree
    if not _RECORDS:
        screener = _STATE["screener"]
        for url in ("https://item.taobao.com/x?id=1", "https://a1iexpress.com/item",
                    "https://shop.example.com/" + "a" * 2000 + "!", "not a url", ""):  # fmt: skip
            match = screener.matcher.match(url, name="Tao Bao")
            _RECORDS.append(screener.record(match, url=url, name="Tao Bao"))
    for record in _RECORDS:
        result = pack.evaluate(record)
        assert result.tier is None or result.tier in pack.tiers, result


def target_files(data: bytes) -> None:
    """Table readers: any bytes are read whole or give one InputError; no unraisable noise."""
    from notorious_screen._files import open_table
    from notorious_screen.errors import InputError

    if not data:
        return
    selector, body = data[0], data[1:]
    fmt = ("csv", "tsv", "jsonl")[selector % 3]
    encoding = ("utf-8", "auto", "latin-1", "utf-16")[(selector >> 2) % 4]
    errors = ("strict", "replace")[(selector >> 4) % 2]
    path = _STATE["work"] / f"fuzz.{fmt}"
    path.write_bytes(body)
    unraisable = _STATE["unraisable"]
    unraisable.clear()
    try:
        with open_table(
            str(path), fmt=fmt, encoding=encoding, encoding_errors=errors, chunksize=7
        ) as (names, batches):
            width = len(names)
            for batch in batches:
                assert batch.num_columns == width, (batch.schema, names)
    except InputError as exc:
        message = str(exc)
        assert message and "\n" not in message.splitlines()[0], message
    assert not unraisable, unraisable


def _read_all(path: Path, fmt: str) -> tuple[list[str], int] | None:
    """(names, rows) read through the library's reader, or None after one InputError; fails
    on anything else: a traceback, a batch of the wrong width, an "Exception ignored"."""
    from notorious_screen._files import open_table
    from notorious_screen.errors import InputError

    unraisable = _STATE["unraisable"]
    unraisable.clear()
    rows = 0
    try:
        with open_table(str(path), fmt=fmt, chunksize=7) as (names, batches):
            for batch in batches:
                assert batch.num_columns == len(names), (batch.schema, names)
                assert all(pa_is_text(c.type) for c in batch.columns), batch.schema
                rows += batch.num_rows
    except InputError as exc:
        message = str(exc)
        assert message and "\n" not in message.strip(), message
        assert message.startswith(str(path)), message  # it says which file
        return None
    finally:
        assert not unraisable, unraisable
    return names, rows


def pa_is_text(t: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def target_jsonl(data: bytes) -> None:
    """JSON Lines: one InputError, or every non-blank line comes out as one row."""
    path = _STATE["work"] / "fuzz.jsonl"
    path.write_bytes(data)
    got = _read_all(path, "jsonl")
    if got is None:
        return
    lines = data.split(b"\n")
    if lines and lines[0].startswith(b"\xef\xbb\xbf"):
        lines[0] = lines[0][3:]
    expected = sum(1 for line in lines if line.decode("utf-8").strip())
    assert got[1] == expected, (got, expected)


def target_parquet(data: bytes) -> None:
    """Parquet: one InputError, or exactly the rows the footer declares, all as text."""
    import pyarrow.parquet as pq

    path = _STATE["work"] / "fuzz.parquet"
    path.write_bytes(data)
    got = _read_all(path, "parquet")
    if got is None:
        return
    assert got[1] == pq.ParquetFile(path).metadata.num_rows, got


def target_xlsx(data: bytes) -> None:
    """XLSX: one InputError naming the file, or batches of the header's width, all text."""
    path = _STATE["work"] / "fuzz.xlsx"
    path.write_bytes(data)
    _read_all(path, "xlsx")


TARGETS: dict[str, Callable[[bytes], None]] = {
    "normalize": target_normalize,
    "names": target_names,
    "rules": target_rules,
    "files": target_files,
    "jsonl": target_jsonl,
    "parquet": target_parquet,
    "xlsx": target_xlsx,
}
