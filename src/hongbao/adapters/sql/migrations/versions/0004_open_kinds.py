"""open kinds: live secrets of face-to-face and password packets, share links, share events

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "live_secrets",
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("packet_id", Id, sa.ForeignKey("packets.id"), nullable=False),
        sa.PrimaryKeyConstraint("secret_hash"),
        sa.UniqueConstraint("packet_id"),
    )
    op.create_table(
        "share_links",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("packet_id", Id, sa.ForeignKey("packets.id"), nullable=False),
        sa.Column("embed_secret", sa.Boolean(), nullable=False),
        sa.Column("created_by", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("token"),
        sa.UniqueConstraint("packet_id", "embed_secret", name="uq_share_links_packet_embed"),
    )
    op.create_table(
        "share_events",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("packet_id", Id, sa.ForeignKey("packets.id"), nullable=False),
        sa.Column("event", sa.String(length=8), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_share_events_packet", "share_events", ["packet_id", "event"])


def downgrade() -> None:
    op.drop_index("ix_share_events_packet", table_name="share_events")
    op.drop_table("share_events")
    op.drop_table("share_links")
    op.drop_table("live_secrets")
