"""Two writers on one PostgreSQL crossing on shared rows (caps; rows settled once by key): seconds and deadlocks.

Two `SqlStore`s (each its own writer thread and connection, as two processes have) on a fresh database per run;
each of 12 rounds (tests/scaled/test_opposite_rows.py) both writers at once submit one batch of writes over the
same 4 rows, one writer in its order and the other the other way round: `claims` (a user's claims on 4 campaigns:
claimer count, prize, campaign budget, wallets), `coupons` (4 offers' stock), `groups` (members added to 4 groups
under the group's lock), `shakes` (K-wins counts of 4 players), `relay` (4 relay chains ended), `volumes` (4 hosts'
daily volume); and the rows settled once by key (tests/scaled/test_opposite_keyed_rows.py): `asks` (declined
by two members at once), `payments` (declined top-ups marked failed twice), `friends` (requests accepted twice),
`transfers` (orders accepted twice, to 4 recipients), `outbox` (webhook messages taken twice), `secrets` (the same
password phrases held by two senders' packets).  Reports the seconds, the writes answered an error, the deadlocks
PostgreSQL counted in the database (pg_stat_database), batches refused as busy and writes deferred, and this
process's CPU per write (both writers and their callers run here; PostgreSQL's own CPU is not counted); checks every
cap (each row settled once) and reconcile afterwards.

    PYTHONPATH=src python bench/two_writers_rows.py --kinds claims,coupons --runs 3
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: tests/scaled/
from tests.conftest import fresh_pg_database
from tests.scaled import test_opposite_keyed_rows, test_opposite_rows
from tests.scaled.crossing import deadlocks
from tests.scaled.test_opposite_rows import cross

from hongbao.adapters.sql import migrate
from hongbao.adapters.sql.store import SqlStore
from hongbao.service.reconcile import reconcile

KINDS = {**test_opposite_rows.KINDS, **test_opposite_keyed_rows.KINDS}


def one_run(kind: str) -> dict[str, float]:
    figures: dict[str, float] = {}
    with fresh_pg_database("hongbao_bench_two_writers_rows") as url:
        first = SqlStore(url)
        migrate.upgrade(first.engine)
        stores = (first, SqlStore(url))
        try:
            crossing = KINDS[kind](first)
            started, cpu = time.perf_counter(), time.process_time()
            outcomes = cross(stores, crossing)
            took, cpu_s = time.perf_counter() - started, time.process_time() - cpu
            figures.update({
                "seconds": took,
                "cpu_ms_per_write": 1000 * cpu_s / len(outcomes),
                "writes": len(outcomes),
                "errors": sum(isinstance(o, BaseException) for o in outcomes),
                "busy_failures": sum(s.busy_failures for s in stores),
                "deferred": sum(s.deferred_jobs for s in stores),
            })
            if not figures["errors"]:
                crossing.check(first, outcomes)
            report = reconcile(first)
            assert report.violations == [], report.violations
        finally:
            figures["deadlocks"] = deadlocks(stores)  # closes both stores
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    for kind in args.kinds.split(","):
        for _ in range(args.runs):
            figures = one_run(kind)
            print(kind, json.dumps({k: round(v, 2) for k, v in figures.items()}), flush=True)


if __name__ == "__main__":
    main()
