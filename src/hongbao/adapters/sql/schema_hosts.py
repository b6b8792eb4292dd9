"""Tables of the platform API (host apps, their keys and users, their daily volume) and of the webhook outbox."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from hongbao.adapters.sql.schema import TS, Id, metadata

# A host app (a chat or payment app) that acts for its own users by their external ids.
hosts = Table(
    "hosts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("created_at", TS, nullable=False),
    Column("rate_per_min", Integer, nullable=False),  # requests a minute, all its keys and users together
    Column("daily_volume_fen_max", BigInteger, nullable=False),  # fen its users may send a UTC day
    Column("webhook_url", String(2048), nullable=True),
    Column("webhook_secret_sealed", Text, nullable=True),  # the signing secret, sealed under the install key
)

# API keys: `hk_<id>_<secret>`; only an HMAC of the secret under the install key is kept.
host_keys = Table(
    "host_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("host_id", Id, ForeignKey("hosts.id"), nullable=False),
    Column("secret_hash", LargeBinary(32), nullable=False),
    Column("scopes", String(64), nullable=False),  # comma-separated: read, write, dashboard
    Column("created_at", TS, nullable=False),
    Column("revoked_at", TS, nullable=True),
)

# (host, external id) → the hongbao user made for it on first use.
host_users = Table(
    "host_users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("host_id", Id, ForeignKey("hosts.id"), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, unique=True),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("host_id", "external_id", name="uq_host_users_external"),
)


def world_of(user_id: ColumnElement[int]) -> ColumnElement[int]:
    """The world of the user in `user_id` (service/worlds.py), as SQL: its host's id, 0 for hongbao's own.  A
    campaign, shake event or offer is in its owner's world, fixed as the owner's is."""
    found = select(host_users.c.host_id).where(host_users.c.user_id == user_id).scalar_subquery()
    return func.coalesce(found, 0)


# Fen a host's users sent (packets and transfers) per UTC day, raised atomically under the cap.
host_volume = Table(
    "host_volume",
    metadata,
    Column("host_id", Id, ForeignKey("hosts.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("sent_fen", BigInteger, nullable=False),
)

# Webhook messages, written in the same transaction as the money they tell of; delivered in id order per stream.
webhook_outbox = Table(
    "webhook_outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("host_id", Id, ForeignKey("hosts.id"), nullable=False),
    Column("msg_id", String(40), nullable=False, unique=True),
    Column("event_type", String(40), nullable=False),
    Column("stream", String(40), nullable=False),  # "packet:7": messages of one stream arrive in order
    Column("payload", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", TS, nullable=False),
    Column("locked_until", TS, nullable=True),  # a deliverer's claim, so two workers do not send at once
    Column("delivered_at", TS, nullable=True),
    Column("failed_at", TS, nullable=True),  # gave up after the last attempt (replayable)
    Column("last_error", String(255), nullable=True),
    Index("ix_webhook_outbox_pending", "delivered_at", "failed_at", "id"),
)
