"""Fixtures of the fault drills: a private PostgreSQL cluster per test module, and how many rounds to run.

The drills skip with the reason on a machine without PostgreSQL's binaries, except under CI=true (or
HONGBAO_REQUIRE_SERVICES=1), where they fail.  HONGBAO_DRILL_ROUNDS=20 runs each drill twenty times in a
row (a fresh database and server each round, on the module's one cluster): the issue's bar for "fixed".
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conftest import service_missing
from tests.drills.pg_cluster import PgCluster, why_unavailable

ROUNDS = int(os.environ.get("HONGBAO_DRILL_ROUNDS", "1"))


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL cluster of the module's own on a free port, removed at the end whatever happened."""
    why = why_unavailable()
    if why is not None:
        service_missing("A private PostgreSQL cluster", why)
    cluster = PgCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
