"""Tables of conversations and messages, on the shared metadata of schema.py."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint

from hongbao.adapters.sql.schema import TS, Id, metadata

conversations = Table(
    "conversations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),  # "pair" (two friends) or "group" (one per group)
    # A pair conversation names its two users in id order, so (a, b) and (b, a) are the same row.
    Column("user_low_id", Id, ForeignKey("users.id"), nullable=True),
    Column("user_high_id", Id, ForeignKey("users.id"), nullable=True),
    Column("group_id", Id, ForeignKey("groups.id"), nullable=True),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("user_low_id", "user_high_id", name="uq_conversations_pair"),
    UniqueConstraint("group_id", name="uq_conversations_group"),
    CheckConstraint(
        "(kind = 'pair' AND user_low_id < user_high_id AND group_id IS NULL)"
        " OR (kind = 'group' AND group_id IS NOT NULL AND user_low_id IS NULL AND user_high_id IS NULL)",
        name="ck_conversations_kind",
    ),
)
Index("ix_conversations_high", conversations.c.user_high_id)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False),
    Column("sender_id", Id, ForeignKey("users.id"), nullable=True),  # NULL: a notice from hongbao
    Column("type", String(12), nullable=False),  # text, packet, claim, best_luck, system
    Column("body", Text, nullable=False),
    Column("data", Text, nullable=False, server_default="{}"),  # JSON: packet id, counts, event name…
    Column("created_at", TS, nullable=False),
)
Index("ix_messages_conversation", messages.c.conversation_id, messages.c.id)

conversation_reads = Table(
    "conversation_reads",
    metadata,
    # How far each participant has read: unread = messages after this id, from someone else.
    Column("conversation_id", Id, ForeignKey("conversations.id"), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("last_read_id", BigInteger, nullable=False),
)
