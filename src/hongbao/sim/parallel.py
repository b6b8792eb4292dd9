"""Several seeded runs at once, one process each: how a long simulation uses every core of the machine.

One run is one process: its steps, its App's writer and its auditor share one interpreter lock, so a run uses
about one core however many there are.  `run_parallel` starts `jobs` runs in their own processes, run i with
seed `seed + i`, each on its own SQLite file and with its share of the operations, and adds their figures up.
Each run is exactly the run `hongbao simulate --seed <seed + i> --ops <its share>` would make alone (same
operations, same faults, same audits), so a failure names the seed and the operations that replay it alone.
What it does not give is one ledger as long as all the runs together: each run's ledger holds its own share.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from rich.console import Console

from hongbao.sim.base import SimResult
from hongbao.sim.report import report

POLL_S = 0.5


def shares(ops: int, jobs: int) -> list[int]:
    """The operations of each run: as even as can be, the first runs taking what does not divide."""
    return [ops // jobs + (1 if i < ops % jobs else 0) for i in range(jobs)]


def run_parallel(
    *,
    seed: int,
    ops: int,
    jobs: int,
    console: Console | None,
    faults: bool = True,
    fault_rate: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> SimResult:
    """Run `jobs` simulations with seeds `seed`, `seed + 1`, … at once, `ops` operations between them; report
    the sum.  A run that dies without an answer (killed, out of memory) is a failure too."""
    out = console or Console(quiet=True)
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no thread or App of this one comes along
    done = ctx.Array("q", jobs, lock=False)  # each run's steps so far, for the progress bar
    answers: Any = ctx.Queue()
    seeds, counts = [seed + i for i in range(jobs)], shares(ops, jobs)
    procs = [
        ctx.Process(target=_one, args=(i, seeds[i], counts[i], faults, fault_rate, done, answers), daemon=True)
        for i in range(jobs)
    ]
    started = time.monotonic()
    for p in procs:
        p.start()
    results: dict[int, SimResult] = {}
    silent: Counter[int] = Counter()  # polls since a run's process ended without its answer arriving
    while len(results) < jobs:
        try:
            i, result = answers.get(timeout=POLL_S)
            results[i] = result
        except queue.Empty:
            gone = [i for i, p in enumerate(procs) if i not in results and not p.is_alive()]
            silent.update(gone)
            if len(results) + len(gone) == jobs and all(silent[i] >= 3 for i in gone):
                break  # the others answered, these died (killed, out of memory): no answer is coming
        if progress is not None:
            progress(sum(done))
    for p in procs:
        p.join(timeout=10)
    seconds = time.monotonic() - started
    failures = [f for i in range(jobs) for f in (results[i].failures if i in results else [
        f"seed={seeds[i]}: the run's process ended (exit code {procs[i].exitcode}) without an answer — "
        f"replay with: hongbao simulate --seed {seeds[i]} --ops {counts[i]}"])]  # fmt: skip
    stats: Counter[str] = Counter()
    for r in results.values():
        stats.update(r.stats)
    log = [f"seed {r.seed}: {line}" for i in sorted(results) for r in [results[i]] for line in r.log]
    merged = SimResult(not failures, seed, ops, failures, dict(stats), log, seconds,
                       sum(r.steps for r in results.values()), runs=jobs)  # fmt: skip
    report(out, merged)
    return merged


def _one(
    index: int, seed: int, ops: int, faults: bool, fault_rate: float | None, done: Any, answers: Any
) -> None:
    """One run, in its own process: its steps counted in `done[index]`, its result put on `answers`."""
    from hongbao.sim.runner import run_simulation

    def progress(step: int) -> None:
        done[index] = step

    result = run_simulation(seed=seed, ops=ops, database_url=None, console=None, faults=faults,
                            fault_rate=fault_rate, progress=progress)  # fmt: skip
    answers.put((index, result))
