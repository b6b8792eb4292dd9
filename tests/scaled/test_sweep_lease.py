"""The sweeper's lease (adapters/sql/lease.py): one holder at a time among processes on one database, renewed by
its holder, taken over with a higher fencing token once its holder stops renewing, never by two at once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from hongbao.adapters.sql.lease import SweepLease
from hongbao.adapters.sql.store import SqlStore
from tests.scaled.conftest import two_stores


@pytest.fixture
def stores(store_url: str) -> Iterator[tuple[SqlStore, SqlStore]]:
    """Two stores on one database, on each engine: what two processes have."""
    with two_stores(store_url) as both:
        yield both


def test_one_holder_renews_and_a_silent_one_is_taken_over_with_a_higher_token(
    stores: tuple[SqlStore, SqlStore],
) -> None:
    async def scenario() -> None:
        a, b = SweepLease(stores[0], "test", ttl_s=0.5), SweepLease(stores[1], "test", ttl_s=0.5)
        assert await a.hold() and a.token == 1
        assert not await b.hold() and b.token is None
        for _ in range(4):  # a renews past its first ttl: it keeps its term, b keeps waiting
            await asyncio.sleep(0.2)
            assert await a.hold() and a.token == 1
            assert not await b.hold()
        await asyncio.sleep(0.7)  # a stops renewing (killed, frozen): its lease runs out
        assert await b.hold() and b.token == 2
        assert not await a.hold() and a.token is None  # the old holder learns it lost, at its next pass

    asyncio.run(scenario())


def test_many_askers_at_once_get_one_holder(stores: tuple[SqlStore, SqlStore]) -> None:
    async def scenario() -> None:
        leases = [SweepLease(stores[i % 2], "race", ttl_s=30.0) for i in range(12)]
        won = await asyncio.gather(*(lease.hold() for lease in leases))
        assert sum(won) == 1

    asyncio.run(scenario())


def test_a_lease_given_up_at_a_clean_stop_is_taken_at_once(stores: tuple[SqlStore, SqlStore]) -> None:
    async def scenario() -> None:
        a, b = SweepLease(stores[0], "stop", ttl_s=3600.0), SweepLease(stores[1], "stop", ttl_s=3600.0)
        assert await a.hold() and not await b.hold()
        await a.release()
        assert await b.hold() and b.token == 2  # no hour to wait: the next term at once

    asyncio.run(scenario())
