"""The Dask engine: the same rows as one process, each row once, even when a worker dies.

One small cluster (2 worker processes, 1 thread each) serves the whole module. Tests that run
on it exercise the real distributed path: pickling, scattering, retries after a worker death.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytest.importorskip(
    "dask.distributed", reason="the Dask engine is an extra: notorious-screen[dask]"
)

import dask
import dask.dataframe as dd
from _loopback import allow_loopback
from distributed import Client, LocalCluster, WorkerPlugin

from notorious_screen.cli import main
from notorious_screen.dask_engine import screen_dask, screen_files
from notorious_screen.errors import InputError
from notorious_screen.screen import OUTPUT_COLUMNS, Screener, default_screener

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from generate import generate  # noqa: E402

ROWS = 20_000


@pytest.fixture(autouse=True)
def _loopback_only(_no_network: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # The cluster talks over TCP on 127.0.0.1 (its scheduler runs in this process).
    allow_loopback(monkeypatch)


# ---- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"dashboard": False},
        ) as cluster,
        Client(cluster, set_as_default=False) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener()


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rows = [(str(i), url, name) for i, (url, name) in enumerate(generate(ROWS, seed=11))]
    return pd.DataFrame(rows, columns=["row_id", "url", "seller_name"], dtype=str)


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory: pytest.TempPathFactory, frame: pd.DataFrame) -> Path:
    path = tmp_path_factory.mktemp("in") / "sellers.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(frame.columns)
        w.writerows(frame.itertuples(index=False))
        # quoted newlines and quotes: a cut at the wrong newline would break these rows
        w.writerow(
            ["multi-1", "https://item.taobao.com/item.htm?id=1\nsecond line", 'A "quoted"\nname']
        )
        w.writerow(["multi-2", 'https://aliexpress.com/"x"', "\n\n"])
    return path


class CountingScreener(Screener):
    """Records the process id each time it is unpickled, in a file every process can append to."""

    count_file = ""

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "count_file": self.count_file}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.count_file = state["count_file"]
        with open(self.count_file, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()}\n")


def _counting(path: Path) -> CountingScreener:
    s = CountingScreener()
    s.count_file = str(path)
    path.write_text("")
    return s


def _unpickled_in(path: Path) -> list[int]:
    return sorted(int(line) for line in path.read_text().split())


def _worker_pids(client: Client) -> list[int]:
    return sorted(client.run(os.getpid).values())


# ---- screen_dask -------------------------------------------------------------------------------
@pytest.mark.parametrize(("rows", "name_column"), [(ROWS, None), (2000, "seller_name")])
def test_screen_dask_equals_screen_frame_row_for_row(
    client: Client, screener: Screener, frame: pd.DataFrame, rows: int, name_column: str | None
) -> None:
    ddf = dd.from_pandas(frame.head(rows), npartitions=8)
    with client.as_current():
        out = screen_dask(ddf, name_column=name_column, screener=screener)
        result = out.compute()
    expected = screener.screen_frame(ddf.compute(), name_column=name_column)
    assert out.npartitions == 8
    assert list(out.columns) == [*frame.columns, *OUTPUT_COLUMNS]
    assert dict(out.dtypes) == dict(result.dtypes)  # the meta tells the truth
    pd.testing.assert_frame_equal(result, expected)
    assert result["row_id"].tolist() == frame["row_id"].head(rows).tolist()
    assert result["ns_market_id"].notna().sum() > rows // 4  # real screening happened


def test_screener_is_unpickled_once_per_worker_not_per_partition(
    client: Client, frame: pd.DataFrame, tmp_path: Path
) -> None:
    counts = tmp_path / "unpickled.txt"
    s = _counting(counts)
    ddf = dd.from_pandas(frame, npartitions=12)
    with client.as_current():
        result = screen_dask(ddf, screener=s).compute()
    assert len(result) == ROWS
    # once in each worker process; never on the scheduler (which lives in this process)
    assert _unpickled_in(counts) == _worker_pids(client)


def test_a_screener_with_worker_processes_travels_as_one_process(
    client: Client, screener: Screener, frame: pd.DataFrame
) -> None:
    # Screener(workers=N) forks matching processes; Dask workers are daemonic and may not.
    with Screener(workers=2) as forking:
        ddf = dd.from_pandas(frame, npartitions=2)  # thousands of new hosts per partition
        with client.as_current():
            result = screen_dask(ddf, screener=forking).compute()
        assert forking.workers == 2  # the caller's Screener is untouched
    pd.testing.assert_frame_equal(result, screener.screen_frame(ddf.compute()))


def test_without_distributed_each_process_rebuilds_the_screener_once(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    counts = tmp_path / "unpickled.txt"
    s = _counting(counts)
    ddf = dd.from_pandas(frame.head(4000), npartitions=8)
    out = screen_dask(ddf, screener=s)
    with dask.config.set(scheduler="threads"):
        threaded = out.compute()
    assert _unpickled_in(counts) == []  # threads share the object
    with dask.config.set(scheduler="processes", num_workers=2):
        processes = out.compute()
    pids = _unpickled_in(counts)
    assert 1 <= len(pids) <= 2 and len(set(pids)) == len(pids)  # 8 partitions, <= 1 per process
    pd.testing.assert_frame_equal(threaded, processes)


def test_screen_dask_checks_columns_before_any_work(screener: Screener) -> None:
    ddf = dd.from_pandas(pd.DataFrame({"link": ["x.com"]}, dtype=str), npartitions=1)
    with pytest.raises(InputError, match="column 'url' not found; the input has columns: 'link'"):
        screen_dask(ddf, screener=screener)
    with pytest.raises(InputError, match=r"expected a dask\.dataframe\.DataFrame"):
        screen_dask(pd.DataFrame({"url": ["x"]}), screener=screener)  # type: ignore[arg-type]


def _die_once(
    df: pd.DataFrame, marker: str, partition_info: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Kill this worker process the first time partition 3 runs (the marker says it happened)."""
    if partition_info is not None and partition_info["number"] == 3:
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return df
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        os._exit(1)
    return df


def test_worker_killed_mid_run_loses_and_duplicates_nothing(
    client: Client, screener: Screener, frame: pd.DataFrame, tmp_path: Path
) -> None:
    marker = tmp_path / "killed"
    before = _worker_pids(client)
    ddf = dd.from_pandas(frame, npartitions=8)
    doomed = ddf.map_partitions(_die_once, str(marker), meta=ddf._meta)
    with client.as_current():
        result = screen_dask(doomed, screener=screener).compute()
    killed = int(marker.read_text())
    assert killed in before
    client.wait_for_workers(2, timeout=60)
    assert killed not in _worker_pids(client)  # the worker really died and was replaced
    assert result["row_id"].tolist() == frame["row_id"].tolist()  # each row once, in order
    expected = screener.screen_frame(ddf.compute())
    pd.testing.assert_frame_equal(result, expected)


# ---- screen_files and the command ------------------------------------------------------------
def _single_process(src: Path, dst: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    code = main(["screen", str(src), "-o", str(dst), "--summary", *extra])
    _, err = capsys.readouterr()
    assert code == 0, err
    return err


def _concat_csv_parts(outdir: Path) -> bytes:
    parts = sorted(outdir.glob("part-*.csv"))
    chunks = [p.read_bytes() for p in parts]
    header = chunks[0].split(b"\n", 1)[0] + b"\n"
    assert all(c.startswith(header) for c in chunks)
    return header + b"".join(c[len(header) :] for c in chunks)


def test_command_writes_the_single_process_output_as_parts(
    client: Client, csv_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    single = tmp_path / "single.csv"
    summary = _single_process(csv_file, single, capsys)
    outdir = tmp_path / "out"
    code = main(
        [
            "screen",
            str(csv_file),
            "--engine",
            "dask",
            "--scheduler",
            client.scheduler.address,
            "-o",
            str(outdir),
            "--summary",
        ]
    )
    _, err = capsys.readouterr()
    assert code == 0, err
    assert _concat_csv_parts(outdir) == single.read_bytes()
    assert (outdir / "_summary.txt").read_text().strip() == summary.strip()
    assert err.strip() == summary.strip()
    manifest = json.loads((outdir / "_manifest.json").read_text())
    assert manifest["rows"] == ROWS + 2
    assert manifest["columns"] == ["row_id", "url", "seller_name", *OUTPUT_COLUMNS]


def test_small_parts_cut_at_record_boundaries_give_the_same_bytes(
    client: Client, csv_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    single = tmp_path / "single.csv"
    summary = _single_process(csv_file, single, capsys)
    result = screen_files(csv_file, tmp_path / "out", client=client, blocksize=50_000)
    assert len(result.parts) > 10
    assert result.rows == ROWS + 2 == sum(p.rows for p in result.parts)
    assert _concat_csv_parts(tmp_path / "out") == single.read_bytes()
    edition = default_screener().edition  # the CLI's report ends with the edition
    assert result.summary.format(edition).strip() == summary.strip()
    ranges = [p.byte_range for p in result.parts]
    assert all(a is not None and b is not None and a[1] == b[0] for a, b in pairwise(ranges))


def test_glob_of_files_and_parquet(
    client: Client, frame: pd.DataFrame, screener: Screener, tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "src"
    src.mkdir()
    pieces = [frame.iloc[:7000], frame.iloc[7000:7001], frame.iloc[7001:]]
    for i, piece in enumerate(pieces):
        piece.to_csv(src / f"crawl-{i}.csv", index=False)
        table = pa.Table.from_pandas(
            piece.assign(n=piece["row_id"].astype("int64")), preserve_index=False
        )
        pq.write_table(table, src / f"crawl-{i}.parquet", row_group_size=2000)
    expected = screener.screen_frame(frame)

    result = screen_files(
        str(src / "*.csv"),
        tmp_path / "csv",
        client=client,
        screener=screener,
    )
    assert [p.source for p in result.parts] == [str(src / f"crawl-{i}.csv") for i in range(3)]
    got = pd.concat(
        pd.read_csv(p, dtype=str, keep_default_na=False)
        for p in sorted((tmp_path / "csv").glob("part-*"))
    )
    assert got["row_id"].tolist() == frame["row_id"].tolist()
    assert got["ns_market_id"].tolist() == [v or "" for v in expected["ns_market_id"]]

    result = screen_files(
        str(src / "*.parquet"),
        tmp_path / "pq",
        client=client,
        screener=screener,
        blocksize=1,
    )
    assert len(result.parts) == 4 + 1 + 7  # one part per row group
    got = pd.concat(pd.read_parquet(p) for p in sorted((tmp_path / "pq").glob("part-*.parquet")))
    assert got["n"].tolist() == frame["row_id"].tolist()  # integers come back as text, untouched
    assert got["ns_score"].tolist() == expected["ns_score"].tolist()


class _KillOnTask(WorkerPlugin):
    """Kills the worker process when a chosen task starts executing, once (a marker file)."""

    def __init__(self, prefix: str, marker: str) -> None:
        self.prefix = prefix
        self.marker = marker

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish == "executing" and str(key).startswith(self.prefix):
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            os._exit(1)


def test_worker_killed_mid_command_leaves_every_row_once(
    client: Client, csv_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    single = tmp_path / "single.csv"
    _single_process(csv_file, single, capsys)
    marker = tmp_path / "killed"
    before = _worker_pids(client)
    client.register_plugin(_KillOnTask("ns-part-5-", str(marker)), name="kill-once")
    try:
        result = screen_files(csv_file, tmp_path / "out", client=client, blocksize=50_000)
    finally:
        client.unregister_worker_plugin("kill-once")
    assert int(marker.read_text()) in before
    assert result.rows == ROWS + 2
    assert _concat_csv_parts(tmp_path / "out") == single.read_bytes()
    assert not list((tmp_path / "out").glob(".*"))  # no partial files from the killed attempt
    client.wait_for_workers(2, timeout=60)


def test_local_cluster_from_the_command(
    csv_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = tmp_path / "head.csv"
    head.write_bytes(b"".join(csv_file.read_bytes().splitlines(keepends=True)[:300]))
    single = tmp_path / "single.parquet"
    _single_process(head, single, capsys, "--name-column", "seller_name")
    code = main(
        [
            "screen",
            str(head),
            "--engine",
            "dask",
            "--workers",
            "1",
            "-o",
            str(tmp_path / "out"),
            "--name-column",
            "seller_name",
            "--format",
            "parquet",
        ]
    )
    _, err = capsys.readouterr()
    assert code == 0, err
    got = pd.read_parquet(tmp_path / "out" / "part-00000.parquet")
    pd.testing.assert_frame_equal(got, pd.read_parquet(single))


def test_rerun_replaces_an_earlier_output_and_refuses_other_folders(
    client: Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.csv"
    src.write_text("url\nhttps://item.taobao.com/item.htm?id=1\nexample.org\n")
    outdir = tmp_path / "out"
    args = [
        "screen",
        str(src),
        "--engine",
        "dask",
        "--scheduler",
        client.scheduler.address,
        "-o",
        str(outdir),
    ]
    assert main(args) == 0
    assert main(args) == 0  # an earlier output of ours is replaced
    assert sorted(p.name for p in outdir.iterdir()) == [
        "_manifest.json",
        "_summary.txt",
        "part-00000.csv",
    ]
    capsys.readouterr()
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"meow")
    assert main([*args[:-1], str(other)]) == 1
    assert "photos: exists and is not an empty folder" in capsys.readouterr().err
    assert (other / "cat.jpg").read_bytes() == b"meow"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--sort", "score"], "--sort needs every row in one process"),
        (["--workers", "2"], "with --scheduler the cluster is yours"),
        (["--input-format", "jsonl"], "--engine dask reads CSV, TSV or Parquet"),
    ],
)
def test_command_options_that_cannot_apply(
    client: Client,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    src = tmp_path / "in.csv"
    src.write_text("url\nexample.org\n")
    code = main(
        [
            "screen",
            str(src),
            "--engine",
            "dask",
            "--scheduler",
            client.scheduler.address,
            "-o",
            str(tmp_path / "out"),
            *extra,
        ]
    )
    assert code == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_bad_row_is_reported_with_its_line(client: Client, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("url,seller\n" + "a.com,x\n" * 10 + "b.com,y,extra\n" + "c.com,z\n" * 10)
    with pytest.raises(
        InputError, match=r"in\.csv: in the rows from line \d+: .*expected 2 fields"
    ):
        screen_files(src, tmp_path / "out", client=client, blocksize=40)
    assert not (tmp_path / "out").exists()


def test_documented_dask_examples_run(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re
    from contextlib import contextmanager

    import notorious_screen.dask_engine as engine

    @contextmanager
    def on_this_cluster(workers: int | None = None) -> Iterator[Client]:
        # the module's cluster stands in for a new one (local_cluster has its own test)
        with client.as_current():
            yield client

    monkeypatch.setattr(engine, "local_cluster", on_this_cluster)
    (tmp_path / "sellers.csv").write_bytes((REPO / "examples" / "sellers.csv").read_bytes())
    monkeypatch.chdir(tmp_path)
    doc = (REPO / "docs" / "scale-out.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    assert len(blocks) == 2
    namespace: dict[str, Any] = {}
    for block in blocks:
        exec(compile(block, "docs/scale-out.md", "exec"), namespace)
    assert namespace["flagged"]["ns_listed"].all() and len(namespace["flagged"]) > 10
    assert namespace["result"].rows == len(pd.read_csv(tmp_path / "sellers.csv", dtype=str))
    assert (tmp_path / "screened" / "part-00000.csv").exists()
