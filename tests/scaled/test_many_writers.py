"""Many writers on one PostgreSQL (issue 10 item 4): two `hongbao serve` processes, each with its own writer, race
on every cap that a count could break: a group's size, an asker's daily asks, a packet's shares.  The database
decides each (a row lock, a slot key, the claims' unique key), so the caps hold exactly across processes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.drills.server import cli
from tests.scaled.topology import DEMO_PASSWORD, Topology, login, topology

MEMBERS_MAX = 8  # the demo group has 4: 4 seats left
ASKS_MAX = 3


@pytest.fixture
def pair(pg_url: str, one_redis: str, tmp_path: Path) -> Iterator[Topology]:
    """The database decides these caps: one kind of Redis is enough (the gate on a cluster: test_redis_gate)."""
    caps = {"HONGBAO_GROUP_MEMBERS_MAX": str(MEMBERS_MAX), "HONGBAO_ASKS_PER_DAY_MAX": str(ASKS_MAX)}
    with topology(pg_url, one_redis, tmp_path, **caps) as top:
        top.serve(demo=True)
        top.serve()
        yield top
        done = cli(pg_url, "reconcile")
        assert done.returncode == 0, done.stdout + done.stderr


def at_once(calls: list[Callable[[], httpx.Response]]) -> list[int]:
    """Every call from its own thread, released together; their status codes in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> int:
        barrier.wait()
        return call().status_code

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_a_groups_last_seats_are_taken_once_across_processes(pair: Topology) -> None:
    a, b = pair.procs[0].base, pair.procs[1].base
    alice = {a: login(a, "alice"), b: login(b, "alice")}
    group_id = alice[a].get("/v1/groups").json()[0]["id"]
    newcomers = []
    for i in range(10):
        name = f"newcomer{i}"
        made = httpx.post(f"{a}/v1/users", json={"username": name, "password": DEMO_PASSWORD})
        assert made.status_code == 201, made.text
        user = login(b, name)
        uid = made.json()["id"]
        assert alice[a].post("/v1/friends/requests", json={"user_id": uid}).status_code == 201
        assert user.post(f"/v1/friends/requests/{alice[a].get('/v1/me').json()['id']}/accept").status_code == 200
        newcomers.append(uid)

    statuses = at_once([
        (lambda uid=uid, base=(a if i % 2 else b): alice[base].post(f"/v1/groups/{group_id}/members",
                                                                    json={"user_id": uid}))
        for i, uid in enumerate(newcomers)
    ])  # fmt: skip

    assert sorted(statuses) == [201] * (MEMBERS_MAX - 4) + [422] * (10 - (MEMBERS_MAX - 4))
    assert len(alice[b].get(f"/v1/groups/{group_id}").json()["members"]) == MEMBERS_MAX


def test_an_askers_daily_cap_holds_across_processes(pair: Topology) -> None:
    a, b = pair.procs[0].base, pair.procs[1].base
    bob = {a: login(a, "bob"), b: login(b, "bob")}
    alice_id = login(a, "alice").get("/v1/me").json()["id"]

    statuses = at_once([
        (lambda base=(a if i % 2 else b), i=i: bob[base].post("/v1/asks", json={
            "to_user_id": alice_id, "amount_fen": 100, "message": f"ask {i}"}))
        for i in range(10)
    ])  # fmt: skip

    assert sorted(statuses) == [201] * ASKS_MAX + [429] * (10 - ASKS_MAX)


def test_a_packets_shares_are_taken_once_across_processes(pair: Topology) -> None:
    a, b = pair.procs[0].base, pair.procs[1].base
    alice = login(a, "alice")
    group_id = alice.get("/v1/groups").json()[0]["id"]
    sent = alice.post("/v1/packets", json={
        "kind": "group", "group_id": group_id, "split": "double_mean", "shares_count": 2, "total_fen": 500})
    assert sent.status_code == 201, sent.text
    pid = sent.json()["id"]
    clients = [login(base, name) for name in ("bob", "carol", "dave") for base in (a, b)]

    replies: list[httpx.Response] = []
    lock = threading.Lock()

    def open_via(client: httpx.Client) -> httpx.Response:
        reply = client.post(f"/v1/packets/{pid}/open")
        with lock:
            replies.append(reply)
        return reply

    at_once([lambda c=c: open_via(c) for c in clients])

    won = [r.json() for r in replies if r.status_code == 200]
    assert len(won) == 2 and sum(w["amount_fen"] for w in won) == 500
    codes = sorted(r.json()["code"] for r in replies if r.status_code != 200)
    assert codes.count("packet_exhausted") + codes.count("already_claimed") == 4
