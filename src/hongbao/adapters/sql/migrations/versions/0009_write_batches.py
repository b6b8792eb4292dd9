"""write batches: a marker row per committed write batch, and each transfer tagged with its write and batch,
so a lost COMMIT reply is resolved by asking instead of re-running (exactly once), and a double effect shows

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "write_batches",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("tombstone", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_write_batches_created", "write_batches", ["created_at_ms"])
    with op.batch_alter_table("transfers") as batch:
        batch.add_column(sa.Column("write_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("batch_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transfers") as batch:
        batch.drop_column("batch_id")
        batch.drop_column("write_id")
    op.drop_index("ix_write_batches_created", table_name="write_batches")
    op.drop_table("write_batches")
