"""Shake win tickets granted by Redis (scaled mode): batches without a database write, pools never overspent across
processes, K exact, tickets given back at round end and stop, and Redis losing the round's counters mid-round."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from hongbao.adapters.redis_tickets import RedisTickets
from hongbao.bootstrap import App, build
from hongbao.service.reconcile import reconcile
from tests.campaign.conftest import register_many
from tests.campaign.test_shake_tickets import gala, other, pool_figures, shake_all
from tests.conftest import FrozenClock, fast_settings, service_missing

REDIS_URL = "redis://127.0.0.1:6379/0"
__all__ = ["other"]  # the second process's fixture, from the database tickets' tests


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own on the shared Redis; its keys are deleted afterwards (never a FLUSHALL)."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        service_missing("Redis", str(exc))
    mine = f"hongbao:test:{uuid.uuid4().hex}:"
    yield mine
    for key in client.scan_iter(match=mine + "*"):
        client.delete(key)
    client.close()


def in_redis(app: App, prefix: str) -> App:
    app.shake.tickets.redis = RedisTickets(REDIS_URL, prefix)
    return app


def test_batches_from_redis_pay_winners_without_a_lease_in_the_database(
    hb: App, clock: FrozenClock, prefix: str
) -> None:
    event_id = gala(in_redis(hb, prefix), clock, 3_000)
    users = register_many(hb, "viewer", 40)
    assert Counter(shake_all(hb, event_id, users)) == {"cash": 30, "pool_empty": 10}
    # the pool paid exactly its budget, and nothing was held in the database
    assert pool_figures(hb, event_id) == (3_000, 3_000, 0)
    assert reconcile(hb.store).violations == []


def test_two_processes_granted_by_one_redis_never_overspend_and_hold_k(
    hb: App, other: App, clock: FrozenClock, prefix: str
) -> None:
    event_id = gala(in_redis(hb, prefix), clock, 5_000)
    in_redis(other, prefix)
    users = register_many(hb, "viewer", 120)
    (fan,) = register_many(hb, "fan", 1)
    for app in (hb, other):
        app.shake.limits = dataclasses.replace(app.shake.limits, shakes_per_second_max=100)
    with ThreadPoolExecutor(2) as pool:
        halves = list(pool.map(lambda a: shake_all(a[0], event_id, a[1]),
                               [(hb, users[:60] + [fan] * 10), (other, users[60:] + [fan] * 10)]))  # fmt: skip
    outcomes = Counter(halves[0] + halves[1])
    assert outcomes["cash"] == 50 and set(outcomes) <= {"cash", "nothing", "pool_empty"}
    assert asyncio.run(hb.wallet.balance(fan)) <= 300
    assert pool_figures(hb, event_id)[:2] == (5_000, 5_000)
    assert reconcile(hb.store).violations == []


def test_redis_losing_the_rounds_counters_mid_round_overspends_no_pool(
    hb: App, clock: FrozenClock, prefix: str
) -> None:
    # given a round whose first batch came from Redis
    event_id = gala(in_redis(hb, prefix), clock, 2_000)
    users = register_many(hb, "viewer", 30)
    assert shake_all(hb, event_id, users[:5]) == ["cash"] * 5
    # when Redis loses the round's counters (a restart without persistence) and a new process starts from them
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()
    hb.shake.tickets.batch_min = 40  # the next batch asks for more than is left
    outcomes = Counter(shake_all(hb, event_id, users[5:]))
    # then Redis granted again from the database's figures, and the database paid only what the pool holds
    assert outcomes["cash"] == 15 and set(outcomes) <= {"cash", "nothing", "pool_empty"}
    assert pool_figures(hb, event_id)[:2] == (2_000, 2_000)
    assert reconcile(hb.store).violations == []


def test_unused_tickets_go_back_to_redis_at_round_end_and_at_stop(hb: App, clock: FrozenClock, prefix: str) -> None:
    event_id = gala(in_redis(hb, prefix), clock, 2_000)
    users = register_many(hb, "viewer", 25)
    assert shake_all(hb, event_id, users[:2]) == ["cash", "cash"]  # a batch of 16: 14 still held here
    key = hb.shake.tickets.redis.key(event_id, 0)  # type: ignore[union-attr]
    client = redis.Redis.from_url(REDIS_URL)
    pool_field = next(f for f in client.hkeys(key) if f.startswith(b"p"))
    assert int(client.hget(key, pool_field)) == 2_000 - 1_600
    clock.advance(minutes=61)  # the second round: the first's tickets go back as it starts here
    assert shake_all(hb, event_id, users[2:4]) == ["cash", "cash"]
    assert int(client.hget(key, pool_field)) == 2_000 - 200
    hb.shake.tickets.close()  # the process stops: the second round's tickets go back too
    second = key.replace(":round:0", ":round:1")
    assert int(client.hget(second, pool_field)) == 2_000 - 400
    client.close()
    assert reconcile(hb.store).violations == []


def test_an_app_built_with_a_redis_url_takes_its_tickets_from_redis(
    store_url: str, clock: FrozenClock, tmp_path: Path, prefix: str, hb: App
) -> None:
    scaled = build(fast_settings(database_url=store_url, data_dir=tmp_path, redis_url=REDIS_URL, redis_prefix=prefix),
                   clock=clock, migrate_schema=False)  # fmt: skip
    try:
        assert scaled.shake.tickets.redis is not None
        event_id = gala(scaled, clock, 1_000)
        users = register_many(scaled, "viewer", 3)
        assert shake_all(scaled, event_id, users) == ["cash"] * 3
        assert pool_figures(scaled, event_id) == (1_000, 300, 0)  # nothing held in the database
    finally:
        scaled.close()
