"""The cyclic garbage collector tuned for a long run (a served process, a simulation): what is alive at its start
frozen out of full passes, and the generations collected less often; both undone at its end.

With Python's defaults a busy server pays for its own start on every full pass: the modules, FastAPI's and
SQLAlchemy's structures and the App (some 160,000 objects) are all scanned again, and under a storm of 64 opens in
flight the objects of requests still running survive two young passes, so full passes come every second or two:
17 of them, 4.3 s with the GIL held, while 20,000 followers opened a celebrity packet (bench/celebrity_http.py,
each one stalling every request and the writer for up to 0.5 s on a busy machine).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# The youngest generation collected every 20,000 allocations rather than every 700, the older ones every 20 passes
# of the one below rather than 10 (`hongbao simulate` allocates fast and keeps much of it: with Python's defaults the
# collector took 7% of a run's CPU in 640 passes per 3,000 operations, with these 4% in 50).
GC_THRESHOLDS = (20_000, 20, 20)


@contextmanager
def gc_tuned(thresholds: tuple[int, int, int] = GC_THRESHOLDS) -> Iterator[None]:
    """`thresholds` for the run, and what is alive at its start frozen (never scanned again); both undone after it."""
    before = gc.get_threshold()
    gc.collect()  # what is garbage already is not frozen with the rest
    gc.freeze()
    gc.set_threshold(*thresholds)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
