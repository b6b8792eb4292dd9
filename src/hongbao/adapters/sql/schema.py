"""Tables of the SQL store; Alembic migrations create exactly these."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from hongbao.adapters.sql.aware import UtcDateTime

metadata = MetaData()

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL wants BIGINT identities.
Id = BigInteger().with_variant(Integer(), "sqlite")
TS = UtcDateTime()  # aware UTC on both stores (SQLite would drop an offset)

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(32), nullable=False, unique=True),
    Column("display_name", String(64), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", TS, nullable=False),
    # "celebrity" or "enterprise" once an admin verified the account; NULL for everyone else.
    Column("verified_as", String(16), nullable=True),
    Column("is_admin", Boolean, nullable=False, server_default=false()),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", String(32), primary_key=True),  # public half of the bearer token
    Column("secret_hash", LargeBinary(32), nullable=False),  # sha256 of the secret half
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("created_at", TS, nullable=False),
)
Index("ix_tokens_expires", tokens.c.expires_at)  # the sweeper prunes by it (migration 0013)

# Signed session tokens logged out before they expire (service/tokens.py): every process reads what is new by id.
token_revocations = Table(
    "token_revocations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_id", String(32), nullable=False, unique=True),
    Column("expires_at", TS, nullable=False),
)
Index("ix_token_revocations_expires", token_revocations.c.expires_at)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("owner_id", Id, nullable=True),
    Column("balance_fen", BigInteger, nullable=False, server_default="0"),
    UniqueConstraint("kind", "owner_id", name="uq_accounts_kind_owner"),
    CheckConstraint("kind = 'world' OR balance_fen >= 0", name="ck_accounts_non_negative"),
)

transfers = Table(
    "transfers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("debit_account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("credit_account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("code", String(24), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    # Which write (one `store.write` call) and which attempt of its batch booked it: a write that took
    # effect in two batches is money moved twice, and reconcile says so (NULL before migration 0009).
    Column("write_id", String(32), nullable=True),
    Column("batch_id", String(32), nullable=True),
    CheckConstraint("amount_fen > 0", name="ck_transfers_positive"),
    CheckConstraint("debit_account_id <> credit_account_id", name="ck_transfers_distinct"),
    # A reference names one movement of money: the same claim or refund can never be booked twice.
    UniqueConstraint("code", "ref", name="uq_transfers_code_ref"),
)
Index("ix_transfers_debit", transfers.c.debit_account_id, transfers.c.id)
Index("ix_transfers_credit", transfers.c.credit_account_id, transfers.c.id)

# One row per committed write batch (attempt), inserted first in its transaction: when a COMMIT's reply is
# lost, the writer asks whether its marker exists instead of guessing (adapters/sql/store.py).  Old markers
# are pruned; only the minutes after a lost reply need them.
write_batches = Table(
    "write_batches",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at_ms", BigInteger, nullable=False),
    # True: not the batch's own marker but the one the writer inserted to settle a lost COMMIT (it had not committed).
    Column("tombstone", Boolean, nullable=False, server_default=false()),
)
Index("ix_write_batches_created", write_batches.c.created_at_ms)

# The payment outbox: a top-up or withdrawal is recorded here (pending) before the channel is asked, then settled
# once: a top-up booked (its wallet credited, transfer "topup:<id>") or failed, a withdrawal (debited, "withdraw:<id>",
# when it is recorded) sent.  The channel deduplicates by `reference`, so asking again after a crash is safe.
channel_payments = Table(
    "channel_payments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("direction", String(8), nullable=False),  # "in" (top-up) or "out" (withdrawal)
    Column("amount_fen", BigInteger, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("channel_ref", String(64), nullable=True),  # the channel's own reference, once it has answered
    Column("created_at", TS, nullable=False),
    Column("reference", String(64), nullable=False),  # ours, given to the channel as its idempotency key
    Column("status", String(8), nullable=False),  # PaymentStatus: pending, booked, failed, sent
    Column("settled_at", TS, nullable=True),
    UniqueConstraint("channel", "channel_ref", name="uq_channel_payments_ref"),
    UniqueConstraint("channel", "reference", name="uq_channel_payments_reference"),
)
# The sweep reads the pending payments older than its grace period.
Index("ix_channel_payments_status", channel_payments.c.status, channel_payments.c.created_at)

friendships = Table(
    "friendships",
    metadata,
    # One row per ordered request; accepted friendships are symmetric through `status`.
    Column("requester_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("addressee_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("status", String(12), nullable=False),  # "pending" or "accepted"
    Column("created_at", TS, nullable=False),
)
Index("ix_friendships_addressee", friendships.c.addressee_id)

follows = Table(
    "follows",
    metadata,
    Column("follower_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("followee_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("created_at", TS, nullable=False),
)
Index("ix_follows_followee", follows.c.followee_id, follows.c.follower_id)

groups = Table(
    "groups",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("owner_id", Id, ForeignKey("users.id"), nullable=False),
    Column("created_at", TS, nullable=False),
)

group_members = Table(
    "group_members",
    metadata,
    Column("group_id", Id, ForeignKey("groups.id"), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("joined_at", TS, nullable=False),
)
Index("ix_group_members_user", group_members.c.user_id)

packets = Table(
    "packets",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("split", String(16), nullable=False),
    # Where share k's amount comes from (domain.split.draw_at_open): "open", drawn when claimer k opens (equal,
    # double mean); "packed", drawn at send into packet_share_blocks (line cut); "rows", drawn at send into
    # packet_shares (packets sent before migration 0012).
    Column("draw", String(8), nullable=False, server_default="rows"),
    Column("sender_id", Id, ForeignKey("users.id"), nullable=False),
    Column("group_id", Id, ForeignKey("groups.id"), nullable=True),
    Column("recipient_id", Id, ForeignKey("users.id"), nullable=True),
    Column("escrow_account_id", Id, ForeignKey("accounts.id"), nullable=True),
    Column("total_fen", BigInteger, nullable=False),
    Column("shares_count", Integer, nullable=False),
    Column("greeting", Text, nullable=False),
    Column("status", String(12), nullable=False),
    Column("claimed_count", Integer, nullable=False, server_default="0"),
    Column("claimed_fen", BigInteger, nullable=False, server_default="0"),
    Column("refunded_fen", BigInteger, nullable=False, server_default="0"),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("finished_at", TS, nullable=True),
    # Digest of a face-to-face code or password phrase (never the secret itself).
    Column("secret_hash", LargeBinary(32), nullable=True),
    # The relay chain, ask or campaign this packet belongs to (its meaning depends on `kind`).
    Column("link_id", Id, nullable=True),
    # Kind-specific attributes that nothing filters on (location and radius, branding…), as JSON.
    Column("extra", Text, nullable=False, server_default="{}"),
    CheckConstraint("claimed_count <= shares_count", name="ck_packets_claims_within_shares"),
    CheckConstraint("claimed_fen + refunded_fen <= total_fen", name="ck_packets_conservation"),
)
Index("ix_packets_active_expiry", packets.c.status, packets.c.expires_at)
Index("ix_packets_sender", packets.c.sender_id, packets.c.id)
Index("ix_packets_group", packets.c.group_id, packets.c.id)
Index("ix_packets_secret", packets.c.secret_hash, packets.c.status)
Index("ix_packets_link", packets.c.kind, packets.c.link_id)

packet_shares = Table(
    "packet_shares",
    metadata,
    # Drawn at send time, in draw order; never shown to clients.
    Column("packet_id", Id, ForeignKey("packets.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("amount_fen", BigInteger, nullable=False),
    CheckConstraint("amount_fen >= 1", name="ck_packet_shares_positive"),
)

# Line-cut shares drawn at send, SHARE_BLOCK to a row, as little-endian int64s in draw order: a 1,000,000-share
# packet is 977 rows, not a million.
SHARE_BLOCK = 1024
packet_share_blocks = Table(
    "packet_share_blocks",
    metadata,
    Column("packet_id", Id, ForeignKey("packets.id"), primary_key=True),
    Column("block", Integer, primary_key=True),
    Column("amounts", LargeBinary, nullable=False),
)

claims = Table(
    "claims",
    metadata,
    Column("packet_id", Id, ForeignKey("packets.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),  # one claim per share
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("created_at", TS, nullable=False),
    # One claim per user, decided by the database inside the atomic step.
    UniqueConstraint("packet_id", "user_id", name="uq_claims_packet_user"),
)
Index("ix_claims_user", claims.c.user_id, claims.c.created_at)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("request_hash", LargeBinary(32), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", TS, nullable=False),
)
Index("ix_idempotency_keys_created", idempotency_keys.c.created_at)

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


# Tables of each area live in their own module on the same metadata (imported last: they import this one).
from hongbao.adapters.sql import (  # noqa: E402, F401
    schema_campaign,
    schema_hosts,
    schema_open,
    schema_relay,
    schema_social,
)
