"""In-process ingest of a Kanastra-format file into PostgreSQL (validated, rejects written, debts stored) beside
`psql \\copy` of the same file into a table with a primary key, at several sizes.

    .venv/bin/python -m bench.ingest [--rows 100000 1100000] [--admin-url postgresql://postgres@127.0.0.1/postgres]

Each size gets fresh databases. Ours runs as `billing process --until debts` (or `--until boletos`) in a child
process, so its peak RSS is measured alone. Prints a table; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from bench.kanastra import write

BIN = Path(sys.executable).parent
PEAK_RSS_WRAPPER = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)
REFERENCE_TABLE = """CREATE TABLE kanastra (name text NOT NULL, government_id text NOT NULL, email text NOT NULL,
 debt_amount numeric(14, 2) NOT NULL, debt_due_date date NOT NULL, debt_id uuid PRIMARY KEY)"""


def create_database(admin_url: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_url(admin_url: str, name: str) -> str:
    return admin_url.rpartition("/")[0] + "/" + name


def psql_copy(admin_url: str, path: Path) -> float:
    name = create_database(admin_url)
    try:
        url = database_url(admin_url, name)
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(REFERENCE_TABLE)
        started = time.perf_counter()
        subprocess.run(["psql", url, "-q", "-c", f"\\copy kanastra FROM '{path}' CSV HEADER"], check=True)
        return time.perf_counter() - started
    finally:
        drop_database(admin_url, name)


def ours(admin_url: str, path: Path, until: str, work: Path) -> tuple[float, float, dict]:
    name = create_database(admin_url)
    try:
        env = {**os.environ, "BILLING_DATA_DIR": str(work / f"data-{name}"),
               "BILLING_DATABASE_URL": database_url(admin_url, name).replace("postgresql://", "postgresql+psycopg://"),
               "BILLING_GOVERNMENT_ID_POLICY": "lenient"}
        # A small wrapper process reports its child's peak RSS: measured from this process, a forked child
        # would first count this process's own memory (the generated file's frame).
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", PEAK_RSS_WRAPPER, str(BIN / "billing"), "process", str(path),
                               "--until", until, "--json"], env=env, check=True, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        summary, peak_kib = done.stdout.strip().rsplit("\n", 1)
        return seconds, int(peak_kib) / 1024, json.loads(summary)
    finally:
        drop_database(admin_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_100_000])
    parser.add_argument("--until", default="debts", choices=("debts", "boletos"))
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    print(f"| rows | file MB | psql \\copy s | ours (until {args.until}) s | ratio | rows/s | peak RSS MiB |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for rows in args.rows:
        path = write(work / f"kanastra-{rows}.csv", rows)
        reference = psql_copy(args.admin_url, path)
        seconds, peak, summary = ours(args.admin_url, path, args.until, work)
        assert summary["accepted"] == rows, summary  # the Kanastra format is all valid under `lenient`
        print(f"| {rows:,} | {path.stat().st_size / 1e6:.0f} | {reference:.1f} | {seconds:.1f} | "
              f"{seconds / reference:.1f}× | {rows / seconds:,.0f} | {peak:.0f} |", flush=True)
        path.unlink()


if __name__ == "__main__":
    main()
