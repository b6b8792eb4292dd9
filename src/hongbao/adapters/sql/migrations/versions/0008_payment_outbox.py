"""payment outbox: a channel payment is recorded (pending, with the reference given to the channel) before the
channel is asked, then settled once

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channel_payments") as batch:
        batch.add_column(sa.Column("reference", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("status", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True))
    # Before 0008 a payment was written only once settled: a top-up after the channel took the money (booked), a
    # withdrawal with its payout (sent).  A withdrawal's channel_ref held the reference it gave the channel; a
    # top-up's reference was not kept, so it gets one that no channel has seen.
    op.execute(
        "UPDATE channel_payments SET settled_at = created_at, "
        "status = CASE direction WHEN 'in' THEN 'booked' ELSE 'sent' END, "
        "reference = CASE direction WHEN 'out' THEN channel_ref ELSE 'pre-0008-' || CAST(id AS VARCHAR(20)) END"
    )
    with op.batch_alter_table("channel_payments") as batch:
        batch.alter_column("reference", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("status", existing_type=sa.String(length=8), nullable=False)
        batch.alter_column("channel_ref", existing_type=sa.String(length=64), nullable=True)
        batch.create_unique_constraint("uq_channel_payments_reference", ["channel", "reference"])
    op.create_index("ix_channel_payments_status", "channel_payments", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_channel_payments_status", table_name="channel_payments")
    # A payment the channel has not answered yet keeps its reference where 0007 kept references.
    op.execute("UPDATE channel_payments SET channel_ref = reference WHERE channel_ref IS NULL")
    with op.batch_alter_table("channel_payments") as batch:
        batch.drop_constraint("uq_channel_payments_reference", type_="unique")
        batch.alter_column("channel_ref", existing_type=sa.String(length=64), nullable=False)
        batch.drop_column("settled_at")
        batch.drop_column("status")
        batch.drop_column("reference")
