"""Drop -> every debt stored and every boleto row written, through the real inbox sensor and dagster-daemon on
the production dagster.yaml (PostgreSQL instance storage, PostgreSQL store), for a Kanastra-format file.

    .venv/bin/python -m bench.daemon_ingest [--rows 1100000] [--chunk-rows 100000] [--where folder|bucket|both]
                                            [--files 1] [--deliver] [--bare-sample 20000]

The clock starts when the file is renamed into the inbox folder, or when its PUT into the inbox prefix of a bucket
(a real SeaweedFS, every runtime folder in it) has returned, and stops when the store holds `rows` debts and as many
boletos. `--files N` drops the rows as N files (different debts) renamed into the inbox one
after the other, all before the sensor's next look. At the end `psql \\copy` loads the same rows into a table
with a primary key, as the yardstick of the same run. `--where both` measures the folder, then the bucket, in the same invocation, and prints the ratio. Delivery runs (PDFs, notices) follow at a lower queue priority; they are measured by their own
benchmarks, so the daemon is stopped at the stop of the clock. Prints the breakdown from the runs' event logs.

With `--deliver` the clock runs on until every notice has been accepted by an SMTP sink (aiosmtpd in a process of
its own, BILLING_SMTP_RATE=0): PDFs rendered, messages composed, sent and marked. Then, with the daemon stopped, a
bare smtplib loop sends `--bare-sample` of the same messages, built beforehand, to the same sink over as many
connections as the `smtp` pool allows, and the delivery's throughput is compared with it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import psycopg
from dagster import DagsterEventType, DagsterInstance

from bench.ingest import create_database, database_url, drop_database, psql_copy
from bench.kanastra import write
from billing_pipeline_tests.support.s3 import S3Server
from billing_pipeline_tests.support.smtp import SmtpProcess
from billing_pipeline_tests.support.stacks import production_instance_yaml as instance_yaml

BIN = Path(sys.executable).parent
WORKSPACE = Path(__file__).resolve().parents[1] / "billing_pipeline" / "workspace.yaml"


def cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, summed over its cores."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / ticks, sum(fields) / ticks


class ProcessCpu(threading.Thread):
    """Samples every process's CPU time five times a second and sums it by role, so Dagster's share can be told from
    ours and from the database's. A process that ends loses at most its last 0.2 s."""

    def __init__(self, roles: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.roles = roles  # substring of the command line -> role, first match wins
        self.last: dict[int, tuple[str, float]] = {}
        self.peak_rss: dict[str, int] = defaultdict(int)  # KiB, the largest single process of each role
        self.stop = threading.Event()

    def sample(self) -> None:
        ticks = os.sysconf("SC_CLK_TCK")
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                status = (entry / "status").read_text()
            except OSError:
                continue
            role = next((name for key, name in self.roles.items() if key in command), None)
            if role is not None:
                self.last[int(entry.name)] = (role, (int(stat[11]) + int(stat[12])) / ticks)
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_rss[role] = max(self.peak_rss[role], int(line.split()[1]))

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.sample()

    def totals(self, baseline: dict[int, tuple[str, float]]) -> dict[str, float]:
        self.sample()
        result: dict[str, float] = defaultdict(float)
        for pid, (role, seconds) in self.last.items():
            result[role] += seconds - baseline.get(pid, (role, 0.0))[1]
        return dict(result)


def all_stored(connection: psycopg.Connection, rows: int) -> bool:
    """Cheap while chunks are still loading (the chunks table only); exact counts once they all are."""
    loaded, chunks = connection.execute(
        "SELECT count(*) FILTER (WHERE status = 'loaded'), count(*) FROM chunks").fetchone()
    if not chunks or loaded < chunks:
        return False
    return connection.execute(
        "SELECT (SELECT count(*) FROM debts), (SELECT count(*) FROM boletos)").fetchone() == (rows, rows)


def all_sent(connection: psycopg.Connection, rows: int) -> bool:
    return connection.execute("SELECT count(*) FROM outbox WHERE status = 'sent'").fetchone()[0] >= rows


def bare_loop(env: dict[str, str], sink: SmtpProcess, sample: int, connections: int) -> tuple[float, float]:
    """(messages/s, mean KB) of a bare smtplib loop over `connections` connections at once, each sending its share
    of `sample` messages of the file built beforehand exactly as delivery builds them."""
    from billing_pipeline.settings import Settings
    from billing_pipeline.stages import open_store
    from billing_pipeline.stages.notify import attachments_for, message_for
    from billing_pipeline.store import outbox

    settings = Settings.from_env(env)
    engine = open_store(settings)
    with engine.connect() as connection:  # the sample from the first chunks, not the file's 1.1M rows in memory
        keys = connection.exec_driver_sql("SELECT chunk_key FROM chunks ORDER BY chunk_key").scalars().all()
    rows: list = []
    for key in keys:
        rows += outbox.rows_to_send(engine, chunk_key=key, statuses=(outbox.SENT,))[: sample - len(rows)]
        if len(rows) >= sample:
            break
    attachments = attachments_for(engine, settings)
    built = [message_for(row, settings, attachments) for row in rows]
    attachments.close()
    engine.dispose()

    def send(share: list) -> None:
        with smtplib.SMTP("127.0.0.1", sink.port) as connection:
            for message in share:
                connection.sendmail(message.sender, [message.recipient], message.data)

    shares = [built[i::connections] for i in range(connections)]
    threads = [threading.Thread(target=send, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(built) / (time.perf_counter() - started), sum(len(m.data) for m in built) / len(built) / 1024


def sessions(admin_url: str, names: list[str]) -> dict[str, int]:
    """Connections ever opened to each database (PostgreSQL 14+ counts them in pg_stat_database)."""
    with psycopg.connect(admin_url) as connection:
        return dict(connection.execute(
            "SELECT datname, sessions FROM pg_stat_database WHERE datname = ANY(%s)", (names,)).fetchall())


def breakdown(instance: DagsterInstance, dropped_at: float, stopped_at: float, cpu_busy: float,
              by_role: dict[str, float], connections: dict[str, int], peak_rss: dict[str, int],
              stored_at: float | None = None) -> None:
    steps: dict[str, list[float]] = defaultdict(list)
    queued, startup, launching, first_run_created = [], [], [], None
    deliveries_started = 0
    for run in instance.get_runs():
        record = instance.get_run_record_by_id(run.run_id)
        if record.create_timestamp.timestamp() < dropped_at:  # the warm-up file's
            continue
        if run.job_name == "deliver_chunk":
            deliveries_started += bool(record.start_time and record.start_time < (stored_at or stopped_at))
            if stored_at is None:
                continue
        created = record.create_timestamp.timestamp()
        if run.job_name == "ingest_file":
            first_run_created = created
        opened = {}
        first_step = launched = None
        for event in instance.all_logs(run.run_id):
            kind = event.dagster_event.event_type if event.dagster_event else None
            if kind == DagsterEventType.RUN_STARTING:
                launched = launched or event.timestamp
            elif kind == DagsterEventType.STEP_START:
                opened[event.step_key] = event.timestamp
                first_step = first_step or event.timestamp
            elif kind == DagsterEventType.STEP_SUCCESS and event.step_key in opened:
                steps[event.step_key].append(event.timestamp - opened.pop(event.step_key))
        if record.start_time:
            queued.append(record.start_time - created)
            if first_step:
                startup.append(first_step - record.start_time)
            if launched:
                launching.append(record.start_time - launched)
    print("\n| part | value |\n| --- | ---: |")
    if stored_at is not None:
        print(f"| drop → all debts and boletos stored | {stored_at - dropped_at:.1f} s |")
        print(f"| drop → every notice accepted by the SMTP sink | {stopped_at - dropped_at:.1f} s |")
    else:
        print(f"| drop → all debts and boletos stored | {stopped_at - dropped_at:.1f} s |")
    print(f"| CPU busy meanwhile (all processes, {os.cpu_count()} cores) | {cpu_busy:.0f} core-s, "
          f"{cpu_busy / (stopped_at - dropped_at) / os.cpu_count():.0%} |")
    for role, seconds in sorted(by_role.items(), key=lambda item: -item[1]):
        print(f"| CPU of {role} | {seconds:.0f} core-s |")
    for role, kib in sorted(peak_rss.items(), key=lambda item: -item[1]):
        if not role.startswith("PostgreSQL"):
            print(f"| peak RSS of one process: {role} | {kib / 1024:.0f} MiB |")
    print(f"| CPU of everything else | {cpu_busy - sum(by_role.values()):.0f} core-s |")
    for database, count in connections.items():
        print(f"| connections opened to the {database} database | {count:,} |")
    if first_run_created:
        print(f"| sensor latency (drop → ingest run requested) | {first_run_created - dropped_at:.1f} s |")
    for step in ("source_file", "validated_chunk", "debts", "boletos", "boleto_pdfs", "notifications"):
        if steps[step]:
            values = steps[step]
            print(f"| {step}: runs × mean (max) | {len(values)} × {statistics.mean(values):.2f} s "
                  f"({max(values):.2f} s) |")
    if queued:
        print(f"| run queued → run worker up: mean (max) | {statistics.mean(queued):.1f} s ({max(queued):.1f} s) |")
    if launching:
        # A crash in this window leaves a run STARTING until run monitoring's start_timeout_seconds.
        print(f"| run launched → run worker up (STARTING): mean (max) | {statistics.mean(launching):.1f} s "
              f"({max(launching):.1f} s) |")
    if startup:
        print(f"| run worker up → first step: mean | {statistics.mean(startup):.1f} s |")
    print(f"| delivery runs started before every boleto was stored | {deliveries_started} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_100_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--where", choices=("folder", "bucket", "both"), default="folder")
    parser.add_argument("--repeat", type=int, default=1, help="measurements of each, alternating with --where both")
    parser.add_argument("--no-warm-up", dest="warm_up", action="store_false",
                        help="measure the daemon's first runs after its start (its launcher's forkserver cold)")
    parser.add_argument("--files", type=int, default=1, help="drop the rows as this many files at once")
    parser.add_argument("--deliver", action="store_true", help="run the clock until every notice is accepted")
    parser.add_argument("--bare-sample", type=int, default=20_000, help="messages the bare smtplib loop sends")
    args = parser.parse_args()
    if args.files > 1 and args.where != "folder":
        raise SystemExit("--files is measured with --where folder")
    folder = Path(tempfile.mkdtemp(prefix="bench-source-"))
    per_file = args.rows // args.files
    source = [write(folder / f"kanastra-{n:03d}.csv", per_file, seed=n + 1) for n in range(args.files)]
    args.rows = per_file * args.files
    results: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for _ in range(args.repeat):
        for where in (("folder", "bucket") if args.where == "both" else (args.where,)):
            print(f"\n## data in a {where}")
            results[where].append(measure(args, source, where))
    # The yardstick of the same run: PostgreSQL loading the same rows with nothing else, no validation.
    reference = sum(psql_copy(args.admin_url, path) for path in source)
    for where, measured in results.items():
        print(f"\n{where}: drop → debts and boletos {', '.join(f'{seconds:.1f}' for seconds, _ in measured)} s "
              f"(median {statistics.median(s for s, _ in measured):.1f} s); largest pipeline process "
              f"{max(rss for _, rss in measured) / 1024:.0f} MiB")
        print(f"psql \\copy of the same rows in this run: {reference:.1f} s; the median is "
              f"{statistics.median(s for s, _ in measured) / reference:.1f}× that")
    if len(results) == 2:
        folder = statistics.median(s for s, _ in results["folder"])
        bucket = statistics.median(s for s, _ in results["bucket"])
        print(f"bucket / folder (medians): {bucket:.1f} s / {folder:.1f} s = {bucket / folder:.2f}×")


def measure(args: argparse.Namespace, sources: list[Path], where: str) -> tuple[float, int]:
    """Seconds from the drop to every debt and boleto stored, and the peak RSS of the largest process (KiB)."""
    work = Path(tempfile.mkdtemp(prefix="bench-daemon-"))
    home, data = work / "dagster_home", work / "data"
    home.mkdir()
    (home / "dagster.yaml").write_text(instance_yaml(home), encoding="utf-8")
    server = bucket = None
    if where == "bucket":
        server = S3Server(work / "s3").start()
        bucket = server.create_bucket("bench")
    instance_db, store_db = create_database(args.admin_url), create_database(args.admin_url)
    store_url = database_url(args.admin_url, store_db)
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_POSTGRES_USER": "postgres",
           "DAGSTER_POSTGRES_PASSWORD": "trust", "DAGSTER_POSTGRES_HOST": "127.0.0.1",
           "DAGSTER_POSTGRES_PORT": "5432", "DAGSTER_POSTGRES_DB": instance_db,
           "BILLING_DATA_DIR": str(data), "BILLING_DATABASE_URL": store_url.replace("postgresql://", "postgresql+psycopg://"),
           "BILLING_GOVERNMENT_ID_POLICY": "lenient", "BILLING_CHUNK_ROWS": str(args.chunk_rows),
           "BILLING_INBOX_POLL_SECONDS": "1"}
    if server is not None:
        env.update(server.env(), BILLING_DATA_DIR=f"s3://{bucket}/data")
    sink = None
    if args.deliver:
        sink = SmtpProcess()
        sink.start()
        env.update(BILLING_SMTP_URL=sink.url, BILLING_SMTP_RATE="0")
    daemon = None
    try:
        subprocess.run([str(BIN / "billing"), "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([str(BIN / "billing"), "pools"], env=env, check=True, capture_output=True)
        daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", str(WORKSPACE)],
                                  env=env, cwd=work, stdout=open(work / "daemon.log", "wb"),  # noqa: SIM115
                                  stderr=subprocess.STDOUT, start_new_session=True)
        time.sleep(20)  # the daemon and its code server are up, as in production
        inbox = data / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        if args.warm_up and server is None:
            # A daemon in service has launched runs before: its run launcher's forkserver is up (the first launch
            # after a start pays its imports, ~1.5-5 s). A 10-row file, stored before the clock starts, does that.
            warm = write(work / "warm-up.csv", 10, seed=999)
            os.replace(warm, inbox / "warm-up.csv")
            with psycopg.connect(store_url, autocommit=True) as store:
                deadline = time.monotonic() + 300
                while time.monotonic() < deadline:
                    with contextlib.suppress(psycopg.errors.UndefinedTable):
                        if all_stored(store, 10):
                            break
                    time.sleep(0.5)
            args.rows_before = 10
        else:
            args.rows_before = 0
        staged = [inbox / f".{source.name}.part" for source in sources]
        if server is None:
            for source, part in zip(sources, staged, strict=True):
                os.link(source, part) if source.stat().st_dev == inbox.stat().st_dev else part.write_bytes(
                    source.read_bytes())
        processes = ProcessCpu({
            "bin/weed ": "SeaweedFS (the S3 server)",
            "multiprocessing": "run workers (spawned by the code server)",
            "execute_run": "run workers (dagster api execute_run)",
            "dagster api grpc": "code server (dagster api grpc)",
            "dagster-daemon": "dagster-daemon",
            f"{instance_db} ": "PostgreSQL backends, Dagster instance DB",
            f"{store_db} ": "PostgreSQL backends, billing store DB",
            "postgres": "PostgreSQL, other processes",
            "watch_orphans": "run workers' orphan watchers",
            "bench.daemon_ingest": "this benchmark (polling, sampling)",
        })
        processes.sample()
        baseline = dict(processes.last)
        sessions_before = sessions(args.admin_url, [instance_db, store_db])
        processes.start()
        if server is not None:  # the object is visible, whole, once its PUT returns
            server.client().upload_file(str(sources[0]), bucket, "data/inbox/kanastra.csv")
            dropped_at, (busy_before, _) = time.time(), cpu_seconds()
        else:
            dropped_at, (busy_before, _) = time.time(), cpu_seconds()
            for source, part in zip(sources, staged, strict=True):  # all at once
                part.rename(inbox / source.name)
        deadline = time.monotonic() + args.timeout
        stored_at = None
        with psycopg.connect(store_url, autocommit=True) as store:
            while time.monotonic() < deadline:
                try:
                    if stored_at is None and all_stored(store, args.rows + args.rows_before):
                        stored_at = time.time()
                    if stored_at is not None and (not args.deliver or all_sent(store, args.rows + args.rows_before)):
                        break
                except psycopg.errors.UndefinedTable:
                    pass
                time.sleep(0.5)
            else:
                raise SystemExit(f"timed out; see {work / 'daemon.log'}")
            stopped_at, (busy_after, _) = time.time(), cpu_seconds()
            if len(sources) > 1:  # starvation: when each file's last chunk was loaded, counted from the drop
                done = sorted(row[0] - dropped_at for row in store.execute(
                    "SELECT extract(epoch FROM max(c.loaded_at))::float FROM chunks c JOIN source_files f USING (file_id)"
                    " WHERE f.original_name <> 'warm-up.csv' GROUP BY c.file_id").fetchall())
                print(f"files' debts all loaded, s after the drop: first {done[0]:.1f}, median "
                      f"{statistics.median(done):.1f}, last {done[-1]:.1f} ({len(done)} files)")
        processes.stop.set()
        by_role = processes.totals(baseline)
        sessions_after = sessions(args.admin_url, [instance_db, store_db])
        connections = {role: sessions_after.get(name, 0) - sessions_before.get(name, 0)
                  for role, name in (("Dagster instance", instance_db), ("billing store", store_db))}
        os.environ.update({k: v for k, v in env.items() if k.startswith("DAGSTER_POSTGRES_")})
        with DagsterInstance.from_config(str(home)) as instance:
            breakdown(instance, dropped_at, stopped_at, busy_after - busy_before, by_role, connections,
                      dict(processes.peak_rss), stored_at if args.deliver else None)
        if sink is not None:
            os.killpg(daemon.pid, signal.SIGTERM)
            daemon.wait(timeout=120)
            daemon = None
            delivery_seconds = stopped_at - stored_at
            connections_allowed = 2  # the smtp pool's default limit (billing_pipeline/instance/pools.py)
            bare, size = bare_loop(env, sink, args.bare_sample, connections_allowed)
            ours = args.rows / (stopped_at - dropped_at)
            print(f"| notices/s over the whole file, drop → last accepted | {ours:,.0f} |")
            print(f"| notices/s after every boleto was stored (stored → last accepted, {delivery_seconds:.0f} s) | "
                  f"{args.rows / delivery_seconds:,.0f} |")
            print(f"| bare smtplib loop, {args.bare_sample:,} pre-built messages of {size:.1f} KB, "
                  f"{connections_allowed} connections | {bare:,.0f} /s |")
            print(f"| delivery / bare loop (whole file) | {ours / bare:.2f} |")
        largest = max(kib for role, kib in processes.peak_rss.items()
                      if not role.startswith(("PostgreSQL", "SeaweedFS", "this benchmark")))
        return stopped_at - dropped_at, largest
    finally:
        if daemon is not None:
            os.killpg(daemon.pid, signal.SIGTERM)
            daemon.wait(timeout=120)
        # Run workers still rendering PDFs or writing notices, and their code server, go too.
        subprocess.run(["pkill", "-9", "-f", str(work)], check=False)
        for name in (instance_db, store_db):
            drop_database(args.admin_url, name)
        if server is not None:
            server.stop()
        if sink is not None:
            sink.stop()


if __name__ == "__main__":
    main()
