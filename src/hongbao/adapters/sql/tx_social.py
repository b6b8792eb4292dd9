"""Repository methods of conversations and messages (mixed into SqlTx)."""

from __future__ import annotations

from sqlalchemy.engine import Connection


class SocialTx:
    conn: Connection
