"""shares drawn at open: equal and double-mean packets keep no share rows, line cut keeps its shares packed

Revision ID: 0012
Revises: hosts_webhooks
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "hosts_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Packets sent before keep their pre-drawn rows ("rows"); new ones say where their shares come from.
    op.add_column("packets", sa.Column("draw", sa.String(length=8), nullable=False, server_default="rows"))
    op.create_table(
        "packet_share_blocks",
        sa.Column("packet_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.ForeignKey("packets.id"),
                  primary_key=True),
        sa.Column("block", sa.Integer(), primary_key=True),
        sa.Column("amounts", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("packet_share_blocks")
    with op.batch_alter_table("packets") as batch:
        batch.drop_column("draw")
