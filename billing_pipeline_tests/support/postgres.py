"""PostgreSQL for the tests: throw-away databases on the test server, a cluster of a test's own that it may stop and
restart, and locks that hold a step inside the store.

The test server is BILLING_TEST_DATABASE_URL, by default the local one (127.0.0.1:5432, user postgres, trust).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from .ports import free_port

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def plain_url(url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://) as psycopg and libpq take it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def store_url(url: str) -> str:
    """A libpq URL as the store's settings take it (psycopg 3 through SQLAlchemy)."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def admin_url() -> str:
    return plain_url(os.environ.get("BILLING_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL))


def unreachable(url: str) -> str | None:
    """Why the server at `url` cannot be reached, or None when it can."""
    try:
        with psycopg.connect(url, connect_timeout=5):
            return None
    except psycopg.OperationalError as error:
        return f"PostgreSQL at {url} is not reachable: {error}"


class PostgresServer:
    """Creates databases on the test server and drops them when the session ends."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.created: list[str] = []

    def create_database(self, prefix: str = "billing_test") -> str:
        """A new empty database; its URL as the store's settings take it."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        base, _, _ = self.admin_url.rpartition("/")
        return store_url(f"{base}/{name}")

    def drop_all(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            for name in self.created:
                connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def postgres_bin_dir() -> Path | None:
    """The server binaries (initdb, pg_ctl), which Debian keeps out of PATH."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return candidates[0].parent if candidates else None


class PrivateCluster:
    """A PostgreSQL cluster of the test's own (initdb into a temp dir, a free port) that a test may stop and
    restart."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        # Not under pytest's tmp_path: that is private to root, and the server must not run as root.
        self.root = Path(tempfile.mkdtemp(prefix="billing-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, user="postgres", group="postgres")

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(plain_url(self.url()), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class TableLock:
    """A SHARE lock on a table (reads pass, writes wait), held by a connection of its own until released: a step
    that writes the table stops inside the store, where a test can kill it or its server."""

    def __init__(self, url: str, table: str):
        self.connection = psycopg.connect(plain_url(url), autocommit=True)
        self.connection.execute("BEGIN")
        self.connection.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(sql.Identifier(table)))

    def release(self) -> None:
        """Lets the writers through (again and again, harmlessly; also when the server went away meanwhile)."""
        if not self.connection.closed:
            with contextlib.suppress(psycopg.OperationalError):
                self.connection.execute("ROLLBACK")
            self.connection.close()

    def __enter__(self) -> TableLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def waiting_on_a_lock(url: str, *statement_prefixes: str) -> int:
    """How many statements that start with one of `statement_prefixes` wait on a lock in `url`'s database. Asked on
    a connection of its own: a lock holder's transaction sees a frozen pg_stat_activity."""
    with psycopg.connect(plain_url(url), autocommit=True) as observer:
        return observer.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            " AND query LIKE ANY(%s)", ([prefix + "%" for prefix in statement_prefixes],)
        ).fetchone()[0]
