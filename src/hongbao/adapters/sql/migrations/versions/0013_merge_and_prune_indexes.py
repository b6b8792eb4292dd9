"""merge the hosts and shake-tickets branches into one head; index what the sweeper prunes by time

The sweeper deletes expired tokens and revocations and old idempotency keys a chunk at a time
(tx_people.py, "housekeeping"); without an index on the time each chunk read the whole table.

Revision ID: 0013
Revises: 0012, shake_tickets
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = ("0012", "shake_tickets")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tokens_expires", "tokens", ["expires_at"])
    op.create_index("ix_token_revocations_expires", "token_revocations", ["expires_at"])
    op.create_index("ix_idempotency_keys_created", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created", table_name="idempotency_keys")
    op.drop_index("ix_token_revocations_expires", table_name="token_revocations")
    op.drop_index("ix_tokens_expires", table_name="tokens")
