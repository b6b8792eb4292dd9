"""Fixtures of the scaled-mode tests: a fresh PostgreSQL database per test on the machine's server, and the
machine's Redis (each topology uses a key prefix of its own).  Both skip with the reason where absent, except
under CI=true (or HONGBAO_REQUIRE_SERVICES=1), where they fail."""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from hongbao.adapters.sql import migrate
from hongbao.adapters.sql.store import SqlStore
from tests.conftest import fresh_pg_database, service_missing

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """An empty database of this test's own (the first `hongbao serve` migrates it), dropped afterwards."""
    with fresh_pg_database("hongbao_scaled") as url:
        yield url


@contextlib.contextmanager
def two_stores(url: str) -> Iterator[tuple[SqlStore, SqlStore]]:
    """Two stores on one migrated database, each with its own writer thread and connection: what two processes
    have (crossing.py)."""
    first = SqlStore(url)
    migrate.upgrade(first.engine)
    second = SqlStore(url)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


@pytest.fixture
def stores(pg_url: str) -> Iterator[tuple[SqlStore, SqlStore]]:
    """`two_stores` on a fresh PostgreSQL database."""
    with two_stores(pg_url) as both:
        yield both


@pytest.fixture(params=["redis", pytest.param("cluster", marks=pytest.mark.redis)])
def redis_url(request: pytest.FixtureRequest) -> str:
    """The machine's Redis, or a Redis Cluster of the session's own: the scaled tests that use Redis run on both."""
    if request.param == "cluster":
        cluster: RedisCluster = request.getfixturevalue("redis_cluster")
        return cluster.url
    return machine_redis()


@pytest.fixture
def one_redis() -> str:
    """The machine's Redis alone, for tests where the kind of Redis does not matter (the sweeper's lease)."""
    return machine_redis()


def machine_redis() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_missing("Redis", str(exc))
    finally:
        client.close()
    return REDIS_URL


PORTS_LOCK = Path(tempfile.gettempdir()) / "hongbao-test-redis-cluster-ports.lock"
CLUSTER_PORTS = range(7100, 7190, 10)  # blocks of three ports in this suite's range (issue 10's tests: 7100-7199)


class RedisCluster:
    """A 3-master Redis Cluster of the test session's own (`redis-server --cluster-enabled yes`, then
    `redis-cli --cluster create`), in a temporary folder, stopped and removed at the end."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.procs: list[subprocess.Popen[bytes]] = []
        self.ports: list[int] = []

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.ports[0]}/0"

    def start(self) -> RedisCluster:
        # The pytest-xdist processes of one run pick blocks one at a time: a block is taken once its servers listen.
        with PORTS_LOCK.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._listen()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        created = subprocess.run(
            ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports), "--cluster-replicas", "0",
             "--cluster-yes"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if created.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {created.stdout[-2000:]}{created.stderr[-2000:]}")
        for port in self.ports:
            _wait(lambda port=port: _cluster_ok(port), f"cluster state ok on {port}")
        return self

    def _listen(self) -> None:
        """Start three masters on the first block of free ports, and wait until each answers."""
        base = next((p for p in CLUSTER_PORTS if all(_port_free(p + i) for i in range(3))), None)
        if base is None:
            raise RuntimeError("no three free ports for a Redis Cluster in 7100-7189")
        self.ports = [base, base + 1, base + 2]
        for port in self.ports:
            folder = self.work / str(port)
            folder.mkdir(parents=True)
            self.procs.append(subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000", "--save", "",
                 "--appendonly", "no", "--dir", str(folder), "--logfile", str(folder / "redis.log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))  # fmt: skip
        for port in self.ports:
            _wait(lambda port=port: _ping(port), f"redis-server on {port}")

    def kill(self, index: int) -> None:
        """kill -9 one master (a drill)."""
        proc = self.procs[index]
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.work, ignore_errors=True)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _ping(port: int) -> bool:
    return subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True,
                          check=False).stdout.strip() == "PONG"


def _cluster_ok(port: int) -> bool:
    info = subprocess.run(["redis-cli", "-p", str(port), "cluster", "info"], capture_output=True, text=True,
                          check=False).stdout
    return "cluster_state:ok" in info


def _wait(ready: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not ready after {timeout_s} s")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        service_missing("A Redis Cluster of the tests' own", "redis-server / redis-cli are not installed")
    cluster = RedisCluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        cluster.start()
    except Exception as exc:
        cluster.stop()
        service_missing("A Redis Cluster of the tests' own", str(exc))
    try:
        yield cluster
    finally:
        cluster.stop()
