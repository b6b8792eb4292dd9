"""Fixtures of the store's own tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hongbao.adapters.sql import migrate
from hongbao.adapters.sql.store import SqlStore
from hongbao.service.reconcile import reconcile


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    """A migrated store on each engine; checks the ledger when the test ends."""
    sql_store = SqlStore(store_url)
    migrate.upgrade(sql_store.engine)
    try:
        yield sql_store
        assert reconcile(sql_store).violations == []
    finally:
        sql_store.close()
