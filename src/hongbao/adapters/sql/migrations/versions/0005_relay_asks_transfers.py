"""relay chains (接龙), asks (讨红包), user settings, direct transfers (转账)

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "relay_chains",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("group_id", Id, sa.ForeignKey("groups.id"), nullable=False),
        sa.Column("starter_id", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("min_fen", sa.BigInteger(), nullable=False),
        sa.Column("deadline_s", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("rounds_count", sa.Integer(), nullable=False),
        sa.Column("current_packet_id", Id, sa.ForeignKey("packets.id"), nullable=True),
        sa.Column("owed_by", Id, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("due_at", TS, nullable=True),
        sa.Column("ended_reason", sa.String(length=24), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_relay_chains_due", "relay_chains", ["status", "due_at"])
    op.create_index("ix_relay_chains_group", "relay_chains", ["group_id", "id"])
    op.create_table(
        "relay_rounds",
        sa.Column("chain_id", Id, sa.ForeignKey("relay_chains.id"), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("packet_id", Id, sa.ForeignKey("packets.id"), nullable=False),
        sa.Column("sender_id", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("shares_count", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "round"),
        sa.UniqueConstraint("packet_id"),
    )
    op.create_table(
        "relay_events",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("chain_id", Id, sa.ForeignKey("relay_chains.id"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=True),
        sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("detail", sa.String(length=64), server_default="", nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_relay_events_chain", "relay_events", ["chain_id", "id"])
    op.create_table(
        "asks",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("asker_id", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("to_user_id", Id, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("group_id", Id, sa.ForeignKey("groups.id"), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("message", sa.String(length=64), server_default="", nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("packet_id", Id, sa.ForeignKey("packets.id"), nullable=True),
        sa.Column("answered_by", Id, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("day_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("answered_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("asker_id", "day", "day_seq", name="uq_asks_daily_slot"),
        sa.CheckConstraint("(to_user_id IS NULL) <> (group_id IS NULL)", name="ck_asks_one_target"),
    )
    op.create_index("ix_asks_to_user", "asks", ["to_user_id", "id"])
    op.create_index("ix_asks_group", "asks", ["group_id", "id"])
    op.create_table(
        "user_settings",
        sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("allow_asks", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "direct_transfers",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("sender_id", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("recipient_id", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=64), server_default="", nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("escrow_account_id", Id, sa.ForeignKey("accounts.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("settled_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("amount_fen > 0", name="ck_direct_transfers_positive"),
    )
    op.create_index("ix_direct_transfers_due", "direct_transfers", ["status", "expires_at"])
    op.create_index("ix_direct_transfers_sender", "direct_transfers", ["sender_id", "id"])
    op.create_index("ix_direct_transfers_recipient", "direct_transfers", ["recipient_id", "id"])


def downgrade() -> None:
    for index, table in (
        ("ix_direct_transfers_recipient", "direct_transfers"),
        ("ix_direct_transfers_sender", "direct_transfers"),
        ("ix_direct_transfers_due", "direct_transfers"),
    ):
        op.drop_index(index, table_name=table)
    op.drop_table("direct_transfers")
    op.drop_table("user_settings")
    op.drop_index("ix_asks_group", table_name="asks")
    op.drop_index("ix_asks_to_user", table_name="asks")
    op.drop_table("asks")
    op.drop_index("ix_relay_events_chain", table_name="relay_events")
    op.drop_table("relay_events")
    op.drop_table("relay_rounds")
    op.drop_index("ix_relay_chains_group", table_name="relay_chains")
    op.drop_index("ix_relay_chains_due", table_name="relay_chains")
    op.drop_table("relay_chains")
