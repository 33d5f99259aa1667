"""Every Python block in README.md runs and its ``expr  # value`` lines hold."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest

import notorious_screen as ns

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def _checked_lines(block: str) -> list[tuple[str, str]]:
    """Lines written as ``expression   # expected value``, where the value is a literal."""
    pairs = []
    for line in block.splitlines():
        code, sep, comment = line.partition("  # ")
        if not sep or "..." in comment or "=" in code.split("#")[0].replace("==", ""):
            continue
        pairs.append((code.strip(), comment.strip()))
    return pairs


def test_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    namespace: dict[str, object] = {"__name__": "readme"}
    exec("from notorious_screen import *", namespace)  # names the comments refer to
    namespace["df"] = pd.DataFrame({"link": ["https://item.taobao.com/item.htm?id=1"]})
    block = BLOCKS[index]
    exec(compile(block, f"README.md block {index}", "exec"), namespace)
    for code, comment in _checked_lines(block):
        try:
            expected = eval(comment, namespace)
        except Exception:  # a prose comment, not a value
            continue
        assert eval(code, namespace) == expected, f"README: {code}  # {comment}"


def test_readme_mentions_every_output_column_and_cli_flag() -> None:
    for col in ns.OUTPUT_COLUMNS:
        assert f"`{col}" in README, col
    for flag in (
        "--url-column",
        "--name-column",
        "--rules",
        "--year",
        "--format",
        "--chunksize",
        "--sort",
        "--fail-on",
        "--summary",
        "--encoding",
        "--no-neutralize",
    ):
        assert flag in README, flag
    assert os.path.exists(REPO / "docs" / "rules.md")


def test_how_it_works_names_every_module_and_private_imports_stay_in_service_modules() -> None:
    import ast

    section = README.split("## How it works", 1)[1].split("\n## ", 1)[0]
    package = REPO / "notorious_screen"
    modules = {p.name for p in package.glob("*.py")} - {"__init__.py", "__main__.py"}
    assert sorted(m for m in modules if f"`{m}`" not in section) == []
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.ImportFrom) and node.level == 1 and node.module):
                continue
            private = [a.name for a in node.names if a.name.startswith("_")]
            assert private == [], f"{path.name} imports private {private} from {node.module}"
            if node.module.startswith("_"):
                doc = ast.get_docstring(ast.parse((package / f"{node.module}.py").read_text()))
                assert doc and ("service module" in doc or "serves the rest" in doc), node.module
