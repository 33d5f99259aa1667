"""The data contract: what rules may read is what the record builder fills, and the output
columns' types all derive from one table."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

import notorious_screen as ns
from notorious_screen.schema import (
    COLUMN_TYPES,
    FIELDS,
    OUTPUT_COLUMNS,
    VOCABULARIES,
    BrandProfile,
    FieldType,
    RecordBuilder,
    arrow_type,
    pandas_dtype,
    spark_type_name,
)

# One input of every kind of match the builder distinguishes (listed, owner only, lookalike,
# name-only, physical market, unrelated, unusable, empty), with and without a name.
INPUTS: list[tuple[object, object]] = [
    ("https://item.taobao.com/item.htm?id=1", None),
    ("https://m.tmall.com/x", "Nike Official Store"),
    ("https://www.amazon.com/dp/B0", None),
    ("https://www.amazon.co.uk/dp/B0", None),
    ("https://dhgaate.com/product/x.html", None),
    ("https://xn--dhgte-yra.com/", None),
    ("https://shop.example.org/p/1", "淘宝网官方旗舰店"),
    ("not a url", "DHgate seller"),
    (None, "pinduoduo store"),
    (None, "Anfu Market"),
    (None, None),
    ("https://nike.com/", None),
    ("https://nike-outlet-sale.shop/", None),
]

TYPES: dict[FieldType, tuple[type, ...]] = {
    FieldType.STR: (str,),
    FieldType.BOOL: (bool,),
    FieldType.INT: (int,),
    FieldType.NUMBER: (int, float),
    FieldType.INT_LIST: (tuple, list),
}


@pytest.fixture(scope="module")
def screener() -> ns.Screener:
    return ns.Screener()


def _records(screener: ns.Screener, builder: RecordBuilder) -> list[dict[str, Any]]:
    out = []
    for url, name in INPUTS:
        match = screener.matcher.match(url, name=name)
        text = url if isinstance(url, str) else None
        out.append(dict(builder(match, url=text, name=name if isinstance(name, str) else None)))
    return out


def test_the_record_builder_fills_exactly_the_fields_rules_may_read(
    screener: ns.Screener,
) -> None:
    brand = BrandProfile(own_domains=("nike.com",))
    builder = RecordBuilder(screener.data, screener.edition, brand)
    seen_values: dict[str, set[object]] = {f: set() for f in FIELDS}
    for record in _records(screener, builder):
        assert set(record) == set(FIELDS)
        for field, value in record.items():
            if value is None:
                continue
            assert isinstance(value, TYPES[FIELDS[field]]), (field, value)
            if FIELDS[field] is not FieldType.BOOL:
                assert not isinstance(value, bool), (field, value)
            if FIELDS[field] is FieldType.INT_LIST:
                assert all(isinstance(v, int) for v in value), (field, value)
            if field in VOCABULARIES:
                assert value in VOCABULARIES[field], (field, value)
            seen_values[field].add(value if not isinstance(value, list) else tuple(value))
    # The inputs reach every field: a field the builder always leaves empty is a dead field.
    assert [f for f, values in seen_values.items() if not values] == []


def test_output_types_derive_from_one_table(screener: ns.Screener) -> None:
    frame = screener.screen_frame(
        pd.DataFrame({"url": [u for u, _ in INPUTS], "name": [n for _, n in INPUTS]}),
        name_column="name",
    )
    assert [c for c in frame.columns if c.startswith("ns_")] == list(OUTPUT_COLUMNS)
    for column in OUTPUT_COLUMNS:
        assert str(frame[column].dtype) == str(pandas_dtype(column)), column
        assert spark_type_name(column)
    arrays = screener.screen_arrays(
        pa.array([u if isinstance(u, str) else None for u, _ in INPUTS], pa.string()),
        pa.array([n if isinstance(n, str) else None for _, n in INPUTS], pa.string()),
    )
    for column in OUTPUT_COLUMNS:
        assert arrays[column].type == arrow_type(column), column
    assert set(OUTPUT_COLUMNS) <= set(COLUMN_TYPES)
