"""Each stage of the pipeline timed alone, per chunk, on PostgreSQL: no Dagster, so what is left is our code and
the database. The daemon benchmark's per-chunk figures are these plus Dagster's own costs.

    .venv/bin/python -m bench.chunk_stages [--rows 200000] [--chunk-rows 100000] [--admin-url URL]

Prints one table row per stage: total seconds, seconds per chunk and rows/s. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

from bench.ingest import create_database, database_url, drop_database
from bench.kanastra import write
from billing_pipeline import stages
from billing_pipeline.settings import Settings
from billing_pipeline.store.engine import create_store_engine
from billing_pipeline.store.migrate import upgrade


def run(admin_url: str, rows: int, chunk_rows: int, work: Path) -> dict[str, float]:
    name = create_database(admin_url)
    engine = None
    try:
        url = database_url(admin_url, name).replace("postgresql://", "postgresql+psycopg://")
        settings = Settings.from_env(
            {**os.environ, "BILLING_DATA_DIR": str(work / "data"), "BILLING_DATABASE_URL": url,
             "BILLING_GOVERNMENT_ID_POLICY": "lenient", "BILLING_CHUNK_ROWS": str(chunk_rows)})
        settings.ensure_dirs()
        engine = create_store_engine(settings.database_url)
        upgrade(engine)
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
    finally:
        if engine is not None:
            engine.dispose()
        drop_database(admin_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-stages-"))
    try:
        seconds = run(args.admin_url, args.rows, args.chunk_rows, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
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
