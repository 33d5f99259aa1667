"""Benchmark harness: times the real CLI and the Python API and writes benchmarks/report.md.

    python benchmarks/run.py --sizes 100k,1M,10M        # everything (about 8 minutes)
    python benchmarks/run.py --sizes 100k,1M            # without the 10M memory check
    python benchmarks/run.py --render-only              # rewrite the report from the last results

Every measurement runs in its own subprocess; its wall time is taken around the whole process
and its peak RSS comes from ``os.wait4`` (the kernel's ``ru_maxrss`` for that child alone).
Input files come from ``benchmarks/generate.py`` and are made once into ``benchmarks/out/``
(git-ignored), so generating data is never timed. Repeats are interleaved (floor, CLI, API,
naive, floor, CLI, API, naive, ...) so that load from other users of the machine hits all of
them alike;
the report gives the best of the repeats, and the median where it says so. See
benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
REPORT = HERE / "report.md"
RESULTS = OUT / "results.json"
# Where the measured package is imported from (--package-root): the repository by default.
PKG = ROOT
SEED = 7
GIB = 1 << 30
MIB = 1 << 20

# The targets of issue 6.
TARGET_FLOOR_RATIO = 6.0  # 1M rows, whole CLI process vs whole I/O-floor process
TARGET_NAIVE_SPEEDUP = 200.0  # per row, whole CLI process vs the naive apply loop alone
TARGET_RSS_10M = 1 * GIB
TARGET_RSS_GROWTH = 1.25  # peak RSS at the largest size / peak RSS at 1M
TARGET_IMPORT_S = 0.5


# ---- sizes and files ---------------------------------------------------------------------
def parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 100k, 1M, 250000)")
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


def parse_sizes(text: str) -> list[int]:
    return [parse_size(t) for t in text.split(",") if t.strip()]


def label(n: int) -> str:
    for div, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= div and n % div == 0:
            return f"{n // div}{suffix}"
    return str(n)


def data_file(rows: int, shops: int | None = None, names: int | None = None) -> Path:
    """The generated input for ``rows`` (and a web-shop or seller-name population other than
    the generator's defaults); made once, then reused."""
    # "real": the realistic cardinality of generate.py (files from before it lack "real")
    tag = "".join(
        f"_{what}{value}" for what, value in (("shops", shops), ("names", names)) if value
    )
    path = OUT / f"sellers_{label(rows)}_seed{SEED}{tag}_real.csv"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".csv.part")
        log(f"generating {path.name} ...")
        cmd = [sys.executable, str(HERE / "generate.py"), str(rows), str(tmp), "--seed", str(SEED)]
        if shops:
            cmd += ["--distinct-shops", str(shops)]
        if names:
            cmd += ["--distinct-names", str(names)]
        subprocess.run(cmd, check=True)
        tmp.replace(path)
    return path


def warm(path: Path) -> None:
    """Read the file once so every measurement starts from the page cache."""
    with open(path, "rb") as f:
        while f.read(16 * MIB):
            pass


def count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as f:
        while chunk := f.read(16 * MIB):
            n += chunk.count(b"\n")
    return n


def distinct_counts(path: Path) -> dict[str, int]:
    """Distinct hosts, names and (host, name) pairs, with a plain regex (not the library)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    table = pcsv.read_csv(
        path,
        convert_options=pcsv.ConvertOptions(
            include_columns=["url", "seller_name"],
            column_types={"url": pa.string(), "seller_name": pa.string()},
            strings_can_be_null=False,
        ),
    )
    url = pc.utf8_lower(pc.utf8_trim_whitespace(table.column("url")))
    host = pc.struct_field(
        pc.extract_regex(url, r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^/?#@]*@)?(?P<h>[^/?#:\s]*)"), [0]
    )
    pairs = pa.table({"h": host, "n": table.column("seller_name")})
    return {
        "rows": table.num_rows,
        "hosts": pc.count_distinct(host).as_py(),
        "names": pc.count_distinct(table.column("seller_name")).as_py(),
        "pairs": pairs.group_by(["h", "n"]).aggregate([]).num_rows,
    }


# ---- measuring ---------------------------------------------------------------------------
@dataclass
class Run:
    wall_s: float
    rss: int  # peak resident set size of the child, bytes
    rc: int
    out: str
    err: str
    tree: int = 0  # peak proportional set size of the child and all its descendants, bytes
    cpu_s: float = 0.0  # user + system CPU time of the child and its reaped descendants

    def json(self) -> dict[str, Any]:
        try:
            value = json.loads(self.out.strip().splitlines()[-1])
        except (IndexError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (worker pools included), from /proc."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return found


def _pss(pid: int) -> int:
    """Proportional set size in bytes: shared (forked, copy-on-write) pages counted once."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure(cmd: Sequence[str], *, timeout: float = 1800) -> Run:
    """Run ``cmd`` to completion: wall time of the whole process, its own peak RSS (exact,
    from the kernel) and the peak memory of its whole process tree (sampled every 0.1 s)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PKG) + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, cwd=PKG, env=env)
        deadline = t0 + timeout
        tree = 0
        next_sample = t0
        while True:
            # wait4 (not Popen.wait) so the kernel hands back this child's own rusage.
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            now = time.perf_counter()
            if now > deadline:
                proc.kill()
            if now >= next_sample:
                tree = max(tree, sum(_pss(p) for p in _descendants(proc.pid)))
                next_sample = now + 0.1
            time.sleep(0.005)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            wall_s=wall,
            rss=usage.ru_maxrss * 1024,  # kilobytes on Linux
            rc=proc.returncode,
            out=out.read().decode("utf-8", "replace"),
            err=err.read().decode("utf-8", "replace")[-2000:],
            tree=tree,
            cpu_s=usage.ru_utime + usage.ru_stime,
        )


def cli_cmd(src: Path, dst: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "notorious_screen",
        "screen",
        str(src),
        "-o",
        str(dst),
        "--name-column",
        "seller_name",
    ]


def floor_cmd(src: Path, dst: Path) -> list[str]:
    return [sys.executable, str(HERE / "io_floor.py"), str(src), str(dst)]


def api_cmd(src: Path, dst: Path, chunked: bool = False) -> list[str]:
    cmd = [sys.executable, str(HERE / "run.py"), "_api", str(src), str(dst)]
    return cmd + (["--chunked"] if chunked else [])


def naive_cmd(src: Path, dst: Path, rows: int) -> list[str]:
    return [sys.executable, str(HERE / "naive.py"), str(src), str(dst), "--rows", str(rows)]


def api_worker(src: str, dst: str, chunked: bool = False) -> int:
    """The Python API as a user calls it; prints its phase timings as one JSON line.

    Whole frame: read, screen, write. ``chunked``: the same loop over
    ``pd.read_csv(chunksize=100_000)`` with appended writes, as a pipeline handles a file
    too big for one frame; the phases are summed over the chunks.
    """
    t0 = time.perf_counter()
    import pandas as pd

    import notorious_screen as ns

    t1 = time.perf_counter()
    screener = ns.Screener()
    t2 = time.perf_counter()
    read_s = screen_s = write_s = 0.0
    rows = 0
    frames = (
        pd.read_csv(src, dtype=str, keep_default_na=False, chunksize=100_000)
        if chunked
        else (pd.read_csv(src, dtype=str, keep_default_na=False) for _ in range(1))
    )
    while True:
        a = time.perf_counter()
        df = next(frames, None)
        b = time.perf_counter()
        read_s += b - a
        if df is None:
            break
        screened = screener.screen_frame(df, url_column="url", name_column="seller_name")
        c = time.perf_counter()
        screened.to_csv(dst, index=False, mode="a" if rows else "w", header=not rows)
        write_s += time.perf_counter() - c
        screen_s += c - b
        rows += len(df)
    print(
        json.dumps(
            {
                "rows": rows,
                "chunked": chunked,
                "import_s": t1 - t0,
                "build_s": t2 - t1,
                "read_s": read_s,
                "screen_s": screen_s,
                "write_s": write_s,
            }
        )
    )
    return 0


IMPORT_SNIPPET = (
    "import time; t=time.perf_counter(); import notorious_screen as ns; "
    "t1=time.perf_counter(); s=ns.Screener(); t2=time.perf_counter(); "
    "print(t1-t, t2-t1, t2-t)"
)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def failed(run: Run, what: str) -> dict[str, Any]:
    tail = run.err.strip().splitlines()[-1:] or [f"exit {run.rc}"]
    log(f"{what} FAILED (exit {run.rc}): {tail[0]}")
    return {"error": f"exit {run.rc}: {tail[0]}"}


def summarize(runs: list[Run], extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    walls = [r.wall_s for r in runs]
    out: dict[str, Any] = {
        "best_s": min(walls),
        "median_s": statistics.median(walls),
        "all_s": walls,
        "rss": max(r.rss for r in runs),
        "tree": max(r.tree for r in runs),
    }
    if extra:
        # Phase timings from the run with the best wall time, and the best of each phase.
        best = extra[walls.index(min(walls))]
        out["phases"] = best
        out["phases_best"] = {
            k: min(e[k] for e in extra if k in e)
            for k in best
            if isinstance(best[k], (int, float)) and not isinstance(best[k], bool) and k != "rows"
        }
    return out


# ---- the measurements --------------------------------------------------------------------
def bench_size(
    rows: int, repeat: int, with_api: bool, naive_rows: int, api_chunked: bool = False
) -> dict[str, Any]:
    """Floor, CLI, API and naive baseline on one file, interleaved ``repeat`` times."""
    src = data_file(rows)
    warm(src)
    res: dict[str, Any] = {
        "rows": rows,
        "file": src.name,
        "bytes": src.stat().st_size,
        "repeat": repeat,
        "distinct": distinct_counts(src),
    }
    dst = OUT / f"_out_{label(rows)}.csv"
    runs: dict[str, list[Run]] = {"floor": [], "cli": [], "api": []}
    extras: dict[str, list[dict[str, Any]]] = {"floor": [], "api": []}
    errors: dict[str, dict[str, Any]] = {}
    naive: list[dict[str, Any]] = []
    kinds = ["floor", "cli"] + (["api"] if with_api else [])
    for i in range(repeat):
        for kind in kinds:
            if kind in errors:
                continue
            if kind == "api":
                cmd = api_cmd(src, dst, chunked=api_chunked)
            else:
                cmd = {"floor": floor_cmd, "cli": cli_cmd}[kind](src, dst)
            if kind in ("floor", "cli"):
                # An unmeasured run of the same command first: on this VM the first process
                # after a different workload (the API's 1 GB, the naive loop) can pay 0.3 s of
                # kernel time; floor and CLI both get a machine in the same state.
                measure(cmd)
                dst.unlink(missing_ok=True)
            run = measure(cmd)
            if run.rc != 0:
                errors[kind] = failed(run, f"{kind} {label(rows)}")
                continue
            if kind == "cli" and i == 0:  # the output must have one row per input row
                res["cli_output_rows"] = count_lines(dst) - 1
            if kind in extras:
                extras[kind].append(run.json())
            runs[kind].append(run)
            log(
                f"{label(rows):>5} {kind:<5} #{i + 1}: {run.wall_s:7.2f} s  "
                f"{run.rss / MIB:7.0f} MiB"
            )
            dst.unlink(missing_ok=True)
        if naive_rows and "naive" not in errors:
            info = naive_once(src, min(naive_rows, rows))
            if "error" in info:
                errors["naive"] = info
            else:
                naive.append(info)
                log(
                    f"{label(rows):>5} naive #{i + 1}: {info['apply_s']:7.2f} s apply for "
                    f"{info['rows']} rows ({info['rows'] / info['apply_s']:,.0f} rows/s)"
                )
    for kind in kinds:
        if kind in errors:
            res[kind] = errors[kind]
        elif runs[kind]:
            res[kind] = summarize(runs[kind], extras.get(kind))
    if "naive" in errors:
        res["naive"] = errors["naive"]
    elif naive:
        res["naive"] = summarize_naive(naive)
    return res


def naive_once(src: Path, sample: int) -> dict[str, Any]:
    dst = OUT / "_naive.csv"
    run = measure(naive_cmd(src, dst, sample))
    dst.unlink(missing_ok=True)
    if run.rc != 0:
        return failed(run, "naive")
    info = run.json()
    info["wall_s"] = run.wall_s
    return info


def summarize_naive(got: list[dict[str, Any]]) -> dict[str, Any]:
    applies = [g["apply_s"] for g in got]
    best = got[applies.index(min(applies))]
    return {
        "sample_rows": best["rows"],
        "choices": best["choices"],
        "choices_from": best["choices_from"],
        "best_apply_s": min(applies),
        "median_apply_s": statistics.median(applies),
        "per_row_s": min(applies) / best["rows"],
        "runs": got,
    }


def bench_import(repeat: int = 5) -> dict[str, Any]:
    results = []
    for _ in range(repeat):
        run = measure([sys.executable, "-c", IMPORT_SNIPPET])
        if run.rc != 0:
            return failed(run, "import")
        imp, build, total = (float(x) for x in run.out.split())
        results.append(
            {
                "import_s": imp,
                "build_s": build,
                "total_s": total,
                "process_s": run.wall_s,
                "process_cpu_s": run.cpu_s,
                "rss": run.rss,
            }
        )
    best = min(results, key=lambda r: r["total_s"])
    log(f"import+build best of {repeat}: {best['total_s']:.3f} s")
    return {
        "best": best,
        "all_total_s": [r["total_s"] for r in results],
        "loadavg": os.getloadavg()[0],
    }


def bench_sweep(rows: int, what: str, values: list[int], repeat: int) -> list[dict[str, Any]]:
    """The CLI and the floor on ``rows``-row files that differ only in one population:
    ``what`` is "shops" (web shops, hence distinct hosts) or "names" (seller names)."""
    out = []
    for value in values:
        src = data_file(rows, **{what: value})
        warm(src)
        entry: dict[str, Any] = {what: value, "rows": rows, **distinct_counts(src)}
        dst = OUT / "_sweep.csv"
        cli: list[Run] = []
        floor: list[Run] = []
        for i in range(repeat):
            for kind, target in (("floor", floor), ("cli", cli)):
                cmd = (floor_cmd if kind == "floor" else cli_cmd)(src, dst)
                measure(cmd)  # unmeasured first, as in bench_size
                dst.unlink(missing_ok=True)
                run = measure(cmd)
                dst.unlink(missing_ok=True)
                if run.rc != 0:
                    entry[kind] = failed(run, f"sweep {what}={value} {kind}")
                    break
                target.append(run)
                log(f"sweep {what}={value:>8} {kind:<5} #{i + 1}: {run.wall_s:7.2f} s")
            if "error" in entry.get("cli", {}) or "error" in entry.get("floor", {}):
                break
        if cli and "cli" not in entry:
            entry["cli"] = summarize(cli)
        if floor and "floor" not in entry:
            entry["floor"] = summarize(floor)
        out.append(entry)
    return out


def find_py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def bench_profile(rows: int, top: int = 15) -> dict[str, Any]:
    src = data_file(rows)
    dst = OUT / "_profile.csv"
    py_spy = find_py_spy()
    if py_spy is None:
        return profile_cprofile(src, dst, top)
    raw = OUT / f"profile_cli_{label(rows)}.txt"
    cmd = [
        py_spy,
        "record",
        "--subprocesses",
        "--rate",
        "200",
        "--format",
        "raw",
        "-o",
        str(raw),
        "--",
        *cli_cmd(src, dst),
    ]
    run = measure(cmd)
    produced = dst.exists()  # py-spy exits 0 even when the profiled command failed
    dst.unlink(missing_ok=True)
    if run.rc != 0 or not raw.exists() or not produced:
        return failed(run, "profile")
    log(f"profile written to {raw}")
    return {
        "tool": "py-spy record --subprocesses --rate 200 (CPU samples of every thread of the "
        "CLI and of its worker processes; idle waits excluded)",
        "wall_s": run.wall_s,
        "raw": str(raw.relative_to(ROOT)),
        **collapse(raw.read_text(encoding="utf-8"), top),
    }


_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _frame_name(frame: str) -> str:
    m = _FRAME.match(frame)
    if not m:
        return frame
    file = m.group("file")
    for marker in ("site-packages/", "notorious_screen/", "lib/python3"):
        if marker in file:
            file = (marker if marker == "notorious_screen/" else "") + file.split(marker, 1)[1]
            break
    file = re.sub(r"^\.\d+/", "", file)  # lib/python3.11/x.py -> x.py
    return f"{m.group('func')} ({file})"


def _phase(stack: list[str]) -> str:
    """Which part of the run a sample belongs to, from the functions on its stack."""
    joined = ";".join(stack)
    if stack and stack[-1].startswith(("Condition.wait", "_PollLikeSelector.select")):
        # py-spy counts a timed wait on a queue or a pipe as running
        return "waiting on a queue or a worker"
    rules = (
        ("Screener()", "Screener.__init__"),
        ("import", "_find_and_load"),
        # the threads first: the main thread's stacks pass through write_behind too
        ("neutralize + write CSV (writer thread)", "write_behind.<locals>.run"),
        ("neutralize + write CSV (writer thread)", "TableWriter.write"),
        ("neutralize + write CSV (writer thread)", "TableWriter.close"),
        ("read CSV (reader thread)", "read_ahead.<locals>.run"),
        ("read CSV (reader thread)", "read_batches"),
        ("read CSV (reader thread)", "gen (notorious_screen/_files.py)"),
        ("read CSV (reader thread)", "readinto (notorious_screen/_files.py)"),
        ("fsync + rename", "atomic_output"),
        ("match + rules per new distinct key", "Screener._row"),
        ("match + rules per new distinct key", "_worker_rows"),
        ("summary", "Summary.update"),
        ("hosts of clean URLs (NumPy)", "fast_hosts"),
        ("hosts under market hosts (Arrow)", "HostResolver.groups"),
        ("keys, dictionary encode, lookups, take", "Screener.screen_arrays"),
        ("other in iter_batches", "Screener.iter_batches"),
    )
    for name, needle in rules:
        if needle in joined:
            return name
    return "interpreter / other"


def collapse(text: str, top: int) -> dict[str, Any]:
    """Self and inclusive shares per function, and shares per phase, from py-spy raw output."""
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    phases: Counter[str] = Counter()
    total = 0
    for line in text.splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text or not count_text.isdigit():
            continue
        count = int(count_text)
        stack = [_frame_name(f) for f in stack_text.split(";")]
        stack = [f for f in stack if not f.startswith("process ") and not f.startswith("thread ")]
        if not stack:
            continue
        total += count
        own[stack[-1]] += count
        for f in set(stack):
            incl[f] += count
        phases[_phase(stack)] += count
    share = (lambda c: round(100 * c / total, 1)) if total else (lambda c: 0.0)
    return {
        "samples": total,
        "self": [(f, share(c)) for f, c in own.most_common(top)],
        "inclusive": [
            (f, share(c))
            for f, c in incl.most_common(top + 10)
            if not f.startswith("<module> (") or "notorious_screen" in f
        ][:top],
        "phases": [(p, share(c)) for p, c in phases.most_common()],
    }


def profile_cprofile(src: Path, dst: Path, top: int) -> dict[str, Any]:
    import pstats

    prof = OUT / "profile_cli.pstats"
    cmd = [
        sys.executable,
        "-m",
        "cProfile",
        "-o",
        str(prof),
        "-m",
        "notorious_screen",
        *cli_cmd(src, dst)[3:],
    ]
    run = measure(cmd)
    dst.unlink(missing_ok=True)
    if run.rc != 0:
        return failed(run, "profile")
    stats = pstats.Stats(str(prof))
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = stats.stats  # type: ignore[attr-defined]

    def name(key: tuple[str, int, str]) -> str:
        return _frame_name(f"{key[2]} ({key[0]}:{key[1]})")

    by_self = sorted(rows.items(), key=lambda kv: -kv[1][2])[:top]
    by_cum = sorted(rows.items(), key=lambda kv: -kv[1][3])[:top]
    return {
        "tool": "cProfile (py-spy not found; deterministic, inflates call-heavy code)",
        "wall_s": run.wall_s,
        "samples": 0,
        "self": [(name(k), round(100 * v[2] / total, 1)) for k, v in by_self],
        "inclusive": [(name(k), round(100 * v[3] / total, 1)) for k, v in by_cum],
        "phases": [],
    }


# ---- the machine -------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    mem = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
                break
    except OSError:
        pass
    versions = {}
    for dist in ("pyarrow", "pandas", "numpy", "rapidfuzz", "tldextract"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "-"
    if PKG.name.startswith("pkg-") and PKG.parent == OUT:
        return_commit = PKG.name.removeprefix("pkg-") + " (extracted with git archive)"
    else:
        return_commit = None
    try:
        git = ["git", "-C", str(PKG)]
        commit = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "notorious_screen"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if dirty:
            commit += " + uncommitted changes in notorious_screen/"
    except (OSError, subprocess.CalledProcessError):
        commit = "-"
    if return_commit is not None:
        commit = return_commit
    elif PKG != ROOT:
        commit += f" (package from {PKG})"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory": mem,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
        "versions": versions,
        "commit": commit,
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "loadavg_start": os.getloadavg(),
    }


# ---- the report --------------------------------------------------------------------------
def _s(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _rate(rows: int, secs: float | None) -> str:
    return "-" if not secs else f"{rows / secs:,.0f}"


def _mib(b: int | None) -> str:
    return "-" if b is None else f"{b / MIB:,.0f}"


def _mib_cell(b: int | None) -> str:
    return "not run" if b is None else f"{b / MIB:,.0f} MiB"


def _ok(flag: bool | None) -> str:
    return {True: "**met**", False: "**not met**", None: "not measured"}[flag]


def _get(d: dict[str, Any] | None, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def cli_memory(size: dict[str, Any] | None) -> int:
    """The CLI's peak memory: its own peak RSS, or its process tree's if that is larger
    (worker processes hold memory of their own)."""
    cli = (size or {}).get("cli") or {}
    return max(cli.get("rss", 0), cli.get("tree", 0))


def targets(res: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    sizes = {s["rows"]: s for s in res["sizes"]}
    one = sizes.get(1_000_000)
    rows: list[tuple[str, str, bool | None]] = []

    cli, floor = _get(one, "cli", "best_s"), _get(one, "floor", "best_s")
    if cli and floor:
        ratio = cli / floor
        inner = _get(one, "floor", "phases_best", "total_s")
        note = f"; {cli / inner:.1f}x the floor's read+write alone" if inner else ""
        rows.append(
            (
                f"1M rows end to end <= {TARGET_FLOOR_RATIO:g}x the I/O floor",
                f"{ratio:.1f}x ({cli:.2f} s vs {floor:.2f} s, whole processes{note})",
                ratio <= TARGET_FLOOR_RATIO,
            )
        )
    else:
        rows.append(
            (
                f"1M rows end to end <= {TARGET_FLOOR_RATIO:g}x the I/O floor",
                _get(one, "cli", "error") or "1M not run",
                None,
            )
        )

    naive = _get(one, "naive", "per_row_s")
    if cli and naive:
        speed = naive / (cli / one["rows"])
        rows.append(
            (
                f">= {TARGET_NAIVE_SPEEDUP:g}x faster per row than the naive baseline",
                f"{speed:,.0f}x",
                speed >= TARGET_NAIVE_SPEEDUP,
            )
        )
    else:
        rows.append(
            (
                f">= {TARGET_NAIVE_SPEEDUP:g}x faster per row than the naive baseline",
                "1M CLI or naive not run",
                None,
            )
        )

    big = max(
        (s for s in res["sizes"] if "rss" in (s.get("cli") or {})),
        key=lambda s: s["rows"],
        default=None,
    )
    ten = sizes.get(10_000_000)
    rss10 = cli_memory(ten)
    rows.append(
        (
            "peak memory < 1 GiB at 10M rows",
            f"{rss10 / MIB:,.0f} MiB" if rss10 else "10M not run",
            (rss10 < TARGET_RSS_10M) if rss10 else None,
        )
    )
    rss1 = cli_memory(one)
    if big is not None and rss1 and big["rows"] > 1_000_000:
        growth = cli_memory(big) / rss1
        rows.append(
            (
                f"peak memory flat with input size (<= {TARGET_RSS_GROWTH:g}x from 1M to "
                f"{label(big['rows'])})",
                f"{growth:.2f}x ({_mib(rss1)} -> {_mib(cli_memory(big))} MiB)",
                growth <= TARGET_RSS_GROWTH,
            )
        )
    else:
        rows.append(
            (
                f"peak RSS flat with input size (<= {TARGET_RSS_GROWTH:g}x from 1M up)",
                "needs 1M and a larger size",
                None,
            )
        )

    for key, what, count in (("sweep", "hosts", "hosts"), ("names_sweep", "names", "names")):
        sweep = [e for e in res.get(key, []) if _get(e, "cli", "best_s")]
        goal = f"cost follows distinct {what}, not rows"
        if len(sweep) >= 2:
            lo, hi = sweep[0], sweep[-1]
            t_lo, t_hi = lo["cli"]["best_s"], hi["cli"]["best_s"]
            per = (hi[count] - lo[count]) / (t_hi - t_lo) if t_hi > t_lo else None
            rate = f"; {per:,.0f} extra distinct {what} per second" if per else ""
            rows.append(
                (
                    goal,
                    f"same {label(lo['rows'])} rows: {lo[count]:,} -> {hi[count]:,} distinct "
                    f"{what} takes {t_lo:.2f} s -> {t_hi:.2f} s{rate}",
                    t_hi >= t_lo,
                )
            )
        else:
            rows.append((goal, "sweep not run", None))
    seen = _get(one, "distinct")
    if seen:
        rows.append(
            (
                "the 1M file has >= 250,000 distinct hosts and >= 150,000 distinct names",
                f"{seen['hosts']:,} hosts, {seen['names']:,} names",
                seen["hosts"] >= 250_000 and seen["names"] >= 150_000,
            )
        )

    imp = _get(res.get("import"), "best", "total_s")
    rows.append(
        (
            f"import + default Screener() < {TARGET_IMPORT_S:g} s (best of 5)",
            f"{imp:.3f} s" if imp is not None else (_get(res.get("import"), "error") or "not run"),
            (imp < TARGET_IMPORT_S) if imp is not None else None,
        )
    )
    return rows


def render(res: dict[str, Any]) -> str:
    m = res["machine"]
    reps = sorted({s.get("repeat", res["repeat"]) for s in res["sizes"]})
    rep = " / ".join(map(str, reps)) or str(res["repeat"])
    lines = [
        "# Benchmark report",
        "",
        "Generated by "
        + " then ".join(
            "`python benchmarks/run.py "
            + shlex.join(a)
            + "`"
            + (" (merged)" if "--merge" in a else "")
            for a in res.get("argv", [])
        )
        + " (see benchmarks/README.md). Do not edit by hand.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| date | {m['date']} |",
        f"| CPU | {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable) |",
        f"| memory | {_mib(m['memory'])} MiB |",
        f"| OS | {m['os']} |",
        f"| Python | {m['implementation']} {m['python']} |",
        "| packages | " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + " |",
        f"| commit | {m['commit']} |",
        f"| load average | {' / '.join(f'{x:.2f}' for x in m['loadavg_start'])} at start, "
        f"{' / '.join(f'{x:.2f}' for x in res.get('loadavg_end', (0, 0, 0)))} at end "
        "(the machine is shared) |",
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    lines += [f"| {t} | {v} | {_ok(ok)} |" for t, v, ok in targets(res)]
    lines += [
        "",
        f"Times are the **best of {rep}** interleaved runs (medians and every run are in the "
        "detail table); "
        "every run is a fresh process, timed whole (interpreter start, imports, building the "
        "Screener, reading, screening, writing). Peak RSS is the highest of the runs.",
        "",
        "## Throughput",
        "",
        "| rows | input | I/O floor | CLI `screen` | CLI / floor | API screen only | "
        "API read+screen+write | naive (extrapolated) | CLI speed-up vs naive |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in res["sizes"]:
        n = s["rows"]
        floor, cli, api, naive = s.get("floor"), s.get("cli"), s.get("api"), s.get("naive")
        f_s, c_s = _get(floor, "best_s"), _get(cli, "best_s")
        a_scr = _get(api, "phases_best", "screen_s")
        a_rsw = None
        if _get(api, "phases") is not None:
            p = api["phases"]
            a_rsw = p["read_s"] + p["screen_s"] + p["write_s"]
        per = _get(naive, "per_row_s")
        chunked = " chunked" if _get(api, "phases", "chunked") else ""
        cells = [
            f"{n:,}",
            f"{s['bytes'] / MIB:,.0f} MiB",
            f"{_s(f_s)} s ({_rate(n, f_s)}/s)" if f_s else "-",
            f"{_s(c_s)} s ({_rate(n, c_s)}/s)" if c_s else (_get(cli, "error") or "-"),
            f"{c_s / f_s:.1f}x" if c_s and f_s else "-",
            f"{_s(a_scr)} s ({_rate(n, a_scr)}/s){chunked}"
            if a_scr
            else (_get(api, "error") or "-"),
            f"{_s(a_rsw)} s ({_rate(n, a_rsw)}/s){chunked}" if a_rsw else "-",
            f"{per * n:,.0f} s ({1 / per:,.0f}/s)" if per else (_get(naive, "error") or "-"),
            f"{per / (c_s / n):,.0f}x" if per and c_s else "-",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Each measured floor and CLI run follows an unmeasured run of the same command, so "
        "both meet the machine in the same state (the first process after a different "
        "workload, such as the API's gigabyte or the naive loop, can pay 0.3 s of extra "
        "kernel time on this VM).",
        "",
        "- **input**: `benchmarks/generate.py` at its defaults: the seven columns of a crawl "
        "export (row_id, url, seller_name, title, price, currency, crawled_at), about 150 "
        "bytes per row, with the cardinality of a real one: rows drawn (Zipf) from a million "
        "marketplace sellers and 1.5 million web shops, seller names from a pool of 400,000 "
        "in a dozen languages (a few percent naming a platform). Distinct values per file:",
        "",
        "| rows | distinct hosts | distinct seller names | distinct (host, name) |",
        "|---:|---:|---:|---:|",
        *(
            f"| {label(s['rows'])} | {s['distinct']['hosts']:,} | {s['distinct']['names']:,} "
            f"| {s['distinct']['pairs']:,} |"
            for s in res["sizes"]
            if s.get("distinct")
        ),
        "",
        "- **I/O floor**: `benchmarks/io_floor.py`, `pyarrow.csv.read_csv` (every column a "
        "string) then `write_csv`, nothing else; whole process.",
        "- **CLI**: `python -m notorious_screen screen IN.csv -o OUT.csv --name-column "
        "seller_name` (default rule pack, streamed in chunks); whole process.",
        "- **API screen only**: `Screener().screen_frame(df, url_column='url', "
        "name_column='seller_name')` on a frame already read with `pd.read_csv(path, "
        "dtype=str, keep_default_na=False)`, on a fresh Screener (cold caches). "
        "**API read+screen+write** adds the `pd.read_csv` and `df.to_csv`. Above "
        "`--api-max-size` (1M) the frame would not be how anyone handles such a file: "
        "*chunked* is the same loop over `pd.read_csv(chunksize=100_000)`, one "
        "`screen_frame` per chunk, appending to the output, phases summed over the chunks.",
    ]
    naive_any = next((s["naive"] for s in res["sizes"] if _get(s, "naive", "per_row_s")), None)
    if naive_any:
        lines.append(
            f"- **naive**: `benchmarks/naive.py`, pandas `apply` per row, tldextract, RapidFuzz "
            f"`extractOne` (default scorer) over {naive_any['choices']} market names and hosts "
            f"(from `{naive_any['choices_from']}`) for the host and for the name. It runs on "
            f"the **first {naive_any['sample_rows']:,} rows** of each file only; the figure is "
            "its per-row time (the `apply` alone, best of the repeats, read and write excluded, "
            "which flatters it) times the row count. The speed-up compares it with the whole "
            "CLI process per row."
        )
    lines += [
        "",
        "### Detail",
        "",
        "| rows | measurement | best | median | all runs | peak RSS |",
        "|---:|---|---:|---:|---|---:|",
    ]
    for s in res["sizes"]:
        api_name = (
            "API chunked (whole process)"
            if _get(s, "api", "phases", "chunked")
            else "API (whole process)"
        )
        for kind, name in (("floor", "I/O floor"), ("cli", "CLI"), ("api", api_name)):
            v = s.get(kind)
            if not v or "best_s" not in v:
                continue
            lines.append(
                f"| {s['rows']:,} | {name} | {v['best_s']:.2f} s | {v['median_s']:.2f} s | "
                + ", ".join(f"{x:.2f}" for x in v["all_s"])
                + f" | {_mib(v['rss'])} MiB |"
            )
        ph = _get(s, "api", "phases_best")
        if ph:
            lines.append(
                f"| {s['rows']:,} | API phases (best of each) | "
                + ", ".join(f"{k.removesuffix('_s')} {v:.2f} s" for k, v in ph.items())
                + " | | | |"
            )
        fl = _get(s, "floor", "phases_best")
        if fl:
            lines.append(
                f"| {s['rows']:,} | I/O floor in-process | read {fl['read_s']:.2f} s, "
                f"write {fl['write_s']:.2f} s | | | |"
            )
        nv = s.get("naive")
        if nv and "per_row_s" in nv:
            lines.append(
                f"| {s['rows']:,} | naive apply, first {nv['sample_rows']:,} rows | "
                f"{nv['best_apply_s']:.2f} s | {nv['median_apply_s']:.2f} s | "
                + ", ".join(f"{r['apply_s']:.2f}" for r in nv["runs"])
                + " | |"
            )
        if "cli_output_rows" in s:
            ok = "ok" if s["cli_output_rows"] == s["rows"] else "MISMATCH"
            lines.append(
                f"| {s['rows']:,} | CLI output rows | {s['cli_output_rows']:,} ({ok}) | | | |"
            )

    lines += ["", "## Memory", ""]
    mem_rows = [s for s in res["sizes"] if _get(s, "cli", "rss")]
    if mem_rows:
        lines += [
            "| rows | CLI peak RSS (main process) | CLI peak PSS (process tree, sampled) | "
            "API peak RSS | I/O floor peak RSS (whole table) |",
            "|---:|---:|---:|---:|---:|",
        ]
        for s in mem_rows:
            lines.append(
                f"| {s['rows']:,} | {_mib(s['cli']['rss'])} MiB | "
                f"{_mib_cell(s['cli'].get('tree') or None)} | "
                f"{_mib_cell(_get(s, 'api', 'rss'))} | "
                f"{_mib_cell(_get(s, 'floor', 'rss'))} |"
            )
        lines += [
            "",
            "The CLI streams: pyarrow's streaming CSV reader (4 MiB blocks gathered into "
            "chunks of 100,000 rows) on a reader thread one chunk ahead, the "
            "screener on the main thread, and a writer thread one chunk behind; "
            "the screener's caches are bounded, so its peak should not follow the input "
            "size. The floor holds the whole table in memory by design, and so does the "
            "API up to `--api-max-size` (above it, it runs chunked). Peak RSS is the "
            "kernel's exact high-water mark for the main process (and, through `wait4`, "
            "the largest single process below it); the "
            "process-tree figure sums the proportional set size (shared copy-on-write pages "
            "counted once) of the CLI and any worker processes, sampled every 0.1 s. The "
            "targets use the larger of the two.",
        ]
    else:
        lines.append("Not measured (the CLI did not run).")

    lines += ["", "## Cost follows distinct hosts and names, not rows", ""]
    for key, flag, what, count in (
        ("sweep", "--distinct-shops", "hosts", "hosts"),
        ("names_sweep", "--distinct-names", "names", "names"),
    ):
        sweep = res.get(key) or []
        field = flag.removeprefix("--distinct-")
        lines += [f"### Distinct {what}", ""]
        if not sweep:
            lines += [f"Not run (`--{'sweep' if key == 'sweep' else 'names-sweep'}` empty).", ""]
            continue
        lines += [
            f"Same {label(sweep[0]['rows'])} rows, generated with `{flag} N` (the population "
            f"of {'independent web shops' if field == 'shops' else 'seller names'} the rows "
            "are drawn from; all else equal). Distinct counts are taken with a plain regex, "
            f"not the library. Best of {res['sweep_repeat']}.",
            "",
            f"| {flag} | distinct hosts | distinct names | distinct (host, name) | "
            "I/O floor | CLI | CLI rows/s | CLI / floor | CLI peak RSS |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for e in sweep:
            c, f = _get(e, "cli", "best_s"), _get(e, "floor", "best_s")
            lines.append(
                f"| {e[field]:,} | {e['hosts']:,} | {e['names']:,} | {e['pairs']:,} | "
                f"{_s(f)} s | "
                + (f"{c:.2f} s" if c else (_get(e, "cli", "error") or "-"))
                + f" | {_rate(e['rows'], c)} | "
                + (f"{c / f:.1f}x" if c and f else "-")
                + f" | {_mib(_get(e, 'cli', 'rss'))} MiB |"
            )
        timed = [e for e in sweep if _get(e, "cli", "best_s")]
        if len(timed) >= 2:
            a, b = timed[0], timed[-1]
            extra_keys = b[count] - a[count]
            extra_s = b["cli"]["best_s"] - a["cli"]["best_s"]
            if extra_keys > 0:
                rate = f", {extra_keys / extra_s:,.0f} per second" if extra_s > 0 else ""
                lines += [
                    "",
                    f"Marginal cost: {1e6 * extra_s / extra_keys:,.1f} µs per extra distinct "
                    f"{what[:-1]} ({extra_keys:,} more, {extra_s:+.2f} s{rate}), against the "
                    "same row count.",
                ]
        lines.append("")

    imp = res.get("import") or {}
    lines += ["", "## Import and default Screener", ""]
    if "best" in imp:
        b = imp["best"]
        lines += [
            'Fresh interpreter each time: `python -c "' + IMPORT_SNIPPET + '"`, best of '
            f"{len(imp['all_total_s'])} (all: "
            + ", ".join(f"{x:.3f}" for x in imp["all_total_s"])
            + " s).",
            "",
            "| import notorious_screen | Screener() | together | whole process incl. "
            "interpreter start | its CPU time (user + system) |",
            "|---:|---:|---:|---:|---:|",
            f"| {b['import_s']:.3f} s | {b['build_s']:.3f} s | {b['total_s']:.3f} s | "
            f"{b['process_s']:.3f} s | "
            + (f"{b['process_cpu_s']:.3f} s" if "process_cpu_s" in b else "-")
            + " |",
        ]
        if "loadavg" in imp:
            lines += [
                "",
                f"One-minute load average when measured: {imp['loadavg']:.2f} on "
                f"{res['machine']['cores']} cores. The figures are wall-clock times; on a "
                "loaded machine they exceed the CPU time the import needs.",
            ]
    else:
        lines.append(imp.get("error", "Not run."))

    prof = res.get("profile") or {}
    raw = ROOT / prof["raw"] if prof.get("raw") else None
    if raw is not None and raw.exists():
        # Phases are read from the kept samples, so a better classification needs no rerun.
        prof = {**prof, **collapse(raw.read_text(encoding="utf-8"), len(prof.get("self") or ()))}
    lines += ["", "## Profile", ""]
    if prof.get("self"):
        lines += [
            f"CLI on {label(res['profile_rows'])} rows under {prof['tool']}: "
            f"{prof['samples']:,} samples, {prof['wall_s']:.1f} s under the profiler. "
            "Shares are of CPU samples. Arrow's own C++ threads are not Python threads and "
            "do not appear, but Arrow work on a Python thread is charged to the calling "
            "function (`_make_generic_wrapper.<locals>.wrapper` is any `pyarrow.compute` "
            "call). Timed waits on the reader's and writer's queues and on the worker's pipe "
            "count as running for py-spy; they are the phase *waiting on a queue or a "
            "worker*.",
            "",
        ]
        summary = []
        if prof.get("phases"):
            phase, share = prof["phases"][0]
            summary.append(f"the phase **{phase}** takes {share:.0f}% of the samples")
        lib = [(f, v) for f, v in prof["self"] if "notorious_screen/" in f]
        top_self = prof["self"][0]
        summary.append(f"the busiest frame is `{top_self[0]}` ({top_self[1]:.0f}% self)")
        if lib and lib[0] != top_self:
            summary.append(f"the busiest library frame is `{lib[0][0]}` ({lib[0][1]:.0f}% self)")
        lines += ["What dominates: " + "; ".join(summary) + ".", ""]
        if prof.get("phases"):
            lines += [
                "**By phase** (share of all samples):",
                "",
                "| phase | share |",
                "|---|---:|",
            ]
            lines += [f"| {p} | {v:.1f}% |" for p, v in prof["phases"]]
            lines.append("")
        lines += [
            "**Top functions, self time** (the frame on top of the stack):",
            "",
            "| function | self |",
            "|---|---:|",
        ]
        lines += [f"| `{f}` | {v:.1f}% |" for f, v in prof["self"]]
        lines += [
            "",
            "**Top functions, inclusive** (the frame anywhere on the stack):",
            "",
            "| function | inclusive |",
            "|---|---:|",
        ]
        lines += [f"| `{f}` | {v:.1f}% |" for f, v in prof["inclusive"]]
        if res.get("profile_notes"):
            lines += ["", res["profile_notes"]]
    else:
        lines.append(prof.get("error", "Not run (`--no-profile`)."))
    lines.append("")
    return "\n".join(lines)


# ---- main --------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_api"]:
        return api_worker(argv[1], argv[2], chunked="--chunked" in argv[3:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=parse_sizes("100k,1M"),
        help="row counts, e.g. 100k,1M,10M (default 100k,1M)",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per measurement (best is reported; default 3)"
    )
    parser.add_argument(
        "--naive-rows",
        type=parse_size,
        default=20_000,
        help="rows the naive baseline runs on (default 20k)",
    )
    parser.add_argument(
        "--naive-max-size",
        type=parse_size,
        default=100_000_000,
        help="skip the naive baseline on larger files (its sample is the same "
        "first rows anyway; default: never skip)",
    )
    parser.add_argument("--no-api", action="store_true", help="skip the Python API runs")
    parser.add_argument(
        "--api-max-size",
        type=parse_size,
        default=1_000_000,
        help="above this size the API runs chunked, 100,000 rows per screen_frame call "
        "(default 1M: a whole frame costs about 1.2 GB per million rows in pandas)",
    )
    parser.add_argument(
        "--sweep",
        default="20k,200k,1.5M",
        help="--distinct-shops values (web shops) for the distinct-hosts sweep ('' to skip)",
    )
    parser.add_argument(
        "--names-sweep",
        default="10k,100k,1M",
        help="--distinct-names values (seller names) for the distinct-names sweep ('' to skip)",
    )
    parser.add_argument("--sweep-rows", type=parse_size, default=1_000_000)
    parser.add_argument(
        "--sweep-repeat", type=int, default=None, help="runs per sweep point (default: --repeat)"
    )
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--no-import", action="store_true", help="skip the import-time measurement")
    parser.add_argument("--profile-rows", type=parse_size, default=1_000_000)
    parser.add_argument(
        "--render-only",
        action="store_true",
        help=f"rewrite the report from {RESULTS.relative_to(ROOT)}",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="add to the last results instead of starting afresh (sizes measured now replace "
        "the same sizes; the sweep and profile are kept unless run again)",
    )
    parser.add_argument(
        "--package-root",
        type=Path,
        default=ROOT,
        help="directory to import notorious_screen from (default: this repository), to "
        "benchmark a candidate change without touching the work tree",
    )
    parser.add_argument(
        "--at-commit",
        metavar="REV",
        default=None,
        help="benchmark the package as committed at REV (e.g. HEAD), extracted with git "
        "archive into benchmarks/out/, whatever the work tree holds",
    )
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS,
        help=f"raw results file (default {RESULTS.relative_to(ROOT)})",
    )
    args = parser.parse_args(argv)
    root = args.package_root.resolve()
    if args.at_commit and not args.render_only:
        root = extract_commit(args.at_commit)
    set_paths(root, args.results)

    if args.render_only:
        res = json.loads(RESULTS.read_text(encoding="utf-8"))
        args.report.write_text(render(res), encoding="utf-8")
        log(f"wrote {args.report}")
        return 0

    OUT.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {"argv": [], "sizes": []}
    if args.merge and RESULTS.exists():
        res = json.loads(RESULTS.read_text(encoding="utf-8"))
    res["argv"] = [*res.get("argv", []), argv]
    res["machine"] = machine()
    res["repeat"] = args.repeat
    sweep_repeat = args.sweep_repeat or args.repeat
    for n in args.sizes:  # generate everything first: never inside a timing
        data_file(n)
    shops = [parse_size(t) for t in args.sweep.split(",") if t.strip()]
    pools = [parse_size(t) for t in args.names_sweep.split(",") if t.strip()]
    for s in shops:
        data_file(args.sweep_rows, shops=s)
    for p in pools:
        data_file(args.sweep_rows, names=p)

    if not args.no_import:
        res["import"] = bench_import()
    for n in args.sizes:
        entry = bench_size(
            n,
            args.repeat,
            with_api=not args.no_api,
            naive_rows=args.naive_rows if n <= args.naive_max_size else 0,
            api_chunked=n > args.api_max_size,
        )
        res["sizes"] = sorted(
            [s for s in res["sizes"] if s["rows"] != n] + [entry], key=lambda s: s["rows"]
        )
        save(res)
    if shops:
        res["sweep"] = bench_sweep(args.sweep_rows, "shops", shops, sweep_repeat)
        res["sweep_repeat"] = sweep_repeat
        save(res)
    if pools:
        res["names_sweep"] = bench_sweep(args.sweep_rows, "names", pools, sweep_repeat)
        res["sweep_repeat"] = sweep_repeat
        save(res)
    if not args.no_profile:
        res["profile_rows"] = args.profile_rows
        res["profile"] = bench_profile(args.profile_rows)
    res["loadavg_end"] = os.getloadavg()
    save(res)
    args.report.write_text(render(res), encoding="utf-8")
    log(f"wrote {args.report}")
    for t, v, ok in targets(res):
        log(f"{_ok(ok):>14}  {t}: {v}")
    return 0


def extract_commit(rev: str) -> Path:
    """The package and its rule packs as committed at ``rev``, in a directory of their own."""
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", rev],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dest = OUT / f"pkg-{sha}"
    if not dest.exists():
        tmp = OUT / f"pkg-{sha}.part"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", sha, "notorious_screen", "rules"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
        tmp.rename(dest)
    log(f"benchmarking the package as committed at {sha} ({dest.relative_to(ROOT)})")
    return dest


def set_paths(package_root: Path, results: Path) -> None:
    global PKG, RESULTS
    PKG = package_root
    RESULTS = results


def save(res: dict[str, Any]) -> None:
    RESULTS.write_text(json.dumps(res, indent=1, default=_jsonable), encoding="utf-8")


def _jsonable(o: Any) -> Any:
    if isinstance(o, Run):
        return asdict(o)
    raise TypeError(type(o).__name__)


if __name__ == "__main__":
    sys.exit(main())
