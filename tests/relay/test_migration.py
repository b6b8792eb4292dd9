"""Migration 0005 creates exactly the tables of schema_relay.py (on both stores)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hongbao.adapters.sql import schema_relay
from hongbao.adapters.sql.schema import metadata
from hongbao.bootstrap import App

RELAY_TABLES = [
    schema_relay.relay_chains, schema_relay.relay_rounds, schema_relay.relay_events,
    schema_relay.asks, schema_relay.user_settings, schema_relay.direct_transfers,
]


def test_relay_migration_gives_the_tables_of_the_schema_module(hb: App) -> None:
    with hb.store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    # A difference names its table as 'name' (added column, index…) or <name> (a Column's repr).
    names = [n for t in RELAY_TABLES for n in (f"'{t.name}'", f"<{t.name}>")]
    assert [change for change in diff if any(n in str(change) for n in names)] == []
