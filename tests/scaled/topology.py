"""The scaled topology as real processes for the tests: N `hongbao serve` on one PostgreSQL and one Redis (or Redis
Cluster), optionally `hongbao worker`s, each a subprocess of its own talking to the test over HTTP only.

Every process of one topology shares a Redis key prefix of its own (HONGBAO_REDIS_PREFIX), so tests sharing the
machine's Redis never hear each other.  Processes are killed at the end whatever happened.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from hongbao.adapters.redis_shared import connect
from tests.e2e.server import _hongbao, free_port

START_S_MAX = 60.0
DEMO_PASSWORD = "hongbao123"
PEPPER = "scaled-tests-pepper-0123456789abcdef"


@dataclass
class Proc:
    """One process of the topology: what it is, its process and its log."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    base: str = ""

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def kill(self) -> None:
        """kill -9: no goodbye, as a crash."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Topology:
    """Processes sharing one database and one Redis prefix."""

    database_url: str
    redis_url: str
    work: Path
    env: dict[str, str] = field(default_factory=dict)
    prefix: str = field(default_factory=lambda: f"hongbao:test:{uuid.uuid4().hex[:10]}:")
    procs: list[Proc] = field(default_factory=list)

    def environ(self) -> dict[str, str]:
        environ = {
            **os.environ,
            "HONGBAO_ARGON2_TIME_COST": "1",
            "HONGBAO_ARGON2_MEMORY_KIB": "8",
            "HONGBAO_DATABASE_URL": self.database_url,
            "HONGBAO_REDIS_URL": self.redis_url,
            "HONGBAO_REDIS_PREFIX": self.prefix,
            "HONGBAO_SECRET_PEPPER": PEPPER,
            "HONGBAO_SCHEDULER": "0",
            "COLUMNS": "200",
            **self.env,
        }
        environ.pop("HONGBAO_REDIS_CLUSTER", None)
        return environ

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Proc:
        log_path = self.work / f"{name}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [*_hongbao(), *argv], env={**self.environ(), **(env or {})}, stdout=log, stderr=subprocess.STDOUT
            )
        started = Proc(name, proc, log_path)
        self.procs.append(started)
        return started

    def serve(self, *, demo: bool = False, env: dict[str, str] | None = None) -> Proc:
        """One more `hongbao serve` (the first with --demo seeds the demo world); waits for /health."""
        port = free_port()
        name = f"api{sum(p.name.startswith('api') for p in self.procs) + 1}"
        argv = ["serve", "--port", str(port), "--data-dir", str(self.work), "--no-scheduler"]
        served = self._spawn(name, [*argv, "--demo" if demo else "--no-demo"], env)
        served.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_S_MAX
        while True:
            if served.proc.poll() is not None:
                raise RuntimeError(f"{name} exited: {served.log_tail()}")
            with contextlib.suppress(OSError), urllib.request.urlopen(served.base + "/health", timeout=1) as reply:
                if reply.status == 200:
                    return served
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer /health in time: {served.log_tail()}")
            time.sleep(0.1)

    def worker(self, *, env: dict[str, str] | None = None) -> Proc:
        name = f"worker{sum(p.name.startswith('worker') for p in self.procs) + 1}"
        return self._spawn(name, ["worker", "--database-url", self.database_url], env)

    def close(self) -> None:
        for p in self.procs:
            p.kill()
        try:  # the keys of this topology's prefix (a drill may have killed the Redis: nothing to clean then)
            client = connect(self.redis_url, timeout_s=2.0)
            try:
                for key in client.scan_iter(match=self.prefix + "*"):
                    client.delete(key)
            finally:
                client.close()
        except (redis.RedisError, OSError):
            pass


@contextlib.contextmanager
def topology(database_url: str, redis_url: str, work: Path, **env: str) -> Iterator[Topology]:
    work.mkdir(parents=True, exist_ok=True)
    top = Topology(database_url, redis_url, work, dict(env))
    try:
        yield top
    finally:
        top.close()


def login(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=15.0)
    reply = client.post("/v1/sessions", json={"username": username, "password": DEMO_PASSWORD})
    reply.raise_for_status()
    client.headers["Authorization"] = f"Bearer {reply.json()['token']}"
    return client
