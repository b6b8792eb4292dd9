"""Tables of relay chains, asks and transfers, on the shared metadata of schema.py."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    true,
)

from hongbao.adapters.sql.schema import TS, Id, metadata

relay_chains = Table(
    "relay_chains",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("group_id", Id, ForeignKey("groups.id"), nullable=False),
    Column("starter_id", Id, ForeignKey("users.id"), nullable=False),
    Column("min_fen", BigInteger, nullable=False),
    Column("deadline_s", Integer, nullable=False),
    Column("status", String(12), nullable=False),  # "active" or "ended"
    Column("rounds_count", Integer, nullable=False),
    Column("current_packet_id", Id, ForeignKey("packets.id"), nullable=True),
    # Set once the current round is finished: who owes the next round, and until when.
    Column("owed_by", Id, ForeignKey("users.id"), nullable=True),
    Column("due_at", TS, nullable=True),
    Column("ended_reason", String(24), nullable=True),
    Column("created_at", TS, nullable=False),
    Column("ended_at", TS, nullable=True),
)
Index("ix_relay_chains_due", relay_chains.c.status, relay_chains.c.due_at)
Index("ix_relay_chains_group", relay_chains.c.group_id, relay_chains.c.id)

relay_rounds = Table(
    "relay_rounds",
    metadata,
    # The primary key decides "one next round": two concurrent sends of round n+1 cannot both insert.
    Column("chain_id", Id, ForeignKey("relay_chains.id"), primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("packet_id", Id, ForeignKey("packets.id"), nullable=False, unique=True),
    Column("sender_id", Id, ForeignKey("users.id"), nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("shares_count", Integer, nullable=False),
    Column("created_at", TS, nullable=False),
)

relay_events = Table(
    "relay_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("chain_id", Id, ForeignKey("relay_chains.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # "round_started", "owed", "ended"
    Column("round", Integer, nullable=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=True),
    Column("detail", String(64), nullable=False, server_default=""),
    Column("created_at", TS, nullable=False),
)
Index("ix_relay_events_chain", relay_events.c.chain_id, relay_events.c.id)

asks = Table(
    "asks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("asker_id", Id, ForeignKey("users.id"), nullable=False),
    Column("to_user_id", Id, ForeignKey("users.id"), nullable=True),
    Column("group_id", Id, ForeignKey("groups.id"), nullable=True),
    Column("amount_fen", BigInteger, nullable=True),
    Column("message", String(64), nullable=False, server_default=""),
    Column("status", String(12), nullable=False),  # "open", "fulfilled", "declined"
    Column("packet_id", Id, ForeignKey("packets.id"), nullable=True),
    Column("answered_by", Id, ForeignKey("users.id"), nullable=True),
    # The daily cap: the n-th ask of a user on a day takes slot n; the unique index refuses a second n.
    Column("day", Date, nullable=False),
    Column("day_seq", Integer, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("answered_at", TS, nullable=True),
    UniqueConstraint("asker_id", "day", "day_seq", name="uq_asks_daily_slot"),
    CheckConstraint("(to_user_id IS NULL) <> (group_id IS NULL)", name="ck_asks_one_target"),
)
Index("ix_asks_to_user", asks.c.to_user_id, asks.c.id)
Index("ix_asks_group", asks.c.group_id, asks.c.id)

user_settings = Table(
    "user_settings",
    metadata,
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("allow_asks", Boolean, nullable=False, server_default=true()),
)

direct_transfers = Table(
    "direct_transfers",
    metadata,
    # A 转账 between friends; the money itself moves through the ledger (`transfers`) via its escrow.
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sender_id", Id, ForeignKey("users.id"), nullable=False),
    Column("recipient_id", Id, ForeignKey("users.id"), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("note", String(64), nullable=False, server_default=""),
    Column("status", String(12), nullable=False),  # "pending", "accepted", "returned", "refunded"
    Column("escrow_account_id", Id, ForeignKey("accounts.id"), nullable=True),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("settled_at", TS, nullable=True),
    CheckConstraint("amount_fen > 0", name="ck_direct_transfers_positive"),
)
Index("ix_direct_transfers_due", direct_transfers.c.status, direct_transfers.c.expires_at)
Index("ix_direct_transfers_sender", direct_transfers.c.sender_id, direct_transfers.c.id)
Index("ix_direct_transfers_recipient", direct_transfers.c.recipient_id, direct_transfers.c.id)
