"""Fixtures shared by every test: stores on SQLite and PostgreSQL, a wired app, a controllable clock.

PostgreSQL tests use the real server at HONGBAO_TEST_POSTGRES_URL (default: the local one, trust auth).
Where it is unreachable they skip with the reason, except under CI=true (or HONGBAO_REQUIRE_SERVICES=1),
where they fail: CI must never pass by skipping.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from hongbao.bootstrap import App, build
from hongbao.config import Settings

PG_ADMIN_URL = os.environ.get("HONGBAO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REQUIRE_SERVICES = os.environ.get("CI") == "true" or os.environ.get("HONGBAO_REQUIRE_SERVICES") == "1"


# Marked slow without a decorator each (`make quick` runs `pytest -m "not slow"`): whole folders and files that start
# servers, browsers or long simulations.
SLOW_PATHS = (
    "tests/e2e/", "tests/drills/", "tests/sim/", "tests/scaled/", "tests/api/test_shutdown.py",
    "tests/api/test_edge_server.py", "tests/api/test_schemathesis.py", "tests/embed/test_matrix_bridge.py",
    "tests/embed/test_embed_docs.py",
)


# `make test` runs pytest-xdist with --dist loadfile: a file's tests run in one process, in order, so its module
# fixtures, servers and fixed ports are made once.  (Not loadgroup: with pytest 9.2 and xdist 3.8 its groups are
# ignored.)  Files in different processes share only what they pick free (ports, database names, Redis prefixes).
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        if path.startswith(SLOW_PATHS):
            item.add_marker(pytest.mark.slow)


def service_missing(what: str, why: str) -> None:
    """Skip (on a laptop without the service) or fail (in CI) a test that needs a real server."""
    message = f"{what} is not reachable: {why}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (CI=true: service tests must run, not skip)", pytrace=False)
    pytest.skip(message)


class FrozenClock:
    """A clock the test moves by hand."""

    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime(2026, 2, 18, 20, 0, tzinfo=UTC)  # the Gala evening

    def now(self) -> datetime:
        return self.at

    def advance(self, **kwargs: float) -> None:
        self.at += timedelta(**kwargs)


@contextlib.contextmanager
def fresh_pg_database(prefix: str = "hongbao_test") -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server (skip or fail where unreachable), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure to reach the server means "not available"
        service_missing("PostgreSQL", str(exc).splitlines()[0])
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    with fresh_pg_database() as url:
        yield url


def _all_tables() -> str:
    """Every table the schema knows (each area adds its own), for TRUNCATE between tests."""
    from hongbao.adapters.sql.schema import metadata

    return ", ".join(f'"{name}"' for name in sorted(metadata.tables))


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        exists = conn.execute(text("SELECT to_regclass('public.accounts')")).scalar()
        if exists:
            conn.execute(text(f"TRUNCATE {_all_tables()} RESTART IDENTITY CASCADE"))
            conn.execute(text("INSERT INTO accounts (id, kind, owner_id, balance_fen) VALUES (1, 'world', NULL, 0)"))
            conn.execute(text("SELECT setval(pg_get_serial_sequence('accounts', 'id'), 1)"))
    engine.dispose()


def fast_settings(**overrides: object) -> Settings:
    """Settings for tests: cheap argon2 (the real cost is a setting, tested for in test_users)."""
    base = {"argon2_time_cost": 1, "argon2_memory_kib": 8, "scheduler": False, "demo": False}
    base.update(overrides)
    return Settings(**base)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL on each store: an empty SQLite file, or a truncated PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hongbao.db'}"
    url: str = request.getfixturevalue("pg_database")
    _reset_postgres(url)
    return url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def hb(store_url: str, clock: FrozenClock, tmp_path: Path) -> Iterator[App]:
    """The whole app wired on one store, with a frozen clock; checks the ledger when the test ends."""
    app = build(fast_settings(database_url=store_url, data_dir=tmp_path), clock=clock)
    try:
        yield app
        from hongbao.service.reconcile import reconcile

        report = reconcile(app.store)
        assert report.violations == [], "\n".join(map(str, report.violations))
    finally:
        app.close()
