"""The seeded simulator behind `hongbao simulate`: a random workload under injected faults, checked step by step.

Modelled on TigerBeetle's VOPR: `workload` draws every operation from one seeded stream and mixes in the
operations of `people`, `packets`, `enterprise`, `campaigns` and `shake` (each built on `base`); `faults`
makes money requests meet lost COMMITs, restarts, outages and kill -9 (from a stream of its own) and
`hostile` settles the outcomes a client cannot know; `model` holds what the store should contain, `auditor`
compares the store with it (what each step touched, and in full on a widening schedule), `runner` drives
the steps and `report` prints the summary; any failure names the seed that replays it.
"""

from hongbao.sim.base import SimClock, SimResult
from hongbao.sim.runner import run_simulation

__all__ = ["SimClock", "SimResult", "run_simulation"]
