"""Tables of face-to-face, password and celebrity packets and share links, on the shared metadata of schema.py."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, LargeBinary, String, Table, UniqueConstraint

from hongbao.adapters.sql.schema import TS, Id, metadata

# The code or phrase digest of every live (active) face-to-face or password packet: the primary key
# makes "unique among live packets" a database decision.  A row leaves when its packet finishes or
# expires; packets.secret_hash keeps the digest for good.
live_secrets = Table(
    "live_secrets",
    metadata,
    Column("secret_hash", LargeBinary(32), primary_key=True),
    Column("packet_id", Id, ForeignKey("packets.id"), nullable=False, unique=True),
)

# One share link per packet and choice of embedding its secret; the token, not the packet id, is public.
share_links = Table(
    "share_links",
    metadata,
    Column("token", String(32), primary_key=True),
    Column("packet_id", Id, ForeignKey("packets.id"), nullable=False),
    Column("embed_secret", Boolean, nullable=False),
    Column("created_by", Id, ForeignKey("users.id"), nullable=False),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("packet_id", "embed_secret", name="uq_share_links_packet_embed"),
)

# Append-only events for the sender's figures: a share to a platform, a landing-page view, a claim.
# One insert per event and no counter row, so a celebrity packet's claims update no shared row here.
share_events = Table(
    "share_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("packet_id", Id, ForeignKey("packets.id"), nullable=False),
    Column("event", String(8), nullable=False),  # "share", "view" or "claim"
    Column("platform", String(16), nullable=False),  # a Platform or "direct"
    Column("channel", String(8), nullable=False),  # "app" or "web"
    Column("created_at", TS, nullable=False),
)
Index("ix_share_events_packet", share_events.c.packet_id, share_events.c.event)
