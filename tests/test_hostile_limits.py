"""Hostile input, round two: every format's edges, every documented bound, every signal.

Each case ends in one of two ways: one error line that names the file (and the place and the
bound that was hit), or every row kept. The hostile files are made here by small generators
(``tests/_hostile.py``), never committed as bombs.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from notorious_screen._regex import RegexBudget, SafeRegex
from notorious_screen.cli import main
from notorious_screen.errors import RulePackError
from notorious_screen.rules import LIMITS, load_rule_pack
from notorious_screen.screen import Screener

REPO = Path(__file__).resolve().parents[1]


def _one_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("notorious-screen: error: "), err
    assert "Traceback" not in err
    return lines[0].removeprefix("notorious-screen: error: ")


def _pack_text(extends: str) -> str:
    return f"version: 1\nname: child\nextends: {extends}\n"


# ---- rule packs are files from someone else ------------------------------------------------
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_never_read_as_a_pack(
    tmp_path: Path, device: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    with pytest.raises(RulePackError) as info:
        load_rule_pack(device)
    assert str(info.value) == f"{device}: cannot read rule pack: not a regular file"
    child = tmp_path / "child.yaml"
    child.write_text(_pack_text(device))
    assert main(["rules", "check", str(child)]) == 1
    assert capsys.readouterr().out.strip() == f"{device}: cannot read rule pack: not a regular file"
    src = tmp_path / "in.csv"
    src.write_text("url\nexample.org\n")
    assert main(["screen", str(src), "--rules", device, "-o", str(tmp_path / "o.csv")]) == 1
    assert _one_error(capsys.readouterr().err) == (
        f"{device}: cannot read rule pack: not a regular file"
    )


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pack.yaml"
    os.mkfifo(fifo)
    # Opening a FIFO for reading blocks until a writer comes; nobody will: a hang would stall
    # the test, a pass proves the open did not wait.
    with pytest.raises(RulePackError, match="not a regular file"):
        load_rule_pack(fifo)
    child = tmp_path / "child.yaml"
    child.write_text(_pack_text("pack.yaml"))
    with pytest.raises(RulePackError) as info:
        load_rule_pack(child)
    assert str(info.value) == f"{tmp_path}/pack.yaml: cannot read rule pack: not a regular file"


def test_the_size_cap_counts_what_is_read_not_what_stat_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from notorious_screen import _yaml

    big = tmp_path / "big.yaml"
    big.write_text("version: 1\nname: big\n# " + "x" * 2000 + "\n")
    # A file that grows after stat (or a /proc file that says 0) is caught by what is read.
    real_fstat = os.fstat

    def lying_fstat(fd: int) -> os.stat_result:
        st = real_fstat(fd)
        return os.stat_result((stat.S_IFREG | 0o644, *tuple(st)[1:6], 0, *tuple(st)[7:10]))

    monkeypatch.setattr(_yaml, "MAX_BYTES", 1000)
    monkeypatch.setattr(os, "fstat", lying_fstat)
    with pytest.raises(RulePackError) as info:
        load_rule_pack(big)
    assert str(info.value) == f"{big}: file is larger than 0 MiB"


def test_a_symlink_loop_in_extends_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    child = tmp_path / "child.yaml"
    child.write_text(_pack_text("a.yaml"))
    with pytest.raises(RulePackError) as info:
        load_rule_pack(child)
    assert str(info.value).startswith(f"{tmp_path}/a.yaml: cannot read rule pack: ")
    assert "symbolic links" in str(info.value)
    with pytest.raises(RulePackError, match="symbolic links"):
        load_rule_pack(tmp_path / "a.yaml")


def test_a_file_that_is_not_a_pack_is_never_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "shadow"
    secret.write_text("".join(f"user{i}: $6$SECRET{i}$hash$19000$0$99999$7\n" for i in range(50)))
    child = tmp_path / "child.yaml"
    child.write_text(_pack_text(str(secret)))
    assert main(["rules", "check", str(child)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"{secret}:1:1: not a rule pack: none of its top-level keys is a rule-pack key "
        "(version, name, rules, tiers ...)"
    ]
    assert "SECRET" not in out and "user" not in out
    # A pack with a typo still hears about it (it has rule-pack keys).
    typo = tmp_path / "typo.yaml"
    typo.write_text("version: 1\nname: t\ntires: {high: 1}\n")
    assert main(["rules", "check", str(typo)]) == 1
    assert "unknown top-level key 'tires'; did you mean 'tiers'?" in capsys.readouterr().out


# ---- regular expressions: bounded time and memory per value --------------------------------
HUGE_REPEAT = "[ab]*a[ab]{3000}$"


def test_a_large_bounded_repeat_keeps_memory_bounded() -> None:
    rx = SafeRegex("[ab]*a[ab]{1000}$")
    value = "ab" * 32_768  # a 64 KiB URL's worth
    tracemalloc.start()
    try:
        assert rx.search(value) is False
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The memo holds at most max_regex_memo state ids (1.4 GiB before the bound).
    assert peak < 64 * 2**20, peak
    assert rx._memo_size <= LIMITS.max_regex_memo


def test_a_value_that_needs_too_many_steps_stops_at_the_bound() -> None:
    rx = SafeRegex(HUGE_REPEAT)
    before = rx.work
    with pytest.raises(RegexBudget) as info:
        rx.search("ab" * 32_768)
    assert info.value.length == 65_536
    spent = rx.work - before
    # The bound is checked after each step: at most one step (one pass over the states) over.
    assert LIMITS.max_regex_steps < spent <= LIMITS.max_regex_steps + LIMITS.max_regex_states
    # Short values of the same pattern are still answered.
    assert rx.search("ab" * 100) is False


def test_a_pack_whose_regex_exceeds_the_bound_is_one_located_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = tmp_path / "slow.yaml"
    pack.write_text(
        "version: 1\nname: slow\nextends: default\nrules:\n"
        "  - id: huge-repeat\n    description: d\n    score: 5\n"
        f"    when: {{url: {{matches: '{HUGE_REPEAT}'}}}}\n"
    )
    src = tmp_path / "in.csv"
    src.write_text("url\nexample.org\nhttps://x.example/" + "ab" * 30_000 + "\n")
    dst = tmp_path / "o.csv"
    code = main(["screen", str(src), "--rules", str(pack), "-o", str(dst), "--workers", "1"])
    assert code == 1 and not dst.exists()
    assert _one_error(capsys.readouterr().err) == (
        f"{pack}:5:5: rule 'huge-repeat': its regular expression needed more than "
        f"{LIMITS.max_regex_steps:,} steps on one value of 60,018 characters; simplify it "
        "(a large bounded repeat such as {1000} makes every character cost that many steps)"
    )
    # The same pack on ordinary URLs works.
    ok = Screener(rules=pack).screen_url("https://example.org/" + "b" * 100)
    assert ok.error is None


# ---- a pack's text never drives the terminal -----------------------------------------------
def test_pack_text_and_paths_are_escaped_in_every_rules_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "dir\x1b]0;title\x07"
    folder.mkdir()
    pack = folder / "p\u202ek.yaml"
    pack.write_text(
        'version: 1\nname: "n\\e[2Jame"\ndescription: "d\\a\\u2066"\ntiers: {high: 1}\n'
        'brand: {name: "b\\e[31m"}\n'
        "rules:\n"
        '  - id: r1\n    description: "clears \\e[2J the screen"\n    score: 1\n'
        "    when: {listed: true}\n"
        'examples:\n  - {url: "https://item.taobao.com/x", tier: high}\n'
    )
    for command in (["check"], ["show"], ["test", "-v"]):
        code = main(["rules", *command, str(pack)])
        out = capsys.readouterr().out
        assert code == 0, out
        assert not any(c in out for c in "\x1b\x07\u202e\u2066"), (command, out)
        assert "\\x1b" in out, (command, out)  # the path, at least, is shown escaped
    main(["rules", "show", str(pack)])
    shown = capsys.readouterr().out
    assert "name:        n\\x1b[2Jame" in shown
    assert "clears \\x1b[2J the screen" in shown
    assert "brand:       b\\x1b[31m" in shown


# ---- signals and workers -------------------------------------------------------------------
LINUX = sys.platform.startswith("linux")
# Starts the CLI with SIGINT in a known state, whatever this test process inherited (a test
# run started as a background job has SIGINT ignored, and exec keeps that).
LAUNCH = (
    "import os, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN if sys.argv[1] == 'ignore' else signal.SIG_DFL)\n"
    "signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])\n"
)


def _launch(args: list[str], *, sigint: str = "default") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCH, sigint, "-m", "notorious_screen", *args],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's reaping is left


def _wait_for(condition: Callable[[], bool], what: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120  # a hang guard only: the loop waits on a state
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        if proc.poll() is not None and what != "the workers to exit":
            pytest.fail(f"the run ended before {what}: {proc.communicate()}")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from generate import generate

    src = tmp_path_factory.mktemp("big") / "big.csv"
    with src.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["url", "seller_name"])
        for url, name in generate(300_000, seed=12, distinct_shops=150_000):
            w.writerow([url, name])
    return src


def _start_screening(tmp_path: Path, src: Path, *, sigint: str = "default") -> tuple[Any, ...]:
    dst = tmp_path / "out.csv"
    proc = _launch(
        ["screen", str(src), "-o", str(dst), "--chunksize", "5000", "--progress", "never",
         "--workers", "2"],
        sigint=sigint,
    )  # fmt: skip

    def writing() -> bool:
        return any(p.name.endswith(".part") and p.stat().st_size for p in tmp_path.iterdir())

    _wait_for(writing, "writing started", proc)
    workers = _children(proc.pid) if LINUX else set()
    assert not LINUX or workers, "no worker process was started"
    return proc, workers


@pytest.mark.skipif(not LINUX, reason="reads /proc")
@pytest.mark.parametrize(
    ("sig", "code", "message"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
    ids=["ctrl-c", "kill-group"],
)
def test_a_signal_to_the_process_group_gives_one_line_and_no_worker_tracebacks(
    tmp_path: Path, big_csv: Path, sig: int, code: int, message: str
) -> None:
    proc, workers = _start_screening(tmp_path, big_csv)
    os.killpg(proc.pid, sig)  # what a terminal's Ctrl-C and `kill -TERM -PGID` do
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert err.splitlines() == [f"notorious-screen: {message}"]
    assert not any(_running(w) for w in workers)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_no_worker_outlives_a_killed_run(tmp_path: Path, big_csv: Path) -> None:
    proc, workers = _start_screening(tmp_path, big_csv)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=120)
    _wait_for(lambda: not any(_running(w) for w in workers), "the workers to exit", proc)


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_workers_forked_from_another_thread_also_die_with_their_parent(tmp_path: Path) -> None:
    """The parent-death signal follows the forking thread, so a pool started off the main
    thread relies on the pipe the workers watch."""
    script = (
        "import os, signal, sys, threading\n"
        "from notorious_screen.screen import Screener\n"
        "s = Screener(workers=3)\n"
        "t = threading.Thread(target=s.start_workers)\n"
        "t.start(); t.join()\n"
        "print(' '.join(str(p) for p in s._engine._pool._processes), flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err
    workers = {int(p) for p in out.split()}
    assert len(workers) == 2
    _wait_for(lambda: not any(_running(w) for w in workers), "the workers to exit", proc)


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_a_run_started_with_sigint_ignored_keeps_ignoring_it(tmp_path: Path, big_csv: Path) -> None:
    """A background job (``cmd &`` in a script) starts with SIGINT ignored and must stay so,
    as every Unix tool does; SIGTERM still ends it cleanly. SIGINT goes first: were it
    honoured, its handler would run first and the exit code would be 130."""
    proc, workers = _start_screening(tmp_path, big_csv, sigint="ignore")
    os.killpg(proc.pid, signal.SIGINT)
    os.killpg(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert err.splitlines() == ["notorious-screen: terminated"]
    assert not any(_running(w) for w in workers)


def test_the_signal_tests_do_not_depend_on_the_inherited_sigint() -> None:
    """With SIGINT ignored in this process (as under `pytest &`), the launcher still gives
    the CLI a default SIGINT: the signal tests above test the CLI, not how pytest started."""
    probe = "import signal; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        results = [
            subprocess.run(
                [sys.executable, "-c", LAUNCH, state, "-c", probe],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout.strip()
            for state in ("default", "ignore")
        ]
    finally:
        signal.signal(signal.SIGINT, previous)
    assert results == ["True", "False"]


def test_dask_without_loopback_is_one_line_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    src = tmp_path / "in.csv"
    src.write_text("url\nexample.org\n")

    def refused(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket, "create_connection", refused)  # as where lo is down
    code = main(["screen", str(src), "--engine", "dask", "-o", str(tmp_path / "out")])
    assert code == 1
    assert _one_error(capsys.readouterr().err).startswith(
        "--engine dask starts a local cluster, which talks over TCP on 127.0.0.1, and that "
        "is unavailable here ("
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare")
def test_dask_in_a_network_namespace_without_loopback(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    if subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a network namespace here")
    src = tmp_path / "in.csv"
    src.write_text("url\nexample.org\n")
    done = subprocess.run(
        ["unshare", "--net", sys.executable, "-m", "notorious_screen", "screen", str(src),
         "--engine", "dask", "-o", str(tmp_path / "out")],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "TCP on 127.0.0.1" in done.stderr and "Traceback" not in done.stderr


# ---- nothing lost, nothing replaced --------------------------------------------------------
def _cli(args: list[str], *, stdin: Any = None, stdout: Any = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "notorious_screen", *args],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdin=stdin,
        stdout=stdout if stdout is not None else subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("output", ["in.csv", "/dev/stdin"])
def test_the_file_on_stdin_is_never_the_output(tmp_path: Path, output: str) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(b"url\nexample.org\n")
    output = str(src) if output == "in.csv" else output
    with src.open("rb") as stdin:
        done = _cli(["screen", "-", "-o", output], stdin=stdin)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"notorious-screen: error: {output}: the output would overwrite the input; "
        "choose another -o"
    ]
    assert src.read_bytes() == b"url\nexample.org\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_stdout_appending_to_the_input_is_refused(tmp_path: Path) -> None:
    """``screen in.csv >> in.csv`` would read its own output without end."""
    src = tmp_path / "in.csv"
    src.write_bytes(b"url\nexample.org\n")
    with src.open("ab") as stdout:
        done = _cli(["screen", str(src)], stdout=stdout)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"notorious-screen: error: {src}: standard output is the input file; "
        "send the output elsewhere"
    ]
    assert src.read_bytes() == b"url\nexample.org\n"
    with src.open("rb") as stdin, src.open("ab") as stdout:
        done = _cli(["screen", "-"], stdin=stdin, stdout=stdout)
    assert done.returncode == 1, done.stderr
    assert "standard output is the input file" in done.stderr
    assert src.read_bytes() == b"url\nexample.org\n"


def test_a_pipe_or_another_file_on_stdin_is_fine(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(b"url\nexample.org\n")
    with src.open("rb") as stdin:
        done = _cli(["screen", "-", "-o", str(tmp_path / "out.csv")], stdin=stdin)
    assert done.returncode == 0, done.stderr
    done = _cli(["screen", str(src)])  # stdout is a pipe
    assert done.returncode == 0 and done.stdout.startswith('"url"'), done.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "parquet", "xlsx"])
def test_a_full_disk_is_one_line_in_every_output_format(fmt: str) -> None:
    done = _cli(["screen", str(REPO / "examples" / "sellers.csv"), "-o", "/dev/full",
                 "--format", fmt])  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "notorious-screen: error: /dev/full: cannot write: No space left on device"
    ]


# ---- CSV: rows longer than a block, too many columns ---------------------------------------
def _csv_with_a_long_row(path: Path, field_bytes: int, *, before: int, after: int) -> Path:
    with path.open("wb") as f:
        f.write(b"url,note\n")
        f.write(b"example.org,short\n" * before)
        f.write(b"example.org," + b"x" * field_bytes + b"\n")
        f.write(b"example.org,a short note after the long row\n" * after)
    return path


def test_a_row_longer_than_the_block_is_one_line_naming_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from notorious_screen._files import READ_BLOCK_BYTES

    src = _csv_with_a_long_row(tmp_path / "in.csv", 3 * READ_BLOCK_BYTES, before=1000, after=10)
    code = main(["screen", str(src), "-o", str(tmp_path / "o.csv")])
    assert code == 1 and not (tmp_path / "o.csv").exists()
    assert _one_error(capsys.readouterr().err) == (
        f"{src}: a row after data row 1,000 is longer than 4 MiB, the longest the CSV reader "
        "is sure to take (a longer one is read only when it happens to fit in two of its "
        "blocks); shorten that row's fields, or convert the file to Parquet or JSON Lines"
    )
    # Up to a block, a row is always read, wherever it falls.
    for offset in (0, 1, 4096):
        src = _csv_with_a_long_row(
            tmp_path / "ok.csv", READ_BLOCK_BYTES - 64, before=offset, after=10
        )
        assert main(["screen", str(src), "-o", str(tmp_path / "o.csv")]) == 0
        capsys.readouterr()


def test_a_failed_read_never_aborts_the_process_after_its_error(tmp_path: Path) -> None:
    """pyarrow's I/O threads were still reading when the interpreter shut down: about one run
    in three ended in "Fatal Python error" (exit 134) after the error line."""
    src = _csv_with_a_long_row(tmp_path / "in.csv", 40 << 20, before=0, after=2_000_000)
    for stdin in (False, True):
        for _ in range(3):
            with src.open("rb") as f:
                done = _cli(
                    ["screen", "-" if stdin else str(src), "-o", str(tmp_path / "o.csv")],
                    stdin=f if stdin else None,
                )
            assert done.returncode == 1, done.stderr[-2000:]
            assert len(done.stderr.splitlines()) == 1, done.stderr[-2000:]
            assert "is longer than 4 MiB" in done.stderr


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl"])
def test_too_many_columns_is_one_line(
    tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from notorious_screen._files import MAX_COLUMNS

    names = ["url", *(f"c{i}" for i in range(MAX_COLUMNS))]
    if fmt == "jsonl":
        body = "{" + ", ".join(f'"{n}": "x"' for n in names) + "}\n"
    else:
        sep = "," if fmt == "csv" else "\t"
        body = sep.join(names) + "\n" + "example.org" + sep * MAX_COLUMNS + "\n"
    src = tmp_path / f"in.{fmt}"
    src.write_text(body)
    code = main(["screen", str(src), "-o", str(tmp_path / "o.csv")])
    assert code == 1
    where = f"{src}:1" if fmt == "jsonl" else str(src)
    assert _one_error(capsys.readouterr().err) == (
        f"{where}: the header has 4,097 columns; at most 4,096 are read"
        if fmt != "jsonl"
        else f"{where}: more than 4,096 keys; at most 4,096 columns are read"
    )


# ---- JSON Lines ----------------------------------------------------------------------------
def test_jsonl_numbers_too_long_for_python_are_one_located_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"url": "a.com"}\n{"url": "b.com", "n": ' + "7" * 5000 + "}\n")
    assert main(["screen", str(src), "-o", str(tmp_path / "o.csv")]) == 1
    assert _one_error(capsys.readouterr().err) == (
        f"{src}:2: a number with more than {sys.get_int_max_str_digits():,} digits, the most "
        "Python reads; quote it to keep it as text"
    )


def test_a_jsonl_line_over_the_bound_is_refused_before_it_is_held(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from notorious_screen import _files

    monkeypatch.setattr(_files, "JSONL_MAX_LINE_BYTES", 1 << 20)
    src = tmp_path / "in.jsonl"
    # No newline at all: a reader that splits lines after reading them would hold it whole.
    src.write_bytes(b'{"url": "a.com"}\n{"url": "' + b"a" * (3 << 20))
    assert main(["screen", str(src), "-o", str(tmp_path / "o.csv")]) == 1
    assert _one_error(capsys.readouterr().err) == (
        f"{src}:2: the line is longer than 1 MiB, the longest JSON Lines line read"
    )
    # At the bound itself, the line is read.
    src.write_bytes(b'{"url": "' + b"a" * ((1 << 20) - 12) + b'"}\n')
    assert main(["screen", str(src), "-o", str(tmp_path / "o.csv")]) == 0, capsys.readouterr()


def test_the_jsonl_lookahead_stops_at_its_byte_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from notorious_screen import _files

    monkeypatch.setattr(_files, "JSONL_LOOKAHEAD_BYTES", 1000)
    src = tmp_path / "in.jsonl"
    rows = [f'{{"url": "s{i}.example"}}\n' for i in range(100)]
    src.write_text("".join(rows) + '{"url": "late.example", "late": 1}\n')
    assert main(["screen", str(src), "-o", str(tmp_path / "o.csv")]) == 1
    message = _one_error(capsys.readouterr().err)
    held = next(n for n in range(1, 101) if sum(map(len, rows[:n])) >= 1000)
    assert held == 44  # 10 lines of 22 bytes, then 34 of 23: 1,002 bytes
    assert message.startswith(f"{src}:101: key 'late' first appears after the first 44 rows")


# ---- Parquet -------------------------------------------------------------------------------
def test_a_parquet_dictionary_bomb_is_measured_before_it_is_expanded(tmp_path: Path) -> None:
    """100,000 rows of one 12,000-byte value: a few KiB on disk, 1.2 GB of text expanded."""
    from _hostile import parquet_dictionary_bomb

    src = parquet_dictionary_bomb(tmp_path / "bomb.parquet", rows=100_000, value_bytes=12_000)
    assert src.stat().st_size < 64 * 1024
    script = (
        "import sys, pyarrow as pa\n"
        "from notorious_screen.cli import main\n"
        f"code = main(['screen', {str(src)!r}, '-o', {str(tmp_path / 'o.csv')!r}])\n"
        "print(code, pa.default_memory_pool().max_memory())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    code, peak = done.stdout.split()
    assert code == "1", done.stderr
    assert done.stderr.splitlines() == [
        f"notorious-screen: error: {src}: rows 1 to 100,000 decode to 1,200,000,000 bytes of "
        "text, more than the 1,024 MiB one batch may hold; pass a smaller --chunksize"
    ]
    assert int(peak) < 64 * 2**20  # Arrow memory: the indices, never the expanded text


def test_a_parquet_batch_under_the_bound_keeps_every_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from _hostile import parquet_dictionary_bomb

    from notorious_screen import _files

    monkeypatch.setattr(_files, "PARQUET_MAX_BATCH_BYTES", 500_000)
    src = parquet_dictionary_bomb(tmp_path / "bomb.parquet", rows=1000, value_bytes=1000)
    assert main(["screen", str(src), "-o", str(tmp_path / "o.csv"), "--chunksize", "600"]) == 1
    assert "rows 1 to 600 decode to 600,000 bytes" in _one_error(capsys.readouterr().err)
    dst = tmp_path / "o.parquet"
    assert main(["screen", str(src), "-o", str(dst), "--chunksize", "400"]) == 0
    assert pq.read_table(dst).column("url").to_pylist() == ["x" * 1000] * 1000


@pytest.mark.parametrize("make", ["lying_page", "corrupt_pages"])
def test_broken_parquet_pages_are_one_line(
    tmp_path: Path, make: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import _hostile

    src = getattr(_hostile, f"parquet_{make}")(tmp_path / "in.parquet")
    code = main(["screen", str(src), "-o", str(tmp_path / "o.csv")])
    assert code == 1 and not (tmp_path / "o.csv").exists()
    assert _one_error(capsys.readouterr().err).startswith(f"{src}: cannot read as Parquet: ")


def test_parquet_on_stdin_is_spooled_to_a_file(tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"url": ["https://item.taobao.com/x", "example.org"]}), src)
    with src.open("rb") as stdin:
        done = _cli(["screen", "-", "--input-format", "parquet"], stdin=stdin)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 3 and "taobao" in done.stdout


def test_jsonl_of_empty_objects_is_an_error_not_rows_that_vanish(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fuzzing finding: with no key anywhere, the batches had no column to carry the rows."""
    from notorious_screen._files import open_table
    from notorious_screen.errors import InputError

    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\xef\xbb\xbf\r\n{}\r\n\n{}\n")
    with pytest.raises(InputError) as info, open_table(str(src), fmt="jsonl") as (_, batches):
        list(batches)
    assert str(info.value) == (
        f"{src}: no key in the first 2 rows (every object is {{}}), so the file has no columns"
    )
    src.write_bytes(b'{}\n{"url": "a.com"}\n{}\n')  # with one key, every row is kept
    assert main(["screen", str(src), "-o", str(tmp_path / "o.csv")]) == 0
    assert (tmp_path / "o.csv").read_text().count("\n") == 4


# ---- XLSX: a streaming reader with bounds ---------------------------------------------------
def _xlsx_rows(path: Path, *args: str) -> tuple[int, list[dict[str, str]], str]:
    out = path.with_suffix(".out.csv")
    code = main(["screen", str(path), "-o", str(out), "--no-neutralize", *args])
    rows: list[dict[str, str]] = []
    if code == 0:
        with out.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    return code, rows, ""


def _one_xlsx_error(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["screen", str(path), "-o", str(path.with_suffix(".out.csv"))])
    assert code == 1
    assert not path.with_suffix(".out.csv").exists()
    return _one_error(capsys.readouterr().err)


def test_xlsx_cells_read_as_openpyxl_read_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from _hostile import DATE_STYLES, num, row, s, sheet_xml, text, xlsx

    rich = (
        '<row r="5"><c r="A5" t="inlineStr"><is><r><t>rich </t></r><r><t>text</t></r>'
        "<rPh><t>PHONETIC</t></rPh></is></c></row>"
    )
    rows = [
        row(1, s("A1", 0), text("B1", "n"), text("C1", "when")),
        row(2, s("A2", 1), num("B2", "42"), num("C2", "45292", style=1)),
        row(3, text("A3", "example.org"), num("B3", "1.5E3"), '<c r="C3" t="b"><v>1</v></c>'),
        row(4, text("A4", "a.com"), num("B4", "no number"), '<c r="C4" t="e"><v>#N/A</v></c>'),
        rich,
    ]
    book = xlsx(
        tmp_path / "in.xlsx",
        [("Sheet1", sheet_xml(rows))],
        strings=["url", "https://item.taobao.com/x"],
        styles=DATE_STYLES,
    )
    code, rows, _ = _xlsx_rows(book)
    assert code == 0, capsys.readouterr().err
    assert [(r["url"], r["n"], r["when"]) for r in rows] == [
        ("https://item.taobao.com/x", "42", "2024-01-01 00:00:00"),
        ("example.org", "1500.0", "True"),
        ("a.com", "no number", "#N/A"),  # a malformed number is kept, not a traceback
        ("rich text", "", ""),
    ]
    assert rows[0]["ns_market_id"] == "taobao"


def test_xlsx_dimension_claims_cost_nothing(tmp_path: Path) -> None:
    """A 1.6 KB sheet whose <dimension> claims 16,384 x 1,048,576 cells never finished."""
    from _hostile import row, sheet_xml, text, xlsx

    sheet = sheet_xml(
        [row(1, text("A1", "url")), row(2, text("A2", "example.org"))], dimension="A1:XFD1048576"
    )
    book = xlsx(tmp_path / "in.xlsx", [("Sheet1", sheet)])
    code, rows, _ = _xlsx_rows(book)
    assert code == 0 and [r["url"] for r in rows] == ["example.org"]


def test_xlsx_huge_shared_strings_table_stops_at_its_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kilobytes of zip, a table of millions of strings: bounded in entries and read as a
    stream (it ran 277 s, reached 2.7 GiB, then said `cannot read as XLSX:` with no reason)."""
    from _hostile import row, s, shared_strings_stream, sheet_xml, xlsx

    from notorious_screen._xlsx import XLSX_LIMITS

    monkeypatch.setattr(XLSX_LIMITS, "max_strings", 100_000)
    book = xlsx(
        tmp_path / "in.xlsx",
        [("Sheet1", sheet_xml([row(1, s("A1", 0))]))],
        strings=shared_strings_stream(2_000_000),
    )
    assert book.stat().st_size < 1 << 20
    assert _one_xlsx_error(book, capsys) == (
        f"{book}: the shared-strings table has more than 100,000 strings, the most the XLSX "
        "reader takes"
    )


def test_xlsx_giant_shared_string_and_cell_are_refused_at_the_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from _hostile import row, s, sheet_xml, text, xlsx

    from notorious_screen._xlsx import XLSX_LIMITS

    giant = "a" * (XLSX_LIMITS.max_text + 1)
    book = xlsx(tmp_path / "s.xlsx", [("S", sheet_xml([row(1, s("A1", 0))]))], strings=[giant])
    assert _one_xlsx_error(book, capsys) == (
        f"{book}: shared string 0 is longer than 1,048,576 characters, the most one cell may hold"
    )
    book = xlsx(
        tmp_path / "c.xlsx",
        [("S", sheet_xml([row(1, text("A1", "url")), row(2, text("A2", giant))]))],
    )
    assert _one_xlsx_error(book, capsys) == (
        f"{book}: sheet 'S' cell A2: longer than 1,048,576 characters, the most one cell may hold"
    )


def test_xlsx_uncompressed_size_is_counted_while_inflating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from _hostile import row, sheet_xml, text, xlsx

    from notorious_screen._xlsx import XLSX_LIMITS

    monkeypatch.setattr(XLSX_LIMITS, "max_sheet_bytes", 1 << 20)
    rows = [row(1, text("A1", "url"))] + [row(i, text(f"A{i}", "a.com")) for i in range(2, 40_000)]
    book = xlsx(tmp_path / "in.xlsx", [("S", sheet_xml(rows))])
    assert _one_xlsx_error(book, capsys) == (
        f"{book}: xl/worksheets/sheet1.xml is larger than 1 MiB once uncompressed, the most "
        "the XLSX reader takes"
    )


def test_xlsx_cells_bound_counts_the_empty_cells_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from _hostile import row, sheet_xml, text, xlsx

    from notorious_screen._xlsx import XLSX_LIMITS

    monkeypatch.setattr(XLSX_LIMITS, "max_cells", 1000)
    header = row(1, text("A1", "url"), text("CV1", "last"))  # 100 columns wide
    rows = [header] + [row(i, text(f"A{i}", "a.com")) for i in range(2, 30)]
    book = xlsx(tmp_path / "in.xlsx", [("S", sheet_xml(rows))])
    assert _one_xlsx_error(book, capsys) == (
        f"{book}: sheet 'S' row 12: more than 1,000 cells (rows x the header's 100 columns), "
        "the most the XLSX reader takes"
    )


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("bad-index", "sheet 'S' cell A2: shared string '99' does not exist (the table has 1)"),
        ("no-sheets", "the workbook has no sheets"),
        ("all-hidden", "the workbook has no visible worksheet"),
        ("beyond-header", "sheet 'S' cell C2: a value beyond the header's 1 column: 'extra'; "
         "give its column a header (a ragged CSV row is refused the same way)"),
        ("wide-header", "sheet 'S': the header has 16,384 columns; at most 4,096 are read"),
        ("beyond-xfd", "sheet 'S' cell XFE2: beyond column XFD, the last a sheet has"),
        ("dtd", "xl/worksheets/sheet1.xml declares a DTD, which no XLSX part has"),
        ("bad-xml", "xl/worksheets/sheet1.xml:1:"),
        ("not-zip", "cannot read as XLSX: File is not a zip file"),
        ("empty", "sheet 'S' is empty (no header row)"),
    ],
)  # fmt: skip
def test_malformed_xlsx_is_one_located_line(
    tmp_path: Path, case: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from _hostile import row, s, sheet_xml, text, xlsx

    path = tmp_path / "in.xlsx"
    ok = row(1, text("A1", "url"))
    if case == "bad-index":
        xlsx(path, [("S", sheet_xml([ok, row(2, s("A2", 99))]))], strings=["url"])
    elif case == "no-sheets":
        xlsx(path, [])
    elif case == "all-hidden":
        xlsx(path, [("S", sheet_xml([ok]))], states={"S": "hidden"})
    elif case == "beyond-header":
        xlsx(path, [("S", sheet_xml([ok, row(2, text("A2", "a.com"), text("C2", "extra"))]))])
    elif case == "wide-header":
        xlsx(path, [("S", sheet_xml([row(1, text("A1", "url"), text("XFD1", "z"))]))])
    elif case == "beyond-xfd":
        xlsx(path, [("S", sheet_xml([ok, row(2, text("XFE2", "z"))]))])
    elif case == "dtd":
        bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><worksheet/>'
        xlsx(path, [("S", bomb)])
    elif case == "bad-xml":
        xlsx(path, [("S", b"<worksheet><sheetData><row></sheetData>")])
    elif case == "not-zip":
        path.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    elif case == "empty":
        xlsx(path, [("S", sheet_xml([]))])
    got = _one_xlsx_error(path, capsys)
    assert got.startswith(f"{path}: {message}"), got


def test_xlsx_reads_the_active_visible_sheet(tmp_path: Path) -> None:
    from _hostile import row, sheet_xml, text, xlsx

    def sheet(url: str) -> bytes:
        return sheet_xml([row(1, text("A1", "url")), row(2, text("A2", url))])

    # A hidden first sheet is skipped for the first visible one...
    book = xlsx(
        tmp_path / "a.xlsx",
        [("Hidden", sheet("hidden.example")), ("Visible", sheet("visible.example"))],
        states={"Hidden": "hidden"},
    )
    assert [r["url"] for r in _xlsx_rows(book)[1]] == ["visible.example"]
    # ... and the active tab wins when it is visible.
    book = xlsx(
        tmp_path / "b.xlsx",
        [("One", sheet("one.example")), ("Two", sheet("two.example"))],
        active=1,
    )
    assert [r["url"] for r in _xlsx_rows(book)[1]] == ["two.example"]


def test_xlsx_formulas_without_values_are_counted_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from _hostile import row, sheet_xml, text, xlsx

    rows = [row(1, text("A1", "url"), text("B1", "total"))] + [
        row(i, text(f"A{i}", f"s{i}.example"), f'<c r="B{i}"><f>SUM(1,2)</f></c>')
        for i in range(2, 5)
    ]
    rows.append(row(5, text("A5", "done.example"), '<c r="B5"><f>1+1</f><v>2</v></c>'))
    book = xlsx(tmp_path / "in.xlsx", [("S", sheet_xml(rows))])
    dst = tmp_path / "o.csv"
    assert main(["screen", str(book), "-o", str(dst)]) == 0
    assert capsys.readouterr().err.splitlines() == [
        f"notorious-screen: warning: {book}: sheet 'S': 3 formula cells saved without a "
        "value, read as empty (open and save the workbook in a spreadsheet to compute them)"
    ]
    with dst.open(newline="") as f:
        assert [(r["url"], r["total"]) for r in csv.DictReader(f)] == [
            ("s2.example", ""), ("s3.example", ""), ("s4.example", ""), ("done.example", "2")
        ]  # fmt: skip


def test_xlsx_empty_rows_are_skipped_like_blank_csv_lines(tmp_path: Path) -> None:
    from _hostile import row, sheet_xml, text, xlsx

    rows = [row(1, text("A1", "url")), row(2, text("A2", "a.example")), '<row r="3"/>',
            row(900_000, text("A900000", "b.example"))]  # fmt: skip
    book = xlsx(tmp_path / "in.xlsx", [("S", sheet_xml(rows))])
    assert [r["url"] for r in _xlsx_rows(book)[1]] == ["a.example", "b.example"]


def test_xlsx_on_stdin(tmp_path: Path) -> None:
    from _hostile import row, sheet_xml, text, xlsx

    book = xlsx(
        tmp_path / "in.xlsx",
        [("S", sheet_xml([row(1, text("A1", "url")), row(2, text("A2", "x.com"))]))],
    )
    with book.open("rb") as stdin:
        done = _cli(["screen", "-", "--input-format", "xlsx"], stdin=stdin)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].startswith('"x.com"')


def test_a_parquet_file_whose_pages_hold_fewer_rows_than_its_footer_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fuzzing finding: a column chunk cut short made pyarrow's batches come out empty, and
    the row the footer declares vanished without a word."""
    src = REPO / "fuzz" / "corpus" / "parquet" / "finding-short-column-chunk.parquet"
    assert pq.ParquetFile(src).metadata.num_rows == 1
    code = main(["screen", str(src), "-o", str(tmp_path / "o.csv")])
    assert code == 1 and not (tmp_path / "o.csv").exists()
    assert _one_error(capsys.readouterr().err) == (
        f"{src}: cannot read as Parquet: the footer declares 1 row(s) but the pages hold 0 "
        "(a damaged file)"
    )


def test_a_parquet_dictionary_index_past_the_dictionary_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fuzzing finding: a damaged page's dictionary index 120 (of 2 values) was an
    ArrowIndexError traceback from the measuring step."""
    src = REPO / "fuzz" / "corpus" / "parquet" / "finding-index-past-the-dictionary.parquet"
    code = main(["screen", str(src), "-o", str(tmp_path / "o.csv")])
    assert code == 1
    assert _one_error(capsys.readouterr().err) == (
        f"{src}: cannot read as Parquet: dictionary index 120 outside the dictionary's 2 values"
    )


def test_market_data_from_a_device_is_refused_too(capsys: pytest.CaptureFixture[str]) -> None:
    """--data goes through the same capped reader as rule packs."""
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    assert main(["markets", "--data", "/dev/zero"]) == 1
    assert _one_error(capsys.readouterr().err) == "/dev/zero: cannot read file: not a regular file"


def test_parquet_text_that_is_not_utf8_is_escaped_or_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fuzzing finding: invalid UTF-8 in a string column was a UnicodeDecodeError traceback.
    A top-level text column keeps the row with the bytes escaped (as binary columns are);
    inside a struct or list it is one error line."""
    src = tmp_path / "in.parquet"
    bad = pa.array([b"a.com", b"\xff.com"], pa.binary()).view(pa.string())
    for column in (bad, bad.dictionary_encode()):
        pq.write_table(pa.table({"url": column}), src)
        dst = tmp_path / "o.csv"
        assert main(["screen", str(src), "-o", str(dst)]) == 0, capsys.readouterr().err
        with dst.open(newline="") as f:
            assert [r["url"] for r in csv.DictReader(f)] == ["a.com", "\\xff.com"]
    nested = (
        REPO / "fuzz" / "corpus" / "parquet" / "finding-invalid-utf8-in-a-string-dictionary.parquet"
    )
    assert main(["screen", str(nested), "-o", str(tmp_path / "n.csv")]) == 1
    assert _one_error(capsys.readouterr().err) == (
        f"{nested}: cannot read as Parquet: 'utf-8' codec can't decode byte 0xbb in position 0: "
        "invalid start byte"
    )


@pytest.mark.parametrize("at", [0.0, 0.5, 0.95])
def test_xlsx_damaged_while_inflating_is_one_line(
    tmp_path: Path, at: float, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fuzzing finding: a corrupt deflate stream was a zlib.error traceback; the sheet is
    inflated as it is read, so the damage can show up after rows were handed on."""
    import random

    from _hostile import corrupt_member, row, sheet_xml, text, xlsx

    rng = random.Random(3)  # incompressible text keeps the member big enough to hit mid-way
    rows = [row(1, text("A1", "url"))] + [
        row(i, text(f"A{i}", f"{rng.getrandbits(64):x}.example")) for i in range(2, 20_000)
    ]
    book = xlsx(tmp_path / "in.xlsx", [("S", sheet_xml(rows))])
    corrupt_member(book, "xl/worksheets/sheet1.xml", at=at)
    message = _one_xlsx_error(book, capsys)
    # Damage shows as a bad deflate stream or CRC, or inflates to XML that is not well-formed.
    assert message.startswith(
        (f"{book}: cannot read as XLSX: ", f"{book}: xl/worksheets/sheet1.xml:1:")
    ), message


def test_dask_engine_bad_rows_are_one_line_without_worker_logs(tmp_path: Path) -> None:
    """The workers used to log "Compute Failed ... Traceback" for each failing part."""
    pytest.importorskip("distributed")
    from notorious_screen._files import READ_BLOCK_BYTES

    src = _csv_with_a_long_row(tmp_path / "in.csv", 3 * READ_BLOCK_BYTES, before=10, after=10)
    done = _cli(["screen", str(src), "--engine", "dask", "--workers", "1", "-o",
                 str(tmp_path / "out")])  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"notorious-screen: error: {src}: in the rows from line 2: a row is longer than 4 MiB, "
        "the longest the CSV reader is sure to take"
    ]


def test_dask_engine_measures_parquet_dictionaries_too(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from _hostile import parquet_dictionary_bomb

    src = parquet_dictionary_bomb(tmp_path / "bomb.parquet", rows=100_000, value_bytes=12_000)
    done = _cli(["screen", str(src), "--engine", "dask", "--workers", "1", "-o",
                 str(tmp_path / "out")])  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"notorious-screen: error: {src}: row groups [0]: 100,000 rows decode to more than "
        "1,024 MiB of text"
    ]
