"""The entry point behind `hongbao simulate`: wire a fresh store, drive the seeded workload step by step, audit."""

from __future__ import annotations

import asyncio
import logging
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from hongbao.config import Settings
from hongbao.gc_tuned import gc_tuned
from hongbao.sim.auditor import audit, audit_step, inject_fault, is_empty
from hongbao.sim.base import Mismatch, SimResult
from hongbao.sim.faults import Killed
from hongbao.sim.report import report
from hongbao.sim.workload import Workload

PACKET_TTL_S = 3600  # shorter than the product's 24 h, so that many packets expire during a run
CAMPAIGN_BUDGET_FEN_MAX = 20_000  # small, so that top-ups reach it
FULL_AUDIT_EVERY_STEP_UNTIL = 50
FULL_AUDIT_GAP_MIN = 500  # then a full audit every 500 steps, the gap growing by a quarter of the run so far,
FULL_AUDIT_GAP_SHARE = 4  # so that the full audits' cost (which grows with the ledger) stays a bounded share
# Between full audits, what the steps touched is compared every few steps (all of it: the touched rows pile up
# until then), and at once after a step that met a fault, a crash or a kill.  Once every step cost a read
# transaction per step, as much as a step itself; a wrong row stays wrong, so it is found all the same, a few
# steps later (the failure names the steps since the last check; `step_audit_every=1` names the very step).
STEP_AUDIT_EVERY = 10
# A tmpfs: the simulator's SQLite file needs no durability against a power cut (a kill -9 loses nothing that
# the page cache holds), and fsync on a disk would be most of each operation's time.
FAST_DIR = Path("/dev/shm")
PROGRESS_EVERY = 100
STEP_TIMEOUT_S = 60.0  # far above any step's time (the store gives up on a write after 30 s): a hang is a finding


def _run(drive: Coroutine[Any, Any, list[str]]) -> list[str]:
    """`asyncio.run` without its last step, which waits for every task left, such as a step the store hung."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(drive)
    finally:
        loop.close()


def sim_settings(url: str, data_dir: Path) -> Settings:
    """The App the simulator drives: no scheduler (the workload runs the sweeps), cheap argon2, short packet
    lives and small campaign budgets, so that expiries and exhausted budgets come often."""
    return Settings(
        database_url=url, data_dir=data_dir, demo=False, scheduler=False, packet_ttl_s=PACKET_TTL_S,
        argon2_time_cost=1, argon2_memory_kib=8, argon2_parallelism=1,
        campaign_budget_fen_max=CAMPAIGN_BUDGET_FEN_MAX,
    )


@contextmanager
def _quiet_store() -> Iterator[None]:
    """The store logs every fault it survives, a sweep each item it left for the next pass, and the writer of a
    killed App its end: thousands of lines that say nothing the audits do not."""
    store_log, app_log = logging.getLogger("hongbao.adapters.sql.store"), logging.getLogger("hongbao")
    level, app_level, hook = store_log.level, app_log.level, threading.excepthook
    store_log.setLevel(logging.CRITICAL)
    app_log.setLevel(logging.CRITICAL)  # each item a faulted sweep left for later is logged; findings come from audits

    def ignore_killed(args: threading.ExceptHookArgs) -> None:
        if not isinstance(args.exc_value, Killed):
            hook(args)

    threading.excepthook = ignore_killed
    try:
        yield
    finally:
        store_log.setLevel(level)
        app_log.setLevel(app_level)
        threading.excepthook = hook


def full_audit_steps(ops: int) -> set[int]:
    """The steps after which the full audit (reconcile and every row) runs: the first ones, then ever wider gaps."""
    steps, step = set(range(1, min(ops, FULL_AUDIT_EVERY_STEP_UNTIL) + 1)), FULL_AUDIT_EVERY_STEP_UNTIL
    while step < ops:
        step += max(FULL_AUDIT_GAP_MIN, step // FULL_AUDIT_GAP_SHARE)
        steps.add(min(step, ops))
    return steps


def run_simulation(
    *,
    seed: int,
    ops: int,
    database_url: str | None,
    console: Console | None,
    inject_fault_at: int | None = None,
    faults: bool = True,
    fault_rate: float | None = None,
    progress: Callable[[int], None] | None = None,
    step_audit_every: int = STEP_AUDIT_EVERY,
    jobs: int = 1,
) -> SimResult:
    """Run `ops` seeded operations against a real App and audit the store against the model; report.
    (`jobs` > 1: that many runs at once in their own processes, seeds `seed`, `seed + 1`, …, the operations
    shared among them, each on its own SQLite file; see `sim.parallel`.)

    The store is a SQLite file in a temporary folder (on the /dev/shm tmpfs when there is one: the faults
    never cut the power, so fsync buys the run nothing), or `database_url`, which must point at a fresh,
    empty database (the model starts empty: a database with users, packets or transfers is refused).
    The App is wired by `bootstrap.build` with a frozen `SimClock` (it moves only when the workload
    advances it), seeded split and prize-draw generators, cheap argon2, small campaign budgets and no
    scheduler.  The workload draws every choice from `random.Random(seed)`, so the same seed replays the
    same operations (`SimResult.log`) with the same outcomes; the one race left open is which of two twin
    opens (same user, same key, at once) the gate refuses, which changes no balance.  A "crash" closes the
    App and builds a new one on the same database: the gate, token, login, claim-link and shake-rate
    memories are lost, the ledger stays.

    With `faults` (the default), money requests meet the faults of `sim.faults` (a lost COMMIT request or
    reply, a database restart, an outage, a kill -9 between COMMIT and reply) at `fault_rate` (tests raise
    it); a request whose outcome the client cannot know is settled as `sim.hostile` describes.

    Besides packets, verified enterprises run link and followers campaigns (cash and coupon prizes, caps
    per user and per day, top-ups, cancels) and shake events with sponsors' pools; users follow, claim
    (alone, in bursts, with keys and replays) and shake; the clock jumps to the edges of windows and
    rounds, and the close pass returns what was not paid.  Where randomness decides (which prize, whether
    a shake wins) the model accepts any allowed outcome; everything else it predicts, refusals included.

    Every `step_audit_every` steps (10), and at once after a step that met a fault, a crash or a kill, the
    auditor checks what the steps since its last check touched (wallets, packets, campaigns, offers, shake
    players) and the total of every wallet.  The full audit (`reconcile(store).violations == []`, every
    wallet, packet, campaign, offer, coupon and shake player against the model, and the payment channel's
    totals) runs after each of the first 50 steps, then after gaps of 500 steps that widen with the run
    (a quarter of the steps so far), at the end and at an injected fault.  A step that gets no answer in
    60 s is a finding (a hung store).  The first failure stops the run; it names the seed, the step and
    the operation.  `inject_fault_at` (tests only) corrupts a cached balance at that step.
    """
    out = console or Console(quiet=True)
    if jobs > 1:
        if database_url is not None:
            failure = "runs in parallel need the SQLite store (each run its own file): no --database-url with --jobs"
            out.print(f"[red]{escape(failure)}[/]")
            return SimResult(False, seed, ops, [failure], {}, [])
        from hongbao.sim.parallel import run_parallel

        return run_parallel(seed=seed, ops=ops, jobs=jobs, console=console, faults=faults, fault_rate=fault_rate,
                            progress=progress)  # fmt: skip
    fast = FAST_DIR if FAST_DIR.is_dir() else None
    with tempfile.TemporaryDirectory(prefix="hongbao-sim-", dir=fast) as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'sim.db'}"
        sim = Workload(seed, sim_settings(url, Path(tmp)), inject_fault_at, faults=faults)
        if fault_rate is not None:
            sim.faults.rate = fault_rate
        seconds = 0.0
        try:
            if not sim.app.store.read_sync(is_empty):
                failure = (f"seed={seed}: the database at {url.split('@')[-1]} is not empty; "
                           "the simulator needs a fresh database")
                out.print(f"[red]{escape(failure)}[/]")
                return SimResult(False, seed, ops, [failure], {}, [])
            started = time.monotonic()
            with _quiet_store(), gc_tuned():
                failures = _run(_drive(sim, ops, progress, step_audit_every))
            seconds = time.monotonic() - started
        finally:
            sim.close()
    result = SimResult(not failures, seed, ops, failures, sim.stats(), sim.log, seconds, sim.step_no)
    report(out, result)
    return result


async def _drive(
    sim: Workload, ops: int, progress: Callable[[int], None] | None, step_audit_every: int = STEP_AUDIT_EVERY
) -> list[str]:
    full = full_audit_steps(ops)
    checked = 0  # the last step after which the auditor compared the store with the model
    for step in range(1, ops + 1):
        sim.op, sim.step_no, sim.eventful = "", step, False
        try:
            # Not wait_for: it would wait for the hung step to take its cancellation, which a hung store never does.
            task = asyncio.ensure_future(sim.step(sim.choose()))
            done, _ = await asyncio.wait({task}, timeout=STEP_TIMEOUT_S)
            if not done:
                raise Mismatch(f"no answer within {STEP_TIMEOUT_S:.0f} s: the store hangs")
            task.result()
            if step == sim.inject_fault_at:
                inject_fault(sim)
            if step in full or step == sim.inject_fault_at:
                audit(sim)
                checked = step
            elif sim.eventful or step % step_audit_every == 0:
                audit_step(sim)
                checked = step
            if progress is not None and step % PROGRESS_EVERY == 0:
                progress(step)
        except Mismatch as exc:
            return [_failure(sim, step, ops, str(exc), checked)]
        except Exception as exc:  # any crash of the system under test is a finding too
            where = traceback.extract_tb(exc.__traceback__)[-1]
            detail = f"unexpected {type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})"
            return [_failure(sim, step, ops, detail, step - 1)]
    return []


def _failure(sim: Workload, step: int, ops: int, detail: str, checked: int) -> str:
    since = f" (found by the audit after step {step}; steps {checked + 1}-{step} ran since the last one)" \
        if step - checked > 1 else ""
    return (f"seed={sim.seed} step={step}/{ops} op=[{sim.op}]: {detail}{since} — "
            f"replay with: hongbao simulate --seed {sim.seed} --ops {ops}")
