"""Drill A: PostgreSQL commits and the reply is lost; no request may take effect twice (issue 8, defect 1).

`hongbao serve` talks to a private cluster through a loopback proxy that, for a seeded choice of COMMITs,
lets the COMMIT through, waits for the server's answer and cuts the connection instead of relaying it (and
for a few others cuts the connection before the COMMIT).  Four clients send packets and transfers without
an Idempotency-Key and open each other's packets meanwhile.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from tests.drills.checks import answer_problems, ledger_problems, reconcile_problems
from tests.drills.client import Record
from tests.drills.conftest import ROUNDS
from tests.drills.pg_cluster import PgCluster
from tests.drills.proxy import CommitCutter, seeded
from tests.drills.server import cli, serving
from tests.drills.workload import Workload

pytestmark = pytest.mark.drill

STEPS_PER_USER = 36  # 4 users × (12 sends, 12 transfers, up to 24 opens) ≈ 200 requests
REPLY_LOST_RATE = 0.2
REQUEST_LOST_RATE = 0.05
RECOVERY_TRIES = 20  # after the faults stop, a write must succeed again, without restarting the server


@pytest.mark.parametrize("round_no", range(ROUNDS))
def test_given_lost_commit_replies_when_clients_send_transfer_and_open_then_nothing_takes_effect_twice(
    pg_cluster: PgCluster, tmp_path: Path, round_no: int
) -> None:
    # Given a server on a fresh database behind the proxy, and the demo users logged in
    name = f"drill_a_{round_no}_{uuid.uuid4().hex[:6]}"
    direct = pg_cluster.create_database(name)
    migrated = cli(direct, "migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    proxy = CommitCutter(pg_cluster.port)
    tag = f"A{round_no}"
    record = Record()
    try:
        with serving(pg_cluster.url(name, port=proxy.port), tmp_path) as served:
            load = Workload(served.base, tag, record)
            try:
                # When commits' replies (and a few commits) are lost while the clients work
                proxy.arm(seeded(round_no, REPLY_LOST_RATE, REQUEST_LOST_RATE))
                load.run(STEPS_PER_USER, deadline_s=50)
                proxy.disarm()
                # Then the same server takes a write again
                alice = load.clients["alice"]
                recovered = False
                for k in range(RECOVERY_TRIES):  # a fresh greeting each time: a 503'd try is a request of its own
                    if load.send(alice, load.ids["alice"], f"{tag}-after{k}"):
                        recovered = True
                        break
                    time.sleep(0.5)
                alive = served.proc.poll() is None
                log = served.log_tail()
            finally:
                load.close()
    finally:
        proxy.close()

    figure = f"proxy {proxy.counts}; answers {record.tally()}"
    print(figure)  # the drill's figure, shown with -s or on failure
    assert proxy.counts.replies_cut > 0, f"the drill injected no lost reply: {figure}"
    problems = answer_problems(record) + ledger_problems(direct, record, tag) + reconcile_problems(direct)
    if not recovered:
        problems.append("after the faults stopped, no write succeeded within the retries (server not recovered)")
    if not alive:
        problems.append("the server process died")
    assert not problems, "\n".join([*problems[:40], figure, "server log:", log])
