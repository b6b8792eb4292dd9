"""Migration 0008 (the payment outbox), on SQLite and PostgreSQL: payments booked before it become settled ones, and the
table it leaves is the one schema.py declares."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from hongbao.adapters.sql import migrate
from hongbao.adapters.sql.schema import metadata
from hongbao.adapters.sql.store import SqlStore
from hongbao.bootstrap import App

THEN = datetime(2026, 1, 28, 9, 0, tzinfo=UTC)


def downgrade_to(store: SqlStore, revision: str) -> None:
    cfg = migrate.alembic_config(store.engine)
    with store.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        conn.commit()


def test_payments_recorded_before_0008_become_settled_ones_with_their_references(store_url: str) -> None:
    store = SqlStore(store_url)
    try:
        migrate.upgrade(store.engine)
        downgrade_to(store, "0007")
        with store.engine.begin() as conn:
            user_id = conn.execute(
                text("INSERT INTO users (username, display_name, password_hash, created_at) "
                     "VALUES ('alice', 'alice', 'x', :t) RETURNING id"),
                {"t": THEN},
            ).scalar_one()
            for direction, ref in (("in", "sbx-in-1"), ("out", "hb-out-1")):
                conn.execute(
                    text("INSERT INTO channel_payments (user_id, direction, amount_fen, channel, channel_ref, "
                         "created_at) VALUES (:u, :d, 100, 'sandbox', :r, :t)"),
                    {"u": user_id, "d": direction, "r": ref, "t": THEN},
                )

        migrate.upgrade(store.engine)

        with store.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT direction, status, reference, channel_ref, settled_at IS NOT NULL "
                     "FROM channel_payments ORDER BY id")
            ).all()
    finally:
        store.close()
    top_up, withdrawal = (tuple(r) for r in rows)
    assert top_up[:2] == ("in", "booked") and top_up[2].startswith("pre-0008-") and top_up[3:] == ("sbx-in-1", True)
    assert withdrawal == ("out", "sent", "hb-out-1", "hb-out-1", True)


def test_the_payment_outbox_migration_gives_the_table_of_the_schema(hb: App) -> None:
    with hb.store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [change for change in diff if "channel_payments" in str(change)] == []
