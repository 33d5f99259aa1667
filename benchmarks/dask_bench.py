"""The Dask engine against the single-process command: rows/s, speed-up and fixed overhead.

    python benchmarks/dask_bench.py                      # 1M rows, 1 and 2 workers (a few minutes)
    python benchmarks/dask_bench.py --sizes 1M,10M       # adds 10M rows
    python benchmarks/dask_bench.py --render-only        # rewrite the report from the last results

Every run is a whole ``notorious-screen screen`` process, timed from start to exit (cluster
start, reading, screening, writing, shutdown): the single-process command, then
``--engine dask --workers N``. Runs are interleaved (single, 1 worker, 2 workers, single, ...)
so that load from other users of the machine falls on all of them alike; the best of the
repeats is reported. The fixed overhead of the Dask engine is measured on a one-row file, and
the client's record-boundary scan of the input is timed alone. Inputs come from
``benchmarks/generate.py`` through ``run.py``'s ``data_file`` (made once into benchmarks/out/).
Writes benchmarks/dask_report.md and benchmarks/out/dask_results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from run import (  # noqa: E402
    OUT,
    cli_cmd,
    data_file,
    label,
    log,
    machine,
    parse_size,
    parse_sizes,
    warm,
)

REPORT = HERE / "dask_report.md"
RESULTS = OUT / "dask_results.json"


def local_cmd(src: Path, dst: Path, names: bool) -> list[str]:
    """The default command: the local engine, which may match in forked processes."""
    cmd = cli_cmd(src, dst)  # with --name-column seller_name, as in run.py
    return cmd if names else cmd[: cmd.index("--name-column")]


def single_cmd(src: Path, dst: Path, names: bool) -> list[str]:
    """The single-process path: the local engine with ``--workers 1``."""
    return [*local_cmd(src, dst, names), "--workers", "1"]


def dask_cmd(src: Path, dst: Path, workers: int, names: bool) -> list[str]:
    return [*local_cmd(src, dst, names), "--engine", "dask", "--workers", str(workers)]


def timed(cmd: list[str], *, timeout: float) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds (the process and the worker processes it reaped), exit, stderr.

    Like run.py's ``measure``, through ``os.wait4``; its CPU times include the children the
    command waited for, which are the Dask worker processes.
    """
    import subprocess
    import tempfile

    env = dict(os.environ)
    env["PYTHONPATH"] = str(HERE.parent) + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=HERE.parent
        )
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t0 > timeout:
                proc.kill()
            time.sleep(0.01)
        wall = time.perf_counter() - t0
        err.seek(0)
        return (
            wall,
            usage.ru_utime + usage.ru_stime,
            os.waitstatus_to_exitcode(status),
            err.read().decode("utf-8", "replace")[-2000:],
        )


def _clean(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def rows_of(path: Path) -> int:
    if path.is_dir():
        return int(json.loads((path / "_manifest.json").read_text())["rows"])
    n = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            n += chunk.count(b"\n")
    return n - 1


def scan(src: Path, workers: list[int]) -> tuple[float, dict[str, int]]:
    """The client's read of the input to find record boundaries (part of every run).

    Returns the seconds of one scan and the parts ``blocksize="auto"`` makes for each worker
    count (about four per worker thread, 1 to 64 MiB each).
    """
    from notorious_screen.dask_engine import _MIN_BLOCKSIZE, DEFAULT_BLOCKSIZE, _plan_csv

    size = src.stat().st_size
    parts: dict[str, int] = {}
    seconds = 0.0
    for w in workers:
        blocksize = min(DEFAULT_BLOCKSIZE, max(_MIN_BLOCKSIZE, size // (4 * w)))
        t0 = time.perf_counter()
        _, plan = _plan_csv([str(src)], "csv", "utf-8", "strict", blocksize)
        seconds = time.perf_counter() - t0
        parts[str(w)] = len(plan)
    return seconds, parts


def bench(
    rows: int, workers: list[int], repeat: int, timeout: float, names: bool
) -> dict[str, Any]:
    src = data_file(rows)
    warm(src)
    OUT.mkdir(parents=True, exist_ok=True)
    tag = label(rows)
    single_out = OUT / f"dask_bench_single_{tag}.csv"
    what = "url+name" if names else "url"
    runs: dict[str, list[float]] = {
        "single": [],
        "local": [],
        **{f"dask{w}": [] for w in workers},
    }
    cpus: dict[str, list[float]] = {name: [] for name in runs}
    loads: list[float] = []
    for i in range(repeat):
        plan = [
            ("single", single_cmd(src, single_out, names), single_out),
            ("local", local_cmd(src, single_out, names), single_out),
        ]
        for w in workers:
            dst = OUT / f"dask_bench_{tag}_w{w}"
            plan.append((f"dask{w}", dask_cmd(src, dst, w, names), dst))
        for name, cmd, dst in plan:
            _clean(dst)
            loads.append(os.getloadavg()[0])
            log(f"{tag} {what} {name} run {i + 1}/{repeat} ...")
            wall, cpu, rc, err = timed(cmd, timeout=timeout)
            if rc != 0:
                raise SystemExit(f"{name} failed (exit {rc}): {err[-800:]}")
            got = rows_of(dst)
            if got != rows:
                raise SystemExit(f"{name} wrote {got} rows, expected {rows}")
            runs[name].append(wall)
            cpus[name].append(cpu)
            log(f"  {wall:.1f}s, {rows / wall:,.0f} rows/s, {cpu / wall:.2f} cores busy")
            _clean(dst)
    scan_s, parts = scan(src, workers)
    return {
        "rows": rows,
        "names": names,
        "input_bytes": src.stat().st_size,
        "parts": parts,
        "best_s": {k: min(v) for k, v in runs.items()},
        "all_s": runs,
        "cpu_s": cpus,
        "scan_s": scan_s,
        "loadavg_during": [min(loads), max(loads)],
    }


def fixed_overhead(workers: list[int], repeat: int) -> dict[str, float]:
    """Wall time on a one-row file: process start, cluster start and stop, one scatter."""
    src = OUT / "dask_bench_1row.csv"
    src.write_text("row_id,url,seller_name\n0,https://item.taobao.com/item.htm?id=1,x\n")
    single = OUT / "dask_bench_1row_out.csv"
    plan = [("single", single_cmd(src, single, True), single)]
    for w in workers:
        dst = OUT / f"dask_bench_1row_w{w}"
        plan.append((f"dask{w}", dask_cmd(src, dst, w, True), dst))
    best: dict[str, float] = {}
    for name, cmd, dst in plan:
        times = []
        for _ in range(repeat):
            _clean(dst)
            wall, _, rc, err = timed(cmd, timeout=300)
            if rc != 0:
                raise SystemExit(f"{name} failed on one row: {err[-800:]}")
            times.append(wall)
        _clean(dst)
        best[name] = min(times)
        log(f"one row, {name}: {best[name]:.2f}s")
    return best


def anatomy(rows: int, workers: int) -> dict[str, Any]:
    """Where a Dask run's time goes, in-process: cluster start and stop, and each part's task."""
    from distributed import get_task_stream

    from notorious_screen import Screener
    from notorious_screen.dask_engine import local_cluster, screen_files

    src = data_file(rows)
    dst = OUT / f"dask_bench_anatomy_{label(rows)}"
    _clean(dst)
    t0 = time.perf_counter()
    with local_cluster(workers) as client:
        t1 = time.perf_counter()
        screener = Screener()
        t2 = time.perf_counter()
        with get_task_stream(client) as stream:
            result = screen_files(src, dst, client=client, screener=screener)
        t3 = time.perf_counter()
    t4 = time.perf_counter()
    _clean(dst)
    tasks: dict[str, list[tuple[float, float]]] = {}
    for task in stream.data:
        for ss in task["startstops"]:
            if ss["action"] == "compute":
                tasks.setdefault(task["worker"], []).append((ss["start"], ss["stop"] - ss["start"]))
    first = [min(ts)[1] for ts in tasks.values()]
    rest = [d for ts in tasks.values() for _, d in sorted(ts)[1:]]
    return {
        "rows": rows,
        "workers": workers,
        "parts": len(result.parts),
        "cluster_start_s": t1 - t0,
        "screener_s": t2 - t1,
        "run_s": t3 - t2,
        "cluster_stop_s": t4 - t3,
        "first_part_s": sum(first) / len(first),
        "later_part_s": sum(rest) / len(rest) if rest else None,
    }


def _runs(r: dict[str, Any], name: str) -> str:
    return ", ".join(f"{x:.1f}" for x in r["all_s"][name])


def _best_cpu(r: dict[str, Any], name: str) -> float | None:
    if "cpu_s" not in r:
        return None
    best = r["all_s"][name].index(min(r["all_s"][name]))
    return float(r["cpu_s"][name][best])


def _cpu(r: dict[str, Any], name: str) -> str:
    cpu = _best_cpu(r, name)
    return "-" if cpu is None else f"{cpu:.1f}"


def _projection(res: dict[str, Any]) -> list[str]:
    """What the CPU seconds say the engine would do with a free core per worker."""
    sized = [r for r in res["sizes"] if "cpu_s" in r and not r.get("names")]
    if not sized:
        return []
    r = max(sized, key=lambda x: x["rows"])
    single = _best_cpu(r, "single")
    single_wall = _get_best(r, "single")
    out = []
    for w in res["workers"]:
        cpu = _best_cpu(r, f"dask{w}")
        if single is None or cpu is None or single_wall is None or w < 2:
            continue
        out.append(
            f"At {label(r['rows'])} rows the single process spent {single:.0f} CPU s and the "
            f"engine with {w} workers {cpu:.0f} CPU s in all ({cpu / single - 1:+.0%}: fixed "
            "costs, and distinct hosts matched once per worker). With a free core per worker "
            f"that work would take roughly {cpu / w:.0f} s of wall time, "
            f"{single_wall / (cpu / w):.1f}x the single process's {single_wall:.1f} s (which "
            "itself keeps more than one core busy)."
        )
    return out


def _get_best(r: dict[str, Any], name: str) -> float | None:
    best = (r.get("best_s") or {}).get(name)
    return float(best) if best is not None else None


def _busy(r: dict[str, Any], name: str) -> str:
    """CPU seconds over wall seconds of the best run: how many cores the run really got."""
    if "cpu_s" not in r:
        return "-"
    best = r["all_s"][name].index(min(r["all_s"][name]))
    return f"{r['cpu_s'][name][best] / r['all_s'][name][best]:.2f}"


def _workers(w: int) -> str:
    return f"dask, {w} worker{'s' if w > 1 else ''}"


def render(res: dict[str, Any]) -> str:
    m = res["machine"]
    workers = res["workers"]
    lines = [
        "# Dask engine benchmark",
        "",
        f"Generated by `python benchmarks/dask_bench.py {res['argv']}` on {m['date']}, commit "
        f"`{m['commit']}`: {m['cpu']}, {m['usable_cores']} usable cores, Python {m['python']}, "
        f"dask {res['dask']}. Load average at start {m['loadavg_start'][0]:.2f}: the machine is "
        "shared with other developers, so these are figures under load, and figures with 2 "
        "workers (both cores busy) suffer most from it.",
        "",
        "Each figure is the best of the runs of a whole `notorious-screen screen` process "
        "(start to exit) on the generated seller table (`benchmarks/generate.py`, seed 7, "
        "40,000 shops), output CSV; `--engine dask --workers N` writes a folder of parts. "
        "*Single process*: `notorious-screen screen --workers 1`; *default engine*: the same "
        "command with its default `--workers` (the CPUs, at most 4: this process and forked "
        "ones share the matching of new distinct hosts). "
        "*Cores busy*: CPU seconds of the command and its worker processes over its wall "
        "seconds; on an idle 2-core machine two workers would approach 2.0. "
        "*url*: the URL column only; *url+name*: with `--name-column seller_name`, as in "
        "`benchmarks/report.md`.",
        "",
        "## Throughput",
        "",
        "| rows | screened | input | parts | engine | wall s, best (each run) | rows/s | "
        "vs single process | CPU s | cores busy |",
        "|---:|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in res["sizes"]:
        single = r["best_s"]["single"]
        mib = r["input_bytes"] / (1 << 20)
        what = "url+name" if r.get("names") else "url"
        lines.append(
            f"| {label(r['rows'])} | {what} | {mib:,.0f} MiB | 1 | single process | "
            f"{single:.1f} ({_runs(r, 'single')}) | {r['rows'] / single:,.0f} | 1.00x | "
            f"{_cpu(r, 'single')} | {_busy(r, 'single')} |"
        )
        if "local" in r["best_s"]:
            t = r["best_s"]["local"]
            lines.append(
                f"| | | | 1 | default engine | {t:.1f} ({_runs(r, 'local')}) | "
                f"{r['rows'] / t:,.0f} | {single / t:.2f}x | {_cpu(r, 'local')} | "
                f"{_busy(r, 'local')} |"
            )
        for w in workers:
            t = r["best_s"][f"dask{w}"]
            lines.append(
                f"| | | | {r['parts'][str(w)]} | {_workers(w)} | "
                f"{t:.1f} ({_runs(r, f'dask{w}')}) | {r['rows'] / t:,.0f} | {single / t:.2f}x | "
                f"{_cpu(r, f'dask{w}')} | {_busy(r, f'dask{w}')} |"
            )
    projection = _projection(res)
    if projection:
        lines += ["", *projection]
    o = res["overhead"]
    lines += [
        "",
        "## Overhead",
        "",
        f"Fixed cost, on a one-row file (whole process, best of {res['overhead_repeat']}):",
        "",
        "| engine | wall s | above single process |",
        "|---|---:|---:|",
        f"| single process | {o['single']:.2f} | - |",
    ]
    for w in workers:
        lines.append(
            f"| {_workers(w)} | {o[f'dask{w}']:.2f} | +{o[f'dask{w}'] - o['single']:.2f} s |"
        )
    if 1 in workers:
        lines += [
            "",
            "Dask with 1 worker against the single process (the same one core of screening), "
            "so the difference is the engine's overhead:",
            "",
        ]
        fixed = o["dask1"] - o["single"]
        for r in res["sizes"]:
            single, one = r["best_s"]["single"], r["best_s"]["dask1"]
            what = "url+name" if r.get("names") else "url"
            if one < single:
                why = (
                    "faster than one process: the difference is within the run-to-run noise of "
                    "this shared machine (the repeats of one measurement differ by more)"
                )
            else:
                why = (
                    f"of which about {fixed:.1f} s fixed (starting and stopping the cluster, "
                    f"shipping the Screener) and {r['scan_s']:.1f} s the client's "
                    "record-boundary scan; the rest is the warm-up of each worker (below) and "
                    "the client and worker processes sharing the cores"
                )
            lines.append(
                f"- {label(r['rows'])} {what}: {one - single:+.1f} s "
                f"({(one - single) / single:+.0%}), {why}."
            )
    an = res.get("anatomy")
    if an:
        later = f"{an['later_part_s']:.2f}" if an["later_part_s"] is not None else "-"
        lines += [
            "",
            f"Anatomy of one run in-process ({label(an['rows'])} rows, url, {an['workers']} "
            f"workers, {an['parts']} parts): starting the cluster {an['cluster_start_s']:.2f} s, "
            f"building the Screener {an['screener_s']:.2f} s, screening and writing "
            f"{an['run_s']:.2f} s, stopping the cluster {an['cluster_stop_s']:.2f} s. A "
            f"worker's first part took {an['first_part_s']:.2f} s on average, its later parts "
            f"{later} s: the first pays for the worker's imports and its empty caches (every "
            "distinct host it meets is matched once per worker).",
        ]
    loads = [x for r in res["sizes"] for x in r.get("loadavg_during", [])] or [0.0]
    notes = NOTES.format(lo=min(loads), hi=max(loads))
    lines += ["", "## Reading the figures", "", notes.strip(), ""]
    return "\n".join(lines)


NOTES = """
- One process already keeps more than one core busy: it reads, screens and writes on three
  threads (*cores busy* about 1.3 to 1.5 for the single process), and with its default
  `--workers` it also shares new distinct hosts with a forked process. A Dask worker does
  the same work on one thread per part, and the engine adds its fixed costs and repeats per
  worker the matching one process does once, so on one 2-core machine (load average
  {lo:.1f} to {hi:.1f} during the runs) Dask is the slower engine. Its place is an input
  that outgrows one machine, or a cluster with many more cores, where the rate grows with
  workers until the shared file system is the limit.
- Fixed costs: starting the cluster (worker processes that import pandas, pyarrow and the
  package), building the Screener in the client and shipping it once to each worker, the
  client's scan of the input for record boundaries (about 1 s per GiB), and stopping the
  cluster (a few seconds after a heavy run: the workers free their caches). Below a few
  hundred thousand rows they are most of the run: use the default engine there.
- Each worker keeps its Screener and its per-distinct-key caches across the parts it
  screens, but distinct hosts that several workers meet are matched by each of them, which
  one process does once: the first part on each worker is the slow one (see the anatomy).
  Inputs with many rows per distinct host gain the most.
"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=parse_sizes, default=parse_sizes("1M"), help="url-only runs (1M)"
    )
    parser.add_argument(
        "--name-sizes",
        type=parse_sizes,
        default=parse_sizes("1M"),
        help="runs with --name-column seller_name ('' to skip; default 1M)",
    )
    parser.add_argument("--workers", default="1,2", help="worker counts (default 1,2)")
    parser.add_argument(
        "--anatomy-rows",
        type=parse_size,
        default=1_000_000,
        help="rows of the in-process breakdown run (0 skips it; default 1M)",
    )
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement (default 2)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    parser.add_argument("--render-only", action="store_true")
    args = parser.parse_args(argv)
    if args.render_only:
        res = json.loads(RESULTS.read_text())
        REPORT.write_text(render(res))
        return 0
    import dask

    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    res: dict[str, Any] = {
        "argv": " ".join(argv),
        "machine": machine(),
        "dask": dask.__version__,
        "workers": workers,
        "overhead_repeat": args.repeat,
        "overhead": fixed_overhead(workers, args.repeat),
        "sizes": [],
        "notes": NOTES,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    res["anatomy"] = anatomy(args.anatomy_rows, max(workers)) if args.anatomy_rows else None
    for names, sizes in ((False, args.sizes), (True, args.name_sizes)):
        for n in sizes:
            res["sizes"].append(bench(n, workers, args.repeat, args.timeout, names))
            RESULTS.write_text(json.dumps(res, indent=1))  # keep what is done if a later run fails
            REPORT.write_text(render(res))
    log(f"wrote {REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
