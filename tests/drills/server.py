"""`hongbao serve` on a PostgreSQL URL as a real subprocess, and the CLI's `migrate` and `reconcile`, for the drills.

The drills fault the database under a real server, so the server is a process of its own (its writer thread,
its pool, its signal handling), started the way an operator starts it; the test talks to it over HTTP only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.server import _hongbao, free_port

START_S_MAX = 60.0
DEMO_PASSWORD = "hongbao123"


def _environ(database_url: str) -> dict[str, str]:
    environ = {
        **os.environ,
        "HONGBAO_ARGON2_TIME_COST": "1",
        "HONGBAO_ARGON2_MEMORY_KIB": "8",
        "HONGBAO_DATABASE_URL": database_url,
        "HONGBAO_SCHEDULER": "0",  # nothing writes but the drill's own clients
        "COLUMNS": "200",
    }
    environ.pop("HONGBAO_REDIS_URL", None)  # self-contained: limits in process, not in the shared Redis
    return environ


def cli(database_url: str, *argv: str, timeout_s: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run `hongbao <argv…> --database-url <url>` to the end; the caller checks the return code."""
    return subprocess.run(
        [*_hongbao(), *argv, "--database-url", database_url],
        env=_environ(database_url),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@dataclass
class Served:
    """A running `hongbao serve`: its base URL, its process and its log."""

    base: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def terminate(self, timeout_s: float) -> bool:
        """SIGTERM, as an orchestrator stops a process; True when it exited within `timeout_s`."""
        if self.proc.poll() is not None:
            return True
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return False
        return True


@contextlib.contextmanager
def serving(database_url: str, work: Path) -> Iterator[Served]:
    """`hongbao serve --demo` on `database_url` (demo users with money, friends, one group); killed at the end."""
    port = free_port()
    log_path = work / "server.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [*_hongbao(), "serve", "--port", str(port), "--data-dir", str(work), "--demo", "--no-scheduler"],
        env=_environ(database_url),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    served = Served(f"http://127.0.0.1:{port}", proc, log_path)
    try:
        deadline = time.monotonic() + START_S_MAX
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"hongbao serve exited: {served.log_tail()}")
            try:
                with urllib.request.urlopen(served.base + "/health", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"hongbao serve did not answer /health in time: {served.log_tail()}")
            time.sleep(0.1)
        yield served
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
