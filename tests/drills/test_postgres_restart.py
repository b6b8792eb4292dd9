"""Drill B: PostgreSQL restarts under load; the API answers 503, never 500 or a hang, and recovers by itself.

`hongbao serve` runs on a private cluster while four clients send, open, transfer and read.  Mid-load the
cluster is restarted with `pg_ctl restart -m <mode>`, then stopped with the same mode and held down while
probes check what clients get during the outage, then started again (issue 8, defect 2).  No timings are
asserted beyond the client's timeout: an answer may be slow on this noisy machine, but it must come.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.drills.checks import answer_problems, ledger_problems, reconcile_problems
from tests.drills.client import Record, logged_in
from tests.drills.conftest import ROUNDS
from tests.drills.pg_cluster import PgCluster
from tests.drills.server import cli, serving
from tests.drills.workload import Workload

pytestmark = pytest.mark.drill

STEPS_PER_USER = 60  # 4 users × (15 sends, 15 transfers, opens, 30 reads) ≈ 300 requests, fewer if it ends early
CALLS_BETWEEN_FAULTS = 25  # answered requests between two faults, so that each fault lands mid-load
WAIT_S_MAX = 20.0  # bound on waiting for the load to make progress (never asserted as a speed)
RECOVERY_S_MAX = 40.0  # after PostgreSQL is back, a write must succeed within this (bounded, not a speed bar)
SIGTERM_S_MAX = 10.0


@pytest.mark.parametrize("mode", ["fast", "immediate"])
@pytest.mark.parametrize("round_no", range(ROUNDS))
def test_given_load_when_postgres_restarts_then_clients_get_503_not_500_and_writes_come_back_without_a_restart(
    pg_cluster: PgCluster, tmp_path: Path, mode: str, round_no: int
) -> None:
    # Given a server on a fresh database and four clients at work
    if not pg_cluster.running:  # an earlier round that failed half-way may have left it down
        pg_cluster.start()
    name = f"drill_b_{mode}_{round_no}_{uuid.uuid4().hex[:6]}"
    direct = pg_cluster.create_database(name)
    migrated = cli(direct, "migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    tag = f"B{mode[0]}{round_no}"
    record = Record()
    probes = Record()
    problems: list[str] = []
    with serving(direct, tmp_path) as served:
        load = Workload(served.base, tag, record, reads=True)
        prober = logged_in(served.base, "bob")
        stop = threading.Event()
        loader = threading.Thread(target=load.run, args=(STEPS_PER_USER,), kwargs={"stop": stop, "deadline_s": 60})
        loader.start()
        try:
            # When PostgreSQL restarts mid-load
            _wait_for_calls(record, CALLS_BETWEEN_FAULTS)
            pg_cluster.restart(mode)
            _wait_for_calls(record, CALLS_BETWEEN_FAULTS)
            # and then stays down for a while
            pg_cluster.stop(mode)
            try:
                problems += _probe(load, prober, probes, f"{tag}-probe")
            finally:
                pg_cluster.start()
            _wait_for_calls(record, CALLS_BETWEEN_FAULTS)
        finally:
            stop.set()
            loader.join()
        # Then writes succeed again on the same server process, and /ready says so
        recovered = _recovers(load, prober, tag)
        if recovered is not None:
            problems.append(recovered)
        if served.proc.poll() is not None:
            problems.append(f"the server process died (exit {served.proc.returncode})")
        stopped = served.terminate(SIGTERM_S_MAX)
        if not stopped:
            problems.append(f"SIGTERM did not stop the server within {SIGTERM_S_MAX} s")
        load.close()
        prober.close()
        log = served.log_tail()

    figure = f"{mode}: answers {record.tally()}; probes {probes.tally()}"
    print(figure)  # the drill's figure, shown with -s or on failure
    problems += answer_problems(record) + answer_problems(probes)
    problems += ledger_problems(direct, record, tag) + reconcile_problems(direct)
    assert not problems, "\n".join([*problems[:40], figure, "server log:", log])


def _wait_for_calls(record: Record, more: int) -> None:
    """Until `more` further requests are answered (or WAIT_S_MAX passed: a stalled load is judged later)."""
    target = len(record.calls) + more
    deadline = time.monotonic() + WAIT_S_MAX
    while len(record.calls) < target and time.monotonic() < deadline:
        time.sleep(0.05)


def _probe(load: Workload, client: httpx.Client, probes: Record, subject: str) -> list[str]:
    """A write and a read while the database is down must answer 503 store_unavailable, and /ready 503."""
    write = probes.call(
        client, "POST", "/v1/transfers", op="transfer", subject=subject,
        json={"to_user_id": load.ids["alice"], "amount_fen": 1, "note": subject},
    )  # fmt: skip
    read = probes.call(client, "GET", "/v1/wallet", op="read")
    wrong = [f"while PostgreSQL was down, not a 503 store_unavailable: {c}" for c in (write, read) if not c.unavailable]
    ready = _status(client, "/ready")
    if ready != 503:
        wrong.append(f"while PostgreSQL was down, /ready answered {ready}, not 503")
    return wrong


def _status(client: httpx.Client, path: str) -> int | str:
    try:
        return client.get(path).status_code
    except httpx.HTTPError as exc:
        return f"no answer ({type(exc).__name__})"


def _recovers(load: Workload, client: httpx.Client, tag: str) -> str | None:
    """None once a write succeeds and /ready answers 200 on the same process; else what never came back."""
    deadline = time.monotonic() + RECOVERY_S_MAX
    wrote = False
    tries = 0
    while time.monotonic() < deadline:
        tries += 1  # a fresh greeting each time: a 503'd try may have taken effect, and is a request of its own
        wrote = wrote or load.send(client, load.ids["bob"], f"{tag}-after{tries}")
        if wrote and _status(client, "/ready") == 200:
            return None
        time.sleep(0.5)
    return "after PostgreSQL came back " + ("/ready never answered 200" if wrote else "no write succeeded")
