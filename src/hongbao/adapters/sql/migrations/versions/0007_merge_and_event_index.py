"""merge the area branches (0003-0006) into one head; index shake events by end for the event list

Revision ID: 0007
Revises: 0003, 0004, 0005, 0006
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = ("0003", "0004", "0005", "0006")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # GET /v1/shake/events reads the events that end after "24 hours ago": without this, the whole table.
    op.create_index("ix_shake_events_ends", "shake_events", ["ends_at"])


def downgrade() -> None:
    op.drop_index("ix_shake_events_ends", table_name="shake_events")
