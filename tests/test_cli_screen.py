"""The batch command: formats, streams, exit codes, nothing lost, safe output."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from notorious_screen.cli import main
from notorious_screen.screen import OUTPUT_COLUMNS, Screener

REPO = Path(__file__).resolve().parents[1]
SELLERS = REPO / "examples" / "sellers.csv"
sys.path.insert(0, str(REPO / "benchmarks"))
from generate import generate  # noqa: E402


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_output_agrees_with_screen_frame(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.csv"
    code, _, err = _run(
        [
            "screen",
            str(SELLERS),
            "-o",
            str(out),
            "--name-column",
            "seller_name",
            "--no-neutralize",
        ],
        capsys,
    )
    assert code == 0, err
    cli = _read(out)
    original = _read(SELLERS)
    frame = Screener().screen_frame(original, name_column="seller_name")
    assert list(cli.columns) == [*original.columns, *OUTPUT_COLUMNS]
    pd.testing.assert_frame_equal(cli[list(original.columns)], original)

    def as_csv_text(v: object) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return ""
        return "true" if v is True else "false" if v is False else str(v)

    for col in OUTPUT_COLUMNS:
        if col == "ns_similarity":
            got = [str(float(v)) for v in cli[col]]
            expected = [str(float(v)) for v in frame[col]]
        else:
            got = list(cli[col])
            expected = [as_csv_text(v) for v in frame[col]]
        assert got == expected, col


def test_stdin_to_stdout(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    data = b"url\nhttps://item.taobao.com/item.htm?id=1\nexample.org\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["screen", "-"]) == 0
    out = capsysbinary.readouterr().out.decode()
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["url"] for r in rows] == ["https://item.taobao.com/item.htm?id=1", "example.org"]
    assert rows[0]["ns_market_id"] == "taobao"
    assert rows[1]["ns_match"] == "none"


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "parquet", "xlsx"])
def test_each_format_round_trips(
    tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    original = _read(SELLERS).head(60)
    src = tmp_path / "in.csv"
    original.to_csv(src, index=False)
    dst = tmp_path / f"out.{fmt}"
    code, _, err = _run(["screen", str(src), "-o", str(dst), "--no-neutralize"], capsys)
    assert code == 0, err
    if fmt in ("csv", "tsv"):
        back = pd.read_csv(dst, dtype=str, keep_default_na=False, sep="," if fmt == "csv" else "\t")
    elif fmt == "jsonl":
        back = pd.DataFrame([json.loads(line) for line in dst.read_text().splitlines()])
    elif fmt == "parquet":
        back = pd.read_parquet(dst)
    else:
        back = pd.read_excel(dst, dtype=str, keep_default_na=False)
    assert list(back.columns) == [*original.columns, *OUTPUT_COLUMNS]
    assert back["url"].fillna("").tolist() == original["url"].tolist()
    assert back["row_id"].astype(str).tolist() == original["row_id"].tolist()
    # the screened file can be screened again as input of the same format
    again = tmp_path / f"again.{fmt}"
    code, _, err = _run(["screen", str(dst), "-o", str(again), "--url-column", "url"], capsys)
    assert code == 1 and "already has output column" in err


def test_chunk_size_does_not_change_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = []
    for chunk in ("1", "7", "100000"):
        dst = tmp_path / f"out{chunk}.csv"
        code, _, err = _run(
            [
                "screen",
                str(SELLERS),
                "-o",
                str(dst),
                "--chunksize",
                chunk,
                "--name-column",
                "seller_name",
            ],
            capsys,
        )
        assert code == 0, err
        outputs.append(dst.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]


def test_missing_column_names_existing_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.csv"
    src.write_text("link,seller\nx.com,a\n")
    code, _, err = _run(["screen", str(src)], capsys)
    assert code == 1
    assert err.strip().splitlines() == [
        f"notorious-screen: error: {src}: column 'url' not found; "
        "the input has columns: 'link', 'seller'"
    ]


def test_empty_file_and_header_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, _, err = _run(["screen", str(empty)], capsys)
    assert code == 1 and "empty" in err and "Traceback" not in err
    header = tmp_path / "header.csv"
    header.write_text("url,seller\n")
    dst = tmp_path / "out.csv"
    code, _, err = _run(["screen", str(header), "-o", str(dst)], capsys)
    assert code == 0, err
    assert dst.read_text().splitlines() == [
        ",".join(f'"{c}"' for c in ["url", "seller", *OUTPUT_COLUMNS])
    ] or dst.read_text().splitlines()[0].replace('"', "").split(",") == [
        "url",
        "seller",
        *OUTPUT_COLUMNS,
    ]
    assert len(dst.read_text().splitlines()) == 1


def test_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["screen"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["screen", "x.csv", "--chunksize", "0"])
    assert exc.value.code == 2


def test_bad_rule_pack_exit_1_with_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = tmp_path / "bad.yaml"
    pack.write_text(
        "version: 1\nname: bad\nextends: default\nrules:\n"
        "  - id: r1\n    description: d\n    score: 10\n    when: {listd: true}\n"
    )
    code, _, err = _run(
        ["screen", str(SELLERS), "--rules", str(pack), "-o", str(tmp_path / "o.csv")], capsys
    )
    assert code == 1
    assert f"{pack}:8:" in err and "listd" in err
    assert len(err.strip().splitlines()) == 1


def test_fail_on_tier(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    benign = tmp_path / "benign.csv"
    benign.write_text("url\nhttps://www.example.org/\n")
    listed = tmp_path / "listed.csv"
    listed.write_text("url\nhttps://www.example.org/\nhttps://item.taobao.com/item.htm?id=1\n")
    assert (
        _run(["screen", str(benign), "-o", str(tmp_path / "a.csv"), "--fail-on", "high"], capsys)[0]
        == 0
    )
    assert (
        _run(["screen", str(listed), "-o", str(tmp_path / "b.csv"), "--fail-on", "high"], capsys)[0]
        == 3
    )
    code, _, err = _run(
        ["screen", str(listed), "-o", str(tmp_path / "c.csv"), "--fail-on", "hihg"], capsys
    )
    assert code == 1 and "unknown tier 'hihg'" in err


@pytest.mark.parametrize("fmt", ["csv", "tsv", "xlsx"])
def test_formula_injection_is_neutralized(
    tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.csv"
    evil = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "plain"]
    with src.open("w", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)  # pandas leaves a lone CR unquoted
        w.writerow(["url", "note"])
        w.writerows(["example.org", v] for v in evil)
    dst = tmp_path / f"out.{fmt}"
    assert _run(["screen", str(src), "-o", str(dst)], capsys)[0] == 0
    if fmt == "xlsx":
        back = pd.read_excel(dst, dtype=str, keep_default_na=False)
    else:
        back = pd.read_csv(dst, dtype=str, keep_default_na=False, sep="," if fmt == "csv" else "\t")
    expected = ["'" + v for v in evil[:-1]] + ["plain"]
    if fmt == "xlsx":  # XML turns a lone CR into LF when the sheet is read back
        expected = [v.replace("\r", "\n") for v in expected]
    assert back["note"].tolist() == expected
    raw = tmp_path / f"raw.{fmt}"
    assert _run(["screen", str(src), "-o", str(raw), "--no-neutralize"], capsys)[0] == 0
    if fmt != "xlsx":
        back = pd.read_csv(raw, dtype=str, keep_default_na=False, sep="," if fmt == "csv" else "\t")
        assert back["note"].tolist() == evil


def test_summary_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(
        ["screen", str(SELLERS), "-o", str(tmp_path / "o.csv"), "--summary"], capsys
    )
    assert code == 0
    assert "rows screened: 286" in err
    for heading in (
        "rows per market:",
        "rows per owner:",
        "rows per tier:",
        "rows per listing status:",
    ):
        assert heading in err


def test_sort_by_score(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dst = tmp_path / "sorted.csv"
    assert _run(["screen", str(SELLERS), "-o", str(dst), "--sort", "score"], capsys)[0] == 0
    scores = [int(s) for s in _read(dst)["ns_score"]]
    assert scores == sorted(scores, reverse=True)
    assert len(scores) == 286


def test_interrupted_run_leaves_no_partial_file(tmp_path: Path) -> None:
    src = tmp_path / "big.csv"
    with src.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["url", "seller_name"])
        for url, name in generate(400_000, seed=5, distinct_shops=200_000):
            w.writerow([url, name])
    dst = tmp_path / "out.csv"
    dst.write_text("previous contents\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "notorious_screen",
            "screen",
            str(src),
            "-o",
            str(dst),
            "--chunksize",
            "5000",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    part = None
    while time.monotonic() < deadline and proc.poll() is None:
        parts = [p for p in tmp_path.iterdir() if p.name.endswith(".part") and p.stat().st_size > 0]
        if parts:
            part = parts[0]
            break
        time.sleep(0.05)
    assert part is not None, "the run ended before writing started; make the input bigger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert dst.read_text() == "previous contents\n"


def test_explain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["explain", "hxxps://a1iexpress[.]com/item/1"], capsys)
    assert code == 0
    assert "refang" in out.lower()
    assert "variant" in out and "aliexpress.com" in out
    assert "score:" in out


def test_screening_a_csv_never_imports_pandas(tmp_path: Path) -> None:
    # pandas costs 0.2 s to import; the CSV path is Arrow and NumPy only.
    code = (
        "import sys\n"
        "from notorious_screen.cli import main\n"
        f"rc = main(['screen', {str(SELLERS)!r}, '-o', {str(tmp_path / 'o.csv')!r},"
        " '--name-column', 'seller_name', '--summary', '--workers', '1'])\n"
        "print(rc, 'pandas' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert done.stdout.split() == ["0", "False"], done.stderr
