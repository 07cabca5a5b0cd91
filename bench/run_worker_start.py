"""What a Dagster run worker costs before its first step: a process that imports Dagster and the definitions.

    .venv/bin/python -m bench.run_worker_start [--workers 8]

The code server (dagster 1.13, `DagsterApiServer`) starts every run in a new process from
`multiprocessing.get_context("spawn")`: a fresh interpreter that imports Dagster, pandas, SQLAlchemy, Pandera and
our definitions before it can load the run. This measures that start, then the same process started from a
`forkserver` that has imported them once (each child a fork of it, ready at once), to size what a launcher that
pre-imports could save per run. Nothing here changes how runs start; it prints a table.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time


def _ready(queue: multiprocessing.Queue) -> None:
    import billing_pipeline.definitions  # noqa: F401 - what a run worker imports before its first step

    queue.put(time.perf_counter())


def starts(context: multiprocessing.context.BaseContext, workers: int) -> list[float]:
    seconds = []
    for _ in range(workers):
        queue = context.Queue()
        started = time.perf_counter()
        process = context.Process(target=_ready, args=(queue,))
        process.start()
        seconds.append(queue.get() - started)
        process.join()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    spawned = starts(multiprocessing.get_context("spawn"), args.workers)
    forkserver = multiprocessing.get_context("forkserver")
    forkserver.set_forkserver_preload(["billing_pipeline.definitions"])
    warm_up = time.perf_counter()
    starts(forkserver, 1)  # the server itself starts and imports once
    warm_up = time.perf_counter() - warm_up
    forked = starts(forkserver, args.workers)
    print("| start of a process that has imported the definitions | median s | max s |")
    print("| --- | ---: | ---: |")
    print(f"| spawn (as the code server starts run workers), {args.workers} starts | "
          f"{statistics.median(spawned):.3f} | {max(spawned):.3f} |")
    print(f"| forkserver with the definitions preloaded, {args.workers} starts | "
          f"{statistics.median(forked):.3f} | {max(forked):.3f} |")
    print(f"| the forkserver's own start (once) | {warm_up:.3f} | |")


if __name__ == "__main__":
    main()
