"""social: conversations (one per pair of friends, one per group), messages, read markers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("user_low_id", Id, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("user_high_id", Id, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("group_id", Id, sa.ForeignKey("groups.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("user_low_id", "user_high_id", name="uq_conversations_pair"),
        sa.UniqueConstraint("group_id", name="uq_conversations_group"),
        sa.CheckConstraint(
            "(kind = 'pair' AND user_low_id < user_high_id AND group_id IS NULL)"
            " OR (kind = 'group' AND group_id IS NOT NULL AND user_low_id IS NULL AND user_high_id IS NULL)",
            name="ck_conversations_kind",
        ),
    )
    op.create_index("ix_conversations_high", "conversations", ["user_high_id"])
    op.create_table(
        "messages",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", Id, sa.ForeignKey("conversations.id"), nullable=False),
        sa.Column("sender_id", Id, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("type", sa.String(length=12), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), server_default="{}", nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_messages_conversation", "messages", ["conversation_id", "id"])
    op.create_table(
        "conversation_reads",
        sa.Column("conversation_id", Id, sa.ForeignKey("conversations.id"), primary_key=True),
        sa.Column("user_id", Id, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("last_read_id", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("conversation_reads")
    op.drop_index("ix_messages_conversation", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_conversations_high", table_name="conversations")
    op.drop_table("conversations")
