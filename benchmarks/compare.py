"""A/B: the same `screen` command at two commits (or with two sets of options), interleaved.

On a shared machine wall time drifts with the neighbours' load; running A and B in turns,
several rounds, and comparing CPU time (user + system of the screening process, from the
kernel) as well as wall time keeps the comparison fair. The outputs of A and B are compared
byte for byte too: a refactor should change nothing, an option may change the output on purpose.

    python benchmarks/compare.py benchmarks/out/sellers_1M_seed7_real.csv \\
        --base 6039dd3 --head HEAD --rounds 5 --report benchmarks/compare_reshape.md \\
        -- --name-column seller_name

``--base-args``/``--head-args`` add options to one side only (e.g. a pack with inputs rules).
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float
    rss: int


def package_at(rev: str) -> Path:
    """The repository as committed at ``rev``, extracted once into benchmarks/out/ (``work``:
    the work tree as it is, to try an uncommitted change)."""
    if rev == "work":
        return REPO
    git = ["git", "rev-parse", "--short=12", rev]
    sha = subprocess.run(git, cwd=REPO, check=True, capture_output=True, text=True).stdout.strip()
    root = OUT / f"at-{sha}"
    if not (root / "notorious_screen" / "__init__.py").exists():
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile() as archive:
            subprocess.run(["git", "archive", sha], cwd=REPO, check=True, stdout=archive)
            archive.seek(0)
            with tarfile.open(fileobj=archive) as tar:
                if hasattr(tarfile, "data_filter"):  # Python 3.10.12+, 3.11.4+
                    tar.extractall(root, filter="data")
                else:  # our own archive, from git
                    tar.extractall(root)
    return root


def measure(root: Path, cmd: list[str]) -> Run:
    env = dict(os.environ, PYTHONPATH=str(root))
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 3):
        raise SystemExit(f"compare: {shlex.join(cmd)} exited {code}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog="options after -- go to both sides"
    )
    parser.add_argument("input", type=Path)
    parser.add_argument("--base", default="HEAD", help="commit of side A (default HEAD)")
    parser.add_argument(
        "--head", default="HEAD", help="commit of side B (default HEAD; 'work': the work tree)"
    )
    parser.add_argument("--base-args", default="", help="options for side A only")
    parser.add_argument("--head-args", default="", help="options for side B only")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--report", type=Path, help="write the table as Markdown here")
    argv = sys.argv[1:] if argv is None else argv
    common = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    args.common = common

    src = args.input.resolve()
    sides = []
    for label, rev, extra in (
        ("A", args.base, args.base_args),
        ("B", args.head, args.head_args),
    ):
        root = package_at(rev)
        if root != REPO and rev != root.name[3:]:
            rev = f"{rev} = {root.name.removeprefix('at-')}"
        out = OUT / f"compare_{label}{''.join(src.suffixes)}"
        cmd = [sys.executable, "-m", "notorious_screen", "screen", str(src), "-o", str(out)]
        sides.append((label, rev, root, out, cmd + args.common + shlex.split(extra)))

    runs: dict[str, list[Run]] = {label: [] for label, *_ in sides}
    for i in range(args.rounds):
        order = sides if i % 2 == 0 else sides[::-1]  # alternate who goes first
        for label, _, root, _, cmd in order:
            runs[label].append(measure(root, cmd))
    same = sides[0][3].read_bytes() == sides[1][3].read_bytes()

    def row(label: str, rev: str, cmd: list[str]) -> str:
        r = runs[label]
        wall = statistics.median(x.wall_s for x in r)
        cpu = statistics.median(x.cpu_s for x in r)
        rss = max(x.rss for x in r) / 2**20
        shown = shlex.join(["screen", "INPUT", *cmd[cmd.index("-o") + 2 :]])
        return f"| {label} | `{rev}` | `{shown}` | {wall:.2f} | {cpu:.2f} | {rss:.0f} |"

    a_cpu = statistics.median(x.cpu_s for x in runs["A"])
    b_cpu = statistics.median(x.cpu_s for x in runs["B"])
    a_wall = statistics.median(x.wall_s for x in runs["A"])
    b_wall = statistics.median(x.wall_s for x in runs["B"])
    load = os.getloadavg()
    lines = [
        f"Input: `{args.input}` ({src.stat().st_size / 2**20:.0f} MiB); {args.rounds} rounds, "
        "A and B alternating; medians.",
        "",
        "| side | commit | command | wall s | CPU s | peak RSS MiB |",
        "|---|---|---|---:|---:|---:|",
        *(row(label, rev, cmd) for label, rev, _, _, cmd in sides),
        "",
        f"B/A: CPU {b_cpu / a_cpu:.3f}x, wall {b_wall / a_wall:.3f}x. "
        f"Outputs byte-identical: {'yes' if same else 'no'}.",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average at the end "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.report:
        args.report.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
