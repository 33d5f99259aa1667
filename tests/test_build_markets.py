"""tools/build_markets.py: the bundled data is fresh, and the tool says what it needs.

The fact sheets live outside the repository (``../shared/reference/`` beside it in CI, or
wherever ``$NOTORIOUS_SCREEN_REFERENCE`` points). The freshness checks skip, with the place they
looked, only when that copy is absent; a clean clone without it gets one line, never a traceback.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOL = REPO / "tools" / "build_markets.py"
DATA = REPO / "notorious_screen" / "data"


def _tool_module() -> object:
    spec = importlib.util.spec_from_file_location("build_markets", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


_TOOL = _tool_module()
REFERENCE: Path = _TOOL.reference_dir()  # type: ignore[attr-defined]
SHEETS: tuple[str, ...] = _TOOL.SHEETS  # type: ignore[attr-defined]
needs_reference = pytest.mark.skipif(
    not all((REFERENCE / name).is_file() for name in SHEETS),
    reason=f"reference fact sheets not in {REFERENCE} (set NOTORIOUS_SCREEN_REFERENCE)",
)


def run(*args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", code, *args] if code else [sys.executable, str(TOOL), *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=300)


@needs_reference
def test_bundled_data_is_up_to_date_with_the_fact_sheets() -> None:
    out = run("--check", "--reference", str(REFERENCE))
    assert out.returncode == 0, out.stderr


@needs_reference
def test_check_fails_on_stale_data(tmp_path: Path) -> None:
    for name in ("markets.yaml", "sources.yaml"):
        shutil.copy(DATA / name, tmp_path / name)
    stale = (
        (tmp_path / "markets.yaml")
        .read_text(encoding="utf-8")
        .replace("online_official: 37", "online_official: 36", 1)
    )
    (tmp_path / "markets.yaml").write_text(stale, encoding="utf-8")
    out = run("--check", "--reference", str(REFERENCE), "--out", str(tmp_path))
    assert out.returncode == 1
    assert out.stderr == f"stale: {tmp_path / 'markets.yaml'} (rerun tools/build_markets.py)\n"


def test_missing_fact_sheets_are_one_clear_line(tmp_path: Path) -> None:
    out = run("--check", "--reference", str(tmp_path / "nowhere"))
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == (
        "tools/build_markets.py: needs the reference fact sheets notorious-markets-facts.yaml and "
        f"notorious-markets-facts-2.yaml, not found in {tmp_path / 'nowhere'}; pass --reference "
        "DIR or set NOTORIOUS_SCREEN_REFERENCE=DIR (default: ../shared/reference beside the "
        "repository)\n"
    )
    (tmp_path / SHEETS[0]).write_text("reports: []\n", encoding="utf-8")
    out = run("--check", "--reference", str(tmp_path))
    assert out.returncode == 2
    assert "needs the reference fact sheet notorious-markets-facts-2.yaml, not found" in out.stderr


def test_a_broken_fact_sheet_is_located(tmp_path: Path) -> None:
    for name in SHEETS:
        (tmp_path / name).write_text("a: 1\na: 2\n", encoding="utf-8")
    out = run("--check", "--reference", str(tmp_path))
    assert out.returncode == 1
    assert out.stderr == (
        f"tools/build_markets.py: {tmp_path / SHEETS[0]}:2:1: duplicate key 'a' "
        "(first defined at line 1)\n"
    )


def test_without_pyyaml_it_says_what_it_needs() -> None:
    code = (
        "import runpy, sys; sys.modules['yaml'] = None; "
        f"sys.argv = ['build_markets.py', '--check']; runpy.run_path({str(TOOL)!r}, "
        "run_name='__main__')"
    )
    out = run(code=code)
    assert out.returncode == 2
    assert out.stderr == (
        "tools/build_markets.py: needs yaml (a dependency of notorious_screen): run it with the "
        "project's environment, e.g. .venv/bin/python tools/build_markets.py\n"
    )


def test_the_reference_folder_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTORIOUS_SCREEN_REFERENCE", "/some/where")
    assert _TOOL.reference_dir() == Path("/some/where")  # type: ignore[attr-defined]
    monkeypatch.delenv("NOTORIOUS_SCREEN_REFERENCE")
    assert _TOOL.reference_dir() == REPO.parent / "shared" / "reference"  # type: ignore[attr-defined]
