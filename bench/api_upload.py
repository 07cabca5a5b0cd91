"""A Kanastra-format file uploaded through the real `billing api` (uvicorn) on loopback, against a `cp` of the same
file into the inbox, with the API server's memory.

    .venv/bin/python -m bench.api_upload [--rows 1100000] [--repetitions 5]

Each repetition, interleaved: `cp FILE <inbox>/`, then POST /files with the file as a raw text/csv body and as a
multipart `file=` part, each from curl (a light client, so that the client's CPU is not what is measured on two
cores; its own `time_total`, which leaves out its start-up) and from httpx (the Python client the tests use,
streaming the file; the wall time of the call). `cp` is timed whole, start-up included. Every upload is of new bytes to the
API: what it published is removed from the inbox before the next one, as the sensor would. The page cache holds
the file throughout (it is read once before the first timing), so `cp` is the cost of writing it.

The API server's RSS is sampled every 10 ms (its process alone: uvicorn runs in one) from before the first upload to
after the last; the growth is the peak minus the RSS after start-up. Prints a markdown table; nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

from billing_pipeline.settings import Settings
from billing_pipeline_tests.support.api_server import ApiServer

TOKEN = "bench-token"


class RssSampler:
    def __init__(self, pid: int, every: float = 0.01):
        self.process, self.every = psutil.Process(pid), every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed(action: Callable[[], object]) -> float:
    """The seconds the action reports (curl), else those it took."""
    started = time.perf_counter()
    reported = action()
    return reported if isinstance(reported, float) else time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_100_000)
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-api-") as scratch:
        folder = Path(scratch)
        source = folder / "kanastra.csv"
        subprocess.run([sys.executable, "-m", "bench.kanastra", "--rows", str(args.rows), "-o", str(source)],
                       check=True, stdout=subprocess.DEVNULL)
        source.read_bytes()  # into the page cache for every contender alike
        settings = Settings.from_env({}, data_dir=folder / "data")
        settings.ensure_dirs()
        inbox = Path(settings.inbox_dir)
        server = ApiServer.for_settings(settings, folder, tokens=(TOKEN,)).start()
        url = f"{server.url}/files"
        auth = f"Authorization: Bearer {TOKEN}"

        def emptied() -> None:
            for path in inbox.iterdir():
                path.unlink()

        def cp() -> None:
            subprocess.run(["cp", str(source), str(inbox / "kanastra.csv")], check=True)

        def curl(*form: str) -> Callable[[], float]:
            def upload() -> float:
                # curl's own time_total: the request, not curl's start-up (it links a dozen libraries).
                result = subprocess.run(["curl", "-sS", "-f", "-o", "/dev/null", "-w", "%{time_total}", "-H", auth,
                                         *form, url], check=True, capture_output=True, text=True)
                return float(result.stdout)

            return upload

        def httpx_raw() -> None:
            with open(source, "rb") as body:
                response = httpx.post(url, content=body, headers={"Authorization": f"Bearer {TOKEN}",
                                                                  "content-type": "text/csv"}, timeout=300)
            assert response.status_code == 202, response.text

        def httpx_multipart() -> None:
            with open(source, "rb") as body:
                response = httpx.post(url, files={"file": ("kanastra.csv", body, "text/csv")},
                                      headers={"Authorization": f"Bearer {TOKEN}"}, timeout=300)
            assert response.status_code == 202, response.text

        contenders: dict[str, Callable[[], object]] = {
            "cp into the inbox": cp,
            # -T streams the file (--data-binary would read it whole into curl's memory first).
            "curl, raw text/csv body (-T FILE -X POST)": curl("-H", "content-type: text/csv", "-H", "Expect:",
                                                             "-T", str(source), "-X", "POST"),
            "curl, multipart (-F file=@...)": curl("-H", "Expect:", "-F", f"file=@{source};type=text/csv"),
            "httpx, raw body streamed": httpx_raw,
            "httpx, multipart": httpx_multipart,
        }
        times: dict[str, list[float]] = {name: [] for name in contenders}
        rss_at_start = psutil.Process(server.process.pid).memory_info().rss
        with RssSampler(server.process.pid) as sampler:
            for repetition in range(args.repetitions):
                order = list(contenders) if repetition % 2 == 0 else list(reversed(contenders))
                for name in order:
                    emptied()
                    times[name].append(timed(contenders[name]))
        emptied()
        server.stop()

    baseline = statistics.median(times["cp into the inbox"])
    print(f"{args.rows:,} rows, {args.repetitions} interleaved repetitions, median seconds")
    print()
    print("| upload | median s | min s | × cp |")
    print("| --- | ---: | ---: | ---: |")
    for name, measured in times.items():
        median = statistics.median(measured)
        print(f"| {name} | {median:.3f} | {min(measured):.3f} | {median / baseline:.2f} |")
    print()
    print(f"API server RSS: {rss_at_start / 2**20:.0f} MiB after start-up, {sampler.peak / 2**20:.0f} MiB at peak: "
          f"+{(sampler.peak - rss_at_start) / 2**20:.1f} MiB over {sum(map(len, times.values())) - args.repetitions}"
          " uploads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
