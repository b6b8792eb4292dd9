"""One sweeper among many processes (issue 10 item 5): two `hongbao worker`s and the API server's own scheduler on
one PostgreSQL; the lease holder is killed with SIGKILL mid-life and another process takes over.  Every expired
packet is refunded exactly once, and the ledger reconciles."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import create_engine, text

from hongbao.adapters.sql.lease import Term
from tests.drills.server import cli
from tests.scaled.topology import Topology, login, topology

LEASE = {"HONGBAO_SWEEPER_LEASE_S": "2", "HONGBAO_SCHEDULER_INTERVAL_S": "0.2", "HONGBAO_PACKET_TTL_S": "2"}
WAIT_S = 60.0


def lease(url: str) -> Term | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            value = conn.execute(text("SELECT value FROM meta WHERE key = 'lease:sweeper'")).scalar()
    finally:
        engine.dispose()
    return None if value is None else Term.parse(value)


def refunds(url: str) -> dict[str, int]:
    """Refund transfers by packet ref: exactly one each."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT ref, count(*) FROM transfers WHERE code = 'packet_refund' GROUP BY ref"))
            return {str(ref): int(n) for ref, n in rows}
    finally:
        engine.dispose()


def wait_until(what: str, done: object, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s} s"
        time.sleep(0.1)


def send_some(top: Topology, n: int, tag: str) -> None:
    alice = login(top.procs[0].base, "alice")
    group = alice.get("/v1/groups").json()
    group_id = (group["items"] if isinstance(group, dict) else group)[0]["id"]
    for i in range(n):
        reply = alice.post("/v1/packets", json={
            "kind": "group", "group_id": group_id, "split": "equal", "shares_count": 3, "amount_each_fen": 10,
            "greeting": f"{tag}-{i}",
        })  # fmt: skip
        assert reply.status_code == 201, reply.text


def test_the_lease_holder_killed_is_taken_over_and_each_packet_is_refunded_once(
    pg_url: str, one_redis: str, tmp_path: Path
) -> None:
    with topology(pg_url, one_redis, tmp_path, **LEASE) as top:
        top.serve(demo=True, env={"HONGBAO_SCHEDULER": "1"})  # the server's own scheduler competes too
        workers = [top.worker(), top.worker()]
        send_some(top, 4, "before")
        wait_until("the first packets refunded", lambda: len(refunds(pg_url)) == 4)

        held = lease(pg_url)
        assert held is not None
        holder = next((w for w in workers if f":{w.proc.pid}:" in held.holder), None)
        if holder is None:  # the server's scheduler holds it: stop it the hard way instead
            holder = top.procs[0]
            top.serve(env={"HONGBAO_SCHEDULER": "0"})
        holder.kill()  # SIGKILL: no goodbye, the lease runs out by itself

        wait_until("another process took the lease over", lambda: (t := lease(pg_url)) is not None
                   and t.token > held.token and f":{holder.proc.pid}:" not in t.holder)
        if holder is top.procs[0]:
            top.procs[0], top.procs[-1] = top.procs[-1], top.procs[0]  # send through the server still up
        send_some(top, 4, "after")
        wait_until("the later packets refunded", lambda: len(refunds(pg_url)) == 8)
        time.sleep(1.0)  # a few more passes of every sweeper: nothing is refunded again

    assert set(refunds(pg_url).values()) == {1}
    done = cli(pg_url, "reconcile")
    assert done.returncode == 0, done.stdout + done.stderr
