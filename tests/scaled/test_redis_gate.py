"""The Redis gate (adapters/redis_gate.py): two apps on one PostgreSQL and one Redis prefix stand for two API
processes.  They agree on who took a share and when a packet is gone; when Redis loses the packet it is loaded
again from the store with nobody paid twice; when Redis cannot be reached the in-process gate answers and the store
still decides."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from hongbao.adapters.redis_gate import STALE_PLACE_S, RedisGate
from hongbao.adapters.redis_shared import connect
from hongbao.bootstrap import App, build
from hongbao.domain.errors import HongbaoError
from hongbao.service.reconcile import reconcile
from tests.conftest import fast_settings
from tests.service.test_concurrency import group_of, register_many

SHARES = 5
PEOPLE = 24


def two_apps(pg_url: str, redis_url: str, tmp_path: Path, prefix: str) -> tuple[App, App]:
    settings = fast_settings(database_url=pg_url, redis_url=redis_url, redis_prefix=prefix, data_dir=tmp_path)
    return build(settings), build(settings, migrate_schema=False)


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    mine = f"hongbao:test:{uuid.uuid4().hex[:10]}:"
    yield mine
    drop(redis_url, mine)


def drop(redis_url: str, prefix: str) -> int:
    """What FLUSHALL does to this install (the machine's Redis is shared: only our keys)."""
    client = connect(redis_url, timeout_s=2.0)
    try:
        keys = list(client.scan_iter(match=prefix + "*"))
        return int(client.delete(*keys)) if keys else 0
    finally:
        client.close()


@pytest.fixture
def apps(pg_url: str, redis_url: str, tmp_path: Path, prefix: str) -> Iterator[tuple[App, App]]:
    a, b = two_apps(pg_url, redis_url, tmp_path, prefix)
    try:
        yield a, b
        assert reconcile(a.store).violations == []
    finally:
        a.close()
        b.close()


def claims(pg_url: str, packet_id: int) -> list[tuple[int, int]]:
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT user_id, amount_fen FROM claims WHERE packet_id = :p"), {"p": packet_id})
            return [(int(u), int(a)) for u, a in rows]
    finally:
        engine.dispose()


def storm(apps: tuple[App, App], packet_id: int, users: list[int]) -> list[object]:
    """Every user opens once, alternately through each app, all at once; their answers or refusal codes."""

    async def go() -> list[object]:
        opens = [apps[i % 2].packets.open(packet_id, u) for i, u in enumerate(users)]
        done = await asyncio.gather(*opens, return_exceptions=True)
        # The gates' settles run as tasks on this loop (a server's loop lives on): let them finish before it ends.
        settling = [t for app in apps if isinstance(app.deps.gate, RedisGate) for t in list(app.deps.gate._tasks)]
        await asyncio.gather(*settling, return_exceptions=True)
        return [r.code if isinstance(r, HongbaoError) else r for r in done]

    return asyncio.run(go())


def a_packet(app: App) -> tuple[int, list[int]]:
    people = register_many(app, [f"u{i}_{uuid.uuid4().hex[:6]}" for i in range(PEOPLE + 1)])
    sender, members = people[0], people[1:]
    group = group_of(app, sender, members)
    asyncio.run(app.wallet.top_up(sender, 10_000))
    sent = asyncio.run(app.packets.send_group(sender, group, how="equal", shares_count=SHARES, amount_each_fen=10))
    return int(sent["id"]), members


def small_packet(app: App, *, shares: int) -> tuple[int, list[int], int, int]:
    """A packet of `shares` × 10 fen to a new group of a new sender and two members: (packet, members, sender,
    group)."""
    sender = register_many(app, [f"s_{uuid.uuid4().hex[:6]}"])[0]
    people = register_many(app, [f"p{i}_{uuid.uuid4().hex[:6]}" for i in range(2)])
    group = group_of(app, sender, people)
    asyncio.run(app.wallet.top_up(sender, 1_000))
    sent = asyncio.run(app.packets.send_group(sender, group, how="equal", shares_count=shares, amount_each_fen=10))
    return int(sent["id"]), people, sender, group


def test_two_processes_agree_through_the_redis_gate(apps: tuple[App, App], pg_url: str) -> None:
    assert all(isinstance(app.deps.gate, RedisGate) for app in apps)
    packet_id, members = a_packet(apps[0])

    answers = storm(apps, packet_id, members)

    won = [a for a in answers if isinstance(a, dict)]
    assert len(won) == SHARES, answers
    assert sorted(a for a in answers if not isinstance(a, dict)) == ["packet_exhausted"] * (PEOPLE - SHARES)
    paid = claims(pg_url, packet_id)
    assert len(paid) == SHARES and len({u for u, _ in paid}) == SHARES and sum(a for _, a in paid) == SHARES * 10
    # A winner asking again through the other process is told so by Redis.
    winner = next(u for u, _ in paid)
    assert storm(apps, packet_id, [winner, winner]) == ["already_claimed", "already_claimed"]


def test_redis_losing_the_packet_reloads_it_from_the_store_and_pays_nobody_twice(
    apps: tuple[App, App], pg_url: str, redis_url: str, prefix: str
) -> None:
    packet_id, members = a_packet(apps[0])
    first = storm(apps, packet_id, members[:3])
    assert all(isinstance(a, dict) for a in first)

    assert drop(redis_url, prefix) > 0  # Redis restarted empty, failed over, flushed

    again = storm(apps, packet_id, members[:3] + members[3:])
    assert again[:3] == ["already_claimed"] * 3  # loaded again from the claims table
    assert sum(isinstance(a, dict) for a in again) == SHARES - 3
    paid = claims(pg_url, packet_id)
    assert len(paid) == SHARES and len({u for u, _ in paid}) == SHARES
    gates = [app.deps.gate for app in apps]
    assert sum(g.loads for g in gates if isinstance(g, RedisGate)) >= 2  # before and after the loss


def test_an_unreachable_redis_leaves_the_store_to_decide(pg_url: str, tmp_path: Path, prefix: str) -> None:
    dead = "redis://127.0.0.1:7199/0"  # nothing listens there (this suite's port range)
    settings = fast_settings(database_url=pg_url, redis_url=dead, redis_prefix=prefix, data_dir=tmp_path)
    a, b = build(settings), build(settings, migrate_schema=False)
    try:
        packet_id, members = a_packet(a)
        answers = storm((a, b), packet_id, members)
        assert sum(isinstance(x, dict) for x in answers) == SHARES
        assert len(claims(pg_url, packet_id)) == SHARES
        assert reconcile(a.store).violations == []
    finally:
        a.close()
        b.close()


def test_a_place_left_by_a_dead_process_refuses_nobody_for_long(apps: tuple[App, App], pg_url: str) -> None:
    """A process dies holding the last share's place: soon the store decides again, and the dead open's user,
    retrying through another process, is not told it already claimed."""
    pid, people, _, _ = small_packet(apps[0], shares=1)
    dead, other = apps[0].deps.gate, apps[1].deps.gate
    assert isinstance(dead, RedisGate)

    async def hold_and_die() -> None:  # admitted with a place, then never settled: its process was killed
        await dead.admit(pid, people[0], apps[0].deps.clock.now(), reserve=True, audience=_anyone)

    asyncio.run(hold_and_die())
    time.sleep(STALE_PLACE_S + 0.5)
    assert isinstance(storm((apps[1], apps[1]), pid, [people[1]])[0], dict)  # the store had a share left
    assert storm((apps[1], apps[1]), pid, [people[0]]) == ["packet_exhausted"]  # the dead open's retry
    assert isinstance(other, RedisGate)
    assert claims(pg_url, pid) == [(people[1], 10)]


async def _anyone(_: object) -> bool:
    return True


def test_a_member_removed_through_one_process_is_refused_by_the_other_at_once(apps: tuple[App, App]) -> None:
    """B remembers the group's members; A removes one; the fan-out tells B to forget before the member's next open."""
    pid, members, owner, group = small_packet(apps[0], shares=2)
    asyncio.run(apps[1].packets.grab(pid, members[0]))  # B's gate now remembers the members
    fanout = apps[1].fanout
    assert fanout is not None and fanout.listening.wait(10)
    heard = fanout.received

    asyncio.run(apps[0].social.remove_member(owner, group, members[0]))

    deadline = time.monotonic() + 10  # the note crosses Redis in milliseconds; this only bounds the wait
    while fanout.received == heard and time.monotonic() < deadline:
        time.sleep(0.01)
    assert storm((apps[1], apps[1]), pid, [members[0]]) == ["not_group_member"]
    gate = apps[1].deps.gate
    assert isinstance(gate, RedisGate)
    assert gate.refusals["open", "not_group_member"] == 1  # B's gate refused it itself: it had forgotten the group
