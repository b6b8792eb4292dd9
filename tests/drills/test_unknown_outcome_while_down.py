"""Drill C: a COMMIT's reply is lost and the database then stays away for 20 s.

The writer cannot ask whether that batch committed: its request, and every write queued behind it, answer 503
store_unavailable within the client's 15 s (they waited 30 s before the writer gave the question up after
HONGBAO_WRITE_RESOLVE_S); once the database is back, writes succeed, the lost batch's outcome is settled, every
client-seen success is in the ledger and reconcile is clean.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.drills.checks import answer_problems, ledger_problems, reconcile_problems
from tests.drills.client import Record, logged_in
from tests.drills.pg_cluster import PgCluster
from tests.drills.proxy import CommitCutter, every_nth
from tests.drills.server import cli, serving
from tests.drills.workload import Workload

pytestmark = pytest.mark.drill
DOWN_S = 20.0


def test_given_a_lost_reply_when_the_database_then_stays_away_then_writes_answer_503_within_the_client_timeout(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    name = f"drill_x_{uuid.uuid4().hex[:6]}"
    direct = pg_cluster.create_database(name)
    assert cli(direct, "migrate").returncode == 0
    proxy = CommitCutter(pg_cluster.port)
    record = Record()
    tag = "X0"
    try:
        with serving(pg_cluster.url(name, port=proxy.port), tmp_path) as served:
            load = Workload(served.base, tag, record)
            others = {n: logged_in(served.base, n) for n in ("bob", "carol")}
            proxy.arm(every_nth(1, "reply_then_down"))
            t0 = time.monotonic()
            first = threading.Thread(target=load.send, args=(load.clients["alice"], load.ids["alice"], f"{tag}-first"))
            first.start()
            while not proxy.down and time.monotonic() - t0 < 10:
                time.sleep(0.01)
            proxy.disarm()
            # while the database is away: a write queued behind the unknown batch, and a read
            second = record.call(others["bob"], "POST", "/v1/transfers", op="transfer", subject=f"{tag}-second",
                                 json={"to_user_id": load.ids["carol"], "amount_fen": 1, "note": f"{tag}-second"})
            read = record.call(others["carol"], "GET", "/v1/wallet", op="read")
            first.join()
            print(f"first answered after {time.monotonic() - t0:.1f} s; second {second}; read {read}")
            time.sleep(max(0.0, DOWN_S - (time.monotonic() - t0)))
            proxy.come_up()
            ok = any(load.send(load.clients["alice"], load.ids["alice"], f"{tag}-after{k}") or time.sleep(0.5)
                     for k in range(40))
            log = served.log_tail()
            load.close()
    finally:
        proxy.close()
    print(record.tally(), proxy.counts)
    problems = answer_problems(record) + ledger_problems(direct, record, tag) + reconcile_problems(direct)
    if not ok:
        problems.append("no write succeeded after the database came back")
    assert not problems, "\n".join([*problems, str(record.tally()), log[-3000:]])
