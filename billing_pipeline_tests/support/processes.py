"""Child processes of the tests: the environment they get, their log, and stopping them with all they spawned."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

import psutil


def child_environment(**variables: str) -> dict[str, str]:
    """This process's environment without the developer's BILLING_* and DAGSTER_* settings, plus `variables`: a
    child reads only what its test gives it."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("BILLING_", "DAGSTER_"))}
    environment.update(variables)
    return environment


def start_logged(command: Sequence[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    """Starts `command` in a session (a process group) of its own, its output and errors appended to `log`."""
    with open(log, "ab") as output:
        return subprocess.Popen(list(command), env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop_process_group(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Stop a process started with start_new_session=True and everything it spawned (run workers, servers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def kill_at_once(process: subprocess.Popen) -> int:
    """SIGKILL to the process and all its descendants at the same moment, as a power cut, the OOM killer or
    `docker compose kill` would: none gets to report the others' death. Returns how many processes there were."""
    root = psutil.Process(process.pid)
    tree = [root, *root.children(recursive=True)]
    groups = {process.pid}
    for member in tree:  # `billing dev` runs dg dev in a group of its own
        with contextlib.suppress(ProcessLookupError):
            groups.add(os.getpgid(member.pid))
    groups.discard(os.getpgrp())  # never the test's own
    for group in groups:  # one signal per process group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    for member in tree:  # and any that left the groups
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()
    psutil.wait_procs(tree, timeout=30)
    process.wait()
    return len(tree)


def kill_processes_mentioning(text: str) -> list[int]:
    """SIGKILL every process whose command line contains `text` (a test's temp path): a code server whose run
    worker was killed can outlive its daemon, and must not outlive its test."""
    killed = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
    return killed
