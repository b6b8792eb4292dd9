"""packet kinds: secret digest, link to a chain/ask/campaign, kind-specific JSON; followers, verified accounts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("packets") as batch:
        batch.add_column(sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=True))
        batch.add_column(sa.Column("link_id", Id, nullable=True))
        batch.add_column(sa.Column("extra", sa.Text(), server_default="{}", nullable=False))
    op.create_index("ix_packets_secret", "packets", ["secret_hash", "status"])
    op.create_index("ix_packets_link", "packets", ["kind", "link_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("verified_as", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "follows",
        sa.Column("follower_id", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("followee_id", Id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("follower_id", "followee_id"),
    )
    op.create_index("ix_follows_followee", "follows", ["followee_id", "follower_id"])


def downgrade() -> None:
    op.drop_index("ix_follows_followee", table_name="follows")
    op.drop_table("follows")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("is_admin")
        batch.drop_column("verified_as")
    op.drop_index("ix_packets_link", table_name="packets")
    op.drop_index("ix_packets_secret", table_name="packets")
    with op.batch_alter_table("packets") as batch:
        batch.drop_column("extra")
        batch.drop_column("link_id")
        batch.drop_column("secret_hash")
