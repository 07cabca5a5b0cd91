"""Drop -> every debt stored and every boleto row written, through the real inbox sensor and dagster-daemon on
the production dagster.yaml (PostgreSQL instance storage, PostgreSQL store), for a Kanastra-format file.

    .venv/bin/python -m bench.daemon_ingest [--rows 1100000] [--chunk-rows 50000]

The clock starts when the file is renamed into the inbox and stops when the store holds `rows` debts and as many
boletos. The chunk runs go on to PDFs and notices afterwards; those are measured by their own benchmarks, so the
daemon is stopped at the stop of the clock. Prints the breakdown from the runs' event logs.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import psycopg
import yaml
from dagster import DagsterEventType, DagsterInstance

from bench.ingest import create_database, database_url, drop_database
from bench.kanastra import write

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def instance_yaml(home: Path) -> str:
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    config["local_artifact_storage"]["config"]["base_dir"] = str(home)
    config["compute_logs"]["config"]["base_dir"] = str(home / "storage")
    return yaml.safe_dump(config, sort_keys=False)


def count(url: str, table: str) -> int:
    with psycopg.connect(url) as connection:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def breakdown(instance: DagsterInstance, dropped_at: float, stopped_at: float) -> None:
    steps: dict[str, list[float]] = defaultdict(list)
    queued, startup, first_run_created = [], [], None
    for run in instance.get_runs():
        record = instance.get_run_record_by_id(run.run_id)
        created = record.create_timestamp.timestamp()
        if run.job_name == "ingest_file":
            first_run_created = created
        opened = {}
        first_step = None
        for event in instance.all_logs(run.run_id):
            kind = event.dagster_event.event_type if event.dagster_event else None
            if kind == DagsterEventType.STEP_START:
                opened[event.step_key] = event.timestamp
                first_step = first_step or event.timestamp
            elif kind == DagsterEventType.STEP_SUCCESS and event.step_key in opened:
                steps[event.step_key].append(event.timestamp - opened.pop(event.step_key))
        if record.start_time:
            queued.append(record.start_time - created)
            if first_step:
                startup.append(first_step - record.start_time)
    print("\n| part | value |\n| --- | ---: |")
    print(f"| drop → all debts and boletos stored | {stopped_at - dropped_at:.1f} s |")
    if first_run_created:
        print(f"| sensor latency (drop → ingest run requested) | {first_run_created - dropped_at:.1f} s |")
    for step in ("source_file", "validated_chunk", "debts", "boletos"):
        if steps[step]:
            values = steps[step]
            print(f"| {step}: runs × mean (max) | {len(values)} × {statistics.mean(values):.2f} s "
                  f"({max(values):.2f} s) |")
    if queued:
        print(f"| run queued → run worker up: mean (max) | {statistics.mean(queued):.1f} s ({max(queued):.1f} s) |")
    if startup:
        print(f"| run worker up → first step: mean | {statistics.mean(startup):.1f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_100_000)
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-daemon-"))
    home, data = work / "dagster_home", work / "data"
    home.mkdir()
    (home / "dagster.yaml").write_text(instance_yaml(home), encoding="utf-8")
    source = write(work / "kanastra.csv", args.rows)
    instance_db, store_db = create_database(args.admin_url), create_database(args.admin_url)
    store_url = database_url(args.admin_url, store_db)
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_POSTGRES_USER": "postgres",
           "DAGSTER_POSTGRES_PASSWORD": "trust", "DAGSTER_POSTGRES_HOST": "127.0.0.1",
           "DAGSTER_POSTGRES_PORT": "5432", "DAGSTER_POSTGRES_DB": instance_db,
           "BILLING_DATA_DIR": str(data), "BILLING_DATABASE_URL": store_url.replace("postgresql://", "postgresql+psycopg://"),
           "BILLING_GOVERNMENT_ID_POLICY": "lenient", "BILLING_CHUNK_ROWS": str(args.chunk_rows),
           "BILLING_INBOX_POLL_SECONDS": "1"}
    daemon = None
    try:
        subprocess.run([str(BIN / "billing"), "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([str(BIN / "billing"), "pools"], env=env, check=True, capture_output=True)
        daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-m", "billing_pipeline.defs.definitions"],
                                  env=env, cwd=work, stdout=open(work / "daemon.log", "wb"),  # noqa: SIM115
                                  stderr=subprocess.STDOUT, start_new_session=True)
        time.sleep(20)  # the daemon and its code server are up, as in production
        inbox = data / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        staged = inbox / ".kanastra.csv.part"
        os.link(source, staged) if source.stat().st_dev == inbox.stat().st_dev else staged.write_bytes(source.read_bytes())
        dropped_at = time.time()
        staged.rename(inbox / "kanastra.csv")
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            try:
                if count(store_url, "debts") == args.rows and count(store_url, "boletos") == args.rows:
                    break
            except psycopg.Error:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit(f"timed out; see {work / 'daemon.log'}")
        stopped_at = time.time()
        os.environ.update({k: v for k, v in env.items() if k.startswith("DAGSTER_POSTGRES_")})
        with DagsterInstance.from_config(str(home)) as instance:
            breakdown(instance, dropped_at, stopped_at)
    finally:
        if daemon is not None:
            os.killpg(daemon.pid, signal.SIGTERM)
            daemon.wait(timeout=120)
        # Run workers still rendering PDFs or writing notices, and their code server, go too.
        subprocess.run(["pkill", "-9", "-f", str(work)], check=False)
        for name in (instance_db, store_db):
            drop_database(args.admin_url, name)


if __name__ == "__main__":
    main()
