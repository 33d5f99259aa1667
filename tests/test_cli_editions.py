"""User editions from the command line: README's walk-through run as written, import, show,
history, --data on every command, NOTORIOUS_SCREEN_DATA, and the incomplete-edition note."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from notorious_screen._yaml import load_yaml
from notorious_screen.cli import main

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
README = (REPO / "README.md").read_text(encoding="utf-8")


def _walkthrough() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    (block,) = [b for b in blocks if "markets import examples/edition-2030.csv" in b]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def _run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "NOTORIOUS_SCREEN_DATA"}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "notorious_screen", *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environ,
        timeout=120,
    )


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    return tmp_path


def test_readme_walkthrough_runs_as_written(workdir: Path) -> None:
    """A new user adds the fictional edition from its CSV, screens against it, diffs it with
    2021 and sees it in history, with README's commands exactly."""
    lines = _walkthrough()
    assert len(lines) == 7
    expected = [
        (
            "stderr",
            "USTR NML 2030 (fictional test edition) (new edition): online 5/5, physical 1/2",
        ),
        ("stdout", "online 5/5 captured (complete), physical 1/2 captured (partial)"),
        ("stdout", "+10  listed-new: newly listed on the selected edition"),
        ("stderr", "edition: USTR NML 2030 (fictional test edition) (online 5/5, physical 1/2)"),
        ("stdout", "added       shadow-bazaar"),
        ("stdout", "USTR NML 2030 (fictional test edition)  yes      continuing  TAOBAO"),
        ("stdout", "edition-2030.yaml:"),
    ]
    for line, (stream, text) in zip(lines, expected, strict=True):
        argv = shlex.split(line)
        assert argv[0] == ".venv/bin/notorious-screen"
        out = _run(argv[1:], workdir)
        assert out.returncode == 0, (line, out.stderr)
        assert text in getattr(out, stream), (line, getattr(out, stream))
        assert "Traceback" not in out.stderr and "Warning:" not in out.stderr
    overlay = (workdir / "edition-2030.yaml").read_text(encoding="utf-8")
    assert overlay == (EXAMPLES / "edition-2030.yaml").read_text(encoding="utf-8")
    screened = (workdir / "screened-2030.csv").read_text(encoding="utf-8").splitlines()
    assert screened[0].endswith('"ns_edition","ns_edition_complete","ns_name_mentions"')
    assert all('"ustr-nml-2030",true,' in r for r in screened[1:])


def test_readme_error_examples_are_what_the_import_says(workdir: Path) -> None:
    """Each error README shows, made by the one edit to the example it describes."""
    edits = {
        "5:29": (5, ",e-commerce,", ",ecommerce,"),
        "5:47": (5, "shadow-bazaar.example;", "https://shadow-bazaar.example/shop;"),
        "6:15: 'Phantom": (6, "phantom-locker.example,", "phantom-locker.example taobao.com,"),
        "6:15: 'Taobaoo'": (6, "Phantom Locker", "Taobaoo"),
    }
    shown = [
        line.strip().removesuffix("...")
        for line in README.splitlines()
        if line.startswith("    edition-2030.csv:")
    ]
    assert len(shown) == len(edits)
    original = (EXAMPLES / "edition-2030.csv").read_text(encoding="utf-8").splitlines()
    for text, (key, (number, old, new)) in zip(shown, edits.items(), strict=True):
        assert text.startswith(f"edition-2030.csv:{key}")
        lines = list(original)
        assert old in lines[number - 1]
        lines[number - 1] = lines[number - 1].replace(old, new)
        (workdir / "edition-2030.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        out = _run(["markets", "import", "edition-2030.csv"], workdir)
        assert out.returncode == 1 and out.stdout == ""
        assert out.stderr.startswith(f"notorious-screen: error: {text}"), out.stderr
        assert out.stderr.count("\n") == 1


def test_import_to_stdout_and_its_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["markets", "import", str(EXAMPLES / "edition-2030.csv")]) == 0
    out, err = capsys.readouterr()
    assert load_yaml(out) == load_yaml((EXAMPLES / "edition-2030.yaml").read_text("utf-8"))
    assert err.splitlines() == [
        "notorious-screen: USTR NML 2030 (fictional test edition) (new edition): "
        "online 5/5, physical 1/2, complete",
        "notorious-screen: 3 known markets (taobao by host taobao.com (line 2), the-pirate-bay "
        "by name 'THE PIRATE BAY' (line 3), dhgate by name 'DUNHUANG.COM' (line 4)), 3 new "
        "(shadow-bazaar, phantom-locker, mirage-night-market)",
    ]


def test_import_error_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("list,year,name\nustr-nml,2030,X\n", encoding="utf-8")
    out = tmp_path / "o.yaml"
    assert main(["markets", "import", str(bad), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"notorious-screen: error: {bad}:1:1: missing column 'kind' (the header needs: list, "
        "year, name, kind, country, hosts, owner, status, source_title, source_url)\n"
    )
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_show_names_the_file_of_each_fact(capsys: pytest.CaptureFixture[str]) -> None:
    overlay = str(EXAMPLES / "edition-2030.yaml")
    assert main(["markets", "show", "taobao", "--data", overlay, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["origins"]["kind"].startswith("notorious_screen/data/markets.yaml:")
    listings = {x["year"]: x for x in doc["listings"] if x["list"] == "ustr-nml"}
    assert listings[2030]["from"].startswith(f"{overlay}:")
    assert listings[2030]["sources"] == ["example-org-2030"]
    assert listings[2021]["from"].startswith("notorious_screen/data/markets.yaml:")
    assert main(["markets", "show", "udn-test", "--data", overlay]) == 1
    assert main(["markets", "show", "taobaoo"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "notorious-screen: error: no market with the id, host or name 'taobaoo'; "
        "did you mean 'taobao'?"
    )


def test_show_prints_sources_with_their_excerpts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["markets", "show", "magistv"]) == 0
    out = capsys.readouterr().out
    assert "  kind         iptv" in out
    assert "dayfr-2025-01: dayfr.com (German edition of a French tech article)" in out
    assert "„Piraterie-Stammgäste“" in out  # the excerpt, verbatim


def test_history_by_host_with_absences_marked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["markets", "history", "https://pan.baidu.com/s/1x", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["market"]["id"] == "baidu-wangpan"
    by = {(e["list"], e["year"]): e for e in doc["editions"]}
    assert by[("ustr-nml", 2019)]["status"] == "not listed"  # complete edition: a real absence
    assert by[("ustr-nml", 2025)]["status"] == "not in the data"  # incomplete: proves nothing
    assert by[("ustr-nml", 2024)]["listed"] is True
    assert main(["markets", "history", "Baidu Wangpan"]) == 0
    out = capsys.readouterr().out
    assert (
        out.splitlines()[0]
        == "Baidu Wangpan (baidu-wangpan): listed in 5 of 11 editions in the data"
    )
    assert re.search(r"^USTR NML 2019 +no ", out, flags=re.M)
    assert re.search(r"^USTR NML 2025 +\? ", out, flags=re.M)


def test_data_option_repeats_and_works_after_the_subcommand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        'overlay: 1\nmarkets:\n- id: "shadow-bazaar"\n  hosts: ["shadow-bazaar-2.example"]\n',
        encoding="utf-8",
    )
    overlay = str(EXAMPLES / "edition-2030.yaml")
    argv = [
        "markets",
        "--data",
        overlay,
        "history",
        "shadow-bazaar-2.example",
        "--data",
        str(extra),
    ]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("Shadow Bazaar (shadow-bazaar): listed in 1 of 12")
    # The later overlay needs the earlier one: alone it patches a market nobody defines.
    assert main(["markets", "history", "x", "--data", str(extra)]) == 1
    assert "market is missing key 'name'" in capsys.readouterr().err


def test_the_environment_supplies_the_default_data(tmp_path: Path) -> None:
    overlay = str(EXAMPLES / "edition-2030.yaml")
    out = _run(["markets", "--year", "2030", "--online", "--format", "csv"], tmp_path,
               NOTORIOUS_SCREEN_DATA=overlay)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert {r.split(",")[0] for r in out.stdout.splitlines()[1:]} == {
        "dhgate",
        "phantom-locker",
        "shadow-bazaar",
        "taobao",
        "the-pirate-bay",
    }
    missing = _run(["markets"], tmp_path, NOTORIOUS_SCREEN_DATA=str(tmp_path / "nope.yaml"))
    assert missing.returncode == 1
    assert missing.stderr == (
        f"notorious-screen: error: {tmp_path / 'nope.yaml'}: cannot read file: "
        "No such file or directory\n"
    )


def test_screen_notes_an_incomplete_edition_once(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("url\nhttps://item.taobao.com/x\nhttps://example.org/\n", encoding="utf-8")
    note = (
        "notorious-screen: note: USTR NML 2024 is incomplete in the data (online 19/38, physical "
        "13/33): a market's absence from it proves nothing"
    )
    plain = _run(["screen", str(src), "--year", "2024", "-o", str(tmp_path / "o.csv")], tmp_path)
    assert plain.returncode == 0 and plain.stderr.splitlines() == [note]
    summary = _run(
        ["screen", str(src), "--year", "2024", "-o", str(tmp_path / "o.csv"), "--summary"], tmp_path
    )
    lines = summary.stderr.splitlines()
    assert lines.count(note) == 1 and lines[-1] == note
    assert "edition: USTR NML 2024 (online 19/38, physical 13/33)" in lines
    assert "IncompleteEditionWarning" not in summary.stderr
    complete = _run(["screen", str(src), "-o", str(tmp_path / "o.csv"), "--summary"], tmp_path)
    assert "note:" not in complete.stderr
    assert "edition: USTR NML 2021 (online 42/42, physical 14/35)" in complete.stderr


def test_explain_and_rules_test_take_data(capsys: pytest.CaptureFixture[str]) -> None:
    overlay = str(EXAMPLES / "edition-2030.yaml")
    url = "https://phantom-locker.example/f/1"
    assert main(["explain", url, "--data", overlay, "--year", "2030"]) == 0
    out = capsys.readouterr().out
    assert "market:       Phantom Locker [phantom-locker, cyberlocker]" in out
    assert "edition:      USTR NML 2030 (fictional test edition)" in out
    assert main(["rules", "test", "default", "--data", overlay, "--year", "2021"]) == 0
    assert "(USTR NML 2021)" in capsys.readouterr().out


def test_markets_table_names_the_data_files(capsys: pytest.CaptureFixture[str]) -> None:
    overlay = str(EXAMPLES / "edition-2030.yaml")
    assert main(["markets", "--data", overlay, "--year", "2030"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == f"data: notorious_screen/data/markets.yaml + {overlay}"
    assert "Online markets (5 of 5 known to the data)" in out
    assert "Physical markets (1 of 2 known to the data)" in out
