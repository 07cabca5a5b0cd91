"""The HTTP API as an operator runs it: `billing api` in a process of its own, on a free loopback port, with an
httpx client that carries a bearer token.

    server = ApiServer.for_settings(settings, tmp_path, tokens=("test-token",)).start()
    server.client().post("/files", files={"file": open(path, "rb")})
    server.stop()
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from billing_pipeline.settings import Settings

from .paths import BIN
from .ports import free_port
from .processes import child_environment, start_logged, stop_process_group
from .waiting import wait_for

START_TIMEOUT = 60


def settings_environment(settings: Settings, **variables: str) -> dict[str, str]:
    """The environment a child process reads `settings` from (the paths and the store), plus `variables`."""
    return child_environment(BILLING_DATA_DIR=str(settings.data_dir), BILLING_INBOX=str(settings.inbox_dir),
                             BILLING_DATABASE_URL=settings.database_url,
                             BILLING_CHUNK_ROWS=str(settings.chunk_rows), **variables)


class ApiServer:
    def __init__(self, env: dict[str, str], cwd: Path, log: Path, token: str | None = None,
                 host: str = "127.0.0.1"):
        self.env, self.cwd, self.log, self.token, self.host = env, cwd, log, token, host
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @classmethod
    def for_settings(cls, settings: Settings, folder: Path, tokens: tuple[str, ...] = ("test-token",),
                     **variables: str) -> ApiServer:
        env = settings_environment(settings, BILLING_API_TOKENS=",".join(tokens), **variables)
        return cls(env, folder, folder / "api.log", tokens[0] if tokens else None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *extra_args: str) -> ApiServer:
        self.process = start_logged([str(BIN / "billing"), "api", "--host", self.host, "--port", str(self.port),
                                     *extra_args], env=self.env, cwd=self.cwd, log=self.log)
        wait_for(self._answers, f"the API on port {self.port}", timeout=START_TIMEOUT, every=0.2, log=self.log)
        return self

    def _answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"billing api exited with {self.process.returncode}:\n{self.log.read_text()}")
        try:
            return httpx.get(f"{self.url}/health", timeout=2).status_code in (200, 503)
        except httpx.TransportError:
            return False

    def client(self, token: str | None = "", timeout: float = 120) -> httpx.Client:
        """A client of the API; with the server's token unless another one (or None: no token) is given."""
        chosen = self.token if token == "" else token
        headers = {"Authorization": f"Bearer {chosen}"} if chosen else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process)
            self.process = None

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
