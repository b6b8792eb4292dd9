"""campaigns: enterprise campaigns and prize tables, merchants, coupon offers and coupons, shake events

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "merchants",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("owner_id", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lng", sa.Float(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_merchants_lat_lng", "merchants", ["lat", "lng"])
    op.create_index("ix_merchants_owner", "merchants", ["owner_id"])
    op.create_table(
        "coupon_offers",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("merchant_id", Id, sa.ForeignKey("merchants.id"), nullable=False),
        sa.Column("title", sa.String(length=64), nullable=False),
        sa.Column("face_value_fen", sa.BigInteger(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("issued_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("issued_count <= stock", name="ck_coupon_offers_within_stock"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_coupon_offers_merchant", "coupon_offers", ["merchant_id"])
    op.create_table(
        "coupons",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("offer_id", Id, sa.ForeignKey("coupon_offers.id"), nullable=False),
        sa.Column("holder_id", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("redeemed_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_coupons_holder", "coupons", ["holder_id", "id"])
    op.create_index("ix_coupons_offer", "coupons", ["offer_id"])
    op.create_table(
        "shake_events",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("owner_id", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("win_permille", sa.Integer(), nullable=False),
        sa.Column("wins_per_user_max", sa.Integer(), nullable=False),
        sa.Column("cards", sa.Text(), server_default="[]", nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "shake_rounds",
        sa.Column("event_id", Id, sa.ForeignKey("shake_events.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("event_id", "seq"),
    )
    op.create_table(
        "shake_players",
        sa.Column("event_id", Id, sa.ForeignKey("shake_events.id"), nullable=False),
        sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("wins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("round_seq", sa.Integer(), server_default="-1", nullable=False),
        sa.Column("round_shakes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("shakes", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("event_id", "user_id"),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("owner_id", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("event_id", Id, sa.ForeignKey("shake_events.id"), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("logo_url", sa.String(length=512), nullable=True),
        sa.Column("cover_text", sa.String(length=128), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("budget_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("returned_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("budget_account_id", Id, sa.ForeignKey("accounts.id"), nullable=True),
        sa.Column("per_user_max", sa.Integer(), nullable=True),
        sa.Column("per_day_max", sa.Integer(), nullable=True),
        sa.Column("link_token_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("claims_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("closed_at", TS, nullable=True),
        sa.CheckConstraint("paid_fen + returned_fen <= budget_fen", name="ck_campaigns_within_budget"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_campaigns_status_ends", "campaigns", ["status", "ends_at"])
    op.create_index("ix_campaigns_event", "campaigns", ["event_id"])
    op.create_index("ix_campaigns_owner", "campaigns", ["owner_id", "id"])
    op.create_table(
        "campaign_prizes",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("campaign_id", Id, sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("offer_id", Id, sa.ForeignKey("coupon_offers.id"), nullable=True),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("count_max", sa.Integer(), nullable=True),
        sa.Column("issued_count", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("count_max IS NULL OR issued_count <= count_max", name="ck_campaign_prizes_within_count"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_campaign_prizes_campaign", "campaign_prizes", ["campaign_id"])
    op.create_table(
        "campaign_claimers",
        sa.Column("campaign_id", Id, sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("claims_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("day", sa.String(length=10), server_default="", nullable=False),
        sa.Column("day_count", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "user_id"),
    )
    op.create_table(
        "campaign_claims",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("campaign_id", Id, sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("prize_id", Id, sa.ForeignKey("campaign_prizes.id"), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("coupon_id", Id, sa.ForeignKey("coupons.id"), nullable=True),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=8), server_default="app", nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_campaign_claims_campaign_day", "campaign_claims", ["campaign_id", "day"])
    op.create_index("ix_campaign_claims_user", "campaign_claims", ["user_id", "id"])


def downgrade() -> None:
    for table, indexes in (
        ("campaign_claims", ["ix_campaign_claims_user", "ix_campaign_claims_campaign_day"]),
        ("campaign_claimers", []),
        ("campaign_prizes", ["ix_campaign_prizes_campaign"]),
        ("campaigns", ["ix_campaigns_owner", "ix_campaigns_event", "ix_campaigns_status_ends"]),
        ("shake_players", []),
        ("shake_rounds", []),
        ("shake_events", []),
        ("coupons", ["ix_coupons_offer", "ix_coupons_holder"]),
        ("coupon_offers", ["ix_coupon_offers_merchant"]),
        ("merchants", ["ix_merchants_owner", "ix_merchants_lat_lng"]),
    ):
        for index in indexes:
            op.drop_index(index, table_name=table)
        op.drop_table(table)
