"""The CLI's reader and writer threads: order kept, errors surface where they belong, no hang."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from notorious_screen import InputError, Screener
from notorious_screen._files import read_ahead, write_behind

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _batches(n: int, fail_at: int | None = None) -> Iterator[pa.RecordBatch]:
    for i in range(n):
        if i == fail_at:
            raise ValueError(f"broken at {i}")
        yield pa.record_batch([pa.array([str(i)])], names=["x"])


def _values(batches: list[pa.RecordBatch]) -> list[str]:
    return [b.column(0)[0].as_py() for b in batches]


def test_read_ahead_keeps_order_and_raises_after_the_good_batches() -> None:
    assert _values(list(read_ahead(_batches(7)))) == [str(i) for i in range(7)]
    got: list[pa.RecordBatch] = []
    with pytest.raises(ValueError, match="broken at 4"):
        for batch in read_ahead(_batches(9, fail_at=4)):
            got.append(batch)
    assert _values(got) == ["0", "1", "2", "3"]


def test_leaving_read_ahead_early_stops_its_thread() -> None:
    before = threading.active_count()
    stream = read_ahead(_batches(1000))
    assert _values([next(stream), next(stream)]) == ["0", "1"]
    stream.close()  # what a for loop left by an exception does
    assert threading.active_count() == before


class _Writer:
    def __init__(self, fail_at: int | None = None) -> None:
        self.rows: list[str] = []
        self.fail_at = fail_at

    def write(self, batch: pa.RecordBatch) -> None:
        if len(self.rows) == self.fail_at:
            raise OSError(28, "No space left on device")
        self.rows.extend(_values([batch]))


def test_write_behind_writes_everything_in_order() -> None:
    writer = _Writer()
    counted: list[int] = []
    write_behind(writer, _batches(25), counted.append)  # type: ignore[arg-type]
    assert writer.rows == [str(i) for i in range(25)]
    assert sum(counted) == 25


def test_a_failing_writer_stops_the_run_with_its_error() -> None:
    writer = _Writer(fail_at=3)
    with pytest.raises(OSError, match="No space left"):
        write_behind(writer, _batches(10_000))  # type: ignore[arg-type]
    assert writer.rows == ["0", "1", "2"]


def test_a_failing_producer_still_ends_the_writer_thread() -> None:
    before = threading.active_count()
    writer = _Writer()
    with pytest.raises(ValueError, match="broken at 5"):
        write_behind(writer, _batches(10, fail_at=5))  # type: ignore[arg-type]
    assert writer.rows == ["0", "1", "2", "3", "4"]
    assert threading.active_count() == before


def _seller_batches(size: int, fail_at: int | None = None) -> Iterator[pa.RecordBatch]:
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(EXAMPLES / "sellers.csv")
    for i, batch in enumerate(table.to_batches(max_chunksize=size)):
        if i == fail_at:
            raise ValueError(f"broken at {i}")
        yield batch


@pytest.mark.parametrize("workers", [1, 2])
def test_screening_ahead_gives_the_batches_screening_in_turn_gives(workers: int) -> None:
    # ahead=True prepares batch k+1 on the reading thread while batch k is screened: the
    # names it sends the name thread early and the keys it cuts must change nothing.
    def run(ahead: bool) -> list[pa.RecordBatch]:
        screener = Screener(workers=workers)
        try:
            batches = _seller_batches(17)
            return list(
                screener.iter_batches(
                    batches, name_column="seller_name", url_column="url", ahead=ahead
                )
            )
        finally:
            screener.close()

    one_by_one, ahead = run(False), run(True)
    assert len(ahead) == len(one_by_one) > 10
    assert all(a.equals(b) for a, b in zip(ahead, one_by_one, strict=True))
    assert sum(b.num_rows for b in ahead) == sum(b.num_rows for b in _seller_batches(17))


def test_a_source_error_surfaces_after_the_batches_screened_ahead_of_it() -> None:
    screener = Screener()
    got: list[pa.RecordBatch] = []
    with pytest.raises(ValueError, match="broken at 3"):
        for batch in screener.iter_batches(
            _seller_batches(20, fail_at=3),
            url_column="url",
            name_column="seller_name",
            ahead=True,
        ):
            got.append(batch)
    assert [b.num_rows for b in got] == [20, 20, 20]
    assert "ns_market" in got[0].schema.names


def test_a_column_the_batches_lack_is_named_not_read_from_another() -> None:
    screener = Screener()
    with pytest.raises(
        InputError, match=r"no column 'seller_url'.*columns: row_id, url, seller_name"
    ):
        next(screener.iter_batches(_seller_batches(20), url_column="seller_url"))
    with pytest.raises(InputError, match="no column 'name'"):
        next(screener.iter_batches(_seller_batches(20), url_column="url", name_column="name"))
