"""The hosts_webhooks migration creates exactly the tables of schema_hosts.py (on both stores)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hongbao.adapters.sql import schema_hosts as h
from hongbao.adapters.sql.schema import metadata
from hongbao.bootstrap import App

TABLES = [h.hosts, h.host_keys, h.host_users, h.host_volume, h.webhook_outbox]


def test_the_hosts_migration_gives_the_tables_of_the_schema_module(hb: App) -> None:
    with hb.store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    names = [n for t in TABLES for n in (f"'{t.name}'", f"<{t.name}>")]
    assert [change for change in diff if any(n in str(change) for n in names)] == []
