"""Check that a built wheel ships the package, its market data and the rule packs."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

REQUIRED = (
    "notorious_screen/__init__.py",
    "notorious_screen/py.typed",
    "notorious_screen/data/markets.yaml",
    "notorious_screen/data/sources.yaml",
    "notorious_screen/packs/default.yaml",
)


def main(wheel: str) -> int:
    repo = Path(__file__).resolve().parents[1]
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [n for n in REQUIRED if n not in names]
    packs = sorted(
        p.relative_to(repo / "rules").as_posix() for p in (repo / "rules").rglob("*.yaml")
    )
    missing += [
        f"notorious_screen/packs/{p}" for p in packs if f"notorious_screen/packs/{p}" not in names
    ]
    stray = [n for n in names if n.startswith(("tests/", "benchmarks/", "examples/"))]
    if missing or stray:
        for n in missing:
            print(f"wheel is missing {n}", file=sys.stderr)
        for n in stray:
            print(f"wheel should not contain {n}", file=sys.stderr)
        return 1
    print(f"{Path(wheel).name}: {len(names)} files, data and {len(packs)} rule packs present")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
