"""The split alone (`billing_pipeline.ingest.split.split_file`) of a Kanastra-format file: the serial step before
any chunk runs, in `billing process` and in the daemon's source-file run.

    .venv/bin/python -m bench.split [--rows 1100000] [--chunk-rows 100000] [--repeat 3]

The file is generated once into a temporary folder and read from the page cache; prints the best of `--repeat`
runs and rows/s. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench.kanastra import write
from billing_pipeline.ingest.split import split_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_100_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "kanastra.csv", args.rows)
        path.read_bytes()  # into the page cache: the split's own time, not the disk's
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            layout = split_file(path, args.chunk_rows)
            times.append(time.perf_counter() - started)
        assert layout.data_rows == args.rows
        best = min(times)
        print(f"split of {args.rows:,} rows ({path.stat().st_size / 1e6:.1f} MB), {len(layout.chunks)} chunks: "
              f"best {best:.3f} s of {args.repeat} ({', '.join(f'{t:.3f}' for t in times)}), "
              f"{args.rows / best:,.0f} rows/s; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
