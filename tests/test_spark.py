"""The Spark and Polars bridges: the same rows as ``screen_frame``, and the documented recipes run.

Spark runs in local mode (one core) when pyspark and a JVM are installed; pyspark is not a
dependency of the package or of its tests, so these tests skip without it.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _loopback import allow_loopback

from notorious_screen.screen import OUTPUT_COLUMNS, Screener

REPO = Path(__file__).resolve().parents[1]
SELLERS = REPO / "examples" / "sellers.csv"
DOC = REPO / "docs" / "scale-out.md"


def _blocks(tag: str) -> list[str]:
    return re.findall(rf"```python {tag}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    pytest.importorskip(
        "pyspark", reason="pyspark is not installed (optional: pip install pyspark)"
    )
    if shutil.which("java") is None:
        pytest.skip("pyspark needs a Java runtime (java not on PATH)")
    from pyspark.sql import SparkSession

    # Spark starts its Python workers with `python3` from PATH unless told: use this venv's.
    saved = {k: os.environ.get(k) for k in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
    os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[1]")
        .appName("notorious-screen-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True)
def _loopback_only(_no_network: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # pyspark's Python side talks to its JVM over 127.0.0.1; nothing else is allowed.
    allow_loopback(monkeypatch)


def _collect(sdf: Any) -> list[dict[str, Any]]:
    # collect(), not toPandas(): pyspark's toPandas uses pandas arguments that pandas 3
    # deprecates; rows as plain Python values are also what a comparison should see.
    return [r.asDict() for r in sdf.collect()]


# pyspark 4 warns that it does not fully support pandas 3 on every Arrow conversion; the
# results are checked value by value below, so the warning is not an error here.
_PANDAS3 = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning"
)


@_PANDAS3
def test_screen_spark_equals_screen_frame(spark: object) -> None:
    from notorious_screen.spark import screen_spark

    original = pd.read_csv(SELLERS, dtype=str, keep_default_na=False)
    screener = Screener()
    sdf = spark.createDataFrame(original).repartition(3, "row_id")  # type: ignore[attr-defined]
    screened = screen_spark(sdf, name_column="seller_name", screener=screener)
    assert screened.columns == [*original.columns, *OUTPUT_COLUMNS]
    got = sorted(_collect(screened), key=lambda r: int(r["row_id"]))
    expected = screener.screen_frame(original, name_column="seller_name")
    assert len(got) == len(expected)
    for col in expected.columns:
        assert [r[col] for r in got] == expected[col].tolist(), col


@_PANDAS3
def test_documented_spark_recipes_run(spark: object) -> None:
    blocks = _blocks("spark")
    assert len(blocks) == 2
    namespace: dict[str, object] = {}
    for block in blocks:
        # Spark's JVM resolves relative paths against its own working directory
        block = block.replace('"sellers.csv"', repr(str(SELLERS)))
        exec(compile(block, str(DOC), "exec"), namespace)
    screened = _collect(namespace["screened"])
    expected = Screener().screen_frame(
        pd.read_csv(SELLERS, dtype=str, keep_default_na=False), name_column="seller_name"
    )
    assert sorted(r["ns_score"] for r in screened) == sorted(expected["ns_score"].tolist())


def test_documented_polars_bridge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pl = pytest.importorskip("polars", reason="polars is not installed (optional)")
    shutil.copy(SELLERS, tmp_path / "sellers.csv")
    monkeypatch.chdir(tmp_path)
    (block,) = _blocks("polars")
    namespace: dict[str, object] = {}
    exec(compile(block, str(DOC), "exec"), namespace)
    screened = namespace["screened"]
    assert isinstance(screened, pl.DataFrame)
    expected = Screener().screen_frame(
        pd.read_csv(SELLERS, dtype=str, keep_default_na=False), name_column="seller_name"
    )
    assert screened["url"].to_list() == expected["url"].tolist()
    assert screened["ns_market_id"].to_list() == expected["ns_market_id"].tolist()
    assert screened["ns_listed"].to_list() == expected["ns_listed"].tolist()


@_PANDAS3
def test_readme_spark_recipe_runs(spark: object) -> None:
    readme = REPO / "README.md"
    (recipe,) = re.findall(r"```python spark\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)
    # the README's recipe continues the guide's first block, which builds `spark` and `sellers`
    namespace: dict[str, object] = {}
    first = _blocks("spark")[0].replace('"sellers.csv"', repr(str(SELLERS)))
    exec(compile(first, str(DOC), "exec"), namespace)
    import textwrap

    exec(compile(textwrap.dedent(recipe), str(readme), "exec"), namespace)
    screened = _collect(namespace["screened"])
    assert len(screened) == len(pd.read_csv(SELLERS, dtype=str, keep_default_na=False))
    assert {"ns_score", "ns_tier", "ns_market"} <= set(screened[0])
