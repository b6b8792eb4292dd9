"""The entry point behind `hongbao simulate`: wire a fresh store, drive the seeded workload step by step, audit."""

from __future__ import annotations

import asyncio
import tempfile
import traceback
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from hongbao.config import Settings
from hongbao.sim.auditor import audit, inject_fault, is_empty
from hongbao.sim.base import Mismatch, SimResult
from hongbao.sim.report import report
from hongbao.sim.workload import Workload

PACKET_TTL_S = 3600  # shorter than the product's 24 h, so that many packets expire during a run
CAMPAIGN_BUDGET_FEN_MAX = 20_000  # small, so that top-ups reach it
AUDIT_EVERY_STEP_UNTIL = 200
AUDIT_EVERY = 10


def run_simulation(
    *,
    seed: int,
    ops: int,
    database_url: str | None,
    console: Console | None,
    inject_fault_at: int | None = None,
) -> SimResult:
    """Run `ops` seeded operations against a real App and audit the store against the model; report.

    The store is a SQLite file in a temporary folder, or `database_url`, which must point at a fresh,
    empty database (the model starts empty: a database with users, packets or transfers is refused).
    The App is wired by `bootstrap.build` with a frozen `SimClock` (it moves only when the workload
    advances it), seeded split and prize-draw generators, cheap argon2, small campaign budgets and no
    scheduler.  The workload draws every choice from `random.Random(seed)`, so the same seed replays the
    same operations (`SimResult.log`) with the same outcomes; the one race left open is which of two twin
    opens (same user, same key, at once) the gate refuses, which changes no balance.  A "crash" closes the
    App and builds a new one on the same database: the gate, token, login, claim-link and shake-rate
    memories are lost, the ledger stays.

    Besides packets, verified enterprises run link and followers campaigns (cash and coupon prizes, caps
    per user and per day, top-ups, cancels) and shake events with sponsors' pools; users follow, claim
    (alone, in bursts, with keys and replays) and shake; the clock jumps to the edges of windows and
    rounds, and the close pass returns what was not paid.  Where randomness decides (which prize, whether
    a shake wins) the model accepts any allowed outcome; everything else it predicts, refusals included.

    The auditor checks `reconcile(store).violations == []`, every wallet, packet, campaign (budget, paid,
    returned, claims per user and day, the budget account, the one return transfer), offer, coupon and
    shake player against the model, and the payment channel's totals: after every step for the first 200
    steps, then every 10 steps and at the end (and at an injected fault).  The first failure stops the
    run; it names the seed, the step and the operation.  `inject_fault_at` (tests only) corrupts a
    cached balance at that step.
    """
    out = console or Console(quiet=True)
    with tempfile.TemporaryDirectory(prefix="hongbao-sim-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'sim.db'}"
        settings = Settings(
            database_url=url, data_dir=Path(tmp), demo=False, scheduler=False, packet_ttl_s=PACKET_TTL_S,
            argon2_time_cost=1, argon2_memory_kib=8, argon2_parallelism=1,
            campaign_budget_fen_max=CAMPAIGN_BUDGET_FEN_MAX,
        )
        sim = Workload(seed, settings, inject_fault_at)
        try:
            if not sim.app.store.read_sync(is_empty):
                failure = (f"seed={seed}: the database at {url.split('@')[-1]} is not empty; "
                           "the simulator needs a fresh database")
                out.print(f"[red]{escape(failure)}[/]")
                return SimResult(False, seed, ops, [failure], {}, [])
            failures = asyncio.run(_drive(sim, ops))
        finally:
            sim.close()
    result = SimResult(not failures, seed, ops, failures, sim.stats(), sim.log)
    report(out, result)
    return result


async def _drive(sim: Workload, ops: int) -> list[str]:
    for step in range(1, ops + 1):
        sim.op, sim.step_no = "", step
        try:
            await sim.step(sim.choose())
            if step == sim.inject_fault_at:
                inject_fault(sim)
            if step <= AUDIT_EVERY_STEP_UNTIL or step % AUDIT_EVERY == 0 or step in (ops, sim.inject_fault_at):
                audit(sim)
        except Mismatch as exc:
            return [_failure(sim, step, ops, str(exc))]
        except Exception as exc:  # any crash of the system under test is a finding too
            where = traceback.extract_tb(exc.__traceback__)[-1]
            detail = f"unexpected {type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})"
            return [_failure(sim, step, ops, detail)]
    return []


def _failure(sim: Workload, step: int, ops: int, detail: str) -> str:
    return (f"seed={sim.seed} step={step}/{ops} op=[{sim.op}]: {detail} — "
            f"replay with: hongbao simulate --seed {sim.seed} --ops {ops}")


