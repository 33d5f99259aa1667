"""What `notorious-screen report` and `rules backtest` cost on large files; writes report_bench.md.

    python benchmarks/report_bench.py --sizes 1M            # about 2 minutes on 2 cores
    python benchmarks/report_bench.py --sizes 1M,10M        # + the bounded-memory check at 10M

For each size it makes (once, into benchmarks/out/, git-ignored) the generated seller table of
benchmarks/generate.py, its screening (`notorious-screen screen --name-column seller_name`)
and a labelled copy (a `verdict` column drawn from the URL's platform: 60% counterfeit on the
platforms of the generator's listed list, 10% elsewhere, 5% unlabelled; for timing only, not a
measure of the pack). Then it times whole processes, wall clock and the child's own peak RSS
from ``os.wait4``:

- ``report`` with ``--seller-column seller_name`` (a few hundred distinct sellers);
- ``report`` with ``--seller-column url`` (every row a new seller: the bounded seller table
  and the HyperLogLog counters at work);
- ``rules backtest default`` (screening included) in text output.

Each is run ``--repeat`` times, interleaved; the report gives the best and the median.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
SEED, SHOPS = 7, 40_000
MIB = 1 << 20
LISTED = r"taobao|tmall|tb\.cn|aliexpress|dhgate|yangkeduo|pinduoduo|shopee|tokopedia|bukalapak"


def label(n: int) -> str:
    for div, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= div and n % div == 0:
            return f"{n // div}{suffix}"
    return str(n)


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


def log(message: str) -> None:
    print(f"[report_bench] {message}", file=sys.stderr, flush=True)


def cli() -> list[str]:
    return [sys.executable, "-m", "notorious_screen"]


def inputs(rows: int) -> tuple[Path, Path, Path]:
    """The generated table, its screening and its labelled copy (made once)."""
    OUT.mkdir(parents=True, exist_ok=True)
    base = OUT / f"sellers_{label(rows)}_seed{SEED}_shops{SHOPS}_wide.csv"
    if not base.exists():
        log(f"generating {base.name}")
        tmp = base.with_suffix(".part")
        subprocess.run(
            [sys.executable, str(HERE / "generate.py"), str(rows), str(tmp), "--seed", str(SEED),
             "--distinct-shops", str(SHOPS)],
            check=True,
        )  # fmt: skip
        tmp.replace(base)
    screened = OUT / f"screened_{label(rows)}.csv"
    if not screened.exists():
        log(f"screening into {screened.name}")
        tmp = screened.with_name(screened.name + ".part.csv")
        cmd = [*cli(), "screen", str(base), "--name-column", "seller_name", "-o", str(tmp)]
        subprocess.run(cmd, check=True, cwd=ROOT)
        tmp.replace(screened)
    labelled = OUT / f"labelled_{label(rows)}.csv"
    if not labelled.exists():
        log(f"labelling into {labelled.name}")
        make_labelled(base, labelled)
    return base, screened, labelled


def make_labelled(base: Path, out: Path) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(SEED)
    reader = pcsv.open_csv(
        base, convert_options=pcsv.ConvertOptions(strings_can_be_null=False,
                                                  column_types={"url": pa.string()})
    )  # fmt: skip
    tmp = out.with_name(out.name + ".part")
    writer = None
    for batch in reader:
        listed = pc.match_substring_regex(batch.column("url"), LISTED).to_numpy(
            zero_copy_only=False
        )
        draw = rng.random(batch.num_rows)
        verdict = np.where(draw < np.where(listed, 0.6, 0.1), "counterfeit", "legitimate")
        verdict = np.where(rng.random(batch.num_rows) < 0.05, "", verdict)
        labelled = pa.RecordBatch.from_arrays(
            [*batch.columns, pa.array(verdict.tolist(), pa.string())],
            names=[*batch.schema.names, "verdict"],
        )
        if writer is None:
            writer = pcsv.CSVWriter(str(tmp), labelled.schema)
        writer.write_batch(labelled)
    assert writer is not None
    writer.close()
    tmp.replace(out)


@dataclass
class Run:
    wall_s: float
    rss: int
    rc: int
    err: str


def measure(cmd: list[str]) -> Run:
    """Wall time of the whole process and its own peak RSS (``ru_maxrss`` from ``os.wait4``)."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        err.seek(0)
        return Run(wall, usage.ru_maxrss * 1024, os.waitstatus_to_exitcode(status),
                   err.read().decode("utf-8", "replace")[-2000:])  # fmt: skip


def warm(path: Path) -> None:
    with open(path, "rb") as f:
        while f.read(16 * MIB):
            pass


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                             capture_output=True, text=True)  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "notorious_screen"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()  # fmt: skip
        return out.stdout.strip() + (" (uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1M", help="row counts, e.g. 1M or 1M,10M")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=str(HERE / "report_bench.md"))
    args = parser.parse_args()
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    results: list[tuple[int, str, int, list[Run]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        html = str(Path(tmp) / "report.html")
        for rows in sizes:
            _, screened, labelled = inputs(rows)
            cases = [
                ("report, sellers from seller_name",
                 [*cli(), "report", str(screened), "--seller-column", "seller_name", "-o", html]),
                ("report, every row a new seller (--seller-column url)",
                 [*cli(), "report", str(screened), "--seller-column", "url", "-o", html]),
                ("rules backtest default (screening included)",
                 [*cli(), "rules", "backtest", "default", str(labelled), "--name-column",
                  "seller_name"]),
            ]  # fmt: skip
            runs: dict[str, list[Run]] = {name: [] for name, _ in cases}
            for path in (screened, labelled):
                warm(path)
            for i in range(args.repeat):
                for name, cmd in cases:
                    log(f"{label(rows)} {name} ({i + 1}/{args.repeat})")
                    run = measure(cmd)
                    if run.rc != 0:
                        log(run.err)
                        return 1
                    runs[name].append(run)
            for name, _ in cases:
                size = (labelled if "backtest" in name else screened).stat().st_size
                results.append((rows, name, size, runs[name]))
    lines = [
        "# Report and backtest benchmark",
        "",
        f"Commit {commit()}, {dt.date.today().isoformat()}, {cpu()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, run under `nice -n 10` on a shared machine. "
        f"Command: `python benchmarks/report_bench.py --sizes {args.sizes} --repeat "
        f"{args.repeat}`.",
        "",
        "Whole process (`python -m notorious_screen ...`, import included), wall clock, best and "
        "median of the repeats; peak RSS is the child's own `ru_maxrss` (the largest of the "
        "repeats). Inputs: the generated crawl export of `benchmarks/generate.py` (seed 7, "
        "40,000 shops) screened with the default pack, and the same rows with a `verdict` "
        "column for the backtest.",
        "",
        "| rows | what | input | best | median | rows/s (best) | peak RSS |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for rows, name, size, runs in results:
        walls = [r.wall_s for r in runs]
        lines.append(
            f"| {label(rows)} | {name} | {size / MIB:,.0f} MiB | {min(walls):.2f} s | "
            f"{statistics.median(walls):.2f} s | {rows / min(walls):,.0f} | "
            f"{max(r.rss for r in runs) / MIB:,.0f} MiB |"
        )
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
