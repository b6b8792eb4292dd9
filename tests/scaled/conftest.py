"""Fixtures of the scaled-mode tests: a fresh PostgreSQL database per test on the machine's server, and the
machine's Redis (each topology uses a key prefix of its own).  Both skip with the reason where absent, except
under CI=true (or HONGBAO_REQUIRE_SERVICES=1), where they fail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL, service_missing

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """An empty database of this test's own (the first `hongbao serve` migrates it), dropped afterwards."""
    name = f"hongbao_scaled_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        service_missing("PostgreSQL", str(exc).splitlines()[0])
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def redis_url() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_missing("Redis", str(exc))
    finally:
        client.close()
    return REDIS_URL
