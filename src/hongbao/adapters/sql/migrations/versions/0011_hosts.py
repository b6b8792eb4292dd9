"""hosts and webhooks: host apps with hashed API keys, their users by external id, daily volume, the webhook outbox

Revision ID: hosts_webhooks
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "hosts_webhooks"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "hosts",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rate_per_min", sa.Integer(), nullable=False),
        sa.Column("daily_volume_fen_max", sa.BigInteger(), nullable=False),
        sa.Column("webhook_url", sa.String(length=2048), nullable=True),
        sa.Column("webhook_secret_sealed", sa.Text(), nullable=True),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "host_keys",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("host_id", Id, sa.ForeignKey("hosts.id"), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("scopes", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "host_users",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("host_id", Id, sa.ForeignKey("hosts.id"), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("host_id", "external_id", name="uq_host_users_external"),
        sa.UniqueConstraint("user_id"),
    )
    op.create_table(
        "host_volume",
        sa.Column("host_id", Id, sa.ForeignKey("hosts.id"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("sent_fen", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "webhook_outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("host_id", Id, sa.ForeignKey("hosts.id"), nullable=False),
        sa.Column("msg_id", sa.String(length=40), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("stream", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.UniqueConstraint("msg_id"),
    )
    op.create_index("ix_webhook_outbox_pending", "webhook_outbox", ["delivered_at", "failed_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_outbox_pending", table_name="webhook_outbox")
    for table in ("webhook_outbox", "host_volume", "host_users", "host_keys", "hosts"):
        op.drop_table(table)
