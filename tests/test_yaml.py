"""The line-aware YAML loader: YAML 1.2 scalars, locations, and every rejection with its place."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from notorious_screen._yaml import (
    MAX_BYTES,
    MAX_DEPTH,
    YamlList,
    YamlMap,
    load_yaml,
    load_yaml_bytes,
    load_yaml_file,
)
from notorious_screen.errors import DataError, Location


def error(text: str, path: str = "t.yaml") -> DataError:
    with pytest.raises(DataError) as info:
        load_yaml(text, path)
    return info.value


# ---- scalars: the YAML 1.2 core schema ---------------------------------------------------------
def test_norway_problem_no_yes_off_stay_strings() -> None:
    doc = load_yaml("country: NO\nflag: yes\nswitch: off\non: On\n")
    assert doc == {"country": "NO", "flag": "yes", "switch": "off", "on": "On"}


def test_core_scalars_resolve() -> None:
    doc = load_yaml(
        "a: true\nb: FALSE\nc: null\nd: ~\ne:\nf: 42\ng: -7\nh: 1.5\ni: 1e3\nj: '42'\n"
        'k: "true"\nl: 0x1F\nn: .inf\n'
    )
    assert doc == {
        "a": True,
        "b": False,
        "c": None,
        "d": None,
        "e": None,
        "f": 42,
        "g": -7,
        "h": 1.5,
        "i": 1000.0,
        "j": "42",  # quoted scalars are always strings
        "k": "true",
        "l": "0x1F",  # not YAML 1.1 hex
        "n": ".inf",
    }
    assert isinstance(doc["f"], int) and not isinstance(doc["f"], bool)


def test_leading_zero_integer_is_a_core_schema_int() -> None:
    # YAML 1.2 core: [-+]?[0-9]+ is a decimal int, so 012 is 12 (not YAML 1.1 octal 10).
    value = load_yaml("m: 012\n")["m"]
    assert value == 12 and isinstance(value, int)


def test_non_string_keys_become_strings() -> None:
    assert load_yaml("2021: a\ntrue: b\n") == {"2021": "a", "true": "b"}


# ---- locations ---------------------------------------------------------------------------------
def test_locations_of_mappings_keys_values_and_items() -> None:
    doc = load_yaml("top:\n  key: value\n  list:\n    - one\n    - two\n", "f.yaml")
    assert isinstance(doc, YamlMap)
    inner = doc["top"]
    assert isinstance(inner, YamlMap)
    assert str(inner.loc) == "f.yaml:2:3"
    assert str(inner.key_loc("key")) == "f.yaml:2:3"
    assert str(inner.value_loc("key")) == "f.yaml:2:8"
    items = inner["list"]
    assert isinstance(items, YamlList)
    assert [str(items.item_loc(i)) for i in range(2)] == ["f.yaml:4:7", "f.yaml:5:7"]
    # Unknown keys and indexes fall back to the container's own location.
    assert inner.key_loc("missing") == inner.loc
    assert items.item_loc(9) == items.loc


def test_data_error_reads_like_a_compiler_and_pickles() -> None:
    err = DataError("bad thing", Location("x.yaml", 3, 7))
    assert str(err) == "x.yaml:3:7: bad thing"
    assert str(DataError("no place", Location("x.yaml"))) == "x.yaml: no place"
    back = pickle.loads(pickle.dumps(err))
    assert (back.message, back.location) == ("bad thing", Location("x.yaml", 3, 7))


# ---- rejections, each with its location --------------------------------------------------------
def test_duplicate_key_points_at_the_second_key() -> None:
    err = error("a: 1\nb:\n  c: 2\n  c: 3\n")
    assert str(err) == "t.yaml:4:3: duplicate key 'c' (first defined at line 3)"


def test_duplicate_key_in_flow_mapping() -> None:
    err = error("x: {k: 1, k: 2}\n")
    assert str(err) == "t.yaml:1:11: duplicate key 'k' (first defined at line 1)"


def test_anchor_rejected() -> None:
    assert str(error("a: &anchor 1\n")) == "t.yaml:1:4: YAML anchors (&anchor) are not allowed"


def test_alias_rejected_even_without_its_anchor() -> None:
    assert str(error("a: 1\nb: *x\n")) == "t.yaml:2:4: YAML aliases (*name) are not allowed"


def test_billion_laughs_stops_at_the_first_anchor() -> None:
    bomb = 'a: &a ["lol", "lol"]\nb: &b [*a, *a]\nc: [*b, *b]\n'
    assert str(error(bomb)) == "t.yaml:1:4: YAML anchors (&a) are not allowed"


def test_tags_rejected() -> None:
    err = error("cmd: !!python/object/apply:os.system ['true']\n")
    assert str(err) == (
        "t.yaml:1:6: YAML tags are not allowed (tag:yaml.org,2002:python/object/apply:os.system)"
    )
    assert str(error("a: !custom x\n")) == "t.yaml:1:4: YAML tags are not allowed (!custom)"


def test_depth_limit() -> None:
    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    load_yaml(ok)  # exactly MAX_DEPTH levels is fine
    err = error("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert str(err) == f"t.yaml:1:{MAX_DEPTH + 1}: nesting deeper than {MAX_DEPTH} levels"


def test_size_limit_for_text_and_files(tmp_path: Path) -> None:
    assert str(error("#" * (MAX_BYTES + 1))) == "t.yaml: file is larger than 5 MiB"
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_BYTES + 1))
    with pytest.raises(DataError) as info:
        load_yaml_file(big, display="big.yaml")
    assert str(info.value) == "big.yaml: file is larger than 5 MiB"


def test_invalid_utf8_located_at_the_bad_byte() -> None:
    with pytest.raises(DataError) as info:
        load_yaml_bytes(b"a: 1\nbb: caf\xe9\n", "u.yaml")
    assert str(info.value) == "u.yaml:2:8: file is not valid UTF-8"


def test_utf8_bom_is_accepted_and_does_not_shift_columns() -> None:
    doc = load_yaml_bytes(b"\xef\xbb\xbfname: \xe6\xb7\x98\xe5\xae\x9d\n", "b.yaml")
    assert doc == {"name": "淘宝"}
    assert str(doc.key_loc("name")) == "b.yaml:1:1"
    assert str(doc.value_loc("name")) == "b.yaml:1:7"


def test_nul_byte_and_second_document_rejected() -> None:
    assert str(error("a: 1\x00\n")) == "t.yaml: file contains a NUL byte; not a YAML text file"
    assert str(error("a: 1\n---\nb: 2\n")) == (
        "t.yaml:2:1: only one YAML document per file is allowed"
    )


def test_syntax_error_has_a_location() -> None:
    err = error("a: [1, 2\nb: 3\n")
    assert err.location is not None and err.location.line == 2
    assert err.message.startswith("invalid YAML: ")


def test_complex_key_rejected() -> None:
    assert str(error("? [a, b]\n: 1\n")) == "t.yaml:1:3: a mapping key must be a plain value"


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load_yaml_file(tmp_path / "nope.yaml", display="nope.yaml")
    assert str(info.value).startswith("nope.yaml: cannot read file: ")


def test_empty_document_is_none() -> None:
    assert load_yaml("") is None
    assert load_yaml("# only a comment\n") is None
