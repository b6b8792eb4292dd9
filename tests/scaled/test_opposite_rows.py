"""Two writers on one PostgreSQL never deadlock on the rows their caps live in (locks.py: rows locked in one global
order before a batch's jobs, never waited for mid-batch): campaigns and their prizes and per-user counts, coupon
stock, groups, shake players' K-wins counts, relay chains, hosts' daily volumes.  Each round both writers get one
batch of writes over the same rows, one in its order and the other the other way round, and each row's cap is set
so that exactly one write too many arrives: every write is answered (none 503), every cap holds exactly, no batch
is refused as busy, PostgreSQL counted no deadlock, the ledger balances.  The per-user and per-day rows (campaign
claimers, shake players, host volumes) are made in the race, by the first write of either writer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from hongbao.adapters.sql import schema_campaign as c
from hongbao.adapters.sql import schema_hosts as h
from hongbao.adapters.sql import schema_relay as r
from hongbao.adapters.sql.store import SqlStore
from hongbao.adapters.sql.tx import SqlTx
from hongbao.domain.campaigns import Branding, Candidate, Prize, PrizeKind, Round
from hongbao.domain.relay import ChainEnd
from hongbao.service.reconcile import reconcile
from tests.scaled.crossing import both_at_once, deadlocks, one_batch
from tests.scaled.money_moves import START_FEN, open_wallets

ROWS = 4  # rows of each kind both writers cross on
ROUNDS = 12
CAP = 2 * ROUNDS - 1  # each row gets 2 × ROUNDS writes: one too many
FEN = 10
Job = Callable[[SqlTx], Any]


@dataclass
class Crossing:
    """Rows both writers write each round (writer 0 in this order, writer 1 the other way round) and the checks."""

    rows: Callable[[int], list[Any]]  # round → the rows of that round
    write: Callable[[Any, int], Job]  # (row, writer) → the write
    check: Callable[[SqlStore, list[Any]], None]  # the outcomes of every write, in no particular order


def now() -> datetime:
    return datetime.now(UTC)


def users(store: SqlStore, n: int, prefix: str) -> list[int]:
    return store.write_sync(lambda tx: [tx.create_user(f"{prefix}{i}", f"{prefix} {i}", "-", now()) for i in range(n)])


def count(tx: SqlTx, table: Any, *where: Any) -> int:
    return int(tx.conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def claims(store: SqlStore) -> Crossing:
    """Claims of one user on four campaigns (claimer row, prize, campaign, budget and wallet): the per-user cap lets
    CAP through, the prize's count CAP - 1."""
    owner, claimer = open_wallets(store, 2)
    day = now().date().isoformat()

    def setup(tx: SqlTx) -> list[tuple[int, int]]:
        made = []
        for i in range(ROWS):
            cid = tx.create_campaign(
                owner_id=owner, channel="link", event_id=None, branding=Branding(f"c{i}", None, ""),
                starts_at=now() - timedelta(hours=1), ends_at=now() + timedelta(hours=1), budget_fen=FEN * CAP,
                per_user_max=CAP, per_day_max=None, link_token_hash=None,
                prizes=[Prize(PrizeKind.CASH, 1, amount_fen=FEN, count_max=CAP - 1)], now=now(),
            )  # fmt: skip
            prize = int(tx.conn.execute(select(c.campaign_prizes.c.id).where(c.campaign_prizes.c.campaign_id == cid))
                        .scalar_one())  # fmt: skip
            made.append((cid, prize))
        return made

    campaigns = store.write_sync(setup)

    def write(row: tuple[int, int], writer: int) -> Job:
        cid, prize = row

        def job(tx: SqlTx) -> object:
            if not tx.count_claim(cid, claimer, day, CAP, None):
                return "capped"
            got = tx.award_prize(cid, Candidate(prize, PrizeKind.CASH, 1, FEN, None), claimer, day, "link", now())
            return "lost" if got is None else got.amount_fen

        return job

    def check(store: SqlStore, outcomes: list[Any]) -> None:
        assert sorted(map(str, outcomes)) == sorted(["capped", "lost"] * ROWS + [str(FEN)] * ROWS * (CAP - 1))

        def figures(tx: SqlTx) -> list[tuple[int, int, int, int]]:
            k, p, cl = c.campaigns, c.campaign_prizes, c.campaign_claimers
            return [(
                int(tx.conn.execute(select(p.c.issued_count).where(p.c.id == prize)).scalar_one()),
                int(tx.conn.execute(select(k.c.paid_fen).where(k.c.id == cid)).scalar_one()),
                int(tx.conn.execute(select(cl.c.claims_count).where(cl.c.campaign_id == cid)).scalar_one()),
                count(tx, c.campaign_claims, c.campaign_claims.c.campaign_id == cid),
            ) for cid, prize in campaigns]  # fmt: skip

        assert store.read_sync(figures) == [(CAP - 1, FEN * (CAP - 1), CAP, CAP - 1)] * ROWS
        assert store.read_sync(lambda tx: tx.balance_fen(claimer)) == START_FEN + ROWS * (CAP - 1) * FEN

    return Crossing(lambda _: campaigns, write, check)


def coupons(store: SqlStore) -> Crossing:
    """Coupons of four offers: the stock lets CAP through."""
    (owner,) = users(store, 1, "merchant")
    holders = users(store, 2, "holder")

    def setup(tx: SqlTx) -> list[int]:
        mid = tx.create_merchant(owner, "m", 31.2, 121.5, now())
        return [tx.create_offer(mid, f"o{i}", 100, CAP, now() + timedelta(days=1), now()) for i in range(ROWS)]

    offers = store.write_sync(setup)

    def check(store: SqlStore, outcomes: list[Any]) -> None:
        assert sum(o is None for o in outcomes) == ROWS

        def figures(tx: SqlTx) -> list[tuple[int, int]]:
            o, k = c.coupon_offers, c.coupons
            return [(int(tx.conn.execute(select(o.c.issued_count).where(o.c.id == oid)).scalar_one()),
                     count(tx, k, k.c.offer_id == oid)) for oid in offers]  # fmt: skip

        assert store.read_sync(figures) == [(CAP, CAP)] * ROWS

    return Crossing(lambda _: offers, lambda oid, i: lambda tx: tx.issue_coupon(oid, holders[i], now()), check)


def groups(store: SqlStore) -> Crossing:
    """New members of four groups, counted then added under the group's lock: the size cap lets CAP through."""
    (owner,) = users(store, 1, "owner")
    joiners = iter(users(store, 2 * ROUNDS * ROWS, "joiner"))
    made = store.write_sync(lambda tx: [tx.create_group(f"g{i}", owner, now()) for i in range(ROWS)])
    size_max = 1 + CAP  # the owner, then CAP joiners

    def write(gid: int, writer: int) -> Job:
        joiner = next(joiners)

        def job(tx: SqlTx) -> object:
            assert tx.lock_group(gid) is not None
            if tx.member_count(gid) >= size_max:
                return "full"
            tx.add_member(gid, joiner, now())
            return gid

        return job

    def check(store: SqlStore, outcomes: list[Any]) -> None:
        assert outcomes.count("full") == ROWS
        assert store.read_sync(lambda tx: [tx.member_count(g) for g in made]) == [size_max] * ROWS

    return Crossing(lambda _: made, write, check)


def shakes(store: SqlStore) -> Crossing:
    """Wins of four players of one shake event: the K-wins cap lets CAP through for each."""
    (owner,) = users(store, 1, "sponsor")
    players = users(store, ROWS, "player")

    def setup(tx: SqlTx) -> int:
        eid = tx.create_event(owner, "e", [Round(1, now() - timedelta(hours=1), now() + timedelta(hours=1))], 1000,
                              CAP, ["card"], now())  # fmt: skip
        return eid

    event = store.write_sync(setup)

    def check(store: SqlStore, outcomes: list[Any]) -> None:
        assert outcomes.count(False) == ROWS
        assert store.read_sync(lambda tx: [tx.shake_player(event, p)[0] for p in players]) == [CAP] * ROWS

    return Crossing(lambda _: players, lambda p, i: lambda tx: tx.count_shake_win(event, p, CAP), check)


def relay(store: SqlStore) -> Crossing:
    """Four relay chains a round, each ended by both writers: once."""
    (starter,) = users(store, 1, "starter")

    def setup(tx: SqlTx) -> list[int]:
        gid = tx.create_group("relay", starter, now())
        return [tx.create_chain(gid, starter, 100, 60, now()) for _ in range(ROUNDS * ROWS)]

    chains = store.write_sync(setup)

    def check(store: SqlStore, outcomes: list[Any]) -> None:
        assert outcomes.count(True) == len(chains)
        ended = store.read_sync(lambda tx: count(tx, r.relay_chains, r.relay_chains.c.status == "ended"))
        assert ended == len(chains)

    return Crossing(
        lambda n: chains[n * ROWS:(n + 1) * ROWS],
        lambda chain, i: lambda tx: tx.end_chain(chain, ChainEnd.ROUND_EXPIRED, now(), packet_id=None),
        check,
    )


def volumes(store: SqlStore) -> Crossing:
    """Sends of four hosts counted in their day's volume: the daily cap lets CAP through."""
    day = now().date()

    hosts = store.write_sync(lambda tx: [tx.add_host(f"host{i}", 1000, FEN * CAP, now()) for i in range(ROWS)])

    def check(store: SqlStore, outcomes: list[Any]) -> None:
        assert outcomes.count(False) == ROWS
        sent = store.read_sync(lambda tx: [int(tx.conn.execute(select(h.host_volume.c.sent_fen).where(
            h.host_volume.c.host_id == hid)).scalar_one()) for hid in hosts])  # fmt: skip
        assert sent == [FEN * CAP] * ROWS

    return Crossing(lambda _: hosts, lambda hid, i: lambda tx: tx.add_host_volume(hid, day, FEN, FEN * CAP), check)


KINDS: dict[str, Callable[[SqlStore], Crossing]] = {
    "claims": claims, "coupons": coupons, "groups": groups, "shakes": shakes, "relay": relay, "volumes": volumes,
}


def cross(stores: tuple[SqlStore, SqlStore], crossing: Crossing) -> list[Any]:
    """Every round: both writers at once, each one batch of writes over the round's rows (writer 1 the other way
    round); the outcomes of every write (bench/two_writers_rows.py runs this too)."""
    outcomes: list[Any] = []
    for n in range(ROUNDS):
        rows = crossing.rows(n)
        writes = [[crossing.write(row, 0) for row in rows], [crossing.write(row, 1) for row in rows[::-1]]]

        async def drive(i: int, store: SqlStore) -> None:
            outcomes.extend(await one_batch(store, writes[i]))  # noqa: B023 - both_at_once returns first

        both_at_once(stores, drive)
    return outcomes


def crossed_cleanly(stores: tuple[SqlStore, SqlStore], kind: str, crossing: Crossing) -> None:
    """Cross both writers (`cross`), then: every write answered, the kind's checks, reconcile clean, no deadlock
    counted and no batch refused as busy (test_opposite_keyed_rows.py too)."""
    outcomes = cross(stores, crossing)
    busy, deferred = [st.busy_failures for st in stores], sum(st.deferred_jobs for st in stores)
    try:
        assert [o for o in outcomes if isinstance(o, BaseException)] == []  # every write answered, none 503
        assert len(outcomes) == 2 * ROUNDS * ROWS
        crossing.check(stores[0], outcomes)
        assert reconcile(stores[0]).violations == []
    finally:
        found = deadlocks(stores)
        print(f"{kind}: deadlocks {found}, busy batches {busy}, deferred writes {deferred}")
    assert (found, busy) == (0, [0, 0])  # PostgreSQL counted no deadlock; no batch failed and ran again


@pytest.mark.parametrize("kind", list(KINDS))
def test_two_writers_crossing_on_capped_rows_never_deadlock(stores: tuple[SqlStore, SqlStore], kind: str) -> None:
    crossed_cleanly(stores, kind, KINDS[kind](stores[0]))
