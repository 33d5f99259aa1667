"""The same screen on Spark: ``mapInPandas`` with :meth:`Screener.screen_frame`.

Spark stays the user's: this module only builds the output schema and the function Spark runs
on each Arrow batch. The Screener travels as a broadcast variable, so each Python worker
process unpickles it once and reuses it across tasks (Spark reuses Python workers by default).
pyspark is imported only when called; it is not a dependency.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .errors import InputError
from .schema import OUTPUT_COLUMNS, check_columns, spark_type_name
from .screen import OneProcess, Screener, default_screener, unwrap

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["screen_spark", "spark_output_schema"]


def _types() -> Any:
    try:
        return importlib.import_module("pyspark.sql.types")
    except ImportError:
        raise InputError("screen_spark needs pyspark: pip install pyspark") from None


def spark_output_schema(input_schema: Any) -> Any:
    """The Spark schema of screened rows: the input's fields, then the ``ns_*`` columns."""
    types = _types()
    fields = list(input_schema.fields)
    for col in OUTPUT_COLUMNS:
        spark_type = getattr(types, spark_type_name(col))()
        fields.append(types.StructField(col, spark_type, True))
    return types.StructType(fields)


def screen_spark(
    sdf: Any,
    *,
    url_column: str = "url",
    name_column: str | None = None,
    screener: Screener | None = None,
) -> Any:
    """Screen a ``pyspark.sql.DataFrame``; lazy, like any Spark transformation.

    Each row keeps its columns and gains the ``ns_*`` columns, with the values
    :meth:`Screener.screen_frame` gives them. Row order within a partition is kept; Spark
    gives no order across partitions unless you sort, so carry an id column if you need one.
    """
    screener = screener if screener is not None else default_screener()
    check_columns(list(sdf.columns), url_column=url_column, name_column=name_column)
    schema = spark_output_schema(sdf.schema)
    # Spark runs many Python workers itself: a Screener(workers=N) travels as workers=1.
    travelling = OneProcess(screener)
    try:
        shipped: Any = sdf.sparkSession.sparkContext.broadcast(travelling)
    except Exception:  # Spark Connect has no SparkContext: the function carries the screener
        shipped = None
    local = travelling if shipped is None else None

    def screen(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        s = unwrap(local if local is not None else shipped.value)
        for frame in batches:
            yield s.screen_frame(frame, url_column=url_column, name_column=name_column)

    return sdf.mapInPandas(screen, schema=schema)
