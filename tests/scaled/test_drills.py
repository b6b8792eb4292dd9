"""Fault drills of scaled mode (issue 10 item 7), bounded: two `hongbao serve` on one PostgreSQL and a Redis of the
drill's own, a storm of opens through both (tests/scaled/drill.py), and one fault mid-storm.  After each: every open
a client was told succeeded is in the ledger with its amount, nobody claimed twice, no share was wrongly refused,
no answer was a 500 or missing (nor took the client's 15 s), and `hongbao reconcile` is clean.  PostgreSQL restarts
on a private cluster (initdb/pg_ctl) on a port of 5500-5599."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import service_missing
from tests.drills.pg_cluster import PgCluster, why_unavailable
from tests.scaled.conftest import RedisCluster, _port_free
from tests.scaled.drill import RedisServer, storm_through
from tests.scaled.topology import topology

pytestmark = pytest.mark.drill

FAULT_AFTER = 20  # answered opens before the fault: it lands mid-storm


@pytest.fixture
def own_redis(tmp_path: Path, one_redis: str) -> Iterator[RedisServer]:
    """`one_redis` only makes sure Redis's binaries and a server are here (else skip/fail with the reason)."""
    server = RedisServer(tmp_path).start()
    try:
        yield server
    finally:
        server.kill()


def test_an_api_process_killed_mid_storm(pg_url: str, one_redis: str, tmp_path: Path) -> None:
    with topology(pg_url, one_redis, tmp_path) as top:
        top.serve(demo=True)
        victim = top.serve()
        storm = storm_through(top)
        storm.run(fault_after=FAULT_AFTER, fault=victim.kill)
        assert storm.problems(pg_url) == []


def test_redis_restarted_empty_mid_storm(pg_url: str, own_redis: RedisServer, tmp_path: Path) -> None:
    with topology(pg_url, own_redis.url, tmp_path / "top") as top:
        top.serve(demo=True)
        top.serve()
        storm = storm_through(top)
        storm.run(fault_after=FAULT_AFTER, fault=own_redis.restart_empty)
        assert storm.problems(pg_url) == []
        assert all(p.proc.poll() is None for p in top.procs), "an API process died with Redis"


def test_a_redis_cluster_master_killed_mid_storm(pg_url: str, one_redis: str, tmp_path: Path) -> None:
    cluster = RedisCluster(tmp_path / "cluster").start()  # its own: the session's cluster must stay whole
    try:
        with topology(pg_url, cluster.url, tmp_path / "top") as top:
            top.serve(demo=True)
            top.serve()
            storm = storm_through(top)
            storm.run(fault_after=FAULT_AFTER, fault=lambda: cluster.kill(1))
            assert storm.problems(pg_url) == []
            assert all(p.proc.poll() is None for p in top.procs), "an API process died with the master"
    finally:
        cluster.stop()


def test_postgres_restarted_mid_storm(one_redis: str, tmp_path: Path) -> None:
    why = why_unavailable()
    if why is not None:
        service_missing("A private PostgreSQL cluster", why)
    cluster = PgCluster()
    cluster.port = next(p for p in range(5500, 5600) if _port_free(p))  # this suite's range
    try:
        cluster.init()
        cluster.start()
        url = cluster.create_database("scaled_drill")
        with topology(url, one_redis, tmp_path / "top") as top:
            top.serve(demo=True)
            top.serve()
            storm = storm_through(top)
            storm.run(fault_after=FAULT_AFTER, fault=lambda: cluster.restart("fast"))
            assert storm.problems(url) == []
            assert all(p.proc.poll() is None for p in top.procs), "an API process died with PostgreSQL"
    finally:
        cluster.destroy()
