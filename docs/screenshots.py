"""Take the UI screenshots of docs/images from a real run: the asset lineage, a file report, a chunk's checks, its
rejects, a file's runs, a re-drop, a file rejected whole, and the runs of a file whose processing a crash
interrupted.

    apt-get install chromium          # Debian's package, run headless
    .venv/bin/python docs/screenshots.py

It processes a 5,000-row sample (2% bad rows) through the real daemon on the embedded default (SQLite, file
outbox) in a temporary folder, then points headless Chromium at the Dagster webserver. Then it drops a second
file and SIGKILLs the daemon, its code server and their run workers while chunks are being stored, starts the
daemon again and photographs the dead run that run monitoring failed and its retry.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script, sys.path starts at docs/
    sys.path.insert(0, str(ROOT))

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter  # noqa: E402

from billing_pipeline.cli import WORKSPACE_YAML  # noqa: E402
from billing_pipeline_tests.support.paths import BIN  # noqa: E402
from billing_pipeline_tests.support.ports import free_port  # noqa: E402
from billing_pipeline_tests.support.waiting import wait_for  # noqa: E402
from billing_pipeline_tests.support.webserver import server_info  # noqa: E402

IMAGES = ROOT / "docs" / "images"
WORKSPACE = str(WORKSPACE_YAML)  # the code location `billing_pipeline`, as `billing dev` names it


def shoot(chromium: str, url: str, target: Path, height: int) -> None:
    subprocess.run(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--window-size=1600,{height}", "--virtual-time-budget=20000", f"--screenshot={target}", url],
        check=True, capture_output=True, timeout=120,
    )
    print(f"wrote {target.relative_to(ROOT)} ({target.stat().st_size // 1024} KiB) from {url}")


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("error: chromium not found; install Debian's package: apt-get install chromium", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="billing-screenshots-"))
    home, data = work / "dagster_home", work / "data"
    home.mkdir()
    shutil.copyfile(ROOT / "billing_pipeline" / "dagster_embedded.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "BILLING_DATA_DIR": str(data),
           "BILLING_INBOX_POLL_SECONDS": "1", "BILLING_CHUNK_ROWS": "2000"}
    env.pop("BILLING_DATABASE_URL", None)  # the embedded default: SQLite under the data folder

    def billing(*args: str) -> None:
        subprocess.run([str(BIN / "billing"), *args], env=env, check=True, capture_output=True)

    billing("db", "upgrade")
    billing("pools")
    sample = work / "debts-2026-11.csv"
    billing("sample", "--rows", "5000", "--seed", "3", "--invalid-rate", "0.02", "-o", str(sample))
    port = free_port()
    log = open(work / "dagster.log", "wb")  # noqa: SIM115 - lives as long as the processes

    def daemon() -> subprocess.Popen:
        return subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", WORKSPACE], env=env, cwd=work, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    processes = [
        daemon(),
        subprocess.Popen([str(BIN / "dagster-webserver"), "-w", WORKSPACE, "-h", "127.0.0.1", "-p", str(port)],
                         env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT, start_new_session=True),
    ]
    try:
        billing("submit", str(sample))
        reports = data / "reports"
        wait_for(lambda: reports.exists() and any(reports.glob("*.json")), "the file report")
        report_path = next(reports.glob("*.json"))
        file_id = json.loads(report_path.read_text(encoding="utf-8"))["file_id"]
        ui = f"http://127.0.0.1:{port}"
        wait_for(lambda: server_info(ui), "the webserver")
        IMAGES.mkdir(parents=True, exist_ok=True)
        shoot(chromium, f"{ui}/assets/debts?view=lineage&lineageScope=neighbors&lineageDepth=6",
              IMAGES / "ui-asset-lineage.png", 700)
        shoot(chromium, f"{ui}/assets/file_report?partition={file_id}", IMAGES / "ui-file-report.png", 1400)
        chunk = f"{file_id[:12]}-0000"
        shoot(chromium, f"{ui}/assets/debts?view=checks&partition={chunk}", IMAGES / "ui-debts-checks.png", 900)
        shoot(chromium, f"{ui}/runs?q%5B0%5D=tag%3Abilling%2Ffile_id%3D{file_id}", IMAGES / "ui-file-runs.png", 700)
        shoot(chromium, f"{ui}/assets/validated_chunk?view=partitions&partition={chunk}",
              IMAGES / "ui-chunk-rejects.png", 1300)

        # The same bytes dropped again under another name, and a file rejected whole (a semicolon header).
        redrop = data / "inbox" / "debts-2026-11-resent.csv"
        shutil.copyfile(sample, redrop.with_name(".resent.part"))
        redrop.with_name(".resent.part").rename(redrop)
        rejected = work / "debts-semicolons.csv"
        rejected.write_text("name;governmentId;email;debtAmount;debtDueDate;debtId\n"
                            + "".join(f"Ana {n};1;ana@example.com;1.00;2026-12-01;x\n" for n in range(50)))
        billing("submit", str(rejected))
        wait_for(lambda: len(list(reports.glob("*.json"))) == 2, "the rejected file's report")
        rejected_id = next(json.loads(p.read_text(encoding="utf-8"))["file_id"] for p in reports.glob("*.json")
                           if p.stem != file_id)
        shoot(chromium, f"{ui}/assets/source_file?view=partitions&partition={rejected_id}",
              IMAGES / "ui-rejected-file.png", 1100)
        shoot(chromium, f"{ui}/assets/source_file?view=events&partition={file_id}", IMAGES / "ui-redrop.png", 800)

        # A crash while the next file's chunks are stored: the daemon, its code server and the run workers die
        # at once (one process group), so no process is left to report the runs' deaths.
        second = work / "debts-2026-12.csv"
        billing("sample", "--rows", "20000", "--seed", "4", "-o", str(second))
        instance = DagsterInstance.from_config(str(home))
        storing = RunsFilter(job_name="process_chunk", statuses=[DagsterRunStatus.STARTED])
        billing("submit", str(second))
        wait_for(lambda: instance.get_runs(storing), "a chunk run to be storing", every=0.2)
        victim = instance.get_runs(storing)[0]
        os.killpg(processes[0].pid, signal.SIGKILL)
        processes[0].wait()
        processes[0] = daemon()
        retried = RunsFilter(tags={"dagster/parent_run_id": victim.run_id}, statuses=[DagsterRunStatus.SUCCESS])
        wait_for(lambda: instance.get_runs(retried), "the dead run's retry to succeed")
        wait_for(lambda: len(list(reports.glob("*.json"))) == 3, "the second file's report")
        partition = victim.tags["dagster/partition"]
        shoot(chromium, f"{ui}/runs?q%5B0%5D=tag%3Adagster%2Fpartition%3D{partition}", IMAGES / "ui-crash-runs.png",
              500)
        shoot(chromium, f"{ui}/runs/{victim.run_id}?logs=type%3ARUN_FAILURE", IMAGES / "ui-crash-failed-run.png", 900)
        instance.dispose()
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        log.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
