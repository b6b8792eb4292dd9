"""Tables of enterprise campaigns, coupons, shake events and nearby merchants, on the shared metadata of schema.py."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from hongbao.adapters.sql.schema import TS, Id, metadata

merchants = Table(
    "merchants",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("owner_id", Id, ForeignKey("users.id"), nullable=False),  # the merchant account
    Column("name", String(64), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lng", Float, nullable=False),
    Column("created_at", TS, nullable=False),
)
Index("ix_merchants_lat_lng", merchants.c.lat, merchants.c.lng)
Index("ix_merchants_owner", merchants.c.owner_id)

coupon_offers = Table(
    "coupon_offers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("merchant_id", Id, ForeignKey("merchants.id"), nullable=False),
    Column("title", String(64), nullable=False),
    Column("face_value_fen", BigInteger, nullable=False),
    Column("stock", Integer, nullable=False),
    Column("issued_count", Integer, nullable=False, server_default="0"),
    Column("expires_at", TS, nullable=False),
    Column("created_at", TS, nullable=False),
    # Issued ≤ stock always, decided by a conditional UPDATE and guarded here.
    CheckConstraint("issued_count <= stock", name="ck_coupon_offers_within_stock"),
)
Index("ix_coupon_offers_merchant", coupon_offers.c.merchant_id)

coupons = Table(
    "coupons",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("offer_id", Id, ForeignKey("coupon_offers.id"), nullable=False),
    Column("holder_id", Id, ForeignKey("users.id"), nullable=False),
    Column("status", String(12), nullable=False),  # "held" or "redeemed"
    Column("issued_at", TS, nullable=False),
    Column("redeemed_at", TS, nullable=True),
)
Index("ix_coupons_holder", coupons.c.holder_id, coupons.c.id)
Index("ix_coupons_offer", coupons.c.offer_id)

shake_events = Table(
    "shake_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("owner_id", Id, ForeignKey("users.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("starts_at", TS, nullable=False),
    Column("ends_at", TS, nullable=False),
    Column("win_permille", Integer, nullable=False),
    Column("wins_per_user_max", Integer, nullable=False),
    Column("cards", Text, nullable=False, server_default="[]"),  # greeting-card texts, as JSON
    Column("created_at", TS, nullable=False),
)
Index("ix_shake_events_ends", shake_events.c.ends_at)

shake_rounds = Table(
    "shake_rounds",
    metadata,
    Column("event_id", Id, ForeignKey("shake_events.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("starts_at", TS, nullable=False),
    Column("ends_at", TS, nullable=False),
)

shake_players = Table(
    "shake_players",
    metadata,
    # One row per user and event: wins (≤ K) and shakes in the current round, advanced by conditional UPDATEs.
    Column("event_id", Id, ForeignKey("shake_events.id"), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("wins", Integer, nullable=False, server_default="0"),
    Column("round_seq", Integer, nullable=False, server_default="-1"),
    Column("round_shakes", Integer, nullable=False, server_default="0"),
    Column("shakes", Integer, nullable=False, server_default="0"),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("owner_id", Id, ForeignKey("users.id"), nullable=False),  # the enterprise (or the pool's sponsor)
    Column("channel", String(16), nullable=False),  # "link", "followers" or "shake"
    Column("event_id", Id, ForeignKey("shake_events.id"), nullable=True),  # shake pools only
    Column("name", String(64), nullable=False),
    Column("logo_url", String(512), nullable=True),
    Column("cover_text", String(128), nullable=False),
    Column("starts_at", TS, nullable=False),
    Column("ends_at", TS, nullable=False),
    Column("budget_fen", BigInteger, nullable=False),
    Column("paid_fen", BigInteger, nullable=False, server_default="0"),
    Column("returned_fen", BigInteger, nullable=False, server_default="0"),
    # Shake pools: cash held out as win tickets by API processes for a round (shake_leases), not yet paid.
    Column("held_fen", BigInteger, nullable=False, server_default="0"),
    Column("budget_account_id", Id, ForeignKey("accounts.id"), nullable=True),
    Column("per_user_max", Integer, nullable=True),
    Column("per_day_max", Integer, nullable=True),
    Column("link_token_hash", LargeBinary(32), nullable=True),  # sha256 of the claim link's token
    Column("status", String(12), nullable=False),  # "active" or "closed"
    Column("claims_count", Integer, nullable=False, server_default="0"),
    Column("created_at", TS, nullable=False),
    Column("closed_at", TS, nullable=True),
    # A campaign never pays out more than its budget (the conditional UPDATE decides; this guards).
    CheckConstraint("paid_fen + returned_fen <= budget_fen", name="ck_campaigns_within_budget"),
)
Index("ix_campaigns_status_ends", campaigns.c.status, campaigns.c.ends_at)
Index("ix_campaigns_event", campaigns.c.event_id)
Index("ix_campaigns_owner", campaigns.c.owner_id, campaigns.c.id)

campaign_prizes = Table(
    "campaign_prizes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("campaign_id", Id, ForeignKey("campaigns.id"), nullable=False),
    Column("kind", String(8), nullable=False),  # "cash" or "coupon"
    Column("amount_fen", BigInteger, nullable=False, server_default="0"),
    Column("offer_id", Id, ForeignKey("coupon_offers.id"), nullable=True),
    Column("weight", Integer, nullable=False),
    Column("count_max", Integer, nullable=True),
    Column("issued_count", Integer, nullable=False, server_default="0"),
    Column("held_count", Integer, nullable=False, server_default="0"),  # shake tickets of it held out
    CheckConstraint("count_max IS NULL OR issued_count <= count_max", name="ck_campaign_prizes_within_count"),
)
Index("ix_campaign_prizes_campaign", campaign_prizes.c.campaign_id)

campaign_claimers = Table(
    "campaign_claimers",
    metadata,
    # Per-user caps: total claims and claims on `day`, advanced by one conditional UPDATE.
    Column("campaign_id", Id, ForeignKey("campaigns.id"), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("claims_count", Integer, nullable=False, server_default="0"),
    Column("day", String(10), nullable=False, server_default=""),
    Column("day_count", Integer, nullable=False, server_default="0"),
)

campaign_claims = Table(
    "campaign_claims",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("campaign_id", Id, ForeignKey("campaigns.id"), nullable=False),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("prize_id", Id, ForeignKey("campaign_prizes.id"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("amount_fen", BigInteger, nullable=False, server_default="0"),  # cash paid; 0 for a coupon
    Column("coupon_id", Id, ForeignKey("coupons.id"), nullable=True),
    Column("day", String(10), nullable=False),
    Column("channel", String(8), nullable=False, server_default="app"),
    Column("created_at", TS, nullable=False),
)
Index("ix_campaign_claims_campaign_day", campaign_claims.c.campaign_id, campaign_claims.c.day)
Index("ix_campaign_claims_user", campaign_claims.c.user_id, campaign_claims.c.id)

shake_leases = Table(
    "shake_leases",
    metadata,
    # Win tickets an API process (`holder`) drew from a pool for one round: `tickets` prizes of `prize_id`, held out
    # of the pool's budget and count until used by a winner, given back, or (the holder gone) past `expires_at`.
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", Id, ForeignKey("shake_events.id"), nullable=False),
    Column("round_seq", Integer, nullable=False),
    Column("campaign_id", Id, ForeignKey("campaigns.id"), nullable=False),
    Column("prize_id", Id, ForeignKey("campaign_prizes.id"), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),  # cash per ticket, 0 for a coupon
    Column("tickets", Integer, nullable=False),
    Column("holder", String(32), nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("created_at", TS, nullable=False),
    CheckConstraint("tickets >= 0", name="ck_shake_leases_tickets"),
)
Index("ix_shake_leases_holder", shake_leases.c.holder)
Index("ix_shake_leases_expires", shake_leases.c.expires_at)
Index("ix_shake_leases_campaign", shake_leases.c.campaign_id)
