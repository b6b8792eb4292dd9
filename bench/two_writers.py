"""Two writers on one PostgreSQL moving money between the same wallets in opposite orders: writes/s and deadlocks.

Two `SqlStore`s (each its own writer thread and connection, as two processes have) on a fresh database; each round
a writer submits a chain of transfers along the wallets in its order and one write paying every other wallet from
the first (tests/scaled/money_moves.py), the other writer the other way round.  Reports per run the writes/s, the
deadlocks PostgreSQL counted in the database (pg_stat_database; each costs its 1 s deadlock_timeout and a batch
retried), the writes answered 503 after their batch kept failing, and the writes deferred
to the next batch because the other writer held their accounts; checks afterwards that reconcile is clean.

    PYTHONPATH=src python bench/two_writers.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: tests/scaled/money_moves.py
from tests.conftest import fresh_pg_database
from tests.scaled.crossing import deadlocks
from tests.scaled.money_moves import open_wallets, race

from hongbao.adapters.sql import migrate
from hongbao.adapters.sql.store import SqlStore
from hongbao.service.reconcile import reconcile


def one_run(users: int, rounds: int) -> dict[str, float]:
    with fresh_pg_database("hongbao_bench_two_writers") as url:
        first = SqlStore(url)
        migrate.upgrade(first.engine)
        stores = (first, SqlStore(url))
        try:
            wallets = open_wallets(first, users)
            started = time.perf_counter()
            writes, failed = race(stores, wallets, rounds)
            took = time.perf_counter() - started
            report = reconcile(first)
            assert report.violations == [], report.violations  # a write answered 503 here changed nothing
            figures = {
                "writes_per_s": writes / took,
                "seconds": took,
                "failed_writes": failed,
                "deferred": sum(getattr(s, "deferred_jobs", 0) for s in stores),  # 0 before the counter existed
                "batches": sum(s.batches for s in stores),
            }
        finally:
            dead = deadlocks(stores)  # closes both stores
        figures["deadlocks"] = dead
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for _ in range(args.runs):
        runs.append(one_run(args.users, args.rounds))
        print(json.dumps({k: round(v, 1) for k, v in runs[-1].items()}), flush=True)
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print("median", json.dumps({k: round(v, 1) for k, v in median.items()}))


if __name__ == "__main__":
    main()
