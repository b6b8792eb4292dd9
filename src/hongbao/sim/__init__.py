"""The seeded simulator behind `hongbao simulate`: a random workload checked step by step by an auditor.

Modelled on TigerBeetle's VOPR: `workload` draws every operation from one seeded stream and mixes in the
operations of `people`, `packets`, `enterprise`, `campaigns` and `shake` (each built on `base`); `model` holds
what the store should contain, `auditor` compares a snapshot with it, `runner` drives the steps and `report`
prints the summary; any failure names the seed that replays it.
"""

from hongbao.sim.base import SimClock, SimResult
from hongbao.sim.runner import run_simulation

__all__ = ["SimClock", "SimResult", "run_simulation"]
