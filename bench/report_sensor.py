"""What the file report sensor's query and the report itself cost once a large file is in the store: the sensor
runs `finished_inbox_files` on every tick (every few seconds) while the file's notices go out, and again
after it, so its cost is paid thousands of times per file.

    .venv/bin/python -m bench.report_sensor [--rows 1100000] [--chunk-rows 100000] [--admin-url URL]

Stores one file's debts and boletos with `billing process --until boletos`, adds its outbox rows, then times
(best of 5): `finished_inbox_files` between two chunks' deliveries, while a notice is pending, once every notice is
settled, once the file is reported, and the report's own queries. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from sqlalchemy import text

from bench.kanastra import write
from bench.store import bench_store, store_arguments
from billing_pipeline.runner import process_file
from billing_pipeline.store import outbox
from billing_pipeline.store.file_report import file_report
from billing_pipeline.store.files import finished_inbox_files, mark_reported


def best_of(call: Callable[[], object], rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def run(admin_url: str, rows: int, chunk_rows: int) -> list[tuple[str, float]]:
    with bench_store(admin_url, chunk_rows) as (settings, engine, work):
        source = write(work / "input.csv", rows)
        summary = process_file(source, settings, until="boletos")
        file_id, keys = summary.file_id, summary.chunk_keys
        assert summary.accepted == rows, summary  # the Kanastra format is all valid under `lenient`
        with engine.begin() as connection:  # the report sensor follows inbox files: as if it had come that way
            connection.execute(text("UPDATE source_files SET received_via = 'inbox'"))
        half = len(keys) // 2

        def deliver(chunk_keys: list[str]) -> None:
            for key in chunk_keys:
                outbox.create_rows(engine, chunk_key=key)
            with engine.begin() as connection:
                connection.execute(text("UPDATE outbox SET status = 'sent', sent_at = now() WHERE status = 'pending'"))
                connection.execute(text("ANALYZE"))

        deliver(keys[:half])
        timings = [(f"finished_inbox_files, between deliveries ({half} of {len(keys)} chunks delivered)",
                    best_of(lambda: finished_inbox_files(engine)))]
        deliver(keys[half:])
        with engine.begin() as connection:
            connection.execute(text("UPDATE outbox SET status = 'pending' WHERE id = (SELECT MAX(id) FROM outbox)"))
        timings.append(("finished_inbox_files, one notice pending", best_of(lambda: finished_inbox_files(engine))))
        with engine.begin() as connection:
            connection.execute(text("UPDATE outbox SET status = 'sent', sent_at = now() WHERE status = 'pending'"))
        assert finished_inbox_files(engine) == [file_id]
        timings.append(("finished_inbox_files, every notice settled", best_of(lambda: finished_inbox_files(engine))))
        timings.append(("file_report (the report's queries)", best_of(lambda: file_report(engine, file_id))))
        mark_reported(engine, file_id)
        timings.append(("finished_inbox_files, file reported", best_of(lambda: finished_inbox_files(engine))))
        return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    store_arguments(parser, rows=1_100_000)
    args = parser.parse_args()
    timings = run(args.admin_url, args.rows, args.chunk_rows)
    print(f"one file of {args.rows:,} Kanastra rows in the store, best of 5")
    print("| query | ms |")
    print("| --- | ---: |")
    for label, seconds in timings:
        print(f"| {label} | {seconds * 1000:.1f} |")


if __name__ == "__main__":
    main()
