"""Two writers on one PostgreSQL expiring and opening the same packets in opposite orders: seconds and deadlocks.

Two `SqlStore`s (each its own writer thread and connection, as two processes have) on a fresh database; each round
(tests/scaled/test_opposite_packets.py) a setup write sends packets, then both writers at once submit, as one batch:
`expire`, an expiry of each of 8 due packets, one writer in id order and the other the other way round; `mixed`,
expiries of 4 due packets (in opposite orders) and then opens of those and of 4 live ones (the bulk settle, which
locks them in id order); `hot`, 200 opens each of one packet of 400 shares (the cost of deferring, not waiting, on
a packet the other writer holds).  Reports the seconds, the deadlocks PostgreSQL counted in the database
(pg_stat_database), batches refused as busy and writes deferred; checks afterwards that reconcile is clean.

    PYTHONPATH=src python bench/two_writers_packets.py --kinds expire,mixed,hot --rounds 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: tests/scaled/
from tests.conftest import fresh_pg_database
from tests.scaled.crossing import both_at_once, deadlocks, one_batch
from tests.scaled.money_moves import open_wallets
from tests.scaled.test_opposite_packets import PACKETS, expire, expire_then_open, open_bulk, send_due

from hongbao.adapters.sql import migrate
from hongbao.adapters.sql.store import SqlStore
from hongbao.adapters.sql.tx import SqlTx
from hongbao.domain.packets import PacketKind
from hongbao.domain.split import Split
from hongbao.service.reconcile import reconcile

HOT_SHARES = 400


def send_hot(store: SqlStore, sender: int) -> int:
    def job(tx: SqlTx) -> int:
        now = datetime.now(UTC)
        return tx.create_packet(kind=PacketKind.GROUP, how=Split.DOUBLE_MEAN, sender_id=sender, group_id=None,
                                recipient_id=None, total_fen=HOT_SHARES * 100, shares_count=HOT_SHARES, greeting="",
                                now=now, expires_at=now + timedelta(hours=1))  # fmt: skip

    return store.write_sync(job)


def one_round(kind: str, stores: tuple[SqlStore, SqlStore], users: list[int], outs: list[list[object]]) -> None:
    senders, openers = users[:2], users[2:]
    if kind == "expire":
        due = send_due(stores[0], senders, PACKETS)

        async def drive(i: int, store: SqlStore) -> None:
            outs[i].extend(await one_batch(store, [expire(p) for p in (due if i == 0 else due[::-1])]))
    elif kind == "mixed":
        due = send_due(stores[0], senders, PACKETS // 2)
        live = send_due(stores[0], senders, PACKETS // 2, live=True)

        async def drive(i: int, store: SqlStore) -> None:
            await expire_then_open(store, due[::-1] if i == 0 else due, live, openers[i], outs[i])
    else:
        hot = send_hot(stores[0], senders[0])

        async def drive(i: int, store: SqlStore) -> None:
            await open_all(store, hot, openers[i::2], outs[i])

    both_at_once(stores, drive)


async def open_all(store: SqlStore, packet: int, openers: list[int], out: list[object]) -> None:
    out.extend(await asyncio.gather(*(store.settle(open_bulk(packet, u)) for u in openers), return_exceptions=True))


def one_run(kind: str, rounds: int) -> dict[str, float]:
    with fresh_pg_database("hongbao_bench_two_writers_packets") as url:
        first = SqlStore(url)
        migrate.upgrade(first.engine)
        stores = (first, SqlStore(url))
        try:
            users = open_wallets(first, 4 + (HOT_SHARES if kind == "hot" else 0))
            outs: list[list[object]] = [[], []]
            started = time.perf_counter()
            for _ in range(rounds):
                one_round(kind, stores, users, outs)
            took = time.perf_counter() - started
            report = reconcile(first)
            assert report.violations == [], report.violations
            figures = {
                "seconds": took,
                "writes": sum(map(len, outs)),
                "busy_failures": sum(s.busy_failures for s in stores),
                "deferred": sum(s.deferred_jobs for s in stores),
            }
        finally:
            dead = deadlocks(stores)  # closes both stores
        figures["deadlocks"] = dead
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default="expire,mixed,hot")
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    for kind in args.kinds.split(","):
        figures = one_run(kind, args.rounds if kind != "hot" else max(1, args.rounds // 4))
        print(kind, json.dumps({k: round(v, 1) for k, v in figures.items()}), flush=True)


if __name__ == "__main__":
    main()
