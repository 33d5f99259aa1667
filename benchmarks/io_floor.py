"""The I/O floor: read a CSV with pyarrow and write it back unchanged, nothing else.

    python benchmarks/io_floor.py IN.csv OUT.csv

Every column is read as a string (as ``notorious-screen screen`` reads it), so no screening
tool that reads and writes CSV with pyarrow can be faster than this. Prints one JSON line:
``{"rows": N, "read_s": ..., "write_s": ..., "total_s": ...}`` (times exclude interpreter
start-up and the pyarrow import; the harness also times the whole process).
"""

from __future__ import annotations

import json
import sys
import time

import pyarrow as pa
import pyarrow.csv as pcsv


def header(path: str) -> list[str]:
    """The column names, so every column can be typed as a string up front."""
    with open(path, "rb") as f:
        first = f.readline()
    table = pcsv.read_csv(
        pa.py_buffer(first), read_options=pcsv.ReadOptions(autogenerate_column_names=True)
    )
    return [str(table.column(i)[0]) for i in range(table.num_columns)]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = args
    names = header(src)
    t0 = time.perf_counter()
    table = pcsv.read_csv(
        src,
        convert_options=pcsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    t1 = time.perf_counter()
    pcsv.write_csv(table, dst)
    t2 = time.perf_counter()
    print(
        json.dumps(
            {"rows": table.num_rows, "read_s": t1 - t0, "write_s": t2 - t1, "total_s": t2 - t0}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
