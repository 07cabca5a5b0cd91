"""Each stage of the pipeline timed alone, per chunk, on PostgreSQL: no Dagster, so what is left is our code and
the database. The daemon benchmark's per-chunk figures are these plus Dagster's own costs.

    .venv/bin/python -m bench.chunk_stages [--rows 200000] [--chunk-rows 100000] [--admin-url URL]

Prints one table row per stage: total seconds, seconds per chunk and rows/s. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from datetime import date

from bench.kanastra import write
from bench.store import bench_store, store_arguments
from billing_pipeline import stages


def run(admin_url: str, rows: int, chunk_rows: int) -> dict[str, float]:
    with bench_store(admin_url, chunk_rows) as (settings, engine, work):
        source = write(work / "input.csv", rows)
        seconds: dict[str, float] = defaultdict(float)

        def timed(stage: str, call):
            started = time.perf_counter()
            result = call()
            seconds[stage] += time.perf_counter() - started
            return result

        registration = timed("register", lambda: stages.register_stage(engine, settings, source))
        split = timed("split", lambda: stages.split_stage(engine, settings, registration.file_id))
        for key in split.chunk_keys:
            validation = timed("validate", lambda key=key: stages.validate_stage(engine, settings, key))
            timed("load", lambda key=key, v=validation: stages.load_stage(engine, settings, key, v.accepted))
            timed("boletos", lambda key=key: stages.boleto_stage(engine, settings, key, date(2026, 11, 29)))
        seconds["chunks"] = len(split.chunk_keys)
        return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    store_arguments(parser, rows=200_000)
    args = parser.parse_args()
    seconds = run(args.admin_url, args.rows, args.chunk_rows)
    chunks = int(seconds.pop("chunks"))
    print(f"{args.rows:,} Kanastra rows, {chunks} chunks of {args.chunk_rows:,}")
    print("| stage | seconds | per chunk | rows/s |")
    print("| --- | ---: | ---: | ---: |")
    for stage, total in seconds.items():
        per_chunk = f"{total / chunks:.2f}" if stage not in {"register", "split"} else ""
        print(f"| {stage} | {total:.2f} | {per_chunk} | {args.rows / total:,.0f} |")
    print(f"| **all** | {sum(seconds.values()):.2f} | | {args.rows / sum(seconds.values()):,.0f} |")


if __name__ == "__main__":
    main()
