"""s3fs (through universal_pathlib's UPath, as billing_pipeline/storage does it) against obstore, on what Smart
Billing does with a bucket, against a real S3 server: SeaweedFS `weed mini` (billing_pipeline_tests/support/s3.py)
on loopback.

    .venv/bin/python -m bench.object_store [--rows 1100000] [--repetitions 3]

The operations, on a Kanastra-format file of `--rows` rows (1.1M: 102 MB):

- register: the sha256 of the object read as a stream (1 MiB reads);
- chunk reads: 11 ranged GETs at increasing offsets, the whole object in ~9.3 MB ranges;
- split: one full sequential read, opened as a file object and read line by line through a 1 MiB buffer;
  the same with each library's own file object's readline() (no io.BufferedReader), for what a naive port costs;
- reports and rejects: 50 PUTs of 200 KB; PDF zips: 5 PUTs of 20 MB (both uploaded from local files);
- archive: a server-side copy of the object, then its deletion;
- the inbox sensor: a listing of 3,000 keys under one prefix.

s3fs is used as billing_pipeline/storage/objects.py uses it: `fs.open(block_size=8 MiB, cache_type="readahead")`
under an io.BufferedReader of 1 MiB, `cat_file(start, end)`, `put_file`, `copy(CopySourceIfMatch=etag)`,
`rm_file`, `ls(refresh=True)`. obstore with its defaults: one streaming GET (chunks of at least 8 MiB) for the
sequential reads (under the same io.BufferedReader for the lines), `get_range`, `put` of a local Path (multipart
above 5 MiB, 12 parts at once), `copy` (obstore has no copy-if-source-matches), `delete`, `list_with_delimiter`.

Every repetition of every (library, operation) runs in a fresh process, so its peak RSS is its own; both libraries
read their configuration (credentials, endpoint) from the AWS_* variables the server gives. The time excludes the
interpreter, the imports and the client's construction. Repetitions are interleaved (s3fs, obstore, obstore,
s3fs, ...), the median counts. Prints a markdown table; nothing is asserted beyond the results being right.

The readline row takes about 5 minutes per repetition with s3fs (fsspec's readline reads a whole block per line);
`--operations sha256 ranges lines put_small put_large copy list` leaves it out.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

READ_BLOCK = 8 << 20  # billing_pipeline/storage/objects.py: a sequential read of an object in 8 MiB GETs
LOCAL_READ_BUFFER = 1 << 20  # ... under a 1 MiB io.BufferedReader
HASH_BLOCK = 1 << 20  # billing_pipeline/ingest/inbox.py: sha256 over 1 MiB reads
RANGES = 11
SMALL_PUTS, SMALL_SIZE = 50, 200_000
LARGE_PUTS, LARGE_SIZE = 5, 20_000_000
LISTED_KEYS = 3000

SOURCE = "inbox/kanastra.csv"
LIBRARIES = ("s3fs", "obstore")
OPERATIONS = {  # name -> the table's label
    "sha256": "sha256 of the object, streamed (register)",
    "ranges": f"{RANGES} ranged GETs at increasing offsets (chunk reads)",
    "lines": "full read as a file object, line by line, 1 MiB io.BufferedReader (split)",
    "readline": "same, the library's own file object's readline(), 8 MiB blocks",
    "put_small": f"{SMALL_PUTS} PUTs of {SMALL_SIZE // 1000} KB (reports, rejects)",
    "put_large": f"{LARGE_PUTS} PUTs of {LARGE_SIZE // 1_000_000} MB (PDF zips)",
    "copy": "server-side copy of the object, then delete (archive)",
    "list": f"listing of {LISTED_KEYS:,} keys under one prefix (inbox sensor)",
}


def ranges(size: int) -> list[tuple[int, int]]:
    """[start, end) of RANGES ranges covering the object, at increasing offsets."""
    bounds = [size * n // RANGES for n in range(RANGES + 1)]
    return list(zip(bounds, bounds[1:], strict=False))


def local_files(work: Path, operation: str) -> list[Path]:
    prefix, count = ("small", SMALL_PUTS) if operation == "put_small" else ("large", LARGE_PUTS)
    return [work / f"{prefix}-{n:02d}.bin" for n in range(count)]


# --- the worker: one repetition of one operation with one library, in a process of its own ---


class _ChunkReader(io.RawIOBase):
    """A raw binary stream over an iterator of buffers (obstore's GET stream), for io.BufferedReader."""

    def __init__(self, chunks: Iterable) -> None:
        self._chunks: Iterator = iter(chunks)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001 - a writable buffer
        while not self._pending:
            try:
                self._pending = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def s3fs_operations(bucket: str, work: Path, rep: int, size: int) -> dict[str, Callable[[], object]]:
    from upath import UPath

    fs = UPath(f"s3://{bucket}").fs  # s3fs, configured from the AWS_* environment
    fs.connect()
    source = f"{bucket}/{SOURCE}"

    def stream():
        raw = fs.open(source, "rb", block_size=READ_BLOCK, cache_type="readahead")
        return io.BufferedReader(raw, buffer_size=LOCAL_READ_BUFFER)

    def sha256() -> str:
        digest = hashlib.sha256()
        with stream() as reader:
            while block := reader.read(HASH_BLOCK):
                digest.update(block)
        return digest.hexdigest()

    def lines() -> int:
        with stream() as reader:
            return sum(1 for _ in reader)

    def readline() -> int:
        count = 0
        with fs.open(source, "rb", block_size=READ_BLOCK, cache_type="readahead") as reader:
            while reader.readline():
                count += 1
        return count

    def put(operation: str) -> int:
        for path in local_files(work, operation):
            fs.put_file(str(path), f"{bucket}/put/s3fs-{rep}/{path.name}")
        return len(local_files(work, operation))

    etag = fs.info(source)["ETag"]

    def copy() -> str:
        target = f"{bucket}/archive/s3fs-{rep}.csv"
        fs.copy(source, target, CopySourceIfMatch=etag)
        fs.rm_file(target)
        return "copied"

    return {
        "sha256": sha256,
        "ranges": lambda: sum(len(fs.cat_file(source, start=start, end=end)) for start, end in ranges(size)),
        "lines": lines,
        "readline": readline,
        "put_small": lambda: put("put_small"),
        "put_large": lambda: put("put_large"),
        "copy": copy,
        "list": lambda: len(fs.ls(f"{bucket}/listing", detail=True, refresh=True)),
    }


def obstore_operations(bucket: str, work: Path, rep: int, size: int) -> dict[str, Callable[[], object]]:
    import obstore
    from obstore.store import S3Store

    store = S3Store(bucket)  # configured from the AWS_* environment (AWS_ALLOW_HTTP=true for http://)

    def chunks():
        return obstore.get(store, SOURCE).stream(min_chunk_size=READ_BLOCK)

    def sha256() -> str:
        digest = hashlib.sha256()
        for chunk in chunks():
            digest.update(chunk)
        return digest.hexdigest()

    def lines() -> int:
        with io.BufferedReader(_ChunkReader(chunks()), buffer_size=LOCAL_READ_BUFFER) as reader:
            return sum(1 for _ in reader)

    def readline() -> int:
        count = 0
        reader = obstore.open_reader(store, SOURCE, buffer_size=READ_BLOCK)
        while reader.readline():
            count += 1
        reader.close()
        return count

    def put(operation: str) -> int:
        for path in local_files(work, operation):
            obstore.put(store, f"put/obstore-{rep}/{path.name}", path)
        return len(local_files(work, operation))

    def copy() -> str:
        target = f"archive/obstore-{rep}.csv"
        obstore.copy(store, SOURCE, target)
        obstore.delete(store, target)
        return "copied"

    return {
        "sha256": sha256,
        "ranges": lambda: sum(len(obstore.get_range(store, SOURCE, start=start, end=end))
                              for start, end in ranges(size)),
        "lines": lines,
        "readline": readline,
        "put_small": lambda: put("put_small"),
        "put_large": lambda: put("put_large"),
        "copy": copy,
        "list": lambda: len(obstore.list_with_delimiter(store, "listing/")["objects"]),
    }


def peak_rss_mib() -> float:
    """This process's peak RSS. Not getrusage's ru_maxrss: Linux keeps that across execve, so a child would report
    its parent's peak; VmHWM starts afresh with the exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status")


def worker(library: str, operation: str, rep: int) -> None:
    bucket, work, size = os.environ["BENCH_BUCKET"], Path(os.environ["BENCH_WORK"]), int(os.environ["BENCH_SIZE"])
    build = s3fs_operations if library == "s3fs" else obstore_operations
    run = build(bucket, work, rep, size)[operation]
    before = peak_rss_mib()
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "result": result, "rss_before": before, "peak_rss": peak_rss_mib()}))


# --- the driver ---


def prepare(server, bucket: str, work: Path, rows: int) -> tuple[int, str, int]:
    """The source object, the 3,000 keys to list and the local files to PUT; returns the object's size, sha256
    and line count."""
    from bench.kanastra import write

    source = write(work / "kanastra.csv", rows)
    digest = hashlib.sha256()
    with open(source, "rb") as stream:
        while block := stream.read(HASH_BLOCK):
            digest.update(block)
    client = server.client()
    client.upload_file(str(source), bucket, SOURCE)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda n: client.put_object(Bucket=bucket, Key=f"listing/{n:05d}.csv", Body=b"x"),
                      range(LISTED_KEYS)))
    for operation, size in (("put_small", SMALL_SIZE), ("put_large", LARGE_SIZE)):
        for path in local_files(work, operation):
            path.write_bytes(os.urandom(size))  # PDFs and zips do not compress further
    lines = rows + 1  # the header
    return source.stat().st_size, digest.hexdigest(), lines


def run_worker(library: str, operation: str, rep: int, env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.object_store", "--worker", library, operation, str(rep)],
                          env=env, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0:
        raise RuntimeError(f"{library} {operation} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_100_000)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--operations", nargs="*", choices=list(OPERATIONS), default=list(OPERATIONS))
    parser.add_argument("--worker", nargs=3, metavar=("LIBRARY", "OPERATION", "REP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        library, operation, rep = args.worker
        worker(library, operation, int(rep))
        return

    from billing_pipeline_tests.support.s3 import S3Server

    work = Path(tempfile.mkdtemp(prefix="bench-s3-"))
    server = S3Server(work / "s3")
    try:
        started = time.perf_counter()
        server.start()
        print(f"SeaweedFS ready in {time.perf_counter() - started:.1f} s on {server.endpoint}", flush=True)
        bucket = server.create_bucket("bench")
        size, digest, line_count = prepare(server, bucket, work, args.rows)
        print(f"{args.rows:,} rows, {size / 1e6:.1f} MB; {os.cpu_count()} CPUs (SeaweedFS and the client share "
              f"them)", flush=True)
        env = {**os.environ, **server.env(), "BENCH_BUCKET": bucket, "BENCH_WORK": str(work),
               "BENCH_SIZE": str(size)}
        expected = {"sha256": digest, "ranges": size, "lines": line_count, "readline": line_count,
                    "put_small": SMALL_PUTS, "put_large": LARGE_PUTS, "copy": "copied", "list": LISTED_KEYS}
        results: dict[tuple[str, str], list[dict]] = {}
        for rep in range(args.repetitions):
            order = LIBRARIES if rep % 2 == 0 else LIBRARIES[::-1]
            for operation in args.operations:
                for library in order:
                    outcome = run_worker(library, operation, rep, env)
                    if outcome["result"] != expected[operation]:
                        raise AssertionError(f"{library} {operation}: {outcome['result']!r}, expected "
                                             f"{expected[operation]!r}")
                    results.setdefault((library, operation), []).append(outcome)
                    print(f"  rep {rep + 1} {library:<8}{operation:<10}{outcome['seconds']:8.3f} s "
                          f"{outcome['peak_rss']:6.0f} MiB", file=sys.stderr, flush=True)
        report(results, args.operations, args.repetitions)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def report(results: dict[tuple[str, str], list[dict]], operations: list[str], repetitions: int) -> None:
    def median(library: str, operation: str) -> float:
        return statistics.median(r["seconds"] for r in results[library, operation])

    def peak(library: str, operation: str) -> float:
        return max(r["peak_rss"] for r in results[library, operation])

    print()
    print("| operation | s3fs s | obstore s | obstore / s3fs | s3fs peak RSS MiB | obstore peak RSS MiB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for operation in operations:
        s3fs, obstore = median("s3fs", operation), median("obstore", operation)
        print(f"| {OPERATIONS[operation]} | {s3fs:.3f} | {obstore:.3f} | {obstore / s3fs:.2f} | "
              f"{peak('s3fs', operation):.0f} | {peak('obstore', operation):.0f} |")
    baseline = {library: max(r["rss_before"] for op in operations for r in results[library, op])
                for library in LIBRARIES}
    print()
    print(f"Median of {repetitions} interleaved repetitions, each in a fresh process. RSS before the operation "
          f"(interpreter, imports, client): s3fs {baseline['s3fs']:.0f} MiB, obstore {baseline['obstore']:.0f} MiB.")


if __name__ == "__main__":
    main()
