"""Fuzz notorious_screen for N minutes with one command.

    python fuzz/run.py --minutes 10
        [--target normalize|names|rules|files|jsonl|parquet|xlsx|all]
                       [--engine auto|atheris|random] [--seed 1]

``all`` splits the time over the targets and runs them one after another (one core).
Engines: ``atheris`` (coverage-guided libFuzzer; ``pip install atheris``) is used when it
imports, else ``random``, a seeded mutator over the seed corpora (byte flips, dictionary
tokens, splices, truncations). Seeds: ``fuzz/corpus/<target>/`` plus inputs derived from the
repository (example URLs, bundled and test rule packs). New interesting inputs go to
``fuzz/work/<target>/`` and failing ones to ``fuzz/crashes/<target>/`` (both ignored by git).
Exit status 1 when a target failed. The network is blocked in every worker.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

import targets  # noqa: E402

TIMEOUT_S = 20  # one input taking longer than this is a finding (a hang)


# ---- seeds ---------------------------------------------------------------------------------
def derived_seeds(target: str) -> list[bytes]:
    """Seeds taken from the repository, so the corpus follows the data and packs."""
    seeds: list[bytes] = []
    if target in ("normalize", "names"):
        import csv

        with (REPO / "examples" / "sellers.csv").open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        column = "url" if target == "normalize" else "seller_name"
        seeds += sorted({r[column].encode() for r in rows})[:200]
        if target == "normalize":
            for line in (
                (REPO / "tests" / "data" / "match" / "positives.tsv").read_text().splitlines()
            ):
                if line and not line.startswith("#"):
                    seeds.append(line.split("\t")[0].encode())
    elif target == "rules":
        for path in sorted((REPO / "rules").rglob("*.yaml")):
            seeds.append(path.read_bytes())
        for path in sorted((REPO / "tests" / "data" / "rules").rglob("*.yaml")):
            seeds.append(path.read_bytes())
    elif target == "files":
        for path in sorted((REPO / "tests" / "data" / "hostile").glob("*.csv")):
            seeds.append(b"\x00" + path.read_bytes())
        head = (REPO / "examples" / "sellers.csv").read_bytes()[:4000]
        seeds += [b"\x00" + head, b"\x10" + head, b"\x02" + b'{"url": "a.com", "x": [1]}\n']
    return seeds


def corpus(target: str) -> list[bytes]:
    items = [p.read_bytes() for p in sorted((HERE / "corpus" / target).glob("*")) if p.is_file()]
    return items + derived_seeds(target)


def tokens(target: str) -> list[bytes]:
    path = HERE / "dicts" / f"{target}.dict"
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r'\s*"(.*)"\s*', line)
        if m:
            out.append(
                m.group(1)
                .encode("latin-1", "backslashreplace")
                .decode("unicode_escape")
                .encode("latin-1")
            )
    return out


# ---- the random engine ---------------------------------------------------------------------
def mutate(rng: random.Random, data: bytes, pool: list[bytes], words: list[bytes]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(8)
        at = rng.randint(0, len(buf))
        if op == 0 and buf:  # flip a bit
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1:  # insert a dictionary token
            buf[at:at] = rng.choice(words) if words else b"\x00"
        elif op == 2 and buf:  # delete a run
            del buf[at : at + rng.randint(1, 16)]
        elif op == 3:  # insert random bytes
            buf[at:at] = rng.randbytes(rng.randint(1, 8))
        elif op == 4 and buf:  # duplicate a run, sometimes many times
            run = bytes(buf[at : at + rng.randint(1, 32)])
            buf[at:at] = run * rng.choice((1, 2, 16, 1000))
        elif op == 5:  # splice with another input
            other = rng.choice(pool)
            cut = rng.randint(0, len(other))
            buf = buf[:at] + bytearray(other[cut:])
        elif op == 6 and buf:  # overwrite a byte with an interesting one
            buf[rng.randrange(len(buf))] = rng.choice(
                b"\x00\x0a\x0d\x22\x27\x2c\x2e\x3a\x40\x7f\x80\xff"
            )
        else:  # insert a non-ASCII character
            buf[at:at] = rng.choice(["\u00e9", "\u0430", "\u6dd8", "\u200d", "\ufffd", "\U0001f600",
                                     "\uff0e", "\u3002", "\u00ad", "\u0130"]).encode()  # fmt: skip
    return bytes(buf[: 1 << 20])


class _Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Hang


def run_random(target: str, seconds: float, seed: int) -> tuple[int, list[Path]]:
    targets.block_network()
    targets.setup()
    fn = targets.TARGETS[target]
    pool = corpus(target) or [b""]
    words = tokens(target)
    rng = random.Random(seed)
    crashes: list[Path] = []
    seen_crashes: set[str] = set()
    signal.signal(signal.SIGALRM, _alarm)
    end = time.monotonic() + seconds
    runs = 0
    while time.monotonic() < end:
        data = rng.choice(pool) if runs < len(pool) else mutate(rng, rng.choice(pool), pool, words)
        signal.alarm(TIMEOUT_S)
        try:
            fn(data)
        except _Hang:
            crashes.append(_save(target, data, f"timeout after {TIMEOUT_S}s", seen_crashes))
        except Exception:
            crashes.append(_save(target, data, traceback.format_exc(), seen_crashes))
        finally:
            signal.alarm(0)
        runs += 1
        if runs % 97 == 0 and len(pool) < 5000:
            pool.append(data)  # keep some mutants: a cheap stand-in for coverage feedback
    return runs, [c for c in crashes if c is not None]


def _save(target: str, data: bytes, why: str, seen: set[str]) -> Path:
    folder = HERE / "crashes" / target
    folder.mkdir(parents=True, exist_ok=True)
    key = why.strip().splitlines()[-1][:200]
    path = folder / f"crash-{hashlib.sha1(data).hexdigest()[:16]}"
    if key not in seen:
        seen.add(key)
        path.write_bytes(data)
        path.with_suffix(".txt").write_text(why)
        print(f"[{target}] FAILURE ({key}) -> {path}", file=sys.stderr, flush=True)
    return path


# ---- the atheris engine --------------------------------------------------------------------
def atheris_worker(target: str, seconds: int) -> None:
    import atheris

    targets.block_network()
    targets.import_heavy_dependencies()
    with atheris.instrument_imports(include=["notorious_screen"]):
        import notorious_screen._files
        import notorious_screen._xlsx
        import notorious_screen._yaml
        import notorious_screen.match
        import notorious_screen.normalize
        import notorious_screen.rules
        import notorious_screen.screen  # noqa: F401
    targets.setup()
    work = HERE / "work" / target
    seeds = HERE / "work" / f"{target}-seeds"
    crashes = HERE / "crashes" / target
    for d in (work, seeds, crashes):
        d.mkdir(parents=True, exist_ok=True)
    for data in corpus(target):
        (seeds / hashlib.sha1(data).hexdigest()).write_bytes(data)
    args = [
        sys.argv[0],
        str(work),
        str(seeds),
        f"-max_total_time={seconds}",
        f"-timeout={TIMEOUT_S}",
        "-rss_limit_mb=3072",
        "-max_len=65536",
        "-print_final_stats=1",
        f"-dict={HERE / 'dicts' / f'{target}.dict'}",
        f"-artifact_prefix={crashes}/",
    ]
    atheris.Setup(args, targets.TARGETS[target])
    atheris.Fuzz()


def run_atheris(target: str, seconds: int) -> tuple[int, list[Path]]:
    crashes_dir = HERE / "crashes" / target
    before = set(crashes_dir.glob("*")) if crashes_dir.exists() else set()
    proc = subprocess.run(
        [sys.executable, str(Path(__file__)), "--worker", target, "--seconds", str(seconds)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
    )  # fmt: skip
    log = HERE / "work" / f"{target}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(proc.stdout)
    runs = 0
    for pattern in (r"stat::number_of_executed_units:\s*(\d+)", r"Done (\d+) runs"):
        found = re.findall(pattern, proc.stdout)
        if found:
            runs = int(found[-1])
            break
    after = set(crashes_dir.glob("*")) if crashes_dir.exists() else set()
    new = sorted(after - before)
    if proc.returncode != 0 and not new:
        print(proc.stdout[-3000:], file=sys.stderr)
    for path in new:
        print(f"[{target}] FAILURE -> {path} (log: {log})", file=sys.stderr)
    return runs, new


# ---- command line --------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=1.0, help="total time budget")
    parser.add_argument("--target", choices=[*targets.TARGETS, "all"], default="all")
    parser.add_argument("--engine", choices=("auto", "atheris", "random"), default="auto")
    parser.add_argument("--seed", type=int, default=1, help="random engine seed")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=int, help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args(argv)
    if args.worker:
        atheris_worker(args.worker, args.seconds)
        return 0
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "random"
    names = list(targets.TARGETS) if args.target == "all" else [args.target]
    share = max(1.0, args.minutes * 60 / len(names))
    failed = False
    print(f"engine: {engine}; {share:.0f} s per target", flush=True)
    for name in names:
        start = time.monotonic()
        if engine == "atheris":
            runs, crashes = run_atheris(name, int(share))
        else:
            runs, crashes = run_random(name, share, args.seed)
        took = time.monotonic() - start
        failed |= bool(crashes)
        print(
            f"{name:<10} {runs:>10,} runs in {took:6.0f} s ({runs / max(took, 1e-9):,.0f}/s), "
            f"{len(crashes)} failing input(s)",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
