"""shake tickets: prizes a process holds for a round (leases), and what every pool and prize has held out

Revision ID: shake_tickets
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "shake_tickets"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("held_fen", sa.BigInteger(), server_default="0", nullable=False))
    with op.batch_alter_table("campaign_prizes") as batch:
        batch.add_column(sa.Column("held_count", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "shake_leases",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("event_id", Id, sa.ForeignKey("shake_events.id"), nullable=False),
        sa.Column("round_seq", sa.Integer(), nullable=False),
        sa.Column("campaign_id", Id, sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("prize_id", Id, sa.ForeignKey("campaign_prizes.id"), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=32), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("tickets >= 0", name="ck_shake_leases_tickets"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_shake_leases_holder", "shake_leases", ["holder"])
    op.create_index("ix_shake_leases_expires", "shake_leases", ["expires_at"])
    op.create_index("ix_shake_leases_campaign", "shake_leases", ["campaign_id"])


def downgrade() -> None:
    op.drop_table("shake_leases")
    with op.batch_alter_table("campaign_prizes") as batch:
        batch.drop_column("held_count")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("held_fen")
